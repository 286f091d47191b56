//! Postfix syslog lines.
//!
//! A line is `STAMP HOST PROGRAM[PID]: MESSAGE` where STAMP is the RFC 3164 `Mmm dd HH:MM:SS`
//! or an RFC 3339 stamp (RFC 5424-style, rsyslog's `RSYSLOG_FileFormat`, Postfix's own
//! `maillog_file` with `maillog_file_compressor`-free settings), and PROGRAM is
//! `<syslog_name>/<daemon>` (`postfix/smtpd`, `postfix-in/cleanup`, `postfix/submission/smtpd`).
//! Messages are recognised by their shape, not by daemon, because every delivery agent
//! (smtp, lmtp, local, virtual, pipe, error, discard, retry) writes the same
//! `QID: to=<...>, relay=..., delay=..., delays=a/b/c/d, dsn=X.Y.Z, status=S (text)` line.

use crate::event::{
    AuthFailure, AuthProtocol, Delivery, Event, Received, Record, Reject, Source, Status, Text,
};
use crate::scan::{
    b, find, find_byte, host_ip, reply_code, rfind, rfind_byte, split_on, split_qid, unbracket,
};
use crate::time::{YearRef, parse_rfc3339, parse_syslog};

/// The parts of a syslog line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyslogLine<'a> {
    pub time: crate::time::Timestamp,
    pub host: &'a str,
    /// The full program (`postfix/smtpd`).
    pub program: &'a str,
    pub message: &'a str,
}

/// Splits a syslog line into stamp, host, program and message.
pub fn split_syslog<'a>(line: &'a str, year: &YearRef) -> Option<SyslogLine<'a>> {
    let (time, used) = if line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        parse_rfc3339(line)?
    } else {
        parse_syslog(line, year)?
    };
    let rest = line.get(used..)?.strip_prefix(' ')?;
    let sp = memchr::memchr(b' ', rest.as_bytes())?;
    let host = rest.get(..sp)?;
    let rest = rest.get(sp + 1..)?;
    let colon = find(rest, ": ").or_else(|| rest.strip_suffix(':').map(|r| r.len()))?;
    let tag = rest.get(..colon)?;
    let message = rest.get(colon + 2..).unwrap_or("");
    // RFC 3164 §4.1.3 TAG, optionally followed by `[pid]`.
    let program = match find_byte(tag, b'[') {
        Some(i) if tag.ends_with(']') => tag.get(..i)?,
        _ => tag,
    };
    Some(SyslogLine {
        time,
        host,
        program,
        message,
    })
}

/// The daemon name of a Postfix program tag, or `None` when the program is not Postfix
/// (`postfix/smtpd` -> `smtpd`; any `syslog_name` prefix with a `/` is accepted when the
/// last component is a Postfix daemon).
pub fn postfix_daemon(program: &str) -> Option<&str> {
    let slash = rfind_byte(program, b'/')?;
    let daemon = program.get(slash + 1..)?;
    is_daemon(daemon).then_some(daemon)
}

/// A Postfix daemon name (compiled to a dispatch on length and bytes, not a list scan).
fn is_daemon(d: &str) -> bool {
    matches!(
        d,
        "smtpd"
            | "postscreen"
            | "cleanup"
            | "qmgr"
            | "nqmgr"
            | "smtp"
            | "lmtp"
            | "local"
            | "virtual"
            | "pipe"
            | "bounce"
            | "defer"
            | "trace"
            | "error"
            | "retry"
            | "discard"
            | "pickup"
            | "anvil"
            | "scache"
            | "master"
            | "postsuper"
            | "postdrop"
            | "sendmail"
            | "postqueue"
            | "postmap"
            | "postalias"
            | "postfix-script"
            | "postfix"
            | "dnsblog"
            | "tlsmgr"
            | "tlsproxy"
            | "trivial-rewrite"
            | "verify"
            | "showq"
            | "flush"
            | "proxymap"
            | "postlogd"
            | "oqmgr"
            | "spawn"
            | "qmqpd"
            | "script"
            | "postconf"
            | "postlog"
            | "policyd-spf"
    )
}

