//! Unit tests of the POP3 session against the in-memory store.

use super::*;
use crate::blocking::BlockingDriver;
use crate::memory::MemoryBackend;

const USER: &str = "bob@example.test";
const PASS: &str = "secret";

fn cfg(tls_available: bool, loopback_plaintext: bool) -> Arc<SessionConfig> {
    Arc::new(SessionConfig {
        hostname: "mx.example.test".into(),
        tls_available,
        plaintext_auth_on_loopback: loopback_plaintext,
        max_errors: 10,
    })
}

struct T {
    s: Session,
    d: BlockingDriver<MemoryBackend>,
    store: MemoryBackend,
}

impl T {
    fn new(ip: &str, cfg: Arc<SessionConfig>, store: &MemoryBackend) -> T {
        let mut s = Session::new(cfg, "S1".into(), ip.parse().unwrap());
        s.greeting();
        let _ = s.take_output();
        T {
            s,
            d: BlockingDriver::new(store.clone()),
            store: store.clone(),
        }
    }

    /// A session from a remote address over (pretend) TLS.
    fn tls(store: &MemoryBackend) -> T {
        let mut t = T::new("192.0.2.10", cfg(true, true), store);
        t.s.set_tls(TlsInfo::default());
        t
    }

    fn send(&mut self, input: &str) -> String {
        String::from_utf8(self.d.run(&mut self.s, input.as_bytes())).unwrap()
    }

    fn login(store: &MemoryBackend) -> T {
        let mut t = T::tls(store);
        let out = t.send(&format!("USER {USER}\r\nPASS {PASS}\r\n"));
        assert!(out.contains("+OK Logged in"), "{out}");
        t
    }
}

const M1: &str = "From: a@example.org\r\nSubject: one\r\n\r\nbody one\r\n";
const M2: &str =
    "From: a@example.org\r\nSubject: dots\r\n\r\n.leading dot\r\n.\r\n..two\r\nlast\r\n";
const M3: &str = "Subject: three\r\n\r\nl1\r\nl2\r\nl3\r\n";

fn store() -> MemoryBackend {
    let b = MemoryBackend::new(0x1234);
    b.add_account(USER, PASS);
    b.deliver(USER, M1.as_bytes());
    b.deliver(USER, M2.as_bytes());
    b.deliver(USER, M3.as_bytes());
    b
}

fn total() -> usize {
    M1.len() + M2.len() + M3.len()
}

#[test]
fn greeting_is_a_positive_response() {
    let mut s = Session::new(cfg(true, true), "S".into(), "192.0.2.1".parse().unwrap());
    s.greeting();
    assert_eq!(
        String::from_utf8(s.take_output()).unwrap(),
        "+OK mx.example.test POP3 mailward ready\r\n"
    );
}

#[test]
fn capa_before_tls_offers_stls_but_no_login_from_a_remote_address() {
    let b = store();
    let mut t = T::new("192.0.2.10", cfg(true, true), &b);
    let out = t.send("CAPA\r\n");
    assert!(out.starts_with("+OK Capability list follows\r\n"), "{out}");
    for cap in [
        "TOP",
        "UIDL",
        "RESP-CODES",
        "AUTH-RESP-CODE",
        "PIPELINING",
        "EXPIRE NEVER",
        "STLS",
        "IMPLEMENTATION mailward",
    ] {
        assert!(out.contains(&format!("\r\n{cap}\r\n")), "{cap}: {out}");
    }
    assert!(
        !out.contains("\r\nUSER\r\n") && !out.contains("SASL"),
        "{out}"
    );
    assert!(out.ends_with("\r\n.\r\n"));
    // After STLS: USER and SASL PLAIN, no STLS.
    let out = t.send("STLS\r\n");
    assert_eq!(out, "+OK Begin TLS negotiation\r\n");
    let out = t.send("CAPA\r\n");
    assert!(
        out.contains("\r\nUSER\r\n") && out.contains("\r\nSASL PLAIN\r\n"),
        "{out}"
    );
    assert!(!out.contains("STLS"), "{out}");
}

