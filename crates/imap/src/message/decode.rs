//! Decoding of content: transfer encodings (RFC 2045 §6.7 quoted-printable, §6.8 base64),
//! charsets to UTF-8 (through `mail-parser`'s charset tables), and RFC 2047 encoded words in
//! header fields. Every decoder is lenient, as mail readers are: bad octets are skipped or
//! kept, never an error, so a damaged message still searches and fetches.

use std::borrow::Cow;

/// The transfer encodings of RFC 2045 §6.1, plus "anything else" (RFC 3516 §4.2: BINARY
/// of an unknown encoding is refused with `[UNKNOWN-CTE]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// 7bit, 8bit, binary: the octets are the content.
    Identity,
    QuotedPrintable,
    Base64,
    /// An encoding we do not know.
    Unknown,
}

impl TransferEncoding {
    /// From the Content-Transfer-Encoding token (case-insensitive; absent is 7bit).
    pub fn from_token(token: Option<&[u8]>) -> TransferEncoding {
        let Some(t) = token else {
            return TransferEncoding::Identity;
        };
        let t = trim(t);
        if t.eq_ignore_ascii_case(b"7bit")
            || t.eq_ignore_ascii_case(b"8bit")
            || t.eq_ignore_ascii_case(b"binary")
            || t.is_empty()
        {
            TransferEncoding::Identity
        } else if t.eq_ignore_ascii_case(b"quoted-printable") {
            TransferEncoding::QuotedPrintable
        } else if t.eq_ignore_ascii_case(b"base64") {
            TransferEncoding::Base64
        } else {
            TransferEncoding::Unknown
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or(&[])
}

/// Decodes a body in `encoding`; `None` for an unknown encoding.
pub fn decode_transfer(body: &[u8], encoding: TransferEncoding) -> Option<Cow<'_, [u8]>> {
    match encoding {
        TransferEncoding::Identity => Some(Cow::Borrowed(body)),
        TransferEncoding::QuotedPrintable => Some(Cow::Owned(decode_qp(body, false))),
        TransferEncoding::Base64 => Some(Cow::Owned(decode_base64(body))),
        TransferEncoding::Unknown => None,
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 2045 §6.7 quoted-printable: `=XX` octets, `=` CRLF soft breaks, trailing white space
/// on a line dropped (rule 3). A malformed `=` is kept as is. With `q_encoding`, RFC 2047
/// §4.2's Q: `_` is a space.
pub fn decode_qp(input: &[u8], q_encoding: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    // Literal (not `=20`-encoded) white space at the end of `out`.
    let mut literal_ws = 0usize;
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'=' => {
                let a = input.get(i + 1).copied();
                let c = input.get(i + 2).copied();
                if let (Some(h), Some(l)) = (a.and_then(hex_val), c.and_then(hex_val)) {
                    out.push(h << 4 | l);
                    literal_ws = 0;
                    i += 3;
                    continue;
                }
                // Soft line break: "=" [WSP] CRLF or LF.
                let mut j = i + 1;
                while matches!(input.get(j), Some(b' ' | b'\t')) {
                    j += 1;
                }
                match input.get(j) {
                    Some(b'\r') if input.get(j + 1) == Some(&b'\n') => {
                        i = j + 2;
                        literal_ws = 0;
                        continue;
                    }
                    Some(b'\n') => {
                        i = j + 1;
                        literal_ws = 0;
                        continue;
                    }
                    None => {
                        i = j;
                        continue;
                    }
                    _ => {
                        out.push(b'=');
                        literal_ws = 0;
                        i += 1;
                    }
                }
            }
            b'_' if q_encoding => {
                out.push(b' ');
                literal_ws = 0;
                i += 1;
            }
            b'\r' | b'\n' => {
                // Rule 3: white space at the end of an encoded line is not content.
                out.truncate(out.len().saturating_sub(literal_ws));
                literal_ws = 0;
                out.push(b);
                i += 1;
            }
            b' ' | b'\t' => {
                out.push(b);
                literal_ws += 1;
                i += 1;
            }
            _ => {
                out.push(b);
                literal_ws = 0;
                i += 1;
            }
        }
    }
    out
}

fn b64_val(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// RFC 2045 §6.8 base64; characters outside the alphabet are ignored (as the RFC says),
/// decoding stops at the first `=` pad.
pub fn decode_base64(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut n = 0u8;
    for &b in input {
        if b == b'=' {
            break;
        }
        let Some(v) = b64_val(b) else { continue };
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

/// Converts text in `charset` to UTF-8. Unknown charsets and invalid octets fall back to
/// UTF-8 when valid, else to ISO-8859-1 (every octet is a character), so nothing is lost
/// for searching.
pub fn charset_to_utf8(charset: &[u8], bytes: &[u8]) -> String {
    let cs = trim(charset);
    let is_utf8 = cs.is_empty()
        || cs.eq_ignore_ascii_case(b"utf-8")
        || cs.eq_ignore_ascii_case(b"utf8")
        || cs.eq_ignore_ascii_case(b"us-ascii")
        || cs.eq_ignore_ascii_case(b"ascii");
    if is_utf8 {
        return utf8_or_latin1(bytes);
    }
    match mail_parser::decoders::charsets::map::charset_decoder(cs) {
        Some(decoder) => decoder(bytes),
        None => utf8_or_latin1(bytes),
    }
}

/// The octets as UTF-8 when they are, else as ISO-8859-1.
pub fn utf8_or_latin1(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Decodes RFC 2047 encoded words in an (unfolded) header value to UTF-8. White space
/// between two encoded words is dropped (§6.2); other text is taken as UTF-8 or Latin-1.
/// A charset may carry an RFC 2231 §5 language suffix (`utf-8*en`).
pub fn decode_header_text(value: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    let mut pending_ws: Option<(usize, usize)> = None;
    let mut last_was_word = false;
    let mut plain_start = 0;
    while i < value.len() {
        if value.get(i) == Some(&b'=')
            && value.get(i + 1) == Some(&b'?')
            && let Some((decoded, len)) = encoded_word(value.get(i..).unwrap_or(&[]))
        {
            // Flush plain text before the word; white space between two words is dropped.
            let plain_end = pending_ws.map_or(i, |(s, _)| s);
            if plain_start < plain_end {
                out.push_str(&utf8_or_latin1(
                    value.get(plain_start..plain_end).unwrap_or(&[]),
                ));
            }
            if let Some((s, e)) = pending_ws
                && !last_was_word
            {
                out.push_str(&utf8_or_latin1(value.get(s..e).unwrap_or(&[])));
            }
            out.push_str(&decoded);
            i += len;
            plain_start = i;
            pending_ws = None;
            last_was_word = true;
            continue;
        }
        let b = value.get(i).copied().unwrap_or(0);
        if b == b' ' || b == b'\t' || b == b'\r' || b == b'\n' {
            if pending_ws.is_none() {
                pending_ws = Some((i, i));
            }
            if let Some((_, e)) = pending_ws.as_mut() {
                *e = i + 1;
            }
        } else {
            pending_ws = None;
            last_was_word = false;
        }
        i += 1;
    }
    if plain_start < value.len() {
        out.push_str(&utf8_or_latin1(value.get(plain_start..).unwrap_or(&[])));
    }
    out
}

/// One `=?charset?enc?text?=` at the start of `s`: the decoded text and the length used.
fn encoded_word(s: &[u8]) -> Option<(String, usize)> {
    // RFC 2047 §2: an encoded word is at most 75 characters; be generous with broken mail.
    let limit = s.len().min(1024);
    let s = s.get(..limit)?;
    let rest = s.get(2..)?;
    let q1 = memchr::memchr(b'?', rest)?;
    let charset = rest.get(..q1)?;
    let enc = *rest.get(q1 + 1)?;
    if rest.get(q1 + 2) != Some(&b'?') {
        return None;
    }
    let text_start = q1 + 3;
    let text_rest = rest.get(text_start..)?;
    let end = memchr::memmem::find(text_rest, b"?=")?;
    let text = text_rest.get(..end)?;
    if text
        .iter()
        .any(|&b| b == b' ' || b == b'\t' || b == b'\r' || b == b'\n')
    {
        return None;
    }
    let charset = charset.split(|&b| b == b'*').next().unwrap_or(charset);
    let raw = match enc {
        b'B' | b'b' => decode_base64(text),
        b'Q' | b'q' => decode_qp(text, true),
        _ => return None,
    };
    Some((charset_to_utf8(charset, &raw), 2 + text_start + end + 2))
}

/// Case folding for SEARCH (RFC 9051 §6.4.4: matching is case-insensitive; for non-ASCII
/// we use Unicode lowercase, a simple form of the i;unicode-casemap comparator, RFC 5051).
pub fn fold_case(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qp_soft_breaks_and_escapes() {
        assert_eq!(decode_qp(b"a=3Db=\r\nc  \r\nd", false), b"a=bc\r\nd");
        assert_eq!(decode_qp(b"day=20\r\n", false), b"day \r\n");
        assert_eq!(decode_qp(b"broken=ZZ", false), b"broken=ZZ");
    }

    #[test]
    fn base64_ignores_noise() {
        assert_eq!(decode_base64(b"aGVs\r\nbG8=\r\n"), b"hello");
        assert_eq!(decode_base64(b"aGVsbG8"), b"hello");
    }

    #[test]
    fn encoded_words_are_decoded_and_joined() {
        assert_eq!(
            decode_header_text(b"=?UTF-8?Q?Foo_Bar?= =?ISO-8859-1?B?5A==?= x"),
            "Foo Barä x"
        );
        assert_eq!(decode_header_text(b"plain =?x?q?bad"), "plain =?x?q?bad");
        assert_eq!(decode_header_text(b"a =?utf-8?q?b?= c"), "a b c");
    }

    #[test]
    fn charsets_convert() {
        assert_eq!(charset_to_utf8(b"iso-8859-1", b"\xe4"), "ä");
        assert_eq!(charset_to_utf8(b"nonsense", b"\xe4"), "ä");
    }
}
