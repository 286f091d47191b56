//! The form in which an APPENDed message is stored.
//!
//! Every reader of the store serves a message in its CRLF form: FETCH (RFC 9051 §2.3.4,
//! through [`super::to_crlf`]), POP3 (RFC 1939 §3) and mail readers of the Maildir. A
//! message is therefore stored as it will be served, so the file, RFC822.SIZE, the quota
//! and every protocol agree:
//! - lines end in CRLF (a bare LF becomes CRLF, as FETCH would send it anyway);
//! - a part declared `Content-Transfer-Encoding: binary` (RFC 2045 §6.2) whose octets
//!   would not survive that (a NUL, a bare CR or a bare LF, which literals and line-based
//!   readers cannot carry) is re-encoded as base64, its Content-Transfer-Encoding field
//!   changed to match. RFC 3516 §4.4 lets the server change the encoding of APPENDed
//!   data if no data is lost, and §6 wants BODYSTRUCTURE and BODY[] to show a part in an
//!   encoding IMAP4 itself can carry; `BINARY[part]` decodes the base64 and gives the
//!   client's octets back exactly. Other parts are kept octet for octet (§6: encoding
//!   changes only "when absolutely necessary": they break signatures).

use super::lexer::Lexer;
use super::mime::{self, Kind, Part};
use base64::Engine;
use std::ops::Range;

/// Line length of the base64 written (RFC 2045 §6.8: at most 76 characters).
const BASE64_LINE: usize = 76;

/// The octets to store for an APPENDed message `raw`.
pub fn storage_form(raw: &[u8]) -> Vec<u8> {
    let root = mime::parse(raw);
    let mut edits: Vec<(Range<usize>, Vec<u8>)> = Vec::new();
    collect(raw, &root, &mut edits);
    if edits.is_empty() {
        return super::to_crlf(raw).into_owned();
    }
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 3);
    let mut at = 0usize;
    for (range, with) in edits {
        if range.start < at {
            // Overlapping edits cannot come from one part tree; keep the first.
            continue;
        }
        out.extend_from_slice(raw.get(at..range.start).unwrap_or_default());
        out.extend_from_slice(&with);
        at = range.end;
    }
    out.extend_from_slice(raw.get(at..).unwrap_or_default());
    super::to_crlf(&out).into_owned()
}

/// The edits that re-encode the binary parts of `part` and its descendants.
fn collect(data: &[u8], part: &Part, edits: &mut Vec<(Range<usize>, Vec<u8>)>) {
    match &part.kind {
        Kind::Multipart(children) => {
            for c in children {
                collect(data, c, edits);
            }
        }
        Kind::Message(inner) => collect(data, inner, edits),
        Kind::Text | Kind::Basic => {
            let body = data.get(part.body.clone()).unwrap_or_default();
            if !part.is_mime || !declared_binary(data, part) || !needs_encoding(body) {
                return;
            }
            for f in &part.header.fields {
                if f.is(data, "Content-Transfer-Encoding") {
                    edits.push((f.value.clone(), b"base64".to_vec()));
                }
            }
            let mut encoded = base64_lines(body);
            if part.body.end >= data.len() {
                // The part ends the message: end it with a line break.
                encoded.extend_from_slice(b"\r\n");
            }
            edits.push((part.body.clone(), encoded));
        }
    }
}

/// The part's (last) Content-Transfer-Encoding is `binary` (as BINARY reads it,
/// [`super::section::binary_encoding`]).
fn declared_binary(data: &[u8], part: &Part) -> bool {
    let Some(f) = part.header.last(data, "Content-Transfer-Encoding") else {
        return false;
    };
    let value = f.unfolded(data);
    let mut lex = Lexer::new(&value);
    lex.skip_lwsp();
    let mut tok = Vec::new();
    let _ = lex.parse_mime_token(&mut tok);
    tok.eq_ignore_ascii_case(b"binary")
}

/// Octets the CRLF text form would change or a literal cannot hold: NUL, a CR not
/// followed by LF, an LF not preceded by CR.
fn needs_encoding(body: &[u8]) -> bool {
    if memchr::memchr(0, body).is_some() {
        return true;
    }
    let bare_lf =
        memchr::memchr_iter(b'\n', body).any(|i| i == 0 || body.get(i - 1) != Some(&b'\r'));
    let bare_cr = memchr::memchr_iter(b'\r', body).any(|i| body.get(i + 1) != Some(&b'\n'));
    bare_lf || bare_cr
}