#[test]
fn capa_from_loopback_offers_user_before_tls() {
    let b = store();
    let mut t = T::new("127.0.0.1", cfg(true, true), &b);
    let out = t.send("CAPA\r\n");
    assert!(
        out.contains("\r\nUSER\r\n") && out.contains("\r\nSTLS\r\n"),
        "{out}"
    );
    let mut t = T::new("127.0.0.1", cfg(false, true), &b);
    let out = t.send("CAPA\r\n");
    assert!(!out.contains("STLS"), "no TLS configured: {out}");
}

#[test]
fn user_pass_and_auth_are_refused_before_stls_from_a_remote_address() {
    let b = store();
    let mut t = T::new("192.0.2.10", cfg(true, true), &b);
    let out = t.send(&format!("USER {USER}\r\n"));
    assert!(
        out.starts_with("-ERR [AUTH] Plaintext authentication disallowed"),
        "{out}"
    );
    let out = t.send(&format!("PASS {PASS}\r\n"));
    assert!(out.starts_with("-ERR [AUTH]"), "{out}");
    let out = t.send("AUTH PLAIN AGJvYkBleGFtcGxlLnRlc3QAc2VjcmV0\r\n");
    assert!(out.starts_with("-ERR [AUTH]"), "{out}");
    assert_eq!(t.send("AUTH\r\n"), "+OK\r\n.\r\n", "no mechanism offered");
    assert!(t.s.account().is_none());
    // The same commands work once TLS is up.
    t.send("STLS\r\n");
    let out = t.send(&format!("USER {USER}\r\nPASS {PASS}\r\n"));
    assert!(
        out.contains("+OK Logged in; maildrop has 3 messages"),
        "{out}"
    );
}

#[test]
fn loopback_may_log_in_without_tls_unless_switched_off() {
    let b = store();
    let mut t = T::new("127.0.0.1", cfg(true, true), &b);
    let out = t.send(&format!("USER {USER}\r\nPASS {PASS}\r\n"));
    assert!(out.contains("+OK Logged in"), "{out}");
    let mut t = T::new("::1", cfg(true, false), &b);
    let out = t.send(&format!("USER {USER}\r\n"));
    assert!(out.starts_with("-ERR [AUTH]"), "{out}");
}

#[test]
fn stls_discards_pipelined_plaintext() {
    let b = store();
    let mut t = T::new("192.0.2.10", cfg(true, true), &b);
    // The injected USER/PASS were sent in plaintext with STLS: never obeyed.
    t.s.feed(format!("STLS\r\nUSER {USER}\r\nPASS {PASS}\r\n").as_bytes());
    assert_eq!(t.s.advance(), Some(Action::StartTls));
    assert_eq!(t.s.take_output(), b"+OK Begin TLS negotiation\r\n");
    t.s.tls_established(TlsInfo::default());
    assert_eq!(t.s.advance(), None);
    assert!(t.s.take_output().is_empty());
    assert!(t.s.account().is_none());
    // STLS again, or where TLS is not configured, is refused.
    assert_eq!(t.send("STLS\r\n"), "-ERR TLS already active\r\n");
    let mut t = T::new("127.0.0.1", cfg(false, true), &b);
    assert_eq!(t.send("STLS\r\n"), "-ERR STLS not available\r\n");
}

#[test]
fn user_given_before_stls_is_forgotten_after_it() {
    let b = store();
    let mut t = T::new("127.0.0.1", cfg(true, true), &b);
    assert_eq!(t.send(&format!("USER {USER}\r\n")), "+OK send PASS\r\n");
    t.send("STLS\r\n");
    assert_eq!(
        t.send(&format!("PASS {PASS}\r\n")),
        "-ERR send USER first\r\n"
    );
}

