//! An IMAP client (RFC 9051, and RFC 3501 servers) for remote retrieval: CAPABILITY,
//! STARTTLS, AUTHENTICATE PLAIN (RFC 4616) or LOGIN, SELECT, UID SEARCH, UID FETCH
//! BODY.PEEK[], UID STORE \Deleted, UID EXPUNGE (RFC 4315) or EXPUNGE, LOGOUT. The
//! response parsers are pure functions; the session reads through [`Wire`] with its limits
//! (line length, literal size, literals per response, responses per command).

use super::error::{FetchError, shown};
use super::wire::Wire;
use base64::Engine as _;
use tokio::io::{AsyncRead, AsyncWrite};

/// Longest response line read (a `* SEARCH` of a large mailbox is one line).
pub const MAX_LINE: usize = 1 << 20;
/// Literals in one response (one `BODY[]` is all a fetch needs).
pub const MAX_LITERALS: usize = 8;
/// Untagged responses collected for one command.
pub const MAX_RESPONSES: usize = 200_000;

/// One server response: text pieces, each but the last followed by the literal at the
/// same index (RFC 9051 §4.3: `{n}` CRLF then n octets).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub text: Vec<Vec<u8>>,
    pub literals: Vec<Vec<u8>>,
}

impl Response {
    fn first(&self) -> &[u8] {
        self.text.first().map(Vec::as_slice).unwrap_or(&[])
    }
}

/// What a response is (RFC 9051 §7.1, §7.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Untagged,
    Continuation,
    Tagged {
        tag: String,
        status: Status,
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
}

/// The size of the literal a line announces at its end (`{123}` or `{123+}`).
pub fn literal_at_end(line: &[u8]) -> Option<u64> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = inner.get(open + 1..)?;
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Classifies a response by its first line.
pub fn classify(first: &[u8]) -> Result<Kind, FetchError> {
    if first.starts_with(b"* ") {
        return Ok(Kind::Untagged);
    }
    if first.starts_with(b"+") {
        return Ok(Kind::Continuation);
    }
    let bad = || FetchError::Protocol(format!("bad IMAP response: {}", shown(first)));
    let text = std::str::from_utf8(first).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ' ');
    let tag = parts.next().filter(|t| !t.is_empty()).ok_or_else(bad)?;
    let status = match parts.next().map(str::to_ascii_uppercase).as_deref() {
        Some("OK") => Status::Ok,
        Some("NO") => Status::No,
        Some("BAD") => Status::Bad,
        _ => return Err(bad()),
    };
    Ok(Kind::Tagged {
        tag: tag.to_string(),
        status,
        text: shown(parts.next().unwrap_or("").as_bytes()),
    })
}

/// The text after `* ` in upper case up to the first space, and the rest.
fn untagged_word(first: &[u8]) -> Option<(String, &[u8])> {
    let rest = first.strip_prefix(b"* ")?;
    let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let word = std::str::from_utf8(rest.get(..end)?)
        .ok()?
        .to_ascii_uppercase();
    Some((word, rest.get(end + 1..).unwrap_or(&[])))
}

/// The capabilities a response lists: `* CAPABILITY ...` or a `[CAPABILITY ...]` code
/// (RFC 9051 §7.2.2, §7.1), upper-cased.
pub fn capabilities(first: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(first).ok()?;
    let upper = text.to_ascii_uppercase();
    let list = if let Some(rest) = upper.strip_prefix("* CAPABILITY ") {
        rest.to_string()
    } else {
        let start = upper.find("[CAPABILITY ")? + "[CAPABILITY ".len();
        let end = upper.get(start..)?.find(']')? + start;
        upper.get(start..end)?.to_string()
    };
    Some(
        list.split(' ')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// `* OK [UIDVALIDITY n]` (RFC 9051 §7.1, SELECT).
pub fn uidvalidity(first: &[u8]) -> Option<u32> {
    let (word, rest) = untagged_word(first)?;
    if word != "OK" {
        return None;
    }
    let rest = std::str::from_utf8(rest).ok()?;
    let code = rest.strip_prefix('[')?;
    let (name, value) = code.split_once(' ')?;
    if !name.eq_ignore_ascii_case("UIDVALIDITY") {
        return None;
    }
    let digits: &str = value.split(']').next()?;
    digits.parse().ok().filter(|&v| v > 0)
}

/// The UIDs of `* SEARCH n n ...` (RFC 9051 §7.3.4 ESEARCH aside; RFC 3501 §7.2.5).
pub fn search_uids(first: &[u8]) -> Option<Result<Vec<u32>, FetchError>> {
    let (word, rest) = untagged_word(first)?;
    if word != "SEARCH" {
        return None;
    }
    let text = match std::str::from_utf8(rest) {
        Ok(t) => t,
        Err(_) => return Some(Err(FetchError::Protocol("bad SEARCH response".into()))),
    };
    Some(
        text.split(' ')
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<u32>().ok().filter(|&u| u > 0).ok_or_else(|| {
                    FetchError::Protocol(format!("bad UID in SEARCH: {}", shown(p.as_bytes())))
                })
            })
            .collect(),
    )
}

