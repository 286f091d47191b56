//! RFC 5464 METADATA as a client sees it: the session over the real store (SQLite and
//! Maildir in a temporary directory), fed the octets a client sends.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_imap::backend::{Account, AuthOutcome, Authenticator, Credentials};
use mailward_imap::{Action, Session, SessionConfig, StoreMailboxes};
use mailward_store::access::MailAccess;
use mailward_store::{DataDir, Store, directory};
use std::sync::{Arc, Mutex};

/// Lets "bob" in with any password, onto the store's account.
struct OpenDoor {
    mail: Mutex<Option<MailAccess>>,
}

impl Authenticator for OpenDoor {
    fn authenticate(&self, _: &Credentials) -> AuthOutcome {
        match self.mail.lock().unwrap().clone() {
            Some(mail) => AuthOutcome::Success(Account {
                name: "bob@example.test".into(),
                mailboxes: Box::new(StoreMailboxes::new(mail)),
            }),
            None => AuthOutcome::Failed,
        }
    }
}

struct Client {
    _tmp: tempfile::TempDir,
    session: Session,
}

impl Client {
    fn new() -> Client {
        let tmp = tempfile::tempdir().unwrap();
        let store =
            Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
        let account = directory::add_account(&store.conn(), "bob@example.test", "x", None).unwrap();
        let mail = MailAccess::open(store, account).unwrap();
        let mut cfg = SessionConfig::new("test");
        cfg.plaintext_auth_on_loopback = true;
        cfg.admin = Some("mailto:postmaster@example.test".into());
        let auth = Arc::new(OpenDoor {
            mail: Mutex::new(Some(mail)),
        });
        let mut session = Session::new(Arc::new(cfg), auth, "t".into(), [127, 0, 0, 1].into());
        session.greeting();
        session.take_output();
        Client { _tmp: tmp, session }
    }

    fn raw(&mut self, input: &[u8]) -> Vec<u8> {
        self.session.feed(input);
        while let Some(a) = self.session.advance() {
            match a {
                Action::Authenticate => {
                    let outcome = self.session.check_credentials();
                    self.session.auth_answer(outcome);
                }
                Action::Close => break,
                _ => {}
            }
        }
        self.session.take_output()
    }

    fn send_bytes(&mut self, input: &[u8]) -> String {
        String::from_utf8_lossy(&self.raw(input)).into_owned()
    }

    fn send(&mut self, line: &str) -> String {
        self.send_bytes(format!("{line}\r\n").as_bytes())
    }

    fn logged_in() -> Client {
        let mut c = Client::new();
        let out = c.send("a LOGIN bob x");
        assert!(out.contains("a OK"), "{out}");
        c
    }
}

/// The last line (the tagged completion) of an answer.
fn tagged(out: &str) -> &str {
    out.trim_end().lines().last().unwrap_or_default()
}

#[test]
fn capability_lists_metadata() {
    let mut c = Client::logged_in();
    let out = c.send("c CAPABILITY");
    assert!(
        out.contains(" METADATA ") && out.contains(" METADATA-SERVER "),
        "{out}"
    );
}

#[test]
fn server_entries_set_get_and_remove() {
    let mut c = Client::logged_in();
    assert_eq!(
        tagged(&c.send(
            "s1 SETMETADATA \"\" (/shared/comment \"Shared comment\" /private/vendor/acme/x \"1\")"
        )),
        "s1 OK SETMETADATA completed"
    );
    let out = c.send("g1 GETMETADATA \"\" /shared/comment");
    assert_eq!(
        out,
        "* METADATA \"\" (/shared/comment \"Shared comment\")\r\ng1 OK GETMETADATA completed\r\n"
    );
    // Entry names are case-insensitive (RFC 5464 §3.2).
    let out = c.send("g2 GETMETADATA \"\" (/SHARED/Comment)");
    assert!(
        out.contains("(/shared/comment \"Shared comment\")"),
        "{out}"
    );
    // NIL removes; an entry asked for that does not exist shows NIL.
    assert!(tagged(&c.send("s2 SETMETADATA \"\" (/shared/comment NIL)")).starts_with("s2 OK"));
    let out = c.send("g3 GETMETADATA \"\" /shared/comment");
    assert!(
        out.starts_with("* METADATA \"\" (/shared/comment NIL)\r\n"),
        "{out}"
    );
    // Mailbox entries are apart from server ones.
    let out = c.send("g4 GETMETADATA INBOX /private/vendor/acme/x");
    assert!(out.contains("(/private/vendor/acme/x NIL)"), "{out}");
}

