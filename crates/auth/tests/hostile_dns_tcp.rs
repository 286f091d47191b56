//! Hostile DNS answers where the transport matters, from a tiny DNS server in Python
//! (`hostile_dns_server.py`, standard library only): TXT records of 64 KB, truncated over
//! UDP so the resolver must ask again over TCP, as an SPF policy and as a DKIM key; and a
//! name the server never answers. Each gives the RFC's permerror/temperror with a reason in
//! `Authentication-Results:`, within a time bound.
//!
//! Needs `/usr/bin/python3`; without it the tests print `SKIPPED: ...` and pass.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use base64::Engine as _;
use mailward_auth::Resolver;
use mailward_auth::verify::{
    AuthenticationResults, Lookups, Status, check_spf_mail_from, verify_dkim,
};
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PYTHON: &str = "/usr/bin/python3";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hostile_dns_server.py");

/// The running server, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Option<Server> {
    if !std::path::Path::new(PYTHON).exists() {
        println!("SKIPPED: {PYTHON} is not installed");
        return None;
    }
    let mut child = Command::new(PYTHON)
        .arg(SCRIPT)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().parse().expect("the server prints its port");
    Some(Server { child, port })
}

fn resolver(server: &Server) -> Resolver {
    let addr: SocketAddr = ([127, 0, 0, 1], server.port).into();
    Resolver::with_servers(&[addr]).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn spf_record_of_64_kilobytes_over_tcp_is_a_permerror() {
    let Some(server) = start() else { return };
    let resolver = resolver(&server);
    let lookups = Lookups::live(&resolver);
    let ip: IpAddr = "192.0.2.10".parse().unwrap();
    let check = tokio::time::timeout(
        Duration::from_secs(30),
        check_spf_mail_from(&lookups, ip, "mta.test", "<bob@big.test>", "mx.test"),
    )
    .await
    .expect("the check hung");
    let mut ar = AuthenticationResults::new("mx.test");
    ar.spf(&check);
    let ar = ar.to_field();
    assert_eq!(check.verdict.status, Status::PermError, "{ar}");
    // The reason proves the whole record came over TCP: it was measured, not cut at 512.
    assert!(ar.contains("the record is 64770 bytes long"), "{ar}");
    assert!(ar.len() < 1000, "the field stays short: {} bytes", ar.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn dkim_key_of_64_kilobytes_over_tcp_is_a_permerror() {
    let Some(server) = start() else { return };
    let resolver = resolver(&server);
    let lookups = Lookups::live(&resolver);
    let body = b"Hello\r\n";
    let bh = base64::engine::general_purpose::STANDARD
        .encode(ring::digest::digest(&ring::digest::SHA256, body));
    let message = format!(
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=big.test; s=sel;\r\n\th=from:to:subject; bh={bh};\r\n\tb=dGhpcyBpcyBub3QgYSBzaWduYXR1cmUgYXQgYWxs\r\nFrom: <bob@big.test>\r\nTo: you@mx.test\r\nSubject: hi\r\n\r\nHello\r\n"
    );
    let checks = tokio::time::timeout(
        Duration::from_secs(30),
        verify_dkim(&lookups, message.as_bytes()),
    )
    .await
    .expect("the check hung");
    let mut ar = AuthenticationResults::new("mx.test");
    ar.dkim(&checks);
    let ar = ar.to_field();
    assert_eq!(checks.len(), 1, "{ar}");
    // RFC 6376 §6.1.2: a key record that does not parse is a PERMFAIL.
    assert_eq!(checks[0].verdict.status, Status::PermError, "{ar}");
    assert!(
        ar.contains("dkim=permerror reason=\"Invalid record\""),
        "{ar}"
    );
    assert!(ar.len() < 1000, "the field stays short: {} bytes", ar.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn regress_spf_name_never_answered_is_one_temperror_not_a_double_wait() {
    let Some(server) = start() else { return };
    let resolver = resolver(&server);
    let lookups = Lookups::live(&resolver);
    let ip: IpAddr = "192.0.2.10".parse().unwrap();
    // The resolver gives up after about 15 s (5 s per try); the SPF audit must not ask the
    // name that failed again (which doubled the wait).
    let check = tokio::time::timeout(
        Duration::from_secs(25),
        check_spf_mail_from(&lookups, ip, "mta.test", "<bob@silent.test>", "mx.test"),
    )
    .await
    .expect("the check hung");
    let mut ar = AuthenticationResults::new("mx.test");
    ar.spf(&check);
    let ar = ar.to_field();
    assert_eq!(check.verdict.status, Status::TempError, "{ar}");
    assert!(ar.contains("DNS lookup failed"), "{ar}");
}