#[test]
fn user_pass_login_then_stat_list_uidl() {
    let b = store();
    let mut t = T::tls(&b);
    assert_eq!(t.send(&format!("USER {USER}\r\n")), "+OK send PASS\r\n");
    let out = t.send(&format!("PASS {PASS}\r\n"));
    assert_eq!(
        out,
        format!(
            "+OK Logged in; maildrop has 3 messages ({} octets)\r\n",
            total()
        )
    );
    assert!(b.is_locked(USER));
    assert_eq!(t.send("STAT\r\n"), format!("+OK 3 {}\r\n", total()));
    assert_eq!(
        t.send("LIST\r\n"),
        format!(
            "+OK 3 messages ({} octets)\r\n1 {}\r\n2 {}\r\n3 {}\r\n.\r\n",
            total(),
            M1.len(),
            M2.len(),
            M3.len()
        )
    );
    assert_eq!(t.send("LIST 2\r\n"), format!("+OK 2 {}\r\n", M2.len()));
    assert_eq!(
        t.send("UIDL\r\n"),
        "+OK unique-id listing follows\r\n1 0000000100001234\r\n2 0000000200001234\r\n3 0000000300001234\r\n.\r\n"
    );
    assert_eq!(t.send("UIDL 3\r\n"), "+OK 3 0000000300001234\r\n");
    assert_eq!(t.send("NOOP\r\n"), "+OK\r\n");
}

#[test]
fn uidl_is_stable_across_sessions_and_after_deletions() {
    let b = store();
    let mut t = T::login(&b);
    let first = t.send("UIDL\r\n");
    t.send("DELE 1\r\nQUIT\r\n");
    assert!(t.s.is_closed());
    assert!(!b.is_locked(USER));
    let mut t = T::login(&b);
    let second = t.send("UIDL\r\n");
    // Message 2 of the first session is message 1 now, with the same unique-id.
    assert!(first.contains("2 0000000200001234\r\n"), "{first}");
    assert!(second.contains("1 0000000200001234\r\n"), "{second}");
    assert!(!second.contains("0000000100001234"), "{second}");
}

#[test]
fn pass_needs_user_first() {
    let b = store();
    let mut t = T::tls(&b);
    assert_eq!(
        t.send(&format!("PASS {PASS}\r\n")),
        "-ERR send USER first\r\n"
    );
}

#[test]
fn wrong_password_is_auth_error_and_the_session_stays_in_authorization() {
    let b = store();
    let mut t = T::tls(&b);
    let out = t.send(&format!("USER {USER}\r\nPASS wrong\r\n"));
    assert_eq!(
        out,
        "+OK send PASS\r\n-ERR [AUTH] Authentication failed\r\n"
    );
    assert!(t.s.account().is_none() && !t.s.is_closed());
    assert!(!b.is_locked(USER));
    // PASS again needs USER again.
    assert_eq!(
        t.send(&format!("PASS {PASS}\r\n")),
        "-ERR send USER first\r\n"
    );
    let out = t.send(&format!("USER {USER}\r\nPASS {PASS}\r\n"));
    assert!(out.contains("+OK Logged in"), "{out}");
}

#[test]
fn second_session_gets_in_use_and_store_trouble_sys_temp() {
    let b = store();
    let _first = T::login(&b);
    let mut t = T::tls(&b);
    let out = t.send(&format!("USER {USER}\r\nPASS {PASS}\r\n"));
    assert!(
        out.ends_with("-ERR [IN-USE] maildrop is locked by another POP3 session\r\n"),
        "{out}"
    );
    b.fail_logins(true);
    let out = t.send(&format!("USER {USER}\r\nPASS {PASS}\r\n"));
    assert!(
        out.ends_with("-ERR [SYS/TEMP] temporary failure, try again later\r\n"),
        "{out}"
    );
}

#[test]
fn auth_plain_with_initial_response() {
    let b = store();
    let mut t = T::tls(&b);
    // "\0bob@example.test\0secret"
    let out = t.send("AUTH PLAIN AGJvYkBleGFtcGxlLnRlc3QAc2VjcmV0\r\n");
    assert!(out.starts_with("+OK Logged in"), "{out}");
}