/// The Postfix programs whose lines are read, as a list (the test keeps [`is_daemon`] in step).
#[cfg(test)]
const DAEMONS: &[&str] = &[
    "smtpd",
    "postscreen",
    "cleanup",
    "qmgr",
    "nqmgr",
    "smtp",
    "lmtp",
    "local",
    "virtual",
    "pipe",
    "bounce",
    "defer",
    "trace",
    "error",
    "retry",
    "discard",
    "pickup",
    "anvil",
    "scache",
    "master",
    "postsuper",
    "postdrop",
    "sendmail",
    "postqueue",
    "postmap",
    "postalias",
    "postfix-script",
    "postfix",
    "dnsblog",
    "tlsmgr",
    "tlsproxy",
    "trivial-rewrite",
    "verify",
    "showq",
    "flush",
    "proxymap",
    "postlogd",
    "oqmgr",
    "spawn",
    "qmqpd",
    "script",
    "postconf",
    "postlog",
    "policyd-spf",
];

/// Parses one Postfix log line.
pub fn parse_line<'a>(line: &'a str, year: &YearRef) -> Option<Record<'a>> {
    let sl = split_syslog(line, year)?;
    let event = match postfix_daemon(sl.program) {
        Some(daemon) => parse_message(daemon, sl.message)?,
        None => Event::Foreign,
    };
    Some(Record {
        time: Some(sl.time),
        source: Source::Postfix,
        event,
    })
}

/// Parses the message part of a Postfix line (what follows `postfix/DAEMON[PID]: `).
pub fn parse_message<'a>(daemon: &str, msg: &'a str) -> Option<Event<'a>> {
    if let Some((qid, rest)) = split_qid(msg) {
        return queued(daemon, qid, rest);
    }
    if let Some(rest) = msg.strip_prefix("NOQUEUE: ") {
        return noqueue(None, rest).map(|r| Event::Reject(Box::new(r)));
    }
    if let Some(rest) = msg.strip_prefix("warning: ") {
        return Some(warning(rest));
    }
    if daemon == "smtpd"
        && let Some(rest) = msg.strip_prefix("proxy-reject: ")
    {
        return Some(proxy_reject(rest));
    }
    INFO_PREFIXES.any_prefix_of(msg).then_some(Event::Other)
}

/// Literal prefixes, indexed by their first byte at compile time: a line is compared only with
/// the few prefixes that start like it, not with the whole list.
struct Prefixes {
    list: &'static [&'static str],
    /// Bit `i` of entry `c`: `list[i]` starts with byte `c`.
    by_first: [u128; 256],
}

impl Prefixes {
    const fn new(list: &'static [&'static str]) -> Prefixes {
        assert!(list.len() <= 128, "one bit per prefix");
        let mut by_first = [0u128; 256];
        let mut i = 0;
        while i < list.len() {
            // An empty prefix fails to compile here.
            let first = list[i].as_bytes()[0] as usize;
            by_first[first] |= 1 << i;
            i += 1;
        }
        Prefixes { list, by_first }
    }

    /// `s` starts with one of the prefixes.
    #[inline]
    fn any_prefix_of(&self, s: &str) -> bool {
        let Some(&first) = s.as_bytes().first() else {
            return false;
        };
        let mut mask = self.by_first.get(usize::from(first)).copied().unwrap_or(0);
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            if self.list.get(i).is_some_and(|p| s.starts_with(p)) {
                return true;
            }
            mask &= mask - 1;
        }
        false
    }
}