/// A `* n FETCH (... UID u ... BODY[] {size} ...)` response: its UID (when given) and the
/// message (RFC 9051 §7.5.2).
pub fn fetched_body(resp: &Response) -> Option<(Option<u32>, &[u8])> {
    let (number, rest) = untagged_word(resp.first())?;
    if !number.bytes().all(|b| b.is_ascii_digit())
        || !rest.to_ascii_uppercase().starts_with(b"FETCH (")
    {
        return None;
    }
    let mut body = None;
    for (i, text) in resp.text.iter().enumerate() {
        if ends_with_body_item(text) {
            body = resp.literals.get(i).map(Vec::as_slice);
        }
    }
    let uid = resp.text.iter().find_map(|t| uid_item(t));
    body.map(|b| (uid, b))
}

/// True when a response's text piece ends with `BODY[]` (its literal is the message).
fn ends_with_body_item(text: &[u8]) -> bool {
    text.trim_ascii_end()
        .to_ascii_uppercase()
        .ends_with(b"BODY[]")
}

/// The number after a `UID ` item in a fetch response's text.
fn uid_item(text: &[u8]) -> Option<u32> {
    let upper = text.to_ascii_uppercase();
    let mut from = 0;
    while let Some(pos) = upper.get(from..)?.windows(4).position(|w| w == b"UID ") {
        let at = from + pos;
        let before_ok = at == 0 || matches!(upper.get(at - 1), Some(b' ') | Some(b'('));
        if before_ok {
            let digits: Vec<u8> = upper
                .get(at + 4..)?
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .copied()
                .collect();
            return std::str::from_utf8(&digits).ok()?.parse().ok();
        }
        from = at + 4;
    }
    None
}

