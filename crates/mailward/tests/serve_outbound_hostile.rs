//! Issue 15: the outbound client against a hostile destination (`tests/py/hostile_smtp.py`,
//! one mode per behaviour) behind a `[[route]]`, with the real `mailward serve`. Whatever
//! the destination does, the recipient is deferred with the reason in the log (or failed
//! for a 5xx, with a report to the sender), the time-outs fire, mailward's memory stays
//! bounded, it still answers SMTP, and the message is not lost.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_outbound;
mod common_serve;

use common_outbound::{
    DOMAIN, Destination, assert_answers_smtp, events_of, queued, route_to, rss_kib, send,
    wait_until,
};
use common_serve::Mailward;
use std::time::{Duration, Instant};

/// Growth of mailward's resident memory that would mean a hostile reply was buffered.
const RSS_GROWTH_LIMIT_KIB: u64 = 64 * 1024;

/// mailward routing `DOMAIN` to a destination in `mode`.
struct Setup {
    m: Mailward,
    dest: Destination,
    rss_before: u64,
}

fn setup(mode: &str, route_tls: Option<&str>) -> Setup {
    let dest = Destination::start(mode, 0);
    let m = Mailward::start(&route_to(dest.port, route_tls));
    m.add_account("bob@example.test", None);
    let rss_before = rss_kib(&m);
    Setup {
        m,
        dest,
        rss_before,
    }
}

impl Setup {
    /// Sends one message to `user@DOMAIN`; returns its queue ID.
    fn send_one(&self, from: &str, user: &str, prefix: &str) -> String {
        let (qids, _) = send(&self.m, from, &format!("{user}@{DOMAIN}"), 1, prefix);
        qids.into_iter().next().expect("a queue id")
    }

    /// Waits for the `n`th `deferred` event of `qid`; returns it.
    fn deferred(&self, qid: &str, n: usize) -> serde_json::Value {
        wait_until(20, &format!("deferral {n} of {qid}"), || {
            let delivered = events_of(&self.m, "delivered", qid);
            assert!(delivered.is_empty(), "counted delivered: {delivered:?}");
            events_of(&self.m, "deferred", qid).len() >= n
        });
        events_of(&self.m, "deferred", qid)
            .into_iter()
            .nth(n - 1)
            .expect("deferred event")
    }

    /// What every test checks at the end: memory, the SMTP service, no crash.
    fn assert_healthy(&mut self) {
        let after = rss_kib(&self.m);
        assert!(
            after < self.rss_before + RSS_GROWTH_LIMIT_KIB,
            "mailward grew from {} KiB to {after} KiB",
            self.rss_before
        );
        assert_answers_smtp(&self.m);
        let child = self.m.child.as_mut().expect("running");
        assert!(child.try_wait().expect("wait").is_none(), "mailward exited");
    }

    /// The message is still queued with its recipient pending and the reason kept.
    fn assert_still_queued(&self, qid: &str, reason: &str) {
        let entry = queued(&self.m, qid).unwrap_or_else(|| panic!("{qid} left the queue"));
        let rcpt = &entry["envelope"]["rcpts"][0];
        assert_eq!(rcpt["state"], "pending", "{entry}");
        let last = rcpt["last_error"].as_str().unwrap_or_default();
        assert!(
            last.contains(reason),
            "last error {last:?} lacks {reason:?}"
        );
    }
}

