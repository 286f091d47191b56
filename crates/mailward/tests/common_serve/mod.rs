//! Starts the real `mailward serve` on ephemeral loopback ports with a temporary data
//! directory, and helps tests look at what it did (Maildir files, the JSON log).

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_mailward");
pub const PASSWORD: &str = "bob-secret";

pub struct Mailward {
    pub child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub log: PathBuf,
    pub smtp: u16,
    pub submission: u16,
    pub submissions: u16,
}

/// The configuration the tests use; `extra` is appended (e.g. a `[relay]` section).
pub fn config_text(dir: &Path, extra: &str) -> String {
    // With no DNS the inbound checks (SPF, DKIM, DMARC) would wait out their time bound on
    // every message: they are off unless a test brings a DNS server and its own `[verify]`
    // (see serve_verify.rs).
    let mut verify = if extra.contains("[verify]") {
        String::new()
    } else {
        "[verify]\ninbound = false\n".to_owned()
    };
    // The security gateway (spam score, disarm) would change the messages other tests
    // compare byte for byte: it is off unless a test configures `[filter]` (serve_filter.rs).
    if !extra.contains("[filter") {
        verify.push_str("\n[filter]\nenabled = false\n");
    }
    format!(
        r#"[server]
hostname = "mx.example.test"
data_dir = "{data}"

[listen]
smtp = ["127.0.0.1:0"]
submission = ["127.0.0.1:0"]
submissions = ["127.0.0.1:0"]

[[domains]]
name = "example.test"

[limits]
message_size = "100K"
auth_failures = 3
auth_fail_delay = "100ms"
auth_block = "60s"
errors = 10
connections_per_ip = 200
connection_rate_per_minute = 0

[queue]
retry_initial = "1s"
scan_interval = "1s"

# No DNS in these tests: mail for other .test domains goes to a port where nothing
# listens, so it is deferred (it waits in the queue) whatever the machine's resolver says.
# A test's own [[route]] for its domain wins (an exact domain before a suffix).
[dns]
resolver = "127.0.0.1:9"

[[route]]
domain = ".test"
host = "127.0.0.1:9"

[logging]
file = "{log}"
{verify}{extra}"#,
        data = dir.join("data").display(),
        log = dir.join("mailward.log").display(),
    )
}

impl Mailward {
    /// Starts a server with the test configuration plus `extra`.
    pub fn start(extra: &str) -> Mailward {
        Mailward::launch(|dir| config_text(dir, extra))
    }

    /// Starts a server with the test configuration plus `extra` and the `[listen]` lines
    /// `listeners` (e.g. `imap = "127.0.0.1:0"`), after the SMTP listeners.
    pub fn start_with_listeners(extra: &str, listeners: &str) -> Mailward {
        Mailward::launch(|dir| {
            config_text(dir, extra).replacen(
                "submissions = [\"127.0.0.1:0\"]\n",
                &format!("submissions = [\"127.0.0.1:0\"]\n{listeners}\n"),
                1,
            )
        })
    }

    /// Starts the test configuration with these `[limits]` keys set (replacing the test
    /// configuration's value where it has one), e.g. `[("command_timeout", "\"2s\"")]`.
    pub fn start_with_limits(limits: &[(&str, &str)]) -> Mailward {
        Mailward::start_with_listeners_and_limits("", limits)
    }

    /// [`Mailward::start_with_listeners`] and [`Mailward::start_with_limits`] together.
    pub fn start_with_listeners_and_limits(listeners: &str, limits: &[(&str, &str)]) -> Mailward {
        Mailward::launch(|dir| {
            let mut text = config_text(dir, "").replacen(
                "submissions = [\"127.0.0.1:0\"]\n",
                &format!("submissions = [\"127.0.0.1:0\"]\n{listeners}\n"),
                1,
            );
            for (key, value) in limits {
                let line = format!("{key} = {value}");
                let existing = text
                    .lines()
                    .find(|l| l.starts_with(&format!("{key} = ")))
                    .map(str::to_owned);
                text = match existing {
                    Some(old) => text.replacen(&old, &line, 1),
                    None => text.replacen("[limits]\n", &format!("[limits]\n{line}\n"), 1),
                };
            }
            text
        })
    }

