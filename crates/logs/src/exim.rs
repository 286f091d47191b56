//! Exim 4 main log (`mainlog`) and reject log lines.
//!
//! `YYYY-MM-DD HH:MM:SS[.fff] [±hhmm] [[pid]] [MSGID] TEXT`. Message lines carry a message
//! id, either the classic 16-character `XXXXXX-XXXXXX-XX` or the 23-character
//! `XXXXXX-XXXXXXXXXXX-XXXX` of Exim ≥ 4.97, followed by a flag:
//!
//! | flag | meaning |
//! | --- | --- |
//! | `<=` | message arrival |
//! | `=>` | normal delivery |
//! | `->` | additional address in the same delivery |
//! | `*>` | delivery suppressed by `-N` |
//! | `**` | delivery failed (bounced) |
//! | `==` | delivery deferred |
//! | `Completed` | message left the queue |

use crate::event::{
    AuthFailure, AuthProtocol, Delivery, Event, Received, Record, Reject, Source, Status, Text,
};
use crate::scan::{b, embedded_reply, find, unbracket};
use crate::time::parse_exim;

/// True for an Exim message id (base-62 parts `6-6-2` or `6-11-4`).
pub fn is_exim_id(s: &str) -> bool {
    let bytes = s.as_bytes();
    let shape: &[usize] = match bytes.len() {
        16 => &[6, 6, 2],
        23 => &[6, 11, 4],
        _ => return false,
    };
    let mut i = 0;
    for (k, &n) in shape.iter().enumerate() {
        let Some(part) = bytes.get(i..i + n) else {
            return false;
        };
        if !part.iter().all(u8::is_ascii_alphanumeric) {
            return false;
        }
        i += n;
        if k < 2 {
            if bytes.get(i) != Some(&b'-') {
                return false;
            }
            i += 1;
        }
    }
    true
}

/// Parses one Exim log line.
pub fn parse_line(line: &str) -> Option<Record<'_>> {
    let (time, used) = parse_exim(line)?;
    let mut rest = line.get(used..)?.strip_prefix(' ')?;
    // Optional `[pid]` (log_selector +pid).
    if rest.starts_with('[') {
        let close = find(rest, "] ")?;
        if rest.get(1..close)?.bytes().all(|c| c.is_ascii_digit()) {
            rest = rest.get(close + 2..)?;
        }
    }
    let event = match rest
        .get(..23)
        .filter(|id| is_exim_id(id) && rest.as_bytes().get(23) == Some(&b' '))
    {
        Some(id) => message_line(id, rest.get(24..)?)?,
        None => match rest
            .get(..16)
            .filter(|id| is_exim_id(id) && matches!(rest.as_bytes().get(16), Some(b' ') | None))
        {
            Some(id) => message_line(id, rest.get(17..).unwrap_or(""))?,
            None => general_line(rest)?,
        },
    };
    Some(Record {
        time: Some(time),
        source: Source::Exim,
        event,
    })
}

/// Known message lines without a flag.
const MESSAGE_INFO: &[&str] = &[
    "H=",
    "DKIM",
    "SMTP ",
    "Frozen",
    "Unfrozen",
    "Message is frozen",
    "removed by",
    "Spool file",
    "retry time not reached",
    "cancelled by",
    "no immediate delivery",
    "ARC",
    "SPF",
    "DMARC",
    "Warning:",
    "skipped",
    "return path",
    "malware",
    "spam",
];

/// Known lines without a message id.
const GENERAL_INFO: &[&str] = &[
    "SMTP connection from",
    "SMTP command timeout",
    "SMTP protocol error",
    "SMTP call from",
    "SMTP data timeout",
    "SMTP syntax error",
    "unexpected disconnection",
    "TLS error",
    "Start queue run",
    "End queue run",
    "exim ",
    "no host name found",
    "no IP address found",
    "Connection from",
    "Warning: ",
    "cwd=",
    "H=",
    "SMTP connection lost",
    "daemon ",
    "TLS session",
    "host name alias",
    "Spool file",
    "Failed to ",
    "DKIM",
    "Received from",
    "LOG:",
    "Accepting",
    "Unable to",
];

