//! `mailward serve` end to end: real clients (Python smtplib, swaks), real TLS, the real
//! binary on ephemeral loopback ports, checking replies, Maildir files and the JSON log.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{Mailward, debian_tool};
use std::process::Command;

/// Relaying from loopback is not trusted in these tests, so the relay rules are visible.
const UNTRUSTED_LOOPBACK: &str =
    "\n[relay]\nnetworks = [\"192.0.2.0/24\"]\nplaintext_auth_on_loopback = false\n";

fn server() -> Mailward {
    let m = Mailward::start(UNTRUSTED_LOOPBACK);
    m.add_account("bob@example.test", None);
    m
}

#[test]
fn port_25_delivers_to_maildir_with_trace_headers_and_logs() {
    let m = server();
    let out = m.scenario("plain_local");
    let qid = out["queue_id"].as_str().expect("queue id").to_string();
    let mail = m.wait_for_mail("bob", "plain-1@remote.test");
    // Return-Path and Delivered-To come first, then our Received with the queue ID.
    assert!(mail.starts_with("Return-Path: <alice@remote.test>\r\nDelivered-To: bob@example.test\r\nReceived: from client.remote.test (unknown [127.0.0.1])\r\n"), "{mail}");
    assert!(
        mail.contains(&format!(
            "by mx.example.test (mailward) with ESMTP id {qid}\r\n\tfor <bob+news@example.test>;"
        )),
        "{mail}"
    );
    assert!(
        mail.contains("\r\n.leading dot line\r\n"),
        "dot-unstuffed body: {mail}"
    );
    // The Maildir++ layout and the file name carry the size.
    let files = m.inbox("bob");
    let name = files[0]
        .0
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(name.contains(&format!(",S={}", mail.len())), "{name}");
    assert!(m.maildir("bob").join("cur").is_dir() && m.maildir("bob").join("tmp").is_dir());

    // The log tells the story with one queue ID.
    let log = m.log_lines();
    let queued = log
        .iter()
        .find(|l| l["event"] == "queued")
        .expect("queued event");
    assert_eq!(queued["queue_id"], qid.as_str());
    assert_eq!(queued["message_id"], "<plain-1@remote.test>");
    assert_eq!(queued["from"], "alice@remote.test");
    assert_eq!(queued["nrcpt"], 1);
    assert_eq!(queued["remote_ip"], "127.0.0.1");
    assert!(queued["session"].is_string() && queued["timestamp"].is_string());
    let delivered = m.wait_for_event("delivered", Some(&qid));
    assert_eq!(delivered["queue_id"], qid.as_str());
    assert_eq!(delivered["mailbox"], "example.test/bob/INBOX");
    assert_eq!(delivered["status"], "sent");
    assert!(delivered["delay"].is_f64());
    // `delay` counts from the arrival in milliseconds: it is the time from `queued` to
    // `delivered` plus the queue commit, not off by up to a second of truncated arrival.
    let secs_of_day = |ts: &serde_json::Value| -> f64 {
        let t = ts.as_str().and_then(|s| s.split('T').nth(1)).unwrap_or("");
        let mut parts = t.trim_end_matches('Z').split(':');
        let h: f64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
        let m: f64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
        let s: f64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
        h * 3600.0 + m * 60.0 + s
    };
    let mut between = secs_of_day(&delivered["timestamp"]) - secs_of_day(&queued["timestamp"]);
    if between < 0.0 {
        between += 86_400.0; // across midnight
    }
    let delay = delivered["delay"].as_f64().unwrap_or(-1.0);
    assert!(
        delay >= between - 0.002 && delay - between < 0.25,
        "delay {delay} s, queued→delivered {between} s"
    );
    let rejected = log
        .iter()
        .find(|l| l["event"] == "rcpt_rejected")
        .expect("rcpt_rejected");
    assert_eq!(rejected["code"], "550 5.1.1");
    for ev in ["connect", "helo", "mail_from", "rcpt", "disconnect"] {
        assert!(log.iter().any(|l| l["event"] == ev), "no {ev} event");
    }
    // Once delivered, the queue holds only the success report NOTIFY=SUCCESS asked for
    // (RFC 3461 §5.2.2), from the null sender to alice, waiting for remote delivery.
    let q = m.cli(&["queue", "list", "--json"], None);
    let rows: Vec<serde_json::Value> = q
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(rows.len(), 1, "{q}");
    assert_eq!(rows[0]["envelope"]["sender"], "");
    assert_eq!(
        rows[0]["envelope"]["rcpts"][0]["address"],
        "alice@remote.test"
    );
    let report = m.cli(
        &[
            "queue",
            "show",
            rows[0]["envelope"]["id"].as_str().expect("id"),
        ],
        None,
    );
    assert!(report.contains("Action: delivered"), "{report}");
    assert!(
        report.contains("Final-Recipient: rfc822; bob+news@example.test"),
        "{report}"
    );
}

