//! Pins the bytes of every reply the SMTP session sends. `replies.transcript` was recorded
//! from the session as it was before replies became typed values (issue 11), so this test
//! proves the typed [`mailward_mta::Reply`] changed nothing on the wire. Re-record (only
//! for an intended change of a reply) with `MAILWARD_BLESS=1 cargo test -p mailward-mta
//! --test reply_wire`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mailward_mta::policy::{Directory, RcptLookup};
use mailward_mta::{Action, EnqueueOutcome, ListenerKind, Session, SessionConfig, TlsInfo};
use std::sync::Arc;

struct Dir;

impl Directory for Dir {
    fn rcpt(&self, address: &str, _size: u64) -> RcptLookup {
        match address.to_ascii_lowercase().as_str() {
            "bob@example.test" | "postmaster@example.test" | "alice@example.test" => {
                RcptLookup::Local
            }
            "full@example.test" => RcptLookup::OverQuota,
            "temp@example.test" => RcptLookup::TempFail,
            a if a.ends_with("@example.test") => RcptLookup::Unknown,
            _ => RcptLookup::NotLocal,
        }
    }
    fn may_send_as(&self, user: &str, address: &str) -> bool {
        user == address
    }
}

fn session(listener: ListenerKind, max_errors: u32) -> Session {
    let cfg = SessionConfig {
        hostname: "mx.example.test".into(),
        listener,
        max_message_size: 1000,
        spool_threshold: mailward_mta::DEFAULT_SPOOL_THRESHOLD,
        max_recipients: 2,
        max_errors,
        relay_networks: Vec::new(),
        tls_available: true,
        plaintext_auth_on_loopback: false,
        postmaster_domain: "example.test".into(),
        header_from_policy: Default::default(),
    };
    let ip = "198.51.100.1".parse().expect("ip");
    Session::new(Arc::new(cfg), Arc::new(Dir), "S1".into(), ip)
}

/// A transcript: client input and server output, escaped, one step a line.
#[derive(Default)]
struct Transcript(String);

impl Transcript {
    fn out(&mut self, s: &mut Session) {
        let bytes = s.take_output();
        for line in String::from_utf8_lossy(&bytes).split_inclusive("\r\n") {
            self.0.push_str(&format!("S: {}\n", line.escape_debug()));
        }
    }

    /// Feeds `input`, runs to the next action, records the output; returns the action.
    fn step(&mut self, s: &mut Session, input: &[u8]) -> Option<Action> {
        let shown: String = if input.len() > 80 {
            format!("<{} octets>", input.len())
        } else {
            String::from_utf8_lossy(input).escape_debug().to_string()
        };
        self.0.push_str(&format!("C: {shown}\n"));
        s.feed(input);
        let a = s.advance();
        self.out(s);
        if let Some(a) = &a {
            let name = match a {
                Action::StartTls => "StartTls",
                Action::Authenticate { .. } => "Authenticate",
                Action::Spool { .. } => "Spool",
                Action::Enqueue(_) => "Enqueue",
                Action::Close => "Close",
            };
            self.0.push_str(&format!("A: {name}\n"));
        }
        a
    }
}

fn b64(s: &str) -> String {
    B64.encode(s)
}

