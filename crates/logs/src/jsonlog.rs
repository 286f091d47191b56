//! mailward's own JSON-lines log, read back into the event catalogue's own types
//! (`mailward_event::LogLine`, `docs/log-format.md`), so the writer and this reader cannot
//! drift; older logs are read through the catalogue's aliases.

use crate::event::{
    AuthFailure, AuthProtocol, Delivery, Event, Received, Record, Reject, Source, Status, Text,
};
use crate::scan::{b, find, reply_code, unbracket};
use crate::time::parse_rfc3339;
use mailward_event::{Event as Logged, LogLine, Protocol};
use std::borrow::Cow;

/// Parses one mailward JSON log line. Lines that are valid JSON objects but name an event
/// this reader does not use are understood (`Event::Other`).
pub fn parse_line(line: &str) -> Option<Record<'_>> {
    let l = LogLine::parse(line)?;
    let time = l
        .timestamp
        .as_deref()
        .and_then(parse_rfc3339)
        .map(|(t, _)| t);
    let client_ip = || l.scope.remote_ip.map(|ip| Cow::Owned(ip.to_string()));
    let queue_id = l.scope.queue_id.clone().map(owned);
    let event = match l.event {
        Logged::Queued(q) => Event::Received(Box::new(Received {
            qid: queue_id?,
            client_host: None,
            client_ip: client_ip(),
            sasl_user: q.user.map(owned),
            from: Some(strip(owned(q.from))),
            size: Some(q.size),
            message_id: q.message_id.map(owned).map(strip),
            recipients: Some(owned(q.to)),
            parent: None,
            notification: false,
        })),
        Logged::Delivered(d) => {
            let remote = d.relay.is_some();
            let relay = d.relay.map(owned);
            let mailbox = d.mailbox.map(owned);
            delivery(
                queue_id?,
                owned(d.to),
                Status::Sent,
                relay,
                mailbox,
                None,
                Some(d.delay),
                None,
                remote,
            )
        }
        Logged::Deferred(d) => delivery(
            queue_id?,
            owned(d.to),
            Status::Deferred,
            d.relay.map(owned),
            None,
            Some(owned(d.reason)),
            Some(d.delay),
            Some(d.attempt),
            false,
        ),
        Logged::Bounced(d) => {
            let remote = d.relay.is_some();
            let mut rec = delivery(
                queue_id?,
                owned(d.to),
                Status::Bounced,
                d.relay.map(owned),
                None,
                Some(owned(d.reason)),
                None,
                None,
                remote,
            );
            if let Event::Delivery(del) = &mut rec {
                del.dsn = Some(owned(d.dsn)).filter(|d| !d.is_empty());
            }
            rec
        }
        Logged::Expired(d) => delivery(
            queue_id?,
            owned(d.to),
            Status::Expired,
            None,
            None,
            Some(owned(d.reason)),
            None,
            None,
            false,
        ),
        // The report mailward queued about this message (its own queue ID ties the two
        // flows, as Postfix's `sender non-delivery notification: ID` does).
        Logged::ReportQueued(r) => Event::Notification {
            qid: queue_id?,
            notice_qid: owned(r.report_id),
        },
        Logged::RcptRejected(r) => reject(
            queue_id,
            "RCPT",
            client_ip(),
            &r.code,
            owned(r.reason),
            None,
            Some(strip(owned(r.to))),
        ),
        Logged::Rejected(r) => reject(
            queue_id,
            "SMTP",
            client_ip(),
            &r.code,
            owned(r.reason),
            r.from.map(owned).map(strip),
            None,
        ),
        // An SMTP client turned away at connect (limits) is a refusal of mail too, as
        // Postfix's `reject: CONNECT` is; IMAP and POP3 refusals are not.
        Logged::Refused(r) if matches!(l.scope.protocol, None | Some(Protocol::Smtp)) => reject(
            queue_id,
            "CONNECT",
            client_ip(),
            &r.code,
            owned(r.reason),
            None,
            None,
        ),
        Logged::AuthFailed(a) => Event::SaslFailure(Box::new(AuthFailure {
            client_ip: client_ip()?,
            client_host: None,
            user: Some(owned(a.user)).filter(|u| !u.is_empty()),
            mechanism: Some(owned(a.mechanism)).filter(|m| !m.is_empty()),
            protocol: AuthProtocol::from_field(l.scope.protocol.map(Protocol::as_str)),
        })),
        _ => Event::Other,
    };
    Some(Record {
        time,
        source: Source::Mailward,
        event,
    })
}

