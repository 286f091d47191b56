//! Our `Received:` header (RFC 5321 §4.4 `Stamp`, RFC 5322 §3.6.7), in the shape Postfix
//! writes so `mailward trace` and other tools read it:
//!
//! ```text
//! Received: from helo.example (unknown [192.0.2.1])
//!     (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))
//!     (Authenticated sender: alice@example.test)
//!     by mx.example.test (mailward) with ESMTPSA id 4XgK2B1Zq9mT7a
//!     for <bob@example.test>; Sat, 22 Nov 2026 18:43:50 +0000
//! ```
//!
//! The text itself comes from [`mailward_message::Received::to_header_value`], the same
//! grammar `mailward trace` parses with [`mailward_message::Received::parse`]: this module
//! only maps the session's facts onto that model.

use mailward_message::{Received, ReceivedAuth, ReceivedTls};
use std::net::IpAddr;

/// Client-supplied words are cut to this many characters before they go into the header,
/// so a long HELO cannot push a header line past RFC 5322 §2.1.1's 998 octets.
const MAX_CLIENT_WORD: usize = 255;

/// What goes into the header.
#[derive(Debug, Clone)]
pub struct ReceivedInfo<'a> {
    pub helo: &'a str,
    /// The client's reverse-DNS name, when it was looked up and confirmed; `None` is
    /// written as Postfix's `unknown`.
    pub rdns: Option<&'a str>,
    pub remote_ip: IpAddr,
    pub tls_version: Option<&'a str>,
    pub tls_cipher: Option<&'a str>,
    pub auth_user: Option<&'a str>,
    pub by_host: &'a str,
    /// RFC 3848 protocol word: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA.
    pub protocol: &'a str,
    pub queue_id: &'a str,
    /// The recipient, written only when there is exactly one (RFC 5321 §7.2 privacy).
    pub for_rcpt: Option<&'a str>,
    /// Seconds since the epoch.
    pub timestamp: i64,
}

/// RFC 3848 §2: the `with` keyword for a session.
pub fn protocol_word(esmtp: bool, tls: bool, auth: bool) -> &'static str {
    match (esmtp, tls, auth) {
        (false, _, _) => "SMTP",
        (true, false, false) => "ESMTP",
        (true, true, false) => "ESMTPS",
        (true, false, true) => "ESMTPA",
        (true, true, true) => "ESMTPSA",
    }
}

fn cut(s: &str) -> String {
    s.chars().take(MAX_CLIENT_WORD).collect()
}

/// The session's facts as the shared `Received` model.
pub fn model(info: &ReceivedInfo<'_>) -> Received {
    let tls = (info.tls_version.is_some() || info.tls_cipher.is_some()).then(|| ReceivedTls {
        version: info.tls_version.map(str::to_string),
        cipher: info.tls_cipher.map(str::to_string),
    });
    let authenticated = info.auth_user.map(|u| ReceivedAuth {
        evidence: "Authenticated sender".to_string(),
        user: Some(cut(u)),
    });
    Received {
        from_host: Some(cut(info.helo)),
        from_rdns: info.rdns.map(cut),
        from_ip: Some(info.remote_ip),
        by_host: Some(info.by_host.to_string()),
        protocol: Some(info.protocol.to_string()),
        id: Some(info.queue_id.to_string()),
        for_addr: info.for_rcpt.map(cut),
        tls,
        authenticated,
        timestamp: Some(info.timestamp),
        tz_offset_minutes: Some(0),
        ..Received::default()
    }
}

/// The length of the first header field of `message` with its folded continuation lines
/// (RFC 5322 §2.2.3): our `Received:` at the start of a spool file.
pub fn field_len(message: &[u8]) -> usize {
    let mut at = 0;
    while let Some(nl) = message
        .get(at..)
        .and_then(|rest| memchr::memchr(b'\n', rest))
    {
        at += nl + 1;
        if !matches!(message.get(at), Some(b' ' | b'\t')) {
            return at;
        }
    }
    message.len()
}

