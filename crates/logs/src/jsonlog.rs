//! mailward's own JSON-lines log, as specified in `docs/log-format.md` (a contract: the
//! field names below are never renamed by the writer).

use crate::event::{
    AuthFailure, AuthProtocol, Delivery, Event, Received, Record, Reject, Source, Status, Text,
};
use crate::scan::{b, find, reply_code, unbracket};
use crate::time::parse_rfc3339;
use serde::Deserialize;
use std::borrow::Cow;

/// The fields of one log object that `mailward logs` reads; unknown fields are ignored.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct Line<'a> {
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event: Option<Cow<'a, str>>,
    #[serde(borrow)]
    queue_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    remote_ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    from: Option<Cow<'a, str>>,
    #[serde(borrow)]
    to: Option<Cow<'a, str>>,
    size: Option<u64>,
    #[serde(borrow)]
    message_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user: Option<Cow<'a, str>>,
    #[serde(borrow)]
    mechanism: Option<Cow<'a, str>>,
    #[serde(borrow)]
    protocol: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    dsn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    relay: Option<Cow<'a, str>>,
    #[serde(borrow)]
    mailbox: Option<Cow<'a, str>>,
    delay: Option<f64>,
    attempt: Option<u32>,
}

/// Parses one mailward JSON log line. Lines that are valid JSON objects but name an event
/// this reader does not use are understood (`Event::Other`).
pub fn parse_line(line: &str) -> Option<Record<'_>> {
    let l: Line<'_> = serde_json::from_str(line.trim_end()).ok()?;
    let time = l
        .timestamp
        .as_deref()
        .and_then(parse_rfc3339)
        .map(|(t, _)| t);
    let name = l.event.as_deref()?;
    let event = match name {
        "queued" => Event::Received(Box::new(Received {
            qid: l.queue_id?,
            client_host: None,
            client_ip: l.remote_ip,
            sasl_user: l.user,
            from: l.from.map(strip),
            size: l.size,
            message_id: l.message_id.map(strip),
            recipients: l.to,
            parent: None,
            notification: false,
        })),
        "delivered" | "deferred" | "bounced" | "expired" => {
            let status = match name {
                "delivered" => Status::Sent,
                "deferred" => Status::Deferred,
                "bounced" => Status::Bounced,
                _ => Status::Expired,
            };
            let remote = l.relay.is_some();
            let response = l.reason.or(l.mailbox.clone());
            Event::Delivery(Box::new(Delivery {
                qid: l.queue_id?,
                to: l.to.map(strip)?,
                orig_to: None,
                relay: l.relay.clone().or(l.mailbox),
                relay_host: l
                    .relay
                    .as_deref()
                    .map(relay_host)
                    .map(|h| Cow::Owned(h.to_owned())),
                relay_ip: None,
                remote,
                status,
                delay: l.delay,
                delays: None,
                dsn: l
                    .dsn
                    .or_else(|| (status == Status::Sent).then(|| b("2.0.0"))),
                response,
                queued_as: None,
                attempt: l.attempt,
            }))
        }
        "rcpt_rejected" | "rejected" => {
            let code_text = l.code.unwrap_or_default();
            let (code, dsn, _) = reply_code(&code_text);
            let (code, dsn) = (
                code.map(|c| Cow::Owned(c.to_owned())),
                dsn.map(|d| Cow::Owned(d.to_owned())),
            );
            Event::Reject(Box::new(Reject {
                qid: l.queue_id,
                action: b("reject"),
                stage: Some(b(if name == "rcpt_rejected" {
                    "RCPT"
                } else {
                    "SMTP"
                })),
                client_host: None,
                client_ip: l.remote_ip,
                code,
                dsn,
                reason: l.reason.unwrap_or_default(),
                from: l.from.map(strip),
                to: l.to.map(strip),
            }))
        }
        "auth_failed" => Event::SaslFailure(Box::new(AuthFailure {
            client_ip: l.remote_ip?,
            client_host: None,
            user: l.user,
            mechanism: l.mechanism,
            protocol: AuthProtocol::from_field(l.protocol.as_deref()),
        })),
        _ => Event::Other,
    };
    Some(Record {
        time,
        source: Source::Mailward,
        event,
    })
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
