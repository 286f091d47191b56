//! Folder names: the IMAP form (UTF-8, hierarchy separator `/`) and the Maildir++ directory
//! that holds the folder (`.` + components joined by `.`, each component in modified UTF-7
//! as RFC 3501 §5.1.3 defines it, which is what Dovecot writes, so both servers can share a
//! Maildir).
//!
//! A `.` inside a component cannot be written literally on disk (it is Maildir++'s
//! separator), so it goes into the base64 part of modified UTF-7 (`a.b` → `a&AC4-b`), which
//! any modified-UTF-7 decoder reads back as `.`.

/// The hierarchy separator clients see (RFC 9051 §5.1.1, announced by LIST and NAMESPACE).
pub const SEPARATOR: char = '/';
/// Longest folder name accepted, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 512;
/// Deepest hierarchy accepted.
pub const MAX_DEPTH: usize = 16;

/// Why a folder name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("folder name is empty")]
    Empty,
    #[error("folder name is longer than {MAX_NAME_LEN} bytes")]
    TooLong,
    #[error("folder hierarchy is deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("folder name has an empty level (leading, trailing or doubled '/')")]
    EmptyLevel,
    #[error("folder name contains control characters")]
    Control,
    #[error("folder names cannot contain '*' or '%' (they are LIST wildcards)")]
    Wildcard,
}

/// Checks a folder name and gives its canonical form: `INBOX` in any case becomes `INBOX`
/// (RFC 9051 §5.1: INBOX is case-insensitive), also as the first level of a hierarchy.
pub fn canonical(name: &str) -> Result<String, NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::Control);
    }
    if name.contains(['*', '%']) {
        return Err(NameError::Wildcard);
    }
    let levels: Vec<&str> = name.split(SEPARATOR).collect();
    if levels.len() > MAX_DEPTH {
        return Err(NameError::TooDeep);
    }
    if levels.iter().any(|l| l.is_empty()) {
        return Err(NameError::EmptyLevel);
    }
    let mut out = String::with_capacity(name.len());
    for (i, level) in levels.iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        if i == 0 && level.eq_ignore_ascii_case("INBOX") {
            out.push_str("INBOX");
        } else {
            out.push_str(level);
        }
    }
    Ok(out)
}

/// True for the name `INBOX` (any case).
pub fn is_inbox(name: &str) -> bool {
    name.eq_ignore_ascii_case("INBOX")
}

/// The directory name under the Maildir for a canonical folder name other than `INBOX`:
/// `Lists/Rust` → `.Lists.Rust`.
pub fn to_disk(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for level in name.split(SEPARATOR) {
        out.push('.');
        encode_mutf7(level, &mut out);
    }
    out
}

/// The folder name of a Maildir++ directory name (`.Lists.Rust` → `Lists/Rust`); `None`
/// for names that are not folders (no leading `.`, `.` or `..`, bad modified UTF-7).
pub fn from_disk(dir_name: &str) -> Option<String> {
    let rest = dir_name.strip_prefix('.')?;
    if rest.is_empty() || rest.starts_with('.') {
        return None;
    }
    let mut out = String::with_capacity(rest.len());
    for (i, level) in rest.split('.').enumerate() {
        if level.is_empty() {
            return None;
        }
        if i > 0 {
            out.push(SEPARATOR);
        }
        out.push_str(&decode_mutf7(level)?);
    }
    canonical(&out).ok()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Appends `s` in modified UTF-7 (RFC 3501 §5.1.3): printable ASCII but `&` as itself,
/// `&` as `&-`, everything else (and `.`, see the module doc) as UTF-16BE in modified
/// base64 between `&` and `-`.
pub fn encode_mutf7(s: &str, out: &mut String) {
    let direct = |c: char| (' '..='~').contains(&c) && c != '&' && c != '.';
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '&' {
            out.push_str("&-");
        } else if direct(c) {
            out.push(c);
        } else {
            let mut units: Vec<u16> = Vec::new();
            let mut buf = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut buf));
            while let Some(&n) = chars.peek() {
                if n == '&' || direct(n) {
                    break;
                }
                units.extend_from_slice(n.encode_utf16(&mut buf));
                chars.next();
            }
            out.push('&');
            let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
            for chunk in bytes.chunks(3) {
                let b = [
                    chunk[0],
                    chunk.get(1).copied().unwrap_or(0),
                    chunk.get(2).copied().unwrap_or(0),
                ];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                let sextets = chunk.len() + 1;
                for i in 0..sextets {
                    out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out.push('-');
        }
    }
}