#[test]
fn admin_entry_comes_from_the_configuration_and_is_read_only() {
    let mut c = Client::logged_in();
    let out = c.send("g GETMETADATA \"\" /shared/admin");
    assert!(
        out.starts_with("* METADATA \"\" (/shared/admin \"mailto:postmaster@example.test\")"),
        "{out}"
    );
    let out = c.send("g2 GETMETADATA (DEPTH 1) \"\" /shared");
    assert!(out.contains("/shared/admin"), "{out}");
    let out = c.send("s SETMETADATA \"\" (/shared/comment \"x\" /shared/admin \"mailto:me@x\")");
    assert!(tagged(&out).starts_with("s NO [NOPERM]"), "{out}");
    // All or nothing: the comment was not set either.
    let out = c.send("g3 GETMETADATA \"\" /shared/comment");
    assert!(out.contains("(/shared/comment NIL)"), "{out}");
}

#[test]
fn depth_and_maxsize() {
    let mut c = Client::logged_in();
    let big = "x".repeat(2199);
    let out = c.send(&format!(
        "s SETMETADATA INBOX (/private/filters/values/small \"SMALLER 5000\" /private/filters/values/boss \"FROM \\\"boss@example.com\\\"\" /private/filters/values/boss/deep \"d\" /shared/comment {{2199+}}\r\n{big} /private/comment \"My own comment\")"
    ));
    assert_eq!(tagged(&out), "s OK SETMETADATA completed");
    // RFC 5464 §4.2.2 example: depth 1 gives children, not grandchildren.
    let out = c.send("g1 GETMETADATA \"INBOX\" (DEPTH 1) (/private/filters/values)");
    assert_eq!(
        out,
        "* METADATA \"INBOX\" (/private/filters/values NIL /private/filters/values/boss \"FROM \\\"boss@example.com\\\"\" /private/filters/values/small \"SMALLER 5000\")\r\ng1 OK GETMETADATA completed\r\n"
    );
    let out = c.send("g2 GETMETADATA (DEPTH infinity) INBOX /private/filters");
    assert!(
        out.contains("/private/filters/values/boss/deep \"d\""),
        "{out}"
    );
    // §4.2.1 example: the long value is left out and its size given.
    let out = c.send("g3 GETMETADATA \"INBOX\" (MAXSIZE 1024) (/shared/comment /private/comment)");
    assert_eq!(
        out,
        "* METADATA \"INBOX\" (/private/comment \"My own comment\")\r\ng3 OK [METADATA LONGENTRIES 2199] GETMETADATA completed\r\n"
    );
    let out = c.send("g4 GETMETADATA INBOX (/shared/comment)");
    assert!(
        out.contains(&format!("/shared/comment {{2199}}\r\n{big})")),
        "{out}"
    );
}

#[test]
fn binary_values_travel_as_literal8() {
    let mut c = Client::logged_in();
    let out = c.send_bytes(b"s SETMETADATA \"\" (/private/blob ~{5+}\r\na\x00b\xffc)\r\n");
    assert_eq!(tagged(&out), "s OK SETMETADATA completed");
    let out = c.raw(b"g GETMETADATA \"\" /private/blob\r\n");
    assert_eq!(
        out,
        b"* METADATA \"\" (/private/blob ~{5}\r\na\x00b\xffc)\r\ng OK GETMETADATA completed\r\n"
    );
    // A synchronizing literal gets its continuation.
    let out = c.send_bytes(b"s2 SETMETADATA \"\" (/private/text {3}\r\n");
    assert!(out.starts_with("+ "), "{out}");
    let out = c.send_bytes(b"abc)\r\n");
    assert_eq!(tagged(&out), "s2 OK SETMETADATA completed");
}

#[test]
fn invalid_names_are_bad_and_refusals_are_no() {
    let mut c = Client::logged_in();
    for (cmd, want) in [
        ("b1 SETMETADATA INBOX (/private/a*b \"x\")", "b1 BAD"),
        ("b2 SETMETADATA INBOX (\"/private/a%b\" \"x\")", "b2 BAD"),
        ("b3 SETMETADATA INBOX (/private//x \"x\")", "b3 BAD"),
        ("b4 SETMETADATA INBOX (/private/x/ \"x\")", "b4 BAD"),
        ("b5 SETMETADATA INBOX (/comment \"x\")", "b5 BAD"),
        ("b6 GETMETADATA (DEPTH 2) INBOX /private/x", "b6 BAD"),
        ("b7 GETMETADATA INBOX", "b7 BAD"),
        (
            "n1 GETMETADATA Nowhere /private/comment",
            "n1 NO [NONEXISTENT]",
        ),
        (
            "n2 SETMETADATA Nowhere (/private/comment \"x\")",
            "n2 NO [NONEXISTENT]",
        ),
    ] {
        let out = c.send(cmd);
        assert!(tagged(&out).starts_with(want), "{cmd}: {out}");
    }
    let out = c.send_bytes(b"x1 GETMETADATA {3}\r\n");
    assert!(out.starts_with("+ "), "{out}");
}

