//! `mailward trace` reads delivery status notifications (RFC 3464, RFC 6533): the reports
//! mailward itself writes (`mailward_message::dsn::build`), real bounces from other MTAs
//! (Postfix, sendmail, InterMail in the shared corpus) and hostile ones.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_message::dsn::{self, Action, RecipientReport};
use mailward_trace::render::{self, html, text};
use mailward_trace::report::DsnReport;
use mailward_trace::{AnalyzeOptions, Report, analyze};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

const NOW: i64 = 1_796_000_100;

fn trace(raw: &[u8]) -> Report {
    analyze(raw, "bounce.eml", &AnalyzeOptions { now: NOW })
}

fn dsn_of(report: &Report) -> &DsnReport {
    report.dsn.as_ref().expect("read as a delivery report")
}

/// The message alice sent: submitted on mx.a.test (authenticated), then relayed inside.
const ORIGINAL: &[u8] = b"Received: from mx.a.test (mx.a.test [192.0.2.10])\r\n\
\tby relay.a.test (mailward) with ESMTPS id R2\r\n\
\tfor <bob@b.test>; Mon, 30 Nov 2026 00:36:35 +0000\r\n\
Received: from laptop.a.test (unknown [198.51.100.7])\r\n\
\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\
\t(Authenticated sender: alice@a.test)\r\n\
\tby mx.a.test (mailward) with ESMTPSA id Q1\r\n\
\tfor <bob@b.test>; Mon, 30 Nov 2026 00:36:30 +0000\r\n\
From: Alice <alice@a.test>\r\n\
To: bob@b.test, carol@c.test\r\n\
Subject: quarterly figures\r\n\
Date: Mon, 30 Nov 2026 00:36:29 +0000\r\n\
Message-ID: <figures-1@a.test>\r\n\
\r\n\
the figures\r\n";

fn recipients() -> Vec<RecipientReport> {
    vec![
        RecipientReport {
            final_recipient: "bob@b.test".into(),
            original_recipient: Some("rfc822;Bob@b.test".into()),
            action: Action::Failed,
            status: "5.1.1".into(),
            remote_mta: Some("mx.b.test".into()),
            smtp_reply: Some("550 5.1.1 <bob@b.test>: user unknown".into()),
            last_attempt: Some(1_796_000_000),
            will_retry_until: None,
            note: None,
        },
        RecipientReport {
            final_recipient: "carol@c.test".into(),
            original_recipient: None,
            action: Action::Delayed,
            status: "4.4.7".into(),
            remote_mta: Some("mx.c.test".into()),
            smtp_reply: Some("451 4.3.0 try again later".into()),
            last_attempt: Some(1_796_000_050),
            will_retry_until: Some(1_796_432_000),
            note: None,
        },
    ]
}

fn mailward_dsn(ret_full: Option<bool>) -> Vec<u8> {
    let rcpts = recipients();
    dsn::build(&dsn::Report {
        reporting_mta: "mx.a.test",
        queue_id: "Q1",
        arrival: 1_795_999_000,
        envid: Some("env-42"),
        sender: "alice@a.test",
        recipients: &rcpts,
        ret_full,
        original: ORIGINAL,
        now: NOW,
        boundary: "=_mailward_Q1_1",
    })
}

