//! Script names (RFC 5804 §1.6) and the file names they are stored under.
//!
//! A name is UTF-8 without control characters; on disk it becomes a file name that never
//! contains `/`, never starts with `.` (so it cannot be `.`, `..` or one of our temp
//! files) and never collides with the `active` marker (every script file ends in
//! `.sieve`). Bytes that would break this are written `%XX`, and `%` itself too, so the
//! mapping is reversible.

use super::SieveScriptError;

/// Characters of a name at most. RFC 5804 §1.6 lets a server limit the length; 128 is
/// what Pigeonhole accepts too.
pub const MAX_NAME_CHARS: usize = 128;

/// Bytes of a file name on common file systems, less room for `.sieve`.
const MAX_FILE_STEM: usize = 240;

/// The suffix of every script file.
pub const SCRIPT_SUFFIX: &str = ".sieve";

/// Checks a script name. RFC 5804 §1.6: no characters 0000-001F, 007F-009F, 2028, 2029;
/// also no `/` (it names a file) and not empty.
pub fn validate_name(name: &str) -> Result<(), SieveScriptError> {
    let bad = || SieveScriptError::InvalidName(name.to_string());
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(bad());
    }
    let forbidden = |c: char| matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '/');
    if name.chars().any(forbidden) {
        return Err(bad());
    }
    if file_stem(name).len() > MAX_FILE_STEM {
        return Err(bad());
    }
    Ok(())
}

/// The file name of a (valid) script name: `<stem>.sieve`.
pub fn file_name(name: &str) -> String {
    let mut out = file_stem(name);
    out.push_str(SCRIPT_SUFFIX);
    out
}

fn file_stem(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        let escape = c == '%' || c == '/' || c == '\\' || (i == 0 && c == '.') || c.is_control();
        if escape {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The script name a file name stands for; `None` for files that are not scripts (the
/// marker, temp files, anything an administrator left there).
pub fn name_of_file(file: &str) -> Option<String> {
    let stem = file.strip_suffix(SCRIPT_SUFFIX)?;
    if stem.is_empty() || stem.starts_with('.') {
        return None;
    }
    let bytes = stem.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    let name = String::from_utf8(out).ok()?;
    validate_name(&name).ok()?;
    // Only the canonical spelling counts, so two files never claim one name.
    (file_name(&name) == file).then_some(name)
}
