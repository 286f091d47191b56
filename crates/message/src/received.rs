//! The `Received:` trace header (RFC 5321 §4.4, RFC 5322 §3.6.7): model, parser, writer.
//!
//! One grammar serves the MTA that writes the header ([`Received::to_header_value`]) and
//! the tracer that reads it ([`Received::parse`]).
//!
//! Reading rules (where MTAs disagree, this is what the fields mean):
//! - `from_host` is the HELO/EHLO name. It is the word after `from` (RFC 5321 §4.4), except
//!   when a comment states the HELO separately — qmail/qpsmtpd/GMX `(HELO x)`, Exim and
//!   ecelerity `helo=x`, smap `claiming to be "x"` — where the word after `from` is the
//!   client's reverse-DNS name (`from_rdns`), or for Exim's `from user (helo=x)` a local
//!   sender (dropped). Address literals stay as written (`[192.0.2.1]`).
//! - `from_rdns` is the name in the first comment after `from` (`(rdns [ip])`, Postfix
//!   `unknown[ip]`, Sendmail `ident@rdns [ip]`), without a trailing dot; `unknown` is none.
//! - `from_ip` is the address from the `from` clause's comments or words (`[ip]`, `(ip)`,
//!   `ident@ip`, `[ip]:port`), else the `from` word itself when it is an address. `by_ip`
//!   likewise from the `by` clause. Addresses are never read from `id`, `with`, `via` or
//!   `for`, nor from version strings (a comment must be exactly an address to count).
//! - `protocol` is the `with` value as written (`esmtpsa`, `Microsoft SMTP Server`); see
//!   [`Received::protocol_normalized`] for the registered type.

mod comment;
mod ip;
mod parse;
mod protocol;
mod token;
mod write;

use serde::Serialize;
use std::net::IpAddr;

/// TLS details stated in a `Received:` header, e.g. Postfix's
/// `(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReceivedTls {
    /// Protocol version as written (`TLSv1.3`, `TLS1_2`, ...), if stated.
    pub version: Option<String>,
    /// Cipher suite as written, if stated.
    pub cipher: Option<String>,
}

/// Evidence that the hop was an authenticated submission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReceivedAuth {
    /// Which form said so: `ESMTPA`, `ESMTPSA`, `LMTPA`, `authenticated-sender`,
    /// `Authenticated sender`, `auth-id`, ...
    pub evidence: String,
    /// The authenticated identity when the header names it.
    pub user: Option<String>,
}

/// One parsed `Received:` header. Parsing never fails: what cannot be understood leaves
/// fields `None` and sets `parse_error`, and `raw` always keeps the original value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Received {
    /// The HELO/EHLO name the client gave (the `from` domain, RFC 5321 §4.4).
    pub from_host: Option<String>,
    /// The reverse-DNS name of the client, from the TCP-info comment.
    pub from_rdns: Option<String>,
    /// The client's IP address, from the TCP-info comment or an address literal.
    pub from_ip: Option<IpAddr>,
    /// The receiving host (`by` clause).
    pub by_host: Option<String>,
    /// The receiving host's IP, when the `by` clause states one.
    pub by_ip: Option<IpAddr>,
    /// `via` clause (e.g. `Frontend Transport`).
    pub via: Option<String>,
    /// The `with` protocol word (`ESMTPS`, `SMTP`, `HTTP`, `Microsoft SMTP Server`, ...).
    pub protocol: Option<String>,
    /// The `id` clause (queue ID).
    pub id: Option<String>,
    /// The `for` clause: the recipient address, without angle brackets.
    pub for_addr: Option<String>,
    /// TLS version/cipher when stated.
    pub tls: Option<ReceivedTls>,
    /// Authenticated submission evidence when stated.
    pub authenticated: Option<ReceivedAuth>,
    /// The date-time after `;`, as seconds since the Unix epoch (UTC).
    pub timestamp: Option<i64>,
    /// The timestamp's zone offset in minutes east of UTC, as written.
    pub tz_offset_minutes: Option<i32>,
    /// Why the header (or part of it) could not be parsed.
    pub parse_error: Option<String>,
    /// The header value as it appeared (unfolded is not applied).
    pub raw: String,
}

impl Received {
    /// Parses one `Received:` value (the text after `Received:`; a leading field name is
    /// tolerated). Never panics and never fails: what cannot be read stays `None`,
    /// `parse_error` says why in a short sentence, and `raw` keeps the input.
    pub fn parse(raw: &str) -> Received {
        parse::parse(raw)
    }

    /// Writes this hop as a Postfix-style value (RFC 5321 §4.4), folded with CRLF + TAB, e.g.
    /// `from helo (rdns [ip])\r\n\t(using ...)\r\n\tby host (mailward) with ESMTPSA id X\r\n\tfor <rcpt>; date`.
    /// Client-supplied text is cleaned so it cannot add structure to the header.
    /// [`Received::parse`] reads the result back to the same fields.
    pub fn to_header_value(&self) -> String {
        write::write(self)
    }

    /// The registered mail transmission type of the `with` value (RFC 3848, RFC 6531):
    /// `esmtpsa` → `ESMTPSA`, `local-esmtps` → `ESMTPS`, `Microsoft SMTP Server` → `SMTP`,
    /// `ESMTP-TLS` → `ESMTPS`, `local` → `Local`; `None` when unknown.
    pub fn protocol_normalized(&self) -> Option<&'static str> {
        self.protocol.as_deref().and_then(protocol::normalize)
    }
}