#[test]
fn a_mailward_failure_report_is_read_field_by_field() {
    let report = trace(&mailward_dsn(Some(true)));
    let d = dsn_of(&report);
    assert_eq!(d.kind, "delivery-status");
    assert_eq!(d.reporting_mta.as_deref(), Some("mx.a.test"));
    assert_eq!(d.queue_id.as_deref(), Some("Q1"));
    assert_eq!(d.queue_id_field.as_deref(), Some("X-Mailward-Queue-ID"));
    assert_eq!(d.original_envelope_id.as_deref(), Some("env-42"));
    assert_eq!(d.arrival_date.as_deref(), Some("2026-11-30T00:36:40Z"));
    assert_eq!(d.recipients.len(), 2);

    let bob = &d.recipients[0];
    assert_eq!(bob.final_recipient.as_deref(), Some("bob@b.test"));
    assert_eq!(bob.original_recipient.as_deref(), Some("Bob@b.test"));
    assert_eq!(bob.action.as_deref(), Some("failed"));
    assert_eq!(bob.status.as_deref(), Some("5.1.1"));
    assert_eq!(bob.status_class.as_deref(), Some("permanent failure"));
    assert_eq!(
        bob.status_meaning.as_deref(),
        Some("bad destination mailbox address")
    );
    assert_eq!(bob.remote_mta.as_deref(), Some("mx.b.test"));
    assert_eq!(
        bob.diagnostic_code.as_deref(),
        Some("smtp; 550 5.1.1 <bob@b.test>: user unknown")
    );
    assert_eq!(
        bob.last_attempt_date.as_deref(),
        Some("2026-11-30T00:53:20Z")
    );
    assert_eq!(bob.will_retry_until, None);

    let carol = &d.recipients[1];
    assert_eq!(carol.action.as_deref(), Some("delayed"));
    assert_eq!(carol.original_recipient, None);
    assert_eq!(
        carol.status_meaning.as_deref(),
        Some("delivery time expired")
    );
    assert_eq!(
        carol.status_class.as_deref(),
        Some("persistent transient failure")
    );
    assert_eq!(
        carol.will_retry_until.as_deref(),
        Some("2026-12-05T00:53:20Z")
    );

    // RET=FULL: the whole message came back, and its own hops show where it had gone.
    let back = d.returned.as_ref().expect("the original is returned");
    assert_eq!(back.content, "message");
    assert_eq!(
        back.message.message_id.as_deref(),
        Some("<figures-1@a.test>")
    );
    assert_eq!(back.message.from.as_deref(), Some("Alice <alice@a.test>"));
    assert_eq!(back.message.subject.as_deref(), Some("quarterly figures"));
    assert_eq!(back.message.to, ["bob@b.test", "carol@c.test"]);
    assert_eq!(back.hops.len(), 2);
    assert_eq!(back.hops[0].by_host.as_deref(), Some("mx.a.test"));
    assert!(back.hops[0].authenticated.is_some(), "{:?}", back.hops[0]);
    assert_eq!(back.hops[1].by_host.as_deref(), Some("relay.a.test"));
    assert_eq!(back.hops[1].delay_seconds, Some(5));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // The report itself is still traced as a message.
    assert_eq!(
        report.message.subject.as_deref(),
        Some("Undelivered Mail Returned to Sender")
    );
}

#[test]
fn a_mailward_report_with_ret_hdrs_returns_the_header_and_its_hops() {
    // RET=HDRS asked for; and RET absent on a delay notice, which then carries only the
    // header (RFC 3461 §4.3 leaves the choice to the MTA).
    let delayed = vec![recipients().remove(1)];
    let delay_notice = dsn::build(&dsn::Report {
        reporting_mta: "mx.a.test",
        queue_id: "Q1",
        arrival: 1_795_999_000,
        envid: None,
        sender: "alice@a.test",
        recipients: &delayed,
        ret_full: None,
        original: ORIGINAL,
        now: NOW,
        boundary: "=_mailward_Q1_2",
    });
    for (what, raw) in [
        ("RET=HDRS", mailward_dsn(Some(false))),
        ("delay notice", delay_notice),
    ] {
        let report = trace(&raw);
        let d = dsn_of(&report);
        let back = d.returned.as_ref().expect("the header is returned");
        assert_eq!(back.content, "headers", "{what}");
        assert_eq!(
            back.message.message_id.as_deref(),
            Some("<figures-1@a.test>"),
            "{what}"
        );
        assert_eq!(back.hops.len(), 2, "{what}");
        assert_eq!(back.hops[1].by_host.as_deref(), Some("relay.a.test"));
    }
}

#[test]
#[ignore = "prints the text report of a mailward DSN and a real bounce, to look at"]
fn show_text_reports() {
    let mut out = String::new();
    text::render(&trace(&mailward_dsn(Some(true))), false, &mut out);
    if let Some(raw) = shared("multi_address_bounce1.eml") {
        text::render(&trace(&raw), false, &mut out);
    }
    println!("{out}");
}

