//! Outbound delivery between real processes (issue 15): two mailward instances on
//! 127.0.0.2 and 127.0.0.3 find each other through a real DNS server (Debian's dnsmasq)
//! serving MX and A records; mail that cannot go (unknown user, NXDOMAIN, null MX) comes
//! back to the sender as a delivery status notification; a smarthost with AUTH; a peer
//! without SMTPUTF8.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_dns;
mod common_serve;

use common_dns::start_dns;

use common_serve::{Mailward, PASSWORD, debian_tool};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A TCP port free on both 127.0.0.2 and 127.0.0.3 (the two instances' SMTP port: MX
/// hosts are all reached on one port).
fn free_port_on_both() -> u16 {
    for _ in 0..50 {
        let a = std::net::TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
        let port = a.local_addr().expect("addr").port();
        if std::net::TcpListener::bind(("127.0.0.3", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free on both 127.0.0.2 and 127.0.0.3");
}

/// One instance serving `domain` as `mx.<domain>` on `ip`.
fn instance(domain: &str, ip: &str, smtp_port: u16, dns_port: u16, extra: &str) -> Mailward {
    instance_full(domain, ip, smtp_port, dns_port, "", extra)
}

/// [`instance`] with more `[outbound]` keys.
fn instance_full(
    domain: &str,
    ip: &str,
    smtp_port: u16,
    dns_port: u16,
    outbound: &str,
    extra: &str,
) -> Mailward {
    instance_with(domain, ip, smtp_port, dns_port, outbound, "", extra)
}

/// [`instance_full`] with more `[relay]` keys (a smarthost).
fn instance_with(
    domain: &str,
    ip: &str,
    smtp_port: u16,
    dns_port: u16,
    outbound: &str,
    relay: &str,
    extra: &str,
) -> Mailward {
    let relay = relay.to_string();
    // `[outbound]` keys given by the caller replace the defaults below.
    let mut defaults = String::new();
    for line in [
        "connect_timeout = \"3s\"",
        "command_timeout = \"10s\"",
        "data_timeout = \"10s\"",
    ] {
        let key = line.split(' ').next().unwrap_or_default();
        if !outbound.lines().any(|l| l.starts_with(&format!("{key} "))) {
            defaults.push_str(line);
            defaults.push('\n');
        }
    }
    let outbound = format!("{defaults}{outbound}");
    let domain = domain.to_string();
    let ip = ip.to_string();
    let extra = extra.to_string();
    Mailward::launch_with(move |dir: &Path| {
        format!(
            r#"[server]
hostname = "mx.{domain}"
data_dir = "{data}"

[listen]
smtp = ["{ip}:{smtp_port}"]
submission = ["{ip}:0"]
imap = "{ip}:0"

[[domains]]
name = "{domain}"

[relay]
networks = []
{relay}
[dns]
resolver = "127.0.0.1:{dns_port}"

[outbound]
port = {smtp_port}
{outbound}
[queue]
retry_initial = "1s"
scan_interval = "1s"

[logging]
file = "{log}"
{extra}
"#,
            data = dir.join("data").display(),
            log = dir.join("mailward.log").display(),
        )
    })
}

fn py(args: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/outbound.py");
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "outbound.py {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or("null")).expect("JSON from outbound.py")
}

/// Waits until `m`'s log has an event `event` for recipient `to`.
fn wait_event(m: &Mailward, event: &str, to: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(l) = m
            .log_lines()
            .into_iter()
            .find(|l| l["event"] == event && l["to"] == to)
        {
            return l;
        }
        assert!(
            Instant::now() < deadline,
            "no {event} event for {to}; log:\n{}",
            m.log_tail(30)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn mx_records(port_records: &[&str]) -> Vec<String> {
    let mut v = vec![
        "--mx-host=a.test,mx.a.test,10".to_string(),
        "--mx-host=b.test,mx.b.test,10".to_string(),
        "--host-record=mx.a.test,127.0.0.2".to_string(),
        "--host-record=mx.b.test,127.0.0.3".to_string(),
        "--mx-host=nullmx.test,.,0".to_string(),
    ];
    v.extend(port_records.iter().map(|s| s.to_string()));
    v
}

fn submit(
    a: &Mailward,
    user: &str,
    to: &[&str],
    subject: &str,
    body: Option<&Path>,
) -> serde_json::Value {
    let port = a.listener_port("submission").to_string();
    let rcpts = to.join(",");
    let mut args = vec!["submit", &port, user, PASSWORD, user, &rcpts, subject];
    let body_s;
    if let Some(b) = body {
        body_s = b.display().to_string();
        args.push(&body_s);
    }
    py(&args)
}

/// python3-dkim's verdict on `message` (`0 pass`), with `records` as its DNS; `None` (and a
/// notice) when Debian's python3-dkim is missing.
fn verify_dkim(message: &str, records: &serde_json::Value) -> Option<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let msg = dir.path().join("msg.eml");
    let rec = dir.path().join("records.json");
    // IMAP gave the message with CRLF line ends; keep them as they are.
    std::fs::write(&msg, message).expect("write");
    std::fs::write(&rec, records.to_string()).expect("write");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../auth/tests/dkim_verify.py");
    let out = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(&msg)
        .arg(&rec)
        .output()
        .ok()?;
    if out.status.code() == Some(3) {
        eprintln!("SKIPPED: DKIM verification: python3-dkim is not installed");
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn mail_files(m: &Mailward, user: &str) -> Vec<(PathBuf, String)> {
    m.inbox(user)
}

#[test]
fn mail_goes_from_a_to_b_by_mx_and_what_cannot_go_comes_back_as_a_dsn() {
    let records = mx_records(&[]);
    let records: Vec<&str> = records.iter().map(String::as_str).collect();
    let Some(dns) = start_dns(&records) else {
        return;
    };
    let port = free_port_on_both();
    let mut a = instance("a.test", "127.0.0.2", port, dns.port, "");
    let b = instance("b.test", "127.0.0.3", port, dns.port, "");
    a.add_account("alice@a.test", None);
    b.add_account("bob@b.test", None);
    // a.test signs with DKIM (keys are read at start: restart A after keygen).
    let keygen = a.cli(
        &[
            "dkim",
            "keygen",
            "a.test",
            "--selector",
            "s1",
            "--algorithm",
            "ed25519",
        ],
        None,
    );
    let record = |key: &str| {
        keygen
            .lines()
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {key} in keygen output: {keygen}"))
    };
    let dkim_records = serde_json::json!({ record("Name:"): record("Value:") });
    a.kill9();
    a.spawn();

    let refused = submit(
        &a,
        "alice@a.test",
        &[
            "bob@b.test",
            "nobody@b.test",
            "x@nxdomain.test",
            "y@nullmx.test",
        ],
        "hello over MX",
        None,
    );
    assert_eq!(
        refused["refused"],
        serde_json::json!({}),
        "submission took all four"
    );

    // bob reads it on B over IMAP, with A's Received header (TLS between the two).
    let delivered = wait_event(&a, "delivered", "bob@b.test");
    assert_eq!(delivered["relay"], format!("mx.b.test[127.0.0.3]:{port}"));
    assert!(
        delivered["tls"]
            .as_str()
            .unwrap_or("")
            .starts_with("TLSv1_3"),
        "STARTTLS was offered, so it was used: {delivered}"
    );
    wait_event(&b, "delivered", "bob@b.test");
    let imap = b.listener_port("imap").to_string();
    let msgs = py(&["imap_messages", &imap, "bob@b.test", PASSWORD]);
    let msgs = msgs.as_array().expect("messages");
    assert_eq!(msgs.len(), 1, "delivered exactly once: {msgs:?}");
    assert_eq!(msgs[0]["subject"], "hello over MX");
    let received = msgs[0]["received"].to_string();
    assert!(received.contains("by mx.b.test"), "{received}");
    assert!(received.contains("by mx.a.test"), "{received}");
    // The message carries a DKIM signature of a.test that an independent verifier accepts.
    let dkim = msgs[0]["dkim"].to_string();
    assert!(dkim.contains("d=a.test") && dkim.contains("s=s1"), "{dkim}");
    if let Some(verdict) = verify_dkim(msgs[0]["raw"].as_str().unwrap_or(""), &dkim_records) {
        assert_eq!(
            verdict.trim(),
            "0 pass",
            "python3-dkim on the message bob received"
        );
    }

    // The rest failed at once, each with its reason, and alice gets one report.
    let nobody = wait_event(&a, "bounced", "nobody@b.test");
    assert_eq!(nobody["dsn"], "5.1.1");
    assert_eq!(wait_event(&a, "bounced", "x@nxdomain.test")["dsn"], "5.1.2");
    assert_eq!(wait_event(&a, "bounced", "y@nullmx.test")["dsn"], "5.1.10");
    let report = a.wait_for_mail("alice@a.test", "multipart/report");
    assert!(report.contains("From: Mail Delivery System <MAILER-DAEMON@mx.a.test>"));
    assert!(
        report.contains("Return-Path: <>"),
        "sent from the null sender"
    );
    for (rcpt, status) in [
        ("nobody@b.test", "5.1.1"),
        ("x@nxdomain.test", "5.1.2"),
        ("y@nullmx.test", "5.1.10"),
    ] {
        let block =
            format!("Final-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: {status}");
        assert!(report.contains(&block), "{block} in\n{report}");
    }
    assert!(report.contains("Remote-MTA: dns; mx.b.test"));
    assert!(report.contains("Diagnostic-Code: smtp; 550 5.1.1"));
    assert!(!report.contains("Final-Recipient: rfc822; bob@b.test"));

    // The queue is empty on both sides.
    for m in [&a, &b] {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !m.cli(&["queue", "list", "--json"], None).trim().is_empty() {
            assert!(Instant::now() < deadline, "queue not empty");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // `mailward logs flows` tells the remote delivery's whole story, the report tied to it.
    let flows = a.cli(&["logs", "flows", &a.log.display().to_string()], None);
    assert!(
        flows.contains(&format!(
            "to <bob@b.test>  sent  relay mx.b.test[127.0.0.3]:{port}"
        )),
        "{flows}"
    );
    assert!(flows.contains("to <nobody@b.test>  bounced"), "{flows}");
    assert!(
        flows.contains("delivery status notification for"),
        "{flows}"
    );
    // `mailward trace` reads the report.
    let (path, _) = mail_files(&a, "alice@a.test")
        .into_iter()
        .find(|(_, t)| t.contains("multipart/report"))
        .expect("report file");
    let trace = a.cli(&["trace", &path.display().to_string()], None);
    assert!(
        trace.contains("Undelivered Mail Returned to Sender"),
        "{trace}"
    );
    assert!(
        trace.contains(
            "nobody@b.test failed 5.1.1 permanent failure: bad destination mailbox address"
        ),
        "{trace}"
    );
    assert!(trace.contains("recipient address has null MX"), "{trace}");
    assert!(
        trace.contains("Subject    hello over MX"),
        "the returned message: {trace}"
    );
}

#[test]
fn a_smarthost_with_auth_carries_everything() {
    let records = mx_records(&[]);
    let records: Vec<&str> = records.iter().map(String::as_str).collect();
    let Some(dns) = start_dns(&records) else {
        return;
    };
    let port = free_port_on_both();
    // B is the smarthost: A sends everything to B's submission port with bob's password
    // (B lets its authenticated users send any From:, as an ISP's relay does).
    let b = instance(
        "b.test",
        "127.0.0.3",
        port,
        dns.port,
        "[submission]\nheader_from_policy = \"allow\"\n",
    );
    b.add_account("bob@b.test", None);
    b.add_account("carol@b.test", None);
    let b_submission = b.listener_port("submission");
    let a = instance_with(
        "a.test",
        "127.0.0.2",
        port,
        dns.port,
        "",
        &format!(
            "host = \"127.0.0.3:{b_submission}\"\nusername = \"bob@b.test\"\npassword = \"{PASSWORD}\"\n"
        ),
        "",
    );
    a.add_account("alice@a.test", None);
    submit(
        &a,
        "alice@a.test",
        &["carol@b.test"],
        "via the smarthost",
        None,
    );
    let sent = wait_event(&a, "delivered", "carol@b.test");
    assert_eq!(
        sent["relay"],
        format!("127.0.0.3[127.0.0.3]:{b_submission}")
    );
    assert!(
        sent["tls"].as_str().is_some(),
        "credentials only over TLS: {sent}"
    );
    // B took it on its submission port from the authenticated bob.
    let queued = b
        .log_lines()
        .into_iter()
        .find(|l| l["event"] == "queued" && l["to"] == "carol@b.test")
        .expect("queued on B");
    assert_eq!(queued["user"], "bob@b.test");
    b.wait_for_mail("carol@b.test", "via the smarthost");
}

/// A peer without SMTPUTF8 (Python's smtpd: 8BITMIME, no PIPELINING, CHUNKING, STARTTLS or
/// DSN) behind a `[[route]]`.
struct PlainPeer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for PlainPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PlainPeer {
    fn start() -> PlainPeer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let dir = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/outbound.py");
        let child = Command::new("python3")
            .arg(script)
            .args(["plain_peer", &port.to_string()])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the plain peer");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "plain peer did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        PlainPeer { child, port, dir }
    }

    /// The messages it took: (the JSON envelope line, the message).
    fn messages(&self) -> Vec<(serde_json::Value, String)> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(self.dir.path())
            .expect("peer dir")
            .flatten()
        {
            if e.path().extension().is_some_and(|x| x == "eml") {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                let (head, msg) = text.split_once('\n').unwrap_or(("null", ""));
                out.push((
                    serde_json::from_str(head).unwrap_or_default(),
                    msg.to_string(),
                ));
            }
        }
        out
    }
}

#[test]
fn an_internationalised_message_is_refused_not_mangled_by_a_peer_without_smtputf8() {
    let peer = PlainPeer::start();
    let records = mx_records(&[]);
    let records: Vec<&str> = records.iter().map(String::as_str).collect();
    let Some(dns) = start_dns(&records) else {
        return;
    };
    let port = free_port_on_both();
    let a = instance(
        "a.test",
        "127.0.0.2",
        port,
        dns.port,
        &format!(
            "[[route]]\ndomain = \"plain.test\"\nhost = \"127.0.0.1:{}\"\n",
            peer.port
        ),
    );
    a.add_account("alice@a.test", None);
    // An 8-bit body with plain ASCII addresses goes as BODY=8BITMIME (the peer offers it).
    let body = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(
        body.path(),
        "From: <alice@a.test>\r\nTo: <carol@plain.test>\r\nSubject: eight bits\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln\r\n",
    )
    .expect("write body");
    submit(
        &a,
        "alice@a.test",
        &["carol@plain.test"],
        "eight bits",
        Some(body.path()),
    );
    wait_event(&a, "delivered", "carol@plain.test");
    let got = peer.messages();
    assert_eq!(got.len(), 1);
    let options = got[0].0["options"].to_string();
    assert!(options.contains("\"BODY=8BITMIME\""), "{options}");
    assert!(
        options.contains("\"SIZE="),
        "SIZE offered, so declared: {options}"
    );
    assert!(got[0].1.contains("Grüße aus Köln"), "8-bit body intact");

    // An address that needs SMTPUTF8 is refused with 5.6.7 and reported, not downgraded.
    submit(
        &a,
        "alice@a.test",
        &["jörg@plain.test"],
        "utf8 address",
        None,
    );
    let bounced = wait_event(&a, "bounced", "jörg@plain.test");
    assert_eq!(bounced["dsn"], "5.6.7", "{bounced}");
    assert!(
        bounced["reason"]
            .as_str()
            .unwrap_or("")
            .contains("SMTPUTF8")
    );
    let report = a.wait_for_mail("alice@a.test", "Status: 5.6.7");
    assert!(report.contains("Action: failed"));
    assert_eq!(peer.messages().len(), 1, "nothing mangled reached the peer");
}

/// A private Postfix from `../shared/peers/postfix_maildir.sh` (root only), stopped on drop.
struct Postfix {
    script: PathBuf,
    port: u16,
    state: PathBuf,
    maildirs: tempfile::TempDir,
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .args(["stop", &self.port.to_string()])
            .env("PF_STATE", &self.state)
            .output();
    }
}

fn start_postfix() -> Option<Postfix> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peers/postfix_maildir.sh");
    if !script.exists() {
        eprintln!("SKIPPED: ../shared/peers is absent (Postfix interop)");
        return None;
    }
    if !Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
    {
        eprintln!("SKIPPED: Postfix interop needs root (postfix master)");
        return None;
    }
    debian_tool("postfix", "postfix")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let maildirs = tempfile::tempdir().expect("tempdir");
    let state = PathBuf::from(format!("/tmp/pf-mw-outbound-{port}"));
    let out = Command::new("bash")
        .arg(&script)
        .args(["start", &port.to_string()])
        .arg(maildirs.path())
        .env("PF_STATE", &state)
        .output()
        .expect("run postfix_maildir.sh");
    assert!(
        out.status.success(),
        "postfix did not start: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(Postfix {
        script,
        port,
        state,
        maildirs,
    })
}

impl Postfix {
    fn postconf(&self, settings: &[&str]) {
        let conf = self.state.join("conf");
        for s in settings {
            let ok = Command::new("postconf")
                .arg("-c")
                .arg(&conf)
                .args(["-e", s])
                .status()
                .is_ok_and(|st| st.success());
            assert!(ok, "postconf -e {s}");
        }
        let ok = Command::new("postfix")
            .arg("-c")
            .arg(&conf)
            .arg("reload")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|st| st.success());
        assert!(ok, "postfix reload");
    }

    fn maildir_files(&self, user: &str) -> Vec<String> {
        let dir = self
            .maildirs
            .path()
            .join("example.test")
            .join(user)
            .join("new");
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[test]
fn mailward_and_postfix_deliver_to_each_other() {
    let records = mx_records(&[]);
    let records: Vec<&str> = records.iter().map(String::as_str).collect();
    let Some(dns) = start_dns(&records) else {
        return;
    };
    let Some(postfix) = start_postfix() else {
        return;
    };
    let port = free_port_on_both();
    let a = instance(
        "a.test",
        "127.0.0.2",
        port,
        dns.port,
        &format!(
            "[[route]]\ndomain = \"example.test\"\nhost = \"127.0.0.1:{}\"\n",
            postfix.port
        ),
    );
    let b = instance("b.test", "127.0.0.3", port, dns.port, "");
    a.add_account("alice@a.test", None);
    b.add_account("bob@b.test", None);

    // mailward to Postfix.
    submit(
        &a,
        "alice@a.test",
        &["user1@example.test"],
        "mailward to postfix",
        None,
    );
    let sent = wait_event(&a, "delivered", "user1@example.test");
    assert_eq!(
        sent["relay"],
        format!("127.0.0.1[127.0.0.1]:{}", postfix.port)
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let delivered = loop {
        if let Some(m) = postfix
            .maildir_files("user1")
            .into_iter()
            .find(|m| m.contains("mailward to postfix"))
        {
            break m;
        }
        assert!(Instant::now() < deadline, "Postfix never delivered it");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(delivered.contains("by mx.a.test (mailward)"), "{delivered}");

    // Postfix to mailward: Postfix relays everything to B.
    postfix.postconf(&[
        &format!("relayhost = [127.0.0.3]:{port}"),
        "default_transport = smtp",
        "relay_transport = smtp",
    ]);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", postfix.port)).expect("postfix");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let script =
        "EHLO client.test\r\nMAIL FROM:<dave@bench.test>\r\nRCPT TO:<bob@b.test>\r\nDATA\r\n";
    use std::io::{Read, Write};
    let mut buf = [0u8; 4096];
    let _ = s.read(&mut buf);
    for line in script.split_inclusive("\r\n") {
        s.write_all(line.as_bytes()).expect("write");
        std::thread::sleep(Duration::from_millis(100));
        let _ = s.read(&mut buf);
    }
    s.write_all(b"From: dave@bench.test\r\nTo: bob@b.test\r\nSubject: postfix to mailward\r\n\r\nhello\r\n.\r\nQUIT\r\n")
        .expect("write");
    let _ = s.read(&mut buf);
    let text = b.wait_for_mail("bob@b.test", "postfix to mailward");
    assert!(text.contains("by mx.bench.test (Postfix)"), "{text}");
    let queued = b
        .log_lines()
        .into_iter()
        .find(|l| l["event"] == "queued" && l["to"] == "bob@b.test")
        .expect("queued on B");
    assert_eq!(queued["from"], "dave@bench.test");
}

/// A test CA and certificates signed by it (openssl), in `dir`.
fn make_certs(dir: &Path, names: &[(&str, &[&str])]) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=mailward test CA",
    ]);
    for (file, sans) in names {
        let san = sans
            .iter()
            .map(|n| format!("DNS:{n}"))
            .collect::<Vec<_>>()
            .join(",");
        std::fs::write(
            dir.join(format!("{file}.ext")),
            format!("subjectAltName={san}\n"),
        )
        .expect("ext");
        run(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{file}.key"),
            "-out",
            &format!("{file}.csr"),
            "-subj",
            &format!("/CN={}", sans[0]),
        ]);
        run(&[
            "x509",
            "-req",
            "-in",
            &format!("{file}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &format!("{file}.pem"),
            "-days",
            "2",
            "-extfile",
            &format!("{file}.ext"),
        ]);
    }
}

#[test]
fn mta_sts_enforce_sends_only_over_verified_tls_to_the_listed_mx() {
    if !Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
    {
        eprintln!("SKIPPED: the MTA-STS test serves its policy on port 443 (needs root)");
        return;
    }
    let certs = tempfile::tempdir().expect("tempdir");
    make_certs(
        certs.path(),
        &[
            ("mx", &["mx.b.test"]),
            ("sts", &["mta-sts.b.test", "mta-sts.c.test"]),
        ],
    );
    let policies = certs.path().join("policies");
    std::fs::create_dir_all(&policies).expect("mkdir");
    // b.test lists its real MX; c.test's MX is the same server, whose certificate does not
    // name mx.c.test: enforce must refuse to send there.
    std::fs::write(
        policies.join("mta-sts.b.test.txt"),
        "version: STSv1\r\nmode: enforce\r\nmx: mx.b.test\r\nmax_age: 86400\r\n",
    )
    .expect("policy");
    std::fs::write(
        policies.join("mta-sts.c.test.txt"),
        "version: STSv1\r\nmode: enforce\r\nmx: *.c.test\r\nmax_age: 86400\r\n",
    )
    .expect("policy");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/https_policy.py");
    let https = Command::new("python3")
        .arg(script)
        .arg("127.0.0.4")
        .arg(certs.path().join("sts.pem"))
        .arg(certs.path().join("sts.key"))
        .arg(&policies)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("https server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect("127.0.0.4:443").is_err() {
        assert!(Instant::now() < deadline, "https server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _https = Kill(https);
    let records = mx_records(&[
        "--txt-record=_mta-sts.b.test,v=STSv1; id=1",
        "--txt-record=_mta-sts.c.test,v=STSv1; id=1",
        "--host-record=mta-sts.b.test,127.0.0.4",
        "--host-record=mta-sts.c.test,127.0.0.4",
        "--mx-host=c.test,mx.c.test,10",
        "--host-record=mx.c.test,127.0.0.3",
    ]);
    let records: Vec<&str> = records.iter().map(String::as_str).collect();
    let Some(dns) = start_dns(&records) else {
        return;
    };
    let port = free_port_on_both();
    let b = instance(
        "b.test",
        "127.0.0.3",
        port,
        dns.port,
        &format!(
            "[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
            certs.path().join("mx.pem").display(),
            certs.path().join("mx.key").display()
        ),
    );
    let ca = certs.path().join("ca.pem");
    let a = instance_full(
        "a.test",
        "127.0.0.2",
        port,
        dns.port,
        &format!("ca_file = \"{}\"\n", ca.display()),
        "",
    );
    a.add_account("alice@a.test", None);
    b.add_account("bob@b.test", None);
    submit(
        &a,
        "alice@a.test",
        &["bob@b.test", "carol@c.test"],
        "under MTA-STS",
        None,
    );
    let sent = wait_event(&a, "delivered", "bob@b.test");
    assert!(
        sent["tls"].as_str().unwrap_or("").ends_with("verified"),
        "enforce: verified TLS to mx.b.test: {sent}"
    );
    let deferred = wait_event(&a, "deferred", "carol@c.test");
    let reason = deferred["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("TLS"),
        "a certificate not valid for mx.c.test: {reason}"
    );
    assert!(
        !b.log_lines()
            .iter()
            .any(|l| l["event"] == "rcpt" && l["to"] == "carol@c.test"),
        "nothing was sent to carol's MX without verified TLS"
    );

    // RFC 8689: a REQUIRETLS message goes only over verified TLS to a hop that offers
    // REQUIRETLS (B does, over TLS) and passes the option on.
    submit(
        &a,
        "alice@a.test",
        &["bob@b.test"],
        "REQUIRETLS please",
        None,
    );
    b.wait_for_mail("bob@b.test", "REQUIRETLS please");
    let sent = a
        .log_lines()
        .into_iter()
        .rfind(|l| l["event"] == "delivered" && l["to"] == "bob@b.test")
        .expect("delivered");
    assert!(
        sent["tls"].as_str().unwrap_or("").ends_with("verified"),
        "{sent}"
    );
}

/// A port where nothing listens (connections are refused at once).
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn a_recipient_that_keeps_failing_gets_one_delay_notice_then_expires_with_a_report() {
    let port = free_port_on_both();
    let dead = dead_port();
    let a = instance_full(
        "a.test",
        "127.0.0.2",
        port,
        9,
        "",
        &format!("[[route]]\ndomain = \"dead.test\"\nhost = \"127.0.0.1:{dead}\"\n"),
    );
    // The test's [queue] has retry_initial 1s; these make warning and expiry quick.
    let config = std::fs::read_to_string(&a.config).expect("config");
    let config = config.replace(
        "[queue]\n",
        "[queue]\ndelay_warning = \"2s\"\nmax_age = \"6s\"\nretry_max = \"1s\"\n",
    );
    std::fs::write(&a.config, config).expect("config");
    let mut a = a;
    a.kill9();
    a.spawn();
    a.add_account("alice@a.test", None);
    submit(
        &a,
        "alice@a.test",
        &["zoe@dead.test"],
        "to a dead host",
        None,
    );
    let deferred = wait_event(&a, "deferred", "zoe@dead.test");
    assert!(
        deferred["reason"]
            .as_str()
            .unwrap_or("")
            .contains("connect"),
        "{deferred}"
    );
    let delayed = a.wait_for_mail("alice@a.test", "Action: delayed");
    assert!(delayed.contains("Subject: Delayed Mail (still being retried)"));
    assert!(delayed.contains("Will-Retry-Until:"));
    let failed = a.wait_for_mail("alice@a.test", "Action: failed");
    assert!(failed.contains("Status: 4.4.7"), "{failed}");
    wait_event(&a, "expired", "zoe@dead.test");
    // One delay notice, one failure report: nothing more.
    std::thread::sleep(Duration::from_secs(2));
    let reports = a
        .inbox("alice@a.test")
        .into_iter()
        .filter(|(_, t)| t.contains("multipart/report"))
        .count();
    assert_eq!(reports, 2);
    assert!(a.cli(&["queue", "list", "--json"], None).trim().is_empty());
}

#[test]
fn queue_hold_release_and_bounce_act_on_a_waiting_message() {
    let port = free_port_on_both();
    let dead = dead_port();
    let a = instance_full(
        "a.test",
        "127.0.0.2",
        port,
        9,
        "",
        &format!("[[route]]\ndomain = \"dead.test\"\nhost = \"127.0.0.1:{dead}\"\n"),
    );
    a.add_account("alice@a.test", None);
    submit(
        &a,
        "alice@a.test",
        &["zoe@dead.test"],
        "held then bounced",
        None,
    );
    wait_event(&a, "deferred", "zoe@dead.test");
    let listed = a.cli(&["queue", "list", "--json"], None);
    let entry: serde_json::Value =
        serde_json::from_str(listed.lines().next().expect("one entry")).expect("json");
    let id = entry["envelope"]["id"].as_str().expect("id").to_string();
    assert_eq!(entry["envelope"]["rcpts"][0]["state"], "pending");
    assert!(
        entry["envelope"]["rcpts"][0]["last_error"]
            .as_str()
            .unwrap_or("")
            .contains(&dead.to_string()),
        "the last error names the host: {entry}"
    );

    a.cli(&["queue", "hold", &id], None);
    assert!(a.cli(&["queue", "list"], None).contains("held"));
    let attempts = |m: &Mailward| {
        m.log_lines()
            .iter()
            .filter(|l| l["event"] == "deferred" && l["to"] == "zoe@dead.test")
            .count()
    };
    let before = attempts(&a);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(attempts(&a), before, "no attempt while held");

    a.cli(&["queue", "release", &id], None);
    let deadline = Instant::now() + Duration::from_secs(10);
    while attempts(&a) == before {
        assert!(Instant::now() < deadline, "released but not attempted");
        std::thread::sleep(Duration::from_millis(100));
    }

    a.cli(&["queue", "bounce", &id], None);
    let report = a.wait_for_mail("alice@a.test", "Action: failed");
    assert!(report.contains("Final-Recipient: rfc822; zoe@dead.test"));
    assert!(report.contains("bounced by the postmaster"), "{report}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !a.cli(&["queue", "list", "--json"], None).trim().is_empty() {
        assert!(Instant::now() < deadline, "bounced message still queued");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_destination_that_never_answers_costs_one_time_out_not_one_per_message() {
    // A host that accepts connections and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().flatten() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(s);
        }
    });
    let port = free_port_on_both();
    let a = instance_full(
        "a.test",
        "127.0.0.2",
        port,
        9,
        "per_destination = 1\ncommand_timeout = \"2s\"\n",
        &format!("[[route]]\ndomain = \"silent.test\"\nhost = \"127.0.0.1:{silent_port}\"\n"),
    );
    // retry_initial 1s in the test configuration: the destination stays dead that long.
    a.add_account("alice@a.test", None);
    let rcpts: Vec<String> = (0..6).map(|i| format!("r{i}@silent.test")).collect();
    for r in &rcpts {
        submit(&a, "alice@a.test", &[r], &format!("to {r}"), None);
    }
    for r in &rcpts {
        wait_event(&a, "deferred", r);
    }
    let suspended = a
        .log_lines()
        .iter()
        .filter(|l| {
            l["event"] == "deferred"
                && l["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("temporarily suspended"))
        })
        .count();
    assert!(
        suspended >= 1,
        "later messages were deferred without a connection"
    );
    let n = accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        n < rcpts.len(),
        "{n} connections for {} messages",
        rcpts.len()
    );
}
