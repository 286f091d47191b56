//! Strings for responses: RFC 9051 §4.3 string (quoted or literal), nstring (§4.5 NIL), and
//! the clean-up of human-readable header text.

use imap_codec::imap_types::core::{IString, Literal, NString, Quoted};

/// RFC 9051 §4.3: a literal is any octets except NUL (`CHAR8`); NUL cannot be sent in a
/// string at all, so it becomes 0x80 (as Dovecot sends it).
fn no_nul(mut v: Vec<u8>) -> Vec<u8> {
    for b in &mut v {
        if *b == 0 {
            *b = 0x80;
        }
    }
    v
}

/// A string: quoted when every octet is a 7-bit TEXT-CHAR (RFC 9051 §4.3 quoted), else a
/// literal.
pub fn istring(v: Vec<u8>) -> IString<'static> {
    let v = no_nul(v);
    if Quoted::validate(&v).is_ok()
        && let Ok(s) = String::from_utf8(v.clone())
        && let Ok(q) = Quoted::try_from(s)
    {
        return IString::Quoted(q);
    }
    match Literal::try_from(v) {
        Ok(l) => IString::Literal(l),
        // Unreachable after no_nul; an empty quoted string is the safe answer.
        Err(_) => IString::Quoted(Quoted::unvalidated("")),
    }
}

/// A non-NIL nstring.
pub fn nstring(v: Vec<u8>) -> NString<'static> {
    NString(Some(istring(v)))
}

/// NIL for `None`.
pub fn nstring_opt(v: Option<Vec<u8>>) -> NString<'static> {
    NString(v.map(istring))
}

/// Text meant for people (ENVELOPE subject and display names): line breaks removed, runs
/// of white space made one space, leading and trailing white space dropped, NUL made 0x80
/// (Dovecot's `imap_append_string_for_humans`).
pub fn for_humans(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len());
    let mut last_lwsp = true;
    for &b in src {
        match b {
            0 => {
                out.push(0x80);
                last_lwsp = false;
            }
            b'\t' | b' ' => {
                if !last_lwsp {
                    out.push(b' ');
                }
                last_lwsp = true;
            }
            b'\r' | b'\n' => {}
            _ => {
                out.push(b);
                last_lwsp = false;
            }
        }
    }
    if last_lwsp && out.last() == Some(&b' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humans_get_tidy_text() {
        assert_eq!(for_humans(b"  a \t b\r\n c  "), b"a b c");
        assert_eq!(for_humans(b"   "), b"");
    }

    #[test]
    fn strings_choose_quoted_or_literal() {
        assert!(matches!(istring(b"abc".to_vec()), IString::Quoted(_)));
        assert!(matches!(
            istring("ä".as_bytes().to_vec()),
            IString::Literal(_)
        ));
        assert!(matches!(istring(b"a\r\nb".to_vec()), IString::Literal(_)));
    }
}