#[test]
fn auth_plain_with_continuation_and_authzid() {
    let b = store();
    let mut t = T::tls(&b);
    assert_eq!(t.send("AUTH PLAIN\r\n"), "+ \r\n");
    // "bob@example.test\0bob@example.test\0secret": authzid equal to the user is fine.
    let out = t.send("Ym9iQGV4YW1wbGUudGVzdABib2JAZXhhbXBsZS50ZXN0AHNlY3JldA==\r\n");
    assert!(out.starts_with("+OK Logged in"), "{out}");
}

#[test]
fn auth_plain_cancel_bad_base64_and_other_identities_are_refused() {
    let b = store();
    let mut t = T::tls(&b);
    assert_eq!(
        t.send("AUTH PLAIN\r\n*\r\n"),
        "+ \r\n-ERR authentication cancelled\r\n"
    );
    assert_eq!(
        t.send("AUTH PLAIN\r\n!!!\r\n"),
        "+ \r\n-ERR invalid base64 in the response\r\n"
    );
    assert_eq!(
        t.send("AUTH PLAIN =\r\n"),
        "-ERR invalid PLAIN response\r\n"
    );
    // "alice@example.test\0bob@example.test\0secret": acting as someone else.
    let out = t.send("AUTH PLAIN YWxpY2VAZXhhbXBsZS50ZXN0AGJvYkBleGFtcGxlLnRlc3QAc2VjcmV0\r\n");
    assert_eq!(
        out,
        "-ERR [AUTH] authorization identity must be the user\r\n"
    );
    // Wrong password.
    let out = t.send("AUTH PLAIN AGJvYkBleGFtcGxlLnRlc3QAbm9wZQ==\r\n");
    assert_eq!(out, "-ERR [AUTH] Authentication failed\r\n");
    assert_eq!(
        t.send("AUTH CRAM-MD5\r\n"),
        "-ERR unsupported authentication mechanism\r\n"
    );
    assert_eq!(t.send("AUTH\r\n"), "+OK\r\nPLAIN\r\n.\r\n");
    assert!(t.s.account().is_none());
    // Still usable after all that.
    let out = t.send("AUTH PLAIN AGJvYkBleGFtcGxlLnRlc3QAc2VjcmV0\r\n");
    assert!(out.starts_with("+OK Logged in"), "{out}");
}

#[test]
fn retr_sends_the_exact_octets_dot_stuffed_and_marks_seen() {
    let b = store();
    let mut t = T::login(&b);
    let out = t.send("RETR 2\r\n");
    assert_eq!(
        out,
        format!(
            "+OK {} octets\r\nFrom: a@example.org\r\nSubject: dots\r\n\r\n..leading dot\r\n..\r\n...two\r\nlast\r\n.\r\n",
            M2.len()
        )
    );
    assert!(b.messages(USER)[&2].seen);
    assert!(!b.messages(USER)[&1].seen);
    assert_eq!(t.s.counts.retr, 1);
    assert_eq!(t.s.counts.retr_bytes, M2.len() as u64);
}

#[test]
fn top_sends_header_and_n_lines_without_marking_seen() {
    let b = store();
    let mut t = T::login(&b);
    assert_eq!(
        t.send("TOP 3 2\r\n"),
        "+OK top of message follows\r\nSubject: three\r\n\r\nl1\r\nl2\r\n.\r\n"
    );
    assert_eq!(
        t.send("TOP 3 0\r\n"),
        "+OK top of message follows\r\nSubject: three\r\n\r\n.\r\n"
    );
    assert_eq!(
        t.send("TOP 3 100\r\n"),
        "+OK top of message follows\r\nSubject: three\r\n\r\nl1\r\nl2\r\nl3\r\n.\r\n"
    );
    assert!(!b.messages(USER)[&3].seen);
    assert_eq!(t.send("TOP 3\r\n"), "-ERR syntax: TOP msg n\r\n");
    assert_eq!(t.send("TOP 3 -1\r\n"), "-ERR invalid message number\r\n");
}

