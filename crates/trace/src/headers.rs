//! The headers of a message: raw, in order, for the header lookups of the analysis, and
//! the few the report decodes (addresses, subject, message ID), parsed by mail-parser.
//!
//! Splitting: mail-parser reads every header byte by byte, which was a sixth of `trace`'s
//! time. When every header line is plain (a name of printable ASCII up to a `:` at the start
//! of the line), [`split_plain`] finds the same headers with a vectorised newline search,
//! and only the headers the report decodes go through mail-parser. The two agree exactly
//! on such blocks (a test compares them); anything else is left to mail-parser whole.
//!
//! Lookups: a message has a few dozen headers and the analysis asks for about twenty names,
//! so each header's name is matched once against the names asked for ([`LOOKED_UP`]), and a
//! lookup is then an integer comparison per header.

use crate::trust::ORIGINATING_IP_HEADERS;
use mail_parser::{HeaderName, Message, MessageParser};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

/// Only the headers the report decodes are parsed structurally; the rest stay raw (and
/// cost only the scan for their end). Keep in step with [`DECODED`].
static PARSER: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .default_header_ignore()
        .header_address(HeaderName::From)
        .header_address(HeaderName::To)
        .header_address(HeaderName::ReplyTo)
        .header_address(HeaderName::Sender)
        .header_text(HeaderName::Subject)
        .header_id(HeaderName::MessageId)
});

/// The names (lower-case) of the headers [`PARSER`] decodes.
const DECODED: &[&str] = &["from", "to", "reply-to", "sender", "subject", "message-id"];

/// A message's headers, raw and decoded.
pub(crate) struct Parsed<'a> {
    /// Every header, in order.
    pub raw: RawHeaders<'a>,
    /// The headers [`DECODED`] names, parsed; None when there are none.
    pub decoded: Option<Message<'a>>,
}

/// Splits and decodes the header block `head` (`text` is the same bytes when they are valid
/// UTF-8). `scratch` holds the decoded headers' text for the result to borrow. None when
/// the block holds no header at all.
pub(crate) fn parse<'a>(
    head: &'a [u8],
    text: Option<&'a str>,
    scratch: &'a mut Vec<u8>,
) -> Option<Parsed<'a>> {
    if let Some(raw) = split_plain(head, text, scratch) {
        if raw.headers.is_empty() {
            return None;
        }
        let scratch: &'a [u8] = scratch;
        let decoded = if scratch.is_empty() {
            None
        } else {
            PARSER.parse_headers(scratch)
        };
        return Some(Parsed { raw, decoded });
    }
    let message = PARSER.parse_headers(head)?;
    let mut raw = RawHeaders::with_capacity(message.headers().len());
    for h in message.headers() {
        let name = match &h.name {
            HeaderName::Other(Cow::Borrowed(name)) => Cow::Borrowed(*name),
            HeaderName::Other(Cow::Owned(name)) => Cow::Owned(name.clone()),
            known => Cow::Borrowed(known.as_static_str()),
        };
        let range = h.offset_start as usize..h.offset_end as usize;
        raw.push(name, value_of(head, text, range));
    }
    Some(Parsed {
        raw,
        decoded: Some(message),
    })
}

/// A header value as the report shows it: trimmed, borrowed when the block is UTF-8.
fn value_of<'a>(head: &'a [u8], text: Option<&'a str>, range: Range<usize>) -> Cow<'a, str> {
    let value: Cow<'a, str> = match text {
        Some(text) => Cow::Borrowed(text.get(range).unwrap_or_default()),
        None => head
            .get(range)
            .map(String::from_utf8_lossy)
            .unwrap_or_default(),
    };
    match value {
        Cow::Borrowed(v) => Cow::Borrowed(v.trim_end_matches(['\r', '\n']).trim_start()),
        Cow::Owned(v) => Cow::Owned(v.trim_end_matches(['\r', '\n']).trim_start().to_string()),
    }
}

/// Splits `head` into headers exactly as mail-parser would, when every header is plain:
/// its line starts with a name of printable ASCII (no `:`) directly followed by `:`. The
/// header then runs to the first newline not followed by a space or tab (mail-parser's end
/// rule for every header kind: its decoders never read past such a newline), and the block
/// ends at an empty line (`\n` or `\r\n`) or the end of input. The lines of the headers
/// in [`DECODED`] are appended to `decoded`, in order. None when a line is not plain.
fn split_plain<'a>(
    head: &'a [u8],
    text: Option<&'a str>,
    decoded: &mut Vec<u8>,
) -> Option<RawHeaders<'a>> {
    let mut raw = RawHeaders::with_capacity(32);
    // One pass over the block's newlines serves every header.
    let mut newlines = memchr::memchr_iter(b'\n', head);
    let mut pos = 0;
    while let Some(rest) = head.get(pos..) {
        if matches!(rest, [] | [b'\n', ..] | [b'\r', b'\n', ..]) {
            break;
        }
        let name_len = rest
            .iter()
            .position(|&b| !(b.is_ascii_graphic() && b != b':'))?;
        if name_len == 0 || rest.get(name_len) != Some(&b':') {
            return None;
        }
        let name = std::str::from_utf8(rest.get(..name_len)?).ok()?;
        let value_start = pos + name_len + 1;
        let end = header_end(head, value_start, &mut newlines);
        if DECODED.iter().any(|d| d.eq_ignore_ascii_case(name)) {
            decoded.extend_from_slice(head.get(pos..end)?);
        }
        raw.push(Cow::Borrowed(name), value_of(head, text, value_start..end));
        pos = end;
    }
    Some(raw)
}