/// Messages without a queue ID that are understood and matter to no flow.
static INFO_PREFIXES: Prefixes = Prefixes::new(&[
    "connect from ",
    "disconnect from ",
    "lost connection after ",
    "timeout after ",
    "too many errors after ",
    "Anonymous TLS connection established",
    "Trusted TLS connection established",
    "Untrusted TLS connection established",
    "Verified TLS connection established",
    "SSL_accept error from ",
    "SSL_connect error to ",
    "improper command pipelining after ",
    "proxy-accept: ",
    "bare <LF> received",
    "discarding EHLO keywords",
    "setting up TLS connection",
    "TLS SNI ",
    "fatal: ",
    "panic: ",
    "error: ",
    "statistics: ",
    "cache ",
    "addr ",
    "CONNECT from ",
    "DISCONNECT ",
    "PASS OLD ",
    "PASS NEW ",
    "WHITELISTED ",
    "BLACKLISTED ",
    "ALLOWLISTED ",
    "DENYLISTED ",
    "WHITELIST VETO ",
    "ALLOWLIST VETO ",
    "PREGREET ",
    "DNSBL rank ",
    "HANGUP after ",
    "COMMAND TIME LIMIT ",
    "COMMAND COUNT LIMIT ",
    "COMMAND LENGTH LIMIT ",
    "NON-SMTP COMMAND ",
    "COMMAND PIPELINING ",
    "BARE NEWLINE ",
    "daemon started",
    "terminating on signal",
    "reload ",
    "reload configuration",
    "Deleted: ",
    "Requeued: ",
    "Placed on hold: ",
    "Released from hold: ",
    "connect to ",
    "certificate verification failed",
    "server certificate verification failed",
    "host ",
    "Host offered STARTTLS",
    "lost connection with ",
    "conversation with ",
    "refreshing the Postfix",
    "starting the Postfix",
    "stopping the Postfix",
    "Postfix is running",
    "using backwards-compatible",
    "Postfix is using backwards-compatible",
    "changing ",
    "dict_",
    "closing ",
    "requested ",
    "queue file size limit",
    "mail system configuration",
]);

/// `warning:` messages: SASL failures are counted; the rest is informational.
fn warning(rest: &str) -> Event<'_> {
    // smtpd: `warning: HOST[IP]: SASL LOGIN authentication failed: REASON[, sasl_username=USER]`
    if let Some(i) = find(rest, ": SASL ")
        && let Some((host, ip)) = rest.get(..i).and_then(host_ip)
    {
        let tail = rest.get(i + 7..).unwrap_or("");
        if let Some(j) = find(tail, " authentication failed") {
            let mechanism = tail.get(..j).filter(|m| !m.contains(' ')).map(b);
            let user = find(tail, "sasl_username=")
                .and_then(|k| tail.get(k + 14..))
                .map(|u| u.split([',', ' ']).next().unwrap_or(u))
                .filter(|u| !u.is_empty())
                .map(b);
            return Event::SaslFailure(Box::new(AuthFailure {
                client_ip: b(ip),
                client_host: host.map(b),
                user,
                mechanism,
                protocol: AuthProtocol::Smtp,
            }));
        }
    }
    Event::Other
}

