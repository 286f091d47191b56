//! `mailward serve` POP3 end to end: mail delivered by SMTP (Python smtplib) is read back by
//! real POP3 clients (Python poplib over STLS and pop3s, Debian's fetchmail), against the
//! real binary on ephemeral loopback ports, checking replies, the Maildir and the JSON log.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{Mailward, debian_tool};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const USER: &str = "bob@example.test";

/// A running server with POP3 listeners.
struct Pop3 {
    m: Mailward,
    pop3: u16,
    pop3s: u16,
}

impl Pop3 {
    /// Starts the test configuration plus `extra`, with `pop3` and `pop3s` on ephemeral
    /// ports, and adds bob.
    fn start(extra: &str) -> Pop3 {
        let m = Mailward::start_with_listeners(
            extra,
            "pop3 = \"127.0.0.1:0\"\npop3s = [\"127.0.0.1:0\"]",
        );
        let (pop3, pop3s) = (m.listener_port("pop3"), m.listener_port("pop3s"));
        m.add_account(USER, None);
        Pop3 { m, pop3, pop3s }
    }

    /// Runs a scenario of `tests/py/pop3_client.py`; returns its JSON output.
    fn py(&self, scenario: &str) -> serde_json::Value {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/pop3_client.py");
        let out = Command::new("python3")
            .arg(script)
            .arg(scenario)
            .arg(self.m.smtp.to_string())
            .arg(self.pop3.to_string())
            .arg(self.pop3s.to_string())
            .output()
            .expect("python3 is needed for these tests");
        assert!(
            out.status.success(),
            "scenario {scenario} failed:\n{}\n{}\nlog: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(stdout.lines().last().unwrap_or("{}"))
            .unwrap_or(serde_json::Value::Null)
    }

    fn log_tail(&self) -> String {
        std::fs::read_to_string(&self.m.log)
            .unwrap_or_default()
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Delivers the three test messages by SMTP and waits until they are in the Maildir.
    fn deliver(&self) {
        self.py("deliver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.files().len() < 3 {
            assert!(Instant::now() < deadline, "mail was not delivered");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// bob's INBOX files (`new/` and `cur/`), path and content.
    fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.m.maildir("bob").join(sub)) {
                for e in rd.flatten() {
                    out.push((e.path(), std::fs::read(e.path()).unwrap_or_default()));
                }
            }
        }
        out.sort();
        out
    }

    fn pop3_events(&self, event: &str) -> Vec<serde_json::Value> {
        self.m
            .log_lines()
            .into_iter()
            .filter(|l| l["event"] == event && l["protocol"] == "pop3")
            .collect()
    }

    /// Waits until the log has `n` POP3 `event` lines.
    fn wait_events(&self, event: &str, n: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = self.pop3_events(event);
            if found.len() >= n {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "only {} {event} events: {}",
                found.len(),
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

const DOT_BODY: &str = "\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n";

#[test]
fn poplib_reads_over_stls_and_pop3s_exactly_what_smtp_delivered() {
    let s = Pop3::start("");
    s.deliver();
    let stored = s.files();
    let out = s.py("read_all");
    assert_eq!(out["count"], 3);
    let total: usize = stored.iter().map(|(_, d)| d.len()).sum();
    assert_eq!(out["total"], total, "STAT counts the octets as stored");

    // RETR gives back each Maildir file byte for byte (after un-stuffing).
    let mut retrieved: Vec<String> = out["retrieved"]
        .as_array()
        .expect("retrieved")
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect();
    let mut files: Vec<String> = stored
        .iter()
        .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
        .collect();
    retrieved.sort();
    files.sort();
    assert_eq!(retrieved.len(), files.len());
    for (r, f) in retrieved.iter().zip(&files) {
        assert!(
            r == f,
            "RETR differs from the file:\n{:.300}\n---\n{:.300}",
            r,
            f
        );
    }
    assert!(
        retrieved.iter().any(|m| m.contains(DOT_BODY)),
        "lines starting with '.' come back intact"
    );
    // TOP 2 1: the header, the blank line and one body line of the dot message.
    let top: Vec<&str> = out["top"]
        .as_array()
        .expect("top")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(
        top.iter().rev().take(2).collect::<Vec<_>>(),
        [&".leading dot", &""]
    );
    assert!(top.contains(&"Subject: dots"), "{top:?}");
    // UIDL: Dovecot's %08Xu%08Xv form, and the same in all three sessions (the script
    // checked); UIDs 1..3.
    let uidl: Vec<&str> = out["uidl"]
        .as_array()
        .expect("uidl")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(uidl.len(), 3);
    for (i, line) in uidl.iter().enumerate() {
        let (n, id) = line.split_once(' ').expect("msg unique-id");
        assert_eq!(n, (i + 1).to_string());
        assert_eq!(id.len(), 16, "{id}");
        assert!(id.starts_with(&format!("{:08X}", i + 1)), "{id}");
    }

    // RETR set \Seen: the files moved to cur/ with the S flag (what IMAP and mutt see).
    let after = s.files();
    assert_eq!(after.len(), 3);
    for (path, _) in &after {
        let name = path.to_string_lossy();
        assert!(name.contains("/cur/") && name.ends_with(":2,S"), "{name}");
    }

    // The log: connect on both listeners, TLS, logins by USER and PLAIN, logout counts.
    let connects = s.wait_events("connect", 3);
    assert!(connects.iter().any(|l| l["listener"] == "pop3"));
    assert!(connects.iter().any(|l| l["listener"] == "pop3s"));
    let logins = s.wait_events("auth", 3);
    for l in &logins {
        assert_eq!(l["user"], USER);
        assert_eq!(l["remote_ip"], "127.0.0.1");
        assert!(l["session"].is_string());
    }
    assert_eq!(logins[0]["mechanism"], "USER");
    assert_eq!(logins[1]["mechanism"], "PLAIN");
    let tls = s.wait_events("tls", 3);
    assert!(tls.iter().all(|l| l["tls_version"].is_string()));
    let logouts = s.wait_events("logout", 3);
    assert_eq!(logouts[0]["retr"], 3);
    assert_eq!(logouts[0]["reason"], "quit");
    let disconnects = s.wait_events("disconnect", 3);
    assert!(disconnects.iter().all(|l| l["duration"].is_f64()));
}

#[test]
fn dele_rset_keeps_dele_quit_removes_and_a_dropped_connection_removes_nothing() {
    let s = Pop3::start("");
    s.deliver();
    let out = s.py("dele");
    assert_eq!(out["before"], 3);
    assert_eq!(out["after"], 2);
    // DELE + QUIT removed the file from the Maildir (so IMAP and mutt see it gone).
    assert_eq!(s.files().len(), 2);
    // The dropped session (DELE 1, no QUIT) ends without removing anything.
    let logouts = s.wait_events("logout", 3);
    let dropped = logouts.last().expect("logout");
    assert_eq!(dropped["reason"], "closed");
    assert_eq!(dropped["dele"], 0);
    assert_eq!(dropped["marked"], 1);
    assert_eq!(logouts[1]["dele"], 1, "{logouts:?}");
    assert_eq!(s.files().len(), 2);
    assert_eq!(s.py("stat")["count"], 2);
}

#[test]
fn wrong_password_gets_auth_error_after_a_delay_and_is_logged() {
    let s = Pop3::start("");
    let out = s.py("wrong_password");
    assert_eq!(out["reply"], "-ERR [AUTH] Authentication failed");
    // auth_fail_delay is 100ms in the test configuration.
    assert!(out["waited"].as_f64().unwrap_or(0.0) >= 0.1, "{out}");
    let failed = s.wait_events("auth_failed", 1);
    assert_eq!(failed[0]["user"], USER);
    assert_eq!(failed[0]["mechanism"], "USER");
    assert_eq!(failed[0]["reason"], "invalid credentials");
    assert_eq!(failed[0]["remote_ip"], "127.0.0.1");
    assert!(failed[0]["session"].is_string());
    s.wait_events("auth", 1);
}

#[test]
fn loopback_may_log_in_before_stls_unless_configured_otherwise() {
    let s = Pop3::start("");
    let out = s.py("loopback_plain");
    assert_eq!(out["outcome"], "logged-in");
    assert_eq!(out["user_offered"], true);
    drop(s);
    let s = Pop3::start("\n[relay]\nplaintext_auth_on_loopback = false\n");
    let out = s.py("loopback_plain");
    assert!(
        out["outcome"]
            .as_str()
            .unwrap_or("")
            .starts_with("-ERR [AUTH] Plaintext authentication disallowed"),
        "{out}"
    );
    assert_eq!(out["user_offered"], false);
}

/// Takes out the `Received:` header fetchmail adds (`... with POP3 (fetchmail-6.4.37)`,
/// after Return-Path and Delivered-To), with its continuation lines.
fn without_fetchmail_received(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split_inclusive('\n').peekable();
    let mut in_header = true;
    while let Some(line) = lines.next() {
        if in_header && line == "\n" {
            in_header = false;
        }
        if in_header && line.starts_with("Received: from 127.0.0.1 ") {
            while lines
                .peek()
                .is_some_and(|l| l.starts_with('\t') || l.starts_with(' '))
            {
                lines.next();
            }
            continue;
        }
        out.push_str(line);
    }
    out
}

#[test]
fn fetchmail_retrieves_every_message_over_stls() {
    let Some(fetchmail) = debian_tool("fetchmail", "fetchmail") else {
        return;
    };
    let s = Pop3::start("");
    s.deliver();
    let stored = s.files();
    let home = tempfile::tempdir().expect("tempdir");
    let outdir = home.path().join("out");
    std::fs::create_dir(&outdir).expect("out dir");
    let mda = home.path().join("mda.sh");
    std::fs::write(
        &mda,
        format!(
            "#!/bin/sh\ncat > \"$(mktemp {}/msg.XXXXXX)\"\n",
            outdir.display()
        ),
    )
    .expect("mda script");
    let rc = home.path().join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "set no syslog\npoll 127.0.0.1 with proto POP3 port {port}\n  user \"{USER}\" there with password \"{pw}\"\n  sslproto \"tls1.2+\" no sslcertck\n  fetchall\n  mda \"{mda}\"\n",
            port = s.pop3,
            pw = common_serve::PASSWORD,
            mda = mda.display()
        ),
    )
    .expect("fetchmailrc");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::fs::set_permissions(&mda, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let out = Command::new(fetchmail)
        .args(["--nodetach", "--nosyslog", "-v", "-f"])
        .arg(&rc)
        .env("HOME", home.path())
        .env("FETCHMAILHOME", home.path())
        .output()
        .expect("run fetchmail");
    let log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "fetchmail failed: {log}\n{}",
        s.log_tail()
    );
    assert!(log.contains("STLS"), "fetchmail used STLS: {log}");

    // fetchmail hands each message to the MDA with LF line ends and its own Received: on
    // top; the rest is the message as delivered.
    let written: Vec<String> = std::fs::read_dir(&outdir)
        .expect("out dir")
        .flatten()
        .map(|e| String::from_utf8_lossy(&std::fs::read(e.path()).unwrap_or_default()).into_owned())
        .collect();
    assert_eq!(written.len(), 3, "{log}");
    let written: Vec<String> = written
        .iter()
        .map(|w| without_fetchmail_received(w))
        .collect();
    for (_, data) in &stored {
        let original = String::from_utf8_lossy(data).replace("\r\n", "\n");
        assert_eq!(
            written.iter().filter(|w| **w == original).count(),
            1,
            "message not retrieved intact: {original:.400}\nwritten: {:?}",
            written
                .iter()
                .map(|w| w.chars().take(400).collect::<String>())
                .collect::<Vec<_>>()
        );
    }
    // fetchmail deleted what it fetched: the INBOX is empty, and the log says so.
    assert!(s.files().is_empty(), "{:?}", s.files());
    let logout = s.wait_events("logout", 1);
    assert_eq!(logout[0]["dele"], 3);
    assert!(!s.wait_events("tls", 1).is_empty());
}
