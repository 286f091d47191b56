//! Content disarm never panics and stays bounded on whatever bytes an attachment carries:
//! random bytes under every name the disarm modules look at, and real documents with
//! bytes flipped (the interesting corruptions: ZIP, OLE and PDF structures that almost
//! parse).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use base64::Engine;
use mailward_filter::cdr::{self, DisarmSettings};
use mailward_filter::mime::{self, MimeLimits};
use proptest::prelude::*;
use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

const NAMES: &[(&str, &str)] = &[
    ("a.docm", "application/vnd.ms-word.document.macroEnabled.12"),
    ("a.xlsx", "application/octet-stream"),
    ("a.doc", "application/msword"),
    ("a.pdf", "application/pdf"),
    ("a.html", "text/html"),
    ("a.bin", "application/octet-stream"),
];

fn message(name: &str, ctype: &str, data: &[u8]) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "From: a@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
--b\r\nContent-Type: {ctype}\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        lines.join("\r\n")
    )
    .into_bytes()
}

/// Disarms and checks the rebuilt message still parses, within a time bound.
fn run(raw: &[u8]) {
    let started = Instant::now();
    let parsed = mime::parse(raw).expect("the test message parses");
    let walk = mime::walk(&parsed, raw, &MimeLimits::default());
    if let Some(out) = cdr::disarm(raw, &walk, &DisarmSettings::default()) {
        assert!(!out.findings.is_empty());
        assert!(mime::parse(&out.message).is_some());
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

fn seed_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, data) in [
        ("[Content_Types].xml", &br#"<Types><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>"#[..]),
        ("_rels/.rels", br#"<Relationships><Relationship Id="r" Type="x/officeDocument" Target="word/document.xml"/></Relationships>"#),
        ("word/_rels/document.xml.rels", br#"<Relationships><Relationship Id="r1" Type="x/vbaProject" Target="vbaProject.bin"/><Relationship Id="r2" Type="x/control" Target="activeX/activeX1.xml"/></Relationships>"#),
        ("word/document.xml", br#"<w:document><w:control r:id="r2"/></w:document>"#),
        ("word/vbaProject.bin", b"macro"),
        ("word/activeX/activeX1.xml", b"<ax/>"),
    ] {
        zip.start_file(name, opts).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn seed_pdf() -> Vec<u8> {
    use lopdf::{Document, Object, dictionary};
    let mut doc = Document::with_version("1.4");
    let pages = doc.new_object_id();
    doc.objects.insert(
        pages,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![], "Count" => 0 }),
    );
    let js = doc.add_object(
        dictionary! { "S" => "JavaScript", "JS" => Object::string_literal("app.alert(1)") },
    );
    let catalog =
        doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages, "OpenAction" => js });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn seed_ole() -> Vec<u8> {
    let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    cfb.create_stream("/WordDocument")
        .unwrap()
        .write_all(b"text")
        .unwrap();
    cfb.create_storage_all("/Macros/VBA").unwrap();
    cfb.create_stream("/Macros/VBA/dir")
        .unwrap()
        .write_all(b"macro")
        .unwrap();
    cfb.flush().unwrap();
    cfb.into_inner().into_inner()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_attachments_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096), which in 0..NAMES.len()) {
        let (name, ctype) = NAMES[which];
        run(&message(name, ctype, &data));
    }

    #[test]
    fn corrupted_documents_never_panic(
        seed in 0..3usize,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..12),
        cut in any::<Option<usize>>(),
    ) {
        let (mut data, (name, ctype)) = match seed {
            0 => (seed_zip(), NAMES[0]),
            1 => (seed_pdf(), NAMES[3]),
            _ => (seed_ole(), NAMES[2]),
        };
        for (at, byte) in flips {
            let len = data.len();
            if let Some(b) = data.get_mut(at % len) {
                *b = byte;
            }
        }
        if let Some(cut) = cut {
            let len = data.len();
            data.truncate(cut % (len + 1));
        }
        run(&message(name, ctype, &data));
    }
}

#[test]
fn the_seeds_are_disarmed() {
    for (data, (name, ctype), code) in [
        (seed_zip(), NAMES[0], "vba_macro"),
        (seed_pdf(), NAMES[3], "pdf_active_content"),
        (seed_ole(), NAMES[2], "vba_macro"),
    ] {
        let raw = message(name, ctype, &data);
        let parsed = mime::parse(&raw).unwrap();
        let walk = mime::walk(&parsed, &raw, &MimeLimits::default());
        let out = cdr::disarm(&raw, &walk, &DisarmSettings::default()).expect(name);
        assert_eq!(out.findings[0].code, code, "{name}: {:?}", out.findings);
    }
}

