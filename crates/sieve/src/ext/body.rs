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
    for part in &parsed.parts {
        let (main, sub) = match part.content_type() {
            Some(ct) => (
                ct.ctype().to_ascii_lowercase(),
                ct.subtype().unwrap_or("").to_ascii_lowercase(),
            ),
            None => ("text".to_string(), "plain".to_string()),
        };
        let wanted = types.iter().any(|t| {
            let t = t.to_ascii_lowercase();
            // RFC 5173 §5.2: "type" or "type/subtype"; anything else matches nothing.
            t.matches('/').count() <= 1
                && (t.is_empty()
                    || match t.split_once('/') {
                        Some((m, s)) => m == main && s == sub,
                        None => t == main,
                    })
        });
        if !wanted {
            continue;
        }
        // RFC 5173 §5.2: multipart parts match on their prologue/epilogue only; we skip them.
        let text = match &part.body {
            PartType::Text(text) => text.to_string(),
            PartType::Html(html) if node.has_tag("content") => html.to_string(),
            PartType::Html(html) => strip_tags(html),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) if node.has_tag("content") => {
                String::from_utf8_lossy(bytes).into_owned()
            }
            _ => continue,
        };
        out.push(text);
    }
    out
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
