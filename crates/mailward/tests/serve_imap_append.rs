//! `mailward serve` APPEND end to end, with Python imaplib (and poplib) against the real
//! binary on ephemeral loopback ports: MULTIAPPEND (RFC 3502), CATENATE (RFC 4469) and
//! BINARY (RFC 3516), checked against what the Maildir holds.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::Mailward;
use serde_json::Value;
use std::path::PathBuf;

const USER: &str = "bob@example.test";

struct Imap {
    m: Mailward,
    imap: u16,
    pop3: u16,
}

impl Imap {
    fn start() -> Imap {
        let m = Mailward::start_with_listeners(
            "",
            "imap = \"127.0.0.1:0\"\nimaps = []\npop3 = \"127.0.0.1:0\"\npop3s = []",
        );
        let (imap, pop3) = (m.listener_port("imap"), m.listener_port("pop3"));
        m.add_account(USER, Some("20K"));
        Imap { m, imap, pop3 }
    }

    fn py(&self, scenario: &str) -> Value {
        self.m
            .run_py("imap_append.py", scenario, &[self.imap, self.pop3])
    }

    /// The files of a folder's `cur/` (APPEND puts them there).
    fn files(&self, folder: &str) -> Vec<PathBuf> {
        let base = self.m.maildir("bob");
        let dir = if folder == "INBOX" {
            base
        } else {
            base.join(format!(".{folder}"))
        };
        let mut out: Vec<PathBuf> = std::fs::read_dir(dir.join("cur"))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        out.sort();
        out
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .filter_map(|i| s.get(i..i + 2))
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

#[test]
fn imaplib_multiappend_catenate_and_binary() {
    let s = Imap::start();

    // RFC 3502: two messages, one APPENDUID with both UIDs; a refused command (a bad
    // date on the second message, or over quota together) stores neither.
    let out = s.py("multiappend");
    assert_eq!(out["uids"], "1:2", "{out}");
    assert!(
        out["over"]
            .as_str()
            .unwrap_or("")
            .starts_with("NO [OVERQUOTA]"),
        "{out}"
    );
    assert_eq!(s.files("Sent").len(), 2, "{:?}", s.files("Sent"));

    // RFC 4469: a draft rebuilt without its attachment from URLs of the stored one.
    let out = s.py("catenate");
    assert_eq!(
        out["built"],
        "From: a@example.test\r\nSubject: base\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nkeep me\r\n--zz--\r\n",
        "{out}"
    );
    assert!(
        out["bad"]
            .as_str()
            .unwrap_or("")
            .starts_with("NO [BADURL /Drafts;UIDVALIDITY="),
        "{out}"
    );
    assert!(
        out["gone"]
            .as_str()
            .unwrap_or("")
            .starts_with("NO [BADURL /Drafts;UIDVALIDITY=1/;UID=1]"),
        "{out}"
    );
    assert_eq!(out["count"], 2);
    assert_eq!(s.files("Drafts").len(), 2);
}

#[test]
fn regress_append_binary_part_not_byte_exact() {
    // A literal8 APPEND of a part with Content-Transfer-Encoding binary, holding NUL, a
    // bare LF and a CRLF, came back from BINARY[1] with its line ends changed (9 octets
    // for 7). Now BINARY[1] is exact, and the Maildir file, IMAP BODY[] and POP3 RETR
    // hold the same octets (the part re-encoded base64, RFC 3516 §4.4).
    let s = Imap::start();
    let out = s.py("binary");
    assert_eq!(out["binary_size"], 7, "{out}");
    let body = hex(out["body"].as_str().unwrap_or(""));
    let files = s.files("INBOX");
    assert_eq!(files.len(), 1, "{files:?}");
    let stored = std::fs::read(&files[0]).unwrap();
    assert_eq!(stored, body, "the file is what IMAP serves");
    assert_eq!(out["rfc822_size"], stored.len());
    let name = files[0].to_string_lossy().into_owned();
    assert!(
        name.contains(&format!(",S={}:", stored.len())),
        "the Maildir size is the file's: {name}"
    );
}

#[test]
fn regress_append_bare_lf_size_not_what_fetch_serves() {
    // A message appended with bare LF line ends was stored as sent: RFC822.SIZE (from the
    // index) counted LF, BODY[] sent CRLF. It is stored in the CRLF form it is served in.
    let s = Imap::start();
    let out = s.py("bare_lf");
    let body = out["body"].as_str().unwrap_or("");
    assert_eq!(body, "Subject: lf only\r\n\r\nline one\r\nline two\r\n");
    assert_eq!(out["size"], body.len(), "{out}");
    let files = s.files("Archive");
    assert_eq!(std::fs::read(&files[0]).unwrap(), body.as_bytes());
}
