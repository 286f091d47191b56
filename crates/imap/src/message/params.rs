//! MIME header parameters: RFC 2045 §5.1 `*(";" parameter)` with the RFC 2231 §3-§4
//! continuations (`name*0=`, `name*1*=`) merged into one `name` or `name*` parameter.
//!
//! As in Dovecot (and so in its BODYSTRUCTURE), merged RFC 2231 parameters keep their
//! encoded form (`name*` = `charset'lang'%XX..`): IMAP passes parameters through
//! undecoded (RFC 9051 §7.5.2 body-fld-param). Plain parameters come first in header order,
//! then the merged ones sorted by name. A continuation set with a missing index is passed
//! through piece by piece (`name*0`, `name*2`).

use super::lexer::Lexer;

/// Most parameters kept from one header field.
pub const MAX_PARAMS: usize = 256;

/// One `attribute=value` pair, as octets.
pub type Param = (Vec<u8>, Vec<u8>);

struct Rfc2231Piece {
    key: Vec<u8>,
    value: Vec<u8>,
    idx: u32,
    extended: bool,
}

/// Parses the parameters following the cursor. Malformed parameters are skipped.
pub fn parse_params(lex: &mut Lexer<'_>) -> Vec<Param> {
    let mut plain: Vec<Param> = Vec::new();
    let mut pieces: Vec<Rfc2231Piece> = Vec::new();
    let mut seen = 0usize;
    loop {
        match lex.parse_content_param() {
            Ok(None) => break,
            Err(_) => {
                // Try to continue after the bad octet.
                if lex.at_end() {
                    break;
                }
                lex.pos += 1;
                continue;
            }
            Ok(Some((key, value))) => {
                seen += 1;
                if seen > MAX_PARAMS {
                    break;
                }
                match split_rfc2231(&key) {
                    Some((base, idx, extended)) => pieces.push(Rfc2231Piece {
                        key: base.to_vec(),
                        value,
                        idx,
                        extended,
                    }),
                    None => plain.push((key, value)),
                }
            }
        }
    }
    if pieces.is_empty() {
        return plain;
    }
    pieces.sort_by(|a, b| a.key.cmp(&b.key).then(a.idx.cmp(&b.idx)));
    let mut i = 0;
    while i < pieces.len() {
        let Some(first) = pieces.get(i) else { break };
        let mut j = i;
        let mut ok = true;
        let mut have_extended = false;
        let mut next_idx = 0u32;
        while let Some(p) = pieces.get(j) {
            if !p.key.eq_ignore_ascii_case(&first.key) {
                break;
            }
            if p.idx != next_idx {
                ok = false;
            }
            have_extended |= p.extended;
            next_idx = next_idx.saturating_add(1);
            j += 1;
        }
        let group = pieces.get(i..j).unwrap_or(&[]);
        if !ok {
            for p in group {
                let mut key = p.key.clone();
                key.extend_from_slice(format!("*{}", p.idx).as_bytes());
                if p.extended {
                    key.push(b'*');
                }
                plain.push((key, p.value.clone()));
            }
        } else {
            let mut value = Vec::new();
            if !first.extended && have_extended {
                value.extend_from_slice(b"''");
            }
            for p in group {
                if !p.extended && have_extended {
                    // A plain piece inside an encoded value: escape its `%`.
                    for &b in &p.value {
                        if b == b'%' {
                            value.extend_from_slice(b"%25");
                        } else {
                            value.push(b);
                        }
                    }
                } else {
                    value.extend_from_slice(&p.value);
                }
            }
            let mut key = first.key.clone();
            if have_extended {
                key.push(b'*');
            }
            plain.push((key, value));
        }
        i = j.max(i + 1);
    }
    plain
}

/// `name*`, `name*3`, `name*3*` → (name, index, extended); `None` for a plain name or a
/// malformed suffix.
fn split_rfc2231(key: &[u8]) -> Option<(&[u8], u32, bool)> {
    let star = memchr::memchr(b'*', key)?;
    let base = key.get(..star)?;
    let mut rest = key.get(star + 1..)?;
    let mut idx = 0u32;
    if rest.is_empty() {
        // `name*=charset'lang'value`: one extended piece.
        return Some((base, 0, true));
    }
    {
        while let Some((&d, tail)) = rest.split_first() {
            if !d.is_ascii_digit() {
                break;
            }
            idx = idx.saturating_mul(10).saturating_add(u32::from(d - b'0'));
            rest = tail;
        }
    }
    let extended = rest.first() == Some(&b'*');
    if extended {
        rest = rest.get(1..).unwrap_or(&[]);
    }
    if !rest.is_empty() {
        return None;
    }
    Some((base, idx, extended))
}

/// Decodes a merged RFC 2231 value `charset'lang'%XX..` to UTF-8 (for search and
/// attachment names; not for BODYSTRUCTURE, which passes it through).
pub fn decode_rfc2231_value(value: &[u8]) -> String {
    let mut parts = value.splitn(3, |&b| b == b'\'');
    let (Some(charset), Some(_lang), Some(text)) = (parts.next(), parts.next(), parts.next())
    else {
        return String::from_utf8_lossy(value).into_owned();
    };
    let mut raw = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if b == b'%'
            && let (Some(h), Some(l)) = (text.get(i + 1), text.get(i + 2))
            && let (Some(h), Some(l)) = (hex(*h), hex(*l))
        {
            raw.push(h << 4 | l);
            i += 3;
            continue;
        }
        raw.push(b);
        i += 1;
    }
    super::decode::charset_to_utf8(charset, &raw)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(s: &[u8]) -> Vec<(String, String)> {
        let mut l = Lexer::new(s);
        parse_params(&mut l)
            .into_iter()
            .map(|(k, v)| {
                (
                    String::from_utf8_lossy(&k).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn rfc2231_continuations_are_merged() {
        let p = params(b"; title*1*=%20b; title*0*=us-ascii'en'a; x=1");
        assert_eq!(
            p,
            vec![
                ("x".into(), "1".into()),
                ("title*".into(), "us-ascii'en'a%20b".into())
            ]
        );
        assert_eq!(decode_rfc2231_value(b"us-ascii'en'a%20b"), "a b");
    }

    #[test]
    fn plain_continuations_are_joined() {
        let p = params(b"; name*0=\"ab\"; name*1=\"cd\"");
        assert_eq!(p, vec![("name".into(), "abcd".into())]);
    }

    #[test]
    fn missing_index_keeps_the_pieces() {
        let p = params(b"; name*0=a; name*2=c");
        assert_eq!(
            p,
            vec![("name*0".into(), "a".into()), ("name*2".into(), "c".into())]
        );
    }
}
