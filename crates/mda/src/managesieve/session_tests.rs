//! The session driven without sockets: a fake password check, a real [`SieveFiles`] in a
//! temp directory and a fake compiler that refuses scripts containing `bad`.

use super::checker::ScriptChecker;
use super::ops;
use super::session::{LoginOutcome, Session, SessionConfig, Step};
use super::wire::{self, Parsed, WireLimits};
use mailward_event::{Protocol, Scope};
use mailward_store::{SieveFiles, SieveQuota};
use std::sync::Arc;

struct FakeChecker;

impl ScriptChecker for FakeChecker {
    fn check(&self, script: &str) -> Result<Vec<String>, String> {
        match script.find("bad") {
            Some(i) => Err(format!("{}:1: unknown command 'bad'", i + 1)),
            None if script.contains("warn") => Ok(vec!["a warning".into()]),
            None => Ok(Vec::new()),
        }
    }
}

struct Harness {
    session: Session,
    files: SieveFiles,
    input: Vec<u8>,
    closed: bool,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new(ip: &str, tls: bool) -> Harness {
        Harness::with(ip, tls, SieveQuota::default(), WireLimits::default())
    }

    fn with(ip: &str, tls: bool, quota: SieveQuota, wire: WireLimits) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SessionConfig {
            tls_available: true,
            sieve_extensions: "fileinto vacation".into(),
            notify_methods: "mailto".into(),
            wire,
            ..SessionConfig::default()
        };
        let scope = Scope::connection(Protocol::ManageSieve, "test", ip.parse().unwrap());
        Harness {
            session: Session::new(Arc::new(cfg), scope, tls),
            files: SieveFiles::new(dir.path().join("sieve"), quota),
            input: Vec::new(),
            closed: false,
            _dir: dir,
        }
    }

    /// Sends bytes and returns everything the server answers until it wants more input.
    fn send(&mut self, bytes: &[u8]) -> String {
        self.input.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            let step = match wire::parse(&self.input, self.session.wire_limits()) {
                Err(e) => self.session.fatal(&e),
                Ok(Parsed::Command(t, n)) => {
                    self.input.drain(..n);
                    self.session.line(t)
                }
                Ok(Parsed::Bad(e, n)) => {
                    self.input.drain(..n);
                    self.session.bad_line(&e)
                }
                Ok(Parsed::Incomplete) => break,
            };
            let mut step = step;
            loop {
                match step {
                    Step::Reply(b) => {
                        out.extend(b);
                        break;
                    }
                    Step::StartTls(b) => {
                        out.extend(b);
                        out.extend(self.session.tls_established());
                        break;
                    }
                    Step::Close(b) => {
                        out.extend(b);
                        self.closed = true;
                        return String::from_utf8(out).unwrap();
                    }
                    Step::Login { credentials, .. } => {
                        let outcome = if credentials.password == "secret" {
                            LoginOutcome::Ok(credentials.username.clone())
                        } else {
                            LoginOutcome::BadCredentials
                        };
                        step = self.session.login_result(&credentials.username, outcome);
                    }
                    Step::Run { user, op } => {
                        step = Step::Reply(ops::run(
                            op,
                            &user,
                            &self.files,
                            &FakeChecker,
                            &self.session.scope,
                        ));
                    }
                }
            }
        }
        String::from_utf8(out).unwrap()
    }

    fn login(&mut self) {
        // "\0alice@example.test\0secret"
        let r = self.send(b"AUTHENTICATE \"PLAIN\" \"AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\"\r\n");
        assert_eq!(r, "OK \"Logged in\"\r\n");
    }
}

#[test]
fn greeting_lists_capabilities_and_starttls_until_tls() {
    let mut h = Harness::new("192.0.2.1", false);
    let g = String::from_utf8(h.session.greeting()).unwrap();
    assert!(g.starts_with("\"IMPLEMENTATION\" \"mailward\"\r\n"), "{g}");
    assert!(g.contains("\"SASL\" \"\"\r\n"), "{g}");
    assert!(g.contains("\"SIEVE\" \"fileinto vacation\"\r\n"));
    assert!(g.contains("\"STARTTLS\"\r\n"));
    assert!(g.contains("\"NOTIFY\" \"mailto\"\r\n"));
    assert!(g.contains("\"MAXREDIRECTS\" \"4\"\r\n"));
    assert!(g.contains("\"VERSION\" \"1.0\"\r\n"));
    assert!(g.ends_with("OK \"mailward ManageSieve ready\"\r\n"));
    // RFC 5804 §2.2: capabilities again after STARTTLS, without STARTTLS, with SASL.
    let r = h.send(b"STARTTLS\r\n");
    assert!(r.starts_with("OK \"Begin TLS negotiation now\"\r\n"), "{r}");
    assert!(!r.contains("\"STARTTLS\""), "{r}");
    assert!(r.contains("\"SASL\" \"PLAIN LOGIN\"\r\n"), "{r}");
}