fn record() -> String {
    let mut t = Transcript::default();

    // Port 25, plaintext: every command-level reply.
    let mut s = session(ListenerKind::Smtp, 100);
    s.greeting();
    t.out(&mut s);
    for input in [
        "MAIL FROM:<a@r.test>\r\n",
        "HELO c\r\n",
        "MAIL FROM:<a@r.test> BODY=8BITMIME\r\n",
        "EHLO c.test\r\n",
        "NOOP\r\nRSET\r\nVRFY bob\r\nEXPN list\r\nHELP\r\nETRN x.test\r\n",
        "AUTH PLAIN\r\n",
        "RCPT TO:<bob@example.test>\r\nDATA\r\nBDAT 0 LAST\r\n",
        "FOO\r\nNO\0OP\r\nNOOP\nMAIL\r\nMAIL FROM:<a@r.test> SIZE=abc\r\n",
        "MAIL FROM:<a@r.test> FOO=\x01bar\r\nMAIL FROM:<nodomain>\r\nMAIL FROM:<a b@c>\r\n",
        "MAIL FROM:<a@r.test> SIZE=5000\r\n",
        "MAIL FROM:<a@r.test>\r\nMAIL FROM:<a@r.test>\r\nAUTH PLAIN\r\n",
        "DATA\r\nBDAT 3\r\nabc",
        "RCPT TO:<nobody@example.test>\r\nRCPT TO:<full@example.test>\r\n",
        "RCPT TO:<temp@example.test>\r\nRCPT TO:<x@elsewhere.test>\r\n",
        "RCPT TO:<\"a@b\"@example.test>\r\nRCPT TO:<a@b@example.test>\r\nRCPT TO:<nodomain>\r\n",
        // A third, different recipient: one named twice is merged, not counted.
        "RCPT TO:<bob@example.test>\r\nRCPT TO:<postmaster>\r\nRCPT TO:<alice@example.test>\r\n",
        "BDAT 3\r\nabc",
        "DATA\r\n",
        "RSET\r\n",
    ] {
        t.step(&mut s, input.as_bytes());
    }
    let long = format!("NOOP {}\r\n", "x".repeat(2000));
    t.step(&mut s, long.as_bytes());

    // Data: too big, a loop, queued, a queue failure, BDAT too big.
    t.step(
        &mut s,
        b"MAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n",
    );
    let mut big = "x".repeat(2000).into_bytes();
    big.extend_from_slice(b"\r\n.\r\n");
    t.step(&mut s, &big);
    t.step(
        &mut s,
        b"MAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n",
    );
    let mut looped = "Received: x\r\n".repeat(51).into_bytes();
    looped.extend_from_slice(b"\r\nhi\r\n.\r\n");
    t.step(&mut s, &looped);
    for outcome in [
        EnqueueOutcome::Queued {
            queue_id: "4XgK2B1Zq9".into(),
        },
        EnqueueOutcome::TempFail("disk full".into()),
    ] {
        t.step(
            &mut s,
            b"MAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n",
        );
        if let Some(Action::Enqueue(_)) = t.step(&mut s, b"Subject: x\r\n\r\nhi\r\n.\r\n") {
            s.enqueue_result(outcome);
            t.out(&mut s);
        }
    }
    t.step(
        &mut s,
        b"MAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nBDAT 1200 LAST\r\n",
    );
    t.step(&mut s, "y".repeat(1200).as_bytes());

    // STARTTLS, then AUTH in all its ways.
    t.step(&mut s, b"EHLO c.test\r\nSTARTTLS\r\n");
    s.tls_established(TlsInfo::default());
    t.step(&mut s, b"EHLO c.test\r\nSTARTTLS\r\nAUTH CRAM-MD5\r\n");
    t.step(&mut s, b"AUTH PLAIN\r\n*\r\nAUTH PLAIN !!!\r\n");
    t.step(&mut s, format!("AUTH PLAIN {}\r\n", b64("a\0b")).as_bytes());
    t.step(
        &mut s,
        format!("AUTH PLAIN {}\r\n", b64("x\0bob\0pw")).as_bytes(),
    );
    t.step(&mut s, b"AUTH LOGIN\r\n!!!\r\nAUTH LOGIN\r\nYm9i\r\n");
    if let Some(Action::Authenticate { .. }) = t.step(&mut s, b"cHc=\r\n") {
        s.auth_result("LOGIN", "bob", None);
        t.out(&mut s);
    }
    let plain = format!("AUTH PLAIN {}\r\n", b64("\0bob@example.test\0pw"));
    if let Some(Action::Authenticate { user, .. }) = t.step(&mut s, plain.as_bytes()) {
        s.auth_result("PLAIN", &user, Some(user.clone()));
        t.out(&mut s);
    }
    t.step(
        &mut s,
        b"EHLO c.test\r\nAUTH PLAIN\r\nMAIL FROM:<alice@example.test>\r\n",
    );
    t.step(&mut s, b"QUIT\r\n");

    // The error limit; the timeout.
    let mut s = session(ListenerKind::Smtp, 3);
    t.step(&mut s, b"X\r\nX\r\nX\r\nNOOP\r\n");
    let mut s = session(ListenerKind::Smtp, 3);
    s.timeout();
    t.out(&mut s);

    // SMTP smuggling: a bare LF in the data closes.
    let mut s = session(ListenerKind::Smtp, 100);
    t.step(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nx\n.\nQUIT\r\n.\r\n",
    );

    // Submission: MAIL before AUTH.
    let mut s = session(ListenerKind::Submission, 100);
    t.step(&mut s, b"EHLO c\r\nMAIL FROM:<bob@example.test>\r\n");
    t.0
}

#[test]
fn every_reply_is_byte_identical_to_the_recorded_transcript() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/replies.transcript");
    let got = record();
    if std::env::var_os("MAILWARD_BLESS").is_some() {
        std::fs::write(path, &got).expect("write transcript");
        return;
    }
    let want = std::fs::read_to_string(path).expect("read transcript");
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {}", i + 1);
    }
    assert_eq!(got.lines().count(), want.lines().count());
}
