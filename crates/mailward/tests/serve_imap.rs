//! `mailward serve` IMAP end to end: mail delivered by SMTP (Python smtplib) is read and
//! changed by a real IMAP client (Python imaplib over STARTTLS and imaps), against the real
//! binary on ephemeral loopback ports, checking replies, the Maildir and the JSON log.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::Mailward;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const USER: &str = "bob@example.test";

/// A running server with IMAP listeners.
struct Imap {
    m: Mailward,
    imap: u16,
    imaps: u16,
}

impl Imap {
    fn start() -> Imap {
        let m = Mailward::start_with_listeners(
            "",
            "imap = \"127.0.0.1:0\"\nimaps = [\"127.0.0.1:0\"]\npop3 = []\npop3s = []",
        );
        let (imap, imaps) = (m.listener_port("imap"), m.listener_port("imaps"));
        m.add_account(USER, None);
        Imap { m, imap, imaps }
    }

    /// Runs a scenario of `tests/py/imap_client.py`; returns its JSON output.
    fn py(&self, scenario: &str) -> serde_json::Value {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/imap_client.py");
        let out = Command::new("python3")
            .arg(script)
            .arg(scenario)
            .arg(self.m.smtp.to_string())
            .arg(self.imap.to_string())
            .arg(self.imaps.to_string())
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
            .take(30)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn files(&self, folder: &str) -> Vec<PathBuf> {
        let base = self.m.maildir("bob");
        let dir = if folder == "INBOX" {
            base
        } else {
            base.join(format!(".{folder}"))
        };
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
                out.extend(rd.flatten().map(|e| e.path()));
            }
        }
        out.sort();
        out
    }

    fn wait_files(&self, folder: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.files(folder).len() < n {
            assert!(Instant::now() < deadline, "mail was not delivered");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn imap_events(&self, event: &str) -> Vec<serde_json::Value> {
        self.m
            .log_lines()
            .into_iter()
            .filter(|l| l["event"] == event)
            .collect()
    }
}

#[test]
fn imaplib_reads_changes_and_watches_what_smtp_delivered() {
    let s = Imap::start();
    s.py("deliver");
    s.wait_files("INBOX", 2);

    let out = s.py("main");
    let caps: Vec<String> = out["caps"]
        .as_array()
        .expect("caps")
        .iter()
        .map(|c| c.as_str().unwrap_or("").to_string())
        .collect();
    for c in [
        "IMAP4REV2",
        "IMAP4REV1",
        "IDLE",
        "UIDPLUS",
        "MOVE",
        "SPECIAL-USE",
        "CONDSTORE",
        "ESEARCH",
        "NAMESPACE",
        "QUOTA",
        "CHILDREN",
        "UNSELECT",
        "LITERAL+",
        "ENABLE",
        "ID",
    ] {
        assert!(
            caps.iter().any(|x| x.eq_ignore_ascii_case(c)),
            "{c} in {caps:?}"
        );
    }
    // What FETCH BODY.PEEK[] gave is what SMTP delivered.
    let fetched = out["fetched"].as_array().expect("fetched");
    assert!(
        fetched[1]
            .as_str()
            .unwrap_or("")
            .contains("Viele Grüße aus Köln.")
    );
    assert_eq!(out["search_text"], "2", "UTF-8 TEXT search over the body");
    assert_eq!(out["search_from"], "1 2");
    assert_eq!(out["search_unseen"], "2");
    assert_eq!(out["search_or"], "2");
    assert_eq!(out["appenduid"], 1);
    assert!(
        out["move_untagged"].to_string().contains("COPYUID"),
        "{out}"
    );
    // imaplib keeps MOVE's `* 2 EXPUNGE` too; EXPUNGE itself removed message 1.
    assert_eq!(out["expunged"], serde_json::json!(["2", "1"]), "{out}");
    assert!(
        out["archive_flags"]
            .as_str()
            .unwrap_or("")
            .contains("\\Seen"),
        "{out}"
    );
    // The Maildir: INBOX is empty (one moved, one expunged), Archive has the moved file
    // with `:2,S`, Drafts the appended one with `:2,D`.
    assert!(s.files("INBOX").is_empty(), "{:?}", s.files("INBOX"));
    let archive = s.files("Archive");
    assert_eq!(archive.len(), 1);
    assert!(
        archive[0].to_string_lossy().ends_with(":2,S"),
        "{archive:?}"
    );
    let drafts = s.files("Drafts");
    assert!(drafts[0].to_string_lossy().ends_with(":2,D"), "{drafts:?}");

    // STORE sets Maildir flags on the file: checked on a fresh delivery.
    s.py("deliver");
    s.wait_files("INBOX", 2);
    let out = s.py("concurrent");
    assert_eq!(out["before"], 2);
    let inbox = s.files("INBOX");
    assert_eq!(
        inbox.len(),
        1,
        "the other session's EXPUNGE removed the file"
    );

    // IDLE: a delivery is pushed within a second.
    let out = s.py("idle");
    let pushed = out["push_seconds"].as_f64().unwrap_or(99.0);
    assert!(pushed < 1.0, "IDLE push took {pushed} s");

    // A file dropped into new/ by another program appears.
    let new =
        s.m.maildir("bob")
            .join("new")
            .join("1700000000.dropped.host");
    std::fs::write(
        &new,
        "From: x@remote.test\r\nSubject: dropped by hand\r\n\r\nhello\r\n",
    )
    .expect("drop file");
    let out = s.py("dropped");
    assert!(!out["found"].as_str().unwrap_or("").is_empty(), "{out}");

    // imaps, quota root, namespace.
    let out = s.py("imaps");
    assert!(out["exists"].as_u64().unwrap_or(0) >= 3, "{out}");
    assert!(
        out["namespace"].as_str().unwrap_or("").contains("\"/\""),
        "{out}"
    );

    // A failed login is answered NO and logged.
    let out = s.py("badauth");
    assert!(
        out["error"]
            .as_str()
            .unwrap_or("")
            .contains("AUTHENTICATIONFAILED"),
        "{out}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.imap_events("auth_failed").is_empty() {
        assert!(
            Instant::now() < deadline,
            "no auth_failed event: {}",
            s.log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ok = s.imap_events("auth");
    assert!(ok.iter().any(|l| l["user"] == USER), "{}", s.log_tail());
    let connects: Vec<_> = s
        .imap_events("connect")
        .into_iter()
        .filter(|l| l["protocol"] == "imap")
        .collect();
    assert!(connects.len() >= 6, "{}", s.log_tail());
    assert!(
        connects
            .iter()
            .all(|l| l["session"].is_string() && l["remote_ip"] == "127.0.0.1")
    );
}

/// Webmail (Roundcube) sorts and threads on the server: an encoded subject sorts by its
/// text, a reply joins its thread, a reply whose parent is missing joins by subject.
#[test]
fn imaplib_sorts_and_threads_a_conversation() {
    let s = Imap::start();
    s.py("conversation");
    s.wait_files("INBOX", 4);
    let out = s.py("sort");
    let caps = out["caps"].to_string().to_ascii_uppercase();
    for c in [
        "\"SORT\"",
        "\"SORT=DISPLAY\"",
        "\"THREAD=REFERENCES\"",
        "\"THREAD=ORDEREDSUBJECT\"",
        "\"ESORT\"",
    ] {
        assert!(caps.contains(c), "{c} in {caps}");
    }
    // "Plan", "Re: Plan" and "Re: [team] Plan" share a base subject; "Äpfel" sorts by
    // its decoded text (after ASCII letters, as octets).
    assert_eq!(out["subject"], "1 2 4 3", "{out}");
    assert_eq!(out["reverse_date"], "4 2 1 3", "{out}");
    assert_eq!(out["uid_date"], "3 1 2 4", "{out}");
    assert_eq!(out["from_search"], "1 2 4", "{out}");
    // ESORT: MIN and MAX are the first and last in DATE order, not the lowest numbers.
    assert!(
        out["esort"]
            .as_str()
            .unwrap_or("")
            .ends_with(") MIN 3 MAX 4 COUNT 4"),
        "{out}"
    );
    assert_eq!(out["references"], "(3)(1 (2)(4))", "{out}");
    assert_eq!(out["orderedsubject"], "(3)(1 (2)(4))", "{out}");
    assert!(
        out["badcharset"]
            .as_str()
            .unwrap_or("")
            .contains("BADCHARSET"),
        "{out}"
    );
}
