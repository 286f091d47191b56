//! The real type of a file from its first bytes (its "magic"), whatever its name says.
//!
//! Each signature names the format document it comes from. Only the bytes given are read;
//! a file shorter than a signature simply does not match it.

use super::kind::Kind;

/// Formats we open and look into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Zip,
    Tar,
    Gzip,
    SevenZip,
    Rar,
    /// OLE compound file (MS-CFB): old Office documents, MSI packages.
    Ole,
}

impl Container {
    /// Archives proper (nesting them deeply is a bomb); documents that are containers
    /// (OOXML zips, OLE) are looked into with more lenience.
    pub fn is_archive(self) -> bool {
        !matches!(self, Container::Ole)
    }
}

/// What the content is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sniffed {
    /// The kind the content belongs to, when it is one the block list speaks of.
    pub kind: Option<Kind>,
    /// What a person calls it (`"a Windows executable (PE)"`).
    pub label: &'static str,
    /// The content is a container we look into.
    pub container: Option<Container>,
    /// A `#!` script: a program only where it is run as one (an extracted file keeps its
    /// mode bits). Named as a script (`deploy.sh`) it is what it says; with no extension,
    /// or named as a document, it is refused.
    pub interpreted: bool,
}

impl Sniffed {
    fn of(kind: Kind, label: &'static str) -> Self {
        Sniffed {
            kind: Some(kind),
            label,
            container: None,
            interpreted: false,
        }
    }

    fn container(container: Container, label: &'static str) -> Self {
        let kind = container.is_archive().then_some(Kind::Archive);
        Sniffed {
            kind,
            label,
            container: Some(container),
            interpreted: false,
        }
    }
}

/// Bytes of a file kept to recognise it (ISO 9660 and UDF descriptors sit at 0x8001..0x9006).
pub const SNIFF_BYTES: usize = 64 << 10;