/// `QID: ...` messages.
fn queued<'a>(daemon: &str, qid: &'a str, rest: &'a str) -> Option<Event<'a>> {
    let q = b(qid);
    if let Some(v) = rest.strip_prefix("client=") {
        return Some(Event::Received(Box::new(client(q, v))));
    }
    if let Some(v) = rest.strip_prefix("message-id=") {
        let id = v.trim_end();
        return Some(Event::MessageId {
            qid: q,
            message_id: b(unbracket(id)),
        });
    }
    if rest.starts_with("to=") {
        return delivery(daemon, q, rest).map(|d| Event::Delivery(Box::new(d)));
    }
    if let Some(v) = rest.strip_prefix("from=") {
        let (from, tail) = angle_value(v);
        // qmgr(8): `from=<sender>, status=expired, returned to sender`.
        if tail.starts_with(", status=expired") {
            return Some(Event::Expired { qid: q });
        }
        let size = kv_num(tail, "size=");
        let nrcpt = kv_num(tail, "nrcpt=").and_then(|n| u32::try_from(n).ok());
        return Some(Event::Sender {
            qid: q,
            from: b(from),
            size,
            nrcpt,
            local: false,
        });
    }
    if let Some(v) = rest.strip_prefix("uid=") {
        // pickup(8): `uid=1000 from=<user>` — a local submission.
        let from = find(v, "from=")
            .and_then(|i| v.get(i + 5..))
            .map(|f| angle_value(f).0)
            .unwrap_or("");
        return Some(Event::Sender {
            qid: q,
            from: b(from),
            size: None,
            nrcpt: None,
            local: true,
        });
    }
    if rest.starts_with("removed") {
        return Some(Event::Removed { qid: q });
    }
    if let Some(i) = find(rest, " notification: ") {
        // bounce(8): `sender non-delivery notification: NEWQID` (also `delay`, `delivery status`,
        // `postmaster`).
        let notice = rest.get(i + 15..).unwrap_or("").trim();
        if crate::scan::is_postfix_qid(notice) {
            return Some(Event::Notification {
                qid: q,
                notice_qid: b(notice),
            });
        }
        return Some(Event::Other);
    }
    for action in ["milter-reject", "reject", "discard"] {
        if let Some(v) = rest.strip_prefix(action).and_then(|v| v.strip_prefix(": ")) {
            // smtpd refusing one more recipient of an accepted message is a recipient
            // reject; cleanup (header/body checks, milters) refuses the whole message.
            let whole =
                daemon != "smtpd" || v.starts_with("END-OF-MESSAGE") || v.starts_with("DATA");
            if whole {
                let reason = v.split("; from=").next().unwrap_or(v);
                return Some(Event::MessageRejected {
                    qid: q,
                    action: b(action),
                    reason: b(reason),
                });
            }
            let mut r = noqueue(Some(q), rest)?;
            r.qid = Some(b(qid));
            return Some(Event::Reject(Box::new(r)));
        }
    }
    QUEUED_INFO.any_prefix_of(rest).then_some(Event::Other)
}

/// `QID: ...` messages that are understood and change nothing in a flow.
static QUEUED_INFO: Prefixes = Prefixes::new(&[
    "resent-message-id=",
    "warning: ",
    "info: ",
    "hold: ",
    "redirect: ",
    "filter: ",
    "prepend: ",
    "replace: ",
    "milter-",
    "host ",
    "lost connection with ",
    "conversation with ",
    "enabling PIX",
    "SASL authentication failed",
    "skipped, still being delivered",
    "requeued",
    "placed on hold",
    "released from hold",
    "expired",
    "enabling ",
    "Cannot start TLS",
    "TLS is required",
    "sender delay",
    "client=",
    "deferred",
    "defer",
    "connect to ",
    "delivery temporarily suspended",
    "cannot ",
    "Server certificate not ",
    "breaking line",
]);

/// smtpd `client=HOST[IP][:PORT][, sasl_method=M, sasl_username=U][, orig_queue_id=Q, orig_client=...]`.
fn client<'a>(qid: Text<'a>, v: &'a str) -> Received<'a> {
    let mut parts = split_on(v, ", ");
    let first = parts.next().unwrap_or(v);
    let (host, ip) = host_ip(first).unwrap_or((Some(first), ""));
    let mut r = Received {
        qid,
        client_host: host.map(b),
        client_ip: (!ip.is_empty()).then(|| b(ip)),
        ..Received::default()
    };
    for part in parts {
        if let Some(u) = part.strip_prefix("sasl_username=") {
            r.sasl_user = Some(b(u.trim_end()));
        } else if let Some(o) = part.strip_prefix("orig_queue_id=") {
            r.parent = Some(b(o.trim_end()));
        }
    }
    r
}

/// `<value>rest` -> (value, rest); an unbracketed value runs to the next `, `.
fn angle_value(v: &str) -> (&str, &str) {
    if let Some(inner) = v.strip_prefix('<')
        && let Some(end) = find_byte(inner, b'>')
    {
        return (
            inner.get(..end).unwrap_or(""),
            inner.get(end + 1..).unwrap_or(""),
        );
    }
    match find(v, ", ") {
        Some(i) => (v.get(..i).unwrap_or(v), v.get(i..).unwrap_or("")),
        None => (v.trim_end(), ""),
    }
}

/// A `key=NUMBER` anywhere in `s`.
fn kv_num(s: &str, key: &str) -> Option<u64> {
    let i = find(s, key)?;
    let tail = s.get(i + key.len()..)?;
    let end = tail
        .bytes()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(tail.len());
    tail.get(..end)?.parse().ok()
}

