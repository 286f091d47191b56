//! Removing `Authentication-Results:` fields that claim to be ours (RFC 8601 §5): a sender
//! could forge results in our name, and everything downstream trusts fields with our
//! authserv-id, so such fields arriving from outside are deleted before we add our own.

use std::borrow::Cow;

/// Deepest comment nesting read inside a field before it is taken as not ours.
const MAX_COMMENT_DEPTH: usize = 16;

/// `message` without the `Authentication-Results:` fields whose authserv-id is
/// `authserv_id` (compared case-insensitively, RFC 8601 §2.5); unchanged (borrowed) when
/// there is none. Only the header section is read; CRLF and bare-LF line ends both work.
pub fn remove_our_authentication_results<'m>(
    message: &'m [u8],
    authserv_id: &str,
) -> Cow<'m, [u8]> {
    let removed = our_fields(message, authserv_id);
    if removed.is_empty() {
        return Cow::Borrowed(message);
    }
    let mut out = Vec::with_capacity(message.len());
    let mut at = 0;
    for (from, to) in removed {
        out.extend_from_slice(message.get(at..from).unwrap_or_default());
        at = to;
    }
    out.extend_from_slice(message.get(at..).unwrap_or_default());
    Cow::Owned(out)
}

/// Whether the header section holds an `Authentication-Results:` field with our
/// `authserv_id`: a message we checked on arrival (the fields that arrived claiming it were
/// removed then), so one whose results we may vouch for when forwarding it (ARC, RFC 8617).
pub fn has_our_authentication_results(message: &[u8], authserv_id: &str) -> bool {
    !our_fields(message, authserv_id).is_empty()
}

/// The (start, end) offsets of the header fields that are `Authentication-Results:` with
/// our authserv-id.
fn our_fields(message: &[u8], authserv_id: &str) -> Vec<(usize, usize)> {
    let mut found: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < message.len() {
        let field_end = field_end(message, start);
        let field = message.get(start..field_end).unwrap_or_default();
        if is_blank_line(field) {
            break; // the end of the header section
        }
        if let Some(value) = value_of(field, b"authentication-results")
            && authserv_id_of(value)
                .is_some_and(|id| id.eq_ignore_ascii_case(authserv_id.as_bytes()))
        {
            found.push((start, field_end));
        }
        start = field_end;
    }
    found
}

fn is_blank_line(field: &[u8]) -> bool {
    field == b"\r\n" || field == b"\n"
}

/// Where the field starting at `start` ends: after its last line's LF, continuation lines
/// (starting with SP or HTAB, RFC 5322 §2.2.3) included.
fn field_end(message: &[u8], start: usize) -> usize {
    let mut at = start;
    loop {
        let line_end = match message
            .get(at..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            Some(i) => at + i + 1,
            None => return message.len(),
        };
        if line_end == start + 1 || (line_end == start + 2 && message.get(start) == Some(&b'\r')) {
            return line_end; // a blank line is its own "field"
        }
        match message.get(line_end) {
            Some(b' ') | Some(b'\t') => at = line_end,
            _ => return line_end,
        }
    }
}

/// The field's value when its name is `name` (case-insensitive).
fn value_of<'f>(field: &'f [u8], name: &[u8]) -> Option<&'f [u8]> {
    let colon = field.iter().position(|&b| b == b':')?;
    let field_name = field.get(..colon)?;
    let trimmed = field_name
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(&field_name[..0], |last| &field_name[..=last]);
    trimmed
        .eq_ignore_ascii_case(name)
        .then(|| field.get(colon + 1..))
        .flatten()
}

/// The authserv-id (RFC 8601 §2.2: `[CFWS] authserv-id [CFWS authres-version]`), a
/// `value` (token or quoted-string), after any whitespace and comments.
fn authserv_id_of(value: &[u8]) -> Option<&[u8]> {
    let mut at = skip_cfws(value, 0)?;
    if value.get(at) == Some(&b'"') {
        let start = at + 1;
        let len = value.get(start..)?.iter().position(|&b| b == b'"')?;
        return value.get(start..start + len);
    }
    let start = at;
    while let Some(&b) = value.get(at) {
        if b.is_ascii_whitespace() || b == b';' || b == b'(' {
            break;
        }
        at += 1;
    }
    (at > start).then(|| value.get(start..at)).flatten()
}

/// Skips folding whitespace and comments (RFC 5322 §3.2.2); `None` on an unclosed or too
/// deep comment.
fn skip_cfws(value: &[u8], mut at: usize) -> Option<usize> {
    let mut depth = 0usize;
    while let Some(&b) = value.get(at) {
        match b {
            b'(' => {
                depth += 1;
                if depth > MAX_COMMENT_DEPTH {
                    return None;
                }
            }
            b')' if depth > 0 => depth -= 1,
            b'\\' if depth > 0 => at += 1,
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ if depth > 0 => {}
            _ => return Some(at),
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"Received: from x\r\nAuthentication-Results: (forged) MX.Example.ORG;\r\n\tspf=pass smtp.mailfrom=a@b.example\r\nauthentication-results : other.example; dkim=pass\r\nAuthentication-Results: mx.example.org.evil; none\r\nSubject: hi\r\n\r\nAuthentication-Results: mx.example.org; body text\r\n";

    #[test]
    fn forged_results_in_our_name_are_removed_others_kept() {
        let out = remove_our_authentication_results(MSG, "mx.example.org");
        assert_eq!(
            &*out,
            &b"Received: from x\r\nauthentication-results : other.example; dkim=pass\r\nAuthentication-Results: mx.example.org.evil; none\r\nSubject: hi\r\n\r\nAuthentication-Results: mx.example.org; body text\r\n"[..]
        );
    }

    #[test]
    fn quoted_authserv_id_and_bare_lf() {
        let msg = b"Authentication-Results: \"mx.example.org\"; none\nSubject: x\n\nbody\n";
        let out = remove_our_authentication_results(msg, "mx.example.org");
        assert_eq!(&*out, &b"Subject: x\n\nbody\n"[..]);
    }

    #[test]
    fn nothing_to_remove_borrows() {
        let out = remove_our_authentication_results(b"Subject: x\r\n\r\n", "mx.example.org");
        assert!(matches!(out, Cow::Borrowed(_)));
        // Unclosed comments and truncated input never panic.
        let out = remove_our_authentication_results(b"Authentication-Results: ((((", "x");
        assert!(matches!(out, Cow::Borrowed(_)));
    }
}