#[test]
fn dele_marks_rset_unmarks_and_quit_removes() {
    let b = store();
    let mut t = T::login(&b);
    assert_eq!(t.send("DELE 1\r\n"), "+OK message 1 deleted\r\n");
    assert_eq!(t.send("DELE 1\r\n"), "-ERR message already deleted\r\n");
    assert_eq!(t.send("RETR 1\r\n"), "-ERR message already deleted\r\n");
    assert_eq!(t.send("LIST 1\r\n"), "-ERR message already deleted\r\n");
    assert_eq!(
        t.send("STAT\r\n"),
        format!("+OK 2 {}\r\n", M2.len() + M3.len())
    );
    let list = t.send("LIST\r\n");
    assert!(
        !list.contains("\r\n1 "),
        "deleted messages are not listed: {list}"
    );
    assert_eq!(
        t.send("RSET\r\n"),
        format!("+OK maildrop has 3 messages ({} octets)\r\n", total())
    );
    assert_eq!(t.send("STAT\r\n"), format!("+OK 3 {}\r\n", total()));
    // Nothing is removed before QUIT.
    t.send("DELE 1\r\nDELE 3\r\n");
    assert_eq!(b.messages(USER).len(), 3);
    let out = t.send("QUIT\r\n");
    assert_eq!(
        out,
        "+OK mailward POP3 server signing off (1 messages left)\r\n"
    );
    assert!(t.s.is_closed());
    let left: Vec<u32> = b.messages(USER).keys().copied().collect();
    assert_eq!(left, [2]);
    assert_eq!(t.s.counts.deleted, 2);
}

#[test]
fn rset_keeps_everything_at_quit() {
    let b = store();
    let mut t = T::login(&b);
    let out = t.send("DELE 1\r\nDELE 2\r\nRSET\r\nQUIT\r\n");
    assert!(
        out.ends_with("+OK mailward POP3 server signing off (3 messages left)\r\n"),
        "{out}"
    );
    assert_eq!(b.messages(USER).len(), 3);
}

#[test]
fn a_dropped_connection_removes_nothing() {
    let b = store();
    let mut t = T::login(&b);
    t.send("DELE 1\r\nDELE 2\r\n");
    t.d.drop_connection(&mut t.s);
    assert_eq!(b.messages(USER).len(), 3);
    assert!(!b.is_locked(USER));
}

#[test]
fn quit_answers_error_when_the_removal_fails() {
    let b = store();
    let mut t = T::login(&b);
    b.fail_removals(true);
    let out = t.send("DELE 1\r\nQUIT\r\n");
    assert!(
        out.ends_with("-ERR [SYS/TEMP] some deleted messages not removed\r\n"),
        "{out}"
    );
    assert!(t.s.is_closed());
    assert_eq!(t.store.messages(USER).len(), 3);
}

#[test]
fn quit_before_login_closes() {
    let b = store();
    let mut t = T::tls(&b);
    assert_eq!(
        t.send("QUIT\r\n"),
        "+OK mailward POP3 server signing off\r\n"
    );
    assert!(t.s.is_closed());
    // Nothing after QUIT is read.
    assert_eq!(t.send("CAPA\r\n"), "");
}

#[test]
fn message_removed_by_another_client_or_unreadable() {
    let b = store();
    let mut t = T::login(&b);
    b.expunge(USER, 1);
    assert_eq!(
        t.send("RETR 1\r\n"),
        "-ERR message 1 was removed by another session\r\n"
    );
    b.fail_reads(true);
    assert_eq!(
        t.send("TOP 2 1\r\n"),
        "-ERR [SYS/TEMP] cannot read the message, try again later\r\n"
    );
    // QUIT still works: removing a message that is already gone is not an error.
    b.fail_reads(false);
    let out = t.send("DELE 1\r\nQUIT\r\n");
    assert!(out.ends_with("signing off (2 messages left)\r\n"), "{out}");
}