/// Decodes modified UTF-7; `None` when it is malformed (bad base64, odd UTF-16, unpaired
/// surrogates, a shift sequence with nothing in it but `&-`, raw non-ASCII).
pub fn decode_mutf7(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'&' {
            if !(0x20..=0x7e).contains(&b) {
                return None;
            }
            out.push(b as char);
            i += 1;
            continue;
        }
        let end = i + 1 + bytes[i + 1..].iter().position(|&c| c == b'-')?;
        let run = &bytes[i + 1..end];
        i = end + 1;
        if run.is_empty() {
            out.push('&');
            continue;
        }
        let mut acc: u32 = 0;
        let mut nbits = 0;
        let mut raw = Vec::with_capacity(run.len());
        for &c in run {
            let v = B64.iter().position(|&x| x == c)? as u32;
            acc = (acc << 6) | v;
            nbits += 6;
            if nbits >= 8 {
                nbits -= 8;
                raw.push((acc >> nbits) as u8);
                acc &= (1 << nbits) - 1;
            }
        }
        if raw.len() % 2 != 0 {
            return None;
        }
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect();
        out.push_str(&String::from_utf16(&units).ok()?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3501_example_round_trips() {
        // RFC 3501 §5.1.3's example: "~peter/mail/台北/日本語".
        let mut s = String::new();
        encode_mutf7("台北", &mut s);
        assert_eq!(s, "&U,BTFw-");
        assert_eq!(decode_mutf7("&U,BTFw-").as_deref(), Some("台北"));
        assert_eq!(decode_mutf7("&ZeVnLIqe-").as_deref(), Some("日本語"));
        assert_eq!(decode_mutf7("A&-B").as_deref(), Some("A&B"));
        assert_eq!(decode_mutf7("&Jjo!"), None);
        assert_eq!(decode_mutf7("é"), None);
    }

    #[test]
    fn disk_names_round_trip_with_dots_and_ampersands() {
        for name in [
            "Sent",
            "Lists/Rust",
            "Q&A",
            "v1.2",
            "Entwürfe/Ölprüfung",
            "日本語",
        ] {
            let disk = to_disk(name);
            assert!(!disk[1..].contains(".."), "{disk}");
            assert!(!disk.contains('/'), "{disk}");
            assert_eq!(from_disk(&disk).as_deref(), Some(name), "{disk}");
        }
        assert_eq!(to_disk("Lists/Rust"), ".Lists.Rust");
        assert_eq!(to_disk("v1.2"), ".v1&AC4-2");
        assert_eq!(from_disk("."), None);
        assert_eq!(from_disk(".."), None);
        assert_eq!(from_disk("cur"), None);
    }

    #[test]
    fn names_are_validated() {
        assert_eq!(canonical("inbox/Sub").as_deref(), Ok("INBOX/Sub"));
        assert_eq!(canonical(""), Err(NameError::Empty));
        assert_eq!(canonical("a//b"), Err(NameError::EmptyLevel));
        assert_eq!(canonical("/a"), Err(NameError::EmptyLevel));
        assert_eq!(canonical("a\tb"), Err(NameError::Control));
        assert_eq!(canonical("a*"), Err(NameError::Wildcard));
        assert_eq!(canonical(&"x".repeat(600)), Err(NameError::TooLong));
        // "../etc" is a harmless name: its disk form cannot leave the Maildir.
        let disk = to_disk(&canonical("../etc").unwrap());
        assert!(!disk.contains('/'));
    }
}
