//! The `Received:` trace header (RFC 5321 §4.4, RFC 5322 §3.6.7): model, parser, writer.

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
