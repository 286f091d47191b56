//! One bounded MIME walk that every check reads: each leaf part with its decoded content,
//! its file name and where it sits in the raw message.
//!
//! Parsing is mail-parser's: it decodes transfer encodings (RFC 2045 §6), charsets, RFC 2047
//! encoded words and RFC 2231 parameters (`filename*=`), never panics, and keeps nested
//! multiparts on its own stack. This module bounds what is handed on: the number of parts
//! and the depth of attached messages (`message/rfc822`, followed because a file inside a
//! forwarded message reaches the reader all the same).

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use std::borrow::Cow;
use std::ops::Range;

/// Bounds of the walk.
#[derive(Debug, Clone, Copy)]
pub struct MimeLimits {
    /// Parts visited per message, nested messages included.
    pub max_parts: usize,
    /// Depth of `message/rfc822` parts followed.
    pub max_depth: usize,
}

impl Default for MimeLimits {
    fn default() -> Self {
        MimeLimits {
            max_parts: 1000,
            max_depth: 5,
        }
    }
}

/// One leaf part (not a multipart container).
#[derive(Debug, Clone)]
pub struct Part<'m> {
    /// The part's number in walk order, from 0.
    pub index: usize,
    /// The part's IMAP-style section path (`1`, `2.1`; RFC 3501 §6.4.5), nested messages
    /// included, for a person to find it.
    pub section: String,
    /// `type/subtype`, lower-case (`text/plain` when the part has no Content-Type).
    pub content_type: String,
    /// The file name, decoded: RFC 2183 `filename` (RFC 2231 `filename*=` and RFC 2047
    /// encoded words undone), else Content-Type's `name`.
    pub filename: Option<String>,
    /// `Content-Disposition: attachment`, or a file name on a part that is not a body.
    pub is_attachment: bool,
    /// The decoded content (transfer encoding undone; text as UTF-8).
    pub body: Cow<'m, [u8]>,
    /// Nesting: 0 in the message itself, 1 inside an attached message, ...
    pub depth: usize,
    /// Where the whole part (its header and body) sits in the raw message, when the part
    /// is in it as such (not inside an encoded attached message): what [`crate::cdr`]
    /// replaces.
    pub raw: Option<Range<usize>>,
    /// Where the part's body (still transfer-encoded) sits in the raw message.
    pub raw_body: Option<Range<usize>>,
    /// The Content-Transfer-Encoding as written, lower-case (`base64`, `7bit`, ...).
    pub encoding: String,
}

impl Part<'_> {
    /// The file name's extension, lower-case, without the dot.
    pub fn extension(&self) -> Option<String> {
        let name = self.filename.as_deref()?;
        let (_, ext) = name.rsplit_once('.')?;
        (!ext.is_empty()).then(|| ext.to_ascii_lowercase())
    }

    /// `text/*` (bodies the spam rules read).
    pub fn is_text(&self) -> bool {
        self.content_type.starts_with("text/")
    }
}

/// The walk's result.
#[derive(Debug, Default)]
pub struct Walk<'m> {
    pub parts: Vec<Part<'m>>,
    /// A bound was reached: some parts were not looked at. The gateway treats the message
    /// as suspicious ([`crate::attachments`] holds it).
    pub truncated: bool,
}

/// Parses `raw` and lists its leaf parts within `limits`. A message mail-parser cannot
/// parse at all gives no parts.
pub fn walk<'m>(message: &'m Message<'m>, raw: &'m [u8], limits: &MimeLimits) -> Walk<'m> {
    let mut walk = Walk::default();
    walk_message(message, raw, 0, "", limits, &mut walk);
    walk
}

/// Parses `raw` with mail-parser (headers and all parts).
pub fn parse(raw: &[u8]) -> Option<Message<'_>> {
    MessageParser::default().parse(raw)
}

fn walk_message<'m>(
    message: &'m Message<'m>,
    outer: &'m [u8],
    depth: usize,
    prefix: &str,
    limits: &MimeLimits,
    walk: &mut Walk<'m>,
) {
    // Offsets are relative to this message's bytes; they are offsets in `outer` too when
    // those bytes are a slice of it (an attached message sent unencoded).
    let base = offset_in(outer, &message.raw_message);
    let sections = sections(message);
    for (id, part) in message.parts.iter().enumerate() {
        if walk.parts.len() >= limits.max_parts {
            walk.truncated = true;
            return;
        }
        let section = match sections.get(id) {
            Some(s) if prefix.is_empty() => s.clone(),
            Some(s) => format!("{prefix}.{s}"),
            None => prefix.to_owned(),
        };
        let ctype = part.content_type();
        let main = ctype.map(|c| c.ctype()).unwrap_or("text");
        let sub = ctype.and_then(|c| c.subtype()).unwrap_or("plain");
        let content_type = format!("{main}/{sub}").to_ascii_lowercase();
        let id32 = u32::try_from(id).unwrap_or(u32::MAX);
        let filename = part.attachment_name().map(str::to_owned);
        let is_body = message.text_body.contains(&id32) || message.html_body.contains(&id32);
        let is_attachment = part
            .content_disposition()
            .is_some_and(|d| d.is_attachment())
            || (filename.is_some() && !is_body);
        let range = |a: u32, b: u32| {
            base.and_then(|base| {
                let (a, b) = (a as usize, b as usize);
                (a <= b && b <= message.raw_message.len()).then(|| base + a..base + b)
            })
        };
        let encoding = part
            .content_transfer_encoding()
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        let leaf = |body: Cow<'m, [u8]>| Part {
            index: walk.parts.len(),
            section: section.clone(),
            content_type: content_type.clone(),
            filename: filename.clone(),
            is_attachment,
            body,
            depth,
            raw: range(part.offset_header, part.offset_end),
            raw_body: range(part.offset_body, part.offset_end),
            encoding: encoding.clone(),
        };
        match &part.body {
            PartType::Multipart(_) => {}
            PartType::Text(text) | PartType::Html(text) => {
                let p = leaf(Cow::Borrowed(text.as_bytes()));
                walk.parts.push(p);
            }
            PartType::Binary(data) | PartType::InlineBinary(data) => {
                let p = leaf(Cow::Borrowed(data.as_ref()));
                walk.parts.push(p);
            }
            PartType::Message(nested) => {
                // The attached message as a whole is a part too (a scanner or a name check
                // may want it), then its own parts.
                let p = leaf(Cow::Borrowed(nested.raw_message.as_ref()));
                walk.parts.push(p);
                if depth + 1 > limits.max_depth {
                    walk.truncated = true;
                    continue;
                }
                walk_message(nested, outer, depth + 1, &section, limits, walk);
            }
        }
    }
}

