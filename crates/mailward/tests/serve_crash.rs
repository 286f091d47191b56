//! Crash test: under load from `smtp-source` (Debian `postfix`) plus a client that records
//! every `250`, the server is killed with SIGKILL at random moments and restarted. At the
//! end every message that got a `250` is in a Maildir exactly once, and so is every message
//! the log says was queued.
//!
//! `MAILWARD_CRASH_ROUNDS` (default 4) and `MAILWARD_CRASH_MESSAGES` (smtp-source messages
//! per round, default 500) scale it up.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{Mailward, debian_tool};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A pseudo-random number from the clock (no extra crate needed for jitter).
fn jitter(max_ms: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    u64::from(nanos) % max_ms.max(1)
}

#[test]
fn kill_9_under_load_loses_and_duplicates_nothing() {
    let Some(smtp_source) = debian_tool("smtp-source", "postfix") else {
        return;
    };
    let rounds = env_num("MAILWARD_CRASH_ROUNDS", 4);
    let per_round = env_num("MAILWARD_CRASH_MESSAGES", 500);
    let mut m = Mailward::start_fixed_smtp("");
    m.add_account("bob@example.test", None);
    let acked = m.dir.path().join("acked.txt");
    let stop = m.dir.path().join("stop");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/crash_sender.py");
    let mut sender = Command::new("python3")
        .arg(&script)
        .arg(m.smtp.to_string())
        .arg(&acked)
        .arg(&stop)
        .spawn()
        .expect("python3");

    for round in 0..rounds {
        let mut load = Command::new(&smtp_source)
            .args(["-s", "10", "-m", &per_round.to_string(), "-l", "1024"])
            .args(["-f", "load@remote.test", "-t", "bob@example.test"])
            .arg(format!("127.0.0.1:{}", m.smtp))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("smtp-source");
        std::thread::sleep(Duration::from_millis(300 + jitter(1200)));
        m.kill9();
        let _ = load.kill();
        let _ = load.wait();
        eprintln!("round {round}: killed");
        std::thread::sleep(Duration::from_millis(100));
        m.spawn();
    }
    // Let the sender talk to the last instance a little, then stop it.
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(&stop, b"").unwrap();
    let _ = sender.wait();

    // Wait until the queue is empty (everything delivered).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let q = m.cli(&["queue", "list"], None);
        if q.contains("\n0 message(s)") || q.starts_with("0 message(s)") {
            break;
        }
        assert!(Instant::now() < deadline, "queue never drained: {q}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Count each Message-ID and each queue ID in the Maildir.
    let mut by_msgid: HashMap<String, usize> = HashMap::new();
    let mut by_qid: HashMap<String, usize> = HashMap::new();
    for (_, text) in m.inbox("bob") {
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("Message-ID: <crash-") {
                *by_msgid
                    .entry(rest.trim_end_matches("@sender.test>").to_string())
                    .or_default() += 1;
            }
            if let Some(pos) = line.find("(mailward) with ") {
                let qid = line[pos..]
                    .split_whitespace()
                    .nth(4)
                    .unwrap_or("")
                    .trim_end_matches(';');
                *by_qid.entry(qid.to_string()).or_default() += 1;
            }
        }
    }
    let acked_ids: Vec<String> = std::fs::read_to_string(&acked)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(
        acked_ids.len() > 10,
        "the sender got too few 250s ({}) to prove anything",
        acked_ids.len()
    );
    for id in &acked_ids {
        assert_eq!(
            by_msgid.get(id).copied().unwrap_or(0),
            1,
            "message crash-{id} got 250 but is in the Maildir {:?} times",
            by_msgid.get(id)
        );
    }
    let queued: Vec<String> = m
        .log_lines()
        .iter()
        .filter(|l| l["event"] == "queued")
        .filter_map(|l| l["queue_id"].as_str().map(str::to_string))
        .collect();
    assert!(queued.len() >= acked_ids.len());
    for q in &queued {
        assert_eq!(
            by_qid.get(q).copied().unwrap_or(0),
            1,
            "queued {q} delivered {:?} times",
            by_qid.get(q)
        );
    }
    let dups: Vec<_> = by_qid.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dups.is_empty(), "duplicates: {dups:?}");
    eprintln!(
        "crash test: {} rounds, {} acknowledged by the recording client, {} queued in total, all delivered exactly once",
        rounds,
        acked_ids.len(),
        queued.len()
    );
}

/// Issue 12, item 8: a body past the spool threshold is written to `spool/tmp/` while it
/// arrives. Killed in the middle of one, the server never delivers the half message (the
/// client got no `250`) and deletes the file when it starts again.
#[test]
fn kill_9_while_a_big_message_streams_delivers_no_half_message() {
    use std::io::{BufRead, BufReader, Write};
    let mut m = Mailward::start_with_limits(&[("message_size", "\"60M\"")]);
    m.add_account("bob@example.test", None);
    let tmp = m.dir.path().join("data/spool/tmp");
    let mut s = std::net::TcpStream::connect(("127.0.0.1", m.smtp)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
    let mut r = BufReader::new(s.try_clone().expect("clone"));
    s.write_all(
        b"EHLO big.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n",
    )
    .expect("write");
    let mut replies = 0;
    while replies < 5 {
        let mut line = String::new();
        r.read_line(&mut line).expect("reply");
        if line.as_bytes().get(3) != Some(&b'-') {
            replies += 1;
        }
    }
    // Past the default threshold (256 KiB) the body goes to `spool/tmp/`; the end of data
    // never comes.
    s.write_all(b"Subject: half\r\n\r\n").expect("write");
    let line = format!("{}\r\n", "h".repeat(998));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut sent = 0;
    while std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0) == 0 {
        if sent < 4 * 1024 * 1024 {
            s.write_all(line.as_bytes()).expect("write body");
            sent += line.len();
        } else {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            Instant::now() < deadline,
            "no temporary spool file appeared"
        );
    }
    m.kill9();
    drop(s);
    assert_eq!(std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0), 1);
    m.spawn();
    let recovered = m.wait_for_event("recovered", None);
    assert!(
        recovered["removed_spool_files"].as_u64() >= Some(1),
        "{recovered}"
    );
    assert_eq!(std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(9), 0);
    std::thread::sleep(Duration::from_millis(500));
    assert!(m.inbox("bob").is_empty(), "no half message delivered");
}