#[test]
fn submission_587_needs_starttls_then_auth_and_owns_the_sender() {
    let m = server();
    m.scenario("submission_starttls");
    let mail = m.wait_for_mail("bob", "sub-1@laptop");
    assert!(mail.contains("(using TLSv1.3 with cipher TLS_"), "{mail}");
    assert!(
        mail.contains("(Authenticated sender: bob@example.test)"),
        "{mail}"
    );
    assert!(mail.contains("with ESMTPSA id "), "{mail}");
    let log = m.log_lines();
    assert!(
        log.iter()
            .any(|l| l["event"] == "tls" && l["tls_version"] == "TLSv1.3")
    );
    assert!(log.iter().any(|l| l["event"] == "auth"
        && l["user"] == "bob@example.test"
        && l["mechanism"] == "PLAIN"));
    assert!(
        log.iter()
            .any(|l| l["event"] == "queued" && l["user"] == "bob@example.test")
    );
}

#[test]
fn submissions_465_is_tls_from_the_first_byte_and_relays_for_users() {
    let m = server();
    m.cli(
        &[
            "alias",
            "add",
            "postmaster@example.test",
            "bob@example.test",
        ],
        None,
    );
    let out = m.scenario("submissions_tls");
    let qid = out["queue_id"].as_str().unwrap().to_string();
    let mail = m.wait_for_mail("bob", "ssl-1@laptop");
    assert!(
        mail.contains("Return-Path: <postmaster@example.test>"),
        "{mail}"
    );
    // The remote recipient waits in the queue (no DNS answers in these tests).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let q = m.cli(&["queue", "list"], None);
        if q.contains(&qid) && q.contains("someone@remote.test") && q.contains("Delivered") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "queue: {q}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let show = m.cli(&["queue", "show", &qid], None);
    assert!(show.contains("Message-ID: <ssl-1@laptop>"), "{show}");
    m.cli(&["queue", "delete", &qid], None);
    assert!(!m.cli(&["queue", "list"], None).contains(&qid));
}

#[test]
fn never_an_open_relay() {
    let m = server();
    let out = m.scenario("open_relay");
    assert_eq!(out["refused"].as_object().map(|o| o.len()), Some(9));
    let q = m.cli(&["queue", "list"], None);
    assert!(q.contains("0 message(s)"), "{q}");
}

#[test]
fn smtp_smuggling_is_refused_and_disconnected() {
    let m = server();
    m.scenario("smuggling");
    m.scenario("starttls_injection");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(m.inbox("bob").is_empty(), "nothing was delivered");
    assert!(!m.log_lines().iter().any(|l| l["event"] == "queued"));
}