fn general_line(rest: &str) -> Option<Event<'_>> {
    // `authenticator failed for (helo) [ip]:port: 535 Incorrect authentication data (set_id=user)`
    if let Some(i) = find(rest, "authenticator failed for ") {
        let tail = rest.get(i + 25..)?;
        let (host, ip) = exim_host(tail);
        let ip = ip?;
        let user = find(tail, "(set_id=")
            .and_then(|j| tail.get(j + 8..))
            .and_then(|u| u.get(..u.find(')')?))
            .map(b);
        let mechanism = rest
            .get(..i)
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(b);
        return Some(Event::SaslFailure(Box::new(AuthFailure {
            client_ip: b(ip),
            client_host: host.map(b),
            user,
            mechanism,
            protocol: AuthProtocol::Smtp,
        })));
    }
    if find(rest, "rejected").is_some() || find(rest, "refused").is_some() {
        return Some(Event::Reject(Box::new(reject(None, rest))));
    }
    GENERAL_INFO
        .iter()
        .any(|p| rest.starts_with(p))
        .then_some(Event::Other)
}

/// `H=name (helo) [ip]:port ...` -> (name, ip); `H=(helo) [ip]` -> (helo, ip).
fn exim_host(s: &str) -> (Option<&str>, Option<&str>) {
    let s = s.strip_prefix("H=").unwrap_or(s);
    let open = s.find('[');
    let name_part = s.get(..open.unwrap_or(s.len())).unwrap_or("").trim();
    let name = name_part
        .split(' ')
        .next()
        .map(|n| n.trim_start_matches('(').trim_end_matches(')'))
        .filter(|n| !n.is_empty());
    let ip = open.and_then(|o| {
        let tail = s.get(o + 1..)?;
        let end = tail
            .find(']')
            .or_else(|| find(tail, ": "))
            .unwrap_or(tail.len());
        tail.get(..end)
    });
    (name, ip)
}

/// Reject lines (`H=(x) [ip] F=<a> rejected RCPT <b>: reason`, `... rejected after DATA: ...`).
fn reject<'a>(qid: Option<Text<'a>>, rest: &'a str) -> Reject<'a> {
    let h = find(rest, "H=").and_then(|i| rest.get(i..));
    let (host, ip) = h.map(exim_host).unwrap_or((None, None));
    let from = find(rest, "F=<")
        .and_then(|i| rest.get(i + 3..))
        .and_then(|t| t.get(..t.find('>')?));
    let (stage, to) = match find(rest, "rejected RCPT ") {
        Some(i) => {
            let t = rest.get(i + 14..).unwrap_or("");
            let addr = t.split([':', ' ']).next().map(unbracket);
            (Some("RCPT"), addr)
        }
        None if find(rest, "rejected after DATA").is_some() => (Some("DATA"), None),
        None if find(rest, "rejected MAIL").is_some() => (Some("MAIL"), None),
        None if find(rest, "rejected EHLO").is_some() || find(rest, "rejected HELO").is_some() => {
            (Some("HELO"), None)
        }
        None if find(rest, "connection").is_some() => (Some("CONNECT"), None),
        None => (None, None),
    };
    let reason = find(rest, "rejected")
        .and_then(|i| rest.get(i..))
        .and_then(|t| find(t, ": ").and_then(|j| t.get(j + 2..)))
        .unwrap_or(rest);
    let (code, dsn) = embedded_reply(rest)
        .map(|(c, d)| (Some(c), d))
        .unwrap_or((None, None));
    Reject {
        qid,
        action: b("reject"),
        stage: stage.map(b),
        client_host: host.map(b),
        client_ip: ip.map(b),
        code: code.map(b),
        dsn: dsn.map(b),
        reason: b(reason),
        from: from.map(b),
        to: to.map(b),
    }
}

fn message_line<'a>(id: &'a str, rest: &'a str) -> Option<Event<'a>> {
    let q = b(id);
    if let Some(v) = rest.strip_prefix("<= ") {
        return Some(Event::Received(Box::new(arrival(q, v))));
    }
    for (flag, status) in [
        ("=> ", Status::Sent),
        ("-> ", Status::Sent),
        ("*> ", Status::Sent),
        ("** ", Status::Bounced),
        ("== ", Status::Deferred),
    ] {
        if let Some(v) = rest.strip_prefix(flag) {
            return Some(Event::Delivery(Box::new(delivery(q, v, status))));
        }
    }
    if rest.starts_with("Completed") {
        return Some(Event::Removed { qid: q });
    }
    if find(rest, "rejected").is_some() {
        return Some(Event::Reject(Box::new(reject(Some(q), rest))));
    }
    MESSAGE_INFO
        .iter()
        .any(|p| rest.starts_with(p))
        .then_some(Event::Other)
}

