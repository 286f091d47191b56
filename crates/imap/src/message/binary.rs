//! A message or message part with every content transfer encoding undone, for
//! `URLFETCH (url BINARY)` of a `message/rfc822` part or a whole message (RFC 5524 §3: the
//! data is "as if" fetched with BINARY). RFC 3516 §4.2 decodes leaf parts only; for a part
//! holding other parts each base64 or quoted-printable leaf inside is decoded in place and
//! its Content-Transfer-Encoding field says `binary`, the multipart boundaries, prologue
//! and epilogue kept as they are. With `relabel` false the fields are left as they were:
//! the form whose BODYSTRUCTURE describes the decoded data with the original encodings
//! (URLFETCH with both BINARY and BODYPARTSTRUCTURE, RFC 5524 §3).

use super::decode::{TransferEncoding, decode_transfer};
use super::mime::{Kind, Part};
use super::section::binary_encoding;

/// Most nesting levels followed; deeper parts are copied as they are.
const MAX_DEPTH: usize = 64;

/// The octets of `part` (header and body) with its leaves decoded; `None` when a leaf has
/// an encoding mailward does not know (RFC 3516 §4.3 UNKNOWN-CTE).
pub fn decoded_part(data: &[u8], part: &Part, relabel: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(part.range().len());
    emit(data, part, &mut out, 0, relabel)?;
    Some(out)
}

/// The body of a `message/rfc822` or multipart part with its leaves decoded (what BINARY
/// of such a part returns); leaves decode as in [`super::section::binary_section`].
pub fn decoded_body(data: &[u8], part: &Part, relabel: bool) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    body(data, part, &mut out, 0, relabel)?;
    Some(out)
}

fn emit(data: &[u8], part: &Part, out: &mut Vec<u8>, depth: usize, relabel: bool) -> Option<()> {
    let leaf = matches!(part.kind, Kind::Text | Kind::Basic);
    let encoding = binary_encoding(data, part);
    let rewrite = relabel
        && leaf
        && depth < MAX_DEPTH
        && matches!(
            encoding,
            TransferEncoding::Base64 | TransferEncoding::QuotedPrintable
        );
    let mut at = part.header.start;
    if rewrite {
        for f in &part.header.fields {
            if f.is(data, "Content-Transfer-Encoding") {
                out.extend_from_slice(data.get(at..f.whole.start).unwrap_or_default());
                out.extend_from_slice(b"Content-Transfer-Encoding: binary\r\n");
                at = f.whole.end;
            }
        }
    }
    out.extend_from_slice(data.get(at..part.header.end).unwrap_or_default());
    body(data, part, out, depth, relabel)
}

fn body(data: &[u8], part: &Part, out: &mut Vec<u8>, depth: usize, relabel: bool) -> Option<()> {
    let raw = data.get(part.body.clone()).unwrap_or_default();
    if depth >= MAX_DEPTH {
        out.extend_from_slice(raw);
        return Some(());
    }
    match &part.kind {
        Kind::Text | Kind::Basic => {
            out.extend_from_slice(&decode_transfer(raw, binary_encoding(data, part))?);
        }
        Kind::Message(inner) => emit(data, inner, out, depth + 1, relabel)?,
        Kind::Multipart(children) => {
            let mut at = part.body.start;
            for c in children {
                let r = c.range();
                out.extend_from_slice(data.get(at..r.start).unwrap_or_default());
                emit(data, c, out, depth + 1, relabel)?;
                at = r.end;
            }
            out.extend_from_slice(data.get(at..part.body.end).unwrap_or_default());
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Message, section};

    #[test]
    fn nested_leaves_are_decoded_in_place() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\nepi\r\n";
        let m = Message::parse(raw);
        let part = section::resolve(m.root(), &[1]).unwrap();
        let got = decoded_body(m.data(), part, true).unwrap();
        assert_eq!(
            got,
            b"Subject: in\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\nhello"
        );
        let whole = decoded_part(m.data(), m.root(), true).unwrap();
        let kept = decoded_body(m.data(), part, false).unwrap();
        assert!(kept.ends_with(b"Content-Transfer-Encoding: base64\r\n\r\nhello"));
        assert!(
            whole.starts_with(b"Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\n")
        );
        assert!(whole.ends_with(b"hello\r\n--b--\r\nepi\r\n"));
    }
}
