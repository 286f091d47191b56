//! Mailbox names on the wire.
//!
//! - IMAP4rev1 clients write non-ASCII names in modified UTF-7 (RFC 3501 §5.1.3):
//!   printable ASCII stands for itself except `&`, written `&-`; other characters are
//!   UTF-16 in modified BASE64 (`,` for `/`) between `&` and `-`.
//! - After `ENABLE UTF8=ACCEPT` (RFC 6855 §3) or `ENABLE IMAP4rev2` (RFC 9051 §5.1: names
//!   are UTF-8 and `&` is an ordinary character), names are UTF-8 as they are.
//! - A name with 8-bit octets is taken as UTF-8 in either mode (it cannot be modified
//!   UTF-7), and must be valid UTF-8.
//!
//! Inside the server, names are UTF-8 with the hierarchy separator [`SEPARATOR`]
//! (RFC 9051 §5.1.1), `INBOX` in upper case (§5.1: INBOX is case-insensitive).

use imap_codec::imap_types::mailbox::Mailbox;

/// The hierarchy separator (the store's Maildir++ layout maps it to `.` on disk).
pub const SEPARATOR: char = '/';

/// Longest name accepted, in octets of UTF-8.
pub const MAX_NAME: usize = 512;

/// Why a mailbox name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("mailbox name is not valid modified UTF-7 (RFC 3501 section 5.1.3)")]
    BadUtf7,
    #[error("mailbox name is not valid UTF-8")]
    BadUtf8,
    #[error("mailbox name contains control characters")]
    Control,
    #[error("mailbox name is too long")]
    TooLong,
    #[error("mailbox name is empty")]
    Empty,
}