/// OLE compound file signature (MS-CFB §2.2).
pub const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// Recognises `data`, the whole file when `complete` (signatures at the end are read then).
pub fn sniff(data: &[u8], complete: bool) -> Sniffed {
    let at = |offset: usize, magic: &[u8]| {
        data.get(offset..offset + magic.len())
            .is_some_and(|s| s == magic)
    };
    // The trailer 512 bytes from the end: VHD's footer (VHD specification, "Hard Disk Footer
    // Format") and the DMG "koly" block (Apple UDIF).
    let trailer = |magic: &[u8]| {
        complete
            && data
                .len()
                .checked_sub(512)
                .is_some_and(|start| at(start, magic))
    };

    // Microsoft PE/COFF specification §2 ("MS-DOS Stub"), §3 ("Signature"): `MZ`, and at
    // the offset stored at 0x3C the `PE\0\0` signature.
    if at(0, b"MZ") || at(0, b"ZM") {
        let pe = data
            .get(0x3C..0x40)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(|b| u32::from_le_bytes(b) as usize)
            .is_some_and(|off| at(off, b"PE\0\0"));
        return Sniffed::of(
            Kind::Executable,
            if pe {
                "a Windows executable (PE)"
            } else {
                "a DOS/Windows executable (MZ)"
            },
        );
    }
    // System V ABI, ELF header `e_ident`.
    if at(0, b"\x7FELF") {
        return Sniffed::of(Kind::Executable, "a Linux/Unix executable (ELF)");
    }
    // Mach-O `mach_header` magics (32/64-bit, both byte orders).
    for magic in [
        b"\xFE\xED\xFA\xCE",
        b"\xFE\xED\xFA\xCF",
        b"\xCE\xFA\xED\xFE",
        b"\xCF\xFA\xED\xFE",
    ] {
        if at(0, magic) {
            return Sniffed::of(Kind::Executable, "a macOS executable (Mach-O)");
        }
    }
    // Mach-O fat header and Java class file (JVM spec §4.1) share 0xCAFEBABE.
    if at(0, b"\xCA\xFE\xBA\xBE") {
        return Sniffed::of(Kind::Executable, "a macOS universal binary or Java class");
    }
    // Dalvik executable format, "dex\n" + version.
    if at(0, b"dex\n") {
        return Sniffed::of(Kind::Executable, "an Android executable (DEX)");
    }
    // An interpreter line (POSIX `exec` of a `#!` file).
    if at(0, b"#!/") || at(0, b"#! /") {
        return Sniffed {
            interpreted: true,
            ..Sniffed::of(Kind::Script, "a script (#! interpreter line)")
        };
    }
    // MS-SHLLINK §2.1: HeaderSize 0x4C and the LinkCLSID 00021401-0000-0000-C000-000000000046.
    if at(
        0,
        b"\x4C\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xC0\x00\x00\x00\x00\x00\x00\x46",
    ) {
        return Sniffed::of(Kind::Shortcut, "a Windows shortcut (LNK)");
    }
    // Microsoft cabinet format: "MSCF".
    if at(0, b"MSCF") {
        return Sniffed::of(Kind::Installer, "a Windows cabinet (CAB)");
    }
    // Microsoft HTML Help: "ITSF".
    if at(0, b"ITSF") {
        return Sniffed::of(Kind::HtmlApplication, "a compiled HTML help file (CHM)");
    }
    // xar (macOS installer packages).
    if at(0, b"xar!") {
        return Sniffed::of(Kind::Installer, "a macOS installer package (xar)");
    }
    // ECMA-119 §8.1 (ISO 9660 volume descriptors from sector 16) and ECMA-167 §2/9.1 (UDF's
    // "BEA01"/"NSR02"/"NSR03" descriptors in the same area).
    for off in [0x8001, 0x8801, 0x9001] {
        if at(off, b"CD001") {
            return Sniffed::of(Kind::DiskImage, "a disk image (ISO 9660)");
        }
        if at(off, b"BEA01") || at(off, b"NSR02") || at(off, b"NSR03") {
            return Sniffed::of(Kind::DiskImage, "a disk image (UDF)");
        }
    }
    if at(0, b"conectix") || trailer(b"conectix") {
        return Sniffed::of(Kind::DiskImage, "a virtual hard disk (VHD)");
    }
    if at(0, b"vhdxfile") {
        return Sniffed::of(Kind::DiskImage, "a virtual hard disk (VHDX)");
    }
    if at(0, b"KDMV") || at(0, b"# Disk DescriptorFile") {
        return Sniffed::of(Kind::DiskImage, "a virtual machine disk (VMDK)");
    }
    if at(0, b"QFI\xFB") {
        return Sniffed::of(Kind::DiskImage, "a virtual disk (QCOW)");
    }
    if trailer(b"koly") {
        return Sniffed::of(Kind::DiskImage, "a macOS disk image (DMG)");
    }
    // A FAT or NTFS boot sector (Microsoft FAT specification §3.1–3.3: the 0x55AA signature
    // at 510 and the file system type at 0x36 or 0x52): a raw floppy or disk image.
    if at(510, b"\x55\xAA")
        && (at(0x36, b"FAT1") || at(0x52, b"FAT32") || at(3, b"NTFS    ") || at(3, b"EXFAT   "))
    {
        return Sniffed::of(Kind::DiskImage, "a disk image (FAT/NTFS)");
    }
    // Containers.
    // PKWARE APPNOTE §4.3.7 (local file header), §4.3.16 (end of central directory, an
    // empty archive), §8.5.3 (spanned archive marker).
    if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") || at(0, b"PK\x07\x08") {
        return Sniffed::container(Container::Zip, "a ZIP archive");
    }
    // 7z format (7zFormat.txt, "SignatureHeader").
    if at(0, b"7z\xBC\xAF\x27\x1C") {
        return Sniffed::container(Container::SevenZip, "a 7-Zip archive");
    }
    // RAR 1.5–4.x marker block and the RAR 5.0 signature.
    if at(0, b"Rar!\x1A\x07\x00") || at(0, b"Rar!\x1A\x07\x01\x00") {
        return Sniffed::container(Container::Rar, "a RAR archive");
    }
    // RFC 1952 §2.3.1: ID1 ID2 = 0x1F 0x8B.
    if at(0, b"\x1F\x8B") {
        return Sniffed::container(Container::Gzip, "a gzip file");
    }
    if at(0, OLE_MAGIC) {
        return Sniffed::container(Container::Ole, "an OLE compound file");
    }
    if super::archive::tar::looks_like_tar(data) {
        return Sniffed::container(Container::Tar, "a tar archive");
    }
    text_types(data)
}

/// Extensions of documents and media: a `#!` script named so is disguised.
const LOOKS_LIKE_DATA: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "jpg", "jpeg",
    "png", "gif", "bmp", "tif", "tiff", "webp", "mp3", "mp4", "mov", "avi", "wav",
];

