//! Attachment checks: HTML smuggling (HTML, SVG, SHTML files that run script, post forms or
//! carry a page) and password-protected archives (ZIP, 7z, RAR).

use super::html::{HtmlLimits, scan};
use super::mime::AttachmentPart;

/// Why an HTML-like attachment is dangerous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlAttachment {
    /// `html`, `svg`, `shtml`, `xhtml`, `mht`.
    pub kind: &'static str,
    /// What it holds: `script`, `form`, `password field`, `iframe`, `refresh`, `embedded
    /// object`, `data URL`, `link`.
    pub reasons: Vec<&'static str>,
}

/// The HTML-like kind of an attachment, from its name or type.
fn html_kind(part: &AttachmentPart<'_>) -> Option<&'static str> {
    let name = part.name.unwrap_or_default().to_ascii_lowercase();
    let name = name.trim_end_matches(['.', ' ', '"']);
    let by_name = [
        (".shtml", "shtml"),
        (".xhtml", "xhtml"),
        (".html", "html"),
        (".htm", "html"),
        (".svg", "svg"),
        (".mht", "mht"),
        (".mhtml", "mht"),
    ]
    .iter()
    .find(|(ext, _)| name.ends_with(ext))
    .map(|(_, k)| *k);
    by_name.or_else(|| {
        let sub = part.subtype.to_ascii_lowercase();
        match (
            part.content_type.to_ascii_lowercase().as_str(),
            sub.as_str(),
        ) {
            ("text", "html") => Some("html"),
            ("image", "svg+xml") => Some("svg"),
            ("application", "xhtml+xml") => Some("xhtml"),
            _ => None,
        }
    })
}

/// HTML smuggling: an HTML/SVG/SHTML attachment with script, a form, a password field, a
/// frame, an automatic refresh or an embedded object. A plain HTML file (a receipt saved as
/// a page) is not flagged.
pub fn html_attachment(part: &AttachmentPart<'_>) -> Option<HtmlAttachment> {
    let kind = html_kind(part)?;
    let text = String::from_utf8_lossy(part.data);
    let s = scan(&text, &HtmlLimits::default());
    let mut reasons = Vec::new();
    let lower = text.to_ascii_lowercase();
    let lower_has =
        |needle: &str| memchr::memmem::find(lower.as_bytes(), needle.as_bytes()).is_some();
    if s.scripts > 0 || lower_has("javascript:") || lower_has(" onload=") || lower_has(" onerror=")
    {
        reasons.push("script");
    }
    if s.forms > 0 {
        reasons.push("form");
    }
    if s.password_fields > 0 {
        reasons.push("password field");
    }
    if s.iframes > 0 {
        reasons.push("iframe");
    }
    if s.refresh {
        reasons.push("refresh");
    }
    if s.embeds > 0 {
        reasons.push("embedded object");
    }
    if lower_has("data:text/html") || lower_has("data:application/octet-stream") {
        reasons.push("data URL");
    }
    if kind == "svg"
        && s.links
            .iter()
            .any(|l| l.kind == super::html::HtmlLinkKind::Anchor && l.target.contains("://"))
    {
        reasons.push("link");
    }
    (!reasons.is_empty()).then_some(HtmlAttachment { kind, reasons })
}

/// Why a file attachment is risky to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskyFile {
    /// The file (or archive entry) name that is risky.
    pub name: String,
    /// `executable`, `script`, `disk image`, `shortcut`, `double extension`, `executable
    /// content` (a Windows program under another name), `in archive` (prefixed).
    pub reason: String,
    /// Disguised: a double extension or a program under a harmless name.
    pub disguised: bool,
}

/// Extensions of files that run code or mount as a disk when opened.
const RISKY_EXTENSIONS: &[(&str, &str)] = &[
    ("exe", "executable"),
    ("scr", "executable"),
    ("com", "executable"),
    ("pif", "executable"),
    ("msi", "executable"),
    ("cpl", "executable"),
    ("xll", "executable"),
    ("jar", "executable"),
    ("bat", "script"),
    ("cmd", "script"),
    ("js", "script"),
    ("jse", "script"),
    ("vbs", "script"),
    ("vbe", "script"),
    ("wsf", "script"),
    ("wsh", "script"),
    ("hta", "script"),
    ("ps1", "script"),
    ("iso", "disk image"),
    ("img", "disk image"),
    ("vhd", "disk image"),
    ("vhdx", "disk image"),
    ("lnk", "shortcut"),
    ("url", "shortcut"),
    ("one", "OneNote file"),
    ("chm", "help file"),
];

/// Extensions a disguised file pretends to have before its real one.
const DOCUMENT_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "jpg", "jpeg", "png", "rtf", "csv",
];

