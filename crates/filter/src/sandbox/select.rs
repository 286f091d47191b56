//! Which parts go to the sandbox: `settings.types` names groups (`pdf`, `office`, `archive`,
//! `executable`), extensions (`js`, `.iso`) or media types (`application/x-foo`). A part is
//! in a group by its file name's extension, its declared media type, or its first bytes
//! (so a renamed file still goes).

use crate::mime::Part;

/// A group: its extensions, declared media types (exact, or a prefix ending in `.` or `-`)
/// and leading magic bytes.
struct Group {
    name: &'static str,
    extensions: &'static [&'static str],
    media_types: &'static [&'static str],
    magic: &'static [&'static [u8]],
}

/// ISO 32000-1 §7.5.2 (`%PDF-`); MS-CFB §2.2 (the OLE compound file signature); RFC 1952
/// §2.3.1 (gzip); APPNOTE.TXT §4.3.7 (ZIP local header); the RAR, 7z, bzip2, xz and CAB
/// signatures from their format documents; PE/COFF (`MZ`) and ELF (`\x7fELF`) headers.
const GROUPS: &[Group] = &[
    Group {
        name: "pdf",
        extensions: &["pdf"],
        media_types: &["application/pdf", "application/x-pdf"],
        magic: &[b"%PDF-"],
    },
    Group {
        name: "office",
        extensions: &[
            "doc", "dot", "docx", "docm", "dotx", "dotm", "xls", "xlt", "xlsx", "xlsm", "xlsb",
            "xltx", "xltm", "xla", "xlam", "ppt", "pot", "pps", "pptx", "pptm", "potx", "potm",
            "ppsx", "ppsm", "ppam", "rtf", "odt", "ods", "odp", "one",
        ],
        media_types: &[
            "application/msword",
            "application/rtf",
            "text/rtf",
            "application/vnd.ms-",
            "application/vnd.openxmlformats-officedocument.",
            "application/vnd.oasis.opendocument.",
        ],
        magic: &[b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", b"{\\rtf"],
    },
    Group {
        name: "archive",
        extensions: &[
            "zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "tbz", "xz", "txz", "cab", "iso", "img",
            "arj", "lzh", "lha", "ace", "zst",
        ],
        media_types: &[
            "application/zip",
            "application/x-zip-compressed",
            "application/vnd.rar",
            "application/x-rar-compressed",
            "application/x-7z-compressed",
            "application/x-tar",
            "application/gzip",
            "application/x-gzip",
            "application/x-bzip2",
            "application/x-xz",
            "application/vnd.ms-cab-compressed",
            "application/x-iso9660-image",
        ],
        magic: &[
            b"PK\x03\x04",
            b"Rar!\x1A\x07",
            b"7z\xBC\xAF\x27\x1C",
            b"\x1F\x8B",
            b"BZh",
            b"\xFD7zXZ\x00",
            b"MSCF",
        ],
    },
    Group {
        name: "executable",
        extensions: &[
            "exe", "dll", "scr", "com", "pif", "cpl", "msi", "sys", "bat", "cmd", "ps1", "vbs",
            "vbe", "js", "jse", "wsf", "wsh", "hta", "jar", "lnk", "sh", "elf", "apk",
        ],
        media_types: &[
            "application/x-msdownload",
            "application/x-dosexec",
            "application/x-executable",
            "application/x-msi",
            "application/vnd.microsoft.portable-executable",
            "application/x-sh",
            "application/java-archive",
        ],
        magic: &[b"MZ", b"\x7FELF", b"\xCA\xFE\xBA\xBE", b"\xCF\xFA\xED\xFE"],
    },
];

/// The part is one of `types`.
pub fn wanted(part: &Part<'_>, types: &[String]) -> bool {
    // The message's own text is not a file.
    if !part.is_attachment && part.is_text() {
        return false;
    }
    let extension = part.extension();
    types.iter().any(|t| {
        let t = t.trim().trim_start_matches('.').to_ascii_lowercase();
        if let Some(group) = GROUPS.iter().find(|g| g.name == t) {
            in_group(part, extension.as_deref(), group)
        } else if t.contains('/') {
            part.content_type == t
        } else {
            extension.as_deref() == Some(t.as_str())
        }
    })
}

fn in_group(part: &Part<'_>, extension: Option<&str>, group: &Group) -> bool {
    extension.is_some_and(|e| group.extensions.contains(&e))
        || group.media_types.iter().any(|m| {
            if m.ends_with(['.', '-']) {
                part.content_type.starts_with(m)
            } else {
                part.content_type == *m
            }
        })
        || group.magic.iter().any(|m| part.body.starts_with(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn part(name: Option<&str>, ctype: &str, body: &'static [u8]) -> Part<'static> {
        Part {
            index: 0,
            section: "2".into(),
            content_type: ctype.into(),
            filename: name.map(str::to_owned),
            is_attachment: name.is_some(),
            body: Cow::Borrowed(body),
            depth: 0,
            raw: None,
            raw_body: None,
            encoding: "base64".into(),
        }
    }

    fn types(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn groups_match_by_name_type_or_content() {
        let pdf = types(&["pdf"]);
        assert!(wanted(
            &part(Some("a.PDF"), "application/octet-stream", b"x"),
            &pdf
        ));
        assert!(wanted(&part(None, "application/pdf", b"x"), &pdf));
        assert!(wanted(
            &part(Some("a.txt"), "application/octet-stream", b"%PDF-1.7"),
            &pdf
        ));
        assert!(!wanted(&part(Some("a.txt"), "text/plain", b"hello"), &pdf));
        let office = types(&["office"]);
        assert!(wanted(
            &part(Some("x.bin"), "application/vnd.ms-excel", b"x"),
            &office
        ));
        assert!(wanted(
            &part(Some("a.docm"), "application/octet-stream", b"PK"),
            &office
        ));
        let exe = types(&["executable"]);
        assert!(wanted(
            &part(Some("invoice.pdf"), "application/pdf", b"MZ\x90\0"),
            &exe
        ));
    }

    #[test]
    fn extensions_and_media_types_are_taken_as_written() {
        let t = types(&[".ISO", "application/x-foo"]);
        assert!(wanted(
            &part(Some("disk.iso"), "application/octet-stream", b""),
            &t
        ));
        assert!(wanted(&part(Some("a.bin"), "application/x-foo", b""), &t));
        assert!(!wanted(
            &part(Some("a.zip"), "application/zip", b"PK\x03\x04"),
            &t
        ));
    }

    #[test]
    fn the_message_text_is_not_a_file() {
        let body = part(None, "text/plain", b"MZ is how this line starts");
        assert!(!wanted(&body, &types(&["executable", "txt"])));
    }
}
