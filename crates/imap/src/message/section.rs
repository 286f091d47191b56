//! Sections of a message: RFC 9051 §6.4.5 `BODY[section]<partial>` and RFC 3516 / RFC 9051
//! `BINARY[section]<partial>`, `BINARY.SIZE[section]`.
//!
//! Part numbers (RFC 9051 §6.4.5): the parts of a multipart are numbered from 1; a part
//! that is not multipart has the single part 1 (its own body); the parts of a
//! message/rfc822 part are those of the message it holds. A section that names no part
//! (a number too large) is the empty string, as Dovecot answers.

use super::decode::{self, TransferEncoding};
use super::lexer::Lexer;
use super::mime::{Kind, Part};
use std::borrow::Cow;

/// What a section asks for, after the part numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Specifier {
    /// The part's content (`BODY[]`, `BODY[1.2]`).
    Content,
    /// RFC 9051 §6.4.5 HEADER: the header of the (embedded) message, blank line included.
    Header,
    /// HEADER.FIELDS: only the named fields, then a blank line.
    HeaderFields(Vec<Vec<u8>>),
    /// HEADER.FIELDS.NOT: all but the named fields, then a blank line.
    HeaderFieldsNot(Vec<Vec<u8>>),
    /// TEXT: the body of the (embedded) message.
    Text,
    /// MIME: the part's own MIME header (needs a part number).
    Mime,
}

/// Why a section could not be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SectionError {
    /// RFC 3516 §4.3: the part's Content-Transfer-Encoding is not one we can decode;
    /// answer `NO [UNKNOWN-CTE]`.
    #[error("unknown Content-Transfer-Encoding")]
    UnknownCte,
}

/// Finds the part named by `path` (numbers from 1). `None` when it does not exist.
pub fn resolve<'p>(root: &'p Part, path: &[u32]) -> Option<&'p Part> {
    let mut cur = root;
    for (i, &n) in path.iter().enumerate() {
        if i > 0
            && let Kind::Message(inner) = &cur.kind
        {
            cur = inner;
        }
        match &cur.kind {
            Kind::Multipart(children) => {
                let idx = usize::try_from(n).ok()?.checked_sub(1)?;
                cur = children.get(idx)?;
            }
            _ if n == 1 => {}
            _ => return None,
        }
    }
    Some(cur)
}

/// The message a HEADER or TEXT specifier refers to: the root for an empty path, else the
/// message inside a message/rfc822 part.
fn message_of<'p>(root: &'p Part, path: &[u32]) -> Option<&'p Part> {
    if path.is_empty() {
        return Some(root);
    }
    match &resolve(root, path)?.kind {
        Kind::Message(inner) => Some(inner),
        _ => None,
    }
}

/// HEADER.FIELDS / HEADER.FIELDS.NOT: the kept fields as written, then the blank line.
/// Like Dovecot, a header that ends without a blank line gets one only when its last field
/// was left out (so the output never ends in the middle of a kept line).
fn fields_filtered(data: &[u8], part: &Part, names: &[Vec<u8>], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut last_kept = false;
    for f in &part.header.fields {
        let name = f.name(data);
        let listed = names.iter().any(|n| n.eq_ignore_ascii_case(name));
        last_kept = listed == keep;
        if last_kept {
            out.extend_from_slice(data.get(f.whole.clone()).unwrap_or(&[]));
        }
    }
    let h = &part.header;
    let has_blank_line = h.cut_by_boundary.is_none()
        && h.fields
            .last()
            .map_or(h.end > h.start, |f| f.whole.end < h.end);
    if has_blank_line || !last_kept {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The octets of `BODY[path.specifier]` (before any partial range).
pub fn body_section<'d>(
    data: &'d [u8],
    root: &Part,
    path: &[u32],
    spec: &Specifier,
) -> Cow<'d, [u8]> {
    let slice = |r: std::ops::Range<usize>| Cow::Borrowed(data.get(r).unwrap_or(&[]));
    let empty = || Cow::Borrowed(&[][..]);
    match spec {
        Specifier::Content => {
            if path.is_empty() {
                return Cow::Borrowed(data);
            }
            match resolve(root, path) {
                Some(p) => slice(p.body.clone()),
                None => empty(),
            }
        }
        Specifier::Header => match message_of(root, path) {
            Some(m) => slice(m.header.start..m.header.end),
            None => empty(),
        },
        Specifier::Text => match message_of(root, path) {
            Some(m) => slice(m.body.clone()),
            None => empty(),
        },
        Specifier::HeaderFields(names) => match message_of(root, path) {
            Some(m) => Cow::Owned(fields_filtered(data, m, names, true)),
            None => empty(),
        },
        Specifier::HeaderFieldsNot(names) => match message_of(root, path) {
            Some(m) => Cow::Owned(fields_filtered(data, m, names, false)),
            None => empty(),
        },
        Specifier::Mime => match resolve(root, path) {
            Some(p) if !path.is_empty() => slice(p.header.start..p.header.end),
            _ => empty(),
        },
    }
}

