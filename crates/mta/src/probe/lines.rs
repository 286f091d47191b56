//! A server's reply as a person should see it: the code, the enhanced status when given,
//! and each line's text (RFC 5321 §4.2: `NNN-text` ... `NNN text`). For an EHLO reply the
//! lines after the first are the extension keywords (§4.1.1.1), read here for the AUTH
//! mechanisms (RFC 4954 §3), including the `AUTH=` form some servers still send for old
//! clients.

use crate::outbound::reply::{self, ReplyError};
use serde::Serialize;

/// The longest line kept for display (RFC 5321 §4.5.3.1.5: 512 octets a reply line).
pub const MAX_LINE: usize = 512;
/// The most AUTH mechanisms listed.
pub const MAX_MECHANISMS: usize = 32;

/// One reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyLines {
    pub code: u16,
    /// `5.7.1`, when the server gave an enhanced status code (RFC 3463).
    pub status: Option<String>,
    /// Each line's text after the code and separator; control characters shown as `?`.
    pub lines: Vec<String>,
}

impl ReplyLines {
    /// Reads a whole reply as [`reply::frame`] delimited it.
    pub fn parse(raw: &[u8]) -> Result<ReplyLines, ReplyError> {
        let parsed = reply::parse(raw)?;
        let lines = raw
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let l = l.strip_suffix(b"\r").unwrap_or(l);
                let text = l.get(4..).unwrap_or_default();
                let text = text.get(..MAX_LINE).unwrap_or(text);
                String::from_utf8_lossy(text)
                    .chars()
                    .map(|c| if c.is_control() { '?' } else { c })
                    .collect()
            })
            .collect();
        Ok(ReplyLines {
            code: parsed.code,
            status: parsed.status.map(|_| parsed.status_text()),
            lines,
        })
    }

    /// `250 mx.example.test` ... as the server sent it (first line, or all of them).
    pub fn first_line(&self) -> String {
        format!(
            "{} {}",
            self.code,
            self.lines.first().map(String::as_str).unwrap_or_default()
        )
    }

    /// The reply on one line: code, status, the lines joined with ` / `.
    pub fn one_line(&self) -> String {
        let mut s = self.code.to_string();
        let text = self.lines.join(" / ");
        if !text.is_empty() {
            s.push(' ');
            s.push_str(&text);
        }
        s
    }

    /// The AUTH mechanisms an EHLO reply offers, upper case, in the server's order.
    pub fn auth_mechanisms(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for line in self.lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            let upper = keyword.to_ascii_uppercase();
            let first = if upper == "AUTH" {
                None
            } else if let Some(rest) = upper.strip_prefix("AUTH=") {
                Some(rest.to_string())
            } else {
                continue;
            };
            for mech in first.into_iter().chain(words.map(str::to_ascii_uppercase)) {
                if !mech.is_empty() && !out.contains(&mech) && out.len() < MAX_MECHANISMS {
                    out.push(mech);
                }
            }
        }
        out
    }

    /// The extension keywords of an EHLO reply (the first word of each line after the
    /// greeting), upper case.
    pub fn keywords(&self) -> Vec<String> {
        self.lines
            .iter()
            .skip(1)
            .filter_map(|l| l.split_ascii_whitespace().next())
            .map(str::to_ascii_uppercase)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ehlo_lines_give_keywords_and_auth_mechanisms() {
        let r = ReplyLines::parse(
            b"250-mx.example.test Hello\r\n250-PIPELINING\r\n250-AUTH PLAIN login\r\n250-AUTH=PLAIN LOGIN CRAM-MD5\r\n250 STARTTLS\r\n",
        )
        .unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(r.first_line(), "250 mx.example.test Hello");
        assert_eq!(
            r.keywords(),
            ["PIPELINING", "AUTH", "AUTH=PLAIN", "STARTTLS"]
        );
        assert_eq!(r.auth_mechanisms(), ["PLAIN", "LOGIN", "CRAM-MD5"]);
    }

    #[test]
    fn a_reply_without_auth_offers_none() {
        let r = ReplyLines::parse(b"250-mx\r\n250 SIZE 1000\r\n").unwrap();
        assert!(r.auth_mechanisms().is_empty());
        // The greeting line is not a keyword even when it says AUTH.
        let r = ReplyLines::parse(b"250 AUTH PLAIN\r\n").unwrap();
        assert!(r.auth_mechanisms().is_empty());
    }

    #[test]
    fn status_and_control_characters() {
        let r = ReplyLines::parse(b"554 5.7.1 relay \x1b[31mdenied\r\n").unwrap();
        assert_eq!(r.status.as_deref(), Some("5.7.1"));
        assert_eq!(r.lines, ["5.7.1 relay ?[31mdenied"]);
        assert_eq!(r.one_line(), "554 5.7.1 relay ?[31mdenied");
    }

    proptest::proptest! {
        #[test]
        fn any_framed_reply_is_read_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            if let Ok(Some(n)) = reply::frame(&bytes)
                && let Ok(r) = ReplyLines::parse(&bytes[..n])
            {
                proptest::prop_assert!(r.auth_mechanisms().len() <= MAX_MECHANISMS);
                proptest::prop_assert!(r.lines.iter().all(|l| !l.chars().any(char::is_control)));
                let _ = r.keywords();
            }
        }
    }
}