#[test]
fn text_json_and_html_show_the_report() {
    let report = trace(&mailward_dsn(Some(true)));
    let mut out = String::new();
    text::render(&report, false, &mut out);
    for needle in [
        "Delivery report delivery-status from mx.a.test",
        "Q1 (X-Mailward-Queue-ID)",
        "env-42",
        "bob@b.test failed 5.1.1 permanent failure: bad destination mailbox address",
        "carol@c.test delayed 4.4.7 persistent transient failure: delivery time expired",
        "smtp; 550 5.1.1 <bob@b.test>: user unknown",
        "retry until",
        "the whole message",
        "<figures-1@a.test>",
        "quarterly figures",
        "Hops of the returned message",
        "relay.a.test",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }

    let mut line = Vec::new();
    render::json_line(&report, &mut line).expect("json");
    let v: serde_json::Value = serde_json::from_slice(&line).expect("valid JSON");
    let d = &v["dsn"];
    assert_eq!(d["reporting_mta"], "mx.a.test");
    assert_eq!(d["queue_id"], "Q1");
    assert_eq!(
        d["recipients"][0]["status_meaning"],
        "bad destination mailbox address"
    );
    assert_eq!(d["recipients"][1]["action"], "delayed");
    assert_eq!(d["returned"]["message"]["message_id"], "<figures-1@a.test>");
    assert_eq!(d["returned"]["hops"][1]["by_host"], "relay.a.test");
    // The fast writer and serde agree on the new object too.
    assert_eq!(v, serde_json::to_value(&report).expect("serde"));

    let mut page = String::new();
    html::begin(&mut page, "t");
    html::message(&report, 1, &mut page);
    html::end(&mut page);
    assert!(page.contains("<h3>Delivery report</h3>"), "{page}");
    assert!(page.contains("bad destination mailbox address"));
    assert!(page.contains("&lt;figures-1@a.test&gt;"));
    assert!(page.contains("relay.a.test"));
}

#[test]
fn ordinary_mail_and_disposition_notifications_are_not_delivery_reports() {
    assert!(trace(ORIGINAL).dsn.is_none());
    let mdn = b"From: bob@b.test\r\nTo: alice@a.test\r\nSubject: Read: x\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nread\r\n\
--b\r\nContent-Type: message/disposition-notification\r\n\r\n\
Reporting-UA: b.test; mua\r\nFinal-Recipient: rfc822; bob@b.test\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--b--\r\n";
    assert!(trace(mdn).dsn.is_none());
}

/// A Postfix bounce written after the example in RFC 3464 Appendix A and Postfix's own
/// layout, with a `message/rfc822` original.
const POSTFIX_BOUNCE: &str = "Return-Path: <>\n\
Received: by mail.sender.example (Postfix)\n\tid 4F1A21C0123; Mon, 2 Mar 2026 08:15:30 +0100 (CET)\n\
Date: Mon, 2 Mar 2026 08:15:30 +0100 (CET)\n\
From: MAILER-DAEMON@mail.sender.example (Mail Delivery System)\n\
Subject: Undelivered Mail Returned to Sender\n\
To: joe@sender.example\n\
Auto-Submitted: auto-replied\n\
MIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"4F1A21C0ABC.1772435730/mail.sender.example\"\n\
Message-Id: <20260302071530.4F1A21C0123@mail.sender.example>\n\
\n\
This is a MIME-encapsulated message.\n\
\n\
--4F1A21C0ABC.1772435730/mail.sender.example\n\
Content-Description: Notification\n\
Content-Type: text/plain; charset=us-ascii\n\
\n\
This is the mail system at host mail.sender.example.\n\
\n\
<nobody@nullmx.example>: Domain nullmx.example does not accept mail (nullMX)\n\
\n\
--4F1A21C0ABC.1772435730/mail.sender.example\n\
Content-Description: Delivery report\n\
Content-Type: message/delivery-status\n\
\n\
Reporting-MTA: dns; mail.sender.example\n\
X-Postfix-Queue-ID: 4F1A21C0ABC\n\
X-Postfix-Sender: rfc822; joe@sender.example\n\
Arrival-Date: Mon, 2 Mar 2026 08:15:29 +0100 (CET)\n\
\n\
Final-Recipient: rfc822; nobody@nullmx.example\n\
Original-Recipient: rfc822;nobody@nullmx.example\n\
Action: failed\n\
Status: 5.1.10\n\
Diagnostic-Code: X-Postfix; Domain nullmx.example does not accept mail (nullMX)\n\
\n\
Final-Recipient: rfc822; ann@policy.example\n\
Action: failed\n\
Status: 5.7.1\n\
Remote-MTA: dns; mx.policy.example\n\
Diagnostic-Code: smtp; 554 5.7.1 <ann@policy.example>: Relay access\n    denied\n\
\n\
--4F1A21C0ABC.1772435730/mail.sender.example\n\
Content-Description: Undelivered Message\n\
Content-Type: message/rfc822\n\
\n\
Return-Path: <joe@sender.example>\n\
Received: from [203.0.113.50] (dsl-50.isp.example [203.0.113.50])\n\
\tby mail.sender.example (Postfix) with ESMTPSA id 4F1A21C0ABC;\n\
\tMon,  2 Mar 2026 08:15:29 +0100 (CET)\n\
From: Joe <joe@sender.example>\n\
To: nobody@nullmx.example, ann@policy.example\n\
Subject: lunch?\n\
Message-ID: <lunch-7@sender.example>\n\
Date: Mon, 2 Mar 2026 08:15:20 +0100\n\
\n\
see you at noon\n\
\n\
--4F1A21C0ABC.1772435730/mail.sender.example--\n";