impl Sniffed {
    /// A `#!` script under a name of its own (`deploy.sh`, `build.py`): not refused by
    /// its content.
    pub fn is_named_script(&self, ext: Option<&str>) -> bool {
        self.interpreted && ext.is_some_and(|e| !LOOKS_LIKE_DATA.contains(&e))
    }
}

/// Types recognised by their text: Windows shortcut files, registry files, HTML applications.
fn text_types(data: &[u8]) -> Sniffed {
    let head = data.get(..4096).unwrap_or(data);
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = head.get(start..).unwrap_or_default();
    let starts = |magic: &[u8]| {
        head.get(..magic.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(magic))
    };
    if starts(b"[InternetShortcut]") {
        return Sniffed::of(Kind::Shortcut, "an Internet shortcut");
    }
    if starts(b"[Shell]") {
        return Sniffed::of(Kind::Shortcut, "a Windows Explorer command file");
    }
    if starts(b"[Desktop Entry]") {
        return Sniffed::of(Kind::Shortcut, "a desktop launcher");
    }
    if starts(b"Windows Registry Editor Version") || starts(b"REGEDIT4") {
        return Sniffed::of(Kind::Script, "a registry file");
    }
    // MSHTA reads the <HTA:APPLICATION> element to run a page as a program.
    if contains_ignore_case(head, b"<hta:application") {
        return Sniffed::of(Kind::HtmlApplication, "an HTML application (HTA)");
    }
    Sniffed::default()
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pe() -> Vec<u8> {
        let mut v = vec![0u8; 0x100];
        v[..2].copy_from_slice(b"MZ");
        v[0x3C] = 0x80;
        v[0x80..0x84].copy_from_slice(b"PE\0\0");
        v
    }

    #[test]
    fn programs_are_recognised() {
        assert_eq!(sniff(&pe(), true).label, "a Windows executable (PE)");
        assert_eq!(sniff(&pe(), true).kind, Some(Kind::Executable));
        assert_eq!(
            sniff(b"\x7FELF\x02\x01\x01", true).kind,
            Some(Kind::Executable)
        );
        assert_eq!(
            sniff(b"\xCF\xFA\xED\xFE", true).kind,
            Some(Kind::Executable)
        );
        assert_eq!(
            sniff(b"#!/bin/sh\nrm -rf ~\n", true).kind,
            Some(Kind::Script)
        );
    }

    #[test]
    fn disk_images_are_recognised() {
        let mut iso = vec![0u8; 0x8800];
        iso[0x8001..0x8006].copy_from_slice(b"CD001");
        assert_eq!(sniff(&iso, true).kind, Some(Kind::DiskImage));
        let mut vhd = vec![0u8; 4096];
        vhd[4096 - 512..4096 - 504].copy_from_slice(b"conectix");
        assert_eq!(sniff(&vhd, true).kind, Some(Kind::DiskImage));
        // Only the prefix of a file inside an archive: the footer is not there to read.
        assert_eq!(sniff(&vhd, false).kind, None);
    }

    #[test]
    fn text_shortcuts_and_hta_are_recognised() {
        assert_eq!(
            sniff(b"\r\n[InternetShortcut]\r\nURL=file://x/y.exe", true).kind,
            Some(Kind::Shortcut)
        );
        assert_eq!(
            sniff(b"<html><head><HTA:APPLICATION ID=x></head>", true).kind,
            Some(Kind::HtmlApplication)
        );
        assert_eq!(sniff(b"<html><body>hello</body></html>", true).kind, None);
    }

    #[test]
    fn containers_are_recognised() {
        assert_eq!(
            sniff(b"PK\x03\x04rest", true).container,
            Some(Container::Zip)
        );
        assert_eq!(
            sniff(b"7z\xBC\xAF\x27\x1C\0\x04", true).container,
            Some(Container::SevenZip)
        );
        assert_eq!(
            sniff(b"Rar!\x1A\x07\x01\x00", true).container,
            Some(Container::Rar)
        );
        assert_eq!(
            sniff(b"\x1F\x8B\x08", true).container,
            Some(Container::Gzip)
        );
        assert_eq!(sniff(OLE_MAGIC, true).container, Some(Container::Ole));
    }

    #[test]
    fn short_and_empty_files_are_nothing() {
        assert_eq!(sniff(b"", true), Sniffed::default());
        assert_eq!(sniff(b"M", true), Sniffed::default());
        assert_eq!(sniff(b"%PDF-1.7\n", true).kind, None);
    }
}
