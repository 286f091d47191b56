//! The message rebuilt around its disarmed parts: each is written in place of the original
//! (same position, new part header, body re-encoded), and a short `text/plain` part says
//! what was removed. Every other byte stays as it came.
//!
//! The note is the last part of a top-level `multipart/mixed` (RFC 2046 §5.1.3), inserted
//! before its close delimiter; any other message is wrapped into a new `multipart/mixed`
//! whose first part is the original content (its `Content-*` fields move with it, RFC 2045
//! §3) and whose second part is the note.

use super::Rewritten;
use crate::mime::Part;
use base64::Engine;
use mail_parser::MimeHeaders;
use std::ops::Range;

/// RFC 2045 §6.8: encoded lines are at most 76 characters.
const BASE64_LINE: usize = 76;

/// `raw` with `rewrites` written in place and the note about `notes` added.
pub(crate) fn rebuild(
    raw: &[u8],
    rewrites: &[(&Part<'_>, Rewritten)],
    notes: &[String],
) -> Result<Vec<u8>, String> {
    let eol: &[u8] = if memchr::memmem::find(raw, b"\r\n").is_some() {
        b"\r\n"
    } else {
        b"\n"
    };
    let message = crate::mime::parse(raw).ok_or("the message cannot be parsed again")?;
    let root_mixed_boundary = message
        .content_type()
        .filter(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("mixed"))
        })
        .and_then(|ct| ct.attribute("boundary"))
        .map(str::to_owned);

    let mut edits: Vec<(Range<usize>, Vec<u8>)> = Vec::new();
    for (part, rewritten) in rewrites {
        let range = part.raw.clone().ok_or("a disarmed part has no place")?;
        let original = raw
            .get(range.clone())
            .ok_or("a part lies outside the message")?;
        edits.push((range, part_bytes(original, part, rewritten, eol)));
    }
    edits.sort_by_key(|(r, _)| r.start);
    if edits
        .windows(2)
        .any(|w| matches!(w, [a, b] if a.0.end > b.0.start))
    {
        return Err("disarmed parts overlap".to_owned());
    }
    let root_replaced = edits.first().is_some_and(|(r, _)| r.start == 0);
    let replaced = splice(raw, &edits);
    let note = note_part(notes, eol);

    match root_mixed_boundary {
        Some(boundary) if !root_replaced => Ok(append_to_mixed(&replaced, &boundary, &note, eol)),
        _ => Ok(wrap_in_mixed(&replaced, &note, eol)),
    }
}