/// Pieces of HTML, benign and hostile, that a generated body is made of.
const HTML_PIECES: &[&str] = &[
    "<p>",
    "</p>",
    "text ",
    "<a href=\"",
    "https://example.org/",
    "\">",
    "</a>",
    "<script>",
    "alert(1)",
    "</script>",
    "javascript:",
    "java\tscript:",
    "&#106;avascript:",
    "<img src=",
    "\"https://t.test/p.gif\"",
    "\"cid:logo\"",
    " onerror=",
    " onload=",
    "<iframe src=x>",
    "<svg>",
    "<form><input name=p>",
    " style=\"color:red;",
    "background:url(https://t.test/b)",
    "\"",
    ">",
    "<",
    " ",
    "<body",
    "<!--",
    "-->",
];

fn html_message(body: &str) -> Vec<u8> {
    format!(
        "From: a@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// What must never reach a reader in the input, spelled any way: a script, a handler, a
/// script link, a frame, a form or a remote fetch.
fn active_in_input(html: &str) -> Option<&'static str> {
    let lower = html.to_ascii_lowercase();
    let checks: &[(&str, &str)] = &[
        ("onerror=", "handler"),
        ("onload=", "handler"),
        ("javascript:", "script link"),
        ("<script", "script"),
        ("<iframe", "frame"),
        ("<svg", "svg"),
        ("<form", "form"),
        ("<input", "input"),
    ];
    if let Some((_, what)) = checks.iter().find(|(needle, _)| lower.contains(needle)) {
        return Some(what);
    }
    for opener in ["src=", "url("] {
        for (at, _) in lower.match_indices(opener) {
            let rest = lower[at + opener.len()..].trim_start_matches([' ', '"', '\'', '\t']);
            if rest.starts_with("https://t.test") {
                return Some("remote fetch");
            }
        }
    }
    None
}

/// The same in the sanitiser's output, read as markup: html5ever writes every tag as
/// `<name attr="value" ...>` with `"` escaped in values and `<` escaped in text.
fn active_in_output(html: &str) -> Option<&'static str> {
    let lower = html.to_ascii_lowercase();
    for tag in ["<script", "<iframe", "<svg", "<form", "<input"] {
        if lower.contains(tag) {
            return Some("active tag");
        }
    }
    for tag in lower.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or_default();
        // name="value" pairs after the tag name.
        let mut rest = tag.split_once(' ').map(|(_, r)| r).unwrap_or_default();
        while let Some((name, after)) = rest.split_once("=\"") {
            let Some((value, tail)) = after.split_once('"') else {
                break;
            };
            let name = name.trim();
            let squeezed: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            if name.starts_with("on") {
                return Some("handler");
            }
            if (name == "href" || name == "src") && squeezed.starts_with("javascript:") {
                return Some("script link");
            }
            if (name == "src" || name == "style") && value.contains("t.test") {
                return Some("remote fetch");
            }
            rest = tail;
        }
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever is made of the pieces: if the part is rewritten, nothing active is left in
    /// it; if it is not, nothing active was in it (the look missed nothing the sanitiser
    /// would remove that matters).
    #[test]
    fn html_is_left_only_when_harmless_and_rewritten_harmless(
        pieces in proptest::collection::vec(0..HTML_PIECES.len(), 0..24)
    ) {
        let body: String = pieces.iter().map(|&i| HTML_PIECES[i]).collect();
        let raw = html_message(&body);
        let parsed = mime::parse(&raw).unwrap();
        let walk = mime::walk(&parsed, &raw, &MimeLimits::default());
        match cdr::disarm(&raw, &walk, &DisarmSettings::default()) {
            None => prop_assert_eq!(active_in_input(&body), None, "left as it came: {}", body),
            Some(out) => {
                let message = mail_parser::MessageParser::default().parse(&out.message).unwrap();
                let html = message.body_html(0).map(|h| h.into_owned()).unwrap_or_default();
                prop_assert_eq!(active_in_output(&html), None, "{} became {}", body, html);
            }
        }
    }
}
