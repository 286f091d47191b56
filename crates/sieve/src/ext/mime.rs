//! RFC 5703 MIME part tests and iteration: `foreverypart`, `break`, the `:mime` /
//! `:anychild` options of `header`, `address` and `exists`, and `extracttext`.

use mail_parser::{MessageParser, PartType};

use crate::message::{HeaderField, Message};

/// MIME parts read at most (RFC 5703 §3: implementations may limit iteration).
const MAX_PARTS: usize = 1000;

/// foreverypart loops nested at most, includes counted (RFC 5703 §3 leaves the limit to
/// the implementation; Pigeonhole's is 4 as well).
pub const MAX_LOOP_NESTING: usize = 4;

/// One MIME part of the message.
#[derive(Debug, Clone)]
pub struct MimePart {
    pub headers: Vec<HeaderField>,
    /// The decoded text of a text part (RFC 5703 §7 extracttext), empty otherwise.
    pub text: String,
    pub children: Vec<usize>,
}

/// The message's parts: index 0 is the message itself.
pub fn parts(message: &Message) -> Vec<MimePart> {
    let raw = message.to_bytes();
    let Some(parsed) = MessageParser::default().parse(&raw) else {
        return vec![MimePart {
            headers: message.headers.clone(),
            text: String::from_utf8_lossy(&message.body).into_owned(),
            children: Vec::new(),
        }];
    };
    parsed
        .parts
        .iter()
        .take(MAX_PARTS)
        .enumerate()
        .map(|(index, part)| {
            let start = usize::try_from(part.offset_header).unwrap_or(usize::MAX);
            let end = usize::try_from(part.offset_body).unwrap_or(usize::MAX);
            let headers = if index == 0 {
                message.headers.clone()
            } else {
                raw.get(start..end)
                    .map(|h| Message::parse(h).headers)
                    .unwrap_or_default()
            };
            let text = match &part.body {
                PartType::Text(text) => text.to_string(),
                // RFC 5703 §7: the text of an HTML part, not its markup.
                PartType::Html(html) => crate::ext::body::strip_tags(html),
                _ => String::new(),
            };
            let children = part
                .sub_parts()
                .map(|ids| {
                    ids.iter()
                        .map(|&id| id as usize)
                        .filter(|&id| id < MAX_PARTS)
                        .collect()
                })
                .unwrap_or_default();
            MimePart {
                headers,
                text,
                children,
            }
        })
        .collect()
}

/// The parts below `index`, depth first (RFC 5703 §3 iteration order).
pub fn descendants(parts: &[MimePart], index: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut stack: Vec<usize> = parts
        .get(index)
        .map(|p| p.children.iter().rev().copied().collect())
        .unwrap_or_default();
    while let Some(next) = stack.pop() {
        if out.len() >= MAX_PARTS || out.contains(&next) || next == index {
            break;
        }
        out.push(next);
        if let Some(part) = parts.get(next) {
            stack.extend(part.children.iter().rev().copied());
        }
    }
    out
}

/// A Content-Type value split into type, subtype and parameters (RFC 2045 §5.1); no
/// Content-Type is text/plain (§5.2).
pub fn content_type(headers: &[HeaderField]) -> (String, String, Vec<(String, String)>) {
    let Some(field) = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-type"))
    else {
        return ("text".into(), "plain".into(), Vec::new());
    };
    structured_value(&field.unfolded())
}

/// A structured MIME value (Content-Type, Content-Disposition): the value before the
/// first `;` as type and subtype, then `name=value` parameters (RFC 2045 §5.1,
/// RFC 2183 §2).
pub fn structured_value(value: &str) -> (String, String, Vec<(String, String)>) {
    let mut pieces = value.split(';');
    let full = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
    let (main, sub) = full.split_once('/').unwrap_or((full.as_str(), ""));
    let raw: Vec<(String, String)> = pieces
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            )
        })
        .collect();
    (
        main.trim().to_string(),
        sub.trim().to_string(),
        join_rfc2231(raw),
    )
}