    /// Starts the test configuration plus `extra` as `edit` rewrites it (to change a key
    /// of a section the test configuration already has, e.g. `[queue] concurrency`).
    pub fn start_edited(extra: &str, edit: impl FnOnce(String) -> String) -> Mailward {
        Mailward::launch(|dir| edit(config_text(dir, extra)))
    }

    /// Like [`Mailward::start`] with the smtp listener on a fixed free port (so clients can
    /// reconnect after a restart) and loopback trusted.
    pub fn start_fixed_smtp(extra: &str) -> Mailward {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        Mailward::launch(|dir| {
            config_text(dir, extra).replacen(
                "smtp = [\"127.0.0.1:0\"]",
                &format!("smtp = [\"127.0.0.1:{port}\"]"),
                1,
            )
        })
    }

    /// Starts a server whose whole configuration is `config(dir)` (it must listen on at
    /// least three listeners and log to `dir/mailward.log`).
    pub fn launch_with(config: impl FnOnce(&Path) -> String) -> Mailward {
        Mailward::launch(config)
    }

    /// Writes the configuration `config(dir)` into a new temporary directory and starts.
    fn launch(config: impl FnOnce(&Path) -> String) -> Mailward {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mailward.toml");
        std::fs::write(&path, config(dir.path())).expect("write config");
        let log = dir.path().join("mailward.log");
        let mut m = Mailward {
            child: None,
            dir,
            config: path,
            log,
            smtp: 0,
            submission: 0,
            submissions: 0,
        };
        m.spawn();
        m
    }

