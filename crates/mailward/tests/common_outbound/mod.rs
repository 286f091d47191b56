//! A destination for mailward's outbound client (`tests/py/hostile_smtp.py`, well-behaved
//! or hostile), the configuration that routes a domain to it, and what the tests read
//! afterwards: the destination's record, mailward's queue and memory.

#![allow(dead_code)]

use crate::common_serve::Mailward;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The domain every test routes to its destination.
pub const DOMAIN: &str = "hostile.test";

/// The Python destination server, stopped when dropped.
pub struct Destination {
    child: Child,
    pub port: u16,
    events: PathBuf,
    _dir: tempfile::TempDir,
}

impl Destination {
    /// Starts `hostile_smtp.py MODE`; `delay_ms` before each 250 to the final dot.
    pub fn start(mode: &str, delay_ms: u64) -> Destination {
        let dir = tempfile::tempdir().expect("tempdir");
        let events = dir.path().join("events.jsonl");
        let mut child = Command::new("python3")
            .arg(py("hostile_smtp.py"))
            .arg(mode)
            .arg(&events)
            .arg(delay_ms.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 is needed for these tests");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the destination's port");
        let port = line.trim().parse().expect("a port on the first line");
        Destination {
            child,
            port,
            events,
            _dir: dir,
        }
    }

    /// What the destination recorded so far, one JSON object per line.
    pub fn events(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.events)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn count(&self, event: &str) -> usize {
        self.events().iter().filter(|e| e["event"] == event).count()
    }

    /// The Message-IDs of the messages it accepted, in order, repeats included.
    pub fn accepted(&self) -> Vec<String> {
        self.events()
            .iter()
            .filter(|e| e["event"] == "accepted")
            .filter_map(|e| e["message_id"].as_str().map(str::to_string))
            .collect()
    }
}

impl Drop for Destination {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn py(script: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/py")
        .join(script)
}

/// The configuration that sends `DOMAIN` to `port` with short time-outs; `route_tls` is
/// the route's `tls` key, if any.
pub fn route_to(port: u16, route_tls: Option<&str>) -> String {
    let tls = route_tls
        .map(|t| format!("tls = \"{t}\"\n"))
        .unwrap_or_default();
    format!(
        r#"
[outbound]
command_timeout = "2s"
data_timeout = "2s"
connect_timeout = "2s"

[[route]]
domain = "{DOMAIN}"
host = "127.0.0.1:{port}"
{tls}"#
    )
}

/// Sends `count` messages from `from` to `to` through mailward's port 25 (Python
/// smtplib); returns their queue IDs and Message-IDs (`<PREFIX-N@sender.test>`).
pub fn send(
    m: &Mailward,
    from: &str,
    to: &str,
    count: usize,
    prefix: &str,
) -> (Vec<String>, Vec<String>) {
    let out = Command::new("python3")
        .arg(py("send_mail.py"))
        .arg(m.smtp.to_string())
        .args([from, to, &count.to_string(), prefix])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "sending failed: {}\nlog: {}",
        String::from_utf8_lossy(&out.stderr),
        m.log_tail(20)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("send_mail.py prints JSON");
    let strings = |k: &str| -> Vec<String> {
        v[k].as_array()
            .expect("a list")
            .iter()
            .map(|s| s.as_str().unwrap_or_default().to_string())
            .collect()
    };
    (strings("queue_ids"), strings("message_ids"))
}

/// The queue as `mailward queue list --json` shows it.
pub fn queue(m: &Mailward) -> Vec<serde_json::Value> {
    m.cli(&["queue", "list", "--json"], None)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The queue entry of `qid`, if it is still queued.
pub fn queued(m: &Mailward, qid: &str) -> Option<serde_json::Value> {
    queue(m).into_iter().find(|e| e["envelope"]["id"] == qid)
}

/// mailward's resident memory in KiB (`VmRSS` of /proc/PID/status).
pub fn rss_kib(m: &Mailward) -> u64 {
    let pid = m.child.as_ref().expect("running").id();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

/// The server still answers on port 25: a greeting, and 250 to EHLO.
pub fn assert_answers_smtp(m: &Mailward) {
    use std::io::Write;
    let s = std::net::TcpStream::connect(("127.0.0.1", m.smtp)).expect("connect to port 25");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut r = BufReader::new(s.try_clone().expect("clone"));
    let mut line = String::new();
    r.read_line(&mut line).expect("greeting");
    assert!(line.starts_with("220 "), "greeting: {line:?}");
    (&s).write_all(b"EHLO check.test\r\n").expect("write");
    loop {
        line.clear();
        r.read_line(&mut line).expect("EHLO reply");
        assert!(line.starts_with("250"), "EHLO reply: {line:?}");
        if line.as_bytes().get(3) == Some(&b' ') {
            break;
        }
    }
    (&s).write_all(b"QUIT\r\n").ok();
}

/// Waits (up to `secs`) until `f` holds.
pub fn wait_until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The log's `event` lines about `qid`.
pub fn events_of(m: &Mailward, event: &str, qid: &str) -> Vec<serde_json::Value> {
    m.log_lines()
        .into_iter()
        .filter(|l| l["event"] == event && l["queue_id"] == qid)
        .collect()
}