/// The end of the header whose value starts at `from`: just after the first newline not
/// followed by a space or tab (RFC 5322 §2.2.3 folding), or the end of `head`. `newlines`
/// yields the positions of `head`'s newlines in order; those before `from` are skipped.
fn header_end(head: &[u8], from: usize, newlines: &mut impl Iterator<Item = usize>) -> usize {
    for nl in newlines.by_ref() {
        if nl >= from && !matches!(head.get(nl + 1), Some(b' ' | b'\t')) {
            return nl + 1;
        }
    }
    head.len()
}

/// Lower-case names the analysis looks up, besides [`ORIGINATING_IP_HEADERS`].
const LOOKED_UP: &[&str] = &[
    "received",
    "date",
    "return-path",
    "authentication-results",
    "arc-authentication-results",
    "received-spf",
    "dkim-signature",
    "arc-seal",
    "list-id",
    "list-unsubscribe",
    "list-post",
    "precedence",
    "content-type",
];

/// The id of a header name no lookup asks for.
const UNKNOWN: usize = usize::MAX;

/// The index of `name` (any case) among [`LOOKED_UP`] then [`ORIGINATING_IP_HEADERS`].
fn id_ignoring_case(name: &str) -> usize {
    LOOKED_UP
        .iter()
        .chain(ORIGINATING_IP_HEADERS)
        .position(|known| known.eq_ignore_ascii_case(name))
        .unwrap_or(UNKNOWN)
}

/// The index of a lower-case `name` a lookup asks for, if it is a listed one.
fn id_of(name: &str) -> Option<usize> {
    LOOKED_UP
        .iter()
        .chain(ORIGINATING_IP_HEADERS)
        .position(|known| *known == name)
}

/// One header: its name as mail-parser reports it, and its value.
struct Header<'a> {
    name: Cow<'a, str>,
    id: usize,
    value: Cow<'a, str>,
}

/// The raw headers of a message, in order: names as written, values borrowed from the
/// input when it is valid UTF-8.
#[derive(Default)]
pub(crate) struct RawHeaders<'a> {
    headers: Vec<Header<'a>>,
}

impl<'a> RawHeaders<'a> {
    /// Room for `n` headers.
    pub(crate) fn with_capacity(n: usize) -> Self {
        RawHeaders {
            headers: Vec::with_capacity(n),
        }
    }

    /// Appends a header.
    pub(crate) fn push(&mut self, name: Cow<'a, str>, value: Cow<'a, str>) {
        self.headers.push(Header {
            id: id_ignoring_case(&name),
            name,
            value,
        });
    }

