//! Writing a `Received:` value the way Postfix does (RFC 5321 §4.4 `Stamp`).
//!
//! ```text
//! from helo.example (rdns.example [192.0.2.1])
//!     (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))
//!     (Authenticated sender: alice@example.test)
//!     by mx.example.test (mailward) with ESMTPSA id 4XgK2B1Zq9
//!     for <bob@example.test>; Sun, 22 Nov 2026 18:43:50 +0000
//! ```
//! (each continuation line starts with a TAB). Lines are folded with CRLF + TAB (RFC 5322 §2.2.3). Every value is cleaned first: the
//! HELO name and addresses come from the client, and a CR, LF, `(`, `)` or `;` in them must
//! not forge structure in our own header.

use super::Received;
use crate::datetime;
use std::fmt::Write as _;
use std::net::IpAddr;

const FOLD: &str = "\r\n\t";

/// The product comment after the `by` domain.
const PRODUCT: &str = "mailward";

pub(super) fn write(r: &Received) -> String {
    let mut out = String::with_capacity(256);
    let has_tcp_info = r.from_rdns.is_some() || r.from_ip.is_some();
    if r.from_host.is_some() || has_tcp_info {
        out.push_str("from");
        if let Some(h) = &r.from_host {
            out.push(' ');
            push_host(&mut out, h);
        }
        if has_tcp_info {
            // RFC 5321 §4.4 TCP-info; Postfix writes `unknown` for a missing name.
            out.push_str(" (");
            match &r.from_rdns {
                Some(n) if !super::comment::is_cue_word(n) => push_inner(&mut out, n),
                _ => out.push_str("unknown"),
            }
            if let Some(ip) = r.from_ip {
                out.push(' ');
                push_literal(&mut out, ip);
            }
            out.push(')');
        }
    }
    if let Some(tls) = &r.tls {
        sep(&mut out);
        match (&tls.version, &tls.cipher) {
            (Some(v), Some(c)) => {
                out.push_str("(using ");
                push_inner(&mut out, v);
                out.push_str(" with cipher ");
                push_inner(&mut out, c);
                if let Some(bits) = cipher_bits(c) {
                    let _ = write!(out, " ({bits}/{bits} bits)");
                }
                out.push(')');
            }
            (Some(v), None) => {
                out.push_str("(using ");
                push_inner(&mut out, v);
                out.push(')');
            }
            (None, Some(c)) => {
                out.push_str("(cipher=");
                push_inner(&mut out, c);
                out.push(')');
            }
            (None, None) => out.push_str("(TLS)"),
        }
    }
    if let Some(auth) = &r.authenticated {
        match &auth.user {
            Some(u) => {
                sep(&mut out);
                out.push_str("(Authenticated sender: ");
                push_inner(&mut out, u);
                out.push(')');
            }
            None if !r
                .protocol_normalized()
                .is_some_and(super::protocol::authenticated) =>
            {
                sep(&mut out);
                out.push_str("(authenticated)");
            }
            None => {}
        }
    }
    if let Some(by) = &r.by_host {
        sep(&mut out);
        out.push_str("by ");
        push_host(&mut out, by);
        if let Some(ip) = r.by_ip {
            out.push_str(" (");
            push_literal(&mut out, ip);
            out.push(')');
        }
        out.push_str(" (");
        out.push_str(PRODUCT);
        out.push(')');
    } else if let Some(ip) = r.by_ip {
        // No name: the address literal is the By-domain (RFC 5321 §4.4).
        sep(&mut out);
        out.push_str("by ");
        push_literal(&mut out, ip);
    }
    if let Some(via) = &r.via {
        sep(&mut out);
        out.push_str("via ");
        push_clean(&mut out, via, true);
    }
    if let Some(p) = &r.protocol {
        sep(&mut out);
        out.push_str("with ");
        push_clean(&mut out, p, true);
    }
    if let Some(id) = &r.id {
        sep(&mut out);
        out.push_str("id ");
        push_clean(&mut out, id, false);
    }
    if let Some(rcpt) = &r.for_addr {
        // Postfix starts the `for` clause on its own line.
        if !out.is_empty() {
            out.push_str(FOLD);
        }
        out.push_str("for <");
        push_inner(&mut out, rcpt);
        out.push('>');
    }
    if let Some(t) = r.timestamp {
        out.push_str("; ");
        out.push_str(&datetime::format_rfc5322(
            t,
            r.tz_offset_minutes.unwrap_or(0),
        ));
    }
    out
}