/// Splits `K=value` fields: a new field starts at a word shaped `[A-Za-z0-9]{1,4}=`; quoted
/// values (`T="a b"`, `DN="..."`, `C="..."`) run to the closing quote.
fn fields(s: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut cursor = s;
    std::iter::from_fn(move || {
        loop {
            cursor = cursor.trim_start();
            if cursor.is_empty() {
                return None;
            }
            let word_end = cursor.find(' ').unwrap_or(cursor.len());
            let word = cursor.get(..word_end)?;
            let key_len = word.find('=').filter(|&k| {
                (1..=4).contains(&k)
                    && word
                        .get(..k)
                        .is_some_and(|k| k.bytes().all(|c| c.is_ascii_alphanumeric()))
            });
            let Some(k) = key_len else {
                cursor = cursor.get(word_end..)?;
                continue;
            };
            let key = cursor.get(..k)?;
            let after = cursor.get(k + 1..)?;
            let end = if let Some(q) = after.strip_prefix('"') {
                let mut i = 0;
                let bytes = q.as_bytes();
                while let Some(&c) = bytes.get(i) {
                    if c == b'\\' {
                        i += 2;
                        continue;
                    }
                    if c == b'"' {
                        break;
                    }
                    i += 1;
                }
                (i + 2).min(after.len())
            } else {
                // Unquoted: up to the next word that starts a field.
                let mut end = after.find(' ').unwrap_or(after.len());
                while let Some(next) = after.get(end + 1..) {
                    let w = next.split(' ').next().unwrap_or("");
                    let starts_field = w.find('=').is_some_and(|k| {
                        (1..=4).contains(&k)
                            && w.get(..k)
                                .is_some_and(|k| k.bytes().all(|c| c.is_ascii_alphanumeric()))
                    });
                    if starts_field || next.is_empty() {
                        break;
                    }
                    end += 1 + next.find(' ').unwrap_or(next.len());
                }
                end
            };
            let value = after.get(..end)?;
            cursor = after.get(end..)?;
            return Some((key, value.trim_matches('"')));
        }
    })
}

fn arrival<'a>(qid: Text<'a>, v: &'a str) -> Received<'a> {
    let (sender, tail) = v.split_once(' ').unwrap_or((v, ""));
    let mut r = Received {
        qid,
        from: Some(b(unbracket(sender))),
        ..Received::default()
    };
    for (k, val) in fields(tail) {
        match k {
            "H" => {
                let (host, ip) = exim_host(val);
                r.client_host = host.map(b);
                r.client_ip = ip.map(b);
            }
            "S" => r.size = val.parse().ok(),
            "id" => r.message_id = Some(b(unbracket(val))),
            // A=authenticator:user (RFC 4954 AUTH on the way in).
            "A" => r.sasl_user = val.split_once(':').map(|(_, u)| b(u)),
            "R" if sender == "<>" => {
                r.parent = Some(b(val));
                r.notification = true;
            }
            _ => {}
        }
    }
    r
}

fn delivery<'a>(qid: Text<'a>, v: &'a str, status: Status) -> Delivery<'a> {
    // `addr [<orig>] [R=.. T=..] [H=..] ...: reason` — the address ends at the first space or,
    // for failures written `addr: reason`, at the colon.
    let addr_end = v.find([' ', ':']).unwrap_or(v.len());
    let to = v.get(..addr_end).unwrap_or("");
    let mut tail = v.get(addr_end..).unwrap_or("");
    let mut orig_to = None;
    if let Some(o) = tail.strip_prefix(" <")
        && let Some(end) = o.find('>')
    {
        orig_to = o.get(..end).map(b);
        tail = o.get(end + 1..).unwrap_or("");
    }
    let mut d = Delivery {
        qid,
        to: b(to),
        orig_to,
        relay: None,
        relay_host: None,
        relay_ip: None,
        remote: false,
        status,
        delay: None,
        delays: None,
        dsn: None,
        response: None,
        queued_as: None,
        attempt: None,
    };
    // The reason of a failure or deferral: after `defer (errno): ` or after the last `: `
    // that follows the fields.
    let reason = if let Some(i) = find(tail, "defer (") {
        tail.get(i..)
            .and_then(|t| find(t, "): ").and_then(|j| t.get(j + 3..)))
    } else if status == Status::Bounced {
        find(tail, ": ")
            .and_then(|i| tail.get(i + 2..))
            .or_else(|| tail.strip_prefix(':').map(str::trim))
    } else {
        None
    };
    let field_part = match reason {
        Some(r) if status != Status::Sent => tail
            .get(..tail.len().saturating_sub(r.len()))
            .unwrap_or(tail),
        _ => tail,
    };
    for (k, val) in fields(field_part) {
        match k {
            "H" => {
                let (host, ip) = exim_host(val);
                d.relay = Some(b(val.trim_end_matches(':')));
                d.relay_host = host.map(b);
                d.relay_ip = ip.map(b);
                d.remote = true;
            }
            "T" if d.relay.is_none() => d.relay = Some(b(val)),
            "C" => {
                d.response = Some(b(val));
                d.queued_as = find(val, "queued as ")
                    .and_then(|i| val.get(i + 10..))
                    .map(|q| q.split([' ', ')', ']']).next().unwrap_or(q))
                    .filter(|q| !q.is_empty())
                    .map(b);
            }
            "DT" => d.delay = val.trim_end_matches('s').parse().ok(),
            _ => {}
        }
    }
    if let Some(r) = reason {
        if let Some((code, dsn)) = embedded_reply(r).or_else(|| embedded_reply(tail)) {
            d.dsn = dsn.map(b).or_else(|| Some(b(code)));
        }
        if status == Status::Bounced && find(r, "retry timeout exceeded").is_some() {
            d.status = Status::Expired;
        }
        d.response = Some(b(r));
    }
    if reason.is_none() && status != Status::Sent {
        let rest = tail.trim();
        if let Some((code, dsn)) = embedded_reply(rest) {
            d.dsn = dsn.map(b).or_else(|| Some(b(code)));
        }
        d.response = Some(b(rest));
    }
    if d.status == Status::Sent && d.dsn.is_none() {
        d.dsn = Some(b("2.0.0"));
    }
    d
}