    /// Values of every header called `name` (ASCII case-insensitive, RFC 5322 §1.2.2).
    /// `name` is lower-case.
    pub(crate) fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        let id = id_of(name);
        self.headers
            .iter()
            .filter(move |h| match id {
                Some(id) => h.id == id,
                None => h.name.eq_ignore_ascii_case(name),
            })
            .map(|h| h.value.as_ref())
    }

    /// The value of the first header called `name` (lower-case).
    pub(crate) fn first<'s>(&'s self, name: &'s str) -> Option<&'s str> {
        self.all(name).next()
    }

    /// True when a header called `name` (lower-case) is present.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.all(name).next().is_some()
    }

    /// Lower-cased names of the `X-` headers (the provider-specific ones).
    pub(crate) fn x_header_names(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|h| {
                h.name
                    .get(..2)
                    .is_some_and(|p| p.eq_ignore_ascii_case("x-"))
            })
            .map(|h| h.name.to_ascii_lowercase())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::Address;
    use proptest::prelude::*;

    /// What the analysis takes from a parse: every header (lower-case name, value) and the
    /// decoded fields.
    fn outcome(raw: &RawHeaders<'_>, decoded: Option<&Message<'_>>) -> String {
        let headers: Vec<(String, &str)> = raw
            .headers
            .iter()
            .map(|h| (h.name.to_ascii_lowercase(), h.value.as_ref()))
            .collect();
        let first = |a: Option<&Address<'_>>| {
            a.and_then(Address::first).map(|a| {
                (
                    a.name().map(str::to_string),
                    a.address().map(str::to_string),
                )
            })
        };
        let to: Vec<Option<String>> = decoded
            .and_then(Message::to)
            .map(|t| t.iter().map(|a| a.address().map(str::to_string)).collect())
            .unwrap_or_default();
        format!(
            "{headers:?} from={:?} to={to:?} subject={:?} id={:?} reply={:?} sender={:?}",
            first(decoded.and_then(Message::from)),
            decoded.and_then(Message::subject),
            decoded.and_then(Message::message_id),
            first(decoded.and_then(Message::reply_to)),
            first(decoded.and_then(Message::sender)),
        )
    }

    /// The outcome of `parse` against that of mail-parser on the whole block; None when
    /// the block is not plain (then `parse` is mail-parser on the whole block).
    fn fast_and_full(head: &[u8]) -> Option<(String, String)> {
        let text = std::str::from_utf8(head).ok();
        let mut scratch = Vec::new();
        let raw = split_plain(head, text, &mut scratch)?;
        let decoded = if scratch.is_empty() {
            None
        } else {
            PARSER.parse_headers(scratch.as_slice())
        };
        let fast = if raw.headers.is_empty() {
            "none".to_string()
        } else {
            outcome(&raw, decoded.as_ref())
        };
        let full = match PARSER.parse_headers(head) {
            None => "none".to_string(),
            Some(message) => {
                let mut raw = RawHeaders::default();
                for h in message.headers() {
                    let range = h.offset_start as usize..h.offset_end as usize;
                    raw.push(
                        Cow::Owned(h.name.as_str().to_string()),
                        value_of(head, text, range),
                    );
                }
                outcome(&raw, Some(&message))
            }
        };
        Some((fast, full))
    }

    #[test]
    fn plain_blocks_split_as_mail_parser_does() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                // `phishing/` and `ordinary/` (issue 14) hold whole messages of their own.
                continue;
            }
            let raw = std::fs::read(path).expect("read");
            let head = raw.get(..crate::source::header_end(&raw)).unwrap_or(&raw);
            let (fast, full) = fast_and_full(head).expect("fixtures are plain");
            assert_eq!(fast, full);
            seen += 1;
        }
        assert!(seen >= 5);
        for head in [
            &b""[..],
            b"\n",
            b"\r\nFrom: a@b\n",
            b"Subject: no newline",
            b"From: \"x\n y\" <a@b.example>\nTo: c@d.example,\n\te@f.example\n\nbody",
            b"Subject: =?utf-8?b?w4Rydr\nX: y?=\nFrom: a@b\n",
            b"Subject: =?utf-8?q?a=20\n b?=\r\nMessage-ID: <x@y>\r\n\r\n",
            b"From: a@b\nFrom: c@d\nTo: e@f\n\n",
        ] {
            if let Some((fast, full)) = fast_and_full(head) {
                assert_eq!(fast, full, "{}", String::from_utf8_lossy(head));
            }
        }
    }

    fn header_block() -> impl Strategy<Value = Vec<u8>> {
        let name = prop::sample::select(vec![
            "From",
            "to",
            "SUBJECT",
            "Message-ID",
            "Reply-To",
            "sender",
            "Received",
            "X-Test",
            "Cc",
            "Bad Name",
            "",
            " From",
            "X.y",
            "Fr\u{f6}m",
            "\tX",
            "Date",
        ]);
        let sep = prop::sample::select(vec![":", ": ", " :", ""]);
        let piece = prop::sample::select(vec![
            "a@b.example",
            "\"Q, N\" <q@x.example>",
            "=?UTF-8?B?w4RydGVy?=",
            "=?utf-8?q?a=20b?=",
            "<id@x.example>",
            "(comment)",
            "\n ",
            "\n\t",
            "\r\n ",
            "\n",
            "\r\n",
            "\n\n",
            "\"open",
            "=?utf-8?b?w4Rydr",
            "?=",
            "\u{fc}",
            ",",
            " ",
            "<",
            ">",
            "\\",
        ]);
        let line = (
            name,
            sep,
            prop::collection::vec(piece, 0..6),
            prop::sample::select(vec!["\n", "\r\n", ""]),
        )
            .prop_map(|(n, s, v, e)| format!("{n}{s}{}{e}", v.concat()));
        prop::collection::vec(line, 0..6).prop_map(|lines| lines.concat().into_bytes())
    }

    proptest! {
        #[test]
        fn any_plain_block_splits_as_mail_parser_does(head in header_block()) {
            if let Some((fast, full)) = fast_and_full(&head) {
                prop_assert_eq!(fast, full);
            }
        }
    }

    #[test]
    fn lookups_ignore_case_and_keep_order() {
        let mut h = RawHeaders::default();
        h.push("Received".into(), "one".into());
        h.push("X-Mailer".into(), "m".into());
        h.push("RECEIVED".into(), "two".into());
        h.push("x-originating-ip".into(), "[192.0.2.1]".into());
        h.push("Subject".into(), "s".into());
        assert_eq!(h.all("received").collect::<Vec<_>>(), ["one", "two"]);
        assert_eq!(h.first("x-originating-ip"), Some("[192.0.2.1]"));
        // A name outside the list is compared as a string.
        assert_eq!(h.first("subject"), Some("s"));
        assert!(!h.has("list-id"));
        assert_eq!(h.x_header_names(), ["x-mailer", "x-originating-ip"]);
    }
}
