//! `mailward sieve check` and `mailward sieve test` as a user runs them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use std::process::Command;

fn mailward() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mailward"))
}

const MESSAGE: &str = "From: Bob <bob@example.org>\r\nTo: alice@example.com\r\nSubject: monthly report\r\n\r\nHello\r\n";

#[test]
fn check_is_silent_on_a_valid_script_and_points_at_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.sieve");
    std::fs::write(&good, "require \"fileinto\";\nfileinto \"A\";\n").unwrap();
    let out = mailward()
        .args(["sieve", "check"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());

    let bad = dir.path().join("bad.sieve");
    std::fs::write(&bad, "keep;\nfileinto \"A\";\n").unwrap();
    let out = mailward()
        .args(["sieve", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("{}:2:1: ", bad.display())),
        "{stderr}"
    );
    assert!(stderr.contains("fileinto"), "{stderr}");
}

#[test]
fn test_prints_the_final_actions_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.sieve");
    std::fs::write(
        &script,
        "require [\"fileinto\", \"copy\", \"imap4flags\"];\n\
         if header :contains \"subject\" \"report\" {\n\
           fileinto :flags \"\\\\Seen\" \"Lists/dev\";\n\
           redirect :copy \"a@b.test\";\n\
         }\n",
    )
    .unwrap();
    let message = dir.path().join("m.eml");
    std::fs::write(&message, MESSAGE).unwrap();
    let out = mailward()
        .args(["sieve", "test", "--json"])
        .arg(&script)
        .arg(&message)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions = json["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 2, "{json}");
    assert_eq!(actions[0]["action"], "fileinto");
    assert_eq!(actions[0]["mailbox"], "Lists/dev");
    assert_eq!(actions[0]["flags"][0], "\\Seen");
    assert_eq!(actions[0]["copy"], false);
    assert_eq!(actions[1]["action"], "redirect");
    assert_eq!(actions[1]["address"], "a@b.test");
    assert_eq!(actions[1]["copy"], true);
}

#[test]
fn test_with_the_null_sender_and_text_output() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.sieve");
    std::fs::write(
        &script,
        "require \"envelope\";\nif envelope :is \"from\" \"\" { discard; }\n",
    )
    .unwrap();
    let message = dir.path().join("m.eml");
    std::fs::write(&message, MESSAGE).unwrap();
    let out = mailward()
        .args(["sieve", "test", "--from", "<>"])
        .arg(&script)
        .arg(&message)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "discard\n");
    let out = mailward()
        .args(["sieve", "test", "--from", "bob@example.org"])
        .arg(&script)
        .arg(&message)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "keep (implicit)\n");
}