    /// The port of the listener named `listener` (`imap`, `pop3s`, ...), from its latest
    /// `listening` log event; waits up to 20 s for it.
    pub fn listener_port(&self, listener: &str) -> u16 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // The latest: a restarted server listens on new ephemeral ports.
            let found = self.log_lines().into_iter().rev().find_map(|l| {
                (l["event"] == "listening" && l["listener"] == listener)
                    .then(|| {
                        l["address"]
                            .as_str()
                            .and_then(|a| a.rsplit(':').next())
                            .and_then(|p| p.parse().ok())
                    })
                    .flatten()
            });
            if let Some(p) = found {
                return p;
            }
            assert!(Instant::now() < deadline, "no {listener} listener");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// (Re)starts the process and waits for its listeners.
    pub fn spawn(&mut self) {
        let already = self.log_lines().len();
        let child = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mailward serve");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let lines = self.log_lines();
            let listening: Vec<&serde_json::Value> = lines
                .iter()
                .skip(already)
                .filter(|l| l["event"] == "listening")
                .collect();
            if listening.len() >= 3 {
                for l in listening {
                    let port: u16 = l["address"]
                        .as_str()
                        .and_then(|a| a.rsplit(':').next())
                        .and_then(|p| p.parse().ok())
                        .expect("port in listening event");
                    match l["listener"].as_str() {
                        Some("smtp") => self.smtp = port,
                        Some("submission") => self.submission = port,
                        Some("submissions") => self.submissions = port,
                        _ => {}
                    }
                }
                return;
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!(
                    "mailward serve exited early: {status}; log: {:?}",
                    self.log_lines()
                );
            }
            assert!(
                Instant::now() < deadline,
                "mailward serve did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Runs a `mailward` subcommand with this server's config; returns stdout.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut cmd = Command::new(BIN);
        cmd.args(args).arg("--config").arg(&self.config);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run mailward");
        if let Some(mut si) = child.stdin.take()
            && let Some(text) = stdin
        {
            si.write_all(text.as_bytes()).expect("stdin");
        }
        let out = child.wait_with_output().expect("mailward output");
        assert!(
            out.status.success(),
            "mailward {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn add_account(&self, address: &str, quota: Option<&str>) {
        let mut args = vec!["account", "add", address, "--password-stdin"];
        if let Some(q) = quota {
            args.push("--quota");
            args.push(q);
        }
        self.cli(&args, Some(&format!("{PASSWORD}\n")));
    }

    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The Maildir of `user` (a local part at example.test, or a whole address).
    pub fn maildir(&self, user: &str) -> PathBuf {
        let (local, domain) = user.split_once('@').unwrap_or((user, "example.test"));
        self.dir
            .path()
            .join("data/mail")
            .join(domain)
            .join(local)
            .join("Maildir")
    }

    /// Files in `new/` of a user's INBOX.
    pub fn inbox(&self, user: &str) -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(self.maildir(user).join("new")) {
            for e in rd.flatten() {
                let text = String::from_utf8_lossy(&std::fs::read(e.path()).unwrap_or_default())
                    .into_owned();
                out.push((e.path(), text));
            }
        }
        out
    }

    /// Waits until `user` has a message containing `needle`.
    pub fn wait_for_mail(&self, user: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some((_, text)) = self
                .inbox(user)
                .into_iter()
                .find(|(_, t)| t.contains(needle))
            {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "no mail with {needle:?} for {user}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the log has an `event` line with `queue_id` (if given); returns it.
    pub fn wait_for_event(&self, event: &str, queue_id: Option<&str>) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(l) = self
                .log_lines()
                .into_iter()
                .find(|l| l["event"] == event && queue_id.is_none_or(|q| l["queue_id"] == q))
            {
                return l;
            }
            assert!(Instant::now() < deadline, "no {event} event in the log");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs a scenario of `tests/py/scenarios.py`; returns its JSON output.
    pub fn scenario(&self, name: &str) -> serde_json::Value {
        self.run_py(
            "scenarios.py",
            name,
            &[self.smtp, self.submission, self.submissions],
        )
    }

    /// Runs scenario `name` of the Python client `tests/py/SCRIPT` with the given ports;
    /// the test fails (showing the script's output and the log's tail) unless it succeeds.
    /// Returns the JSON object on the script's last line of output.
    pub fn run_py(&self, script: &str, name: &str, ports: &[u16]) -> serde_json::Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/py")
            .join(script);
        let out = Command::new("python3")
            .arg(path)
            .arg(name)
            .args(ports.iter().map(u16::to_string))
            .output()
            .expect("python3 is needed for these tests");
        assert!(
            out.status.success(),
            "scenario {name} of {script} failed:\n{}\n{}\nlog: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_tail(30)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(stdout.lines().last().unwrap_or("{}"))
            .unwrap_or(serde_json::Value::Null)
    }

    /// The last `n` lines of the server's log, newest first.
    pub fn log_tail(&self, n: usize) -> String {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .rev()
            .take(n)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Mailward {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGTERM first: graceful shutdown.
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A Debian tool the test needs: `Some(path)` when present; when absent the test fails,
/// unless `MAILWARD_SKIP_PEERS=1`, where it prints a notice and returns `None`.
pub fn debian_tool(name: &str, package: &str) -> Option<PathBuf> {
    for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return Some(p);
        }
    }
    if std::env::var("MAILWARD_SKIP_PEERS").as_deref() == Ok("1") {
        eprintln!(
            "SKIPPED: {name} not installed (Debian package {package}); MAILWARD_SKIP_PEERS=1"
        );
        return None;
    }
    panic!("{name} is not installed: apt-get install {package} (or set MAILWARD_SKIP_PEERS=1)");
}

/// A server with SMTP and one IMAP listener (no POP3) and the account `bob@example.test`,
/// for the IMAP scenario scripts of `tests/py/` that take `SMTP_PORT IMAP_PORT`.
pub struct ImapScenarios {
    pub m: Mailward,
    pub imap: u16,
    script: &'static str,
}

impl ImapScenarios {
    pub fn start(script: &'static str) -> ImapScenarios {
        let m = Mailward::start_with_listeners(
            "",
            "imap = \"127.0.0.1:0\"\nimaps = []\npop3 = []\npop3s = []",
        );
        let imap = m.listener_port("imap");
        m.add_account("bob@example.test", None);
        ImapScenarios { m, imap, script }
    }

    /// Runs one scenario of the script; returns its JSON output.
    pub fn py(&self, scenario: &str) -> serde_json::Value {
        self.m
            .run_py(self.script, scenario, &[self.m.smtp, self.imap])
    }

    /// Waits until bob's INBOX holds `n` messages (new/ and cur/).
    pub fn wait_inbox(&self, n: usize) {
        let base = self.m.maildir("bob");
        let count = || {
            ["new", "cur"]
                .iter()
                .filter_map(|d| std::fs::read_dir(base.join(d)).ok())
                .map(|rd| rd.flatten().count())
                .sum::<usize>()
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while count() < n {
            assert!(Instant::now() < deadline, "mail was not delivered");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A JSON array of strings (a scenario's raw response lines) as strings.
pub fn json_lines(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|l| l.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}
