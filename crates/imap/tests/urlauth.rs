//! URLAUTH (RFC 4467) and URLAUTH=BINARY (RFC 5524) as clients see them: sessions of two
//! users over the real store (SQLite and Maildir in a temporary directory), fed the octets
//! a client sends.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_imap::backend::{Account, AuthOutcome, Authenticator, Credentials};
use mailward_imap::{Action, Session, SessionConfig, StoreMailboxes};
use mailward_store::access::MailAccess;
use mailward_store::{DataDir, Store, directory};
use std::collections::HashMap;
use std::sync::Arc;

const MESSAGE: &[u8] = b"From: bob@example.test\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8g\r\nd29ybGQ=\r\n--b--\r\n";

/// Lets the store's accounts in by name, with any password.
struct Accounts(HashMap<String, MailAccess>);

impl Authenticator for Accounts {
    fn authenticate(&self, creds: &Credentials) -> AuthOutcome {
        match self.0.get(&creds.username) {
            Some(mail) => AuthOutcome::Success(Account {
                name: creds.username.clone(),
                mailboxes: Box::new(StoreMailboxes::new(mail.clone())),
            }),
            None => AuthOutcome::Failed,
        }
    }
}

struct Server {
    _tmp: tempfile::TempDir,
    auth: Arc<Accounts>,
    bob: MailAccess,
}

impl Server {
    fn new() -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let store =
            Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
        let mut mails = HashMap::new();
        for user in ["bob@example.test", "alice@example.test"] {
            let account = directory::add_account(&store.conn(), user, "x", None).unwrap();
            mails.insert(
                user.to_string(),
                MailAccess::open(store.clone(), account).unwrap(),
            );
        }
        let bob = mails["bob@example.test"].clone();
        bob.append("INBOX", MESSAGE, &[], None).unwrap();
        Server {
            _tmp: tmp,
            auth: Arc::new(Accounts(mails)),
            bob,
        }
    }

    fn login(&self, user: &str) -> Client {
        let mut cfg = SessionConfig::new("mx.example.test");
        cfg.plaintext_auth_on_loopback = true;
        let mut session = Session::new(
            Arc::new(cfg),
            self.auth.clone(),
            "t".into(),
            [127, 0, 0, 1].into(),
        );
        session.greeting();
        session.take_output();
        let mut c = Client { session };
        let out = c.send(&format!("a LOGIN {user} x"));
        assert!(out.contains("a OK"), "{out}");
        c
    }
}

struct Client {
    session: Session,
}

impl Client {
    fn send(&mut self, line: &str) -> String {
        self.session.feed(format!("{line}\r\n").as_bytes());
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
        String::from_utf8_lossy(&self.session.take_output()).into_owned()
    }

    /// GENURLAUTH of one rump: the full URL.
    fn genurl(&mut self, rump: &str) -> String {
        let out = self.send(&format!("g GENURLAUTH \"{rump}\" INTERNAL"));
        assert!(out.contains("g OK"), "{out}");
        let start = out.find("* GENURLAUTH \"").unwrap() + 14;
        let len = out[start..].find('"').unwrap();
        out[start..start + len].to_string()
    }

    /// URLFETCH of one URL: what follows the URL in the response.
    fn fetch(&mut self, url: &str) -> String {
        let out = self.send(&format!("f URLFETCH \"{url}\""));
        assert!(out.contains("f OK"), "{out}");
        let head = format!("* URLFETCH \"{url}\" ");
        let start = out.find(&head).unwrap() + head.len();
        let end = out.rfind("\r\nf OK").unwrap();
        out[start..end].to_string()
    }
}

const INBOX: &str = "imap://bob%40example.test@example.test/INBOX";

fn literal(data: &[u8]) -> String {
    format!("{{{}}}\r\n{}", data.len(), String::from_utf8_lossy(data))
}

#[test]
fn own_urls_fetch_until_the_key_is_reset() {
    let server = Server::new();
    let mut bob = server.login("bob@example.test");
    assert!(
        bob.send("c CAPABILITY")
            .contains(" URLAUTH URLAUTH=BINARY ")
    );
    let url = bob.genurl(&format!("{INBOX}/;uid=1;urlauth=user+bob@example.test"));
    assert_eq!(bob.fetch(&url), literal(MESSAGE));
    let part = bob.genurl(&format!("{INBOX}/;uid=1/;section=1;urlauth=anonymous"));
    assert_eq!(bob.fetch(&part), "{5}\r\nhello");
    // A changed URL keeps no token: another part, another access identifier.
    assert_eq!(bob.fetch(&part.replace("section=1", "section=2")), "NIL");
    assert_eq!(bob.fetch(&part.replace("anonymous", "authuser")), "NIL");
    // The key is in the store, out of the annotations' reach.
    let meta = bob.send("m GETMETADATA (DEPTH infinity) INBOX (/private/vendor /shared/vendor)");
    assert!(!meta.contains("urlauth"), "{meta}");
    let set = bob.send("s SETMETADATA INBOX (/vendor-mailward/urlauth-key \"x\")");
    assert!(set.starts_with("s BAD"), "{set}");
    assert!(server.bob.urlauth_key("INBOX", false).unwrap().is_some());

    assert!(bob.send("r RESETKEY INBOX INTERNAL").contains("r OK"));
    assert_eq!(bob.fetch(&url), "NIL");
    assert_eq!(bob.fetch(&part), "NIL");
    // A new URL works with the new key; the old one stays invalid.
    let again = bob.genurl(&format!("{INBOX}/;uid=1;urlauth=user+bob@example.test"));
    assert_ne!(again, url);
    assert_eq!(bob.fetch(&again), literal(MESSAGE));
    assert_eq!(bob.fetch(&url), "NIL");
    // RESETKEY without a mailbox resets them all.
    assert!(bob.send("r RESETKEY").contains("r OK"));
    assert_eq!(bob.fetch(&again), "NIL");
}

