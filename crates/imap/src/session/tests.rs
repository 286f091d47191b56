//! Session behaviour, as a client sees it.

use super::*;
use crate::backend::*;
use std::sync::Mutex;

/// Accepts user "alice" with password "secret"; "down" is a temporary failure.
struct TestAuth {
    changes: Arc<Mutex<Changes>>,
}

struct TestBackend {
    changes: Arc<Mutex<Changes>>,
}

fn nope<T>() -> BackendResult<T> {
    Err(BackendError::Cannot("test backend".into()))
}

impl MailboxBackend for TestBackend {
    fn list(&mut self) -> BackendResult<Vec<MailboxInfo>> {
        nope()
    }
    fn status(&mut self, _: &str) -> BackendResult<MailboxStatus> {
        nope()
    }
    fn select(&mut self, _: &str, _: bool) -> BackendResult<Selected> {
        nope()
    }
    fn message(&mut self, _: &str, _: u32) -> BackendResult<Vec<u8>> {
        nope()
    }
    fn metas(&mut self, _: &str, _: &[u32]) -> BackendResult<Vec<MessageMeta>> {
        nope()
    }
    fn store(&mut self, _: &str, _: &StoreRequest) -> BackendResult<StoreOutcome> {
        nope()
    }
    fn expunge(&mut self, _: &str, _: Option<&[u32]>) -> BackendResult<Vec<u32>> {
        nope()
    }
    fn append(&mut self, _: &str, _: AppendRequest) -> BackendResult<AppendOutcome> {
        nope()
    }
    fn copy(&mut self, _: &str, _: &[u32], _: &str) -> BackendResult<CopyOutcome> {
        nope()
    }
    fn move_messages(&mut self, _: &str, _: &[u32], _: &str) -> BackendResult<CopyOutcome> {
        nope()
    }
    fn create(&mut self, _: &str, _: Option<SpecialUse>) -> BackendResult<()> {
        nope()
    }
    fn delete(&mut self, _: &str) -> BackendResult<()> {
        nope()
    }
    fn rename(&mut self, _: &str, _: &str) -> BackendResult<()> {
        nope()
    }
    fn subscribe(&mut self, _: &str, _: bool) -> BackendResult<()> {
        nope()
    }
    fn subscriptions(&mut self) -> BackendResult<Vec<String>> {
        nope()
    }
    fn changes(&mut self, _: &str, _: u64, _: u32) -> BackendResult<Changes> {
        Ok(std::mem::take(
            &mut *self
                .changes
                .lock()
                .map_err(|_| BackendError::Internal("lock".into()))?,
        ))
    }
    fn quota(&mut self) -> BackendResult<Quota> {
        nope()
    }
    fn watch(&mut self, _: &str, wake: Box<dyn Fn() + Send + Sync>) -> BackendResult<Subscription> {
        wake();
        Ok(Subscription(Box::new(())))
    }
}

impl Authenticator for TestAuth {
    fn authenticate(&self, c: &Credentials) -> AuthOutcome {
        if c.username == "down" {
            return AuthOutcome::Unavailable("db down".into());
        }
        if c.username == "alice" && c.password == "secret" {
            AuthOutcome::Success(Account {
                name: "alice@example.test".into(),
                mailboxes: Box::new(TestBackend {
                    changes: self.changes.clone(),
                }),
            })
        } else {
            AuthOutcome::Failed
        }
    }
}

struct T {
    s: Session,
    changes: Arc<Mutex<Changes>>,
}

fn session_with(ip: &str, tls_available: bool, loopback_auth: bool, limits: Limits) -> T {
    let mut cfg = SessionConfig::new("mx.example.test");
    cfg.tls_available = tls_available;
    cfg.plaintext_auth_on_loopback = loopback_auth;
    cfg.limits = limits;
    let changes = Arc::new(Mutex::new(Changes::default()));
    let auth = Arc::new(TestAuth {
        changes: changes.clone(),
    });
    let ip: IpAddr = ip.parse().unwrap_or(IpAddr::from([192, 0, 2, 1]));
    T {
        s: Session::new(Arc::new(cfg), auth, "s1".into(), ip),
        changes,
    }
}

fn remote() -> T {
    session_with("192.0.2.7", true, false, Limits::default())
}

