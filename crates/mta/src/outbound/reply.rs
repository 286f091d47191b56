//! Replies from a remote SMTP server, read with limits (RFC 5321 §4.2): one reply is one or
//! more lines `NNN-text` ending with `NNN text`. [`frame`] finds where a whole reply ends in
//! what has arrived so far, refusing lines and replies past the limits (a hostile server's
//! endless continuation lines or 1 MB line cost at most [`MAX_REPLY`] octets); [`parse`]
//! reads its code, RFC 3463 enhanced status and text with `smtp-proto`.

use smtp_proto::response::parser::ResponseReceiver;

/// The longest reply kept (all its lines together). RFC 5321 §4.5.3.1.5 allows 512 octets
/// a line; real EHLO replies are under 1 KiB.
pub const MAX_REPLY: usize = 16 * 1024;
/// The most lines one reply may have.
pub const MAX_LINES: usize = 128;

/// A reply that is not SMTP or breaks the limits: the connection is given up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("reply longer than {MAX_REPLY} octets")]
    TooLong,
    /// smtp-proto keeps at most 4096 octets of a reply's text (its lines joined).
    #[error(
        "reply text longer than {} octets",
        smtp_proto::response::parser::MAX_RESPONSE_LENGTH
    )]
    TextTooLong,
    #[error("reply of more than {MAX_LINES} lines")]
    TooManyLines,
    #[error("not an SMTP reply: {0}")]
    NotSmtp(String),
}

/// One reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// RFC 3463 enhanced status code, when the server gave one.
    pub status: Option<[u8; 3]>,
    /// The text after code and status, lines joined with `\n`.
    pub text: String,
}

impl Reply {
    /// 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }
    /// 3xx (the go-ahead after DATA).
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }
    /// 5xx: the same command will fail again (RFC 5321 §4.2.1).
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    /// The enhanced status as text, or one made from the reply's class (RFC 3463 §3.1:
    /// `X.0.0`).
    pub fn status_text(&self) -> String {
        match self.status {
            Some([a, b, c]) if a != 0 => format!("{a}.{b}.{c}"),
            _ => match self.code / 100 {
                2 => "2.0.0".into(),
                5 => "5.0.0".into(),
                _ => "4.0.0".into(),
            },
        }
    }

    /// `550 5.1.1 text` on one line, for logs, queue listings and DSNs.
    pub fn one_line(&self) -> String {
        let text: String = self
            .text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        match self.status {
            Some([a, b, c]) if a != 0 => format!("{} {a}.{b}.{c} {}", self.code, text.trim()),
            _ => format!("{} {}", self.code, text.trim()),
        }
    }
}

/// The length of the first whole reply in `buf`, `None` while it is incomplete.
pub fn frame(buf: &[u8]) -> Result<Option<usize>, ReplyError> {
    let mut start = 0;
    let mut lines = 0;
    loop {
        let rest = buf.get(start..).unwrap_or_default();
        let Some(lf) = memchr::memchr(b'\n', rest) else {
            if buf.len() > MAX_REPLY {
                return Err(ReplyError::TooLong);
            }
            // Check what there is of an incomplete line: garbage fails early.
            check_line_start(rest, false)?;
            return Ok(None);
        };
        let line = rest.get(..lf).unwrap_or_default();
        lines += 1;
        if start + lf + 1 > MAX_REPLY {
            return Err(ReplyError::TooLong);
        }
        if lines > MAX_LINES {
            return Err(ReplyError::TooManyLines);
        }
        let last = check_line_start(line, true)?;
        start += lf + 1;
        if last {
            return Ok(Some(start));
        }
    }
}

/// Checks `NNN` then ` `, `-` or the line's end; true when this is the reply's last line.
fn check_line_start(line: &[u8], complete: bool) -> Result<bool, ReplyError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    for (i, b) in line.iter().take(3).enumerate() {
        if !b.is_ascii_digit() || (i == 0 && !(b'2'..=b'5').contains(b)) {
            return Err(not_smtp(line));
        }
    }
    match line.get(3) {
        Some(b' ') => Ok(true),
        Some(b'-') => Ok(false),
        Some(_) => Err(not_smtp(line)),
        None if complete && line.len() == 3 => Ok(true),
        None if complete => Err(not_smtp(line)),
        None => Ok(false),
    }
}

fn not_smtp(line: &[u8]) -> ReplyError {
    let shown: String = String::from_utf8_lossy(line.get(..60).unwrap_or(line))
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    ReplyError::NotSmtp(shown)
}

/// Reads one whole reply (as [`frame`] found it).
pub fn parse(raw: &[u8]) -> Result<Reply, ReplyError> {
    let mut receiver = ResponseReceiver::default();
    let mut it = raw.iter();
    match receiver.parse(&mut it) {
        Ok(r) => Ok(Reply {
            code: r.code,
            status: (r.esc[0] != 0).then_some(r.esc),
            text: r.message,
        }),
        Err(smtp_proto::Error::ResponseTooLong) => Err(ReplyError::TextTooLong),
        Err(e) => Err(ReplyError::NotSmtp(format!("{e:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multiline_reply_is_framed_at_its_last_line() {
        let buf = b"250-mx.b.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n220 next";
        let n = frame(buf).unwrap().unwrap();
        assert_eq!(&buf[n..], b"220 next");
        let r = parse(&buf[..n]).unwrap();
        assert_eq!(r.code, 250);
        assert!(r.text.contains("PIPELINING"));
    }

    #[test]
    fn an_incomplete_reply_waits_for_more() {
        assert_eq!(frame(b"250-a\r\n250 b").unwrap(), None);
        assert_eq!(frame(b"25").unwrap(), None);
    }

    #[test]
    fn enhanced_status_is_read() {
        let r = parse(b"550 5.1.1 <bob@b.test>: user unknown\r\n").unwrap();
        assert_eq!(r.code, 550);
        assert_eq!(r.status_text(), "5.1.1");
        assert!(r.is_permanent());
        assert_eq!(r.one_line(), "550 5.1.1 <bob@b.test>: user unknown");
    }

    #[test]
    fn a_reply_without_status_gets_its_class() {
        let r = parse(b"451 try later\r\n").unwrap();
        assert_eq!(r.status_text(), "4.0.0");
    }

    #[test]
    fn endless_continuation_lines_are_refused() {
        let mut buf = Vec::new();
        for _ in 0..(MAX_LINES + 1) {
            buf.extend_from_slice(b"250-x\r\n");
        }
        assert_eq!(frame(&buf), Err(ReplyError::TooManyLines));
    }

    #[test]
    fn a_megabyte_line_is_refused() {
        let mut buf = b"250 ".to_vec();
        buf.extend(std::iter::repeat_n(b'a', 1 << 20));
        assert_eq!(frame(&buf), Err(ReplyError::TooLong));
    }

    #[test]
    fn bytes_that_are_not_smtp_are_refused() {
        assert!(matches!(
            frame(b"HTTP/1.1 400"),
            Err(ReplyError::NotSmtp(_))
        ));
        assert!(matches!(
            frame(b"\x16\x03\x01"),
            Err(ReplyError::NotSmtp(_))
        ));
        assert!(matches!(frame(b"999 no\r\n"), Err(ReplyError::NotSmtp(_))));
    }

    proptest::proptest! {
        #[test]
        fn framing_any_bytes_never_panics_and_stays_in_bounds(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            if let Ok(Some(n)) = frame(&bytes) {
                proptest::prop_assert!(n <= bytes.len());
                let _ = parse(&bytes[..n]);
            }
        }
    }
}