/// The catalogue's text as this crate's (owned: a line's strings may be escaped).
fn owned(t: Cow<'_, str>) -> Text<'static> {
    Cow::Owned(t.into_owned())
}

#[allow(clippy::too_many_arguments)]
fn delivery(
    qid: Text<'static>,
    to: Text<'static>,
    status: Status,
    relay: Option<Text<'static>>,
    mailbox: Option<Text<'static>>,
    reason: Option<Text<'static>>,
    delay: Option<f64>,
    attempt: Option<u32>,
    remote: bool,
) -> Event<'static> {
    let response = reason.or(mailbox.clone());
    Event::Delivery(Box::new(Delivery {
        qid,
        to: strip(to),
        orig_to: None,
        relay_host: relay
            .as_deref()
            .map(relay_host)
            .map(|h| Cow::Owned(h.to_owned())),
        relay: relay.or(mailbox),
        relay_ip: None,
        remote,
        status,
        delay,
        delays: None,
        dsn: (status == Status::Sent).then(|| b("2.0.0")),
        response,
        queued_as: None,
        attempt,
    }))
}

fn reject(
    qid: Option<Text<'static>>,
    stage: &'static str,
    client_ip: Option<Text<'static>>,
    code_text: &str,
    reason: Text<'static>,
    from: Option<Text<'static>>,
    to: Option<Text<'static>>,
) -> Event<'static> {
    let (code, dsn, _) = reply_code(code_text);
    Event::Reject(Box::new(Reject {
        qid,
        action: b("reject"),
        stage: Some(b(stage)),
        client_host: None,
        client_ip,
        code: code.map(|c| Cow::Owned(c.to_owned())),
        dsn: dsn.map(|d| Cow::Owned(d.to_owned())),
        reason,
        from,
        to,
    }))
}

/// Drops angle brackets around an address or message-id.
fn strip(t: Text<'_>) -> Text<'_> {
    match t {
        Cow::Borrowed(s) => Cow::Borrowed(unbracket(s)),
        Cow::Owned(s) => Cow::Owned(unbracket(&s).to_owned()),
    }
}

/// The host part of a relay written `host`, `host:port` or `[ip]:port`.
fn relay_host(r: &str) -> &str {
    if let Some(inner) = r.strip_prefix('[') {
        return inner.split(']').next().unwrap_or(inner);
    }
    match find(r, ":") {
        Some(i) if r.matches(':').count() == 1 => r.get(..i).unwrap_or(r),
        _ => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example lines of `docs/log-format.md`.
    pub const CONTRACT_EXAMPLE: &str = r#"{"timestamp":"2026-11-22T18:43:50.123456Z","level":"INFO","target":"mailward_mta::session","event":"connect","session":"s7Q2xK","remote_ip":"127.0.0.1","listener":"smtp","remote_port":51544}
{"timestamp":"2026-11-22T18:43:50.140001Z","level":"INFO","target":"mailward_mta::session","event":"queued","session":"s7Q2xK","remote_ip":"127.0.0.1","queue_id":"4XgK2B1Zq9","from":"alice@example.org","to":"bob@example.test","nrcpt":1,"size":2048,"message_id":"<abc@example.org>"}
{"timestamp":"2026-11-22T18:43:50.151002Z","level":"INFO","target":"mailward_mda::deliver","event":"delivered","queue_id":"4XgK2B1Zq9","to":"bob@example.test","mailbox":"example.test/bob/INBOX","delay":0.011,"status":"sent"}"#;

    #[test]
    fn contract_example_lines_parse() {
        let recs: Vec<_> = CONTRACT_EXAMPLE.lines().map(parse_line).collect();
        assert!(recs.iter().all(Option::is_some));
        let Some(Some(Record {
            event: Event::Received(r),
            ..
        })) = recs.get(1)
        else {
            panic!("{recs:?}")
        };
        assert_eq!(r.qid, "4XgK2B1Zq9");
        assert_eq!(r.message_id.as_deref(), Some("abc@example.org"));
        assert_eq!(r.client_ip.as_deref(), Some("127.0.0.1"));
        let Some(Some(Record {
            event: Event::Delivery(d),
            ..
        })) = recs.get(2)
        else {
            panic!("{recs:?}")
        };
        assert_eq!(d.status, Status::Sent);
        assert!(!d.remote, "a mailbox delivery is local");
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let r = parse_line(
            r#"{"timestamp":"2026-11-22T18:43:50Z","event":"rcpt_rejected","remote_ip":"192.0.2.1","to":"<x@y>","code":"550 5.1.1","reason":"no \"such\" user"}"#,
        );
        let Some(Record {
            event: Event::Reject(rj),
            ..
        }) = r
        else {
            panic!("{r:?}")
        };
        assert_eq!(rj.reason, "no \"such\" user");
        assert_eq!(rj.code.as_deref(), Some("550"));
        assert_eq!(rj.dsn.as_deref(), Some("5.1.1"));
        assert_eq!(rj.to.as_deref(), Some("x@y"));
    }

    #[test]
    fn non_json_is_unparsed() {
        assert!(parse_line("{not json").is_none());
        assert!(parse_line(r#"{"no_event":1}"#).is_none());
    }
}