/// The risk of a file name: a risky extension, or a document extension followed by one.
pub fn risky_name(name: &str) -> Option<RiskyFile> {
    let lower = name
        .trim()
        .trim_end_matches(['.', ' ', '"'])
        .to_ascii_lowercase();
    let mut parts = lower.rsplit('.');
    let ext = parts.next()?;
    let (_, kind) = RISKY_EXTENSIONS.iter().find(|(e, _)| *e == ext)?;
    if lower.len() <= ext.len() + 1 {
        // `.exe` alone: no name before the extension.
        return None;
    }
    let before = parts.next().map(str::trim_end);
    let double = before.is_some_and(|b| DOCUMENT_EXTENSIONS.contains(&b));
    Some(RiskyFile {
        name: name.to_string(),
        reason: if double {
            "double extension".to_string()
        } else {
            (*kind).to_string()
        },
        disguised: double,
    })
}

/// A risky attachment: by its name, by a Windows program (`MZ`) under another name, or by a
/// risky name inside a ZIP archive (central directory names).
pub fn risky_attachment(part: &AttachmentPart<'_>) -> Option<RiskyFile> {
    let name = part.name.unwrap_or_default();
    if let Some(r) = risky_name(name) {
        return Some(r);
    }
    if part.data.starts_with(b"MZ") && part.data.len() > 64 {
        // DOS header: the PE header offset at 0x3c points at "PE\0\0".
        let pe = u32_at(part.data, 0x3c).map(|o| o as usize);
        if pe.is_some_and(|o| part.data.get(o..o + 4) == Some(b"PE\0\0")) {
            return Some(RiskyFile {
                name: name.to_string(),
                reason: "executable content".into(),
                disguised: true,
            });
        }
    }
    if part.data.starts_with(b"PK\x03\x04") {
        return zip_names(part.data).find_map(|entry| {
            risky_name(&entry).map(|r| RiskyFile {
                name: format!("{name} → {}", r.name),
                reason: format!("in archive: {}", r.reason),
                disguised: r.disguised,
            })
        });
    }
    None
}

/// File names of a ZIP's central directory records (at most 256).
fn zip_names(data: &[u8]) -> impl Iterator<Item = String> + '_ {
    memchr::memmem::find_iter(data, b"PK\x01\x02")
        .take(256)
        .filter_map(move |pos| {
            let len = usize::from(u16_at(data, pos + 28)?);
            let name = data.get(pos + 46..pos + 46 + len)?;
            Some(String::from_utf8_lossy(name).into_owned())
        })
}

/// The link targets of a PDF's URI actions (`/URI (https://...)`, ISO 32000-1 §12.6.4.7),
/// where the object is not compressed (most phishing PDFs write them plainly), at most `max`.
pub fn pdf_uris(data: &[u8], max: usize) -> Vec<String> {
    if !data.starts_with(b"%PDF") {
        return Vec::new();
    }
    memchr::memmem::find_iter(data, b"/URI")
        .filter_map(|at| {
            let rest = data.get(at + 4..)?;
            let start = rest.iter().take(8).position(|&b| b == b'(')? + 1;
            let body = rest.get(start..)?;
            let end = body.iter().take(2048).position(|&b| b == b')')?;
            let uri = String::from_utf8_lossy(body.get(..end)?).replace("\\/", "/");
            (uri.contains("://") || uri.starts_with("www.")).then_some(uri)
        })
        .take(max)
        .collect()
}

/// An encrypted archive format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    Zip,
    SevenZip,
    Rar,
}

impl ArchiveFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveFormat::Zip => "ZIP",
            ArchiveFormat::SevenZip => "7z",
            ArchiveFormat::Rar => "RAR",
        }
    }
}

/// A password-protected archive: ZIP with the encryption flag set on an entry, RAR with
/// encrypted headers or files, or 7z whose headers name the AES coder.
pub fn encrypted_archive(data: &[u8]) -> Option<ArchiveFormat> {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return zip_encrypted(data).then_some(ArchiveFormat::Zip);
    }
    if data.starts_with(b"7z\xBC\xAF\x27\x1C") {
        return seven_zip_encrypted(data).then_some(ArchiveFormat::SevenZip);
    }
    if data.starts_with(b"Rar!\x1A\x07") {
        return rar_encrypted(data).then_some(ArchiveFormat::Rar);
    }
    None
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// APPNOTE.TXT §4.4.4: general purpose bit 0 set means the entry is encrypted. Checked on
/// the local file headers walked from the start (at most 64 entries), and on the central
/// directory records wherever they are found.
fn zip_encrypted(data: &[u8]) -> bool {
    const LOCAL: &[u8] = b"PK\x03\x04";
    const CENTRAL: &[u8] = b"PK\x01\x02";
    let mut at = 0usize;
    for _ in 0..64 {
        if data.get(at..at + 4) != Some(LOCAL) {
            break;
        }
        // Local header: flags at 6, compressed size at 18, name length 26, extra 28.
        let Some(flags) = u16_at(data, at + 6) else {
            break;
        };
        if flags & 1 == 1 {
            return true;
        }
        let (Some(size), Some(name), Some(extra)) = (
            u32_at(data, at + 18),
            u16_at(data, at + 26),
            u16_at(data, at + 28),
        ) else {
            break;
        };
        if flags & 8 == 8 {
            // Sizes follow the data (data descriptor): rely on the central directory.
            break;
        }
        at = at
            .saturating_add(30)
            .saturating_add(usize::from(name))
            .saturating_add(usize::from(extra))
            .saturating_add(size as usize);
    }
    // Central directory: flags at offset 8 of each record.
    memchr::memmem::find_iter(data, CENTRAL)
        .take(256)
        .any(|pos| u16_at(data, pos + 8).is_some_and(|f| f & 1 == 1))
}

