//! APPEND with MULTIAPPEND (RFC 3502), CATENATE (RFC 4469) and literal8 (RFC 3516) as a
//! client sees them, over the in-memory backend of `tests_mailbox`.

use super::tests_mailbox::{Mem, World, send};
use super::*;
use crate::backend::*;
use std::sync::Mutex;

const M1: &str = "From: Alice <alice@example.test>\r\nSubject: first\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPart one.\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b--\r\n";

/// Mem, except that appending a message that contains `FAIL` fails (to see MULTIAPPEND
/// take back what it added).
struct Flaky(Mem);

impl MailboxBackend for Flaky {
    fn list(&mut self) -> BackendResult<Vec<MailboxInfo>> {
        self.0.list()
    }
    fn status(&mut self, m: &str) -> BackendResult<MailboxStatus> {
        self.0.status(m)
    }
    fn select(&mut self, m: &str, ro: bool) -> BackendResult<Selected> {
        self.0.select(m, ro)
    }
    fn message(&mut self, m: &str, uid: u32) -> BackendResult<Vec<u8>> {
        self.0.message(m, uid)
    }
    fn store(&mut self, m: &str, req: &StoreRequest) -> BackendResult<StoreOutcome> {
        self.0.store(m, req)
    }
    fn expunge(&mut self, m: &str, uids: Option<&[u32]>) -> BackendResult<Vec<u32>> {
        self.0.expunge(m, uids)
    }
    fn append(&mut self, m: &str, req: AppendRequest) -> BackendResult<AppendOutcome> {
        if memchr::memmem::find(&req.message, b"FAIL").is_some() {
            return Err(BackendError::OverQuota);
        }
        self.0.append(m, req)
    }
    fn copy(&mut self, f: &str, uids: &[u32], t: &str) -> BackendResult<CopyOutcome> {
        self.0.copy(f, uids, t)
    }
    fn move_messages(&mut self, f: &str, uids: &[u32], t: &str) -> BackendResult<CopyOutcome> {
        self.0.move_messages(f, uids, t)
    }
    fn create(&mut self, n: &str, su: Option<SpecialUse>) -> BackendResult<()> {
        self.0.create(n, su)
    }
    fn delete(&mut self, n: &str) -> BackendResult<()> {
        self.0.delete(n)
    }
    fn rename(&mut self, f: &str, t: &str) -> BackendResult<()> {
        self.0.rename(f, t)
    }
    fn subscribe(&mut self, n: &str, on: bool) -> BackendResult<()> {
        self.0.subscribe(n, on)
    }
    fn subscriptions(&mut self) -> BackendResult<Vec<String>> {
        self.0.subscriptions()
    }
    fn changes(&mut self, m: &str, since: u64, known: u32) -> BackendResult<Changes> {
        self.0.changes(m, since, known)
    }
    fn quota(&mut self) -> BackendResult<Quota> {
        self.0.quota()
    }
    fn metas(&mut self, m: &str, uids: &[u32]) -> BackendResult<Vec<MessageMeta>> {
        self.0.metas(m, uids)
    }
    fn watch(&mut self, m: &str, w: Box<dyn Fn() + Send + Sync>) -> BackendResult<Subscription> {
        self.0.watch(m, w)
    }
}

struct FlakyAuth(Mem);

impl Authenticator for FlakyAuth {
    fn authenticate(&self, c: &Credentials) -> AuthOutcome {
        AuthOutcome::Success(Account {
            name: c.username.clone(),
            mailboxes: Box::new(Flaky(self.0.clone())),
        })
    }
}

/// An account with INBOX (holding M1 as UID 1, UIDVALIDITY 9) and Sent, logged in, with
/// an APPENDLIMIT of `limit`.
fn world(limit: u64) -> (Mem, Session) {
    let mem = Mem(Arc::new(Mutex::new(World::default())));
    let mut m = mem.clone();
    for n in ["INBOX", "Sent"] {
        let _ = m.create(n, None);
    }
    let _ = m.append(
        "INBOX",
        AppendRequest {
            flags: vec![],
            internal_date: None,
            message: M1.as_bytes().to_vec(),
        },
    );
    let mut cfg = SessionConfig::new("mx.example.test");
    cfg.plaintext_auth_on_loopback = true;
    cfg.limits = Limits::with_append_limit(limit);
    let mut s = Session::new(
        Arc::new(cfg),
        Arc::new(FlakyAuth(mem.clone())),
        "t".into(),
        IpAddr::from([127, 0, 0, 1]),
    );
    send(&mut s, "l LOGIN bob secret\r\n");
    (mem, s)
}

fn count(mem: &Mem, mailbox: &str) -> u32 {
    let mut m = mem.clone();
    m.status(mailbox).map(|s| s.messages).unwrap_or(99)
}

fn body(mem: &Mem, mailbox: &str, uid: u32) -> String {
    let mut m = mem.clone();
    String::from_utf8_lossy(&m.message(mailbox, uid).unwrap_or_default()).into_owned()
}

