//! `inbound::assess`: the checks run together on one message with the records in memory,
//! the decision the DMARC policy leads to, the fields written, and the time bound.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_auth::Resolver;
use mailward_auth::dkim::{KeyAlgorithm, Signer, keygen, store_new_key};
use mailward_auth::inbound::{Client, Decision, InboundSettings, assess};
use mailward_auth::verify::{Lookups, StaticDns, Status};
use std::time::{Duration, Instant};

const BODY: &str = "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: hello\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nHello Bob.\r\n";

struct Setup {
    _keys: tempfile::TempDir,
    signer: Signer,
}

fn setup() -> Setup {
    let keys = tempfile::tempdir().unwrap();
    let pem = keygen::generate(KeyAlgorithm::Ed25519).unwrap();
    store_new_key(keys.path(), "example.com", "sel", &pem).unwrap();
    let signer = Signer::load(keys.path()).unwrap();
    Setup {
        _keys: keys,
        signer,
    }
}

fn zone(setup: &Setup, dmarc: &str) -> StaticDns {
    let mut dns = StaticDns::new();
    for key in setup.signer.keys() {
        dns.add_txt(&key.dns_name(), key.txt_record());
    }
    dns.add_txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
    dns.add_a("example.com", "192.0.2.1".parse().unwrap());
    dns.add_txt("_dmarc.example.com", dmarc);
    dns
}

fn client(ip: &str) -> Client<'static> {
    Client {
        ip: ip.parse().unwrap(),
        helo: "mta.example.com",
        mail_from: "alice@example.com",
        trusted: None,
    }
}

#[tokio::test]
async fn an_aligned_signed_message_passes_everything() {
    let setup = setup();
    let dns = zone(&setup, "v=DMARC1; p=reject");
    let authenticator = StaticDns::offline_authenticator().unwrap();
    let lookups = Lookups::fixed(&authenticator, &dns);
    let signed = [
        setup.signer.sign(BODY.as_bytes()).unwrap().unwrap(),
        BODY.as_bytes().to_vec(),
    ]
    .concat();
    let settings = InboundSettings::new("mx.example.org");
    let a = assess(&lookups, &client("192.0.2.7"), &signed, &settings).await;
    assert_eq!(a.spf.verdict.status, Status::Pass);
    assert_eq!(a.dkim.len(), 1);
    assert_eq!(a.dkim[0].verdict.status, Status::Pass);
    assert_eq!(a.dmarc.verdict.status, Status::Pass);
    assert_eq!(a.decision, Decision::Deliver);
    let fields = a.header_fields(&settings);
    assert!(
        fields.starts_with("Received-SPF: pass (mx.example.org: "),
        "{fields}"
    );
    for expected in [
        "Authentication-Results: mx.example.org;",
        "spf=pass smtp.mailfrom=alice@example.com",
        "dkim=pass header.d=example.com header.s=sel header.a=ed25519-sha256",
        "dmarc=pass header.from=example.com policy.dmarc=reject",
        "arc=none",
    ] {
        assert!(
            fields.contains(expected),
            "{expected} missing from\n{fields}"
        );
    }

    // SPF `-all` fails from elsewhere, but the aligned DKIM pass carries DMARC: delivered.
    let a = assess(&lookups, &client("203.0.113.9"), &signed, &settings).await;
    assert_eq!(a.spf.verdict.status, Status::Fail);
    assert_eq!(a.dmarc.verdict.status, Status::Pass);
    assert_eq!(a.decision, Decision::Deliver);
}

#[tokio::test]
async fn a_spoof_meets_the_policy_and_a_tampered_body_fails_dkim() {
    let setup = setup();
    let authenticator = StaticDns::offline_authenticator().unwrap();
    let settings = InboundSettings::new("mx.example.org");
    let mut signed = [
        setup.signer.sign(BODY.as_bytes()).unwrap().unwrap(),
        BODY.as_bytes().to_vec(),
    ]
    .concat();
    let at = signed.len() - 4;
    signed[at] = b'X';

    let reject = zone(&setup, "v=DMARC1; p=reject");
    let a = assess(
        &Lookups::fixed(&authenticator, &reject),
        &client("203.0.113.9"),
        &signed,
        &settings,
    )
    .await;
    assert_eq!(a.dkim[0].verdict.status, Status::Fail);
    assert_eq!(a.dmarc.verdict.status, Status::Fail);
    assert!(matches!(&a.decision, Decision::Reject { reason } if reason.contains("example.com")));

    let quarantine = zone(&setup, "v=DMARC1; p=quarantine");
    let a = assess(
        &Lookups::fixed(&authenticator, &quarantine),
        &client("203.0.113.9"),
        &signed,
        &settings,
    )
    .await;
    assert!(matches!(a.decision, Decision::Junk { .. }));

    // t=y (RFC 9989 testing): reject is taken one level lower.
    let testing = zone(&setup, "v=DMARC1; p=reject; t=y");
    let a = assess(
        &Lookups::fixed(&authenticator, &testing),
        &client("203.0.113.9"),
        &signed,
        &settings,
    )
    .await;
    assert!(
        matches!(a.decision, Decision::Junk { .. }),
        "{:?}",
        a.decision
    );

    // A trusted forwarder's copy is delivered, and says why.
    let mut forwarded = client("203.0.113.9");
    forwarded.trusted = Some("203.0.113.9");
    let a = assess(
        &Lookups::fixed(&authenticator, &reject),
        &forwarded,
        &signed,
        &settings,
    )
    .await;
    assert_eq!(a.decision, Decision::Deliver);
    assert_eq!(
        a.policy_override.map(|o| o.kind()),
        Some("trusted_forwarder")
    );
}

#[tokio::test]
async fn a_silent_dns_server_gives_temperror_within_the_time_bound() {
    // A UDP socket nobody reads: every question goes unanswered.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let resolver = Resolver::with_servers(&[silent.local_addr().unwrap()]).unwrap();
    let lookups = Lookups::live(&resolver);
    let mut settings = InboundSettings::new("mx.example.org");
    settings.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let a = assess(&lookups, &client("192.0.2.7"), BODY.as_bytes(), &settings).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(a.spf.verdict.status, Status::TempError);
    assert_eq!(a.dmarc.verdict.status, Status::TempError);
    assert_eq!(a.decision, Decision::Deliver);
    let fields = a.header_fields(&settings);
    assert!(
        fields.contains("spf=temperror reason=\"DNS answers took longer than 300 ms\""),
        "{fields}"
    );
}