/// Where `inner` starts within `outer`, when it is a slice of it.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    (i >= o && i + inner.len() <= o + outer.len()).then(|| i - o)
}

/// The section number of each part of `message` (RFC 3501 §6.4.5): the root of a
/// multipart message has none, its children are 1, 2, ..., theirs 1.1, 1.2, ...
fn sections(message: &Message<'_>) -> Vec<String> {
    let mut out = vec![String::new(); message.parts.len()];
    let mut stack: Vec<(usize, String)> = Vec::new();
    match message.parts.first().map(|p| &p.body) {
        Some(PartType::Multipart(_)) => stack.push((0, String::new())),
        Some(_) => {
            if let Some(first) = out.first_mut() {
                *first = "1".to_owned();
            }
        }
        None => {}
    }
    // Each multipart's children get their numbers; the walk is bounded by the part count
    // (every part is a child of one multipart at most).
    let mut visited = 0usize;
    while let Some((id, name)) = stack.pop() {
        visited += 1;
        if visited > message.parts.len() {
            break;
        }
        let Some(PartType::Multipart(children)) = message.parts.get(id).map(|p| &p.body) else {
            continue;
        };
        for (n, child) in children.iter().enumerate() {
            let child = *child as usize;
            let child_name = if name.is_empty() {
                (n + 1).to_string()
            } else {
                format!("{name}.{}", n + 1)
            };
            if let Some(slot) = out.get_mut(child) {
                *slot = child_name.clone();
            }
            stack.push((child, child_name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &[u8] = b"From: a@example.org\r\nTo: b@example.net\r\nSubject: files\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain\r\n\r\nHello\r\n\
--b1\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf.exe\r\n\
Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n\
--b1\r\nContent-Type: message/rfc822\r\n\r\n\
From: c@example.com\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=b2\r\n\r\n\
--b2\r\nContent-Type: text/plain\r\n\r\ninner text\r\n\
--b2\r\nContent-Type: application/zip; name=\"=?UTF-8?B?YS56aXA=?=\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--b2--\r\n\
--b1--\r\n";

    #[test]
    fn leaves_have_decoded_names_bodies_sections_and_offsets() {
        let message = parse(MIXED).expect("parses");
        let walk = walk(&message, MIXED, &MimeLimits::default());
        assert!(!walk.truncated);
        let names: Vec<_> = walk
            .parts
            .iter()
            .map(|p| {
                (
                    p.section.as_str(),
                    p.content_type.as_str(),
                    p.filename.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("1", "text/plain", None),
                ("2", "application/octet-stream", Some("résumé.pdf.exe")),
                ("3", "message/rfc822", None),
                ("3.1", "text/plain", None),
                ("3.2", "application/zip", Some("a.zip")),
            ]
        );
        let exe = &walk.parts[1];
        assert!(exe.is_attachment);
        assert_eq!(exe.extension().as_deref(), Some("exe"));
        assert!(exe.body.starts_with(b"MZ"));
        assert_eq!(exe.encoding, "base64");
        let raw = exe.raw.clone().expect("top-level part has offsets");
        assert!(MIXED[raw].starts_with(b"Content-Type: application/octet-stream"));
        // The attached message was sent unencoded: its parts have offsets in the outer
        // message as well.
        let zip = &walk.parts[4];
        assert_eq!(zip.depth, 1);
        let body = zip.raw_body.clone().expect("offsets in the outer message");
        assert!(MIXED[body].starts_with(b"UEsDBA=="));
    }

    #[test]
    fn the_part_bound_is_reported() {
        let message = parse(MIXED).expect("parses");
        let limits = MimeLimits {
            max_parts: 2,
            max_depth: 5,
        };
        let walk = walk(&message, MIXED, &limits);
        assert_eq!(walk.parts.len(), 2);
        assert!(walk.truncated);
    }

    #[test]
    fn the_depth_bound_is_reported() {
        let message = parse(MIXED).expect("parses");
        let limits = MimeLimits {
            max_parts: 100,
            max_depth: 0,
        };
        let walk = walk(&message, MIXED, &limits);
        assert_eq!(walk.parts.len(), 3);
        assert!(walk.truncated);
    }
}
