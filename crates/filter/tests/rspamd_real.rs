//! The rspamd client against a real rspamd (Debian's package), started by this test as its
//! own instance: Debian's configuration with the local directories (`LOCAL_CONFDIR`,
//! `DBDIR`, `RUNDIR`) moved into a temporary directory, the workers on free loopback ports,
//! DNS pointed at a closed port so it fails fast offline, no redis (the modules that need it
//! stay off). Skipped when rspamd is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_filter::Context;
use mailward_filter::rspamd::{Rspamd, RspamdError, RspamdSettings};
use std::net::IpAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const RSPAMD: &str = "/usr/bin/rspamd";
const CONFIG: &str = "/etc/rspamd/rspamd.conf";

struct Daemon {
    _dir: tempfile::TempDir,
    /// The shell holding rspamd: it stops rspamd when our end of its stdin closes.
    _keeper: Child,
    url: String,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn start() -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path();
    for d in ["local.d", "override.d", "db", "run", "log"] {
        std::fs::create_dir(base.join(d)).unwrap();
    }
    let normal = free_port();
    for (worker, port) in [
        ("normal", normal),
        ("controller", free_port()),
        ("proxy", free_port()),
    ] {
        std::fs::write(
            base.join(format!("override.d/worker-{worker}.inc")),
            format!("bind_socket = \"127.0.0.1:{port}\";\ncount = 1;\n"),
        )
        .unwrap();
    }
    std::fs::write(
        base.join("local.d/options.inc"),
        "dns { nameserver = [\"127.0.0.1:1\"]; timeout = 0.2s; retransmits = 1; }\ndisable_hyperscan = true;\n",
    )
    .unwrap();
    std::fs::write(
        base.join("local.d/logging.inc"),
        format!(
            "type = \"file\"; filename = \"{}/log/rspamd.log\"; level = \"warning\";\n",
            base.display()
        ),
    )
    .unwrap();
    let var = |name: &str, sub: &str| format!("--var={name}={}", base.join(sub).display());
    let mut keeper = Command::new("sh")
        .arg("-c")
        // The directory goes with rspamd: a static's TempDir is never dropped.
        .arg("dir=\"$1\"; shift; \"$0\" \"$@\" & pid=$!; read _; kill $pid; wait $pid; rm -rf \"$dir\"")
        .arg(RSPAMD)
        .arg(base)
        .args(["-f", "-i", "-c", CONFIG])
        .arg(var("LOCAL_CONFDIR", ""))
        .arg(var("DBDIR", "db"))
        .arg(var("RUNDIR", "run"))
        .arg(var("LOGDIR", "log"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // rspamd compiles its regular expressions at the first start: give it time.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(180) {
        if std::net::TcpStream::connect(("127.0.0.1", normal)).is_ok() {
            eprintln!("rspamd listening after {:?}", started.elapsed());
            return Daemon {
                _dir: dir,
                _keeper: keeper,
                url: format!("http://127.0.0.1:{normal}"),
            };
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    // Closing its input makes the shell stop the daemon.
    drop(keeper.stdin.take());
    let _ = keeper.wait();
    let log = std::fs::read_to_string(base.join("log/rspamd.log")).unwrap_or_default();
    panic!("rspamd did not listen within 180 s; its log:\n{log}");
}

fn daemon() -> Option<&'static Daemon> {
    static DAEMON: OnceLock<Option<Daemon>> = OnceLock::new();
    DAEMON
        .get_or_init(|| {
            if Path::new(RSPAMD).exists() && Path::new(CONFIG).exists() {
                Some(start())
            } else {
                eprintln!("skipping: rspamd not installed (Debian package rspamd)");
                None
            }
        })
        .as_ref()
}

fn client(d: &Daemon) -> Rspamd {
    Rspamd::new(RspamdSettings {
        url: d.url.clone(),
        timeout: Duration::from_secs(60),
        ..RspamdSettings::default()
    })
    .unwrap()
}

fn context<'a>(rcpts: &'a [String]) -> Context<'a> {
    Context {
        queue_id: "R1",
        client_ip: IpAddr::from([192, 0, 2, 1]),
        helo: "mx.example.org",
        mail_from: "alice@example.org",
        rcpts,
        auth_user: None,
        auth: None,
    }
}

fn has(symbols: &[(String, f64)], name: &str) -> bool {
    symbols.iter().any(|(n, _)| n == name)
}

#[tokio::test]
async fn rspamd_scores_a_message_with_its_envelope() {
    let Some(d) = daemon() else { return };
    let rcpts = vec!["bob@example.com".to_owned(), "carol@example.com".to_owned()];
    let message = b"From: alice@example.org\r\nTo: bob@example.com, carol@example.com\r\n\
                    Subject: hello\r\n\r\nHello there.\r\n";
    let r = client(d).check(message, &context(&rcpts)).await.unwrap();
    // No Message-ID and no Date: rspamd's own rules say so, with their weights.
    assert!(has(&r.symbols, "MISSING_MID"), "{r:?}");
    assert!(has(&r.symbols, "MISSING_DATE"), "{r:?}");
    // Two `Rcpt` headers were sent, and the envelope sender matches From:.
    assert!(has(&r.symbols, "RCPT_COUNT_TWO"), "{r:?}");
    assert!(has(&r.symbols, "FROM_EQ_ENVFROM"), "{r:?}");
    let sum: f64 = r.symbols.iter().map(|(_, s)| s).sum();
    assert!((sum - r.score).abs() < 0.01, "{r:?}");
    assert!(r.score > 0.0 && r.required_score.is_some(), "{r:?}");
    assert!(!r.action.is_empty());
    // Highest first.
    assert!(r.symbols.windows(2).all(|w| w[0].1 >= w[1].1), "{r:?}");
}

#[tokio::test]
async fn a_well_formed_message_lacks_those_symbols() {
    let Some(d) = daemon() else { return };
    let rcpts = vec!["bob@example.com".to_owned()];
    let message = b"From: alice@example.org\r\nTo: bob@example.com\r\nSubject: hello\r\n\
                    Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n\
                    Message-ID: <1@example.org>\r\n\r\nHello there.\r\n";
    let r = client(d).check(message, &context(&rcpts)).await.unwrap();
    assert!(!has(&r.symbols, "MISSING_MID"), "{r:?}");
    assert!(has(&r.symbols, "RCPT_COUNT_ONE"), "{r:?}");
}

#[tokio::test]
async fn rspamd_down_is_an_error() {
    let rcpts = vec!["bob@example.com".to_owned()];
    let r = Rspamd::new(RspamdSettings {
        url: format!("http://127.0.0.1:{}", free_port()),
        ..RspamdSettings::default()
    })
    .unwrap()
    .check(b"Subject: x\r\n\r\nx\r\n", &context(&rcpts))
    .await;
    assert!(matches!(r, Err(RspamdError::Http(_))), "{r:?}");
}
