//! Delivery status notifications (RFC 3464) as mailward sends them: a `multipart/report;
//! report-type=delivery-status` with a text for people, the `message/delivery-status`
//! fields for programs, and the original message (RFC 3461 §4.3 RET=FULL) or its header
//! (RET=HDRS). Sent from `MAILER-DAEMON` with a null return path (RFC 3461 §6.2; never to
//! the null sender: the caller checks), marked `Auto-Submitted: auto-replied` (RFC 3834
//! §5).
//!
//! Everything a remote server or a client supplied (reply text, addresses, ENVID) is made
//! one line and cut to a safe length before it goes into a header field, so no reply can
//! add fields or parts to the report.

use crate::datetime::format_rfc5322;

/// RFC 3464 §2.3.3 Action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Failed,
    Delayed,
    Delivered,
    /// Handed to a server that does not offer DSN (RFC 3461 §6.2.6.2, NOTIFY=SUCCESS).
    Relayed,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
        }
    }
}

/// One recipient's fields (RFC 3464 §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientReport {
    /// The address delivery was attempted to (`Final-Recipient: rfc822; ...`).
    pub final_recipient: String,
    /// RFC 3461 ORCPT as given (`rfc822;bob@example.test`), when there was one.
    pub original_recipient: Option<String>,
    pub action: Action,
    /// RFC 3463 status, e.g. `5.1.1`.
    pub status: String,
    /// The server that answered, when one did.
    pub remote_mta: Option<String>,
    /// Its reply, e.g. `550 5.1.1 <bob@b.test>: user unknown`.
    pub smtp_reply: Option<String>,
    /// Seconds since the epoch.
    pub last_attempt: Option<i64>,
    /// For `delayed`: when mailward gives up.
    pub will_retry_until: Option<i64>,
    /// Why, in words, when no server replied (a DNS answer, a loop, an expired message):
    /// shown in the text for people.
    pub note: Option<String>,
}

/// What one report is about.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// This server's name (`Reporting-MTA: dns; ...`, `MAILER-DAEMON@...`).
    pub reporting_mta: &'a str,
    pub queue_id: &'a str,
    /// Arrival of the original message, seconds since the epoch.
    pub arrival: i64,
    /// RFC 3461 §4.4 ENVID, when the sender gave one.
    pub envid: Option<&'a str>,
    /// The original sender: the report's recipient.
    pub sender: &'a str,
    pub recipients: &'a [RecipientReport],
    /// RFC 3461 §4.3 RET: `true` for FULL, `false` for HDRS, `None` when not given (then
    /// failures carry the whole message and other reports the header).
    pub ret_full: Option<bool>,
    /// The original message.
    pub original: &'a [u8],
    /// Now, seconds since the epoch (the report's Date).
    pub now: i64,
    /// A boundary not found in `original` (the caller makes it unique, e.g. from the queue
    /// ID and a counter).
    pub boundary: &'a str,
}

/// The longest value written into a DSN field (RFC 5322 §2.1.1 keeps lines under 998).
const MAX_FIELD: usize = 900;

/// `s` as one line of at most [`MAX_FIELD`] octets: CR, LF and other controls become spaces.
fn one_line(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if out.len() > MAX_FIELD {
        let mut cut = MAX_FIELD;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

/// The end of the original's header section (the empty line), or its whole length.
fn header_end(msg: &[u8]) -> usize {
    memchr::memmem::find(msg, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| memchr::memmem::find(msg, b"\n\n").map(|i| i + 2))
        .unwrap_or(msg.len())
}

fn subject(recipients: &[RecipientReport]) -> &'static str {
    if recipients.iter().any(|r| r.action == Action::Failed) {
        "Undelivered Mail Returned to Sender"
    } else if recipients.iter().any(|r| r.action == Action::Delayed) {
        "Delayed Mail (still being retried)"
    } else {
        "Successful Mail Delivery Report"
    }
}

/// The report's kind in its Message-ID, so a delay notice and the failure report that may
/// follow it for the same message never share one.
fn kind(recipients: &[RecipientReport]) -> &'static str {
    if recipients.iter().any(|r| r.action == Action::Failed) {
        "failed"
    } else if recipients.iter().any(|r| r.action == Action::Delayed) {
        "delayed"
    } else {
        "delivered"
    }
}