#[test]
fn bad_message_numbers() {
    let b = store();
    let mut t = T::login(&b);
    assert_eq!(t.send("RETR 0\r\n"), "-ERR no such message\r\n");
    assert_eq!(t.send("RETR 4\r\n"), "-ERR no such message\r\n");
    assert_eq!(
        t.send("LIST 99999999999999999999999999\r\n"),
        "-ERR no such message\r\n"
    );
    assert_eq!(t.send("DELE x\r\n"), "-ERR invalid message number\r\n");
    assert_eq!(t.send("UIDL 1 2\r\n"), "-ERR syntax: UIDL [msg]\r\n");
    assert_eq!(t.send("RETR\r\n"), "-ERR syntax: RETR msg\r\n");
}

#[test]
fn commands_in_the_wrong_state_are_refused() {
    let b = store();
    let mut t = T::tls(&b);
    for cmd in [
        "STAT", "LIST", "RETR 1", "DELE 1", "RSET", "TOP 1 1", "UIDL", "NOOP",
    ] {
        assert_eq!(
            t.send(&format!("{cmd}\r\n")),
            "-ERR command not valid before login\r\n",
            "{cmd}"
        );
    }
    let b = store();
    let mut t = T::login(&b);
    for cmd in ["USER x", "PASS y", "AUTH PLAIN", "STLS", "APOP a b"] {
        assert_eq!(
            t.send(&format!("{cmd}\r\n")),
            "-ERR command not valid in the TRANSACTION state\r\n",
            "{cmd}"
        );
    }
    let mut t = T::tls(&b);
    assert!(
        t.send("APOP bob 0123\r\n")
            .starts_with("-ERR APOP not supported")
    );
    assert_eq!(t.send("LAST\r\n"), "-ERR unknown command\r\n");
    assert_eq!(t.send("\r\n"), "-ERR unknown command\r\n");
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let b = store();
    let mut t = T::tls(&b);
    let out = t.send(&format!(
        "USER {USER}\r\nPASS {PASS}\r\nSTAT\r\nLIST 1\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n"
    ));
    let expected = format!(
        "+OK send PASS\r\n+OK Logged in; maildrop has 3 messages ({t} octets)\r\n+OK 3 {t}\r\n+OK 1 {m1}\r\n+OK {m1} octets\r\n{M1}.\r\n+OK message 1 deleted\r\n+OK mailward POP3 server signing off (2 messages left)\r\n",
        t = total(),
        m1 = M1.len()
    );
    assert_eq!(out, expected);
}

#[test]
fn bare_lf_line_ends_and_split_input_work() {
    let b = store();
    let mut t = T::tls(&b);
    assert_eq!(t.send(&format!("USER {USER}\n")), "+OK send PASS\r\n");
    assert_eq!(t.send("PA"), "");
    assert_eq!(t.send("SS sec"), "");
    assert!(t.send("ret\r\n").starts_with("+OK Logged in"));
}

#[test]
fn overlong_lines_are_refused_and_the_session_goes_on() {
    let b = store();
    let mut t = T::login(&b);
    // RFC 2449 §4: 255 octets with CRLF is the limit.
    let ok = format!("NOOP{}\r\n", " ".repeat(249));
    assert_eq!(ok.len(), 255);
    assert_eq!(t.send(&ok), "+OK\r\n");
    let long = format!("NOOP{}\r\n", " ".repeat(250));
    assert_eq!(t.send(&long), "-ERR line too long\r\n");
    // A long line arriving in pieces is refused once and skipped to its end.
    assert_eq!(t.send(&"X".repeat(300)), "-ERR line too long\r\n");
    assert_eq!(t.send(&"Y".repeat(3000)), "");
    assert_eq!(t.send("ZZZ\r\nSTAT\r\n"), format!("+OK 3 {}\r\n", total()));
}

#[test]
fn too_many_errors_close_the_session_and_remove_nothing() {
    let b = store();
    let mut t = T::login(&b);
    t.send("DELE 1\r\n");
    let out = t.send(&"BOGUS\r\n".repeat(20));
    assert_eq!(out.matches("-ERR unknown command\r\n").count(), 10);
    assert!(
        out.ends_with("-ERR too many errors, closing connection\r\n"),
        "{out}"
    );
    assert!(t.s.is_closed());
    assert_eq!(b.messages(USER).len(), 3);
    assert!(!b.is_locked(USER));
}