/// The delivery agents that hand mail to another host over SMTP or LMTP.
fn is_remote_relay(daemon: &str, relay: &str) -> bool {
    matches!(daemon, "smtp" | "lmtp")
        && relay != "none"
        && find(relay, "[private/").is_none()
        && find(relay, "[public/").is_none()
        && !relay.starts_with('/')
}

/// `to=<a>, [orig_to=<b>, ]relay=R, [conn_use=N, ]delay=D, delays=a/b/c/d, [tls=..., ]dsn=X, status=S (text)`.
fn delivery<'a>(daemon: &str, qid: Text<'a>, rest: &'a str) -> Option<Delivery<'a>> {
    let mut d = Delivery {
        qid,
        to: b(""),
        orig_to: None,
        relay: None,
        relay_host: None,
        relay_ip: None,
        remote: false,
        status: Status::Other,
        delay: None,
        delays: None,
        dsn: None,
        response: None,
        queued_as: None,
        attempt: None,
    };
    // One pass over the `key=value, ` fields up to `status=`, the last one.
    let mut cursor = rest;
    let status_part = loop {
        let eq = find_byte(cursor, b'=')?;
        let key = cursor.get(..eq)?;
        let after = cursor.get(eq + 1..)?;
        if key == "status" {
            break after;
        }
        match find(after, ", ") {
            Some(i) => {
                delivery_field(&mut d, daemon, key, after.get(..i)?);
                cursor = after.get(i + 2..)?;
            }
            // The field before `status=` without its space (`dsn=5.0.0,status=bounced`).
            None => {
                let i = find(after, "status=")?;
                delivery_field(
                    &mut d,
                    daemon,
                    key,
                    after.get(..i)?.trim_end_matches([',', ' ']),
                );
                break after.get(i + 7..)?;
            }
        }
    };
    let word_end = status_part
        .bytes()
        .position(|c| c == b' ' || c == b',')
        .unwrap_or(status_part.len());
    let word = status_part.get(..word_end)?;
    d.status = match word {
        "sent" => Status::Sent,
        "deferred" | "SOFTBOUNCE" => Status::Deferred,
        "bounced" => Status::Bounced,
        "expired" => Status::Expired,
        _ => Status::Other,
    };
    let response = status_part
        .get(word_end..)
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix('('))
        .map(|r| r.trim_end().strip_suffix(')').unwrap_or(r));
    if let Some(r) = response {
        d.queued_as = queued_as(r).map(b);
    }
    d.response = response.map(b);
    Some(d)
}

/// One `key=value` field of a delivery line.
fn delivery_field<'a>(d: &mut Delivery<'a>, daemon: &str, key: &str, value: &'a str) {
    match key {
        "to" => d.to = b(unbracket(value)),
        "orig_to" => d.orig_to = Some(b(unbracket(value))),
        "relay" => {
            d.relay = Some(b(value));
            if let Some((host, ip)) = host_ip(value) {
                d.relay_host = host.map(b);
                if !ip.starts_with("private/") && !ip.starts_with("public/") {
                    d.relay_ip = Some(b(ip));
                }
            } else {
                d.relay_host = Some(b(value));
            }
            d.remote = is_remote_relay(daemon, value);
        }
        "delay" => d.delay = parse_f64(value),
        "delays" => d.delays = delays(value),
        "dsn" => d.dsn = Some(b(value)),
        _ => {}
    }
}

/// The queue ID in `250 2.0.0 Ok: queued as ABC123` (smtp hand-off) or `forwarded as ABC123`
/// (local(8) alias forwarding).
fn queued_as(response: &str) -> Option<&str> {
    let i = find(response, "queued as ")
        .map(|i| i + 10)
        .or_else(|| find(response, "forwarded as ").map(|i| i + 13))?;
    let tail = response.get(i..)?;
    let end = tail
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(tail.len());
    tail.get(..end).filter(|q| !q.is_empty())
}