/// Separator before a clause: a fold before comments and `by`, a space otherwise.
fn sep(out: &mut String) {
    if out.is_empty() {
        return;
    }
    let last_line = out.rsplit("\r\n").next().unwrap_or("");
    if last_line.starts_with("\tby ") || last_line.starts_with("by ") {
        out.push(' ');
    } else {
        out.push_str(FOLD);
    }
}

/// `[192.0.2.1]` or `[IPv6:2001:db8::1]` (RFC 5321 §4.1.3). An IPv4-mapped address
/// (RFC 4291 §2.5.5.2) is written as the IPv4 literal, as the reader reads it.
fn push_literal(out: &mut String, ip: IpAddr) {
    let _ = match ip.to_canonical() {
        IpAddr::V4(v4) => write!(out, "[{v4}]"),
        IpAddr::V6(v6) => write!(out, "[IPv6:{v6}]"),
    };
}

/// A host: a well-formed address literal (`[192.0.2.1]`) is kept, anything else cleaned.
fn push_host(out: &mut String, h: &str) {
    let literal = h
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .is_some_and(|x| {
            !x.is_empty()
                && x.bytes().all(|b| {
                    b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'I' | b'P' | b'v' | b'6')
                })
        });
    if literal {
        out.push_str(h);
    } else {
        push_clean(out, h, false);
    }
}

/// Appends `s` with the characters that would change the header's structure replaced by
/// `?`, and white space kept only (as single spaces) where `spaces` allows it. A word that
/// is a clause keyword (`from`, `by`, ... RFC 5321 §4.4) gets a `?` in front so it cannot
/// open a clause.
fn push_clean(out: &mut String, s: &str, spaces: bool) {
    push_text(out, s, spaces, true);
}

/// [`push_clean`] for text inside a comment or `<...>`, where keywords are harmless.
fn push_inner(out: &mut String, s: &str) {
    push_text(out, s, false, false);
}

fn push_text(out: &mut String, s: &str, spaces: bool, guard_keywords: bool) {
    let mut at_word_start = true;
    let mut last_space = false;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if spaces && !last_space {
                out.push(' ');
                at_word_start = true;
            } else if !spaces {
                out.push('_');
            }
            last_space = true;
            continue;
        }
        if at_word_start {
            let word = s.get(i..).unwrap_or("");
            let word = word.split(char::is_whitespace).next().unwrap_or("");
            if guard_keywords && is_keyword(word) {
                out.push('?');
            }
            at_word_start = false;
        }
        last_space = false;
        if c.is_control()
            || matches!(
                c,
                '(' | ')' | ';' | '\\' | '<' | '>' | '"' | '[' | ']' | ','
            )
        {
            out.push('?');
        } else {
            out.push(c);
        }
    }
}

fn is_keyword(w: &str) -> bool {
    ["from", "by", "via", "with", "id", "for"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
}

/// Postfix states `(256/256 bits)`; the key size is in the cipher suite's name.
fn cipher_bits(cipher: &str) -> Option<u32> {
    let c = cipher.to_ascii_uppercase();
    if c.contains("AES_256") || c.contains("AES256") || c.contains("CHACHA20") {
        Some(256)
    } else if c.contains("AES_128") || c.contains("AES128") {
        Some(128)
    } else {
        None
    }
}