#[test]
fn a_postfix_bounce_names_each_recipient_and_the_returned_message() {
    let report = trace(POSTFIX_BOUNCE.as_bytes());
    let d = dsn_of(&report);
    assert_eq!(d.reporting_mta.as_deref(), Some("mail.sender.example"));
    assert_eq!(d.queue_id.as_deref(), Some("4F1A21C0ABC"));
    assert_eq!(d.queue_id_field.as_deref(), Some("X-Postfix-Queue-ID"));
    assert_eq!(d.arrival_date.as_deref(), Some("2026-03-02T07:15:29Z"));
    assert_eq!(d.recipients.len(), 2);
    assert_eq!(
        d.recipients[0].status_meaning.as_deref(),
        Some("recipient address has null MX")
    );
    assert_eq!(
        d.recipients[1].status_meaning.as_deref(),
        Some("delivery not authorized, message refused")
    );
    assert_eq!(
        d.recipients[1].diagnostic_code.as_deref(),
        Some("smtp; 554 5.7.1 <ann@policy.example>: Relay access denied")
    );
    assert_eq!(
        d.recipients[1].remote_mta.as_deref(),
        Some("mx.policy.example")
    );
    let back = d.returned.as_ref().expect("returned");
    assert_eq!(
        back.message.message_id.as_deref(),
        Some("<lunch-7@sender.example>")
    );
    assert_eq!(back.hops.len(), 1);
    assert_eq!(back.hops[0].from_ip, Some("203.0.113.50".parse().unwrap()));
    assert_eq!(back.hops[0].by_host.as_deref(), Some("mail.sender.example"));
}

/// RFC 6533: an internationalised report, its fields in UTF-8, the header returned as
/// `message/global-headers`.
#[test]
fn a_global_delivery_status_report_is_read() {
    let raw = "From: postmaster@mx.example\r\nTo: jörg@absender.example\r\nSubject: Unzustellbar\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"g\"\r\n\r\n\
--g\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nnicht zustellbar\r\n\
--g\r\nContent-Type: message/global-delivery-status\r\n\r\n\
Reporting-MTA: dns; mx.example\r\n\r\n\
Original-Recipient: utf-8; müller@empfänger.example\r\nFinal-Recipient: utf-8; müller@empfänger.example\r\nAction: failed\r\nStatus: 5.6.7\r\n\r\n\
--g\r\nContent-Type: message/global-headers\r\n\r\n\
Received: from a.example ([192.0.2.1]) by mx.example with UTF8SMTPS id X1; Tue, 3 Mar 2026 10:00:00 +0000\r\n\
From: jörg@absender.example\r\nSubject: Grüße\r\nMessage-ID: <g1@absender.example>\r\n\r\n\
--g--\r\n";
    let report = trace(raw.as_bytes());
    let d = dsn_of(&report);
    assert_eq!(d.kind, "global-delivery-status");
    assert_eq!(
        d.recipients[0].final_recipient.as_deref(),
        Some("müller@empfänger.example")
    );
    assert_eq!(
        d.recipients[0].status_meaning.as_deref(),
        Some("non-ASCII addresses not permitted for that sender or recipient")
    );
    let back = d.returned.as_ref().expect("returned header");
    assert_eq!(back.content, "headers");
    assert_eq!(back.message.subject.as_deref(), Some("Grüße"));
    assert_eq!(back.hops.len(), 1);
}

fn shared(rel: &str) -> Option<Vec<u8>> {
    let path: PathBuf = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/eml/eml_analyzer/emails/multipart_report_emails"
    ))
    .join(rel);
    match std::fs::read(&path) {
        Ok(raw) => Some(raw),
        Err(_) => {
            println!("skipping: {} not found", path.display());
            None
        }
    }
}