#[test]
fn authenticate_before_tls_is_refused_off_loopback() {
    let mut h = Harness::new("192.0.2.1", false);
    let r = h.send(b"AUTHENTICATE \"PLAIN\" \"AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\"\r\n");
    assert!(r.starts_with("NO (ENCRYPT-NEEDED)"), "{r}");
    assert_eq!(h.session.user(), None);
    let mut h = Harness::new("127.0.0.1", false);
    h.login();
}

#[test]
fn plain_with_a_continuation_and_login_mechanism() {
    let mut h = Harness::new("127.0.0.1", false);
    assert_eq!(h.send(b"AUTHENTICATE \"PLAIN\"\r\n"), "\"\"\r\n");
    assert_eq!(
        h.send(b"{36+}\r\nAGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\r\n"),
        "OK \"Logged in\"\r\n"
    );
    assert_eq!(h.send(b"UNAUTHENTICATE\r\n"), "OK\r\n");
    assert_eq!(
        h.send(b"AUTHENTICATE \"LOGIN\"\r\n"),
        "\"VXNlcm5hbWU6\"\r\n"
    );
    assert_eq!(
        h.send(b"\"YWxpY2VAZXhhbXBsZS50ZXN0\"\r\n"),
        "\"UGFzc3dvcmQ6\"\r\n"
    );
    assert_eq!(h.send(b"\"c2VjcmV0\"\r\n"), "OK \"Logged in\"\r\n");
    assert_eq!(h.session.user(), Some("alice@example.test"));
}

#[test]
fn a_wrong_password_and_a_cancel_are_no() {
    let mut h = Harness::new("127.0.0.1", false);
    // "\0alice@example.test\0wrong"
    let r = h.send(b"AUTHENTICATE \"PLAIN\" \"AGFsaWNlQGV4YW1wbGUudGVzdAB3cm9uZw==\"\r\n");
    assert_eq!(r, "NO \"Authentication failed\"\r\n");
    h.send(b"AUTHENTICATE \"PLAIN\"\r\n");
    assert_eq!(h.send(b"\"*\"\r\n"), "NO \"authentication cancelled\"\r\n");
    assert!(
        h.send(b"LISTSCRIPTS\r\n")
            .starts_with("NO \"authenticate first\"")
    );
}

#[test]
fn script_commands_round_trip() {
    let mut h = Harness::new("127.0.0.1", false);
    h.login();
    assert_eq!(h.send(b"PUTSCRIPT \"main\" {5+}\r\nkeep;\r\n"), "OK\r\n");
    assert_eq!(h.send(b"PUTSCRIPT \"b\" \"discard;\"\r\n"), "OK\r\n");
    assert_eq!(h.send(b"LISTSCRIPTS\r\n"), "\"b\"\r\n\"main\"\r\nOK\r\n");
    assert_eq!(h.send(b"SETACTIVE \"main\"\r\n"), "OK\r\n");
    assert_eq!(
        h.send(b"LISTSCRIPTS\r\n"),
        "\"b\"\r\n\"main\" ACTIVE\r\nOK\r\n"
    );
    assert_eq!(h.send(b"GETSCRIPT \"main\"\r\n"), "{5}\r\nkeep;\r\nOK\r\n");
    assert!(
        h.send(b"DELETESCRIPT \"main\"\r\n")
            .starts_with("NO (ACTIVE)")
    );
    assert!(
        h.send(b"GETSCRIPT \"zz\"\r\n")
            .starts_with("NO (NONEXISTENT)")
    );
    assert!(
        h.send(b"SETACTIVE \"zz\"\r\n")
            .starts_with("NO (NONEXISTENT)")
    );
    assert!(
        h.send(b"RENAMESCRIPT \"main\" \"b\"\r\n")
            .starts_with("NO (ALREADYEXISTS)")
    );
    assert_eq!(h.send(b"RENAMESCRIPT \"main\" \"c\"\r\n"), "OK\r\n");
    assert_eq!(
        h.send(b"LISTSCRIPTS\r\n"),
        "\"b\"\r\n\"c\" ACTIVE\r\nOK\r\n"
    );
    assert_eq!(h.send(b"SETACTIVE \"\"\r\n"), "OK\r\n");
    assert_eq!(h.send(b"DELETESCRIPT \"c\"\r\n"), "OK\r\n");
    assert_eq!(h.send(b"HAVESPACE \"x\" 100\r\n"), "OK\r\n");
    assert_eq!(h.send(b"NOOP \"t1\"\r\n"), "OK (TAG \"t1\") \"Done\"\r\n");
    assert_eq!(h.send(b"LOGOUT\r\n"), "OK \"Bye\"\r\n");
    assert!(h.closed);
}