/// The full header field, folded, ending in CRLF.
pub fn header(info: &ReceivedInfo<'_>) -> String {
    let value = model(info).to_header_value();
    let mut h = String::with_capacity(value.len() + 12);
    h.push_str("Received: ");
    h.push_str(&value);
    h.push_str("\r\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_len_takes_the_folded_lines() {
        let m = b"Received: from a\r\n\tby b; date\r\nSubject: x\r\n\r\nbody";
        assert_eq!(field_len(m), 31);
        assert_eq!(field_len(b"Received: x"), 11);
    }

    fn full() -> ReceivedInfo<'static> {
        ReceivedInfo {
            helo: "client.example",
            rdns: None,
            remote_ip: "192.0.2.1".parse().unwrap(),
            tls_version: Some("TLSv1.3"),
            tls_cipher: Some("TLS_AES_256_GCM_SHA384"),
            auth_user: Some("alice@example.test"),
            by_host: "mx.example.test",
            protocol: "ESMTPSA",
            queue_id: "ABC123",
            for_rcpt: Some("bob@example.test"),
            timestamp: 1_795_286_630,
        }
    }

    #[test]
    fn postfix_shaped_header_with_tls_and_auth() {
        let h = header(&full());
        assert!(h.starts_with("Received: from client.example (unknown [192.0.2.1])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\t(Authenticated sender: alice@example.test)\r\n\tby mx.example.test (mailward) with ESMTPSA id ABC123\r\n\tfor <bob@example.test>; "), "{h}");
        assert!(h.ends_with(" +0000\r\n"), "{h}");
    }

    /// The MTA and the tracer share one grammar: what the server writes, `trace` reads back.
    #[test]
    fn trace_parser_reads_back_what_the_server_writes() {
        for rdns in [None, Some("client.rdns.example")] {
            let info = ReceivedInfo { rdns, ..full() };
            let h = header(&info);
            let value = h
                .strip_prefix("Received: ")
                .and_then(|v| v.strip_suffix("\r\n"))
                .unwrap();
            let r = Received::parse(value);
            assert_eq!(r.parse_error, None, "{h}");
            assert_eq!(r.from_host.as_deref(), Some("client.example"));
            assert_eq!(r.from_rdns.as_deref(), rdns);
            assert_eq!(r.from_ip, Some(info.remote_ip));
            assert_eq!(r.by_host.as_deref(), Some("mx.example.test"));
            assert_eq!(r.protocol.as_deref(), Some("ESMTPSA"));
            assert_eq!(r.id.as_deref(), Some("ABC123"));
            assert_eq!(r.for_addr.as_deref(), Some("bob@example.test"));
            let tls = r.tls.unwrap();
            assert_eq!(tls.version.as_deref(), Some("TLSv1.3"));
            assert_eq!(tls.cipher.as_deref(), Some("TLS_AES_256_GCM_SHA384"));
            assert_eq!(
                r.authenticated.and_then(|a| a.user).as_deref(),
                Some("alice@example.test")
            );
            assert_eq!(r.timestamp, Some(1_795_286_630));
        }
        // A plain session: no TLS, no auth, no `for` (several recipients), IPv6 client.
        let plain = ReceivedInfo {
            remote_ip: "2001:db8::7".parse().unwrap(),
            tls_version: None,
            tls_cipher: None,
            auth_user: None,
            protocol: "ESMTP",
            for_rcpt: None,
            ..full()
        };
        let h = header(&plain);
        let r = Received::parse(h.trim_start_matches("Received: ").trim_end());
        assert_eq!(r.from_ip, Some(plain.remote_ip), "{h}");
        assert_eq!(r.protocol.as_deref(), Some("ESMTP"));
        assert_eq!((r.tls, r.authenticated, r.for_addr), (None, None, None));
    }

    #[test]
    fn client_text_cannot_break_the_header() {
        let long = "h".repeat(5000);
        for helo in [
            "evil\r\nBcc: x (y)",
            "a;b) by forged.example",
            long.as_str(),
        ] {
            let info = ReceivedInfo {
                helo,
                remote_ip: "::1".parse().unwrap(),
                tls_version: None,
                tls_cipher: None,
                auth_user: Some("u\r\nX-Injected: 1"),
                for_rcpt: None,
                ..full()
            };
            let h = header(&info);
            assert!(!h.contains("\nX-Injected") && !h.contains("\nBcc"), "{h}");
            assert!(h.split("\r\n").all(|l| l.len() <= 998), "{h}");
            assert!(h.contains("[IPv6:::1]"));
            let r = Received::parse(h.trim_start_matches("Received: ").trim_end());
            assert_eq!(r.by_host.as_deref(), Some("mx.example.test"), "{h}");
            assert_eq!(r.id.as_deref(), Some("ABC123"), "{h}");
        }
    }
}
