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