#[test]
fn limits_answer_with_their_codes() {
    let mut c = Client::logged_in();
    // RFC 5464 §4.3: NO [METADATA MAXSIZE n] with the largest size taken.
    let big = "v".repeat(64 * 1024 + 1);
    let out = c.send(&format!(
        "m SETMETADATA INBOX (/private/ok \"fine\" /private/big {{{}+}}\r\n{big})",
        big.len()
    ));
    assert_eq!(
        tagged(&out),
        "m NO [METADATA MAXSIZE 65536] Annotation value too large"
    );
    let out = c.send("g GETMETADATA INBOX /private/ok");
    assert!(out.contains("(/private/ok NIL)"), "nothing was set: {out}");
    // NO [METADATA TOOMANY] past 1000 entries in the account.
    let mut first = String::from("t1 SETMETADATA \"\" (");
    for i in 0..1000 {
        first.push_str(&format!(" /private/n{i} \"v\""));
    }
    first.push(')');
    let first = first.replacen("( ", "(", 1);
    assert_eq!(tagged(&c.send(&first)), "t1 OK SETMETADATA completed");
    let out = c.send("t2 SETMETADATA INBOX (/private/one \"more\")");
    assert_eq!(
        tagged(&out),
        "t2 NO [METADATA TOOMANY] Too many annotations"
    );
    // Replacing one is still fine.
    let out = c.send("t3 SETMETADATA \"\" (/private/n1 \"w\")");
    assert_eq!(tagged(&out), "t3 OK SETMETADATA completed");
}

#[test]
fn specialuse_entry_reads_and_sets_the_attribute() {
    let mut c = Client::logged_in();
    let out = c.send("g1 GETMETADATA Sent /private/specialuse");
    assert!(out.contains("(/private/specialuse \"\\\\Sent\")"), "{out}");
    let out = c.send("g2 GETMETADATA INBOX /private/specialuse");
    assert!(out.contains("(/private/specialuse NIL)"), "{out}");
    assert!(c.send("c CREATE Receipts").contains("c OK"));
    let out = c.send("s1 SETMETADATA Receipts (/private/specialuse \"\\\\Archive\")");
    assert_eq!(tagged(&out), "s1 OK SETMETADATA completed");
    let out = c.send("l LIST \"\" Receipts RETURN (SPECIAL-USE)");
    assert!(out.contains("\\Archive"), "{out}");
    for bad in ["\\\\NotAUse", "\\\\All", "\\\\Sent \\\\Junk", "Sent"] {
        let out = c.send(&format!(
            "s2 SETMETADATA Receipts (/private/comment \"x\" /private/specialuse \"{bad}\")"
        ));
        assert!(tagged(&out).starts_with("s2 NO [USEATTR]"), "{bad}: {out}");
    }
    let out = c.send("g3 GETMETADATA Receipts (/private/specialuse /private/comment)");
    assert!(
        out.contains("(/private/comment NIL /private/specialuse \"\\\\Archive\")"),
        "{out}"
    );
    let out = c.send("s3 SETMETADATA Receipts (/private/specialuse NIL)");
    assert_eq!(tagged(&out), "s3 OK SETMETADATA completed");
    let out = c.send("l2 LIST \"\" Receipts RETURN (SPECIAL-USE)");
    assert!(!out.contains("\\Archive"), "{out}");
}

#[test]
fn entries_follow_rename_and_go_with_delete() {
    let mut c = Client::logged_in();
    assert!(c.send("c CREATE Work").contains("c OK"));
    c.send("s SETMETADATA Work (/private/comment \"work stuff\")");
    assert!(c.send("r RENAME Work Job").contains("r OK"));
    let out = c.send("g1 GETMETADATA Job /private/comment");
    assert!(out.contains("\"work stuff\""), "{out}");
    assert!(c.send("d DELETE Job").contains("d OK"));
    assert!(c.send("c2 CREATE Job").contains("c2 OK"));
    let out = c.send("g2 GETMETADATA Job /private/comment");
    assert!(out.contains("(/private/comment NIL)"), "{out}");
    // LIST-EXTENDED is unaffected.
    let out = c.send("l LIST (SUBSCRIBED) \"\" \"*\"");
    assert!(tagged(&out).starts_with("l OK"), "{out}");
}

#[test]
fn metadata_needs_authentication() {
    let mut c = Client::new();
    let out = c.send("g GETMETADATA \"\" /shared/comment");
    assert!(tagged(&out).starts_with("g BAD"), "{out}");
}

#[test]
fn utf8_mailbox_names_are_echoed_in_the_client_form() {
    let mut c = Client::logged_in();
    assert!(c.send("c CREATE &ZeVnLIqe-").contains("c OK"));
    c.send("s SETMETADATA &ZeVnLIqe- (/private/comment \"x\")");
    let out = c.send("g GETMETADATA &ZeVnLIqe- /private/comment");
    assert!(out.starts_with("* METADATA \"&ZeVnLIqe-\" ("), "{out}");
}
