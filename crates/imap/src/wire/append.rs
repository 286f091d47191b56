//! The APPEND command in the forms imap-codec does not parse: several messages in one
//! command (RFC 3502 MULTIAPPEND), messages built from parts (RFC 4469 CATENATE), and
//! RFC 6855 §4 `UTF8 (literal8)`; the plain form (RFC 9051 §6.3.12, with RFC 3516 literal8)
//! is read here too, so every APPEND takes one path.
//!
//! ```text
//! append         = "APPEND" SP mailbox 1*append-message          ; RFC 3502 §6, RFC 4466 §2.1
//! append-message = [SP flag-list] [SP date-time] SP append-data
//! append-data    = literal / literal8                             ; RFC 3516 §7
//!                / "CATENATE" SP "(" cat-part *(SP cat-part) ")"   ; RFC 4469 §5
//!                / "UTF8" SP "(" literal8 ")"                      ; RFC 6855 §4
//! cat-part       = "TEXT" SP (literal / literal8) / "URL" SP astring
//! ```
//!
//! Only the structure is read here; the flags and the date are checked by imap-codec
//! ([`decode_options`]), the URLs by [`super::imap_url`]. Limits: at most
//! [`MAX_MESSAGES`] messages, [`MAX_CATENATE_PARTS`] parts per message and URLs of at most
//! [`MAX_URL`] octets (the octets themselves are bounded by the framer's limits).

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::flag::Flag;

/// Most messages in one APPEND (RFC 3502 sets no bound; each costs a file and a row).
pub const MAX_MESSAGES: usize = 1000;
/// Most parts in one CATENATE list (RFC 4469 sets no bound).
pub const MAX_CATENATE_PARTS: usize = 256;
/// Longest URL of a CATENATE part (RFC 5092 sets no bound; real ones are short).
pub const MAX_URL: usize = 4096;

/// An APPEND command read by [`parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendCommand {
    /// The mailbox argument as written (quoted string, literal or atom), for imap-codec.
    pub mailbox: Vec<u8>,
    pub messages: Vec<AppendMessage>,
}

impl AppendCommand {
    /// A stand-in for a command refused over a limit (its mailbox is never used).
    pub fn refused() -> AppendCommand {
        AppendCommand {
            mailbox: b"INBOX".to_vec(),
            messages: Vec::new(),
        }
    }
}

/// One message of an APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    /// The flag list as written, parentheses included.
    pub flags: Option<Vec<u8>>,
    /// The date-time as written (a quoted string).
    pub date: Option<Vec<u8>>,
    pub data: AppendData,
}

/// Where a message's octets come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendData {
    /// A literal; `binary` for a literal8 (RFC 3516 §4.4, RFC 6855 §4).
    Literal { octets: Vec<u8>, binary: bool },
    /// RFC 4469: the parts, catenated in order.
    Catenate(Vec<CatPart>),
}

/// One part of a CATENATE list (RFC 4469 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatPart {
    /// `TEXT literal`: these octets.
    Text { octets: Vec<u8>, binary: bool },
    /// `URL astring`: the octets of a message or part on this server (the astring's value).
    Url(Vec<u8>),
}

/// Why an APPEND could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AppendSyntaxError {
    /// Not the grammar above (answer BAD).
    #[error("invalid APPEND arguments")]
    Invalid,
    /// More than [`MAX_MESSAGES`] messages (answer `NO [LIMIT]`, RFC 5530).
    #[error("too many messages in one APPEND")]
    TooManyMessages,
    /// More than [`MAX_CATENATE_PARTS`] parts in one CATENATE.
    #[error("too many CATENATE parts")]
    TooManyParts,
    /// A URL longer than [`MAX_URL`].
    #[error("CATENATE URL too long")]
    UrlTooLong,
}