/// The SMTP reply code and enhanced code of a failure or deferral, for counting errors by
/// code (`554 5.2.0`, `550`).
pub fn error_code(response: &str) -> Option<(&str, Option<&str>)> {
    embedded_reply(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(line: &str) -> Option<Event<'_>> {
        parse_line(line).map(|r| r.event)
    }

    #[test]
    fn ids_of_both_lengths() {
        assert!(is_exim_id("1jmFYj-00039V-QX"));
        assert!(is_exim_id("1x8yvQ-0000000AutF-1xus"));
        assert!(!is_exim_id("1jmFYj-00039VQX-"));
    }

    #[test]
    fn arrival_with_long_id_pid_and_auth() {
        let e = ev(
            "2026-01-02 03:04:05 [4242] 1x8yvQ-0000000AutF-1xus <= alice@example.org H=client.example (helo) [192.0.2.5]:51000 P=esmtpsa A=dovecot_plain:alice S=2048 id=abc@example.org T=\"hi there\"",
        );
        let Some(Event::Received(r)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(r.qid, "1x8yvQ-0000000AutF-1xus");
        assert_eq!(r.client_ip.as_deref(), Some("192.0.2.5"));
        assert_eq!(r.client_host.as_deref(), Some("client.example"));
        assert_eq!(r.sasl_user.as_deref(), Some("alice"));
        assert_eq!(r.size, Some(2048));
        assert_eq!(r.message_id.as_deref(), Some("abc@example.org"));
    }

    #[test]
    fn failure_carries_its_smtp_code() {
        let e = ev(
            "2020-06-20 05:13:04 1raAO5-0091Cv-IH ** dave@foo.corp R=dnslookup T=remote_smtp H=(relay.test.corp) [4.4.4.4]: SMTP error from remote mail server after end of data: 550 Message was not accepted",
        );
        let Some(Event::Delivery(d)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(d.status, Status::Bounced);
        assert_eq!(d.relay_ip.as_deref(), Some("4.4.4.4"));
        assert_eq!(d.dsn.as_deref(), Some("550"));
        assert_eq!(d.to, "dave@foo.corp");
    }

    #[test]
    fn retry_timeout_is_expiry() {
        let e = ev("2020-06-19 04:54:02 1jmFYj-00039V-QX ** bob@null.corp: retry timeout exceeded");
        let Some(Event::Delivery(d)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(d.status, Status::Expired);
        assert_eq!(d.to, "bob@null.corp");
    }

    #[test]
    fn sasl_failure() {
        let e = ev(
            "2026-01-02 03:04:05 dovecot_login authenticator failed for (x) [198.51.100.4]:50000: 535 Incorrect authentication data (set_id=bob)",
        );
        assert_eq!(
            e,
            Some(Event::SaslFailure(Box::new(AuthFailure {
                client_ip: b("198.51.100.4"),
                client_host: Some(b("x")),
                user: Some(b("bob")),
                mechanism: Some(b("dovecot_login")),
                protocol: AuthProtocol::Smtp
            })))
        );
    }
}
