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
        "spf=pass smtp.mailfrom=alice@example.com;\r\n\tspf=none reason=\"mta.example.com has no SPF record\" smtp.helo=mta.example.com;",
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

    // Records written for RFC 7489: `pct`, `rf` and `ri` are gone from RFC 9989 and, as
    // unknown tags (§4.7), ignored: `pct=0` does not lift a `p=reject`.
    let historic = zone(&setup, "v=DMARC1; p=reject; pct=0; rf=afrf; ri=3600");
    let a = assess(
        &Lookups::fixed(&authenticator, &historic),
        &client("203.0.113.9"),
        &signed,
        &settings,
    )
    .await;
    assert!(
        matches!(a.decision, Decision::Reject { .. }),
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

mod arbitrary_messages {
    use super::*;
    use proptest::prelude::*;

    fn header_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("From: a@example.com\r\n".to_string()),
            Just("From: <\"x\"@[1.2.3.4]>, b@\r\n".to_string()),
            Just("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=; b=\r\n".to_string()),
            Just("DKIM-Signature: v=1; a=ed25519-sha256; d=example.com; s=sel; c=relaxed/relaxed; h=from:from; bh=AAAA; b=AAAA\r\n".to_string()),
            Just("ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.com; s=sel; b=AAAA\r\n".to_string()),
            Just("ARC-Message-Signature: i=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=; b=\r\n".to_string()),
            Just("ARC-Authentication-Results: i=1; x; spf=pass\r\n".to_string()),
            Just("Authentication-Results: mx.example.org; dkim=pass\r\n".to_string()),
            Just(" \tfolded continuation\r\n".to_string()),
            "[ -~]{0,300}\r\n",
            "[^\r\n]{0,80}\n",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever the header section holds, the checks end, never panic, and the fields we
        /// add are well formed (CRLF, no line over 998 octets, RFC 5322 §2.1.1).
        #[test]
        fn any_message_gives_well_formed_fields(
            headers in proptest::collection::vec(header_line(), 0..12),
            body in "[ -~\r\n]{0,200}",
        ) {
            let message = format!("{}\r\n{body}", headers.concat());
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let fields = rt.block_on(async {
                let setup_zone = {
                    let mut dns = StaticDns::new();
                    dns.add_txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
                    dns.add_txt("_dmarc.example.com", "v=DMARC1; p=reject");
                    dns.add_txt("sel._domainkey.example.com", "v=DKIM1; k=rsa; p=bm90IGEga2V5");
                    dns
                };
                let authenticator = StaticDns::offline_authenticator().unwrap();
                let lookups = Lookups::fixed(&authenticator, &setup_zone);
                let settings = InboundSettings::new("mx.example.org");
                assess(&lookups, &client("192.0.2.7"), message.as_bytes(), &settings)
                    .await
                    .header_fields(&settings)
            });
            prop_assert!(fields.ends_with("\r\n"));
            for line in fields.split("\r\n") {
                prop_assert!(line.len() < 998);
                prop_assert!(!line.contains('\n') && !line.contains('\r'));
            }
        }
    }
}