#[test]
fn multiappend_stores_every_message_with_one_appenduid() {
    let (mem, mut s) = world(10_000);
    let out = send(
        &mut s,
        "a APPEND Sent (\\Seen) {14}\r\nSubject: 1\r\n\r\n (\\Flagged) \"01-Jan-2020 10:00:00 +0100\" {14+}\r\nSubject: 2\r\n\r\n\r\n",
    );
    // RFC 3502 §6.3.11: one tagged reply; RFC 4315 §3: the UIDs as a set.
    assert_eq!(
        out,
        "+ Ready for literal data\r\na OK [APPENDUID 9 1:2] APPEND completed\r\n"
    );
    assert_eq!(count(&mem, "Sent"), 2);
    let out = send(&mut s, "b SELECT Sent\r\n");
    assert!(out.contains("* 2 EXISTS"), "{out}");
    let out = send(
        &mut s,
        "c FETCH 1:2 (FLAGS INTERNALDATE BODY.PEEK[HEADER])\r\n",
    );
    assert!(out.contains("* 1 FETCH (FLAGS (\\Seen \\Recent) "), "{out}");
    assert!(
        out.contains(
            "* 2 FETCH (FLAGS (\\Flagged \\Recent) INTERNALDATE \"01-Jan-2020 10:00:00 +0100\""
        ),
        "{out}"
    );
    assert!(out.contains("Subject: 2"), "{out}");
}

#[test]
fn multiappend_is_all_or_nothing() {
    let (mem, mut s) = world(10_000);
    let out = send(
        &mut s,
        "a APPEND Sent {14+}\r\nSubject: 1\r\n\r\n {17+}\r\nSubject: FAIL\r\n\r\n {14+}\r\nSubject: 3\r\n\r\n\r\n",
    );
    assert!(out.starts_with("a NO [OVERQUOTA]"), "{out}");
    assert_eq!(count(&mem, "Sent"), 0, "the first message was taken back");
    // A bad flag in the last message refuses the whole command before anything is stored.
    let out = send(
        &mut s,
        "b APPEND Sent {14+}\r\nSubject: 1\r\n\r\n (\\Seen {14+}\r\nSubject: 2\r\n\r\n\r\n",
    );
    assert!(out.starts_with("b BAD"), "{out}");
    let out = send(
        &mut s,
        "c APPEND Sent {14+}\r\nSubject: 1\r\n\r\n \"32-Jan-2020 10:00:00 +0100\" {14+}\r\nSubject: 2\r\n\r\n\r\n",
    );
    assert!(out.starts_with("c BAD"), "{out}");
    assert_eq!(count(&mem, "Sent"), 0);
}

#[test]
fn catenate_builds_a_message_from_urls_and_text() {
    let (mem, mut s) = world(10_000);
    // RFC 4469 §3: URL parts are the octets FETCH BODY[section] would give.
    let out = send(
        &mut s,
        "a APPEND Sent (\\Seen) CATENATE (URL \"/INBOX;UIDVALIDITY=9/;UID=1/;SECTION=HEADER.FIELDS%20(SUBJECT)\" TEXT {5+}\r\nnew\r\n URL \"/inbox/;uid=1/;section=1\" TEXT {2+}\r\n\r\n URL \"/INBOX/;UID=1/;SECTION=2/;PARTIAL=1.2\")\r\n",
    );
    assert_eq!(out, "a OK [APPENDUID 9 1] APPEND completed\r\n");
    assert_eq!(
        body(&mem, "Sent", 1),
        "Subject: first\r\n\r\nnew\r\nPart one.\r\nGk"
    );
    // Relative to the selected mailbox (RFC 4469 §3), mixed with MULTIAPPEND and a
    // plain literal.
    send(&mut s, "b SELECT INBOX\r\n");
    let out = send(
        &mut s,
        "c APPEND Sent CATENATE (URL \";UID=1/;SECTION=1.MIME\" URL \";uid=1/;section=1\") {5+}\r\nplain\r\n",
    );
    assert!(
        out.ends_with("c OK [APPENDUID 9 2:3] APPEND completed\r\n"),
        "{out}"
    );
    assert_eq!(
        body(&mem, "Sent", 2),
        "Content-Type: text/plain\r\n\r\nPart one."
    );
    assert_eq!(body(&mem, "Sent", 3), "plain");
    // A whole message, and URL as an atom.
    let out = send(&mut s, "d APPEND Sent CATENATE (URL /INBOX/;UID=1)\r\n");
    assert!(
        out.ends_with("d OK [APPENDUID 9 4] APPEND completed\r\n"),
        "{out}"
    );
    assert_eq!(body(&mem, "Sent", 4), M1);
    // CATENATE does not set \Seen on what it reads.
    let out = send(&mut s, "e FETCH 1 FLAGS\r\n");
    assert!(out.contains("FLAGS (") && !out.contains("\\Seen"), "{out}");
}

