//! Differential test against Pigeonhole's `sieve-test` (Debian dovecot-sieve): each of
//! our scripts in `tests/data/differential/` against each message there, with two
//! envelopes; the final actions (folders, redirect addresses, reject, discard) must be
//! the ones Pigeonhole reports. Skips with a notice when `sieve-test` is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use mailward_sieve::{Action, CompileOptions, Envelope, Environment, Host};

struct NoHost;
impl Host for NoHost {}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/differential")
}

/// Final actions as comparable strings; `discard` only when nothing else happens
/// (sieve-test lists it beside other actions).
fn normalise(mut set: BTreeSet<String>) -> BTreeSet<String> {
    set.remove("discard");
    if set.is_empty() {
        set.insert("discard".into());
    }
    set
}

fn ours(script: &str, message: &[u8], from: &str, to: &str) -> BTreeSet<String> {
    let compiled = mailward_sieve::compile(script, &CompileOptions::default()).unwrap();
    let envelope = Envelope {
        from: from.into(),
        to: to.into(),
        ..Envelope::default()
    };
    let outcome = mailward_sieve::evaluate(
        &compiled,
        message,
        &envelope,
        &Environment::default(),
        &mut NoHost,
    );
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let set = outcome
        .actions
        .iter()
        .map(|a| match a {
            Action::Keep { .. } => "store INBOX".to_string(),
            Action::FileInto { mailbox, .. } => format!("store {mailbox}"),
            Action::Redirect { address, .. } => format!("redirect {address}"),
            Action::Reject { .. } => "reject".into(),
            Action::Discard => "discard".into(),
            other => format!("{other:?}"),
        })
        .collect();
    normalise(set)
}

fn theirs(work: &Path, script: &Path, message: &Path, from: &str, to: &str) -> BTreeSet<String> {
    let output = Command::new("sieve-test")
        .env("HOME", work)
        .arg("-c")
        .arg(work.join("dovecot.conf"))
        .args(["-f", from, "-r", to])
        .arg(script)
        .arg(message)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "sieve-test failed on {}: {stdout}{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut set = BTreeSet::new();
    for line in stdout.lines() {
        let Some(item) = line.trim().strip_prefix("* ") else {
            continue;
        };
        if let Some(folder) = item.strip_prefix("store message in folder: ") {
            set.insert(format!("store {folder}"));
        } else if let Some(address) = item.strip_prefix("redirect message to: ") {
            set.insert(format!("redirect {}", address.trim_matches(['<', '>'])));
        } else if item.starts_with("reject message") {
            set.insert("reject".into());
        } else if item == "discard" {
            set.insert("discard".into());
        } else {
            set.insert(item.to_string());
        }
    }
    normalise(set)
}

fn world_writable(path: &Path) {
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777));
}

#[test]
fn final_actions_match_pigeonhole_sieve_test() {
    if Command::new("sieve-test").arg("-h").output().is_err() {
        println!("differential: sieve-test (Debian dovecot-sieve) not installed, skipped");
        return;
    }
    // sieve-test runs as root only after dropping to mail_uid: give it a world-readable
    // copy of the data and a mail location of its own.
    let work = tempfile::Builder::new()
        .prefix("mailward-diff")
        .tempdir()
        .unwrap();
    world_writable(work.path());
    let mail = work.path().join("mail");
    std::fs::create_dir(&mail).unwrap();
    world_writable(&mail);
    std::fs::write(
        work.path().join("dovecot.conf"),
        format!(
            "mail_uid = 65534\nmail_gid = 65534\nmail_location = maildir:{}\n",
            mail.display()
        ),
    )
    .unwrap();
    let mut scripts = Vec::new();
    let mut messages = Vec::new();
    for entry in std::fs::read_dir(data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let copy = work.path().join(path.file_name().unwrap());
        std::fs::copy(&path, &copy).unwrap();
        world_writable(&copy);
        match path.extension().and_then(|e| e.to_str()) {
            Some("sieve") => scripts.push(copy),
            Some("eml") => messages.push(copy),
            _ => {}
        }
    }
    scripts.sort();
    messages.sort();
    assert!(scripts.len() >= 20 && messages.len() >= 2);
    let envelopes = [
        ("bob@example.org", "alice@example.com"),
        ("spammer@spam.example", "alice+lists@example.com"),
    ];
    let mut mismatches = Vec::new();
    let mut compared = 0;
    let mut distinct = BTreeSet::new();
    for script in &scripts {
        let source = std::fs::read_to_string(script).unwrap();
        for message in &messages {
            let raw = std::fs::read(message).unwrap();
            for (from, to) in envelopes {
                let expected = theirs(work.path(), script, message, from, to);
                let got = ours(&source, &raw, from, to);
                compared += 1;
                distinct.insert(format!("{expected:?}"));
                if expected != got {
                    mismatches.push(format!(
                        "{} on {} ({from} -> {to}): pigeonhole {expected:?}, mailward {got:?}",
                        script.file_name().unwrap().to_string_lossy(),
                        message.file_name().unwrap().to_string_lossy()
                    ));
                }
            }
        }
    }
    println!(
        "differential: {compared} comparisons, {} distinct verdicts, {} mismatches",
        distinct.len(),
        mismatches.len()
    );
    // The scripts are meant to disagree among themselves: a parser that read nothing
    // from sieve-test would see one verdict.
    assert!(distinct.len() >= 10, "{distinct:?}");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
