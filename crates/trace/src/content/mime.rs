//! The MIME walk of the content pass: text and HTML bodies and attachments, bounded.
//!
//! Parsing is mail-parser's (it never panics and keeps nested multiparts on its own stack);
//! this module bounds what is looked at: the bytes of the message, the number of parts, the
//! depth of attached messages and the size of each body handed on.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

/// Bounds of the content pass. Past them the rest is skipped and the report says so.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of a message that are parsed at all (the rest is not read).
    pub max_message_bytes: usize,
    /// Parts visited per message, nested messages included.
    pub max_parts: usize,
    /// Depth of `message/rfc822` parts followed (a forward of a forward ...).
    pub max_depth: usize,
    /// Bytes of one text or HTML body scanned for links and wording.
    pub max_body_bytes: usize,
    /// Bytes of one attachment inspected (HTML smuggling, archive headers).
    pub max_attachment_bytes: usize,
    /// Links kept per message.
    pub max_links: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 12 << 20,
            max_parts: 100,
            max_depth: 3,
            max_body_bytes: 512 << 10,
            max_attachment_bytes: 4 << 20,
            max_links: 300,
        }
    }
}

/// One part the walk hands on.
#[derive(Debug)]
pub enum Part<'p> {
    /// A `text/plain` (or other text) body.
    Text(&'p str),
    /// A `text/html` body.
    Html(&'p str),
    /// An attachment (or inline non-body part), decoded, cut to the limit.
    Attachment(AttachmentPart<'p>),
}

/// An attachment as the checks see it.
#[derive(Debug, Clone, Copy)]
pub struct AttachmentPart<'p> {
    /// The file name (RFC 2183 `filename`, or `name` of Content-Type), if any.
    pub name: Option<&'p str>,
    /// `type/subtype`, lower-case as written (may be empty).
    pub content_type: &'p str,
    pub subtype: &'p str,
    /// Decoded bytes, at most [`Limits::max_attachment_bytes`].
    pub data: &'p [u8],
    /// The decoded size before the cut.
    pub size: usize,
}

/// What the walk noticed besides the parts.
#[derive(Debug, Default, Clone, Copy)]
pub struct Shape {
    /// Parts visited.
    pub parts: usize,
    /// A limit was reached: some content was not looked at.
    pub truncated: bool,
    /// The message carries a `text/calendar` part (an invitation).
    pub calendar: bool,
    /// The message is a delivery or disposition report (RFC 3462 `multipart/report`).
    pub report: bool,
}

/// Parses `raw` (a whole message) and calls `visit` for each body and attachment, in
/// order, within `limits`.
pub fn walk(raw: &[u8], limits: &Limits, visit: &mut dyn FnMut(Part<'_>)) -> Shape {
    let mut shape = Shape::default();
    let raw = match raw.get(..limits.max_message_bytes) {
        Some(cut) if cut.len() < raw.len() => {
            shape.truncated = true;
            cut
        }
        _ => raw,
    };
    if let Some(message) = MessageParser::default().parse(raw) {
        walk_message(&message, 0, limits, &mut shape, visit);
    }
    shape
}

fn walk_message(
    message: &Message<'_>,
    depth: usize,
    limits: &Limits,
    shape: &mut Shape,
    visit: &mut dyn FnMut(Part<'_>),
) {
    for (id, part) in message.parts.iter().enumerate() {
        if shape.parts >= limits.max_parts {
            shape.truncated = true;
            return;
        }
        shape.parts += 1;
        let ctype = part.content_type();
        let main = ctype.map(|c| c.ctype()).unwrap_or("text");
        let sub = ctype.and_then(|c| c.subtype()).unwrap_or("plain");
        if main.eq_ignore_ascii_case("multipart") && sub.eq_ignore_ascii_case("report")
            || main.eq_ignore_ascii_case("message")
                && (sub.eq_ignore_ascii_case("delivery-status")
                    || sub.eq_ignore_ascii_case("disposition-notification"))
        {
            shape.report = true;
        }
        if main.eq_ignore_ascii_case("text") && sub.eq_ignore_ascii_case("calendar") {
            shape.calendar = true;
        }
        let id = u32::try_from(id).unwrap_or(u32::MAX);
        // RFC 2183: a part with a file name or `Content-Disposition: attachment` is a file,
        // whatever its type; a body part is one mail-parser put in the text/HTML body.
        let is_body = (message.text_body.contains(&id) || message.html_body.contains(&id))
            && part.attachment_name().is_none()
            && !part
                .content_disposition()
                .is_some_and(|d| d.is_attachment());
        match &part.body {
            PartType::Text(text) if is_body => visit(Part::Text(cut_str(text, limits, shape))),
            PartType::Html(html) if is_body => visit(Part::Html(cut_str(html, limits, shape))),
            PartType::Text(text) | PartType::Html(text) => {
                if !sub.eq_ignore_ascii_case("calendar") {
                    attachment(part, main, sub, text.as_bytes(), limits, shape, visit);
                }
            }
            PartType::Binary(data) | PartType::InlineBinary(data) => {
                attachment(part, main, sub, data, limits, shape, visit);
            }
            PartType::Message(nested) => {
                if depth + 1 < limits.max_depth {
                    walk_message(nested, depth + 1, limits, shape, visit);
                } else {
                    shape.truncated = true;
                }
            }
            PartType::Multipart(_) => {}
        }
    }
}

fn attachment(
    part: &mail_parser::MessagePart<'_>,
    main: &str,
    sub: &str,
    data: &[u8],
    limits: &Limits,
    shape: &mut Shape,
    visit: &mut dyn FnMut(Part<'_>),
) {
    let cut = match data.get(..limits.max_attachment_bytes) {
        Some(cut) if cut.len() < data.len() => {
            shape.truncated = true;
            cut
        }
        _ => data,
    };
    visit(Part::Attachment(AttachmentPart {
        name: part.attachment_name(),
        content_type: main,
        subtype: sub,
        data: cut,
        size: data.len(),
    }));
}

/// `s` cut to the body limit at a character boundary.
fn cut_str<'s>(s: &'s str, limits: &Limits, shape: &mut Shape) -> &'s str {
    if s.len() <= limits.max_body_bytes {
        return s;
    }
    shape.truncated = true;
    let mut end = limits.max_body_bytes;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}
