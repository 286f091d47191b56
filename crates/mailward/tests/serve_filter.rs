//! The security gateway end to end (issue 17): `mailward serve` with `[filter]` on, messages
//! sent with Python's smtplib, verdicts read from the replies, the Maildir, the log and
//! `mailward quarantine`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::Mailward;
use std::path::Path;
use std::process::Command;

/// Sends every file of `dir` from `sender` to `rcpt`; the replies by file name.
fn send_all(m: &Mailward, dir: &Path, sender: &str, rcpt: &str) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/filter_send.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(m.smtp.to_string())
        .arg(dir)
        .args([sender, rcpt])
        .output()
        .expect("python3 is needed for these tests");
    assert!(
        out.status.success(),
        "{}\n{}\nlog: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        m.log_tail(30)
    );
    serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap()
}

fn code(replies: &serde_json::Value, name: &str) -> (u64, String) {
    let r = &replies[name];
    (
        r[0].as_u64()
            .unwrap_or_else(|| panic!("no reply for {name}: {replies}")),
        r[1].as_str().unwrap().to_owned(),
    )
}

/// A message nesting `depth` attached messages, the innermost with `text`.
fn nested(depth: usize, text: &str) -> String {
    let mut inner = format!("From: x@sender.test\r\nSubject: level {depth}\r\n\r\n{text}\r\n");
    for level in (0..depth).rev() {
        inner = format!(
            "From: x@sender.test\r\nSubject: level {level}\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n\
Content-Type: message/rfc822\r\n\r\n{inner}\r\n--b{level}--\r\n"
        );
    }
    inner
}

#[test]
fn a_clean_message_arrives_untouched_below_our_fields_and_forged_verdicts_are_removed() {
    let m = Mailward::start("[filter]\nenabled = true\n");
    m.add_account("bob@example.test", None);
    let dir = tempfile::tempdir().unwrap();
    let clean = "From: alice@sender.test\r\nTo: bob@example.test\r\nSubject: clean one\r\n\
Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <clean-1@sender.test>\r\n\r\n\
Hello Bob,\r\nthe minutes are below.\r\n";
    std::fs::write(dir.path().join("1-clean.eml"), clean).unwrap();
    let forged = "From: alice@sender.test\r\nTo: bob@example.test\r\nSubject: forged one\r\n\
X-Mailward-Spam: no, score=0.0\r\nX-Mailward-Verdict: accept;\r\n score=-100\r\n\
Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <forged-1@sender.test>\r\n\r\nHi.\r\n";
    std::fs::write(dir.path().join("2-forged.eml"), forged).unwrap();
    let replies = send_all(&m, dir.path(), "alice@sender.test", "bob@example.test");
    for name in ["1-clean.eml", "2-forged.eml"] {
        assert_eq!(code(&replies, name).0, 250, "{name}: {replies}");
    }

    let got = m.wait_for_mail("bob", "Subject: clean one");
    // Our Received:, the gateway's fields, then the message exactly as sent.
    let received = got.find("Received: from ").unwrap();
    let verdict = got.find("X-Mailward-Verdict: accept; score=").unwrap();
    assert!(received < verdict, "{got}");
    assert!(got.ends_with(clean), "not byte for byte:\n{got:?}");

    let got = m.wait_for_mail("bob", "Subject: forged one");
    assert_eq!(got.matches("X-Mailward-Verdict:").count(), 1, "{got}");
    assert!(!got.contains("score=-100"), "{got}");
    assert!(
        !got.contains("X-Mailward-Spam: no, score=0.0\r\nX-Mailward-Verdict"),
        "{got}"
    );
    let verdict = m.wait_for_event("filter_verdict", None);
    assert_eq!(verdict["action"], "accept", "{verdict}");
}

