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
