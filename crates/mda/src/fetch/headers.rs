//! The two header fields remote retrieval reads from a fetched message: `Return-Path:`
//! (the envelope sender, RFC 5322 §3.6.7) and `Message-ID:` (§3.6.4, for recognising a
//! message again after an IMAP UIDVALIDITY change). Only the header block is read, at most
//! [`MAX_HEADER`] bytes; folded lines are joined.

/// Bytes of a message searched for its header fields.
pub const MAX_HEADER: usize = 256 * 1024;

/// The unfolded value of the first field named `name` (case-insensitive).
pub fn field(message: &[u8], name: &str) -> Option<String> {
    let head = message.get(..message.len().min(MAX_HEADER))?;
    let mut value: Option<Vec<u8>> = None;
    for raw in head.split(|&b| b == b'\n') {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if let Some(v) = value.as_mut() {
            if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                v.push(b' ');
                v.extend_from_slice(line.trim_ascii());
                continue;
            }
            break;
        }
        if line.is_empty() {
            break;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let field_name = line.get(..colon).unwrap_or(&[]);
            if field_name
                .trim_ascii()
                .eq_ignore_ascii_case(name.as_bytes())
            {
                value = Some(line.get(colon + 1..).unwrap_or(&[]).trim_ascii().to_vec());
            }
        }
    }
    value.map(|v| String::from_utf8_lossy(&v).into_owned())
}

/// The address inside `<...>` of a `Return-Path:`; `""` for `<>` (the null sender).
pub fn return_path(message: &[u8]) -> Option<String> {
    let value = field(message, "Return-Path")?;
    let inner = value.trim().strip_prefix('<')?.split('>').next()?.trim();
    if inner.len() > 512 || inner.chars().any(|c| c.is_control() || c == ' ') {
        return None;
    }
    Some(inner.to_string())
}

/// The `Message-ID:` field's first `<...>` token, brackets kept.
pub fn message_id(message: &[u8]) -> Option<String> {
    let value = field(message, "Message-ID")?;
    let start = value.find('<')?;
    let end = value.get(start..)?.find('>')? + start;
    value.get(start..=end).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_found_in_the_header_only() {
        let m = b"Return-Path: <a@b.test>\r\nMessage-ID:\r\n <x@y>\r\nSubject: s\r\n\r\nMessage-ID: <body@z>\r\n";
        assert_eq!(return_path(m).as_deref(), Some("a@b.test"));
        assert_eq!(message_id(m).as_deref(), Some("<x@y>"));
        assert_eq!(field(m, "subject").as_deref(), Some("s"));
        assert_eq!(
            field(b"Subject: s\r\n\r\nReturn-Path: <no@t>\r\n", "Return-Path"),
            None
        );
    }

    #[test]
    fn null_sender_and_garbage() {
        assert_eq!(return_path(b"Return-Path: <>\r\n\r\n").as_deref(), Some(""));
        assert_eq!(return_path(b"Return-Path: a@b\r\n\r\n"), None);
        assert_eq!(return_path(b"\xff\xfe: \r\n"), None);
        assert_eq!(message_id(b"Message-ID: none\r\n\r\n"), None);
    }
}