#[test]
fn a_held_message_is_listed_shown_released_and_deleted() {
    let m = Mailward::start("[filter]\nenabled = true\n");
    m.add_account("bob@example.test", None);
    let dir = tempfile::tempdir().unwrap();
    // Deeper than the gateway looks (5 attached messages): held, not delivered.
    std::fs::write(dir.path().join("deep.eml"), nested(8, "innermost secret")).unwrap();
    let replies = send_all(&m, dir.path(), "alice@sender.test", "bob@example.test");
    let (status, text) = code(&replies, "deep.eml");
    assert_eq!(status, 250, "held mail is accepted: {text}");
    let queue_id = text.rsplit(' ').next().unwrap().to_owned();
    let event = m.wait_for_event("quarantined", Some(&queue_id));
    assert_eq!(event["kind"], "held", "{event}");

    let list = m.cli(&["quarantine", "list"], None);
    assert!(list.contains(&queue_id), "{list}");
    assert!(list.contains("attached messages"), "{list}");
    assert!(list.contains("Subject: level 0"), "{list}");
    let shown = m.cli(&["quarantine", "show", &queue_id], None);
    assert!(shown.contains("\"reason\""), "{shown}");
    assert!(shown.contains("innermost secret"), "{shown}");
    assert!(m.inbox("bob").is_empty(), "a held message is not delivered");

    let released = m.cli(&["quarantine", "release", &queue_id], None);
    assert!(released.contains("released as"), "{released}");
    let got = m.wait_for_mail("bob", "innermost secret");
    assert!(
        got.contains("X-Mailward-Released: from quarantine"),
        "{got}"
    );
    let list = m.cli(&["quarantine", "list", "--json"], None);
    let record: serde_json::Value = serde_json::from_str(list.lines().next().unwrap()).unwrap();
    assert!(record["released"].is_string(), "{record}");

    m.cli(&["quarantine", "delete", &queue_id], None);
    let list = m.cli(&["quarantine", "list"], None);
    assert!(list.contains("0 message(s)"), "{list}");
}

/// A message from alice with `name` attached (`content_type`, base64).
fn with_attachment(subject: &str, name: &str, content_type: &str, data: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let mut lines = String::new();
    for chunk in encoded.as_bytes().chunks(76) {
        lines.push_str(std::str::from_utf8(chunk).unwrap());
        lines.push_str("\r\n");
    }
    format!(
        "From: alice@sender.test\r\nTo: bob@example.test\r\nSubject: {subject}\r\n\
Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{subject}@sender.test>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"sep\"\r\n\r\n\
--sep\r\nContent-Type: text/plain\r\n\r\nPlease see the attached file.\r\n\
--sep\r\nContent-Type: {content_type}\r\n\
Content-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{lines}--sep--\r\n"
    )
    .into_bytes()
}

