//! The hand-off to a real rspamd (Debian's `rspamd`), started by the test with a private
//! configuration on free loopback ports and no DNS (every lookup fails fast): the GTUBE test
//! message reaches the reject threshold, an ordinary message stays below the tag threshold,
//! and a stopped rspamd leaves the score to our own rules.
//!
//! rspamd compiles its regular expressions on its first start (a minute on a slow machine);
//! the compiled cache is kept in the target directory so later runs start in seconds.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_filter::Action;
use mailward_filter::context::Context;
use mailward_filter::mime::{self, MimeLimits};
use mailward_filter::spam::rspamd::RspamdSettings;
use mailward_filter::spam::{self, SpamReport, SpamSettings};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NOW: i64 = 1_795_000_000;

/// The GTUBE line (rspamd's and SpamAssassin's documented test pattern), split so this file
/// is not itself a match.
fn gtube() -> String {
    format!(
        "From: a@example.com\r\nTo: bob@example.org\r\nSubject: test\r\n\r\n{}{}\r\n",
        "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-", "ANTI-UBE-TEST-EMAIL*C.34X"
    )
}

/// An ordinary note, dated now (rspamd compares the Date with its own clock).
fn ham() -> String {
    format!(
        "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: lunch\r\n\
Date: {}\r\nMessage-ID: <l1@example.com>\r\n\r\nSee you at noon.\r\n",
        chrono::Utc::now().to_rfc2822()
    )
}

struct Rspamd {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Rspamd {
    fn drop(&mut self) {
        // SIGTERM lets the main process stop its workers.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|u| u.split_whitespace().next() == Some("0"))
        })
        .unwrap_or(false)
}

fn open_to_all(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(p).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
}

/// rspamd on free ports; `None` (with a notice) when it is not installed.
fn start_rspamd() -> Option<Rspamd> {
    let Some(bin) = ["/usr/bin/rspamd", "/usr/sbin/rspamd"]
        .iter()
        .find(|p| Path::new(p).exists())
    else {
        println!("skipping: rspamd not installed (Debian package rspamd)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("local");
    std::fs::create_dir_all(conf.join("local.d")).unwrap();
    let (normal, controller, proxy) = (free_port(), free_port(), free_port());
    let write = |name: &str, text: String| {
        std::fs::write(conf.join("local.d").join(name), text).unwrap();
    };
    write(
        "worker-normal.inc",
        format!("bind_socket = \"127.0.0.1:{normal}\";\ncount = 1;\n"),
    );
    write(
        "worker-controller.inc",
        format!("bind_socket = \"127.0.0.1:{controller}\";\n"),
    );
    write(
        "worker-proxy.inc",
        format!("bind_socket = \"127.0.0.1:{proxy}\";\n"),
    );
    // Without DNS every HELO and From host fails to resolve: the host-name checks would
    // charge ordinary mail for the test's missing network.
    write("hfilter.conf", "enabled = false;\n".into());
    // No network: a name server that refuses at once.
    write(
        "options.inc",
        "dns { nameserver = [\"127.0.0.1:1\"]; timeout = 0.2s; retransmits = 1; }\n".into(),
    );
    // The compiled expressions are kept between runs.
    let db = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rspamd-db");
    let (run, log) = (dir.path().join("run"), dir.path().join("log"));
    for d in [&db, &run, &log, dir.path()] {
        open_to_all(d);
    }
    let mut cmd = Command::new(bin);
    cmd.arg("-f");
    if running_as_root() {
        cmd.args(["-u", "nobody", "-g", "nogroup"]);
    }
    let child = cmd
        .args(["-c", "/etc/rspamd/rspamd.conf"])
        .arg(format!("--var=LOCAL_CONFDIR={}", conf.display()))
        .arg(format!("--var=DBDIR={}", db.display()))
        .arg(format!("--var=RUNDIR={}", run.display()))
        .arg(format!("--var=LOGDIR={}", log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rspamd");
    let mut r = Rspamd {
        child,
        port: normal,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(240);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", normal)).is_ok() {
            return Some(r);
        }
        if r.child.try_wait().ok().flatten().is_some() {
            panic!("rspamd exited at start");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("rspamd did not listen within 4 minutes");
}

async fn score(raw: &[u8], settings: &SpamSettings) -> SpamReport {
    let parsed = mime::parse(raw).unwrap();
    let walk = mime::walk(&parsed, raw, &MimeLimits::default());
    let rcpts = vec!["bob@example.org".to_owned()];
    let ctx = Context {
        queue_id: "Q1",
        client_ip: "192.0.2.1".parse().unwrap(),
        helo: "mail.example.com",
        mail_from: "alice@example.com",
        rcpts: &rcpts,
        auth_user: None,
        auth: None,
    };
    spam::score_at(raw, &walk, &ctx, settings, None, NOW).await
}

#[tokio::test]
async fn rspamd_scores_gtube_for_rejection_and_ham_below_tag_and_falls_back_when_gone() {
    let Some(rspamd) = start_rspamd() else { return };
    let settings = SpamSettings {
        rspamd: Some(RspamdSettings {
            url: format!("http://127.0.0.1:{}", rspamd.port),
            timeout: Duration::from_secs(20),
            ..RspamdSettings::default()
        }),
        ..SpamSettings::default()
    };
    let spam_report = score(gtube().as_bytes(), &settings).await;
    assert!(
        spam_report
            .findings
            .iter()
            .all(|f| f.code != "rspamd_unavailable"),
        "{spam_report:?}"
    );
    assert_eq!(
        settings.action(spam_report.score),
        Action::Reject,
        "{spam_report:?}"
    );

    let ordinary = score(ham().as_bytes(), &settings).await;
    assert!(
        ordinary
            .findings
            .iter()
            .all(|f| f.code != "rspamd_unavailable"),
        "{ordinary:?}"
    );
    assert!(
        settings.action(ordinary.score) < Action::Tag,
        "{ordinary:?}"
    );

    drop(rspamd);
    let fallback = score(ham().as_bytes(), &settings).await;
    assert!(
        fallback
            .findings
            .iter()
            .any(|f| f.code == "rspamd_unavailable"),
        "{fallback:?}"
    );
    assert!(
        settings.action(fallback.score) < Action::Tag,
        "{fallback:?}"
    );
}
