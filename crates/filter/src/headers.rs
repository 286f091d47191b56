//! The `X-Mailward-*` fields: the gateway's verdict written into the message, and the same
//! fields removed from incoming mail, where they could only be forged.

use std::borrow::Cow;

/// The prefix of every field the gateway writes.
pub const PREFIX: &str = "X-Mailward-";

/// A longest line the fields are folded to (RFC 5322 §2.1.1: 78 characters should).
const FOLD_AT: usize = 78;

/// `message` without any `X-Mailward-*` field in its header (RFC 5322 §2.2: a field and
/// its folded continuation lines), borrowed when it had none. Only the message's own
/// header is touched, not those of attached messages.
pub fn strip_ours(message: &[u8]) -> Cow<'_, [u8]> {
    let header_end = header_len(message);
    if !has_ours(&message[..header_end]) {
        return Cow::Borrowed(message);
    }
    let mut out = Vec::with_capacity(message.len());
    let mut skipping = false;
    let mut pos = 0;
    while pos < header_end {
        let end = memchr::memchr(b'\n', &message[pos..header_end])
            .map(|i| pos + i + 1)
            .unwrap_or(header_end);
        let line = &message[pos..end];
        let continuation = matches!(line.first(), Some(b' ' | b'\t'));
        if !continuation {
            skipping = is_ours(line);
        }
        if !skipping {
            out.extend_from_slice(line);
        }
        pos = end;
    }
    out.extend_from_slice(&message[header_end..]);
    Cow::Owned(out)
}

/// The length of `message`'s header, the blank line that ends it excluded (the whole
/// message when there is no body).
pub fn header_len(message: &[u8]) -> usize {
    let mut pos = 0;
    while pos < message.len() {
        let end = memchr::memchr(b'\n', &message[pos..])
            .map(|i| pos + i + 1)
            .unwrap_or(message.len());
        let line = &message[pos..end];
        if line == b"\r\n" || line == b"\n" {
            return pos;
        }
        pos = end;
    }
    message.len()
}

fn has_ours(header: &[u8]) -> bool {
    let needle = PREFIX.as_bytes();
    header
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn is_ours(line: &[u8]) -> bool {
    line.len() >= PREFIX.len() && line[..PREFIX.len()].eq_ignore_ascii_case(PREFIX.as_bytes())
}

/// Appends `X-Mailward-<name>: <value>` to `out`, folded at spaces to about 78 columns
/// (RFC 5322 §2.2.3), CRLF-terminated. Control characters in `value` become spaces: a
/// value is built from what the message carried (file names) and must not end the field.
pub fn push_field(out: &mut String, name: &str, value: &str) {
    let clean: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut line_len = PREFIX.len() + name.len() + 1;
    out.push_str(PREFIX);
    out.push_str(name);
    out.push(':');
    for word in clean.split(' ').filter(|w| !w.is_empty()) {
        if line_len + 1 + word.len() > FOLD_AT && line_len > PREFIX.len() + name.len() + 1 {
            out.push_str("\r\n\t");
            line_len = 1;
        } else {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word.len();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forged_fields_are_removed_with_their_continuations() {
        let msg = b"From: a@example.org\r\nX-Mailward-Spam: no,\r\n score=0\r\nx-mailward-verdict: accept\r\nSubject: hi\r\n\r\nX-Mailward-Spam: body stays\r\n";
        let out = strip_ours(msg);
        assert_eq!(
            out.as_ref(),
            b"From: a@example.org\r\nSubject: hi\r\n\r\nX-Mailward-Spam: body stays\r\n"
        );
    }

    #[test]
    fn a_message_without_our_fields_is_borrowed() {
        let msg = b"From: a@example.org\r\nSubject: X-Mailward-Spam\r\n\r\nbody";
        assert!(matches!(strip_ours(msg), Cow::Owned(_)) || strip_ours(msg).as_ref() == msg);
        let plain = b"From: a@example.org\r\n\r\nbody";
        assert!(matches!(strip_ours(plain), Cow::Borrowed(_)));
    }

    #[test]
    fn fields_fold_and_never_carry_a_line_break_from_the_value() {
        let mut out = String::new();
        let long = "evil.exe\r\nX-Injected: yes ".repeat(8);
        push_field(&mut out, "Attachments", &long);
        assert!(out.ends_with("\r\n"));
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 90, "{line:?}");
            assert!(!line.starts_with("X-Injected"), "{out}");
        }
    }
}