/// A ZIP archive of `files`.
fn zipped(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

/// The start of a Windows program: an MZ header whose e_lfanew points at a PE signature.
fn windows_program() -> Vec<u8> {
    let mut pe = vec![0u8; 512];
    pe[0] = b'M';
    pe[1] = b'Z';
    pe[0x3c] = 0x80;
    pe[0x80..0x84].copy_from_slice(b"PE\0\0");
    pe
}

fn start_big(extra: &str) -> Mailward {
    Mailward::start_edited(extra, |text| {
        text.replace("message_size = \"100K\"", "message_size = \"4M\"")
    })
}

#[test]
fn dangerous_files_are_refused_by_real_type_inside_archives_and_bombs_fast() {
    let m = start_big("[filter]\nenabled = true\n");
    m.add_account("bob@example.test", None);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, data: Vec<u8>| std::fs::write(dir.path().join(name), data).unwrap();
    write(
        "1-renamed.eml",
        with_attachment(
            "renamed",
            "invoice.pdf",
            "application/pdf",
            &windows_program(),
        ),
    );
    write(
        "2-zipped.eml",
        with_attachment(
            "zipped",
            "documents.zip",
            "application/zip",
            &zipped(&[
                ("readme.txt", b"hello"),
                ("setup/run.exe", &windows_program()),
            ]),
        ),
    );
    // One entry of 16 MiB of zeros: about 16 KB packed.
    let bomb = zipped(&[("zeros.txt", &vec![0u8; 16 << 20])]);
    assert!(bomb.len() < 100_000);
    write(
        "3-bomb.eml",
        with_attachment("bomb", "data.zip", "application/zip", &bomb),
    );
    write(
        "4-clean.eml",
        with_attachment("clean", "notes.txt", "text/plain", b"Just notes.\r\n"),
    );
    let started = std::time::Instant::now();
    let replies = send_all(&m, dir.path(), "alice@sender.test", "bob@example.test");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the gateway took {:?}",
        started.elapsed()
    );
    let (c, text) = code(&replies, "1-renamed.eml");
    assert_eq!(c, 554, "{text}");
    assert!(
        text.starts_with("5.7.1 ") && text.contains("invoice.pdf"),
        "{text}"
    );
    let (c, text) = code(&replies, "2-zipped.eml");
    assert_eq!(c, 554, "{text}");
    assert!(text.contains("run.exe"), "{text}");
    let (c, text) = code(&replies, "3-bomb.eml");
    assert_eq!(c, 554, "{text}");
    let (c, text) = code(&replies, "4-clean.eml");
    assert_eq!(c, 250, "{text}");
    m.wait_for_mail("bob", "Subject: clean");
    // Refused messages are nowhere: not delivered, not held.
    assert_eq!(m.inbox("bob").len(), 1);
    let list = m.cli(&["quarantine", "list"], None);
    assert!(list.contains("0 message(s)"), "{list}");
    let refused: Vec<_> = m
        .log_lines()
        .into_iter()
        .filter(|l| l["event"] == "filter_check" && l["result"] == "reject")
        .collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
}

#[test]
fn a_password_protected_archive_is_held_in_quarantine() {
    let Some(seven) = common_serve::debian_tool("7z", "p7zip-full") else {
        return;
    };
    let m = start_big("[filter]\nenabled = true\n");
    m.add_account("bob@example.test", None);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("salary.txt"), "confidential figures\n").unwrap();
    let archive = work.path().join("salary.7z");
    let ok = Command::new(&seven)
        .args(["a", "-psecret", "-mhe=on"])
        .arg(&archive)
        .arg(work.path().join("salary.txt"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "7z a -p");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("locked.eml"),
        with_attachment(
            "locked",
            "salary.7z",
            "application/x-7z-compressed",
            &std::fs::read(&archive).unwrap(),
        ),
    )
    .unwrap();
    let replies = send_all(&m, dir.path(), "alice@sender.test", "bob@example.test");
    let (c, text) = code(&replies, "locked.eml");
    assert_eq!(c, 250, "held mail is accepted: {text}");
    let queue_id = text.rsplit(' ').next().unwrap().to_owned();
    m.wait_for_event("quarantined", Some(&queue_id));
    let list = m.cli(&["quarantine", "list"], None);
    assert!(
        list.contains(&queue_id) && list.contains("salary.7z"),
        "{list}"
    );
    assert!(m.inbox("bob").is_empty());
}

