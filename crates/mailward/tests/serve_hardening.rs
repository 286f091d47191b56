//! Attacks from the open internet against the real binary on loopback (issue 12), each
//! pinned where it was fixed: bounded in count and time, loopback only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::Mailward;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Reads reply lines until one that is not a continuation; returns the last.
fn reply(r: &mut BufReader<TcpStream>) -> String {
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return line;
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return line;
        }
    }
}

fn connect(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
    let r = BufReader::new(s.try_clone().expect("clone"));
    (s, r)
}

#[test]
fn regress_one_message_to_a_hundred_copies_of_one_recipient_writes_one_file() {
    let m = Mailward::start("");
    m.add_account("bob@example.test", None);
    let (mut s, mut r) = connect(m.smtp);
    assert!(reply(&mut r).starts_with("220"));
    let mut cmds = String::from("EHLO attacker.test\r\nMAIL FROM:<x@remote.test>\r\n");
    for _ in 0..100 {
        cmds.push_str("RCPT TO:<bob@example.test>\r\n");
    }
    cmds.push_str("DATA\r\n");
    s.write_all(cmds.as_bytes()).expect("write");
    for _ in 0..102 {
        assert!(reply(&mut r).starts_with("250"));
    }
    assert!(reply(&mut r).starts_with("354"));
    let line = "x".repeat(998) + "\r\n";
    let mut body = String::from("Subject: copies\r\n\r\n");
    for _ in 0..50 {
        body.push_str(&line);
    }
    body.push_str(".\r\nQUIT\r\n");
    s.write_all(body.as_bytes()).expect("write");
    assert!(reply(&mut r).starts_with("250"), "queued");
    m.wait_for_mail("bob", "Subject: copies");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(m.inbox("bob").len(), 1, "one file for one mailbox");
}

#[test]
fn regress_bdat_and_size_numbers_out_of_range_are_refused_not_guessed() {
    let m = Mailward::start("");
    m.add_account("bob@example.test", None);
    let (mut s, mut r) = connect(m.smtp);
    reply(&mut r);
    s.write_all(b"EHLO a.test\r\n").expect("write");
    reply(&mut r);
    s.write_all(b"MAIL FROM:<x@remote.test> SIZE=99999999999999999999999\r\n")
        .expect("write");
    assert!(reply(&mut r).starts_with("552 5.3.4"));
    s.write_all(b"MAIL FROM:<x@remote.test>\r\nRCPT TO:<bob@example.test>\r\n")
        .expect("write");
    assert!(reply(&mut r).starts_with("250"));
    assert!(reply(&mut r).starts_with("250"));
    s.write_all(b"BDAT 99999999999999999999999 LAST\r\nRSET\r\n")
        .expect("write");
    assert!(reply(&mut r).starts_with("501 5.5.4"));
    // Nothing after an unframeable chunk is read as a command: the server hangs up.
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
}