/// RFC 2231 §3-§4: `name*0*=charset'lang'%XX..`, `name*1=...` continuations and
/// percent-encoded values become one parameter.
fn join_rfc2231(raw: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut pieces: Vec<(String, u32, bool, String)> = Vec::new();
    for (name, value) in raw {
        let Some((base, rest)) = name.split_once('*') else {
            out.push((name, value));
            continue;
        };
        let encoded = rest.ends_with('*') || rest.is_empty();
        let index = rest.trim_end_matches('*').parse().unwrap_or(0);
        pieces.push((base.to_string(), index, encoded, value));
    }
    pieces.sort_by(|a, b| (a.0.as_str(), a.1).cmp(&(b.0.as_str(), b.1)));
    let mut current: Option<(String, Vec<u8>)> = None;
    for (base, index, encoded, value) in pieces {
        if current.as_ref().is_none_or(|(name, _)| *name != base) {
            if let Some((name, bytes)) = current.take() {
                out.push((name, String::from_utf8_lossy(&bytes).into_owned()));
            }
            current = Some((base.clone(), Vec::new()));
        }
        let mut text = value.as_str();
        if encoded && index == 0 {
            // charset'language'value
            let mut parts = text.splitn(3, '\'');
            if let (Some(_), Some(_), Some(rest)) = (parts.next(), parts.next(), parts.next()) {
                text = rest;
            }
        }
        if let Some((_, bytes)) = current.as_mut() {
            if encoded {
                bytes.extend(percent_decode(text));
            } else {
                bytes.extend_from_slice(text.as_bytes());
            }
        }
    }
    if let Some((name, bytes)) = current {
        out.push((name, String::from_utf8_lossy(&bytes).into_owned()));
    }
    out
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(value) = u8::from_str_radix(&String::from_utf8_lossy(hex), 16)
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

use crate::compile::Node;
use crate::eval::{Flow, Run};
use std::rc::Rc;

impl Run<'_> {
    /// The MIME parts, read once per message version.
    pub(crate) fn mime_parts(&mut self) -> Rc<Vec<MimePart>> {
        if let Some(parts) = &self.mime_parts {
            return parts.clone();
        }
        let parts = Rc::new(parts(&self.message));
        self.mime_parts = Some(parts.clone());
        parts
    }

    /// RFC 5703 §4: the header fields a test with `:mime` / `:anychild` looks at: the
    /// current part's (the message's outside foreverypart), or with `:anychild` those of
    /// every part below it. `None` without those options: the message header.
    pub(crate) fn mime_fields(&mut self, node: &Node, name: &str) -> Option<Vec<HeaderField>> {
        if !node.has_tag("mime") && !node.has_tag("anychild") {
            return None;
        }
        let parts = self.mime_parts();
        let current = self.current_part.unwrap_or(0);
        let indices = if node.has_tag("anychild") {
            // The current part and every part below it.
            let mut all = vec![current];
            all.extend(descendants(&parts, current));
            all
        } else {
            vec![current]
        };
        Some(
            indices
                .iter()
                .filter_map(|&i| parts.get(i))
                .flat_map(|p| {
                    p.headers
                        .iter()
                        .filter(|h| h.name.eq_ignore_ascii_case(name))
                        .cloned()
                })
                .collect(),
        )
    }

    /// RFC 5703 §4.2: `:type`, `:subtype`, `:contenttype`, `:param` select pieces of a
    /// structured value; otherwise the decoded value.
    pub(crate) fn mime_values(&self, node: &Node, field: &HeaderField) -> Vec<String> {
        let (main, sub, params) = structured_value(&field.unfolded());
        if node.has_tag("type") {
            return vec![main];
        }
        if node.has_tag("subtype") {
            return vec![sub];
        }
        if node.has_tag("contenttype") {
            if sub.is_empty() {
                return vec![main];
            }
            return vec![format!("{main}/{sub}")];
        }
        if let Some(value) = node.tag_value("param") {
            let wanted = self.strings(Some(value));
            return params
                .into_iter()
                .filter(|(k, _)| wanted.iter().any(|w| w.eq_ignore_ascii_case(k)))
                .map(|(_, v)| v)
                .collect();
        }
        vec![field.decoded()]
    }

    /// RFC 5703 §3 foreverypart: runs the block once per part.
    pub(crate) fn foreverypart(&mut self, node: &Node) -> Flow {
        let name = node.tag_value("name").map(|v| self.string(Some(v)));
        if self.loop_depth >= MAX_LOOP_NESTING {
            return self.fail(
                node.line,
                format!("foreverypart nested more than {MAX_LOOP_NESTING} deep"),
            );
        }
        let parts = self.mime_parts();
        let outer = self.current_part;
        let mut flow = Flow::Continue;
        // The outermost loop starts with the message itself; a nested one visits the
        // parts below the current part.
        let indices = match outer {
            None => {
                let mut all = vec![0];
                all.extend(descendants(&parts, 0));
                all
            }
            Some(current) => descendants(&parts, current),
        };
        self.loop_depth += 1;
        for index in indices {
            self.current_part = Some(index);
            match self.block(&node.block) {
                Flow::Continue => {}
                Flow::Break => {
                    let ours = match (&self.break_name, &name) {
                        (None, _) => true,
                        (Some(wanted), Some(name)) => wanted == name,
                        (Some(_), None) => false,
                    };
                    if ours {
                        self.break_name = None;
                    } else {
                        flow = Flow::Break;
                    }
                    break;
                }
                other => {
                    flow = other;
                    break;
                }
            }
        }
        self.loop_depth -= 1;
        self.current_part = outer;
        flow
    }

    /// RFC 5703 §7 extracttext: the current part's text into a variable.
    pub(crate) fn extracttext(&mut self, node: &Node) -> Flow {
        let Some(current) = self.current_part else {
            return self.fail(node.line, "extracttext outside foreverypart (RFC 5703 §7)");
        };
        let parts = self.mime_parts();
        let mut text = parts
            .get(current)
            .map(|p| p.text.clone())
            .unwrap_or_default();
        if let Some(first) = Run::number(node.tag_value("first")) {
            text = text
                .chars()
                .take(usize::try_from(first).unwrap_or(usize::MAX))
                .collect();
        }
        let name = self.string(node.positional.first());
        let text = self.apply_modifiers(node, text);
        self.set_variable(&name, text);
        Flow::Continue
    }
}
