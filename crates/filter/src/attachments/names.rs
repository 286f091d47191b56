//! File-name tricks: what a name really ends with, and the characters that make it read
//! otherwise than it is.
//!
//! The names come decoded from the MIME walk (RFC 2231 §4 `filename*=` and RFC 2047 §2
//! encoded words undone) or from an archive's entry headers.

/// The Unicode bidirectional controls (Unicode Standard Annex #9 §2: the embeddings and
/// overrides U+202A..U+202E, the isolates U+2066..U+2069, the marks U+200E, U+200F, U+061C).
/// In a file name they only serve to show `exe.pdf` for `fdp.exe`.
pub fn bidi_control(name: &str) -> Option<char> {
    name.chars().find(|c| {
        matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
    })
}

/// The last component of a path inside an archive (`/` or `\` separated).
pub fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Characters that do not show at the end of a name: Windows drops trailing dots and spaces
/// when it creates the file (Microsoft's "Naming Files, Paths, and Namespaces"), and blank
/// or zero-width characters hide what follows the visible name.
fn is_invisible_tail(c: char) -> bool {
    c == '.'
        || c.is_whitespace()
        || c.is_control()
        || matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}')
}

/// The name as the system that saves it would: trailing dots, blanks and invisible
/// characters dropped (`invoice.exe. ` is `invoice.exe`).
pub fn effective_name(name: &str) -> &str {
    base_name(name).trim_end_matches(is_invisible_tail)
}

/// The extension that decides how the file opens, lower-case, without the dot
/// (`invoice.pdf.exe` → `exe`, `run.EXE . .` → `exe`).
pub fn extension(name: &str) -> Option<String> {
    let name = effective_name(name);
    let (stem, ext) = name.rsplit_once('.')?;
    let ext = ext.trim();
    (!ext.is_empty() && !stem.is_empty()).then(|| ext.to_lowercase())
}

/// The extension before the last one, when the name has two (`invoice.pdf.exe` → `pdf`).
pub fn inner_extension(name: &str) -> Option<String> {
    let name = effective_name(name);
    let (stem, _) = name.rsplit_once('.')?;
    let (_, ext) = stem.rsplit_once('.')?;
    let ext = ext.trim();
    (!ext.is_empty()).then(|| ext.to_lowercase())
}

/// A class-ID extension (`report.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}`): Windows
/// Explorer hides it and opens the file with the COM class it names.
pub fn is_clsid_extension(ext: &str) -> bool {
    let Some(inner) = ext.strip_prefix('{').and_then(|e| e.strip_suffix('}')) else {
        return false;
    };
    let groups: Vec<&str> = inner.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Longest name written in a finding.
const SHOWN_CHARS: usize = 120;

/// The name as it may be written in a finding and a `554` reply: control and bidi
/// characters shown as `[U+202E]`, so the reply cannot be split or reordered, and long
/// names shortened.
pub fn shown(name: &str) -> String {
    let mut out = String::new();
    for (n, c) in name.chars().enumerate() {
        if n >= SHOWN_CHARS {
            out.push_str("...");
            break;
        }
        if c.is_control() || bidi_control(c.encode_utf8(&mut [0; 4])).is_some() || is_format(c) {
            out.push_str(&format!("[U+{:04X}]", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Invisible format characters worth showing (zero-width space, joiners, BOM).
fn is_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}' | '\u{00AD}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_extension_decides() {
        assert_eq!(extension("invoice.pdf.exe").as_deref(), Some("exe"));
        assert_eq!(inner_extension("invoice.pdf.exe").as_deref(), Some("pdf"));
        assert_eq!(extension("README").as_deref(), None);
        assert_eq!(extension(".bashrc").as_deref(), None);
        assert_eq!(extension("dir/sub\\Run.EXE").as_deref(), Some("exe"));
    }

    #[test]
    fn trailing_dots_and_spaces_are_dropped() {
        assert_eq!(extension("invoice.exe.").as_deref(), Some("exe"));
        assert_eq!(extension("invoice.exe . . ").as_deref(), Some("exe"));
        assert_eq!(extension("invoice.exe\u{200B}").as_deref(), Some("exe"));
        assert_eq!(
            extension("invoice.pdf                 .exe").as_deref(),
            Some("exe")
        );
    }

    #[test]
    fn bidi_controls_are_found() {
        assert_eq!(bidi_control("inv\u{202E}fdp.exe"), Some('\u{202E}'));
        assert_eq!(bidi_control("a\u{2067}b.js"), Some('\u{2067}'));
        assert_eq!(bidi_control("résumé.pdf"), None);
    }

    #[test]
    fn clsid_extensions_are_recognised() {
        assert!(is_clsid_extension("{3050f4d8-98b5-11cf-bb82-00aa00bdce0b}"));
        assert!(!is_clsid_extension("{not-a-clsid}"));
        assert!(!is_clsid_extension("pdf"));
    }

    #[test]
    fn shown_names_cannot_break_a_reply() {
        assert_eq!(shown("a\r\nb\u{202E}c"), "a[U+000D][U+000A]b[U+202E]c");
        let long = "x".repeat(500);
        assert_eq!(shown(&long).chars().count(), SHOWN_CHARS + 3);
    }
}