#[test]
fn autologout_closes_without_response_and_removes_nothing() {
    let b = store();
    let mut t = T::login(&b);
    t.send("DELE 1\r\n");
    t.s.timeout();
    assert!(t.s.is_closed());
    assert!(!t.s.has_output());
    t.d.drop_connection(&mut t.s);
    assert_eq!(b.messages(USER).len(), 3);
}

#[test]
fn nul_and_invalid_utf8_are_refused() {
    let b = store();
    let mut t = T::tls(&b);
    assert_eq!(
        String::from_utf8(t.d.run(&mut t.s, b"US\0ER x\r\n")).unwrap(),
        "-ERR invalid characters in command\r\n"
    );
    assert_eq!(
        String::from_utf8(t.d.run(&mut t.s, b"PASS \xff\xfe\r\n")).unwrap(),
        "-ERR invalid characters in command\r\n"
    );
}

#[test]
fn empty_maildrop() {
    let b = MemoryBackend::new(7);
    b.add_account(USER, PASS);
    let mut t = T::tls(&b);
    let out = t.send(&format!(
        "USER {USER}\r\nPASS {PASS}\r\nSTAT\r\nLIST\r\nUIDL\r\nQUIT\r\n"
    ));
    assert_eq!(
        out,
        "+OK send PASS\r\n+OK Logged in; maildrop has 0 messages (0 octets)\r\n+OK 0 0\r\n+OK 0 messages (0 octets)\r\n.\r\n+OK unique-id listing follows\r\n.\r\n+OK mailward POP3 server signing off (0 messages left)\r\n"
    );
}

#[test]
fn unique_ids_follow_dovecots_format() {
    assert_eq!(unique_id(1, 0x5f3a_0c21), "000000015F3A0C21");
    assert_eq!(unique_id(u32::MAX, 1), "FFFFFFFF00000001");
}

mod fuzzish {
    use super::*;
    use proptest::prelude::*;

    fn line() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"USER bob@example.test\r\n".to_vec()),
            Just(b"PASS secret\r\n".to_vec()),
            Just(b"AUTH PLAIN\r\n".to_vec()),
            Just(b"AGJvYkBleGFtcGxlLnRlc3QAc2VjcmV0\r\n".to_vec()),
            Just(b"STLS\r\n".to_vec()),
            Just(b"STAT\r\nLIST\r\nUIDL\r\n".to_vec()),
            (0usize..6).prop_map(|n| format!("RETR {n}\r\n").into_bytes()),
            (0usize..6, 0u64..4).prop_map(|(n, l)| format!("TOP {n} {l}\r\n").into_bytes()),
            (0usize..6).prop_map(|n| format!("DELE {n}\r\n").into_bytes()),
            Just(b"RSET\r\n".to_vec()),
            Just(b"QUIT\r\n".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..300),
        ]
    }

    proptest! {
        /// Any input in any pieces: no panic, a closed session stays closed and silent,
        /// nothing is removed unless QUIT was sent, and the input buffer stays bounded.
        #[test]
        fn arbitrary_input_never_panics(lines in proptest::collection::vec(line(), 0..40), piece in 1usize..64) {
            let b = store();
            let mut t = T::new("127.0.0.1", cfg(true, true), &b);
            let input: Vec<u8> = lines.concat();
            let quit = lines.iter().any(|l| l.windows(4).any(|w| w.eq_ignore_ascii_case(b"QUIT")));
            for chunk in input.chunks(piece) {
                let was_closed = t.s.is_closed();
                let out = t.d.run(&mut t.s, chunk);
                if was_closed {
                    prop_assert!(out.is_empty());
                }
                prop_assert!(t.s.input.len() <= wire::MAX_AUTH_LINE + 64);
            }
            if !quit {
                prop_assert_eq!(b.messages(USER).len(), 3);
            }
        }
    }
}
