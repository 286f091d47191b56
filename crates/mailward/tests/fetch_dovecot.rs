//! Remote retrieval against a real Dovecot: `mailward fetch --once` over POP3 (implicit
//! TLS) and IMAP (STARTTLS) delivers every remote message into the local account's Maildir
//! exactly once, a second run takes nothing new, `keep = false` empties the remote mailbox,
//! and polls cut short (`max_messages_per_poll`, or the process killed) lose and duplicate
//! nothing. Skips with a notice when Dovecot, openssl or root is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_dovecot;
mod common_serve;

use common_dovecot::{Dovecot, PASS, USER};
use common_serve::{BIN, config_text};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Local {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Local {
    /// A mailward data directory with bob@example.test and one `[[fetch]]` entry.
    fn new(fetch: &str) -> Local {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("mailward.toml");
        std::fs::write(&config, config_text(dir.path(), fetch)).expect("config");
        let l = Local { dir, config };
        let out = l.run(
            &["account", "add", "bob@example.test", "--password-stdin"],
            Some("pw-bob\n"),
        );
        assert!(out.0.success(), "account add: {}", out.2);
        l
    }

    fn set_fetch(&self, fetch: &str) {
        std::fs::write(&self.config, config_text(self.dir.path(), fetch)).expect("config");
    }

    fn run(
        &self,
        args: &[&str],
        stdin: Option<&str>,
    ) -> (std::process::ExitStatus, String, String) {
        use std::io::Write;
        let mut child = Command::new(BIN)
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run mailward");
        if let (Some(mut si), Some(text)) = (child.stdin.take(), stdin) {
            si.write_all(text.as_bytes()).expect("stdin");
        }
        let out = child.wait_with_output().expect("output");
        (
            out.status,
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn fetch_once(&self) -> String {
        let (status, stdout, stderr) = self.run(&["fetch", "--once"], None);
        assert!(status.success(), "fetch --once failed: {stdout}{stderr}");
        stdout
    }

    /// Delivered messages by their `Message-ID:` line, with how many copies of each.
    fn delivered(&self) -> BTreeMap<String, usize> {
        let md = self.dir.path().join("data/mail/example.test/bob/Maildir");
        let mut out = BTreeMap::new();
        for sub in ["new", "cur"] {
            for e in std::fs::read_dir(md.join(sub))
                .into_iter()
                .flatten()
                .flatten()
            {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                let id = text
                    .lines()
                    .find(|l| l.starts_with("Message-ID:"))
                    .unwrap_or("none")
                    .to_string();
                *out.entry(id).or_insert(0) += 1;
            }
        }
        out
    }

    fn a_delivered_message(&self) -> String {
        let md = self
            .dir
            .path()
            .join("data/mail/example.test/bob/Maildir/new");
        let e = std::fs::read_dir(md)
            .expect("new/")
            .flatten()
            .next()
            .expect("a message");
        std::fs::read_to_string(e.path()).expect("read")
    }
}

fn message(i: usize) -> Vec<u8> {
    format!(
        "Return-Path: <alice@remote.test>\r\nFrom: alice@remote.test\r\nTo: {USER}\r\nSubject: remote {i}\r\nMessage-ID: <remote-{i}@remote.test>\r\n\r\nBody of message {i}.\r\n.leading dot line\r\n"
    )
    .into_bytes()
}

fn fetch_entry(protocol: &str, port: u16, tls: &str, extra: &str) -> String {
    format!(
        "\n[[fetch]]\nname = \"remote\"\nprotocol = \"{protocol}\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{tls}\"\nuser = \"{USER}\"\npassword = \"{PASS}\"\ndeliver_to = \"bob@example.test\"\ntls_verify = false\n{extra}"
    )
}

fn assert_each_once(local: &Local, n: usize) {
    let got = local.delivered();
    assert_eq!(got.len(), n, "distinct messages delivered: {got:?}");
    assert!(
        got.values().all(|&c| c == 1),
        "a message was delivered twice: {got:?}"
    );
}

#[test]
fn pop3_fetch_delivers_each_message_once_and_empties_the_remote() {
    let Some(dv) = Dovecot::start() else { return };
    for i in 0..5 {
        dv.deliver(&format!("m{i}"), &message(i));
    }
    // Two per poll: each run stops part-way, as a restart in the middle would.
    let local = Local::new(&fetch_entry(
        "pop3",
        dv.pop3s,
        "implicit",
        "max_messages_per_poll = 2\n",
    ));
    let out = local.fetch_once();
    assert!(out.contains("2 message(s) fetched"), "{out}");
    assert_each_once(&local, 2);
    assert_eq!(dv.remaining(), 3);
    local.fetch_once();
    local.fetch_once();
    assert_each_once(&local, 5);
    assert_eq!(
        dv.remaining(),
        0,
        "keep = false leaves the remote mailbox empty"
    );
    let out = local.fetch_once();
    assert!(out.contains("0 message(s) fetched"), "{out}");
    assert_each_once(&local, 5);
    let text = local.a_delivered_message();
    assert!(
        text.contains("Received: from 127.0.0.1 ([127.0.0.1])") && text.contains("with POP3S"),
        "{text}"
    );
    assert!(
        text.contains("\n.leading dot line"),
        "byte-stuffing undone: {text}"
    );
}

#[test]
fn imap_fetch_over_starttls_keeps_then_deletes_without_duplicates() {
    let Some(dv) = Dovecot::start() else { return };
    for i in 0..4 {
        dv.deliver(&format!("m{i}"), &message(i));
    }
    let local = Local::new(&fetch_entry("imap", dv.imap, "starttls", "keep = true\n"));
    let out = local.fetch_once();
    assert!(out.contains("4 message(s) fetched"), "{out}");
    assert_each_once(&local, 4);
    assert_eq!(dv.remaining(), 4, "keep = true leaves the messages");
    let out = local.fetch_once();
    assert!(out.contains("0 message(s) fetched"), "{out}");
    // Now delete: nothing is fetched again, and the remote copies go.
    local.set_fetch(&fetch_entry("imap", dv.imap, "starttls", "keep = false\n"));
    dv.deliver("m9", &message(9));
    let out = local.fetch_once();
    assert!(out.contains("1 message(s) fetched"), "{out}");
    assert_each_once(&local, 5);
    assert_eq!(dv.remaining(), 0);
    assert!(local.a_delivered_message().contains("with IMAPS"));
}

#[test]
fn imap_over_implicit_tls_killed_in_the_middle_loses_and_duplicates_nothing() {
    let Some(dv) = Dovecot::start() else { return };
    let n = 40;
    for i in 0..n {
        dv.deliver(&format!("m{i}"), &message(i));
    }
    let local = Local::new(&fetch_entry("imap", dv.imaps, "implicit", ""));
    // Kill -9 once the first messages are queued.
    let log = local.dir.path().join("mailward.log");
    let mut child = Command::new(BIN)
        .args(["fetch", "--once", "--config"])
        .arg(&local.config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    while count_events(&log, "fetch_message") < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let taken_before = count_events(&log, "fetch_message");
    assert!(taken_before >= 3, "no message was fetched before the kill");
    local.fetch_once();
    assert_each_once(&local, n);
    assert_eq!(dv.remaining(), 0);
}

fn count_events(log: &Path, name: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&format!("\"event\":\"{name}\"")))
        .count()
}

#[test]
fn serve_polls_over_pop3_stls_and_delivers_through_its_runner() {
    let Some(dv) = Dovecot::start() else { return };
    let mw = common_serve::Mailward::start(&fetch_entry(
        "pop3",
        dv.pop3,
        "starttls",
        "interval = \"1s\"\n",
    ));
    mw.add_account("bob@example.test", None);
    for i in 0..3 {
        dv.deliver(&format!("m{i}"), &message(i));
    }
    for i in 0..3 {
        let text = mw.wait_for_mail("bob", &format!("Subject: remote {i}\r\n"));
        assert!(text.contains("with POP3S"), "{text}");
    }
    mw.wait_for_event("fetch_message", None);
    let deadline = Instant::now() + Duration::from_secs(20);
    while dv.remaining() > 0 {
        assert!(
            Instant::now() < deadline,
            "the remote copies were not deleted"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Later polls take nothing again.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(mw.inbox("bob").len(), 3);
}