/// `BINARY[path]`: the part's content with its transfer encoding undone (RFC 3516 §4.2).
/// An empty path is the whole message, as is.
pub fn binary_section<'d>(
    data: &'d [u8],
    root: &Part,
    path: &[u32],
) -> Result<Cow<'d, [u8]>, SectionError> {
    if path.is_empty() {
        return Ok(Cow::Borrowed(data));
    }
    let Some(part) = resolve(root, path) else {
        return Ok(Cow::Borrowed(&[][..]));
    };
    let body = data.get(part.body.clone()).unwrap_or(&[]);
    if !matches!(part.kind, Kind::Text | Kind::Basic) {
        return Ok(Cow::Borrowed(body));
    }
    decode::decode_transfer(body, binary_encoding(data, part)).ok_or(SectionError::UnknownCte)
}

/// The transfer encoding BINARY undoes: the first token of the last
/// Content-Transfer-Encoding field; a field whose value is empty or not a known encoding
/// (`8 bit`, `7bits`) is unknown (RFC 3516 §4.3: `NO [UNKNOWN-CTE]`), as in Dovecot.
/// (BODYSTRUCTURE shows such a part as 7bit: it only reports a well-formed token.)
pub fn binary_encoding(data: &[u8], part: &Part) -> TransferEncoding {
    let Some(f) = part.header.last(data, "Content-Transfer-Encoding") else {
        return TransferEncoding::Identity;
    };
    let value = f.unfolded(data);
    let mut lex = Lexer::new(&value);
    lex.skip_lwsp();
    let mut tok = Vec::new();
    let _ = lex.parse_mime_token(&mut tok);
    if tok.is_empty() {
        return TransferEncoding::Unknown;
    }
    TransferEncoding::from_token(Some(&tok))
}

/// Applies a partial range `<origin.count>` (RFC 9051 §6.4.5): past the end is empty.
pub fn partial(data: &[u8], origin: u32, count: u32) -> &[u8] {
    let start = usize::try_from(origin)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let end = start
        .saturating_add(usize::try_from(count).unwrap_or(usize::MAX))
        .min(data.len());
    data.get(start..end).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::mime;

    const M: &[u8] = b"Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nX: y\r\n\r\ninner body\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b--\r\n";

    #[test]
    fn part_numbers_and_specifiers() {
        let root = mime::parse(M);
        assert_eq!(&*body_section(M, &root, &[1], &Specifier::Content), b"one");
        assert_eq!(
            &*body_section(M, &root, &[1, 1], &Specifier::Content),
            b"one"
        );
        assert_eq!(&*body_section(M, &root, &[9], &Specifier::Content), b"");
        assert_eq!(
            &*body_section(M, &root, &[2], &Specifier::Header),
            b"Subject: inner\r\nX: y\r\n\r\n"
        );
        assert_eq!(
            &*body_section(M, &root, &[2], &Specifier::Text),
            b"inner body"
        );
        assert_eq!(
            &*body_section(M, &root, &[2, 1], &Specifier::Content),
            b"inner body"
        );
        assert_eq!(
            &*body_section(M, &root, &[1], &Specifier::Mime),
            b"Content-Type: text/plain\r\n\r\n"
        );
        assert_eq!(&*body_section(M, &root, &[1], &Specifier::Header), b"");
        assert_eq!(
            &*body_section(
                M,
                &root,
                &[],
                &Specifier::HeaderFields(vec![b"subject".to_vec()])
            ),
            b"Subject: s\r\n\r\n"
        );
        assert_eq!(
            &*body_section(
                M,
                &root,
                &[2],
                &Specifier::HeaderFieldsNot(vec![b"X".to_vec()])
            ),
            b"Subject: inner\r\n\r\n"
        );
    }

    #[test]
    fn binary_decodes_and_partial_clips() {
        let root = mime::parse(M);
        assert_eq!(&*binary_section(M, &root, &[3]).unwrap(), b"hi");
        assert_eq!(partial(b"hello", 1, 3), b"ell");
        assert_eq!(partial(b"hello", 10, 3), b"");
        assert_eq!(partial(b"hello", 3, u32::MAX), b"lo");
    }
}