/// An astring as a quoted string (RFC 9051 §4.3); CR, LF, NUL and 8-bit text cannot be
/// quoted, so they are refused.
pub fn quoted(s: &str) -> Result<String, FetchError> {
    if s.bytes()
        .any(|b| b == b'\r' || b == b'\n' || b == 0 || b >= 0x80)
    {
        return Err(FetchError::Unsupported(
            "IMAP LOGIN and folder names here take 7-bit text without line breaks".into(),
        ));
    }
    Ok(format!(
        "\"{}\"",
        s.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// A UID set `1,5,9` for commands.
pub fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// An IMAP session.
pub struct Imap<S> {
    wire: Wire<S>,
    next_tag: u32,
    capabilities: Vec<String>,
    max_literal: u64,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Imap<S> {
    /// A session whose literals are at most `max_literal` bytes.
    pub fn new(wire: Wire<S>, max_literal: u64) -> Imap<S> {
        Imap {
            wire,
            next_tag: 1,
            capabilities: Vec::new(),
            max_literal,
        }
    }

    pub fn into_wire(self) -> Wire<S> {
        self.wire
    }

    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    async fn read_response(&mut self) -> Result<Response, FetchError> {
        let mut resp = Response::default();
        loop {
            let line = self.wire.read_line(MAX_LINE).await?;
            match literal_at_end(&line) {
                Some(n) => {
                    if n > self.max_literal {
                        return Err(FetchError::TooLarge(self.max_literal));
                    }
                    if resp.literals.len() >= MAX_LITERALS {
                        return Err(FetchError::Protocol("too many literals".into()));
                    }
                    let open = line.iter().rposition(|&b| b == b'{').unwrap_or(line.len());
                    resp.text.push(line.get(..open).unwrap_or(&[]).to_vec());
                    let literal = self.wire.read_exact(n as usize).await?;
                    resp.literals.push(literal);
                }
                None => {
                    resp.text.push(line);
                    return Ok(resp);
                }
            }
        }
    }

    /// The greeting (RFC 9051 §7.1.1 OK, §7.1.4 PREAUTH, §7.1.5 BYE).
    pub async fn greeting(&mut self) -> Result<(), FetchError> {
        let resp = self.read_response().await?;
        if let Some(caps) = capabilities(resp.first()) {
            self.capabilities = caps;
        }
        match untagged_word(resp.first()).map(|(w, _)| w).as_deref() {
            Some("OK") | Some("PREAUTH") => Ok(()),
            _ => Err(FetchError::Refused(
                "the connection".into(),
                shown(resp.first()),
            )),
        }
    }

    /// Sends `tag command` and collects the untagged responses until its tagged one;
    /// `NO`/`BAD` are [`FetchError::Refused`] naming `name` (never the command, which may
    /// hold a password). A continuation request is answered with `continuation`.
    async fn run(
        &mut self,
        command: &str,
        name: &str,
        continuation: Option<&str>,
    ) -> Result<Vec<Response>, FetchError> {
        let tag = format!("F{}", self.next_tag);
        self.next_tag += 1;
        self.wire
            .send(format!("{tag} {command}\r\n").as_bytes())
            .await?;
        let mut continuation = continuation;
        let mut untagged = Vec::new();
        loop {
            let resp = self.read_response().await?;
            match classify(resp.first())? {
                Kind::Untagged => {
                    if untagged.len() >= MAX_RESPONSES {
                        return Err(FetchError::Protocol("too many responses".into()));
                    }
                    untagged.push(resp);
                }
                Kind::Continuation => match continuation.take() {
                    Some(line) => self.wire.send(format!("{line}\r\n").as_bytes()).await?,
                    None => {
                        return Err(FetchError::Protocol(format!(
                            "unexpected continuation request after {name}"
                        )));
                    }
                },
                Kind::Tagged {
                    tag: t,
                    status,
                    text,
                } => {
                    if t != tag {
                        return Err(FetchError::Protocol(format!(
                            "answer tagged {} to {tag}",
                            shown(t.as_bytes())
                        )));
                    }
                    if let Some(caps) = capabilities(resp.first()) {
                        self.capabilities = caps;
                    }
                    return match status {
                        Status::Ok => Ok(untagged),
                        Status::No | Status::Bad => {
                            Err(FetchError::Refused(name.to_string(), text))
                        }
                    };
                }
            }
        }
    }

    /// RFC 9051 §6.1.1 CAPABILITY.
    pub async fn capability(&mut self) -> Result<(), FetchError> {
        let untagged = self.run("CAPABILITY", "CAPABILITY", None).await?;
        for r in &untagged {
            if let Some(caps) = capabilities(r.first()) {
                self.capabilities = caps;
            }
        }
        Ok(())
    }

    /// RFC 9051 §6.2.1 STARTTLS; the caller does the handshake on [`Imap::into_wire`].
    pub async fn starttls(&mut self) -> Result<(), FetchError> {
        if !self.has("STARTTLS") {
            return Err(FetchError::Unsupported(
                "the server does not offer STARTTLS".into(),
            ));
        }
        self.run("STARTTLS", "STARTTLS", None).await.map(|_| ())
    }

    /// AUTHENTICATE PLAIN (RFC 9051 §6.2.2, RFC 4616; the initial response inline with
    /// SASL-IR, RFC 4959), else LOGIN (§6.2.3) unless LOGINDISABLED.
    pub async fn login(&mut self, user: &str, password: &str) -> Result<(), FetchError> {
        let result = if self.has("AUTH=PLAIN") {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
            if self.has("SASL-IR") {
                self.run(&format!("AUTHENTICATE PLAIN {token}"), "AUTHENTICATE", None)
                    .await
            } else {
                self.run("AUTHENTICATE PLAIN", "AUTHENTICATE", Some(&token))
                    .await
            }
        } else if self.has("LOGINDISABLED") {
            return Err(FetchError::Login(
                "the server offers neither AUTH=PLAIN nor LOGIN".into(),
            ));
        } else {
            let command = format!("LOGIN {} {}", quoted(user)?, quoted(password)?);
            self.run(&command, "LOGIN", None).await
        };
        result.map_err(|e| FetchError::Login(e.to_string()))?;
        // RFC 9051 §6.2.2: capabilities may change after authentication.
        self.capability().await
    }

    /// RFC 9051 §6.3.2 SELECT: the folder's UIDVALIDITY.
    pub async fn select(&mut self, folder: &str) -> Result<u32, FetchError> {
        let untagged = self
            .run(&format!("SELECT {}", quoted(folder)?), "SELECT", None)
            .await?;
        untagged
            .iter()
            .find_map(|r| uidvalidity(r.first()))
            .ok_or_else(|| FetchError::Protocol("SELECT gave no UIDVALIDITY".into()))
    }

    /// RFC 9051 §6.4.4 UID SEARCH ALL: every message's UID, ascending.
    pub async fn all_uids(&mut self) -> Result<Vec<u32>, FetchError> {
        let untagged = self.run("UID SEARCH ALL", "UID SEARCH", None).await?;
        let mut uids = Vec::new();
        for r in &untagged {
            if let Some(found) = search_uids(r.first()) {
                uids.extend(found?);
            }
        }
        uids.sort_unstable();
        uids.dedup();
        Ok(uids)
    }

    /// RFC 9051 §6.4.4 UID SEARCH LARGER n: the UIDs of messages over `n` bytes.
    pub async fn larger_than(&mut self, n: u64) -> Result<Vec<u32>, FetchError> {
        let n = n.min(u64::from(u32::MAX));
        let untagged = self
            .run(&format!("UID SEARCH LARGER {n}"), "UID SEARCH", None)
            .await?;
        let mut uids = Vec::new();
        for r in &untagged {
            if let Some(found) = search_uids(r.first()) {
                uids.extend(found?);
            }
        }
        Ok(uids)
    }

    /// RFC 9051 §6.4.5 UID FETCH uid BODY.PEEK[]: the message, `\Seen` untouched.
    /// `None` when the message is gone (expunged meanwhile).
    pub async fn fetch(&mut self, uid: u32) -> Result<Option<Vec<u8>>, FetchError> {
        let mut untagged = self
            .run(
                &format!("UID FETCH {uid} (UID BODY.PEEK[])"),
                "UID FETCH",
                None,
            )
            .await?;
        for r in untagged.iter_mut() {
            if let Some((got, _)) = fetched_body(r) {
                if got.is_some() && got != Some(uid) {
                    continue;
                }
                let index = r
                    .text
                    .iter()
                    .position(|t| ends_with_body_item(t))
                    .unwrap_or(usize::MAX);
                if index < r.literals.len() {
                    return Ok(Some(r.literals.swap_remove(index)));
                }
            }
        }
        Ok(None)
    }

    /// RFC 9051 §6.4.6 UID STORE +FLAGS.SILENT (\Deleted), then UID EXPUNGE (RFC 4315
    /// §2.1; RFC 9051 §6.4.9) or, without UIDPLUS, EXPUNGE.
    pub async fn delete(&mut self, uids: &[u32]) -> Result<(), FetchError> {
        for chunk in uids.chunks(500) {
            let set = uid_set(chunk);
            self.run(
                &format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)"),
                "UID STORE",
                None,
            )
            .await?;
            if self.has("UIDPLUS") || self.has("IMAP4REV2") {
                self.run(&format!("UID EXPUNGE {set}"), "UID EXPUNGE", None)
                    .await?;
            }
        }
        if !(self.has("UIDPLUS") || self.has("IMAP4REV2")) {
            self.run("EXPUNGE", "EXPUNGE", None).await?;
        }
        Ok(())
    }

    /// RFC 9051 §6.1.3 LOGOUT.
    pub async fn logout(&mut self) -> Result<(), FetchError> {
        self.run("LOGOUT", "LOGOUT", None).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn literals_are_found_at_line_end() {
        assert_eq!(literal_at_end(b"* 1 FETCH (BODY[] {12}"), Some(12));
        assert_eq!(literal_at_end(b"A LOGIN {3+}"), Some(3));
        assert_eq!(literal_at_end(b"* OK {x}"), None);
        assert_eq!(literal_at_end(b"* OK {}"), None);
        assert_eq!(literal_at_end(b"* OK {99999999999999999999}"), None);
        assert_eq!(literal_at_end(b"* OK done"), None);
    }

    #[test]
    fn tagged_and_untagged() {
        assert_eq!(classify(b"* OK hi").unwrap(), Kind::Untagged);
        assert_eq!(classify(b"+ go").unwrap(), Kind::Continuation);
        assert_eq!(
            classify(b"F1 NO [AUTHENTICATIONFAILED] bad").unwrap(),
            Kind::Tagged {
                tag: "F1".into(),
                status: Status::No,
                text: "[AUTHENTICATIONFAILED] bad".into()
            }
        );
        assert!(classify(b"F1 MAYBE").is_err());
        assert!(classify(b"").is_err());
    }

    #[test]
    fn capability_lists() {
        assert_eq!(
            capabilities(b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready").unwrap(),
            vec!["IMAP4REV1", "STARTTLS", "AUTH=PLAIN"]
        );
        assert_eq!(
            capabilities(b"* CAPABILITY IMAP4rev2 UIDPLUS").unwrap(),
            vec!["IMAP4REV2", "UIDPLUS"]
        );
        assert!(capabilities(b"* OK ready").is_none());
    }

    #[test]
    fn uidvalidity_and_search() {
        assert_eq!(
            uidvalidity(b"* OK [UIDVALIDITY 1733] UIDs valid"),
            Some(1733)
        );
        assert_eq!(uidvalidity(b"* OK [UIDNEXT 4] next"), None);
        assert_eq!(uidvalidity(b"* OK [UIDVALIDITY 0] zero"), None);
        assert_eq!(
            search_uids(b"* SEARCH 3 1 2").unwrap().unwrap(),
            vec![3, 1, 2]
        );
        assert_eq!(
            search_uids(b"* SEARCH").unwrap().unwrap(),
            Vec::<u32>::new()
        );
        assert!(search_uids(b"* SEARCH 1 x").unwrap().is_err());
        assert!(search_uids(b"* 3 EXISTS").is_none());
    }

    #[test]
    fn fetch_responses_give_uid_and_body() {
        let r = Response {
            text: vec![b"* 2 FETCH (UID 7 BODY[] ".to_vec(), b")".to_vec()],
            literals: vec![b"Subject: x\r\n\r\nhi\r\n".to_vec()],
        };
        let (uid, body) = fetched_body(&r).unwrap();
        assert_eq!(uid, Some(7));
        assert_eq!(body, b"Subject: x\r\n\r\nhi\r\n");
        let after = Response {
            text: vec![b"* 2 FETCH (BODY[] ".to_vec(), b" UID 9)".to_vec()],
            literals: vec![b"x".to_vec()],
        };
        assert_eq!(fetched_body(&after).unwrap().0, Some(9));
        let flags = Response {
            text: vec![b"* 2 FETCH (FLAGS (\\Seen))".to_vec()],
            literals: vec![],
        };
        assert!(fetched_body(&flags).is_none());
    }

    #[test]
    fn quoting() {
        assert_eq!(quoted("a\"b\\c").unwrap(), "\"a\\\"b\\\\c\"");
        assert!(quoted("a\r\nb").is_err());
        assert!(quoted("é").is_err());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(line in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = literal_at_end(&line);
            let _ = classify(&line);
            let _ = capabilities(&line);
            let _ = uidvalidity(&line);
            let _ = search_uids(&line);
            let r = Response { text: vec![line.clone(), line.clone()], literals: vec![line.clone()] };
            let _ = fetched_body(&r);
        }
    }
}