/// RFC 2045 §6.8 base64 in lines of [`BASE64_LINE`] characters joined by CRLF.
fn base64_lines(body: &[u8]) -> Vec<u8> {
    let text = base64::engine::general_purpose::STANDARD.encode(body);
    let mut out = Vec::with_capacity(text.len() + text.len() / BASE64_LINE * 2 + 2);
    for (i, line) in text.as_bytes().chunks(BASE64_LINE).enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    /// The message of imaptest's `append-binary`: a header line with a bare LF, and a
    /// binary body with NUL, a bare LF and a CRLF.
    const BINARY: &[u8] = b"From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\r\nMime-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\0-\xe4\n\r\n\n";

    #[test]
    fn regress_append_binary_part_not_byte_exact() {
        // Stored as given, the part came back with its bare LFs made CRLF: BINARY.SIZE[1] 9
        // instead of the 7 octets the client appended.
        let stored = storage_form(BINARY);
        let m = Message::parse(&stored);
        assert_eq!(&*m.binary(&[1]).unwrap(), b"\0-\xe4\n\r\n\n");
        assert_eq!(m.data(), &stored[..], "stored in the form it is served");
        let body = m.section(&[1], &crate::message::Specifier::Content);
        assert_eq!(&*body, b"AC3kCg0KCg==\r\n");
        assert!(
            String::from_utf8_lossy(&stored)
                .contains("Content-Transfer-Encoding: base64\r\n\r\nAC3kCg0KCg==\r\n")
        );
    }

    #[test]
    fn text_and_clean_binary_parts_are_kept() {
        let clean =
            b"Content-Type: application/x\r\nContent-Transfer-Encoding: binary\r\n\r\n\xff\xfe\r\n";
        assert_eq!(storage_form(clean), clean.to_vec());
        // Not declared binary: only the line ends change.
        let lf = b"Subject: x\n\nline\n";
        assert_eq!(storage_form(lf), b"Subject: x\r\n\r\nline\r\n".to_vec());
        // Outside MIME, a Content-Transfer-Encoding field means nothing.
        let plain = b"Content-Transfer-Encoding: binary\r\n\r\na\0b\r\n";
        assert_eq!(storage_form(plain), plain.to_vec());
    }

    #[test]
    fn binary_parts_of_a_multipart_are_reencoded_in_place() {
        let raw = b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: Binary\r\n\r\n\x00\x01\n\x02\r\n--b--\r\n";
        let stored = storage_form(raw);
        let m = Message::parse(&stored);
        assert_eq!(&*m.binary(&[2]).unwrap(), b"\x00\x01\n\x02");
        assert_eq!(&*m.binary(&[1]).unwrap(), b"hi");
        assert!(
            String::from_utf8_lossy(&stored)
                .ends_with("Content-Transfer-Encoding: base64\r\n\r\nAAEKAg==\r\n--b--\r\n"),
            "{}",
            String::from_utf8_lossy(&stored)
        );
    }

    #[test]
    fn long_binary_parts_get_76_character_lines() {
        let mut raw =
            b"Content-Type: application/x\r\nContent-Transfer-Encoding: binary\r\n\r\n".to_vec();
        raw.extend((0..=255u8).cycle().take(1000));
        let stored = storage_form(&raw);
        let m = Message::parse(&stored);
        assert_eq!(&*m.binary(&[1]).unwrap(), &raw[raw.len() - 1000..]);
        let body = m.section(&[1], &crate::message::Specifier::Content);
        assert!(
            body.split(|&c| c == b'\n')
                .all(|l| l.len() <= BASE64_LINE + 1)
        );
    }

    proptest::proptest! {
        /// Whatever is appended, BINARY of a binary part gives it back exactly, and the
        /// stored form is what FETCH serves.
        #[test]
        fn binary_parts_round_trip(part in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let mut raw = b"Content-Type: application/x\r\nContent-Transfer-Encoding: binary\r\n\r\n".to_vec();
            raw.extend_from_slice(&part);
            let stored = storage_form(&raw);
            let m = Message::parse(&stored);
            proptest::prop_assert_eq!(m.data(), &stored[..]);
            proptest::prop_assert_eq!(&*m.binary(&[1]).unwrap(), &part[..]);
        }
    }
}