fn human_text(r: &Report<'_>) -> String {
    let mut t = format!(
        "This is the mail system at host {}.\r\n\r\n",
        one_line(r.reporting_mta)
    );
    let failed = r.recipients.iter().any(|x| x.action == Action::Failed);
    let delayed = r.recipients.iter().any(|x| x.action == Action::Delayed);
    if failed {
        t.push_str("I'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.\r\n");
    } else if delayed {
        t.push_str("Your message could not be delivered yet to one or more recipients.\r\nIt will be retried; you do not need to send it again.\r\n");
    } else {
        t.push_str("Your message was delivered to the recipients below, as you asked.\r\n");
    }
    t.push_str("\r\n");
    for x in r.recipients {
        t.push_str(&format!(
            "<{}>: {}",
            one_line(&x.final_recipient),
            x.action.as_str()
        ));
        if let Some(reply) = &x.smtp_reply {
            let host = x.remote_mta.as_deref().unwrap_or("the remote server");
            t.push_str(&format!("; {} said: {}", one_line(host), one_line(reply)));
        } else if let Some(note) = &x.note {
            t.push_str(&format!("; {}", one_line(note)));
        }
        t.push_str("\r\n");
    }
    t
}

fn status_fields(r: &Report<'_>) -> String {
    // RFC 3464 §2.2: per-message fields, then a blank line before each recipient's.
    let mut f = format!("Reporting-MTA: dns; {}\r\n", one_line(r.reporting_mta));
    f.push_str(&format!(
        "X-Mailward-Queue-ID: {}\r\n",
        one_line(r.queue_id)
    ));
    if let Some(envid) = r.envid {
        f.push_str(&format!("Original-Envelope-Id: {}\r\n", one_line(envid)));
    }
    f.push_str(&format!(
        "Arrival-Date: {}\r\n",
        format_rfc5322(r.arrival, 0)
    ));
    for x in r.recipients {
        f.push_str("\r\n");
        if let Some(orig) = &x.original_recipient {
            f.push_str(&format!("Original-Recipient: {}\r\n", one_line(orig)));
        }
        f.push_str(&format!(
            "Final-Recipient: rfc822; {}\r\nAction: {}\r\nStatus: {}\r\n",
            one_line(&x.final_recipient),
            x.action.as_str(),
            one_line(&x.status)
        ));
        if let Some(mta) = &x.remote_mta {
            f.push_str(&format!("Remote-MTA: dns; {}\r\n", one_line(mta)));
        }
        if let Some(reply) = &x.smtp_reply {
            f.push_str(&format!("Diagnostic-Code: smtp; {}\r\n", one_line(reply)));
        }
        if let Some(t) = x.last_attempt {
            f.push_str(&format!("Last-Attempt-Date: {}\r\n", format_rfc5322(t, 0)));
        }
        if let Some(t) = x.will_retry_until {
            f.push_str(&format!("Will-Retry-Until: {}\r\n", format_rfc5322(t, 0)));
        }
    }
    f
}