/// `a/b/c/d` (Postfix ≥ 2.3): time before qmgr, in qmgr, connection setup, transmission.
fn delays(v: &str) -> Option<[f32; 4]> {
    let mut out = [0f32; 4];
    let mut rest = v;
    for slot in &mut out {
        let (part, tail) = match find_byte(rest, b'/') {
            Some(i) => (rest.get(..i)?, rest.get(i + 1..)?),
            None => (rest, ""),
        };
        *slot = parse_f32(part)?;
        rest = tail;
    }
    Some(out)
}

/// `digits[.digits]` as a mantissa and a power of ten, when small enough for the exact fast
/// path below.
fn decimal(s: &str, max_mantissa: u64, max_exp: usize) -> Option<(u64, usize)> {
    let (int, frac) = match find_byte(s, b'.') {
        Some(i) => (s.get(..i)?, s.get(i + 1..)?),
        None => (s, ""),
    };
    if int.is_empty() || int.len() + frac.len() > 19 || frac.len() > max_exp {
        return None;
    }
    let mut m: u64 = 0;
    for c in int.bytes().chain(frac.bytes()) {
        if !c.is_ascii_digit() {
            return None;
        }
        m = m * 10 + u64::from(c - b'0');
    }
    (m <= max_mantissa).then_some((m, frac.len()))
}

/// A delay such as `0.52`. Clinger's fast path: mantissa and power of ten are both exact in
/// an `f64` (below 2^53 and 10^22), so one division rounds correctly — the same value as
/// `str::parse`, which is the fallback for anything else.
fn parse_f64(s: &str) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    match decimal(s, (1 << 53) - 1, 22) {
        Some((m, e)) => POW10.get(e).map(|p| m as f64 / p),
        None => s.parse().ok(),
    }
}

/// [`parse_f64`] for an `f32` (exact below 2^24 and 10^10).
fn parse_f32(s: &str) -> Option<f32> {
    const POW10: [f32; 11] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];
    match decimal(s, (1 << 24) - 1, 10) {
        Some((m, e)) => POW10.get(e).map(|p| m as f32 / p),
        None => s.parse().ok(),
    }
}

/// `ACTION: STAGE from CLIENT: [CODE [DSN]] TEXT; from=<..> to=<..> proto=.. helo=<..>`
/// (smtpd, postscreen; the postscreen variant separates the key-values with `, `).
fn noqueue<'a>(qid: Option<Text<'a>>, rest: &'a str) -> Option<Reject<'a>> {
    let colon = find(rest, ": ")?;
    let action = rest.get(..colon)?;
    if action.contains(' ') {
        return None;
    }
    let rest = rest.get(colon + 2..)?;
    let from_at = find(rest, " from ")?;
    let stage = rest.get(..from_at)?;
    let rest = rest.get(from_at + 6..)?;
    let client_end = find(rest, ": ").unwrap_or(rest.len());
    let (host, ip) = host_ip(rest.get(..client_end)?)?;
    let text = rest.get(client_end + 2..).unwrap_or("");
    let (text, kv) = match rfind(text, "; from=<").or_else(|| rfind(text, "; to=<")) {
        Some(i) => (text.get(..i)?, text.get(i + 2..)?),
        None => (text, ""),
    };
    let (code, dsn, reason) = reply_code(text);
    Some(Reject {
        qid,
        action: b(action),
        stage: Some(b(stage)),
        client_host: host.map(b),
        client_ip: Some(b(ip)),
        code: code.map(b),
        dsn: dsn.map(b),
        reason: b(reason),
        from: kv_angle(kv, "from=<").map(b),
        to: kv_angle(kv, "to=<").map(b),
    })
}

/// smtpd `proxy-reject: STAGE: [CODE DSN] TEXT; from=<..> to=<..> ...` (before-queue filter).
fn proxy_reject(rest: &str) -> Event<'_> {
    let (stage, text) = rest.split_once(": ").unwrap_or((rest, ""));
    let (text, kv) = match rfind(text, "; from=<") {
        Some(i) => (text.get(..i).unwrap_or(""), text.get(i + 2..).unwrap_or("")),
        None => (text, ""),
    };
    let (code, dsn, reason) = reply_code(text.trim_start_matches(';').trim());
    Event::Reject(Box::new(Reject {
        action: b("proxy-reject"),
        stage: Some(b(stage)),
        code: code.map(b),
        dsn: dsn.map(b),
        reason: b(reason),
        from: kv_angle(kv, "from=<").map(b),
        to: kv_angle(kv, "to=<").map(b),
        ..Reject::default()
    }))
}

