//! A POP3 client (RFC 1939) for remote retrieval: STLS (RFC 2595 §4), USER/PASS, UIDL,
//! LIST, RETR, DELE, QUIT. The parsers are pure functions over one line; the session reads
//! through [`Wire`] with its limits.

use super::error::{FetchError, shown};
use super::wire::Wire;
use tokio::io::{AsyncRead, AsyncWrite};

/// RFC 1939 §3 / RFC 2449 §4: a response line is at most 512 octets; some servers send
/// longer greetings, so a little more is accepted.
pub const MAX_LINE: usize = 1024;

/// A status line: `+OK text` is `Ok(text)`, `-ERR text` is `Err(text)` (RFC 1939 §3).
pub fn parse_status(line: &[u8]) -> Result<Result<String, String>, FetchError> {
    let upper = line.get(..4).map(|p| p.to_ascii_uppercase());
    match upper.as_deref() {
        Some(b"-ERR") => Ok(Err(shown(line.get(4..).unwrap_or(&[])).trim().to_string())),
        _ if line.get(..3).map(|p| p.eq_ignore_ascii_case(b"+OK")) == Some(true) => {
            Ok(Ok(shown(line.get(3..).unwrap_or(&[])).trim().to_string()))
        }
        _ => Err(FetchError::Protocol(format!(
            "not a POP3 status line: {}",
            shown(line)
        ))),
    }
}

/// One line of the UIDL listing: `msg-number SP unique-id`, the id 1 to 70 characters in
/// 0x21..=0x7E (RFC 1939 §7).
pub fn parse_uidl_line(line: &[u8]) -> Result<(u32, String), FetchError> {
    let bad = || FetchError::Protocol(format!("bad UIDL line: {}", shown(line)));
    let text = std::str::from_utf8(line).map_err(|_| bad())?;
    let mut parts = text.split(' ').filter(|p| !p.is_empty());
    let number = parts
        .next()
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or_else(bad)?;
    let uid = parts.next().ok_or_else(bad)?;
    if parts.next().is_some()
        || number == 0
        || uid.is_empty()
        || uid.len() > 70
        || !uid.bytes().all(|b| (0x21..=0x7e).contains(&b))
    {
        return Err(bad());
    }
    Ok((number, uid.to_string()))
}

/// One line of the LIST listing: `msg-number SP octets` (RFC 1939 §5 LIST).
pub fn parse_list_line(line: &[u8]) -> Result<(u32, u64), FetchError> {
    let bad = || FetchError::Protocol(format!("bad LIST line: {}", shown(line)));
    let text = std::str::from_utf8(line).map_err(|_| bad())?;
    let mut parts = text.split(' ').filter(|p| !p.is_empty());
    let number = parts
        .next()
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or_else(bad)?;
    let size = parts
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(bad)?;
    if number == 0 {
        return Err(bad());
    }
    Ok((number, size))
}

/// Undoes byte-stuffing of one line of a multi-line response (RFC 1939 §3: a line starting
/// with `.` was sent with one more `.`). `None` for the terminating `.` line.
pub fn unstuff(line: &[u8]) -> Option<&[u8]> {
    match line {
        b"." => None,
        [b'.', rest @ ..] => Some(rest),
        other => Some(other),
    }
}