/// A cursor over a framed command (lines end in CRLF, literals are inline).
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Result<(), AppendSyntaxError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(AppendSyntaxError::Invalid)
        }
    }

    fn at_end(&self) -> bool {
        self.b.get(self.i..) == Some(b"\r\n")
    }

    /// An atom-like word (up to SP, parentheses, CR or LF).
    fn word(&mut self) -> &'a [u8] {
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, b' ' | b'(' | b')' | b'\r' | b'\n' | b'"' | b'{') {
                break;
            }
            self.i += 1;
        }
        self.b.get(start..self.i).unwrap_or_default()
    }

    /// A quoted string with its quotes; returns its span.
    fn quoted_span(&mut self) -> Result<(usize, usize), AppendSyntaxError> {
        let start = self.i;
        self.eat(b'"')?;
        loop {
            match self.peek().ok_or(AppendSyntaxError::Invalid)? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Ok((start, self.i));
                }
                b'\r' | b'\n' => return Err(AppendSyntaxError::Invalid),
                _ => self.i += 1,
            }
        }
    }

    /// A literal `{n}`, `{n+}`, `~{n}` or `~{n+}` and its octets: (octets, literal8).
    fn literal(&mut self) -> Result<(&'a [u8], bool), AppendSyntaxError> {
        let binary = self.peek() == Some(b'~');
        if binary {
            self.i += 1;
        }
        self.eat(b'{')?;
        let rest = self.b.get(self.i..).ok_or(AppendSyntaxError::Invalid)?;
        let close = memchr::memchr(b'}', rest).ok_or(AppendSyntaxError::Invalid)?;
        let inner = rest.get(..close).ok_or(AppendSyntaxError::Invalid)?;
        let digits = inner.strip_suffix(b"+").unwrap_or(inner);
        if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
            return Err(AppendSyntaxError::Invalid);
        }
        let n: usize = std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(AppendSyntaxError::Invalid)?;
        self.i += close + 1;
        self.eat(b'\r')?;
        self.eat(b'\n')?;
        let end = self.i.checked_add(n).ok_or(AppendSyntaxError::Invalid)?;
        let octets = self.b.get(self.i..end).ok_or(AppendSyntaxError::Invalid)?;
        self.i = end;
        Ok((octets, binary))
    }

    /// An astring (atom, quoted string or literal) and its span.
    fn astring_span(&mut self) -> Result<(usize, usize), AppendSyntaxError> {
        let start = self.i;
        match self.peek().ok_or(AppendSyntaxError::Invalid)? {
            b'"' => {
                self.quoted_span()?;
            }
            b'{' => {
                self.literal()?;
            }
            _ => {
                if self.word().is_empty() {
                    return Err(AppendSyntaxError::Invalid);
                }
            }
        }
        Ok((start, self.i))
    }

    /// A flag list `( ... )` (flags are atoms: no nesting, strings or literals).
    fn flag_list_span(&mut self) -> Result<(usize, usize), AppendSyntaxError> {
        let start = self.i;
        self.eat(b'(')?;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b')' => return Ok((start, self.i)),
                b'(' | b'"' | b'{' | b'\r' | b'\n' => break,
                _ => {}
            }
        }
        Err(AppendSyntaxError::Invalid)
    }
}

/// The value of an astring span: a quoted string unescaped, a literal's octets, an atom.
fn astring_value(raw: &[u8]) -> Vec<u8> {
    super::extended::string_value(raw)
}

/// Reads an APPEND command; `None` when the command is not APPEND.
pub fn parse(bytes: &[u8]) -> Option<Result<AppendCommand, AppendSyntaxError>> {
    let mut c = Cursor { b: bytes, i: 0 };
    c.word();
    c.eat(b' ').ok()?;
    if !c.word().eq_ignore_ascii_case(b"APPEND") {
        return None;
    }
    Some(parse_arguments(&mut c))
}

fn parse_arguments(c: &mut Cursor<'_>) -> Result<AppendCommand, AppendSyntaxError> {
    c.eat(b' ')?;
    let (ms, me) = c.astring_span()?;
    let mailbox = c.b.get(ms..me).unwrap_or_default().to_vec();
    let mut messages = Vec::new();
    loop {
        if messages.len() == MAX_MESSAGES {
            return Err(AppendSyntaxError::TooManyMessages);
        }
        messages.push(message(c)?);
        if c.at_end() {
            break;
        }
    }
    Ok(AppendCommand { mailbox, messages })
}

/// `SP [flag-list SP] [date-time SP] append-data`.
fn message(c: &mut Cursor<'_>) -> Result<AppendMessage, AppendSyntaxError> {
    c.eat(b' ')?;
    let mut flags = None;
    let mut date = None;
    if c.peek() == Some(b'(') {
        let (s, e) = c.flag_list_span()?;
        flags = Some(c.b.get(s..e).unwrap_or_default().to_vec());
        c.eat(b' ')?;
    }
    if c.peek() == Some(b'"') {
        let (s, e) = c.quoted_span()?;
        date = Some(c.b.get(s..e).unwrap_or_default().to_vec());
        c.eat(b' ')?;
    }
    let data = match c.peek() {
        Some(b'{') | Some(b'~') => {
            let (octets, binary) = c.literal()?;
            AppendData::Literal {
                octets: octets.to_vec(),
                binary,
            }
        }
        _ => {
            let word = c.word();
            c.eat(b' ')?;
            c.eat(b'(')?;
            let data = if word.eq_ignore_ascii_case(b"CATENATE") {
                AppendData::Catenate(cat_parts(c)?)
            } else if word.eq_ignore_ascii_case(b"UTF8") {
                // RFC 6855 §4: the message is a literal8 that may hold UTF-8 headers.
                if c.peek() != Some(b'~') {
                    return Err(AppendSyntaxError::Invalid);
                }
                let (octets, _) = c.literal()?;
                AppendData::Literal {
                    octets: octets.to_vec(),
                    binary: true,
                }
            } else {
                return Err(AppendSyntaxError::Invalid);
            };
            c.eat(b')')?;
            data
        }
    };
    Ok(AppendMessage { flags, date, data })
}

