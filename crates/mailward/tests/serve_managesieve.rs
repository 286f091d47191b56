//! `mailward serve` ManageSieve (RFC 5804) end to end: Debian's `sieve-connect` uploads,
//! lists, activates, downloads and deletes scripts over STARTTLS against the real binary;
//! raw-socket scenarios (`tests/py/managesieve_raw.py`) for what sieve-connect cannot send;
//! the admin commands `mailward sieve put|list|get|activate|rename|del` on the same store.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{BIN, Mailward, PASSWORD, debian_tool};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const USER: &str = "bob@example.test";

const SCRIPT: &str = "require [\"fileinto\", \"vacation\"];\r\n\
if header :contains \"subject\" \"[list]\" {\r\n  fileinto \"Lists\";\r\n  stop;\r\n}\r\n\
vacation :days 3 \"I am away.\";\r\n";

/// A server with a ManageSieve listener and bob; `extra` is added to the configuration.
fn start(extra: &str) -> (Mailward, u16) {
    let m = Mailward::start_with_listeners(extra, "managesieve = \"127.0.0.1:0\"");
    let port = m.listener_port("managesieve");
    m.add_account(USER, None);
    (m, port)
}

/// Runs sieve-connect with the password on its standard input (`--passwordfd 0`),
/// refusing authentication without TLS (`--noclearauth`): every run goes over STARTTLS.
fn sieve_connect(tool: &Path, port: u16, args: &[&str]) -> Output {
    let mut child = Command::new(tool)
        .args(["--server", "127.0.0.1", "--port", &port.to_string()])
        .args(["--user", USER, "--passwordfd", "0", "--authmech", "PLAIN"])
        .args(["--notlsverify", "--noclearauth"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sieve-connect");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "sieve-connect failed: {}", text(&o));
    text(&o)
}

fn script_dir(m: &Mailward) -> PathBuf {
    m.dir.path().join("data/sieve/example.test/bob")
}

#[test]
fn sieve_connect_uploads_activates_downloads_and_deletes_over_starttls() {
    let Some(tool) = debian_tool("sieve-connect", "sieve-connect") else {
        return;
    };
    let (m, port) = start("");
    let local = m.dir.path().join("vacation.sieve");
    std::fs::write(&local, SCRIPT).unwrap();
    let local_s = local.to_str().unwrap();

    ok(sieve_connect(
        &tool,
        port,
        &["--upload", "--localsieve", local_s, "--remotesieve", "away"],
    ));
    let listed = ok(sieve_connect(&tool, port, &["--list"]));
    assert!(listed.contains("away"), "{listed}");
    assert!(!listed.contains("ACTIVE"), "{listed}");

    ok(sieve_connect(
        &tool,
        port,
        &["--activate", "--remotesieve", "away"],
    ));
    let listed = ok(sieve_connect(&tool, port, &["--list"]));
    assert!(listed.contains("\"away\" ACTIVE"), "{listed}");
    // Where delivery (and an administrator) finds it.
    assert_eq!(
        std::fs::read_to_string(script_dir(&m).join("active")).unwrap(),
        "away\n"
    );
    assert_eq!(
        std::fs::read_to_string(script_dir(&m).join("away.sieve")).unwrap(),
        SCRIPT
    );

    let back = m.dir.path().join("back.sieve");
    ok(sieve_connect(
        &tool,
        port,
        &[
            "--download",
            "--remotesieve",
            "away",
            "--localsieve",
            back.to_str().unwrap(),
        ],
    ));
    assert_eq!(std::fs::read_to_string(&back).unwrap(), SCRIPT);

    // An invalid script is refused with its line and column, and not stored.
    let bad = m.dir.path().join("bad.sieve");
    std::fs::write(&bad, "keep;\r\nfrobnicate;\r\n").unwrap();
    let refused = sieve_connect(
        &tool,
        port,
        &[
            "--upload",
            "--localsieve",
            bad.to_str().unwrap(),
            "--remotesieve",
            "bad",
        ],
    );
    assert!(!refused.status.success());
    assert!(text(&refused).contains("NO \"2:1: "), "{}", text(&refused));
    assert!(!script_dir(&m).join("bad.sieve").exists());

    // The active script is not deleted (RFC 5804 §2.10); deactivated, it is.
    let active = sieve_connect(&tool, port, &["--delete", "--remotesieve", "away"]);
    assert!(!active.status.success());
    assert!(text(&active).contains("NO (ACTIVE)"), "{}", text(&active));
    ok(sieve_connect(&tool, port, &["--deactivate"]));
    ok(sieve_connect(
        &tool,
        port,
        &["--delete", "--remotesieve", "away"],
    ));
    let listed = ok(sieve_connect(&tool, port, &["--list"]));
    assert!(!listed.contains("away"), "{listed}");

    let lines = m.log_lines();
    let events: Vec<&str> = lines
        .iter()
        .filter(|l| l["protocol"] == "managesieve")
        .filter_map(|l| l["event"].as_str())
        .collect();
    for e in [
        "tls",
        "auth",
        "sieve_script_put",
        "sieve_script_activated",
        "sieve_script_invalid",
        "sieve_script_deleted",
    ] {
        assert!(events.contains(&e), "no {e} event in {events:?}");
    }
    let put = lines
        .iter()
        .find(|l| l["event"] == "sieve_script_put")
        .unwrap();
    assert_eq!(put["user"], USER);
    assert_eq!(put["name"], "away");
    assert_eq!(put["size"], SCRIPT.len());
}

#[test]
fn raw_protocol_capabilities_again_after_starttls() {
    let (m, port) = start("");
    m.run_py(
        "managesieve_raw.py",
        "capabilities_again_after_starttls",
        &[port],
    );
}

#[test]
fn raw_protocol_authenticate_before_starttls_is_refused() {
    let (m, port) = start("[relay]\nplaintext_auth_on_loopback = false\n");
    m.run_py(
        "managesieve_raw.py",
        "authenticate_before_starttls_is_refused",
        &[port],
    );
    let failed = m
        .log_lines()
        .into_iter()
        .find(|l| l["event"] == "auth_failed")
        .unwrap();
    assert_eq!(failed["reason"], "plaintext authentication before TLS");
}

#[test]
fn raw_protocol_literal_over_the_limit_is_bye() {
    let (m, port) = start("[sieve]\nmax_script_size = \"2K\"\n");
    m.run_py(
        "managesieve_raw.py",
        "literal_over_the_limit_is_bye",
        &[port],
    );
    assert!(!script_dir(&m).join("big.sieve").exists());
}

#[test]
fn raw_protocol_bad_passwords_are_throttled() {
    let (m, port) = start("");
    let out = m.run_py("managesieve_raw.py", "bad_passwords_are_throttled", &[port]);
    // `[limits] auth_failures = 3` in the test configuration.
    assert!(out["replies"].as_array().unwrap().len() <= 3, "{out}");
    assert!(m.log_lines().iter().any(|l| l["event"] == "refused"));
}

/// Runs `mailward` with the server's configuration; (status ok, stdout, stderr).
fn cli(m: &Mailward, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .arg("--config")
        .arg(&m.config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let o = child.wait_with_output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn admin_commands_manage_the_scripts_the_server_serves() {
    let Some(tool) = debian_tool("sieve-connect", "sieve-connect") else {
        return;
    };
    let (m, port) = start("");
    let (okay, _, err) = cli(&m, &["sieve", "put", USER, "main", "-"], Some(SCRIPT));
    assert!(okay, "{err}");
    let (okay, _, err) = cli(
        &m,
        &["sieve", "put", USER, "bad", "-"],
        Some("frobnicate;\n"),
    );
    assert!(!okay);
    assert!(err.contains("-:1:1: "), "{err}");
    let (okay, _, err) = cli(
        &m,
        &["sieve", "put", "nobody@example.test", "x", "-"],
        Some("keep;"),
    );
    assert!(!okay && err.contains("no such account"), "{err}");

    assert!(cli(&m, &["sieve", "activate", USER, "main"], None).0);
    let (_, list, _) = cli(&m, &["sieve", "list", USER], None);
    assert_eq!(list, format!("main\t{}  active\n", SCRIPT.len()));
    let (okay, _, err) = cli(&m, &["sieve", "del", USER, "main"], None);
    assert!(!okay && err.contains("is active"), "{err}");
    assert!(cli(&m, &["sieve", "rename", USER, "main", "away"], None).0);
    let (_, got, _) = cli(&m, &["sieve", "get", USER, "away"], None);
    assert_eq!(got, SCRIPT);

    // The user sees over ManageSieve what the administrator put.
    let listed = ok(sieve_connect(&tool, port, &["--list"]));
    assert!(listed.contains("\"away\" ACTIVE"), "{listed}");

    assert!(cli(&m, &["sieve", "activate", USER, "--none"], None).0);
    assert!(cli(&m, &["sieve", "del", USER, "away"], None).0);
    let (_, json, _) = cli(&m, &["sieve", "list", USER, "--json"], None);
    assert_eq!(json, "");
}