/// A logged-in POP3 session.
pub struct Pop3<S> {
    wire: Wire<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Pop3<S> {
    pub fn new(wire: Wire<S>) -> Pop3<S> {
        Pop3 { wire }
    }

    /// The greeting (RFC 1939 §4): must be `+OK`.
    pub async fn greeting(&mut self) -> Result<(), FetchError> {
        let line = self.wire.read_line(MAX_LINE).await?;
        parse_status(&line)?.map_err(|e| FetchError::Refused("the connection".into(), e))?;
        Ok(())
    }

    /// Sends `command` and reads its status line; `-ERR` is [`FetchError::Refused`].
    async fn command(&mut self, command: &str, shown_as: &str) -> Result<String, FetchError> {
        self.wire.send(format!("{command}\r\n").as_bytes()).await?;
        let line = self.wire.read_line(MAX_LINE).await?;
        parse_status(&line)?.map_err(|e| FetchError::Refused(shown_as.to_string(), e))
    }

    /// RFC 2595 §4: `STLS`; on `+OK` the caller does the handshake on [`Pop3::into_wire`].
    pub async fn stls(&mut self) -> Result<(), FetchError> {
        self.command("STLS", "STLS").await.map(|_| ())
    }

    pub fn into_wire(self) -> Wire<S> {
        self.wire
    }

    /// RFC 1939 §7 USER and PASS.
    pub async fn login(&mut self, user: &str, password: &str) -> Result<(), FetchError> {
        if [user, password]
            .iter()
            .any(|s| s.bytes().any(|b| b == b'\r' || b == b'\n'))
        {
            return Err(FetchError::Login(
                "user or password holds a line break".into(),
            ));
        }
        self.command(&format!("USER {user}"), "USER")
            .await
            .map_err(|e| FetchError::Login(e.to_string()))?;
        self.command(&format!("PASS {password}"), "PASS")
            .await
            .map_err(|e| FetchError::Login(e.to_string()))?;
        Ok(())
    }

    /// Reads a multi-line response body (after its `+OK`), at most `max` bytes.
    async fn multi_line(&mut self, max: u64) -> Result<Vec<u8>, FetchError> {
        let mut out = Vec::new();
        loop {
            let line = self.wire.read_line(MAX_LINE.max(64 * 1024)).await?;
            let Some(content) = unstuff(&line) else {
                return Ok(out);
            };
            if (out.len() + content.len() + 2) as u64 > max {
                return Err(FetchError::TooLarge(max));
            }
            out.extend_from_slice(content);
            out.extend_from_slice(b"\r\n");
        }
    }

    /// RFC 1939 §7 UIDL: every message's number and unique id, at most `max_entries`.
    pub async fn uidl(&mut self, max_entries: usize) -> Result<Vec<(u32, String)>, FetchError> {
        self.command("UIDL", "UIDL").await?;
        let mut out = Vec::new();
        loop {
            let line = self.wire.read_line(MAX_LINE).await?;
            if line == b"." {
                return Ok(out);
            }
            if out.len() >= max_entries {
                return Err(FetchError::Protocol(format!(
                    "more than {max_entries} messages listed"
                )));
            }
            out.push(parse_uidl_line(&line)?);
        }
    }

    /// RFC 1939 §5 LIST: every message's number and size.
    pub async fn list(&mut self, max_entries: usize) -> Result<Vec<(u32, u64)>, FetchError> {
        self.command("LIST", "LIST").await?;
        let mut out = Vec::new();
        loop {
            let line = self.wire.read_line(MAX_LINE).await?;
            if line == b"." {
                return Ok(out);
            }
            if out.len() >= max_entries {
                return Err(FetchError::Protocol(format!(
                    "more than {max_entries} messages listed"
                )));
            }
            out.push(parse_list_line(&line)?);
        }
    }

    /// RFC 1939 §5 RETR: the message, byte-stuffing undone, at most `max` bytes.
    pub async fn retr(&mut self, number: u32, max: u64) -> Result<Vec<u8>, FetchError> {
        self.command(&format!("RETR {number}"), "RETR").await?;
        self.multi_line(max).await
    }

    /// RFC 1939 §5 DELE: marked, removed at QUIT.
    pub async fn dele(&mut self, number: u32) -> Result<(), FetchError> {
        self.command(&format!("DELE {number}"), "DELE")
            .await
            .map(|_| ())
    }

    /// RFC 1939 §6 QUIT: the UPDATE state removes the messages marked deleted.
    pub async fn quit(&mut self) -> Result<(), FetchError> {
        self.command("QUIT", "QUIT").await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b"+OK ready").unwrap(), Ok("ready".into()));
        assert_eq!(parse_status(b"+ok").unwrap(), Ok(String::new()));
        assert_eq!(parse_status(b"-ERR no").unwrap(), Err("no".into()));
        assert!(parse_status(b"* OK imap").is_err());
        assert!(parse_status(b"").is_err());
    }

    #[test]
    fn uidl_lines() {
        assert_eq!(parse_uidl_line(b"1 abc").unwrap(), (1, "abc".into()));
        assert!(parse_uidl_line(b"0 abc").is_err());
        assert!(parse_uidl_line(b"1").is_err());
        assert!(parse_uidl_line(b"x abc").is_err());
        assert!(parse_uidl_line(b"1 a b").is_err());
        assert!(parse_uidl_line(&[b'1', b' ', 0xff]).is_err());
        let long = format!("1 {}", "a".repeat(71));
        assert!(parse_uidl_line(long.as_bytes()).is_err());
    }

    #[test]
    fn list_lines() {
        assert_eq!(parse_list_line(b"2 1200").unwrap(), (2, 1200));
        assert!(parse_list_line(b"2").is_err());
        assert!(parse_list_line(b"2 -5").is_err());
    }

    #[test]
    fn stuffed_lines() {
        assert_eq!(unstuff(b".."), Some(&b"."[..]));
        assert_eq!(unstuff(b"..x"), Some(&b".x"[..]));
        assert_eq!(unstuff(b"."), None);
        assert_eq!(unstuff(b"abc"), Some(&b"abc"[..]));
    }

    proptest! {
        #[test]
        fn parsers_never_panic(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_status(&line);
            let _ = parse_uidl_line(&line);
            let _ = parse_list_line(&line);
            let _ = unstuff(&line);
        }
    }
}
