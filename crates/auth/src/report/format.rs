//! Which kind of file a report arrived as: by its first bytes, then by its name.

use std::path::Path;

/// The container a report file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// A bare RFC 9990 XML document.
    Xml,
    /// A bare RFC 8460 JSON document.
    Json,
    /// gzip (RFC 1952) around XML or JSON (RFC 9990 §5.5.2, RFC 8460 §5.3).
    Gzip,
    /// A zip archive holding the XML (sent by many reporters, RFC 7489 §7.2.1.1 allowed it).
    Zip,
    /// An RFC 5322 message with the report attached.
    Mail,
}

impl InputFormat {
    /// Looks at the magic numbers first (senders mislabel files), then at the extension,
    /// and takes anything else for an e-mail (Maildir files have no extension).
    pub fn detect(path: &Path, bytes: &[u8]) -> InputFormat {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            return InputFormat::Gzip;
        }
        if bytes.starts_with(b"PK\x03\x04") {
            return InputFormat::Zip;
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("xml") => return InputFormat::Xml,
            Some("json") => return InputFormat::Json,
            Some("eml") => return InputFormat::Mail,
            _ => {}
        }
        let start = bytes
            .strip_prefix(b"\xef\xbb\xbf")
            .unwrap_or(bytes)
            .iter()
            .find(|b| !b.is_ascii_whitespace());
        match start {
            Some(b'<') => InputFormat::Xml,
            Some(b'{') => InputFormat::Json,
            _ => InputFormat::Mail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::InputFormat;
    use std::path::Path;

    #[test]
    fn magic_numbers_win_over_a_wrong_extension() {
        let p = Path::new("report.xml");
        assert_eq!(InputFormat::detect(p, b"\x1f\x8b\x08"), InputFormat::Gzip);
        assert_eq!(InputFormat::detect(p, b"PK\x03\x04"), InputFormat::Zip);
    }

    #[test]
    fn maildir_files_without_extension_are_sniffed() {
        let p = Path::new("1700000000.M1P2.host:2,S");
        assert_eq!(InputFormat::detect(p, b"From: a@b\r\n"), InputFormat::Mail);
        assert_eq!(
            InputFormat::detect(p, b"\xef\xbb\xbf <?xml"),
            InputFormat::Xml
        );
        assert_eq!(InputFormat::detect(p, b"\n{\"a\":1}"), InputFormat::Json);
    }
}
