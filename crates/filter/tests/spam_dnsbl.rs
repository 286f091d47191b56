//! DNS block lists (RFC 5782) answered over the wire by a private dnsmasq (Debian's
//! dnsmasq-base) started by the test: a listed client address, an unlisted one, a
//! Spamhaus-style error answer that lists nothing, a listed link domain, and a list that
//! never answers (the score waits `timeout`, then goes on without it).
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_auth::Resolver;
use mailward_filter::context::Context;
use mailward_filter::mime::{self, MimeLimits};
use mailward_filter::spam::{self, SpamReport, SpamSettings};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NOW: i64 = 1_795_000_000;

/// A running dnsmasq, stopped when dropped.
struct Dns {
    child: Child,
    port: u16,
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// dnsmasq authoritative for `.test` with `records`; `None` (with a notice) when it is not
/// installed.
fn start_dns(records: &[&str]) -> Option<Dns> {
    let Some(bin) = ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
    else {
        println!("skipping: dnsmasq not installed (Debian package dnsmasq-base)");
        return None;
    };
    // A free port may be taken before dnsmasq binds it: try again on another.
    for _ in 0..5 {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(&bin)
            .args([
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--conf-file=/dev/null",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                "--local=/test/",
                "--log-facility=-",
            ])
            .arg(format!("--port={port}"))
            .args(records)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if std::net::UdpSocket::bind(("127.0.0.1", port)).is_err() {
                return Some(Dns { child, port });
            }
            if child.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("dnsmasq did not start");
}

const RECORDS: &[&str] = &[
    // 192.0.2.99 listed, with a reason.
    "--host-record=99.2.0.192.dnsbl.test,127.0.0.2",
    "--txt-record=99.2.0.192.dnsbl.test,Listed: spam from 192.0.2.99",
    // 192.0.2.98 in the second list too, with its own code.
    "--host-record=99.2.0.192.other.test,127.0.0.4",
    // 192.0.2.97: the list says "you asked through a public resolver" (not a listing).
    "--host-record=97.2.0.192.dnsbl.test,127.255.255.254",
    // 2001:db8::99 listed (RFC 5782 §2.4 nibbles).
    "--host-record=9.9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.dnsbl.test,127.0.0.2",
    // A link domain in the domain list.
    "--host-record=pills-shop.com.uribl.test,127.0.0.2",
];

const MESSAGE: &str = "From: Shop <news@shop.example.com>\r\nTo: bob@example.org\r\n\
Subject: new arrivals\r\nDate: Wed, 18 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@shop.example.com>\r\n\
Content-Type: text/plain\r\n\r\nSee https://www.pills-shop.com/new and https://www.shop.example.com/\r\n";

fn settings() -> SpamSettings {
    SpamSettings {
        dnsbl: vec!["dnsbl.test".into(), "other.test".into()],
        uribl: vec!["uribl.test".into()],
        ..SpamSettings::default()
    }
}

async fn score(resolver: &Resolver, ip: &str, raw: &str, settings: &SpamSettings) -> SpamReport {
    let raw = raw.as_bytes();
    let parsed = mime::parse(raw).unwrap();
    let walk = mime::walk(&parsed, raw, &MimeLimits::default());
    let rcpts = vec!["bob@example.org".to_owned()];
    let ctx = Context {
        queue_id: "Q1",
        client_ip: ip.parse().unwrap(),
        helo: "mail.shop.example.com",
        mail_from: "news@shop.example.com",
        rcpts: &rcpts,
        auth_user: None,
        auth: None,
    };
    spam::score_at(raw, &walk, &ctx, settings, Some(resolver), NOW).await
}

fn of<'r>(r: &'r SpamReport, code: &str) -> Vec<&'r mailward_filter::Finding> {
    r.findings.iter().filter(|f| f.code == code).collect()
}

fn resolver(dns: &Dns) -> Resolver {
    let addr: SocketAddr = ([127, 0, 0, 1], dns.port).into();
    Resolver::with_servers(&[addr]).unwrap()
}

#[tokio::test]
async fn a_listed_client_address_scores_per_zone_with_the_reason() {
    let Some(dns) = start_dns(RECORDS) else {
        return;
    };
    let resolver = resolver(&dns);
    let plain = MESSAGE.replace("pills-shop.com", "shop.example.com");
    let r = score(&resolver, "192.0.2.99", &plain, &settings()).await;
    let listed = of(&r, "dnsbl");
    assert_eq!(listed.len(), 2, "{r:?}");
    assert!(
        listed[0]
            .detail
            .contains("192.0.2.99 is listed in dnsbl.test (127.0.0.2)")
    );
    assert!(
        listed[0].detail.contains("Listed: spam from 192.0.2.99"),
        "{}",
        listed[0].detail
    );
    assert!(listed[1].detail.contains("other.test (127.0.0.4)"));
    assert!((r.score - 12.0).abs() < 1e-9, "{r:?}");
    assert!(SpamSettings::default().action(r.score) >= mailward_filter::Action::Junk);

    // A zone's own weight.
    let mut weighted = settings();
    weighted.zone_scores.insert("other.test".into(), 1.5);
    let r = score(&resolver, "192.0.2.99", &plain, &weighted).await;
    assert!((r.score - 7.5).abs() < 1e-9, "{r:?}");
}

#[tokio::test]
async fn an_unlisted_address_and_an_error_answer_add_nothing() {
    let Some(dns) = start_dns(RECORDS) else {
        return;
    };
    let resolver = resolver(&dns);
    let plain = MESSAGE.replace("pills-shop.com", "shop.example.com");
    for ip in ["192.0.2.1", "192.0.2.97", "2001:db8::1"] {
        let r = score(&resolver, ip, &plain, &settings()).await;
        assert!(r.findings.is_empty(), "{ip}: {r:?}");
    }
}

#[tokio::test]
async fn an_ipv6_client_is_looked_up_by_nibbles() {
    let Some(dns) = start_dns(RECORDS) else {
        return;
    };
    let resolver = resolver(&dns);
    let plain = MESSAGE.replace("pills-shop.com", "shop.example.com");
    let r = score(&resolver, "2001:db8::99", &plain, &settings()).await;
    assert_eq!(of(&r, "dnsbl").len(), 1, "{r:?}");
}

#[tokio::test]
async fn a_listed_link_domain_scores() {
    let Some(dns) = start_dns(RECORDS) else {
        return;
    };
    let resolver = resolver(&dns);
    let r = score(&resolver, "192.0.2.1", MESSAGE, &settings()).await;
    let listed = of(&r, "uribl");
    assert_eq!(listed.len(), 1, "{r:?}");
    assert!(
        listed[0]
            .detail
            .contains("pills-shop.com is listed in uribl.test")
    );
    assert!((r.score - 5.0).abs() < 1e-9, "{r:?}");
}

#[tokio::test]
async fn a_list_that_never_answers_costs_the_timeout_and_nothing_more() {
    // A name server that reads queries and never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let resolver = Resolver::with_servers(&[silent.local_addr().unwrap()]).unwrap();
    let settings = SpamSettings {
        timeout: Duration::from_millis(300),
        ..settings()
    };
    let started = Instant::now();
    let r = score(&resolver, "192.0.2.99", MESSAGE, &settings).await;
    let took = started.elapsed();
    assert!(r.findings.is_empty(), "{r:?}");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}