/// `cat-part *(SP cat-part)` up to (not including) the closing parenthesis.
fn cat_parts(c: &mut Cursor<'_>) -> Result<Vec<CatPart>, AppendSyntaxError> {
    let mut parts = Vec::new();
    loop {
        if parts.len() == MAX_CATENATE_PARTS {
            return Err(AppendSyntaxError::TooManyParts);
        }
        let kind = c.word();
        c.eat(b' ')?;
        if kind.eq_ignore_ascii_case(b"TEXT") {
            // RFC 4469 §5 text-literal; a literal8 when the client uses BINARY (RFC 3516).
            let (octets, binary) = c.literal()?;
            parts.push(CatPart::Text {
                octets: octets.to_vec(),
                binary,
            });
        } else if kind.eq_ignore_ascii_case(b"URL") {
            let (s, e) = c.astring_span()?;
            let url = astring_value(c.b.get(s..e).unwrap_or_default());
            if url.len() > MAX_URL {
                return Err(AppendSyntaxError::UrlTooLong);
            }
            parts.push(CatPart::Url(url));
        } else {
            return Err(AppendSyntaxError::Invalid);
        }
        match c.peek() {
            Some(b' ') => c.i += 1,
            Some(b')') => return Ok(parts),
            _ => return Err(AppendSyntaxError::Invalid),
        }
    }
}

/// The flags and date of one message, checked with imap-codec's grammar (RFC 9051 §9
/// flag-list, date-time) so every message of a MULTIAPPEND is held to the same rules as
/// a plain APPEND. `None` when they do not parse.
pub fn decode_options(
    flags: Option<&[u8]>,
    date: Option<&[u8]>,
) -> Option<(Vec<Flag<'static>>, Option<DateTime>)> {
    let mut cmd = b"x APPEND INBOX".to_vec();
    for part in [flags, date].into_iter().flatten() {
        cmd.push(b' ');
        cmd.extend_from_slice(part);
    }
    cmd.extend_from_slice(b" {1}\r\nx\r\n");
    match CommandCodec::default().decode(&cmd) {
        Ok(([], command)) => match command.body.into_static() {
            CommandBody::Append { flags, date, .. } => Some((flags, date)),
            _ => None,
        },
        _ => None,
    }
}