#[test]
fn regress_a_client_that_stops_reading_is_disconnected_at_the_write_deadline() {
    // Errors allowed without end, so the junk-command limit does not close the session
    // first: only the write deadline can.
    let m = Mailward::start_with_limits(&[("command_timeout", "\"2s\""), ("errors", "1000000")]);
    let (s, _r) = connect(m.smtp);
    // Pipelined NOOPs whose replies (14 octets each) are never read: more than the socket
    // buffers hold, so the server's writes stall.
    let writer = std::thread::spawn(move || {
        let mut s = s;
        s.set_write_timeout(Some(Duration::from_secs(30))).ok();
        let chunk = "NOOP\r\n".repeat(10_000);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if s.write_all(chunk.as_bytes()).is_err() {
                return true;
            }
        }
        false
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let timed_out = m.log_lines().iter().any(|l| {
            l["event"] == "connection_error"
                && l["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("write timeout"))
        });
        if timed_out {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not disconnected: {}",
            m.log_tail(10)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(writer.join().unwrap_or(false), "the connection was closed");
}

/// 1 MiB of pipelined `EHLO x` wrote 21 MB of log in 1.4 s, and EHLO is not an error, so the
/// session never ended.
#[test]
fn regress_an_ehlo_flood_ends_the_session_and_writes_a_few_lines() {
    let m = Mailward::start("");
    let (s, mut r) = connect(m.smtp);
    reply(&mut r);
    let writer = std::thread::spawn(move || {
        let mut s = s;
        s.set_write_timeout(Some(Duration::from_secs(20))).ok();
        let _ = s.write_all("EHLO x\r\n".repeat(131_072).as_bytes());
    });
    let mut answers = Vec::new();
    let _ = r.read_to_end(&mut answers);
    let _ = writer.join();
    let text = String::from_utf8_lossy(&answers);
    assert!(text.contains("421 4.7.0"), "closed with 421");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !m.log_lines().iter().any(|l| l["event"] == "disconnect") {
        assert!(Instant::now() < deadline, "{}", m.log_tail(10));
        std::thread::sleep(Duration::from_millis(50));
    }
    let lines = m.log_lines();
    let helos = lines.iter().filter(|l| l["event"] == "helo").count();
    assert!(helos <= 10, "{helos} helo lines");
    let suppressed = lines
        .iter()
        .find(|l| l["event"] == "suppressed")
        .unwrap_or_else(|| panic!("no suppressed event: {}", m.log_tail(10)));
    assert_eq!(suppressed["suppressed"], "helo");
    assert!(
        suppressed["count"].as_u64().unwrap_or(0) >= 90,
        "{suppressed}"
    );
    let log_bytes = std::fs::metadata(&m.log).map(|md| md.len()).unwrap_or(0);
    assert!(log_bytes < 64 * 1024, "{log_bytes} bytes of log");
}

/// A server with IMAP and POP3 besides SMTP, and the test account; returns it with the
/// IMAP and POP3 ports.
fn every_protocol() -> (Mailward, u16, u16) {
    let m =
        Mailward::start_with_listeners("", "imap = [\"127.0.0.1:0\"]\npop3 = [\"127.0.0.1:0\"]");
    let (imap, pop3) = (m.listener_port("imap"), m.listener_port("pop3"));
    m.add_account("bob@example.test", None);
    (m, imap, pop3)
}

/// Log lines of `event` whose `reason` is `reason`.
fn events_with_reason(m: &Mailward, event: &str, reason: &str) -> usize {
    m.log_lines()
        .iter()
        .filter(|l| l["event"] == event && l["reason"] == reason)
        .count()
}

/// 19 wrong passwords sent at once on 19 pre-opened IMAP connections were all checked, and
/// the right password on a 20th connection logged in while the IP was "blocked"; each
/// protocol had its own budget. Now one ledger admits each check first: only as many are
/// checked as the block allows (`auth_failures = 3` in the test configuration), and the
/// right password is refused in every protocol on connections opened before the block.
#[test]
fn regress_parallel_guesses_and_the_right_password_from_a_blocked_ip() {
    let (m, imap, pop3) = every_protocol();
    let started = Instant::now();
    let got = m.run_py(
        "auth_attacks.py",
        "parallel",
        &[m.smtp, m.submission, imap, pop3],
    );
    let guesses = got["guesses"].as_array().unwrap();
    assert_eq!(guesses.len(), 19);
    assert!(guesses.iter().all(|g| g.as_str().unwrap() != "OK"), "{got}");
    let checked = events_with_reason(&m, "auth_failed", "invalid credentials");
    assert_eq!(
        checked, 3,
        "only checks that could fail before the block: {got}"
    );
    for (protocol, answer) in got["right_password"].as_object().unwrap() {
        let answer = answer.as_str().unwrap();
        assert_ne!(
            answer, "OK",
            "{protocol} logged in from a blocked IP: {got}"
        );
    }
    // SMTP answered 421 and closed (smtplib reports the closed connection).
    assert!(
        m.log_lines()
            .iter()
            .any(|l| l["event"] == "refused" && l["protocol"] == "smtp"),
        "{got}"
    );
    assert!(
        m.log_lines()
            .iter()
            .all(|l| !(l["event"] == "auth" && l["user"] == "bob@example.test")),
        "no login succeeded"
    );
    // Bounded: the delay (100 ms × failures) is served three times, not nineteen.
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// One wrong password in each of POP3, IMAP and SMTP blocks the IP in all three: an
/// address has one budget, not one per protocol.
#[test]
fn regress_each_protocol_had_its_own_guess_budget() {
    let (m, imap, pop3) = every_protocol();
    let got = m.run_py(
        "auth_attacks.py",
        "across",
        &[m.smtp, m.submission, imap, pop3],
    );
    assert!(
        got["wrong"]["pop3"].as_str().unwrap().contains("[AUTH]"),
        "{got}"
    );
    assert!(
        got["wrong"]["imap"]
            .as_str()
            .unwrap()
            .contains("AUTHENTICATIONFAILED"),
        "{got}"
    );
    assert_ne!(got["wrong"]["smtp"], "OK", "{got}");
    for protocol in ["smtp", "pop3", "imap"] {
        let after = got["after"][protocol].as_str().unwrap();
        assert!(
            after.starts_with("refused at connect"),
            "{protocol}: {after}"
        );
    }
}

/// Before AUTH or MAIL the command timeout restarted with every read, so a client sending
/// a NOOP now and then held its connection for ever without sending mail. Now the start of
/// a session has an absolute deadline (`start_timeout`).
#[test]
fn regress_a_client_that_never_starts_a_transaction_is_dropped_at_the_start_deadline() {
    let m = Mailward::start_with_limits(&[
        ("command_timeout", "\"10s\""),
        ("start_timeout", "\"2s\""),
        ("errors", "1000000"),
    ]);
    let (mut s, mut r) = connect(m.smtp);
    assert!(reply(&mut r).starts_with("220"));
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < Duration::from_secs(8) {
        if s.write_all(b"NOOP\r\n").is_err() {
            break;
        }
        last = reply(&mut r);
        if !last.starts_with("250") {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(last.starts_with("421 4.4.2"), "{last:?}");
    let held = started.elapsed();
    assert!(
        held >= Duration::from_millis(1500) && held < Duration::from_secs(5),
        "dropped after {held:?}"
    );

    // A client that sends MAIL in time is not held to it.
    let (mut s, mut r) = connect(m.smtp);
    assert!(reply(&mut r).starts_with("220"));
    s.write_all(b"EHLO client.test\r\nMAIL FROM:<a@remote.test>\r\n")
        .unwrap();
    assert!(reply(&mut r).starts_with("250"));
    assert!(reply(&mut r).starts_with("250"));
    std::thread::sleep(Duration::from_secs(3));
    s.write_all(b"NOOP\r\n").unwrap();
    assert!(
        reply(&mut r).starts_with("250"),
        "still served after the start deadline"
    );
}