/// A deferral for a hostile reply, then a second attempt (the message was kept and
/// retried), with the reason logged both times.
fn deferred_twice_for(mode: &str, reason: &str) {
    let mut s = setup(mode, None);
    let started = Instant::now();
    let qid = s.send_one("alice@remote.test", "carol", mode);
    let first = s.deferred(&qid, 1);
    let reason_logged = first["reason"].as_str().unwrap_or_default();
    assert!(
        reason_logged.contains(reason),
        "{mode}: deferred for {reason_logged:?}, expected {reason:?}"
    );
    assert!(
        reason_logged.contains("127.0.0.1"),
        "the reason names the host: {reason_logged:?}"
    );
    assert_eq!(first["to"], format!("carol@{DOMAIN}"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{mode}: the first attempt took {:?}",
        started.elapsed()
    );
    let second = s.deferred(&qid, 2);
    assert_eq!(second["attempt"], 2, "{second}");
    assert!(
        s.dest.count("connect") >= 2,
        "the destination was tried again"
    );
    s.assert_still_queued(&qid, reason);
    s.assert_healthy();
}

#[test]
fn endless_continuation_lines_in_the_greeting_defer() {
    deferred_twice_for("continuation_greeting", "reply of more than 128 lines");
}

/// A line every 0.3 s never reaches the line limit: the greeting's time-out is for the
/// whole reply, not for each read, so it still fires after 2 s.
#[test]
fn slow_endless_continuation_lines_time_out_and_defer() {
    deferred_twice_for("slow_continuation", "timed out waiting for greeting");
}

#[test]
fn endless_continuation_lines_after_ehlo_defer() {
    deferred_twice_for("continuation_ehlo", "reply of more than 128 lines");
}

#[test]
fn a_megabyte_reply_line_defers() {
    deferred_twice_for("long_line", "reply longer than 16384 octets");
}

#[test]
fn an_http_response_instead_of_a_greeting_defers() {
    deferred_twice_for("http", "not an SMTP reply: HTTP/1.1 400 Bad Request");
}

#[test]
fn binary_instead_of_a_greeting_defers() {
    deferred_twice_for("binary", "not an SMTP reply");
}

#[test]
fn a_stall_after_the_final_dot_times_out_and_defers() {
    let mut s = setup("stall_after_data", None);
    let qid = s.send_one("alice@remote.test", "carol", "stall");
    let started = Instant::now();
    let first = s.deferred(&qid, 1);
    let reason = first["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("timed out waiting for end of data"),
        "{reason}"
    );
    // data_timeout = 2s: it fired, and not much later.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert!(s.dest.count("stalled") >= 1);
    assert_eq!(s.dest.count("accepted"), 0);
    s.assert_still_queued(&qid, "timed out waiting for end of data");
    s.assert_healthy();
}

/// `[[route]] tls = "encrypt"`: a handshake that fails after the 220 to STARTTLS defers
/// the recipient with the TLS failure as the reason; nothing goes in plaintext.
#[test]
fn garbage_instead_of_a_tls_handshake_defers_when_tls_is_required() {
    let mut s = setup("starttls_garbage", Some("encrypt"));
    let qid = s.send_one("alice@remote.test", "carol", "tls-required");
    let first = s.deferred(&qid, 1);
    let reason = first["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("TLS failed"), "{reason}");
    let second = s.deferred(&qid, 2);
    assert!(
        second["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("TLS failed")
    );
    assert!(
        s.dest.count("starttls") >= 2,
        "STARTTLS was tried each time"
    );
    assert_eq!(s.dest.count("accepted"), 0, "nothing was sent in plaintext");
    s.assert_still_queued(&qid, "TLS failed");
    s.assert_healthy();
}

/// The default opportunistic policy (`may`, RFC 7435 §3): after the handshake fails, the
/// client connects again without STARTTLS and delivers in plaintext, once (transport.rs
/// `open`).
#[test]
fn garbage_instead_of_a_tls_handshake_falls_back_to_plaintext_when_tls_is_opportunistic() {
    let mut s = setup("starttls_garbage", None);
    let qid = s.send_one("alice@remote.test", "carol", "tls-may");
    let delivered = s.m.wait_for_event("delivered", Some(&qid));
    assert_eq!(delivered["to"], format!("carol@{DOMAIN}"));
    assert!(delivered["tls"].is_null(), "sent in plaintext: {delivered}");
    assert!(
        delivered["relay"]
            .as_str()
            .unwrap_or_default()
            .contains("127.0.0.1"),
        "{delivered}"
    );
    assert_eq!(s.dest.count("starttls"), 1, "one try at TLS");
    assert_eq!(s.dest.count("connect"), 2, "then one plaintext connection");
    assert_eq!(
        s.dest.accepted(),
        vec!["<tls-may-1@sender.test>".to_string()]
    );
    assert!(events_of(&s.m, "deferred", &qid).is_empty());
    wait_until(10, "the queue to let it go", || {
        queued(&s.m, &qid).is_none()
    });
    s.assert_healthy();
}

/// 4xx then 250: deferred with the remote reply, then delivered exactly once.
fn tempfail_then_delivered_once(mode: &str, reply: &str) {
    let mut s = setup(mode, None);
    let qid = s.send_one("alice@remote.test", "carol", mode);
    let first = s.deferred(&qid, 1);
    let reason = first["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(reply), "{reason}");
    let delivered = s.m.wait_for_event("delivered", Some(&qid));
    assert!(
        delivered["reply"]
            .as_str()
            .unwrap_or_default()
            .contains("250 2.0.0 accepted"),
        "{delivered}"
    );
    wait_until(10, "the queue to let it go", || {
        queued(&s.m, &qid).is_none()
    });
    // A scan or two later, still exactly one copy.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        s.dest.accepted(),
        vec![format!("<{mode}-1@sender.test>")],
        "delivered exactly once"
    );
    assert_eq!(events_of(&s.m, "delivered", &qid).len(), 1);
    s.assert_healthy();
}

#[test]
fn a_4xx_at_rcpt_then_250_delivers_exactly_once() {
    tempfail_then_delivered_once("tempfail_rcpt_once", "451 4.3.0");
}

#[test]
fn a_4xx_after_the_data_then_250_delivers_exactly_once() {
    tempfail_then_delivered_once("tempfail_data_once", "451 4.3.0");
}

/// 5xx at RCPT: the recipient fails at once, and the local sender gets a failure report
/// (RFC 3464) in its INBOX carrying the remote reply.
#[test]
fn a_5xx_at_rcpt_fails_and_the_sender_gets_a_failure_report() {
    let mut s = setup("reject_rcpt", None);
    let qid = s.send_one("bob@example.test", "nobody", "rejected");
    let bounced = s.m.wait_for_event("bounced", Some(&qid));
    assert_eq!(bounced["to"], format!("nobody@{DOMAIN}"));
    assert_eq!(bounced["dsn"], "5.1.1", "{bounced}");
    let reason = bounced["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("550 5.1.1"), "{reason}");
    assert!(
        events_of(&s.m, "deferred", &qid).is_empty(),
        "a 5xx is not retried"
    );

    let report = s.m.wait_for_mail("bob", "multipart/report");
    let report = report.replace("\r\n", "\n");
    for needle in [
        "Content-Type: multipart/report",
        "report-type=delivery-status",
        "Action: failed",
        "Status: 5.1.1",
        &format!("Final-Recipient: rfc822; nobody@{DOMAIN}"),
        &format!("Diagnostic-Code: smtp; 550 5.1.1 <nobody@{DOMAIN}>: no such user here"),
        "<rejected-1@sender.test>",
    ] {
        assert!(
            report.contains(needle),
            "the report lacks {needle:?}:\n{report}"
        );
    }
    assert!(
        report.lines().any(|l| l.starts_with("Return-Path: <>")),
        "from the null sender:\n{report}"
    );
    assert_eq!(s.dest.count("accepted"), 0);
    wait_until(10, "the queue to let it go", || {
        queued(&s.m, &qid).is_none()
    });
    s.assert_healthy();
}

#[test]
fn a_destination_that_never_greets_times_out_and_defers() {
    deferred_twice_for("silent", "timed out waiting for greeting");
}

/// A server that answers DATA with 250 instead of 354 never took the message: the
/// recipient must not be counted delivered (it was, and the message was lost).
#[test]
fn regress_a_250_to_data_is_not_taken_for_delivery() {
    let mut s = setup("data_250", None);
    let qid = s.send_one("alice@remote.test", "carol", "data-250");
    let first = s.deferred(&qid, 1);
    let reason = first["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("unexpected reply to DATA"), "{reason}");
    assert!(
        events_of(&s.m, "delivered", &qid).is_empty(),
        "counted delivered"
    );
    assert_eq!(s.dest.count("accepted"), 0);
    s.assert_still_queued(&qid, "unexpected reply to DATA");
    s.assert_healthy();
}

/// A stray reply after the EHLO reply puts every later reply one step behind its command:
/// the 250 to RCPT was read as the reply to DATA, so the recipient was counted delivered
/// though no message was sent. The connection is given up instead.
#[test]
fn regress_a_stray_reply_after_ehlo_never_counts_as_delivery() {
    let mut s = setup("extra_reply", None);
    let qid = s.send_one("alice@remote.test", "carol", "stray");
    let first = s.deferred(&qid, 1);
    let reason = first["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("no command asked for"), "{reason}");
    assert!(
        events_of(&s.m, "delivered", &qid).is_empty(),
        "counted delivered"
    );
    assert_eq!(s.dest.count("accepted"), 0);
    s.assert_still_queued(&qid, "no command asked for");
    s.assert_healthy();
}

/// A reply that arrived on a pooled connection while it was idle was read as the reply to
/// RSET, leaving the real one to be taken for the reply to MAIL, and so on. Such a
/// connection is not reused: the next message goes over a new one, at once.
#[test]
fn regress_an_unsolicited_reply_on_an_idle_connection_is_not_taken_for_the_next_reply() {
    let mut s = setup("idle_chatter", None);
    let first = s.send_one("alice@remote.test", "carol", "chatter-a");
    s.m.wait_for_event("delivered", Some(&first));
    // The destination says its stray 250 0.3 s after the first message.
    std::thread::sleep(Duration::from_millis(800));
    let second = s.send_one("alice@remote.test", "carol", "chatter-b");
    wait_until(20, "the second delivery", || {
        !events_of(&s.m, "delivered", &second).is_empty()
            || !events_of(&s.m, "deferred", &second).is_empty()
    });
    assert!(
        events_of(&s.m, "deferred", &second).is_empty(),
        "deferred: {:?}",
        events_of(&s.m, "deferred", &second)
    );
    assert_eq!(
        s.dest.accepted(),
        vec![
            "<chatter-a-1@sender.test>".to_string(),
            "<chatter-b-1@sender.test>".to_string()
        ]
    );
    assert_eq!(
        s.dest.count("connect"),
        2,
        "the chatty connection was not reused"
    );
    s.assert_healthy();
}

/// A server that says 220 to STARTTLS and then nothing: under the opportunistic policy the
/// handshake's time-out is a failed handshake like any other (RFC 7435 §3), so the message
/// goes in plaintext on the next connection. It was deferred on every attempt instead, so
/// such a destination never got its mail.
#[test]
fn regress_a_stalled_tls_handshake_falls_back_to_plaintext_when_tls_is_opportunistic() {
    let mut s = setup("starttls_stall", None);
    let qid = s.send_one("alice@remote.test", "carol", "tls-stall");
    let delivered = s.m.wait_for_event("delivered", Some(&qid));
    assert!(delivered["tls"].is_null(), "sent in plaintext: {delivered}");
    assert!(events_of(&s.m, "deferred", &qid).is_empty());
    assert_eq!(s.dest.count("starttls"), 1);
    assert_eq!(
        s.dest.accepted(),
        vec!["<tls-stall-1@sender.test>".to_string()]
    );
    s.assert_healthy();
}

/// The same stall with `tls = "encrypt"`: deferred, with the TLS failure as the reason.
#[test]
fn a_stalled_tls_handshake_defers_when_tls_is_required() {
    let mut s = setup("starttls_stall", Some("encrypt"));
    let qid = s.send_one("alice@remote.test", "carol", "tls-stall-required");
    let first = s.deferred(&qid, 1);
    let reason = first["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("TLS failed"), "{reason}");
    assert_eq!(s.dest.count("accepted"), 0);
    s.assert_still_queued(&qid, "TLS failed");
    s.assert_healthy();
}