/// The command imap-codec decodes in place of an APPEND read here: the same tag and
/// mailbox, with a placeholder message (the messages travel apart, see
/// [`super::extended::Extension::Append`]).
pub fn placeholder(bytes: &[u8], cmd: &AppendCommand) -> Vec<u8> {
    let tag_end = memchr::memchr(b' ', bytes).unwrap_or(0);
    let mut out = bytes.get(..tag_end).unwrap_or_default().to_vec();
    out.extend_from_slice(b" APPEND ");
    out.extend_from_slice(&cmd.mailbox);
    out.extend_from_slice(b" {1}\r\nx\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(b: &[u8]) -> AppendCommand {
        match parse(b) {
            Some(Ok(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plain_append_and_literal8() {
        let c = ok(b"a APPEND INBOX (\\Seen) \"14-Nov-2023 10:00:00 +0100\" {3}\r\nabc\r\n");
        assert_eq!(c.mailbox, b"INBOX");
        assert_eq!(c.messages.len(), 1);
        let m = &c.messages[0];
        assert_eq!(m.flags.as_deref(), Some(&b"(\\Seen)"[..]));
        assert_eq!(
            m.date.as_deref(),
            Some(&b"\"14-Nov-2023 10:00:00 +0100\""[..])
        );
        assert_eq!(
            m.data,
            AppendData::Literal {
                octets: b"abc".to_vec(),
                binary: false
            }
        );
        let c = ok(b"a APPEND \"My box\" ~{3+}\r\n\0\n\r\r\n");
        assert_eq!(c.mailbox, b"\"My box\"");
        assert_eq!(
            c.messages[0].data,
            AppendData::Literal {
                octets: b"\0\n\r".to_vec(),
                binary: true
            }
        );
        assert_eq!(parse(b"a NOOP\r\n"), None);
    }

    #[test]
    fn multiappend_reads_every_message() {
        // RFC 3502 §6: each message with its own flags and date.
        let c = ok(b"a APPEND INBOX {2}\r\nm1 (\\Flagged) {2+}\r\nm2 \"01-Jan-2020 00:00:00 +0000\" ~{2}\r\nm3\r\n");
        assert_eq!(c.messages.len(), 3);
        assert_eq!(c.messages[1].flags.as_deref(), Some(&b"(\\Flagged)"[..]));
        assert!(c.messages[2].date.is_some());
        assert!(matches!(
            &c.messages[2].data,
            AppendData::Literal { octets, binary: true } if octets == b"m3"
        ));
    }

    #[test]
    fn catenate_parts_and_mixed_forms() {
        let c = ok(
            b"a APPEND Drafts (\\Seen) CATENATE (URL \"/Drafts;UIDVALIDITY=3/;UID=20/;section=HEADER\" TEXT {4}\r\nbody URL /INBOX/;uid=1) {2}\r\nm2\r\n",
        );
        assert_eq!(c.messages.len(), 2);
        let AppendData::Catenate(parts) = &c.messages[0].data else {
            panic!()
        };
        assert_eq!(
            parts,
            &[
                CatPart::Url(b"/Drafts;UIDVALIDITY=3/;UID=20/;section=HEADER".to_vec()),
                CatPart::Text {
                    octets: b"body".to_vec(),
                    binary: false
                },
                CatPart::Url(b"/INBOX/;uid=1".to_vec()),
            ]
        );
        // RFC 6855 §4 UTF8 (literal8).
        let c = ok(b"a APPEND INBOX UTF8 (~{2}\r\nhi)\r\n");
        assert!(matches!(
            &c.messages[0].data,
            AppendData::Literal { binary: true, .. }
        ));
    }

    #[test]
    fn bad_forms_and_limits() {
        for bad in [
            &b"a APPEND INBOX\r\n"[..],
            b"a APPEND INBOX CATENATE ()\r\n",
            b"a APPEND INBOX CATENATE (FOO x)\r\n",
            b"a APPEND INBOX UTF8 ({2}\r\nhi)\r\n",
            b"a APPEND INBOX {5}\r\nab\r\n",
            b"a APPEND INBOX (\\Seen {2}\r\nab\r\n",
            b"a APPEND INBOX {2}\r\nabjunk\r\n",
        ] {
            assert_eq!(
                parse(bad),
                Some(Err(AppendSyntaxError::Invalid)),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut many = b"a APPEND INBOX".to_vec();
        for _ in 0..=MAX_MESSAGES {
            many.extend_from_slice(b" {1+}\r\nx");
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse(&many), Some(Err(AppendSyntaxError::TooManyMessages)));
        let mut parts = b"a APPEND INBOX CATENATE (".to_vec();
        for i in 0..=MAX_CATENATE_PARTS {
            if i > 0 {
                parts.push(b' ');
            }
            parts.extend_from_slice(b"URL x");
        }
        parts.extend_from_slice(b")\r\n");
        assert_eq!(parse(&parts), Some(Err(AppendSyntaxError::TooManyParts)));
        let long = format!(
            "a APPEND INBOX CATENATE (URL \"/{}\")\r\n",
            "a".repeat(MAX_URL)
        );
        assert_eq!(
            parse(long.as_bytes()),
            Some(Err(AppendSyntaxError::UrlTooLong))
        );
    }

    #[test]
    fn options_are_checked_by_imap_codec() {
        let (flags, date) = decode_options(
            Some(b"(\\Seen $Label)"),
            Some(b"\"14-Nov-2023 10:00:00 +0100\""),
        )
        .unwrap();
        assert_eq!(flags.len(), 2);
        assert!(date.is_some());
        assert_eq!(decode_options(None, None), Some((Vec::new(), None)));
        assert_eq!(decode_options(Some(b"(\\Seen"), None), None);
        assert_eq!(decode_options(None, Some(b"\"yesterday\"")), None);
    }

    #[test]
    fn placeholder_keeps_tag_and_mailbox() {
        let raw = b"a1 APPEND {3}\r\nbox {2}\r\nm1 {2}\r\nm2\r\n";
        let c = ok(raw);
        assert_eq!(c.mailbox, b"{3}\r\nbox");
        assert_eq!(placeholder(raw, &c), b"a1 APPEND {3}\r\nbox {1}\r\nx\r\n");
        let cmd = crate::wire::decode_command(&placeholder(raw, &c)).unwrap();
        assert!(matches!(cmd.body, CommandBody::Append { .. }));
    }

    proptest::proptest! {
        /// Untrusted bytes never panic the reader; what it reads keeps its limits.
        #[test]
        fn any_bytes_read_without_panic(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut cmd = b"a APPEND INBOX ".to_vec();
            cmd.extend_from_slice(&tail);
            if let Some(Ok(c)) = parse(&cmd) {
                proptest::prop_assert!(c.messages.len() <= MAX_MESSAGES);
            }
        }
    }
}