/// 7z: encrypted headers (or encrypted streams) name the 7zAES coder, id `06 F1 07 01`, in
/// the header at the end of the archive; plain archives do not contain it there.
fn seven_zip_encrypted(data: &[u8]) -> bool {
    // Signature header: next header offset (u64 at 12) and size (u64 at 20), from byte 32.
    let offset = data
        .get(12..20)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes);
    let start = offset
        .and_then(|o| usize::try_from(o).ok())
        .and_then(|o| o.checked_add(32))
        .filter(|&s| s < data.len())
        .unwrap_or(0);
    let tail = data.get(start..).unwrap_or_default();
    memchr::memmem::find(tail, &[0x06, 0xF1, 0x07, 0x01]).is_some()
}

/// RAR 4: main header flag 0x0080 (headers encrypted) or a file header with flag 0x0004
/// (file encrypted). RAR 5: an archive encryption header (type 4) right after the signature.
fn rar_encrypted(data: &[u8]) -> bool {
    if data.starts_with(b"Rar!\x1A\x07\x01\x00") {
        // RAR 5: header CRC32 (4 bytes), header size (vint), header type (vint).
        let mut at = 8 + 4;
        let mut vint = || -> Option<u64> {
            let mut v = 0u64;
            for shift in 0..10 {
                let b = *data.get(at)?;
                at += 1;
                v |= u64::from(b & 0x7f) << (7 * shift);
                if b & 0x80 == 0 {
                    return Some(v);
                }
            }
            None
        };
        let _size = vint();
        return vint() == Some(4);
    }
    // RAR 4: marker block (7 bytes), then the main archive header: CRC (2), type 0x73,
    // flags (2).
    if data.get(9) == Some(&0x73) && u16_at(data, 10).is_some_and(|f| f & 0x0080 != 0) {
        return true;
    }
    let main_size = u16_at(data, 12).map_or(13, usize::from);
    let file = 7 + main_size;
    data.get(file + 2) == Some(&0x74) && u16_at(data, file + 3).is_some_and(|f| f & 0x0004 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with_flags(flags: u16) -> Vec<u8> {
        let mut z = b"PK\x03\x04".to_vec();
        z.extend_from_slice(&20u16.to_le_bytes()); // version
        z.extend_from_slice(&flags.to_le_bytes());
        z.extend_from_slice(&[0; 10]); // method, time, date, crc
        z.extend_from_slice(&3u32.to_le_bytes()); // compressed
        z.extend_from_slice(&3u32.to_le_bytes()); // uncompressed
        z.extend_from_slice(&5u16.to_le_bytes()); // name length
        z.extend_from_slice(&0u16.to_le_bytes()); // extra
        z.extend_from_slice(b"a.txtabc");
        z
    }

    #[test]
    fn zip_bit_zero_means_encrypted() {
        assert_eq!(
            encrypted_archive(&zip_with_flags(1)),
            Some(ArchiveFormat::Zip)
        );
        assert_eq!(encrypted_archive(&zip_with_flags(0)), None);
        assert_eq!(encrypted_archive(&zip_with_flags(8)), None);
        assert_eq!(encrypted_archive(b"PK\x03\x04"), None);
    }

    #[test]
    fn risky_names() {
        assert_eq!(
            risky_name("invoice.pdf.exe").map(|r| r.disguised),
            Some(true)
        );
        assert_eq!(
            risky_name("setup.EXE").map(|r| r.reason),
            Some("executable".into())
        );
        assert_eq!(
            risky_name("Scan_0042.iso").map(|r| r.reason),
            Some("disk image".into())
        );
        assert!(risky_name("report.pdf").is_none());
        assert!(risky_name(".exe").is_none());
    }

    #[test]
    fn rar4_encrypted_headers() {
        let mut r = b"Rar!\x1A\x07\x00".to_vec();
        r.extend_from_slice(&[0, 0, 0x73, 0x80, 0x00, 13, 0]);
        assert_eq!(encrypted_archive(&r), Some(ArchiveFormat::Rar));
        r[10] = 0;
        assert_eq!(encrypted_archive(&r), None);
    }
}
