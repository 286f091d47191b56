//! Fuzz content disarm: any attachment bytes, under the name the first byte picks (a
//! macro-enabled Word document, an old Word document, a PDF, an HTML file, or the bytes as
//! a whole message), must give a verdict and a message that still parses, never a panic;
//! the bounds of `DisarmSettings` keep each run small.
#![no_main]

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use mailward_filter::cdr::{self, DisarmSettings};
use mailward_filter::mime::{self, MimeLimits};

const NAMES: &[(&str, &str)] = &[
    ("a.docm", "application/vnd.ms-word.document.macroEnabled.12"),
    ("a.doc", "application/msword"),
    ("a.pdf", "application/pdf"),
    ("a.html", "text/html"),
];

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let raw = match NAMES.get(usize::from(*first) % (NAMES.len() + 1)) {
        Some((name, ctype)) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(rest);
            format!(
                "From: a@example.org\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
--b\r\nContent-Type: {ctype}\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--b--\r\n"
            )
            .into_bytes()
        }
        None => rest.to_vec(),
    };
    let Some(parsed) = mime::parse(&raw) else {
        return;
    };
    let walk = mime::walk(&parsed, &raw, &MimeLimits::default());
    let settings = DisarmSettings {
        max_office_bytes: 1 << 20,
        max_pdf_bytes: 1 << 20,
        max_xml_bytes: 1 << 20,
        ..DisarmSettings::default()
    };
    if let Some(out) = cdr::disarm(&raw, &walk, &settings) {
        assert!(!out.findings.is_empty());
        assert!(mime::parse(&out.message).is_some());
    }
});