/// The report, a whole message (CRLF line ends) ready to queue with a null return path.
pub fn build(r: &Report<'_>) -> Vec<u8> {
    let b = one_line(r.boundary);
    let mut m = Vec::with_capacity(r.original.len() + 4096);
    let push = |m: &mut Vec<u8>, s: &str| m.extend_from_slice(s.as_bytes());
    push(
        &mut m,
        &format!(
            "From: Mail Delivery System <MAILER-DAEMON@{host}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}.{kind}@{host}>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{b}\"\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n",
            host = one_line(r.reporting_mta),
            to = one_line(r.sender),
            subject = subject(r.recipients),
            kind = kind(r.recipients),
            date = format_rfc5322(r.now, 0),
            id = one_line(r.queue_id),
        ),
    );
    push(
        &mut m,
        &format!(
            "--{b}\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
            human_text(r)
        ),
    );
    push(
        &mut m,
        &format!(
            "--{b}\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n{}\r\n",
            status_fields(r)
        ),
    );
    let failed = r.recipients.iter().any(|x| x.action == Action::Failed);
    let full = r.ret_full.unwrap_or(failed);
    if full {
        push(
            &mut m,
            &format!(
                "--{b}\r\nContent-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n\r\n"
            ),
        );
        m.extend_from_slice(r.original);
    } else {
        push(
            &mut m,
            &format!(
                "--{b}\r\nContent-Description: Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            ),
        );
        m.extend_from_slice(
            r.original
                .get(..header_end(r.original))
                .unwrap_or(r.original),
        );
    }
    if !m.ends_with(b"\r\n") {
        m.extend_from_slice(b"\r\n");
    }
    push(&mut m, &format!("\r\n--{b}--\r\n"));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &[u8] =
        b"From: alice@a.test\r\nTo: bob@b.test\r\nSubject: hello\r\n\r\nthe body\r\n";

    fn failed(reply: &str) -> RecipientReport {
        RecipientReport {
            final_recipient: "bob@b.test".into(),
            original_recipient: Some("rfc822;Bob@b.test".into()),
            action: Action::Failed,
            status: "5.1.1".into(),
            remote_mta: Some("mx.b.test".into()),
            smtp_reply: Some(reply.into()),
            last_attempt: Some(1_796_000_000),
            will_retry_until: None,
            note: None,
        }
    }

    fn report<'a>(rcpts: &'a [RecipientReport], ret_full: Option<bool>) -> Report<'a> {
        Report {
            reporting_mta: "mx.a.test",
            queue_id: "Q1",
            arrival: 1_795_999_000,
            envid: Some("env-1"),
            sender: "alice@a.test",
            recipients: rcpts,
            ret_full,
            original: ORIGINAL,
            now: 1_796_000_100,
            boundary: "=_b1",
        }
    }

    fn text(m: &[u8]) -> String {
        String::from_utf8_lossy(m).into_owned()
    }

    #[test]
    fn a_failure_report_has_the_three_parts_and_the_fields() {
        let r = [failed("550 5.1.1 <bob@b.test>: user unknown")];
        let m = text(&build(&report(&r, None)));
        assert!(
            m.starts_with("From: Mail Delivery System <MAILER-DAEMON@mx.a.test>\r\n"),
            "{m}"
        );
        assert!(m.contains("\r\nTo: <alice@a.test>\r\n"));
        assert!(m.contains("Subject: Undelivered Mail Returned to Sender\r\n"));
        assert!(m.contains("Auto-Submitted: auto-replied\r\n"));
        assert!(m.contains("report-type=delivery-status"));
        assert!(m.contains("Reporting-MTA: dns; mx.a.test\r\nX-Mailward-Queue-ID: Q1\r\nOriginal-Envelope-Id: env-1\r\nArrival-Date: "));
        assert!(m.contains("\r\n\r\nOriginal-Recipient: rfc822;Bob@b.test\r\nFinal-Recipient: rfc822; bob@b.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.b.test\r\nDiagnostic-Code: smtp; 550 5.1.1 <bob@b.test>: user unknown\r\n"), "{m}");
        // RET absent and a failure: the whole original comes back.
        assert!(m.contains("Content-Type: message/rfc822\r\n\r\nFrom: alice@a.test\r\n"));
        assert!(m.contains("\r\nthe body\r\n"));
        assert!(m.ends_with("\r\n--=_b1--\r\n"));
        assert_eq!(m.matches("\r\n--=_b1\r\n").count(), 3, "three parts");
        assert!(m.contains("\r\n\r\n--=_b1\r\nContent-Description: Notification"));
    }

    #[test]
    fn ret_hdrs_and_delays_return_only_the_header() {
        let mut d = failed("451 4.3.0 try later");
        d.action = Action::Delayed;
        d.status = "4.3.0".into();
        d.will_retry_until = Some(1_796_400_000);
        let r = [d];
        let m = text(&build(&report(&r, None)));
        assert!(m.contains("Subject: Delayed Mail (still being retried)\r\n"));
        assert!(m.contains("Content-Type: text/rfc822-headers\r\n\r\nFrom: alice@a.test\r\nTo: bob@b.test\r\nSubject: hello\r\n\r\n"));
        assert!(!m.contains("the body"));
        assert!(m.contains("Will-Retry-Until: "));
        let f = [failed("550 no")];
        let m = text(&build(&report(&f, Some(false))));
        assert!(!m.contains("the body"), "RET=HDRS returns no body");
    }

    #[test]
    fn a_hostile_reply_cannot_add_fields_or_parts() {
        let r = [failed(
            "550 no\r\nAction: delivered\r\n--=_b1\r\nContent-Type: text/html",
        )];
        let m = text(&build(&report(&r, Some(false))));
        assert_eq!(m.matches("\r\nAction: ").count(), 1, "{m}");
        assert_eq!(m.matches("\r\n--=_b1\r\n").count(), 3, "{m}");
        let long = "x".repeat(5000);
        let r = [failed(&long)];
        let m = build(&report(&r, Some(false)));
        assert!(
            m.split(|&b| b == b'\n').all(|l| l.len() < 998),
            "every line stays under RFC 5322's limit"
        );
    }
}