#[test]
fn an_invalid_script_is_no_with_line_and_column_and_not_stored() {
    let mut h = Harness::new("127.0.0.1", false);
    h.login();
    let r = h.send(b"PUTSCRIPT \"x\" {4+}\r\nbad;\r\n");
    assert_eq!(r, "NO \"1:1: unknown command 'bad'\"\r\n");
    assert_eq!(h.send(b"LISTSCRIPTS\r\n"), "OK\r\n");
    assert!(
        h.send(b"CHECKSCRIPT \"  bad\"\r\n")
            .starts_with("NO \"3:1:")
    );
    assert_eq!(h.send(b"CHECKSCRIPT \"keep;\"\r\n"), "OK\r\n");
    assert_eq!(
        h.send(b"PUTSCRIPT \"w\" \"warn\"\r\n"),
        "OK (WARNINGS) \"a warning\"\r\n"
    );
    assert!(
        h.send(b"PUTSCRIPT \"u\" {1+}\r\n\xff\r\n")
            .starts_with("NO \"the script is not UTF-8")
    );
    assert!(
        h.send(b"PUTSCRIPT \"a/b\" \"keep;\"\r\n")
            .starts_with("NO \"invalid script name")
    );
}

#[test]
fn quotas_answer_with_their_codes() {
    let quota = SieveQuota {
        max_scripts: 1,
        max_script_size: 10,
        max_total_size: 100,
    };
    let mut h = Harness::with("127.0.0.1", false, quota, WireLimits::default());
    h.login();
    assert!(
        h.send(b"HAVESPACE \"a\" 11\r\n")
            .starts_with("NO (QUOTA/MAXSIZE)")
    );
    assert!(
        h.send(b"PUTSCRIPT \"a\" \"keep; keep;\"\r\n")
            .starts_with("NO (QUOTA/MAXSIZE)")
    );
    assert_eq!(h.send(b"PUTSCRIPT \"a\" \"keep;\"\r\n"), "OK\r\n");
    assert!(
        h.send(b"PUTSCRIPT \"b\" \"keep;\"\r\n")
            .starts_with("NO (QUOTA/MAXSCRIPTS)")
    );
}

#[test]
fn an_oversized_literal_is_bye_and_too_many_errors_close() {
    let wire = WireLimits {
        max_literal: 100,
        ..WireLimits::default()
    };
    let mut h = Harness::with("127.0.0.1", false, SieveQuota::default(), wire);
    h.login();
    let r = h.send(b"PUTSCRIPT \"a\" {101+}\r\n");
    assert!(r.starts_with("BYE (QUOTA/MAXSIZE)"), "{r}");
    assert!(h.closed);

    let mut h = Harness::new("127.0.0.1", false);
    let mut r = String::new();
    for _ in 0..10 {
        r = h.send(b"FOO\r\n");
    }
    assert!(r.ends_with("BYE \"too many errors\"\r\n"), "{r}");
    assert!(h.closed);
}

proptest::proptest! {
    /// Whatever a client sends, the session answers or closes: never a panic.
    #[test]
    fn any_input_is_answered(chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..64), 0..8)) {
        let mut h = Harness::new("127.0.0.1", false);
        h.login();
        for c in chunks {
            if h.closed { break; }
            let _ = h.send(&c);
        }
    }
}