/// `raw` with each range replaced (sorted, not overlapping).
fn splice(raw: &[u8], edits: &[(Range<usize>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut pos = 0;
    for (range, with) in edits {
        out.extend_from_slice(raw.get(pos..range.start).unwrap_or_default());
        out.extend_from_slice(with);
        pos = range.end;
    }
    out.extend_from_slice(raw.get(pos..).unwrap_or_default());
    out
}

/// The header fields of a header block, each with its folded continuation lines
/// (RFC 5322 §2.2.3), without line ends at their end.
fn fields(header: &[u8]) -> Vec<&[u8]> {
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut start = 0;
    while start < header.len() {
        let end = memchr::memchr(b'\n', header.get(start..).unwrap_or_default())
            .map_or(header.len(), |i| start + i + 1);
        let line = header.get(start..end).unwrap_or_default();
        let folded = line.first().is_some_and(|c| *c == b' ' || *c == b'\t');
        match out.last_mut() {
            Some(last) if folded => last.end = end,
            _ => out.push(start..end),
        }
        start = end;
    }
    out.into_iter()
        .filter_map(|r| header.get(r))
        .map(trim_eol)
        .filter(|f| !f.is_empty())
        .collect()
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The field's name, lower-case.
fn field_name(field: &[u8]) -> String {
    let name = field.split(|c| *c == b':').next().unwrap_or_default();
    String::from_utf8_lossy(name).trim().to_ascii_lowercase()
}

/// Where a header block ends and its body begins: after the first empty line (RFC 5322
/// §2.1), or the whole input when there is none.
fn split_header(message: &[u8]) -> (&[u8], &[u8]) {
    let crlf = memchr::memmem::find(message, b"\r\n\r\n").map(|i| (i + 2, i + 4));
    let lf = memchr::memmem::find(message, b"\n\n").map(|i| (i + 1, i + 2));
    let cut = match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    // A message that starts with the empty line has no header.
    if message.starts_with(b"\r\n") {
        return (&[], message.get(2..).unwrap_or_default());
    }
    if message.starts_with(b"\n") {
        return (&[], message.get(1..).unwrap_or_default());
    }
    match cut {
        Some((header_end, body_start)) => (
            message.get(..header_end).unwrap_or_default(),
            message.get(body_start..).unwrap_or_default(),
        ),
        None => (message, &[]),
    }
}

/// The rewritten part: its original fields but the three that describe the content, the
/// new ones, and the body in base64.
fn part_bytes(original: &[u8], part: &Part<'_>, rewritten: &Rewritten, eol: &[u8]) -> Vec<u8> {
    let (header, _) = split_header(original);
    let mut out = Vec::with_capacity(rewritten.body.len() * 4 / 3 + 512);
    for field in fields(header) {
        let name = field_name(field);
        if name == "content-type"
            || name == "content-disposition"
            || name == "content-transfer-encoding"
        {
            continue;
        }
        out.extend_from_slice(field);
        out.extend_from_slice(eol);
    }
    let mut ctype = format!("Content-Type: {}", rewritten.content_type);
    if rewritten.content_type.starts_with("text/") {
        ctype.push_str("; charset=utf-8");
    }
    if let Some(name) = &rewritten.filename {
        ctype.push_str(&format!(";{}\tname={}", eol_str(eol), name_value(name)));
    }
    push_line(&mut out, &ctype, eol);
    if part.is_attachment || rewritten.filename.is_some() {
        let kind = if part.is_attachment {
            "attachment"
        } else {
            "inline"
        };
        let mut disposition = format!("Content-Disposition: {kind}");
        if let Some(name) = &rewritten.filename {
            disposition.push_str(&format!(";{}\t{}", eol_str(eol), filename_param(name)));
        }
        push_line(&mut out, &disposition, eol);
    }
    push_line(&mut out, "Content-Transfer-Encoding: base64", eol);
    out.extend_from_slice(eol);
    out.extend_from_slice(&base64_lines(&rewritten.body, eol));
    // The part ends as the original did (with or without the line end before the next
    // delimiter, RFC 2046 §5.1.1: that one belongs to the delimiter).
    if original.ends_with(b"\n") {
        out.extend_from_slice(eol);
    }
    out
}

fn eol_str(eol: &[u8]) -> &'static str {
    if eol == b"\r\n" { "\r\n" } else { "\n" }
}

fn push_line(out: &mut Vec<u8>, line: &str, eol: &[u8]) {
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(eol);
}

/// RFC 2045 §6.8 base64 in lines of 76 characters, without a line end after the last.
pub(crate) fn base64_lines(data: &[u8], eol: &[u8]) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = Vec::with_capacity(encoded.len() + encoded.len() / BASE64_LINE * 2 + 2);
    for (i, chunk) in encoded.as_bytes().chunks(BASE64_LINE).enumerate() {
        if i > 0 {
            out.extend_from_slice(eol);
        }
        out.extend_from_slice(chunk);
    }
    out
}

/// A name that can be written as an RFC 2045 quoted-string as it is.
fn plain_name(name: &str) -> bool {
    name.len() <= 60
        && name
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

/// Content-Type's `name` (RFC 2045 §5.1; an RFC 2047 encoded word when not ASCII, as mail
/// readers expect there).
fn name_value(name: &str) -> String {
    if plain_name(name) {
        format!("\"{name}\"")
    } else {
        let encoded = base64::engine::general_purpose::STANDARD.encode(name.as_bytes());
        format!("\"=?UTF-8?B?{encoded}?=\"")
    }
}

/// Content-Disposition's `filename` (RFC 2183 §2.3), RFC 2231 §4 `filename*=` when not
/// ASCII.
fn filename_param(name: &str) -> String {
    if plain_name(name) {
        return format!("filename=\"{name}\"");
    }
    let mut value = String::from("filename*=UTF-8''");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            value.push(char::from(b));
        } else {
            value.push_str(&format!("%{b:02X}"));
        }
    }
    value
}

/// The note a person reads: one line per disarmed part.
fn note_part(notes: &[String], eol: &[u8]) -> Vec<u8> {
    let mut text = String::from("mailward removed from this message:");
    text.push_str(eol_str(eol));
    for note in notes {
        text.push_str("- ");
        text.push_str(note);
        text.push_str(eol_str(eol));
    }
    let mut out = Vec::new();
    push_line(&mut out, "Content-Type: text/plain; charset=utf-8", eol);
    push_line(&mut out, "Content-Disposition: inline", eol);
    if text.is_ascii() && text.lines().all(|l| l.len() <= 76) {
        push_line(&mut out, "Content-Transfer-Encoding: 7bit", eol);
        out.extend_from_slice(eol);
        out.extend_from_slice(text.as_bytes());
    } else {
        push_line(&mut out, "Content-Transfer-Encoding: base64", eol);
        out.extend_from_slice(eol);
        out.extend_from_slice(&base64_lines(text.as_bytes(), eol));
        out.extend_from_slice(eol);
    }
    out
}