#[test]
fn other_users_follow_the_access_identifier() {
    let server = Server::new();
    let mut bob = server.login("bob@example.test");
    let mut alice = server.login("alice@example.test");
    let make =
        |bob: &mut Client, access: &str| bob.genurl(&format!("{INBOX}/;uid=1;urlauth={access}"));
    for (access, allowed) in [
        ("authuser", true),
        ("anonymous", true),
        ("user+alice@example.test", true),
        // A bare name is a user at the URL's host.
        ("user+alice", true),
        ("user+carol@example.test", false),
        // Only the submission server may use these (RFC 4467 §3).
        ("submit+alice@example.test", false),
    ] {
        let url = make(&mut bob, access);
        let got = alice.fetch(&url);
        assert_eq!(got != "NIL", allowed, "{access}: {got}");
    }
    let url = make(&mut bob, "authuser");
    assert_eq!(alice.fetch(&url), literal(MESSAGE));
    assert!(bob.send("r RESETKEY").contains("r OK"));
    assert_eq!(alice.fetch(&url), "NIL");
    // Alice cannot make URLs of Bob's mailbox.
    let out = alice.send(&format!(
        "g GENURLAUTH \"{INBOX}/;uid=1;urlauth=anonymous\" INTERNAL"
    ));
    assert!(out.starts_with("g NO "), "{out}");
}

#[test]
fn refused_commands() {
    let server = Server::new();
    let mut bob = server.login("bob@example.test");
    for (cmd, want) in [
        ("a GENURLAUTH", "a BAD"),
        ("a URLFETCH", "a BAD"),
        ("a GENURLAUTH \"x\" INTERNAL", "a NO"),
        (
            &format!("a GENURLAUTH \"{INBOX}/;uid=1;urlauth=anonymous\" XTOKEN") as &str,
            "a NO",
        ),
        (
            &format!("a GENURLAUTH \"{INBOX}/;uid=9;urlauth=anonymous\" INTERNAL"),
            "a NO",
        ),
        (
            &format!("a GENURLAUTH \"{INBOX};uidvalidity=1/;uid=1;urlauth=anonymous\" INTERNAL"),
            "a NO",
        ),
        ("a RESETKEY Nowhere", "a NO [NONEXISTENT]"),
        ("a RESETKEY INBOX XTOKEN", "a NO"),
    ] {
        let out = bob.send(cmd);
        assert!(out.starts_with(want), "{cmd}: {out}");
    }
    let out = bob.send("a URLFETCH \"imap://x\" (\"imap://y\" BINARY)");
    assert!(
        out.starts_with("* URLFETCH \"imap://x\" NIL \"imap://y\" NIL\r\na OK"),
        "{out}"
    );
    let mut anonymous = Session::new(
        Arc::new(SessionConfig::new("h")),
        server.auth.clone(),
        "t".into(),
        [127, 0, 0, 1].into(),
    );
    anonymous.feed(b"a URLFETCH \"imap://x\"\r\n");
    while anonymous.advance().is_some() {}
    let out = String::from_utf8_lossy(&anonymous.take_output()).into_owned();
    assert!(out.contains("a BAD"), "{out}");
}

#[test]
fn expired_urls_fetch_nothing() {
    let server = Server::new();
    let mut bob = server.login("bob@example.test");
    let past = bob.genurl(&format!(
        "{INBOX}/;uid=1;expire=2001-01-01T00:00:00Z;urlauth=anonymous"
    ));
    assert_eq!(bob.fetch(&past), "NIL");
    let future = bob.genurl(&format!(
        "{INBOX}/;uid=1;expire=2999-01-01T00:00:00+02:00;urlauth=anonymous"
    ));
    assert_eq!(bob.fetch(&future), literal(MESSAGE));
}

/// imaptest writes the URL of user1@example.test as `imap://user1@example.test/...`: a
/// bare local part at the host.
#[test]
fn regress_url_user_is_a_local_part_at_the_host() {
    let server = Server::new();
    let mut bob = server.login("bob@example.test");
    let url = bob.genurl("imap://bob@example.test/INBOX/;uid=1;urlauth=user+bob@example.test");
    assert_eq!(bob.fetch(&url), literal(MESSAGE));
}

/// URLFETCH with both BINARY and BODYPARTSTRUCTURE describes the decoded data (imaptest's
/// urlauth-binary): the size and line count of the base64 part decoded.
#[test]
fn regress_binary_with_structure_describes_the_decoded_part() {
    let server = Server::new();
    let mut bob = server.login("bob@example.test");
    let url = bob.genurl(&format!("{INBOX}/;uid=1/;section=2;urlauth=anonymous"));
    let out = bob.send(&format!("f URLFETCH (\"{url}\" BINARY BODYPARTSTRUCTURE)"));
    assert!(
        out.contains("\" (BODYPARTSTRUCTURE (\"TEXT\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"base64\" 11 0 NIL NIL NIL NIL) BINARY {11}\r\nhello world)\r\n"),
        "{out}"
    );
    let out = bob.send(&format!("f URLFETCH (\"{url}\" BODYPARTSTRUCTURE)"));
    assert!(out.contains("\"base64\" 18 1 "), "{out}");
}