#[test]
fn size_quota_and_error_limits() {
    let m = server();
    m.add_account("full@example.test", None);
    // One message in the mailbox, then a quota below its size: the mailbox is full.
    let deliver_one = Command::new("python3")
        .args(["-c", &format!("import smtplib; s=smtplib.SMTP('127.0.0.1',{}); s.sendmail('a@remote.test',['full@example.test'],'Subject: q\\r\\n\\r\\nx\\r\\n'); s.quit()", m.smtp)])
        .status()
        .expect("python3");
    assert!(deliver_one.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !m
        .cli(&["account", "list"], None)
        .lines()
        .any(|l| l.starts_with("full@") && !l.contains("used        0"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "first message never counted"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    m.cli(&["account", "quota", "full@example.test", "10"], None);
    m.scenario("limits");
}

#[test]
fn auth_failures_are_slowed_and_the_ip_refused() {
    let m = server();
    m.scenario("auth_failures");
    let log = m.log_lines();
    assert!(log.iter().filter(|l| l["event"] == "auth_failed").count() >= 3);
    assert!(
        log.iter()
            .any(|l| l["event"] == "refused" && l["code"] == "421 4.7.0")
    );
}

#[test]
fn chunking_bdat_message_is_delivered() {
    let m = server();
    m.scenario("chunking");
    let mail = m.wait_for_mail("bob", "bdat-1@remote.test");
    assert!(mail.contains("first part, second part\r\n"), "{mail}");
}

#[test]
fn swaks_sends_over_starttls_with_auth_and_over_plain_25() {
    let Some(swaks) = debian_tool("swaks", "swaks") else {
        return;
    };
    let m = server();
    let out = Command::new(&swaks)
        .args([
            "--server",
            &format!("127.0.0.1:{}", m.submission),
            "--tls",
            "--auth",
            "LOGIN",
        ])
        .args([
            "--auth-user",
            "bob@example.test",
            "--auth-password",
            common_serve::PASSWORD,
        ])
        .args(["--from", "bob@example.test", "--to", "bob@example.test"])
        .args(["--header", "Subject: swaks-587", "--body", "via swaks"])
        .output()
        .expect("swaks");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("<~  250 2.0.0 Ok: queued as "), "{text}");
    let mail = m.wait_for_mail("bob", "swaks-587");
    assert!(mail.contains("with ESMTPSA id"), "{mail}");

    let out = Command::new(&swaks)
        .args([
            "--server",
            &format!("127.0.0.1:{}", m.smtp),
            "--from",
            "x@remote.test",
            "--to",
            "nobody@example.test",
        ])
        .output()
        .expect("swaks");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("<** 550 5.1.1"), "{text}");
}

#[test]
fn config_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[[domains]]\nname = \"example.test\"\n[limits]\nmesage_size = \"1M\"\n",
    )
    .unwrap();
    let out = Command::new(common_serve::BIN)
        .args(["serve", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:4: key `limits.mesage_size`") && err.contains("unknown field"),
        "{err}"
    );
}

#[test]
fn accounts_aliases_and_dovecot_hashes_from_the_cli() {
    let m = server();
    // `--config` is accepted after the subcommand's own arguments too (helper puts it last).
    let list = m.cli(&["account", "list"], None);
    assert!(list.contains("bob@example.test"), "{list}");
    // A Dovecot SHA512-CRYPT hash (`openssl passwd -6 -salt saltsaltsalt password`, as
    // `doveadm pw -s SHA512-CRYPT` writes it) imports and then authenticates.
    let hash = "{SHA512-CRYPT}$6$saltsaltsalt$hu2MB85GKhCdSuPyy/Ac2I1avaZTRAa9f2YbpKlogMwpK13RIetDflQrNI0bK/af8sX3q7/Mi4VFc44T.vgRQ/";
    m.cli(
        &[
            "account",
            "add",
            "dove@example.test",
            "--password-hash",
            hash,
        ],
        None,
    );
    let login = Command::new("python3")
        .args(["-c", &format!("import smtplib,ssl; c=ssl.create_default_context(); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE; s=smtplib.SMTP_SSL('127.0.0.1',{},context=c); s.login('dove@example.test','password'); s.quit()", m.submissions)])
        .status()
        .expect("python3");
    assert!(
        login.success(),
        "imported SHA512-CRYPT password must authenticate"
    );
    let bad = Command::new(common_serve::BIN)
        .args(["--config"])
        .arg(&m.config)
        .args(["account", "add", "x@not-ours.test", "--password-stdin"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not served here"));
    m.cli(
        &[
            "alias",
            "add",
            "team@example.test",
            "bob@example.test",
            "dove@example.test",
        ],
        None,
    );
    assert!(
        m.cli(&["alias", "list"], None)
            .contains("team@example.test -> dove@example.test")
    );
    m.cli(&["account", "del", "dove@example.test"], None);
    assert!(!m.cli(&["account", "list"], None).contains("dove@"));
}
