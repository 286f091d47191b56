//! The message as Sieve reads it: its header fields in order (RFC 5322 §2.2, unfolded on
//! reading), its body, and RFC 2047 decoding of header values (RFC 5228 §2.7.2). The
//! header list is edited in place by RFC 5293 editheader.

/// Header fields read from a message at most; the rest count as body.
const MAX_HEADER_FIELDS: usize = 10_000;

/// One header field as it stands in the message.
#[derive(Debug, Clone)]
pub struct HeaderField {
    pub name: String,
    /// The value as written, folding included, without the final line break.
    raw: String,
    /// [`HeaderField::unfolded`] and [`HeaderField::decoded`], worked out on first use:
    /// a script tests the same fields many times.
    unfolded: std::cell::OnceCell<String>,
    decoded: std::cell::OnceCell<String>,
}

impl PartialEq for HeaderField {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.raw == other.raw
    }
}

impl Eq for HeaderField {}

impl HeaderField {
    /// A field named `name` with the value `raw` as written (folding included).
    pub fn new(name: String, raw: String) -> HeaderField {
        HeaderField {
            name,
            raw,
            unfolded: std::cell::OnceCell::new(),
            decoded: std::cell::OnceCell::new(),
        }
    }

    /// The value as written, folding included, without the final line break.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The value unfolded (RFC 5322 §2.2.3) and stripped of leading and trailing blanks.
    pub fn unfolded(&self) -> String {
        self.unfolded_str().to_string()
    }

    fn unfolded_str(&self) -> &str {
        self.unfolded.get_or_init(|| {
            let mut out = String::with_capacity(self.raw.len());
            for c in self.raw.chars() {
                if c != '\r' && c != '\n' {
                    out.push(c);
                }
            }
            out.trim_matches([' ', '\t']).to_string()
        })
    }

    /// The unfolded value with RFC 2047 encoded words decoded (RFC 5228 §2.7.2).
    pub fn decoded(&self) -> String {
        self.decoded
            .get_or_init(|| decode_rfc2047(self.unfolded_str()))
            .clone()
    }
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub headers: Vec<HeaderField>,
    /// Bytes after the blank line that ends the header.
    pub body: Vec<u8>,
    /// Size of the message as received (RFC 5228 §5.9).
    pub size: usize,
    /// Whether editheader changed the header.
    pub edited: bool,
}

impl Message {
    /// Reads the header of `raw`: lines up to the first empty line, continuation lines
    /// (starting with a blank) joined to their field. A line without a colon ends the
    /// header.
    pub fn parse(raw: &[u8]) -> Message {
        let mut headers: Vec<HeaderField> = Vec::new();
        let mut pos = 0;
        let mut body_start = raw.len();
        while pos < raw.len() {
            let end = raw[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(raw.len(), |i| pos + i + 1);
            let line = &raw[pos..end];
            let content = line
                .strip_suffix(b"\n")
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .unwrap_or(line);
            if content.is_empty() {
                body_start = end;
                break;
            }
            if matches!(content.first(), Some(b' ' | b'\t'))
                && let Some(last) = headers.last_mut()
            {
                {
                    last.raw.push_str("\r\n");
                    last.raw.push_str(&String::from_utf8_lossy(content));
                    pos = end;
                    continue;
                }
            }
            let Some(colon) = content.iter().position(|&b| b == b':') else {
                body_start = pos;
                break;
            };
            if headers.len() >= MAX_HEADER_FIELDS {
                body_start = pos;
                break;
            }
            let name = String::from_utf8_lossy(&content[..colon])
                .trim()
                .to_string();
            let value = content.get(colon + 1..).unwrap_or_default();
            headers.push(HeaderField::new(
                name,
                String::from_utf8_lossy(value).into_owned(),
            ));
            pos = end;
        }
        Message {
            headers,
            body: raw.get(body_start..).unwrap_or_default().to_vec(),
            size: raw.len(),
            edited: false,
        }
    }

    /// The fields named `name` (case-insensitive), in order.
    pub fn fields<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a HeaderField> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
    }

    /// The message with its (possibly edited) header.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size + 64);
        for field in &self.headers {
            out.extend_from_slice(field.name.as_bytes());
            out.push(b':');
            out.extend_from_slice(field.raw.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// RFC 2047 §6.1: decodes `=?charset?B|Q?text?=` words; white space between two encoded
/// words is dropped (§6.2); an unknown charset or bad encoding leaves the word as it was.
pub fn decode_rfc2047(value: &str) -> String {
    if !value.contains("=?") {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    let mut pending_space = String::new();
    let mut last_was_word = false;
    while !rest.is_empty() {
        if rest.starts_with("=?")
            && let Some((decoded, used)) = encoded_word(rest)
        {
            if !last_was_word {
                out.push_str(&pending_space);
            }
            pending_space.clear();
            out.push_str(&decoded);
            rest = &rest[used..];
            last_was_word = true;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        if c == ' ' || c == '\t' {
            pending_space.push(c);
        } else {
            out.push_str(&pending_space);
            pending_space.clear();
            out.push(c);
            last_was_word = false;
        }
        rest = &rest[c.len_utf8()..];
    }
    out.push_str(&pending_space);
    out
}

fn encoded_word(text: &str) -> Option<(String, usize)> {
    let inner = text.get(2..)?;
    let (charset, after) = inner.split_once('?')?;
    let (encoding, after) = after.split_once('?')?;
    let end = after.find("?=")?;
    let payload = &after[..end];
    if payload.contains(' ') || charset.is_empty() {
        return None;
    }
    let used = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    let bytes = match encoding {
        "B" | "b" => decode_base64(payload.as_bytes())?,
        "Q" | "q" => decode_q(payload.as_bytes())?,
        _ => return None,
    };
    let charset = charset.split('*').next().unwrap_or(charset);
    Some((decode_charset(charset, &bytes)?, used))
}

/// Bytes in `charset` to text; `None` when the charset is unknown.
pub fn decode_charset(charset: &str, bytes: &[u8]) -> Option<String> {
    let lower = charset.to_ascii_lowercase();
    if lower == "utf-8" || lower == "us-ascii" || lower == "utf8" {
        return Some(String::from_utf8_lossy(bytes).into_owned());
    }
    mail_parser::decoders::charsets::map::charset_decoder(lower.as_bytes())
        .map(|decode| decode(bytes))
}

/// RFC 4648 §4 base64, ignoring white space, tolerating missing padding.
pub fn decode_base64(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in input {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// RFC 2047 §4.2 Q encoding.
fn decode_q(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = input.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_folded_fields_and_body() {
        let m = Message::parse(b"Subject: a\r\n b\r\nTo: x@y\r\n\r\nbody\r\n");
        assert_eq!(m.headers.len(), 2);
        assert_eq!(m.headers[0].unfolded(), "a b");
        assert_eq!(m.body, b"body\r\n");
    }

    #[test]
    fn decodes_encoded_words() {
        assert_eq!(
            decode_rfc2047("=?UTF-8?B?w6k=?= =?ISO-8859-1?Q?=E9_x?= y"),
            "\u{e9}\u{e9} x y"
        );
    }
}