fn loopback() -> T {
    session_with("127.0.0.1", false, true, Limits::default())
}

impl T {
    /// Sends input, runs the session, returns (output, actions).
    fn send(&mut self, input: &str) -> (String, Vec<Action>) {
        self.send_bytes(input.as_bytes())
    }

    fn send_bytes(&mut self, input: &[u8]) -> (String, Vec<Action>) {
        self.s.feed(input);
        let mut actions = Vec::new();
        while let Some(mut a) = self.s.advance() {
            if a == Action::Authenticate {
                // What the server does, without the ledger: check, then answer.
                actions.push(Action::Authenticate);
                let outcome = self.s.check_credentials();
                match self.s.auth_answer(outcome) {
                    Some(next) => a = next,
                    None => continue,
                }
            }
            let stop = a == Action::Close || a == Action::StartTls;
            actions.push(a);
            if stop {
                break;
            }
        }
        (
            String::from_utf8_lossy(&self.s.take_output()).into_owned(),
            actions,
        )
    }

    fn out(&mut self, input: &str) -> String {
        self.send(input).0
    }

    fn login(&mut self) {
        let out = self.out("l LOGIN alice secret\r\n");
        assert!(out.contains("l OK [CAPABILITY"), "{out}");
    }
}

#[test]
fn greeting_offers_starttls_and_disables_login_without_tls() {
    let mut t = remote();
    t.s.greeting();
    let g = String::from_utf8(t.s.take_output()).unwrap_or_default();
    assert!(
        g.starts_with("* OK [CAPABILITY IMAP4rev2 IMAP4REV1 STARTTLS LOGINDISABLED "),
        "{g}"
    );
    assert!(
        g.ends_with("] mx.example.test mailward IMAP4rev2 server ready\r\n"),
        "{g}"
    );
    assert!(!g.contains("AUTH=PLAIN"));
}

#[test]
fn capability_noop_and_logout() {
    let mut t = remote();
    let out = t.out("a CAPABILITY\r\nb NOOP\r\n");
    assert!(
        out.starts_with("* CAPABILITY IMAP4rev2 IMAP4REV1 STARTTLS LOGINDISABLED"),
        "{out}"
    );
    assert!(
        out.contains("\r\na OK CAPABILITY completed\r\nb OK NOOP completed\r\n"),
        "{out}"
    );
    let (out, actions) = t.send("c LOGOUT\r\nd NOOP\r\n");
    assert_eq!(out, "* BYE Logging out\r\nc OK LOGOUT completed\r\n");
    assert_eq!(actions, vec![Action::Close]);
    assert!(t.s.is_closed());
}

#[test]
fn login_without_tls_is_refused() {
    let mut t = remote();
    let out = t.out("a LOGIN alice secret\r\nb AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    assert_eq!(
        out,
        "a NO [PRIVACYREQUIRED] Plaintext authentication disallowed without TLS\r\nb NO [PRIVACYREQUIRED] Authentication disallowed without TLS\r\n"
    );
    assert_eq!(t.s.user(), None);
}

#[test]
fn login_on_loopback_when_allowed() {
    let mut t = loopback();
    let out = t.out("a CAPABILITY\r\n");
    assert!(out.contains(" AUTH=PLAIN SASL-IR "), "{out}");
    assert!(!out.contains("STARTTLS"));
    let out = t.out("b LOGIN alice secret\r\n");
    assert!(
        out.starts_with("b OK [CAPABILITY IMAP4rev2 IMAP4REV1 LITERAL+"),
        "{out}"
    );
    assert!(out.ends_with("] Logged in\r\n"));
    assert_eq!(t.s.user(), Some("alice@example.test"));
    assert_eq!(t.s.state(), &State::Authenticated);
    let out = t.out("c LOGIN alice secret\r\n");
    assert_eq!(out, "c BAD Already authenticated\r\n");
}

#[test]
fn login_with_literals() {
    let mut t = loopback();
    assert_eq!(t.out("a LOGIN {5}\r\n"), "+ Ready for literal data\r\n");
    assert_eq!(t.out("alice {6}\r\n"), "+ Ready for literal data\r\n");
    let out = t.out("secret\r\n");
    assert!(out.starts_with("a OK [CAPABILITY"), "{out}");
}