/// A real Postfix bounce (five Gmail recipients, 550 5.1.1) from the shared corpus.
#[test]
fn a_real_postfix_bounce_from_the_corpus() {
    let Some(raw) = shared("multi_address_bounce1.eml") else {
        return;
    };
    let report = trace(&raw);
    let d = dsn_of(&report);
    assert_eq!(d.reporting_mta.as_deref(), Some("lvmail01.LL.com"));
    assert_eq!(d.queue_id.as_deref(), Some("9B7841BC027"));
    assert_eq!(d.arrival_date.as_deref(), Some("2010-02-24T06:16:15Z"));
    assert_eq!(d.recipients.len(), 5);
    for r in &d.recipients {
        assert_eq!(r.action.as_deref(), Some("failed"));
        assert_eq!(r.status.as_deref(), Some("5.1.1"));
        assert_eq!(
            r.status_meaning.as_deref(),
            Some("bad destination mailbox address")
        );
        assert_eq!(r.remote_mta.as_deref(), Some("gmail-smtp-in.l.google.com"));
        let diag = r.diagnostic_code.as_deref().unwrap();
        assert!(
            diag.starts_with(
                "smtp; 550-5.1.1 The email account that you tried to reach does not exist."
            ),
            "{diag}"
        );
        assert!(diag.ends_with("41si5422799iwn.27"), "{diag}");
    }
    assert_eq!(
        d.recipients[0].final_recipient.as_deref(),
        Some("bbbbvhvbbvkjbhfbvbvjhb@gmail.com")
    );
    let back = d.returned.as_ref().expect("returned message");
    assert_eq!(back.content, "message");
    assert_eq!(
        back.message.message_id.as_deref(),
        Some("<118707422.15521266992174819.JavaMail.root@lvmail01>")
    );
    assert_eq!(
        back.message.subject.as_deref(),
        Some("Test of bounce email")
    );
    assert_eq!(back.message.to.len(), 5);
    assert_eq!(back.hops.len(), 3);
    assert_eq!(back.hops[0].from_ip, Some("10.60.6.3".parse().unwrap()));
    assert!(back.origin.is_some(), "where the bounced message started");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

/// sendmail's delay warning: `delayed`, 4.2.2, the header returned as
/// `text/rfc822-headers`.
#[test]
fn a_real_sendmail_delay_warning_from_the_corpus() {
    let Some(raw) = shared("report_422.eml") else {
        return;
    };
    let report = trace(&raw);
    let d = dsn_of(&report);
    assert_eq!(d.reporting_mta.as_deref(), Some("mail11.ttttt.com.au"));
    assert_eq!(d.recipients.len(), 1);
    let r = &d.recipients[0];
    assert_eq!(r.final_recipient.as_deref(), Some("fraser@oooooooo.com.au"));
    assert_eq!(r.action.as_deref(), Some("delayed"));
    assert_eq!(r.status_meaning.as_deref(), Some("mailbox full"));
    assert_eq!(
        r.remote_mta.as_deref(),
        Some("mail.oooooooo.com.au"),
        "DNS; in capitals"
    );
    assert_eq!(r.last_attempt_date.as_deref(), Some("2008-01-16T16:40:52Z"));
    let back = d.returned.as_ref().expect("returned header");
    assert_eq!(back.content, "headers");
    assert_eq!(back.message.subject.as_deref(), Some("Wanted"));
    assert_eq!(back.hops.len(), 1);
    assert_eq!(back.hops[0].from_ip, Some("60.0.0.61".parse().unwrap()));
}

/// InterMail labels a prose part `message/delivery-status` before the real one: the
/// report must not be lost behind it.
#[test]
fn regress_prose_part_labelled_delivery_status_hides_the_report() {
    let Some(raw) = shared("multipart_report_multiple_status.eml") else {
        return;
    };
    let report = trace(&raw);
    let d = dsn_of(&report);
    assert_eq!(d.reporting_mta.as_deref(), Some("schemailmta04.ci.com"));
    assert_eq!(
        d.received_from_mta.as_deref(),
        Some("schemailedgegx04.ci.com (172.16.130.170)")
    );
    assert_eq!(d.recipients.len(), 1);
    assert_eq!(d.recipients[0].final_recipient.as_deref(), Some("u@ci.com"));
    assert_eq!(d.recipients[0].status.as_deref(), Some("5.3.0"));
    assert_eq!(
        d.recipients[0].status_meaning.as_deref(),
        Some("other or undefined mail system status")
    );
    let back = d.returned.as_ref().expect("returned message");
    assert_eq!(
        back.message.message_id.as_deref(),
        Some("<4c2a146147ac8_61ff157c4ec1652df@s.h.c.mail>")
    );
    assert_eq!(back.hops.len(), 3);
}

/// A report that names 5,000 recipients, with field values of 100 kB and terminal escape
/// sequences: at most 100 recipients are read, values are cut, and nothing reaches the
/// terminal verbatim.
#[test]
fn a_hostile_report_is_read_within_bounds() {
    let mut raw = String::from(
        "From: x@evil.example\r\nSubject: bounce\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=h\r\n\r\n\
--h\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; \x1b[2Jevil\r\n\r\n",
    );
    raw.push_str(&format!(
        "Final-Recipient: rfc822; a@b\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; {}\r\n\r\n",
        "x".repeat(100_000)
    ));
    for i in 0..5000 {
        raw.push_str(&format!(
            "Final-Recipient: rfc822; u{i}@b\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        ));
    }
    raw.push_str("--h--\r\n");
    let report = trace(raw.as_bytes());
    let d = dsn_of(&report);
    assert_eq!(d.recipients.len(), 100);
    assert!(d.recipients_omitted > 0);
    assert!(d.truncated);
    assert!(
        d.recipients
            .iter()
            .filter_map(|r| r.diagnostic_code.as_deref())
            .all(|v| v.len() <= 1000)
    );
    assert!(report.warnings.iter().any(|w| w.contains("left out")));
    let mut out = String::new();
    text::render(&report, false, &mut out);
    assert!(!out.contains('\x1b'), "escape passed through");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any delivery-status text and any returned header inside a report: a report, never a
    /// panic, within the bounds, and JSON the fast writer and serde agree on.
    #[test]
    fn any_report_body_is_read_within_bounds(
        status in prop::collection::vec(prop::sample::select(vec![
            "Final-Recipient: rfc822; a@b", "Original-Recipient: utf-8;é@x", "Action: FAILED",
            "Action: delayed (x)", "Status: 5.1.1", "Status: 9.9", "Status: 4.4.7 (expired)",
            "Reporting-MTA: dns; mx", "Arrival-Date: yesterday", "Will-Retry-Until: Tue, 3 Mar 2026 10:00:00 +0000",
            "Diagnostic-Code: smtp; 550", "\r\n", "\n", " folded", "\t", ":", "--h", "--h--",
            "Content-Type: text/plain", "\u{202e}",
        ]), 0..80),
        back in prop::collection::vec(prop::sample::select(vec![
            "Received: from a ([192.0.2.1]) by b; Tue, 3 Mar 2026 10:00:00 +0000\r\n",
            "Received: garbage\r\n", "From: x@y\r\n", "Subject: =?utf-8?q?a?=\r\n", "\r\n", " x\r\n",
        ]), 0..20),
        returned_type in prop::sample::select(vec!["message/rfc822", "text/rfc822-headers", "message/global"]),
    ) {
        let raw = format!(
            "From: m@d\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=h\r\n\r\n\
--h\r\nContent-Type: message/delivery-status\r\n\r\n{}\r\n--h\r\nContent-Type: {returned_type}\r\n\r\n{}\r\n--h--\r\n",
            status.join("\r\n"),
            back.concat()
        );
        let report = trace(raw.as_bytes());
        if let Some(d) = &report.dsn {
            prop_assert!(d.recipients.len() <= 100);
            for r in &d.recipients {
                for v in [&r.final_recipient, &r.diagnostic_code, &r.action, &r.status].into_iter().flatten() {
                    prop_assert!(v.len() <= 1000 && !v.contains('\n'));
                }
            }
        }
        let mut line = Vec::new();
        render::json_line(&report, &mut line).expect("json");
        let ours: serde_json::Value = serde_json::from_slice(&line).expect("valid JSON");
        prop_assert_eq!(ours, serde_json::to_value(&report).expect("serde"));
        let mut out = String::new();
        text::render(&report, false, &mut out);
        let mut page = String::new();
        html::message(&report, 1, &mut page);
    }
}