fn b64_value(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'+' => Some(62),
        b',' => Some(63),
        _ => None,
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Decodes modified UTF-7 strictly (RFC 3501 §5.1.3): a shifted sequence must end with
/// `-`, hold whole UTF-16 units with zero padding bits, encode no printable ASCII and not
/// directly follow another shifted sequence.
pub fn decode_mutf7(s: &[u8]) -> Result<String, NameError> {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut last_was_shift = false;
    while let Some(&c) = s.get(i) {
        if !(0x20..=0x7e).contains(&c) {
            return Err(NameError::BadUtf7);
        }
        if c != b'&' {
            out.push(char::from(c));
            i += 1;
            last_was_shift = false;
            continue;
        }
        i += 1;
        if s.get(i) == Some(&b'-') {
            out.push('&');
            i += 1;
            last_was_shift = false;
            continue;
        }
        if last_was_shift {
            return Err(NameError::BadUtf7);
        }
        let mut bits: u32 = 0;
        let mut nbits = 0u32;
        let mut units: Vec<u16> = Vec::new();
        loop {
            let Some(&d) = s.get(i) else {
                return Err(NameError::BadUtf7);
            };
            i += 1;
            if d == b'-' {
                break;
            }
            let v = b64_value(d).ok_or(NameError::BadUtf7)?;
            bits = (bits << 6) | v;
            nbits += 6;
            if nbits >= 16 {
                nbits -= 16;
                units.push(((bits >> nbits) & 0xffff) as u16);
                bits &= (1 << nbits) - 1;
            }
        }
        if units.is_empty() || nbits >= 6 || bits != 0 {
            return Err(NameError::BadUtf7);
        }
        let text = String::from_utf16(&units).map_err(|_| NameError::BadUtf7)?;
        if text.chars().any(|ch| (' '..='~').contains(&ch)) {
            return Err(NameError::BadUtf7);
        }
        out.push_str(&text);
        last_was_shift = true;
    }
    Ok(out)
}

/// Encodes a UTF-8 name in modified UTF-7 (RFC 3501 §5.1.3).
pub fn encode_mutf7(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        out.push('&');
        let mut bits: u32 = 0;
        let mut nbits = 0u32;
        for &u in pending.iter() {
            bits = (bits << 16) | u32::from(u);
            nbits += 16;
            while nbits >= 6 {
                nbits -= 6;
                out.push(char::from(B64[((bits >> nbits) & 0x3f) as usize]));
            }
            bits &= (1 << nbits) - 1;
        }
        if nbits > 0 {
            out.push(char::from(B64[((bits << (6 - nbits)) & 0x3f) as usize]));
        }
        out.push('-');
        pending.clear();
    };
    for ch in name.chars() {
        if (' '..='~').contains(&ch) {
            flush(&mut pending, &mut out);
            if ch == '&' {
                out.push_str("&-");
            } else {
                out.push(ch);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(ch.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Checks a UTF-8 name: not empty, not too long, no control characters (RFC 9051 §5.1:
/// names are Net-Unicode, RFC 5198 §2, which has no controls).
pub fn check(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME {
        return Err(NameError::TooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::Control);
    }
    Ok(())
}

/// INBOX in any case, alone or as the first level, is `INBOX` (RFC 9051 §5.1).
fn canonical_inbox(name: String) -> String {
    let first = name.split(SEPARATOR).next().unwrap_or("");
    if first.eq_ignore_ascii_case("INBOX") && first != "INBOX" {
        let rest = name.get(first.len()..).unwrap_or("");
        return format!("INBOX{rest}");
    }
    name
}

/// A name as the client sent it, to the server's UTF-8 form. `utf8` is true once the
/// client enabled UTF8=ACCEPT or IMAP4rev2.
pub fn from_wire(raw: &[u8], utf8: bool) -> Result<String, NameError> {
    let name = if utf8 || !raw.is_ascii() {
        String::from_utf8(raw.to_vec()).map_err(|_| NameError::BadUtf8)?
    } else {
        decode_mutf7(raw)?
    };
    check(&name)?;
    Ok(canonical_inbox(name))
}

/// An imap-types mailbox to the server's UTF-8 form.
pub fn from_mailbox(m: &Mailbox<'_>, utf8: bool) -> Result<String, NameError> {
    match m {
        Mailbox::Inbox => Ok("INBOX".to_string()),
        Mailbox::Other(other) => from_wire(other.as_ref(), utf8),
    }
}

/// A UTF-8 name as the client expects it: as is in UTF-8 mode, else modified UTF-7.
pub fn to_wire(name: &str, utf8: bool) -> String {
    if utf8 {
        name.to_string()
    } else {
        encode_mutf7(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3501_example() {
        // RFC 3501 §5.1.3: "~peter/mail/台北/日本語".
        let wire = "~peter/mail/&U,BTFw-/&ZeVnLIqe-";
        let name = decode_mutf7(wire.as_bytes()).unwrap();
        assert_eq!(name, "~peter/mail/台北/日本語");
        assert_eq!(encode_mutf7(&name), wire);
        assert_eq!(decode_mutf7(b"A&-B").unwrap(), "A&B");
        assert_eq!(encode_mutf7("A&B"), "A&-B");
        assert_eq!(encode_mutf7("Entwürfe"), "Entw&APw-rfe");
    }

    #[test]
    fn strict_decoding_refuses_bad_forms() {
        for bad in [
            &b"&"[..],
            b"&Jjo",
            b"&AGE-",
            b"&Jjo-&Jjo-",
            b"a\x01b",
            b"&U,BTF2-",
            b"&!-",
        ] {
            assert!(
                decode_mutf7(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // A supplementary character (surrogate pair).
        let s = "😀";
        assert_eq!(decode_mutf7(encode_mutf7(s).as_bytes()).unwrap(), s);
    }

    #[test]
    fn wire_modes() {
        assert_eq!(from_wire(b"Entw&APw-rfe", false).unwrap(), "Entwürfe");
        assert_eq!(from_wire(b"Entw&APw-rfe", true).unwrap(), "Entw&APw-rfe");
        assert_eq!(from_wire("Entwürfe".as_bytes(), false).unwrap(), "Entwürfe");
        assert_eq!(from_wire(b"inbox/Sub", false).unwrap(), "INBOX/Sub");
        assert_eq!(from_wire(b"\xff", true), Err(NameError::BadUtf8));
        assert_eq!(from_wire(b"a\tb", true), Err(NameError::Control));
        assert_eq!(to_wire("Entwürfe", false), "Entw&APw-rfe");
        assert_eq!(to_wire("Entwürfe", true), "Entwürfe");
    }
}
