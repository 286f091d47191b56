//! `mailward probe` against real servers: a real `mailward serve` on loopback (banner,
//! STARTTLS with its self-signed certificate, AUTH before and after TLS, the relay test
//! refused and accepted, implicit TLS, `--json`), a domain served by Debian's `dnsmasq` (MX,
//! MTA-STS, TLSA), Debian's Postfix `smtpd`, and servers that are not there or never speak.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{BIN, Mailward, debian_tool};
use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Loopback is not a trusted network: relaying needs authentication.
const NO_RELAY_NETWORKS: &str = "\n[relay]\nnetworks = []\n";

fn probe(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("probe")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run mailward probe")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "probe --json did not print one JSON object ({e}): {}\n{}",
            text(out),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn probing_mailward_shows_banner_starttls_chain_auth_and_a_refused_relay() {
    let m = Mailward::start(NO_RELAY_NETWORKS);
    let target = format!("127.0.0.1:{}", m.smtp);
    let out = probe(&[
        &target,
        "--relay-test",
        "probe@remote.test",
        "someone@elsewhere.test",
        "--fail-on",
        "open-relay",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = json(&out);
    assert_eq!(r["banner"]["code"], 220, "{r:#}");
    assert!(
        r["banner"]["lines"][0]
            .as_str()
            .unwrap()
            .starts_with("mx.example.test ESMTP"),
        "{r:#}"
    );
    assert!(r["connect"]["connect_ms"].as_u64().is_some());
    // Before TLS: STARTTLS offered; AUTH too, since the client is on loopback
    // (`plaintext_auth_on_loopback` defaults to true), which the report flags.
    let before = &r["ehlo"];
    assert!(strings(&before["extensions"]).contains(&"STARTTLS".to_string()));
    assert!(strings(&before["keywords"]).contains(&"ENHANCEDSTATUSCODES".to_string()));
    assert_eq!(strings(&before["auth"]), ["PLAIN", "LOGIN"]);
    assert!(
        before["reply"]["lines"][0]
            .as_str()
            .unwrap()
            .starts_with("mx.example.test Hello"),
        "{r:#}"
    );
    // TLS with the self-signed certificate: shown, not verified, valid for years.
    let tls = &r["tls"];
    assert_eq!(tls["state"], "established", "{r:#}");
    assert_eq!(tls["version"], "TLSv1_3");
    assert!(tls["cipher"].as_str().unwrap().starts_with("TLS13_"));
    assert_eq!(tls["verified"], false);
    assert!(
        tls["verify_error"]
            .as_str()
            .unwrap()
            .contains("UnknownIssuer"),
        "{tls:#}"
    );
    let leaf = &tls["chain"][0];
    assert!(strings(&leaf["dns_names"]).contains(&"mx.example.test".to_string()));
    assert!(leaf["days_to_expiry"].as_i64().unwrap() > 300, "{leaf:#}");
    assert_eq!(leaf["expired_or_not_yet_valid"], false);
    assert_eq!(leaf["self_issued"], true);
    // After TLS: no STARTTLS any more (RFC 3207 §4.2), AUTH still offered.
    let after = &r["ehlo_after_tls"];
    assert!(!strings(&after["extensions"]).contains(&"STARTTLS".to_string()));
    assert_eq!(strings(&after["auth"]), ["PLAIN", "LOGIN"]);
    // The relay test ran over TLS and was refused with the server's words.
    let relay = &r["relay_test"];
    assert_eq!(relay["verdict"], "refused", "{relay:#}");
    assert_eq!(relay["over_tls"], true);
    assert_eq!(relay["mail"]["code"], 250);
    let code = relay["rcpt"]["code"].as_u64().unwrap();
    assert!(code == 554 || code == 550, "{relay:#}");
    assert!(
        relay["rcpt"]["lines"][0]
            .as_str()
            .unwrap()
            .contains("Relay access denied"),
        "{relay:#}"
    );
    let findings = r["findings"].to_string();
    assert!(findings.contains("does not verify"), "{findings}");
    assert!(findings.contains("before TLS"), "{findings}");
    assert!(!findings.contains("open relay"), "{findings}");

    // The same as text.
    let out = probe(&[
        &target,
        "--relay-test",
        "probe@remote.test",
        "someone@elsewhere.test",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out);
    for needle in [
        "banner       220 mx.example.test ESMTP",
        "EHLO (before TLS)",
        "TLS TLSv1_3 TLS13_",
        "verified     no, for 127.0.0.1",
        "names      mx.example.test",
        "days left",
        "EHLO (after TLS)",
        "AUTH         PLAIN LOGIN",
        "Relay test: refused (over TLS)",
        "Relay access denied",
    ] {
        assert!(t.contains(needle), "{needle:?} missing from:\n{t}");
    }
}

#[test]
fn auth_is_offered_only_after_tls_when_loopback_gets_no_plaintext_auth() {
    let m = Mailward::start("\n[relay]\nnetworks = []\nplaintext_auth_on_loopback = false\n");
    let out = probe(&[&format!("127.0.0.1:{}", m.smtp), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let r = json(&out);
    assert!(strings(&r["ehlo"]["auth"]).is_empty(), "{r:#}");
    assert_eq!(strings(&r["ehlo_after_tls"]["auth"]), ["PLAIN", "LOGIN"]);
    assert!(!r["findings"].to_string().contains("before TLS"));
}

#[test]
fn an_open_relay_is_reported_and_fails_with_fail_on_open_relay() {
    // The default relay networks trust loopback: from here, the server relays.
    let m = Mailward::start("");
    let target = format!("127.0.0.1:{}", m.smtp);
    let args = [
        target.as_str(),
        "--relay-test",
        "probe@remote.test",
        "someone@elsewhere.test",
    ];
    let out = probe(&args);
    assert_eq!(out.status.code(), Some(0), "no --fail-on: still 0");
    let t = text(&out);
    assert!(t.contains("Relay test: ACCEPTED: open relay"), "{t}");
    assert!(t.contains("problem   open relay"), "{t}");

    let mut strict = args.to_vec();
    strict.extend(["--fail-on", "open-relay", "--json"]);
    let out = probe(&strict);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let r = json(&out);
    assert_eq!(r["relay_test"]["verdict"], "accepted");
    assert_eq!(r["relay_test"]["rcpt"]["code"], 250);
    // Nothing was sent: RSET, never DATA.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !m.log_lines().iter().any(|l| l["event"] == "queued"),
        "the relay test queued a message: {}",
        m.log_tail(20)
    );
}

#[test]
fn implicit_tls_on_the_submissions_port() {
    let m = Mailward::start(NO_RELAY_NETWORKS);
    let out = probe(&[
        &format!("127.0.0.1:{}", m.submissions),
        "--implicit-tls",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = json(&out);
    assert_eq!(r["implicit_tls"], true);
    assert_eq!(r["tls"]["state"], "established");
    assert_eq!(r["banner"]["code"], 220);
    assert!(r["ehlo_after_tls"].is_null());
    assert!(!strings(&r["ehlo"]["extensions"]).contains(&"STARTTLS".to_string()));
    assert_eq!(strings(&r["ehlo"]["auth"]), ["PLAIN", "LOGIN"]);
}

#[test]
fn no_tls_leaves_starttls_untried() {
    let m = Mailward::start(NO_RELAY_NETWORKS);
    let out = probe(&[&format!("127.0.0.1:{}", m.smtp), "--no-tls", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let r = json(&out);
    assert_eq!(r["tls"]["state"], "not_tried");
    assert!(r["tls"]["chain"].as_array().unwrap().is_empty());
}

#[test]
fn a_closed_port_exits_2() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = probe(&[&format!("127.0.0.1:{port}"), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let r = json(&out);
    assert!(r["banner"].is_null());
    assert!(
        r["connect"]["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{r:#}"
    );
}

#[test]
fn regress_a_server_that_never_greets_does_not_hang_the_probe() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts and says nothing, holding the connection open.
    let holder = std::thread::spawn(move || {
        let held: Vec<TcpStream> = listener.incoming().take(1).flatten().collect();
        std::thread::sleep(Duration::from_secs(8));
        drop(held);
    });
    let started = Instant::now();
    let out = probe(&[&format!("127.0.0.1:{port}"), "--timeout", "1s"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        text(&out).contains("timed out waiting for greeting"),
        "{}",
        text(&out)
    );
    drop(holder);
}

#[test]
fn bytes_that_are_not_smtp_end_the_probe_with_a_reason() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Some(Ok(mut s)) = listener.incoming().next() {
            use std::io::Write;
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            std::thread::sleep(Duration::from_secs(2));
        }
    });
    let out = probe(&[&format!("127.0.0.1:{port}"), "--timeout", "2s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("not an SMTP reply"), "{}", text(&out));
}

// ---- a domain served by dnsmasq: MX, MTA-STS and TLSA -------------------------------------

struct Dnsmasq(std::process::Child);

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_dnsmasq(dnsmasq: &Path, dir: &Path, port: u16, records: &[String]) -> Dnsmasq {
    let child = Command::new(dnsmasq)
        .args([
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--conf-file=/dev/null",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
        ])
        .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
        .arg(format!("--port={port}"))
        .args(records)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dnsmasq");
    let d = Dnsmasq(child);
    // Wait until it answers on TCP (it listens on TCP and UDP of the same port).
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "dnsmasq did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    d
}

/// The SHA-256 of the server's SubjectPublicKeyInfo, read with the probe's own output.
fn spki_sha256_via_openssl(port: u16) -> Option<String> {
    let script = format!(
        "openssl s_client -connect 127.0.0.1:{port} </dev/null 2>/dev/null | openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum"
    );
    let out = Command::new("sh").arg("-c").arg(script).output().ok()?;
    let hex = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()?
        .to_string();
    (hex.len() == 64).then_some(hex)
}

#[test]
fn a_domain_probe_finds_the_best_mx_mta_sts_and_tlsa_records() {
    let Some(dnsmasq) = debian_tool("dnsmasq", "dnsmasq-base") else {
        return;
    };
    let Some(_openssl) = debian_tool("openssl", "openssl") else {
        return;
    };
    let m = Mailward::start(NO_RELAY_NETWORKS);
    let spki = spki_sha256_via_openssl(m.submissions).expect("openssl reads the certificate");
    let dns_port = free_udp_port();
    let tlsa = format!("_{}._tcp.mx.b.test", m.submissions);
    let _dns = start_dnsmasq(
        &dnsmasq,
        m.dir.path(),
        dns_port,
        &[
            "--mx-host=b.test,mx.b.test,10".into(),
            "--mx-host=b.test,backup.b.test,20".into(),
            "--host-record=mx.b.test,127.0.0.1".into(),
            "--txt-record=_mta-sts.b.test,v=STSv1; id=20250101T000000".into(),
            // DANE-EE SPKI SHA-256 of the server's key, and one that matches nothing.
            format!("--dns-rr={tlsa},52,030101{spki}"),
            format!("--dns-rr={tlsa},52,030101{}", "00".repeat(32)),
            "--txt-record=_mta-sts.c.test,v=STSv1; id=bad-id".into(),
        ],
    );
    let resolver = format!("127.0.0.1:{dns_port}");
    let out = probe(&[
        "b.test",
        "--mx",
        "--port",
        &m.submissions.to_string(),
        "--implicit-tls",
        "--resolver",
        &resolver,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = json(&out);
    let d = &r["domain"];
    assert_eq!(d["mx"][0]["exchange"], "mx.b.test", "{r:#}");
    assert_eq!(d["mx"][1]["exchange"], "backup.b.test");
    assert_eq!(d["chosen"], "mx.b.test");
    assert_eq!(r["host"], "mx.b.test");
    assert_eq!(d["mta_sts"]["record"]["state"], "published");
    assert_eq!(d["mta_sts"]["record"]["id"], "20250101T000000");
    assert_eq!(
        d["mta_sts"]["policy_url"],
        "https://mta-sts.b.test/.well-known/mta-sts.txt"
    );
    assert_eq!(r["tls"]["verify_name"], "mx.b.test");
    let dane = &r["dane"];
    assert_eq!(dane["name"], tlsa);
    let records = dane["records"].as_array().unwrap();
    assert_eq!(records.len(), 2, "{dane:#}");
    let matched: Vec<&Value> = records
        .iter()
        .filter(|t| t["matches_certificate"] == 0)
        .collect();
    assert_eq!(matched.len(), 1, "{dane:#}");
    assert_eq!(matched[0]["data"], spki);
    assert!(
        dane["dnssec"]
            .as_str()
            .unwrap()
            .contains("DNSSEC validation not available")
    );

    // A domain without MX falls back to itself; an invalid MTA-STS record is named.
    let out = probe(&[
        "--domain",
        "c.test",
        &format!("127.0.0.1:{}", m.smtp),
        "--resolver",
        &resolver,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("Domain c.test"), "{t}");
    assert!(t.contains("invalid record"), "{t}");
    assert!(
        t.contains("senders act as if there were no MTA-STS policy"),
        "{t}"
    );

    // A domain that does not exist: nothing to probe, exit 2.
    let out = probe(&[
        "nx.test",
        "--mx",
        "--resolver",
        &resolver,
        "--timeout",
        "3s",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

// ---- Debian's Postfix smtpd ---------------------------------------------------------------

struct Postfix {
    conf: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(&self.conf)
            .arg("stop")
            .output();
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn sh(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A private Postfix (Debian's master.cf with chroot off) whose smtpd listens on
/// 127.0.0.1:`port` with STARTTLS and a certificate valid for 10 days, relaying for nobody.
fn start_postfix(port: u16) -> Postfix {
    let dir = tempfile::Builder::new()
        .prefix("mailward-probe-pf-")
        .tempdir_in("/tmp")
        .unwrap();
    let root = dir.path().to_path_buf();
    let (conf, queue, data) = (root.join("conf"), root.join("queue"), root.join("data"));
    for d in [&conf, &queue, &data] {
        std::fs::create_dir_all(d).unwrap();
    }
    sh(Command::new("chmod")
        .arg("0755")
        .arg(&root)
        .arg(&conf)
        .arg(&queue));
    sh(Command::new("chown").arg("postfix:postfix").arg(&data));
    sh(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "10",
        "-subj",
        "/CN=mx.postfix.test",
        "-addext",
        "subjectAltName=DNS:mx.postfix.test",
        "-keyout",
        &conf.join("key.pem").display().to_string(),
        "-out",
        &conf.join("cert.pem").display().to_string(),
    ]));
    let master = std::fs::read_to_string("/etc/postfix/master.cf").unwrap_or_default();
    let mut out = String::new();
    for line in master.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with('#') || line.starts_with(' ') || line.starts_with('\t') || f.len() < 8 {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut f: Vec<String> = f.iter().map(|s| s.to_string()).collect();
        if let Some(chroot) = f.get_mut(4)
            && (chroot == "y" || chroot == "-")
        {
            *chroot = "n".into();
        }
        if f.first().map(String::as_str) == Some("smtp")
            && f.get(1).map(String::as_str) == Some("inet")
        {
            out.push_str(&format!("127.0.0.1:{port} inet n - n - - smtpd\n"));
            continue;
        }
        out.push_str(&f.join(" "));
        out.push('\n');
    }
    std::fs::write(conf.join("master.cf"), out).unwrap();
    let main = format!(
        "compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
myhostname = mx.postfix.test
mydestination = postfix.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 192.0.2.0/24
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_tls_security_level = may
smtpd_tls_cert_file = {conf}/cert.pem
smtpd_tls_key_file = {conf}/key.pem
maillog_file_prefixes = /var, /tmp
maillog_file = {root}/mail.log
",
        queue = queue.display(),
        data = data.display(),
        conf = conf.display(),
        root = root.display(),
    );
    std::fs::write(conf.join("main.cf"), main).unwrap();
    let start = Command::new("postfix")
        .arg("-c")
        .arg(&conf)
        .arg("start")
        .output();
    if !start.as_ref().is_ok_and(|o| o.status.success()) {
        let why = Command::new("script")
            .args([
                "-qec",
                &format!("postfix -c {} start", conf.display()),
                "/dev/null",
            ])
            .output();
        panic!("postfix start failed: {start:?} {why:?}");
    }
    let pf = Postfix { conf, _dir: dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "postfix did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    pf
}

#[test]
fn probing_postfix_shows_its_starttls_certificate_expiry_and_relay_refusal() {
    let Some(_postfix) = debian_tool("postfix", "postfix") else {
        return;
    };
    if !is_root() {
        if std::env::var("MAILWARD_SKIP_PEERS").as_deref() == Ok("1") {
            eprintln!("SKIPPED: a private Postfix needs root; MAILWARD_SKIP_PEERS=1");
            return;
        }
        panic!("this test runs a private Postfix and must run as root (or MAILWARD_SKIP_PEERS=1)");
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _pf = start_postfix(port);
    let out = probe(&[
        &format!("127.0.0.1:{port}"),
        "--relay-test",
        "probe@remote.test",
        "someone@elsewhere.test",
        "--fail-on",
        "open-relay",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = json(&out);
    assert!(
        r["banner"]["lines"][0]
            .as_str()
            .unwrap()
            .starts_with("mx.postfix.test ESMTP"),
        "{r:#}"
    );
    assert!(strings(&r["ehlo"]["extensions"]).contains(&"STARTTLS".to_string()));
    assert_eq!(r["tls"]["state"], "established", "{r:#}");
    let leaf = &r["tls"]["chain"][0];
    assert_eq!(leaf["subject"], "CN=mx.postfix.test");
    assert_eq!(strings(&leaf["dns_names"]), ["mx.postfix.test"]);
    assert_eq!(leaf["key"], "RSA 2048");
    let days = leaf["days_to_expiry"].as_i64().unwrap();
    assert!((8..=10).contains(&days), "{leaf:#}");
    assert!(
        r["findings"]
            .to_string()
            .contains("the certificate expires in"),
        "{r:#}"
    );
    assert_eq!(r["relay_test"]["verdict"], "refused");
    assert_eq!(r["relay_test"]["rcpt"]["code"], 554);
    assert!(
        r["relay_test"]["rcpt"]["lines"][0]
            .as_str()
            .unwrap()
            .contains("Relay access denied")
    );
}
