//! The EHLO reply (RFC 5321 §4.1.1.1): a multi-line `250` whose first line greets the
//! client and whose other lines name the service extensions offered (§2.2.2).

use super::Reply;
use std::fmt;
use std::net::IpAddr;

/// A service extension named in the EHLO reply, with the RFC section defining its keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension {
    /// RFC 2920 §2: `PIPELINING`.
    Pipelining,
    /// RFC 1870 §3, §4: `SIZE` with the fixed maximum message size in octets.
    Size(usize),
    /// RFC 6152 §2: `8BITMIME`.
    EightBitMime,
    /// RFC 6531 §3.1: `SMTPUTF8`.
    SmtpUtf8,
    /// RFC 2034 §2: `ENHANCEDSTATUSCODES`.
    EnhancedStatusCodes,
    /// RFC 3030 §2: `CHUNKING` (BDAT).
    Chunking,
    /// RFC 3207 §2, §3: `STARTTLS`, only before TLS (§4.2).
    StartTls,
    /// RFC 4954 §3: `AUTH` with the space-separated SASL mechanisms offered.
    Auth(&'static [&'static str]),
    /// RFC 3461 §2: `DSN`.
    Dsn,
    /// RFC 8689 §2: `REQUIRETLS`, offered only over TLS.
    RequireTls,
}

impl fmt::Display for Extension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Extension::Pipelining => f.write_str("PIPELINING"),
            Extension::Size(n) => write!(f, "SIZE {n}"),
            Extension::EightBitMime => f.write_str("8BITMIME"),
            Extension::SmtpUtf8 => f.write_str("SMTPUTF8"),
            Extension::EnhancedStatusCodes => f.write_str("ENHANCEDSTATUSCODES"),
            Extension::Chunking => f.write_str("CHUNKING"),
            Extension::StartTls => f.write_str("STARTTLS"),
            Extension::Auth(mechanisms) => write!(f, "AUTH {}", mechanisms.join(" ")),
            Extension::Dsn => f.write_str("DSN"),
            Extension::RequireTls => f.write_str("REQUIRETLS"),
        }
    }
}

impl Reply {
    /// RFC 5321 §4.1.1.1: `250-<server> Hello <client> [<ip>]`, then one line per
    /// extension, the last as `250 ` (§4.2.1). RFC 2034 §3: no enhanced codes on the EHLO
    /// reply. `client` is the EHLO argument as the session cleaned it.
    pub fn ehlo(hostname: &str, client: &str, ip: IpAddr, extensions: &[Extension]) -> Reply {
        let first = format!("{hostname} Hello {client} [{ip}]");
        extensions.iter().fold(
            Reply::new(const { super::catalogue::code(250) }, None, first),
            |reply, ext| reply.with_line(ext.to_string()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::Code;

    #[test]
    fn ehlo_is_multi_line_with_the_last_line_marked() {
        let r = Reply::ehlo(
            "mx.test",
            "c.test",
            "192.0.2.1".parse().unwrap(),
            &[
                Extension::Pipelining,
                Extension::Size(1000),
                Extension::Auth(&["PLAIN", "LOGIN"]),
                Extension::Dsn,
            ],
        );
        assert_eq!(
            String::from_utf8(r.to_bytes()).unwrap(),
            "250-mx.test Hello c.test [192.0.2.1]\r\n250-PIPELINING\r\n250-SIZE 1000\r\n\
             250-AUTH PLAIN LOGIN\r\n250 DSN\r\n"
        );
        assert_eq!(r.code(), Code::new(250).unwrap());
        assert!(r.enhanced().is_none());
    }

    #[test]
    fn ehlo_without_extensions_is_one_line() {
        let r = Reply::ehlo("mx.test", "c", "::1".parse().unwrap(), &[]);
        assert_eq!(r.to_bytes(), b"250 mx.test Hello c [::1]\r\n");
    }
}
