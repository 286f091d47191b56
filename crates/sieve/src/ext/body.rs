//! RFC 5173 body: the values the `body` test compares (`:raw`, `:content`, `:text`).

use mail_parser::{MessageParser, MimeHeaders, PartType};

use crate::compile::Node;
use crate::eval::Run;

/// Body values for a `body` test: RFC 5173 §5.1 `:raw` (undecoded), §5.2 `:content`
/// (the decoded parts of the listed types), §5.3 `:text` (the default: text parts).
pub fn body_values(run: &Run<'_>, node: &Node) -> Vec<String> {
    // A message without a body has no body to match (RFC 5173 §5).
    if run.message.body.is_empty() {
        return Vec::new();
    }
    if node.has_tag("raw") {
        return vec![String::from_utf8_lossy(&run.message.body).into_owned()];
    }
    let types: Vec<String> = match node.tag_value("content") {
        Some(value) => run.strings(Some(value)),
        None => vec!["text".to_string()],
    };
    let raw = run.message.to_bytes();
    let Some(parsed) = MessageParser::default().parse(&raw) else {
        return vec![String::from_utf8_lossy(&run.message.body).into_owned()];
    };
    let mut out = Vec::new();
    collect(&parsed, &types, node.has_tag("content"), &raw, 0, &mut out);
    out
}

/// [`body_values`], read once per run for each `:raw`/`:content` choice (the message is
/// parsed again only after it changed).
pub fn cached_body_values(run: &mut Run<'_>, node: &Node) -> std::rc::Rc<Vec<String>> {
    let content = node
        .tag_value("content")
        .map(|value| run.strings(Some(value)));
    let key = (node.has_tag("raw"), content);
    if let Some(found) = run.body_values.get(&key) {
        return found.clone();
    }
    let values = std::rc::Rc::new(body_values(run, node));
    run.body_values.insert(key, values.clone());
    values
}

/// Nested messages read at most (message/rfc822 inside message/rfc822...).
const MAX_NESTED_MESSAGES: usize = 8;

/// The decoded contents of `message`'s parts of the wanted types, nested messages
/// included (RFC 5173 §5.2: a message/rfc822 part is searched through its own parts;
/// with `:content "message/rfc822"` its header too).
fn collect(
    message: &mail_parser::Message<'_>,
    types: &[String],
    content: bool,
    raw: &[u8],
    depth: usize,
    out: &mut Vec<String>,
) {
    for part in &message.parts {
        let (main, sub) = match part.content_type() {
            Some(ct) => (
                ct.ctype().to_ascii_lowercase(),
                ct.subtype().unwrap_or("").to_ascii_lowercase(),
            ),
            None => ("text".to_string(), "plain".to_string()),
        };
        // A malformed type ("text/plain/stupid") is no type at all.
        let malformed = sub.contains('/');
        let xhtml = main == "application" && sub == "xhtml+xml";
        let wanted = !malformed
            && (xhtml && !content
                || types.iter().any(|t| {
                    let t = t.to_ascii_lowercase();
                    // RFC 5173 §5.2: "type" or "type/subtype"; anything else matches nothing.
                    t.matches('/').count() <= 1
                        && (t.is_empty()
                            || match t.split_once('/') {
                                Some((m, s)) => m == main && s == sub,
                                None => t == main,
                            })
                }));
        if let PartType::Message(nested) = &part.body {
            if wanted && content {
                // The nested message's header is its content here.
                let start = usize::try_from(part.offset_body).unwrap_or(usize::MAX);
                let end = usize::try_from(part.offset_end).unwrap_or(usize::MAX);
                if let Some(bytes) = raw.get(start..end) {
                    out.push(String::from_utf8_lossy(bytes).into_owned());
                }
            }
            if depth < MAX_NESTED_MESSAGES {
                let nested_raw = nested.raw_message();
                collect(nested, types, content, nested_raw, depth + 1, out);
            }
            continue;
        }
        if !wanted {
            continue;
        }
        let text = match &part.body {
            PartType::Text(text) => text.to_string(),
            PartType::Html(html) if content => html.to_string(),
            PartType::Html(html) => strip_tags(html),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) if content => {
                String::from_utf8_lossy(bytes).into_owned()
            }
            // RFC 5173 §5.3: XHTML is text too, read without its markup.
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) if xhtml => {
                strip_tags(&String::from_utf8_lossy(bytes))
            }
            // RFC 5173 §5.2: a multipart part matches on its prologue and epilogue.
            PartType::Multipart(_) if content => {
                let start = usize::try_from(part.offset_body).unwrap_or(usize::MAX);
                let end = usize::try_from(part.offset_end).unwrap_or(usize::MAX);
                match raw.get(start..end) {
                    Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                    None => continue,
                }
            }
            _ => continue,
        };
        out.push(text);
    }
}

/// RFC 5173 §5.3: HTML parts are compared as text.
pub(crate) fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}