fn kv_angle<'a>(kv: &'a str, key: &str) -> Option<&'a str> {
    let i = find(kv, key)?;
    let tail = kv.get(i + key.len()..)?;
    tail.get(..find_byte(tail, b'>')?)
}

/// Normalises a reject text into a reason to count by: the address prefix dropped, and DNSBL
/// hits grouped by list (`blocked using zen.spamhaus.org`).
pub fn reason_key(reason: &str) -> &str {
    if let Some(i) = find(reason, "blocked using ") {
        let tail = reason.get(i..).unwrap_or(reason);
        return tail.split([';', ',']).next().unwrap_or(tail);
    }
    let r = match reason
        .strip_prefix('<')
        .and_then(|r| find(r, ">: ").and_then(|i| r.get(i + 3..)))
    {
        Some(r) => r,
        None => reason,
    };
    r.trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    fn yr() -> YearRef {
        YearRef::new(Timestamp::from_civil(2026, 6, 1, 0, 0, 0, 0).unwrap_or_default())
    }

    fn ev(line: &str) -> Option<Event<'_>> {
        parse_line(line, &yr()).map(|r| r.event)
    }

    fn delivery_of(line: &str) -> Box<Delivery<'_>> {
        match ev(line) {
            Some(Event::Delivery(d)) => d,
            e => panic!("not a delivery: {e:?}"),
        }
    }

    #[test]
    fn smtp_handoff_names_the_next_queue_id() {
        let d = delivery_of(
            "Jan 10 10:00:00 mx postfix/smtp[1]: 7EE668039: to=<admin@example.com>, relay=127.0.0.1[127.0.0.1]:10025, delay=3.6, delays=0.2/0.02/0.04/3.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 153053D)",
        );
        assert_eq!(d.to, "admin@example.com");
        assert_eq!(d.relay_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(d.queued_as.as_deref(), Some("153053D"));
        assert_eq!(d.delays, Some([0.2, 0.02, 0.04, 3.3]));
        assert!(d.remote);
        assert_eq!(d.status, Status::Sent);
    }

    #[test]
    fn delivery_fields_end_at_the_status_field() {
        // An address may contain `status=`; only the field of that name ends the list.
        let d = delivery_of(
            "Jan 10 10:00:00 mx postfix/smtp[1]: 7EE668039: to=<status=x@example.com>, relay=mx.example.com[192.0.2.9]:25, delay=1, delays=0.5/0/0.25/0.25, dsn=4.4.1, status=deferred (connect timed out)",
        );
        assert_eq!(d.to, "status=x@example.com");
        assert_eq!(d.relay_ip.as_deref(), Some("192.0.2.9"));
        assert_eq!(d.status, Status::Deferred);
        assert_eq!(d.response.as_deref(), Some("connect timed out"));
        // A field glued to `status=` without its space still counts.
        let d = delivery_of(
            "Jan 10 10:00:00 mx postfix/smtp[1]: 7EE668039: to=<a@example.com>, relay=none, delay=1, dsn=5.4.4,status=bounced (Host not found)",
        );
        assert_eq!(
            (d.dsn.as_deref(), d.status),
            (Some("5.4.4"), Status::Bounced)
        );
        // No status at all: not a delivery.
        assert!(!matches!(
            ev(
                "Jan 10 10:00:00 mx postfix/smtp[1]: 7EE668039: to=<a@example.com>, relay=none, delay=1"
            ),
            Some(Event::Delivery(_))
        ));
        assert_eq!(delays("1/2/3.5/0.25/9"), Some([1.0, 2.0, 3.5, 0.25]));
        assert_eq!(delays("1/2/3"), None);
    }

    #[test]
    fn local_delivery_is_not_remote() {
        let d = delivery_of(
            "Jan 10 10:00:00 mx postfix/virtual[1]: B657F2DB195D: to=<postmaster@example.com>, relay=virtual, delay=0.52, delays=0.51/0.01/0/0, dsn=2.0.0, status=sent (delivered to maildir)",
        );
        assert!(!d.remote);
        let d = delivery_of(
            "Jan 10 10:00:00 mx postfix/lmtp[1]: AD6E41CDC05C: to=<admin@example.com>, relay=sub1.example.com[private/dovecot-lmtp], delay=0.15, delays=0.04/0/0.02/0.08, dsn=2.0.0, status=sent (250 2.0.0 Saved)",
        );
        assert!(!d.remote, "LMTP over a local socket is a local delivery");
        assert_eq!(d.relay_ip, None);
    }

    #[test]
    fn noqueue_reject_fields() {
        let e = ev(
            "Jan 10 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.7]: 554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org; https://x; from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<x>",
        );
        let Some(Event::Reject(r)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(r.client_ip.as_deref(), Some("192.0.2.7"));
        assert_eq!(r.code.as_deref(), Some("554"));
        assert_eq!(r.to.as_deref(), Some("c@d.example"));
        assert_eq!(reason_key(&r.reason), "blocked using zen.spamhaus.org");
    }

    #[test]
    fn sasl_failure_with_user() {
        let e = ev(
            "Jan 10 10:00:00 mx postfix/submission/smtpd[1]: warning: unknown[203.0.113.9]: SASL PLAIN authentication failed: authentication failure, sasl_username=bob@example.test",
        );
        assert_eq!(
            e,
            Some(Event::SaslFailure(Box::new(AuthFailure {
                client_ip: b("203.0.113.9"),
                client_host: Some(b("unknown")),
                user: Some(b("bob@example.test")),
                mechanism: Some(b("PLAIN")),
                protocol: AuthProtocol::Smtp
            })))
        );
    }

    #[test]
    fn other_programs_are_foreign_and_junk_is_unparsed() {
        assert_eq!(
            ev("Jan 10 10:00:00 mx dovecot: imap-login: Login: user=<u>"),
            Some(Event::Foreign)
        );
        assert_eq!(
            ev("Jan 10 10:00:00 mx postfix/smtpd[1]: something new and strange"),
            None
        );
        assert_eq!(ev("not a log line"), None);
    }

    #[test]
    fn fast_decimals_equal_the_standard_parse() {
        for s in [
            "0",
            "0.0",
            "0.1",
            "0.2",
            "0.52",
            "3.3",
            "1.71",
            "300",
            "3098",
            "0.01",
            "12345.678",
            "16777215",
            "16777217",
            "9007199254740993",
            "0.1234567890123",
            "1e5",
            "",
            ".5",
            "5.",
            "-1",
            "1.2.3",
            "0.30000000000000004",
        ] {
            assert_eq!(
                parse_f64(s).map(f64::to_bits),
                s.parse::<f64>().ok().map(f64::to_bits),
                "{s}"
            );
            assert_eq!(
                parse_f32(s).map(f32::to_bits),
                s.parse::<f32>().ok().map(f32::to_bits),
                "{s}"
            );
        }
        for n in 0..20_000u32 {
            let s = format!("{}.{:02}", n / 100, n % 100);
            assert_eq!(parse_f32(&s), s.parse::<f32>().ok(), "{s}");
            assert_eq!(parse_f64(&s), s.parse::<f64>().ok(), "{s}");
        }
        assert!(is_daemon("smtpd") && is_daemon("policyd-spf") && !is_daemon("dovecot"));
        assert!(DAEMONS.iter().all(|d| is_daemon(d)));
    }

    #[test]
    fn rfc3339_stamps_are_read() {
        let r = parse_line(
            "2026-03-01T10:00:00.5+01:00 mx postfix/qmgr[9]: 0F5383D: removed",
            &yr(),
        );
        assert_eq!(
            r.and_then(|r| r.time).map(|t| t.to_string()),
            Some("2026-03-01T09:00:00.500000Z".into())
        );
    }
}