#[test]
fn catenate_urls_that_name_nothing_are_badurl() {
    let (mem, mut s) = world(10_000);
    for (url, why) in [
        ("/INBOX;UIDVALIDITY=8/;UID=1", "UIDVALIDITY changed"),
        ("/INBOX/;UID=2", "no such message"),
        ("/INBOX/;UID=1/;SECTION=5", "no such part"),
        ("/INBOX/;UID=1/;SECTION=FOO", "not a section"),
        ("/Nope/;UID=1", "no such mailbox"),
        (";UID=1", "relative, nothing selected"),
        ("imap://bob@mx.example.test/INBOX/;UID=1", "absolute"),
        ("/INBOX/;UID=1/;URLAUTH=anonymous", "URLAUTH"),
    ] {
        let out = send(
            &mut s,
            &format!(
                "a APPEND Sent CATENATE (TEXT {{4+}}\r\nhdr\n URL \"{url}\" TEXT {{1+}}\r\nx)\r\n"
            ),
        );
        assert_eq!(
            out,
            format!("a NO [BADURL {url}] CATENATE URL cannot be resolved\r\n"),
            "{why}"
        );
    }
    // The first bad URL is the one named (RFC 4469 §4.1); nothing is stored, even of the
    // other messages of the command.
    let out = send(
        &mut s,
        "b APPEND Sent {2+}\r\nok CATENATE (URL \"/INBOX/;UID=1\" URL \"/INBOX/;UID=7\" URL \"/INBOX/;UID=8\")\r\n",
    );
    assert_eq!(
        out,
        "b NO [BADURL /INBOX/;UID=7] CATENATE URL cannot be resolved\r\n"
    );
    assert_eq!(count(&mem, "Sent"), 0);
    // An unknown destination is TRYCREATE first, whatever the URLs (as Dovecot answers).
    let out = send(&mut s, "c APPEND Gone CATENATE (URL \"/INBOX/;UID=7\")\r\n");
    assert!(out.starts_with("c NO [TRYCREATE]"), "{out}");
    let out = send(&mut s, "d APPEND Gone CATENATE (URL \"/INBOX/;UID=1\")\r\n");
    assert!(out.starts_with("d NO [TRYCREATE]"), "{out}");
}

#[test]
fn catenate_limits() {
    let (mem, mut s) = world(300);
    // RFC 4469 §4.2: the catenated message is held to the APPENDLIMIT.
    let out = send(
        &mut s,
        "a APPEND Sent CATENATE (URL \"/INBOX/;UID=1\" URL \"/INBOX/;UID=1\")\r\n",
    );
    assert_eq!(out, "a NO [TOOBIG] Message is larger than APPENDLIMIT\r\n");
    let mut many = String::from("b APPEND Sent CATENATE (");
    for i in 0..=crate::wire::append::MAX_CATENATE_PARTS {
        many.push_str(if i == 0 { "URL x" } else { " URL x" });
    }
    many.push_str(")\r\n");
    let out = send(&mut s, &many);
    assert!(out.starts_with("b NO [LIMIT]"), "{out}");
    let out = send(&mut s, "c APPEND Sent CATENATE ()\r\n");
    assert!(out.starts_with("c BAD"), "{out}");
    assert_eq!(count(&mem, "Sent"), 0);
}

#[test]
fn literal8_binary_part_comes_back_exact() {
    let (mem, mut s) = world(10_000);
    let msg = b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\0-\xe4\n\r\n\n";
    let mut cmd = format!("a APPEND Sent ~{{{}+}}\r\n", msg.len()).into_bytes();
    cmd.extend_from_slice(msg);
    cmd.extend_from_slice(b"\r\n");
    s.feed(&cmd);
    while s.advance().is_some() {}
    let out = String::from_utf8_lossy(&s.take_output()).into_owned();
    assert!(out.starts_with("a OK [APPENDUID 9 1]"), "{out}");
    send(&mut s, "b SELECT Sent\r\n");
    s.feed(b"c FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1] RFC822.SIZE BODY.PEEK[1])\r\n");
    while s.advance().is_some() {}
    let out = s.take_output();
    // RFC 3516 §4.4: no data lost; §6: BODY[1] in an encoding IMAP can carry.
    let want = b"* 1 FETCH (BINARY.SIZE[1] 7 BINARY[1] ~{7}\r\n\0-\xe4\n\r\n\n RFC822.SIZE ";
    assert!(out.starts_with(want), "{}", String::from_utf8_lossy(&out));
    assert!(
        memchr::memmem::find(&out, b"BODY[1] {14}\r\nAC3kCg0KCg==\r\n)").is_some(),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let stored = body(&mem, "Sent", 1);
    assert!(
        stored.contains("Content-Transfer-Encoding: base64\r\n"),
        "{stored}"
    );
}
