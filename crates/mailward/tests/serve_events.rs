//! The event log of a real `mailward serve` driven by real clients in every protocol:
//! every line is a documented catalogue event, every line of a connection says which
//! connection it belongs to, TLS has one shape everywhere, and `mailward logs` reads it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{BIN, Mailward};
use mailward_event::Event;
use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

const USER: &str = "bob@example.test";

struct Every {
    m: Mailward,
    imap: u16,
    pop3: u16,
}

impl Every {
    fn start() -> Every {
        let m = Mailward::start_with_listeners(
            "",
            "imap = [\"127.0.0.1:0\"]\npop3 = [\"127.0.0.1:0\"]",
        );
        let (imap, pop3) = (m.listener_port("imap"), m.listener_port("pop3"));
        m.add_account(USER, None);
        Every { m, imap, pop3 }
    }

    fn py(&self, scenario: &str) -> serde_json::Value {
        self.m.run_py(
            "every_protocol.py",
            scenario,
            &[self.m.smtp, self.m.submission, self.imap, self.pop3],
        )
    }

    /// Waits until the log has at least `n` events named `event` (sessions are logged as
    /// they end, a moment after the client has gone; deliveries a moment after queueing).
    fn wait_for(&self, event: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self
            .m
            .log_lines()
            .iter()
            .filter(|l| l["event"] == event)
            .count()
            < n
        {
            assert!(Instant::now() < deadline, "{}", self.m.log_tail(30));
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn a_session_in_every_protocol_gives_a_log_of_documented_events_with_their_connection() {
    let e = Every::start();
    let seen = e.py("sessions");
    // UNSUBSCRIBE of a folder that does not exist: Roundcube saw `NO [NONEXISTENT]` here
    // and found nothing in the log.
    let unsubscribe = seen["imap_unsubscribe"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    e.wait_for("delivered", 2);
    e.wait_for("disconnect", 5);

    let text = std::fs::read_to_string(&e.m.log).expect("log");
    let names: BTreeSet<&str> = Event::NAMES.iter().copied().collect();
    let mut tls_shapes = BTreeSet::new();
    let mut tls_protocols = BTreeSet::new();
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"));
        let event = v["event"]
            .as_str()
            .unwrap_or_else(|| panic!("no event: {line}"));
        assert!(names.contains(event), "undocumented event {event}: {line}");
        let connection_event = !matches!(
            event,
            "started"
                | "stopping"
                | "stopped"
                | "recovered"
                | "maildir_tmp_cleaned"
                | "listening"
                | "accept_error"
                | "delivered"
                | "deferred"
                | "bounced"
                | "expired"
                | "queue_scan_failed"
                | "queue_update_failed"
                | "cache_error"
                | "flag_error"
                | "library"
        );
        if connection_event {
            for field in ["protocol", "session", "remote_ip"] {
                assert!(v[field].is_string(), "{event} without {field}: {line}");
            }
        }
        if event == "tls" {
            let mut keys: Vec<&str> = v
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            keys.sort_unstable();
            tls_shapes.insert(keys.join(","));
            tls_protocols.insert(v["protocol"].as_str().unwrap_or_default().to_owned());
        }
    }
    assert_eq!(
        tls_shapes.len(),
        1,
        "TLS events differ in shape: {tls_shapes:?}"
    );
    assert_eq!(
        tls_protocols,
        ["imap", "pop3", "smtp"].map(String::from).into(),
        "a TLS event in every protocol"
    );

    let lines = e.m.log_lines();
    let has = |event: &str, protocol: &str| {
        lines
            .iter()
            .any(|l| l["event"] == event && l["protocol"] == protocol)
    };
    for protocol in ["smtp", "imap", "pop3"] {
        assert!(has("connect", protocol), "no {protocol} connect");
        assert!(has("auth", protocol), "no {protocol} auth");
        assert!(has("disconnect", protocol), "no {protocol} disconnect");
    }
    assert!(has("auth_failed", "smtp") && has("auth_failed", "imap"));
    assert!(has("select", "imap") && has("logout", "pop3"));
    // The refusal the client saw is in the log with the command and the code.
    if unsubscribe.starts_with("NO") {
        assert!(
            lines.iter().any(|l| l["event"] == "command_failed"
                && l["command"] == "UNSUBSCRIBE"
                && l["code"].as_str().is_some_and(|c| c.starts_with("NO"))),
            "UNSUBSCRIBE answered {unsubscribe} but not logged:\n{}",
            e.m.log_tail(40)
        );
    }

    // `mailward logs` reads the same log back.
    let out = Command::new(BIN)
        .args(["logs", "summary", "--json"])
        .arg(&e.m.log)
        .output()
        .expect("mailward logs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary JSON");
    assert_eq!(summary["lines"]["unparsed"], 0, "{summary}");
    assert!(summary["received"].as_u64().unwrap_or(0) >= 2, "{summary}");
    let by_protocol = &summary["auth_failures_by_protocol"];
    // One AUTH PLAIN with the wrong password (the scenario stays under the shared block).
    assert_eq!(by_protocol["smtp"], 1, "{summary}");
    assert_eq!(by_protocol["imap"], 1, "{summary}");
}

#[test]
fn regress_sasl_plain_naming_another_user_is_refused_in_smtp_imap_and_pop3() {
    let e = Every::start();
    let seen = e.py("authzid");
    assert_eq!(seen["smtp"], 535, "{seen}");
    assert!(
        seen["imap"].as_str().unwrap_or_default().starts_with("NO"),
        "{seen}"
    );
    assert!(
        seen["pop3"].as_str().unwrap_or_default().contains("-ERR"),
        "{seen}"
    );
    assert_eq!(
        seen["smtp_same"], 235,
        "the same identity twice is fine: {seen}"
    );
    e.wait_for("disconnect", 4);
    let refused: BTreeSet<String> = e
        .m
        .log_lines()
        .iter()
        .filter(|l| l["event"] == "auth_failed" && l["reason"] == "authorization identity differs")
        .filter_map(|l| l["protocol"].as_str().map(String::from))
        .collect();
    assert_eq!(refused, ["imap", "pop3", "smtp"].map(String::from).into());
}

/// rustls warned `Illegal SNI extension: ignoring IP address presented as hostname` as a
/// line with no `event`, no `session` and a build path; library lines now come out as
/// `library` events of the connection they belong to.
#[test]
fn regress_a_library_warning_is_a_library_event_of_its_connection() {
    let Some(openssl) = common_serve::debian_tool("openssl", "openssl") else {
        return;
    };
    let e = Every::start();
    let mut client = Command::new(openssl)
        .args(["s_client", "-quiet", "-starttls", "smtp"])
        .args(["-servername", "127.0.0.1", "-connect"])
        .arg(format!("127.0.0.1:{}", e.m.smtp))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_client");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = e.m.log_lines();
        if let Some(l) = lines.iter().find(|l| l["event"] == "library") {
            assert_eq!(l["protocol"], "smtp", "{l}");
            assert!(l["session"].is_string(), "{l}");
            assert_eq!(l["remote_ip"], "127.0.0.1", "{l}");
            assert!(
                l["message"].as_str().is_some_and(|m| m.contains("SNI")),
                "{l}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no library event: {}",
            e.m.log_tail(20)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = client.kill();
    let _ = client.wait();
    // Every line is still a catalogue event.
    for l in e.m.log_lines() {
        assert!(
            Event::NAMES.contains(&l["event"].as_str().unwrap_or_default()),
            "{l}"
        );
    }
}