/// The note inserted as the last part, before the close delimiter `--boundary--`
/// (RFC 2046 §5.1.1); appended with a close delimiter when the message has none.
fn append_to_mixed(message: &[u8], boundary: &str, note: &[u8], eol: &[u8]) -> Vec<u8> {
    let close = format!("\n--{boundary}--");
    let mut out = Vec::with_capacity(message.len() + note.len() + 128);
    match memchr::memmem::rfind(message, close.as_bytes()) {
        Some(at) => {
            // The line end before the delimiter belongs to it: insert before that line end.
            let cut = if at > 0 && message.get(at - 1) == Some(&b'\r') {
                at - 1
            } else {
                at
            };
            out.extend_from_slice(message.get(..cut).unwrap_or_default());
            out.extend_from_slice(eol);
            out.extend_from_slice(format!("--{boundary}").as_bytes());
            out.extend_from_slice(eol);
            out.extend_from_slice(trim_eol(note));
            out.extend_from_slice(message.get(cut..).unwrap_or_default());
        }
        None => {
            out.extend_from_slice(message);
            if !message.ends_with(b"\n") {
                out.extend_from_slice(eol);
            }
            out.extend_from_slice(format!("--{boundary}").as_bytes());
            out.extend_from_slice(eol);
            out.extend_from_slice(trim_eol(note));
            out.extend_from_slice(eol);
            out.extend_from_slice(format!("--{boundary}--").as_bytes());
            out.extend_from_slice(eol);
        }
    }
    out
}

/// A new `multipart/mixed` around the message's content and the note: the message's own
/// fields stay in its header, its `Content-*` fields go with its content (RFC 2045 §9:
/// `Content-*` fields describe the content, not the message).
fn wrap_in_mixed(message: &[u8], note: &[u8], eol: &[u8]) -> Vec<u8> {
    let (header, body) = split_header(message);
    let boundary = new_boundary(message);
    let mut outer = Vec::with_capacity(message.len() + note.len() + 256);
    let mut inner = Vec::with_capacity(message.len() + 64);
    let mut has_mime_version = false;
    for field in fields(header) {
        let name = field_name(field);
        if name.starts_with("content-") {
            inner.extend_from_slice(field);
            inner.extend_from_slice(eol);
        } else {
            has_mime_version |= name == "mime-version";
            outer.extend_from_slice(field);
            outer.extend_from_slice(eol);
        }
    }
    if !has_mime_version {
        push_line(&mut outer, "MIME-Version: 1.0", eol);
    }
    push_line(
        &mut outer,
        &format!("Content-Type: multipart/mixed; boundary=\"{boundary}\""),
        eol,
    );
    outer.extend_from_slice(eol);
    push_line(&mut outer, &format!("--{boundary}"), eol);
    outer.extend_from_slice(&inner);
    outer.extend_from_slice(eol);
    outer.extend_from_slice(body);
    if !body.ends_with(b"\n") {
        outer.extend_from_slice(eol);
    }
    push_line(&mut outer, &format!("--{boundary}"), eol);
    outer.extend_from_slice(trim_eol(note));
    outer.extend_from_slice(eol);
    push_line(&mut outer, &format!("--{boundary}--"), eol);
    outer
}

/// A boundary that does not occur in the message (RFC 2046 §5.1.1: it must not appear
/// inside the encapsulated parts).
fn new_boundary(message: &[u8]) -> String {
    let mut attempt = 0u32;
    loop {
        let mut random = [0u8; 12];
        let salt = getrandom::getrandom(&mut random).map_or(attempt, |()| 0);
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let boundary = format!("=_mailward_disarmed_{hex}{salt}_{attempt}");
        if memchr::memmem::find(message, boundary.as_bytes()).is_none() || attempt > 16 {
            return boundary;
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_lines_are_76_characters() {
        let out = base64_lines(&[0u8; 200], b"\r\n");
        let lines: Vec<&[u8]> = out.split(|c| *c == b'\n').collect();
        assert!(lines.iter().all(|l| trim_eol(l).len() <= 76));
        assert_eq!(trim_eol(lines[0]).len(), 76);
    }

    #[test]
    fn folded_fields_stay_whole() {
        let header = b"Subject: a\r\n b\r\nContent-Type: text/html;\r\n\tcharset=x\r\n";
        let f = fields(header);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0], b"Subject: a\r\n b");
        assert_eq!(field_name(f[1]), "content-type");
    }

    #[test]
    fn non_ascii_names_are_encoded() {
        assert_eq!(filename_param("a.docx"), "filename=\"a.docx\"");
        assert_eq!(
            filename_param("résumé.docx"),
            "filename*=UTF-8''r%C3%A9sum%C3%A9.docx"
        );
        assert!(name_value("résumé.docx").starts_with("\"=?UTF-8?B?"));
    }
}