/// A Word document with a VBA project (`.docm`), as Word writes its parts.
fn macro_document() -> Vec<u8> {
    let content_types = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>"#;
    let rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;
    let document = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Quarterly figures</w:t></w:r></w:p></w:body></w:document>"#;
    let document_rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>"#;
    zipped(&[
        ("[Content_Types].xml", content_types.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        ("word/document.xml", document.as_bytes()),
        ("word/_rels/document.xml.rels", document_rels.as_bytes()),
        (
            "word/vbaProject.bin",
            b"\xd0\xcf\x11\xe0 Sub AutoOpen() Shell \"calc\" End Sub",
        ),
    ])
}

/// A one-page PDF whose catalog runs JavaScript when it opens (`/OpenAction`).
fn pdf_with_javascript() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        "<< /Type /Action /S /JavaScript /JS (app.alert\\('opened'\\)) >>",
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// The attachments of a delivered message: (file name, content type, decoded bytes).
fn attachments_of(message: &str) -> Vec<(String, String, Vec<u8>)> {
    use mail_parser::MimeHeaders;
    let parsed = mail_parser::MessageParser::default()
        .parse(message.as_bytes())
        .unwrap();
    parsed
        .attachments()
        .map(|a| {
            let ctype = a
                .content_type()
                .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
                .unwrap_or_default();
            (
                a.attachment_name().unwrap_or("").to_owned(),
                ctype,
                a.contents().to_vec(),
            )
        })
        .collect()
}

#[test]
fn a_macro_document_and_a_scripted_pdf_arrive_disarmed_with_their_originals_kept() {
    let m = start_big("[filter]\nenabled = true\n");
    m.add_account("bob@example.test", None);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1-docm.eml"),
        with_attachment(
            "figures",
            "report.docm",
            "application/vnd.ms-word.document.macroEnabled.12",
            &macro_document(),
        ),
    )
    .unwrap();
    let pdf = pdf_with_javascript();
    std::fs::write(
        dir.path().join("2-pdf.eml"),
        with_attachment("statement", "statement.pdf", "application/pdf", &pdf),
    )
    .unwrap();
    let replies = send_all(&m, dir.path(), "alice@sender.test", "bob@example.test");
    for name in ["1-docm.eml", "2-pdf.eml"] {
        assert_eq!(code(&replies, name).0, 250, "{name}: {replies}");
    }

    let docm = m.wait_for_mail("bob", "Subject: figures");
    assert!(docm.contains("X-Mailward-Disarmed: report.docm"), "{docm}");
    assert!(docm.contains("X-Mailward-Verdict: modify"), "{docm}");
    let files = attachments_of(&docm);
    let (name, ctype, data) = files
        .iter()
        .find(|(n, _, _)| n.ends_with(".docx"))
        .unwrap_or_else(|| panic!("no .docx in {files:?}"));
    assert_eq!(name, "report.docx");
    assert!(ctype.contains("wordprocessingml.document"), "{ctype}");
    // Still a valid package: every part a relationship names is there, no VBA left.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data.clone())).unwrap();
    let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    assert!(!names.iter().any(|n| n.contains("vbaProject")), "{names:?}");
    for part in ["[Content_Types].xml", "_rels/.rels", "word/document.xml"] {
        assert!(names.iter().any(|n| n == part), "{part} missing: {names:?}");
    }
    let mut types = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("[Content_Types].xml").unwrap(), &mut types)
        .unwrap();
    assert!(
        !types.contains("macroEnabled") && !types.contains("vbaProject"),
        "{types}"
    );
    if let Ok(rels) = zip.by_name("word/_rels/document.xml.rels") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut { rels }, &mut text).unwrap();
        assert!(!text.contains("vbaProject"), "{text}");
    }
    assert!(
        docm.contains("mailward removed from this message"),
        "{docm}"
    );

    let statement = m.wait_for_mail("bob", "Subject: statement");
    let files = attachments_of(&statement);
    let (_, _, data) = files
        .iter()
        .find(|(n, _, _)| n == "statement.pdf")
        .unwrap_or_else(|| panic!("no PDF in {files:?}"));
    let text = String::from_utf8_lossy(data);
    for gone in ["/OpenAction", "/JavaScript", "/JS"] {
        assert!(!text.contains(gone), "{gone} left in the PDF:\n{text}");
    }
    if let Some(qpdf) = common_serve::debian_tool("qpdf", "qpdf") {
        let path = dir.path().join("disarmed.pdf");
        std::fs::write(&path, data).unwrap();
        let out = Command::new(qpdf)
            .arg("--check")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "qpdf --check: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // The originals are in the quarantine, as they arrived.
    let list = m.cli(&["quarantine", "list", "--json"], None);
    let kinds: Vec<serde_json::Value> = list
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(kinds.len(), 2, "{list}");
    assert!(
        kinds.iter().all(|k| k["kind"] == "disarmed_original"),
        "{list}"
    );
    let id = kinds[0]["id"].as_str().unwrap();
    let original = m.cli(&["quarantine", "show", id], None);
    assert!(
        original.contains("report.docm") || original.contains("statement.pdf"),
        "{original}"
    );
}