#[test]
fn authenticate_plain_with_initial_response() {
    let mut t = loopback();
    // base64("\0alice\0secret")
    let out = t.out("a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    assert!(out.starts_with("a OK [CAPABILITY"), "{out}");
    assert_eq!(t.s.user(), Some("alice@example.test"));
}

#[test]
fn authenticate_plain_with_challenge_and_cancel() {
    let mut t = loopback();
    assert_eq!(t.out("a AUTHENTICATE PLAIN\r\n"), "+ \r\n");
    assert_eq!(t.out("*\r\n"), "a BAD Authentication cancelled\r\n");
    assert_eq!(t.out("b AUTHENTICATE PLAIN\r\n"), "+ \r\n");
    assert_eq!(t.out("!!!\r\n"), "b BAD Invalid base64 data\r\n");
    assert_eq!(t.out("c AUTHENTICATE PLAIN\r\n"), "+ \r\n");
    let out = t.out("AGFsaWNlAHNlY3JldA==\r\n");
    assert!(out.starts_with("c OK [CAPABILITY"), "{out}");
}

#[test]
fn other_mechanisms_and_proxy_authorization_are_refused() {
    let mut t = loopback();
    assert_eq!(
        t.out("a AUTHENTICATE CRAM-MD5\r\n"),
        "a NO [CANNOT] Unsupported authentication mechanism\r\n"
    );
    // base64("bob\0alice\0secret")
    let (out, actions) = t.send("b AUTHENTICATE PLAIN Ym9iAGFsaWNlAHNlY3JldA==\r\n");
    assert_eq!(out, "b NO [AUTHORIZATIONFAILED] Authentication failed\r\n");
    // Refused before any check: counted by the driver, never verified.
    assert_eq!(
        actions,
        vec![Action::AuthFailed {
            user: String::new(),
            failures: 1
        }]
    );
}

#[test]
fn failed_logins_are_counted_and_end_the_session() {
    let mut t = loopback();
    // The password is checked by the driver (through the shared ledger), never inside
    // `advance`; the answer waits for it.
    let (out, actions) = t.send("a LOGIN alice wrong\r\n");
    assert_eq!(out, "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
    assert_eq!(actions, vec![Action::Authenticate]);
    let (_, actions) = t.send("b LOGIN bob x\r\n");
    assert_eq!(actions, vec![Action::Authenticate]);
    let (out, actions) = t.send("c LOGIN alice nope\r\n");
    assert_eq!(
        out,
        "c NO [AUTHENTICATIONFAILED] Authentication failed\r\n* BYE Too many authentication failures\r\n"
    );
    assert_eq!(actions, vec![Action::Authenticate, Action::Close]);
    assert_eq!(t.s.auth_failures(), 3);
}

#[test]
fn unavailable_authentication_is_not_a_failure() {
    let mut t = loopback();
    let (out, actions) = t.send("a LOGIN down x\r\n");
    assert_eq!(
        out,
        "a NO [UNAVAILABLE] Temporary authentication failure, try again later\r\n"
    );
    assert_eq!(actions, vec![Action::Authenticate], "nothing to count");
    assert_eq!(t.s.auth_failures(), 0);
}

#[test]
fn starttls_drops_pipelined_input_and_enables_auth() {
    let mut t = remote();
    let (out, actions) = t.send("a STARTTLS\r\nb LOGIN alice secret\r\n");
    assert_eq!(out, "a OK Begin TLS negotiation now\r\n");
    assert_eq!(actions, vec![Action::StartTls]);
    // Input before the handshake is ignored.
    assert_eq!(t.out("c NOOP\r\n"), "");
    t.s.tls_established();
    let out = t.out("d CAPABILITY\r\n");
    assert!(out.contains(" AUTH=PLAIN SASL-IR "), "{out}");
    assert!(
        !out.contains("STARTTLS") && !out.contains("LOGINDISABLED"),
        "{out}"
    );
    assert_eq!(t.out("e STARTTLS\r\n"), "e BAD TLS is already active\r\n");
    t.login();
}

#[test]
fn starttls_without_certificate() {
    let mut t = loopback();
    assert_eq!(
        t.out("a STARTTLS\r\n"),
        "a NO [CANNOT] TLS is not available\r\n"
    );
}

#[test]
fn commands_need_the_right_state() {
    let mut t = loopback();
    assert_eq!(
        t.out("a SELECT INBOX\r\n"),
        "a BAD SELECT not allowed now: log in first\r\n"
    );
    assert_eq!(
        t.out("b ENABLE CONDSTORE\r\n"),
        "b BAD ENABLE not allowed now: log in first\r\n"
    );
    t.login();
    assert_eq!(
        t.out("c FETCH 1 FLAGS\r\n"),
        "c BAD FETCH not allowed now: select a mailbox first\r\n"
    );
    assert_eq!(
        t.out("d SELECT INBOX\r\n"),
        "d NO [CANNOT] test backend\r\n"
    );
}

#[test]
fn enable_lists_what_it_turned_on() {
    let mut t = loopback();
    t.login();
    let out = t.out("a ENABLE CONDSTORE UTF8=ACCEPT IMAP4rev2 X-UNKNOWN\r\n");
    assert_eq!(
        out,
        "* ENABLED CONDSTORE UTF8=ACCEPT IMAP4rev2\r\na OK ENABLE completed\r\n"
    );
    let e = t.s.enabled();
    assert!(e.condstore && e.utf8_accept && e.imap4rev2 && e.utf8_names());
    assert_eq!(
        t.out("b ENABLE CONDSTORE\r\n"),
        "* ENABLED\r\nb OK ENABLE completed\r\n"
    );
}

#[test]
fn enable_is_refused_once_selected() {
    let mut t = loopback();
    t.login();
    t.s.set_selected(SelectedMailbox {
        name: "INBOX".into(),
        read_only: false,
        uid_validity: 1,
        uid_next: 1,
        highest_modseq: 1,
        uids: Default::default(),
        recent: Vec::new(),
    });
    assert_eq!(
        t.out("a ENABLE CONDSTORE\r\n"),
        "a BAD ENABLE is allowed only before SELECT\r\n"
    );
}

#[test]
fn namespace_is_personal_with_slash() {
    let mut t = loopback();
    t.login();
    assert_eq!(
        t.out("a NAMESPACE\r\n"),
        "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\na OK NAMESPACE completed\r\n"
    );
}

#[test]
fn id_exchanges_fields() {
    let mut t = remote();
    let out = t.out("a ID (\"name\" \"Thunderbird\" \"version\" NIL)\r\n");
    assert!(
        out.starts_with("* ID (\"name\" \"mailward\" \"version\" \""),
        "{out}"
    );
    assert!(out.ends_with("a OK ID completed\r\n"));
    assert_eq!(
        t.s.client_id(),
        &[
            ("name".to_string(), Some("Thunderbird".to_string())),
            ("version".to_string(), None)
        ]
    );
    let long = format!("b ID (\"{}\" \"x\")\r\n", "f".repeat(31));
    assert_eq!(t.out(&long), "b BAD ID field or value too long\r\n");
    assert!(t.out("c ID NIL\r\n").ends_with("c OK ID completed\r\n"));
}

#[test]
fn idle_until_done() {
    let mut t = loopback();
    t.login();
    let (out, actions) = t.send("a IDLE\r\n");
    assert_eq!(out, "+ idling\r\n");
    assert_eq!(actions, vec![Action::Idle]);
    assert!(t.s.is_idling());
    assert_eq!(t.s.read_timeout(), Limits::default().idle_command_timeout);
    assert_eq!(t.out("done\r\n"), "a OK IDLE terminated\r\n");
    assert!(!t.s.is_idling());
    t.send("b IDLE\r\n");
    assert_eq!(t.out("NOOP\r\n"), "b BAD Expected DONE\r\n");
}

#[test]
fn idle_reports_changes_of_the_selected_mailbox() {
    let mut t = loopback();
    t.login();
    t.out("e ENABLE CONDSTORE\r\n");
    t.s.set_selected(SelectedMailbox {
        name: "INBOX".into(),
        read_only: false,
        uid_validity: 7,
        uid_next: 4,
        highest_modseq: 10,
        uids: std::sync::Arc::new(vec![1, 2, 3]),
        recent: Vec::new(),
    });
    let meta = |uid, flags: Vec<Flag>| MessageMeta {
        uid,
        flags,
        modseq: 12,
        internal_date: 0,
        internal_date_offset_minutes: 0,
        size: 10,
    };
    if let Ok(mut c) = t.changes.lock() {
        *c = Changes {
            expunged: vec![2],
            added: vec![meta(5, vec![])],
            flags_changed: vec![meta(3, vec![Flag::Seen, Flag::Keyword("$Junk".into())])],
            uid_next: 6,
            highest_modseq: 12,
        };
    }
    let (_, actions) = t.send("a IDLE\r\n");
    assert_eq!(actions, vec![Action::Idle]);
    let woken = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let w = woken.clone();
    let sub = t.s.watch(Box::new(move || {
        w.store(true, std::sync::atomic::Ordering::SeqCst)
    }));
    assert!(sub.is_some() && woken.load(std::sync::atomic::Ordering::SeqCst));
    t.s.poll_changes();
    let out = String::from_utf8(t.s.take_output()).unwrap_or_default();
    // RFC 7162 §3.2.4: under CONDSTORE, unsolicited FETCH responses carry UID and MODSEQ.
    assert_eq!(
        out,
        "* 2 EXPUNGE\r\n* 3 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk \\*)] Flags permitted.\r\n* 2 FETCH (UID 3 FLAGS (\\Seen $Junk) MODSEQ (12))\r\n"
    );
    assert_eq!(t.out("DONE\r\n"), "a OK IDLE terminated\r\n");
    let Some(State::Selected(sel)) = Some(t.s.state().clone()) else {
        panic!("not selected")
    };
    assert_eq!(*sel.uids, vec![1, 3, 5]);
    assert_eq!((sel.uid_next, sel.highest_modseq), (6, 12));
}

#[test]
fn idle_under_qresync_reports_vanished() {
    let mut t = loopback();
    t.login();
    assert_eq!(
        t.out("e ENABLE QRESYNC\r\n"),
        "* ENABLED QRESYNC\r\ne OK ENABLE completed\r\n"
    );
    t.s.set_selected(SelectedMailbox {
        name: "INBOX".into(),
        read_only: false,
        uid_validity: 7,
        uid_next: 9,
        highest_modseq: 10,
        uids: std::sync::Arc::new(vec![1, 2, 3, 5, 8]),
        recent: Vec::new(),
    });
    if let Ok(mut c) = t.changes.lock() {
        *c = Changes {
            // 4 was never known to this session: not reported.
            expunged: vec![5, 2, 3, 4],
            uid_next: 9,
            highest_modseq: 12,
            ..Changes::default()
        };
    }
    t.send("a IDLE\r\n");
    t.s.poll_changes();
    let out = String::from_utf8(t.s.take_output()).unwrap_or_default();
    // RFC 7162 §3.2.10: VANISHED, never EXPUNGE; the sequence numbers shift alike.
    assert_eq!(out, "* VANISHED 2:3,5\r\n");
    let Some(State::Selected(sel)) = Some(t.s.state().clone()) else {
        panic!("not selected")
    };
    assert_eq!(*sel.uids, vec![1, 8]);
    assert_eq!(t.out("DONE\r\n"), "a OK IDLE terminated\r\n");
}

#[test]
fn enable_qresync_implies_condstore() {
    let mut t = loopback();
    t.login();
    assert_eq!(
        t.out("a ENABLE QRESYNC CONDSTORE\r\n"),
        "* ENABLED QRESYNC CONDSTORE\r\na OK ENABLE completed\r\n"
    );
    let e = t.s.enabled();
    assert!(e.qresync && e.condstore);
    assert_eq!(
        t.out("b ENABLE CONDSTORE QRESYNC\r\n"),
        "* ENABLED\r\nb OK ENABLE completed\r\n"
    );
    let mut t = loopback();
    t.login();
    t.out("c ENABLE QRESYNC\r\n");
    assert!(t.s.enabled().condstore, "QRESYNC alone turns CONDSTORE on");
    let out = t.out("d CAPABILITY\r\n");
    assert!(out.contains(" CONDSTORE QRESYNC "), "{out}");
}

#[test]
fn bad_input_gets_bad_and_too_much_closes() {
    let limits = Limits {
        max_bad_commands: 3,
        ..Limits::default()
    };
    let mut t = session_with("127.0.0.1", false, true, limits);
    assert_eq!(t.out("a FROB\r\n"), "a BAD Unknown command FROB\r\n");
    assert_eq!(
        t.out("\r\n"),
        "* BAD Error in IMAP command: not a command\r\n"
    );
    let (out, actions) = t.send("b LOGIN\r\n");
    assert_eq!(
        out,
        "b BAD Error in IMAP command LOGIN: invalid arguments\r\n* BYE Too many invalid IMAP commands.\r\n"
    );
    assert_eq!(actions, vec![Action::Close]);
}

#[test]
fn literal_limits_before_and_after_login() {
    let limits = Limits::with_append_limit(1000);
    let mut t = session_with("127.0.0.1", false, true, limits);
    assert_eq!(
        t.out("a LOGIN {9000}\r\n"),
        "a BAD [TOOBIG] Literal too large\r\n"
    );
    t.login();
    assert_eq!(
        t.out("b APPEND INBOX {2000}\r\n"),
        "b NO [TOOBIG] Message is larger than APPENDLIMIT\r\n"
    );
    // A non-synchronizing one is skipped without losing step.
    let mut input = b"c APPEND INBOX {2000+}\r\n".to_vec();
    input.extend_from_slice(&[b'x'; 2000]);
    input.extend_from_slice(b"\r\nd NOOP\r\n");
    let (out, _) = t.send_bytes(&input);
    assert_eq!(
        out,
        "c NO [TOOBIG] Message is larger than APPENDLIMIT\r\nd OK NOOP completed\r\n"
    );
    let out = t.out("e CAPABILITY\r\n");
    assert!(out.contains(" APPENDLIMIT=1000 "), "{out}");
}

#[test]
fn long_lines_are_refused() {
    let mut t = loopback();
    let line = format!("a NOOP {}\r\nb NOOP\r\n", "x".repeat(70_000));
    assert_eq!(
        t.out(&line),
        "a BAD [TOOBIG] Command line too long\r\nb OK NOOP completed\r\n"
    );
}

#[test]
fn timeouts_follow_the_state() {
    let mut t = loopback();
    let before_login = t.s.read_timeout();
    assert!(before_login <= Limits::default().login_timeout);
    assert!(before_login + std::time::Duration::from_secs(5) > Limits::default().login_timeout);
    t.login();
    assert_eq!(t.s.read_timeout(), Limits::default().idle_timeout);
    assert_eq!(t.s.idle_timed_out(), Some(Action::Close));
    assert_eq!(
        String::from_utf8(t.s.take_output()).unwrap_or_default(),
        "* BYE Disconnected for inactivity\r\n"
    );
}

/// Issue 12: before login, each literal was capped at 8 KiB but a command could chain them
/// up to APPENDLIMIT + 64 KiB, so one connection pinned ~64 MiB indefinitely.
#[test]
fn regress_a_command_before_login_cannot_chain_literals_past_a_small_budget() {
    let mut t = loopback();
    let mut input = b"a LOGIN {8000+}\r\n".to_vec();
    for _ in 0..20 {
        input.extend_from_slice(&[b'x'; 8000]);
        input.extend_from_slice(b" {8000+}\r\n");
    }
    t.send_bytes(&input);
    let held = t.s.framer_buffered();
    assert!(
        held <= Limits::default().max_command_unauthenticated as usize + 8192,
        "{held} octets held for one command before login"
    );
    let (out, _) = t.send_bytes(&[[b'x'; 8000].as_slice(), b"\r\n"].concat());
    assert!(out.contains("a BAD [TOOBIG]"), "{out}");
}

/// Before login, a client that stopped reading was given the 30-minute idle timeout for
/// each write; now a write waits at most for what is left of the login deadline.
#[test]
fn regress_writes_before_login_outlast_the_login_deadline() {
    let mut t = loopback();
    assert!(t.s.write_timeout() <= Limits::default().login_timeout);
    t.out("a LOGIN alice secret\r\n");
    assert_eq!(t.s.write_timeout(), Limits::default().write_timeout);
}
