//! A small reader of a message's header (RFC 5322 §2.2): enough for the execution rules
//! (which fields are there, their unfolded values, the addresses in them). Bounded: it
//! reads at most [`MAX_HEADER_BYTES`] and [`MAX_FIELDS`] fields, and never panics.

/// Bytes of header read at most; a longer header is read up to here.
pub const MAX_HEADER_BYTES: usize = 256 * 1024;
/// Fields read at most.
pub const MAX_FIELDS: usize = 2000;

/// One header field: its name as written and its value unfolded (RFC 5322 §2.2.3),
/// without the leading blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// The header fields of `message`, in order.
pub fn fields(message: &[u8]) -> Vec<Field> {
    let head = header_bytes(message);
    let text = String::from_utf8_lossy(head);
    let mut out: Vec<Field> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // RFC 5322 §2.2.3: a folded line continues the previous field.
            if let Some(last) = out.last_mut() {
                last.value.push_str(line);
            }
            continue;
        }
        if out.len() >= MAX_FIELDS {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            out.push(Field {
                name: name.trim_end().to_string(),
                value: value.trim_start().to_string(),
            });
        }
    }
    for field in &mut out {
        field.value = field.value.trim().to_string();
    }
    out
}

/// The header of `message` (up to the blank line, at most [`MAX_HEADER_BYTES`]).
pub fn header_bytes(message: &[u8]) -> &[u8] {
    let limit = message.len().min(MAX_HEADER_BYTES);
    let window = message.get(..limit).unwrap_or(message);
    for (index, pair) in window.windows(2).enumerate() {
        if pair == b"\n\n" {
            return window.get(..index + 1).unwrap_or(window);
        }
        if pair == b"\n\r" && window.get(index + 2) == Some(&b'\n') {
            return window.get(..index + 1).unwrap_or(window);
        }
    }
    window
}

/// The body of `message`: what follows the blank line ending the header (empty if none).
pub fn body_bytes(message: &[u8]) -> &[u8] {
    for (index, pair) in message.windows(2).enumerate() {
        if pair == b"\n\n" {
            return message.get(index + 2..).unwrap_or_default();
        }
        if pair == b"\n\r" && message.get(index + 2) == Some(&b'\n') {
            return message.get(index + 3..).unwrap_or_default();
        }
    }
    &[]
}

/// The first value of field `name` (case-insensitive, RFC 5322 §1.2.2).
pub fn first<'a>(fields: &'a [Field], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|field| field.name.eq_ignore_ascii_case(name))
        .map(|field| field.value.as_str())
}

/// Every value of field `name`.
pub fn all<'a>(fields: &'a [Field], name: &str) -> impl Iterator<Item = &'a str> {
    fields
        .iter()
        .filter(move |field| field.name.eq_ignore_ascii_case(name))
        .map(|field| field.value.as_str())
}

/// The addresses (`local@domain`) of an address-list value (RFC 5322 §3.4): the part in
/// angle brackets when there is one, otherwise the bare address; quoted display names,
/// comments and group names are skipped.
pub fn addresses(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    for item in split_top_level(value) {
        let item = strip_group_name(item.trim());
        let address = match (item.rfind('<'), item.rfind('>')) {
            (Some(open), Some(close)) if open < close => item.get(open + 1..close),
            _ => Some(item),
        };
        if let Some(address) = address {
            let address = strip_comments(address).trim().to_string();
            if address.contains('@') && !address.contains(char::is_whitespace) {
                out.push(address);
            }
        }
    }
    out
}

/// Splits at commas outside quotes, comments and angle brackets.
fn split_top_level(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut depth, mut angle, mut escaped) =
        (0, false, 0usize, false, false);
    for (index, ch) in value.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match ch {
            '\\' => escaped = true,
            '"' if depth == 0 => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            '<' if !quoted && depth == 0 => angle = true,
            '>' if !quoted && depth == 0 => angle = false,
            ',' | ';' if !quoted && depth == 0 && !angle => {
                parts.push(value.get(start..index).unwrap_or_default());
                start = index + ch.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(value.get(start..).unwrap_or_default());
    parts
}

/// `group: a@b` → `a@b` (RFC 5322 §3.4 group syntax), when the colon is outside quotes.
fn strip_group_name(item: &str) -> &str {
    if item.starts_with('"') || !item.contains(':') {
        return item;
    }
    match (item.find(':'), item.find('<')) {
        (Some(colon), Some(open)) if colon > open => item,
        (Some(colon), _) => item.get(colon + 1..).unwrap_or(item).trim(),
        _ => item,
    }
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for ch in text.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    out
}

/// Whether two addresses are the same mailbox: domain case-insensitive (RFC 5321 §2.4);
/// local part compared case-insensitively too, as every mail system in practice does.
pub fn same_address(left: &str, right: &str) -> bool {
    let left = left.trim().trim_start_matches('<').trim_end_matches('>');
    let right = right.trim().trim_start_matches('<').trim_end_matches('>');
    !left.is_empty() && left.eq_ignore_ascii_case(right)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_fields_are_unfolded_and_the_body_is_not_read() {
        let message = b"Subject: one\r\n two\r\nTo: a@b.test\r\n\r\nX-Not: header\r\n";
        let fields = fields(message);
        assert_eq!(fields.len(), 2);
        assert_eq!(first(&fields, "subject"), Some("one two"));
        assert_eq!(body_bytes(message), b"X-Not: header\r\n");
    }

    #[test]
    fn addresses_skip_display_names_comments_and_groups() {
        let list = addresses(
            "\"Doe, John\" <john@example.test>, jane@example.test (Jane), team: x@y.test, z@y.test;",
        );
        assert_eq!(
            list,
            [
                "john@example.test",
                "jane@example.test",
                "x@y.test",
                "z@y.test"
            ]
        );
    }

    #[test]
    fn a_header_without_body_is_read_whole() {
        assert_eq!(fields(b"A: 1\nB: 2").len(), 2);
        assert!(body_bytes(b"A: 1\nB: 2").is_empty());
    }
}
