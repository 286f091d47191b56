//! ARC sealing of a forwarded message (RFC 8617 §5.1): a message checked on arrival by
//! `inbound::assess` is sealed by the forwarding domain's RSA key; the chain then validates
//! here (our ARC verifier) and in an independent one (python3-dkim's `arc_verify`), and its
//! `ARC-Authentication-Results:` carries what we saw.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_auth::dkim::{Arrival, KeyAlgorithm, Signer, keygen, store_new_key};
use mailward_auth::inbound::{Client, InboundSettings, assess};
use mailward_auth::verify::{Lookups, StaticDns, Status, verify_arc};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const PYTHON: &str = "/usr/bin/python3";

const MESSAGE: &str = "From: Alice <alice@example.com>\r\nTo: team@example.org\r\nSubject: forwarded\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <fwd@example.com>\r\n\r\nHello team.\r\n \r\n";

/// python3-dkim's `arc_verify` result (`pass`, `fail`, `none`), or `None` when it is missing.
fn python_arc_verify(message: &[u8], records: &BTreeMap<String, String>) -> Option<String> {
    let ok = Path::new(PYTHON).exists()
        && Command::new(PYTHON)
            .args(["-c", "import dkim"])
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED (python3-dkim part): /usr/bin/python3 with dkim missing");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.eml"), message).unwrap();
    std::fs::write(
        dir.path().join("r.json"),
        serde_json::to_string(records).unwrap(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/arc_verify.py");
    let out = Command::new(PYTHON)
        .arg(script)
        .arg(dir.path().join("m.eml"))
        .arg(dir.path().join("r.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[tokio::test]
async fn a_forwarded_message_is_sealed_and_the_chain_validates() {
    let keys = tempfile::tempdir().unwrap();
    store_new_key(
        keys.path(),
        "example.com",
        "ed",
        &keygen::generate(KeyAlgorithm::Ed25519).unwrap(),
    )
    .unwrap();
    store_new_key(
        keys.path(),
        "example.org",
        "arc",
        &keygen::generate(KeyAlgorithm::Rsa).unwrap(),
    )
    .unwrap();
    let signer = Signer::load(keys.path()).unwrap();
    let mut dns = StaticDns::new();
    let mut records = BTreeMap::new();
    for key in signer.keys() {
        dns.add_txt(&key.dns_name(), key.txt_record());
        records.insert(key.dns_name(), key.txt_record());
    }
    dns.add_txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
    dns.add_txt("_dmarc.example.com", "v=DMARC1; p=reject");
    let authenticator = StaticDns::offline_authenticator().unwrap();
    let lookups = Lookups::fixed(&authenticator, &dns);

    // Arrival: signed by example.com, checked by mx.example.org.
    let signed = [
        signer.sign(MESSAGE.as_bytes()).unwrap().unwrap(),
        MESSAGE.as_bytes().to_vec(),
    ]
    .concat();
    let settings = InboundSettings::new("mx.example.org");
    let client = Client {
        ip: "192.0.2.7".parse().unwrap(),
        helo: "mta.example.com",
        mail_from: "alice@example.com",
        trusted: None,
    };
    let assessment = assess(&lookups, &client, &signed, &settings).await;
    assert_eq!(assessment.dmarc.verdict.status, Status::Pass);
    let received = [
        b"Received: from mta.example.com ([192.0.2.7]) by mx.example.org; Mon, 7 Dec 2026 10:00:01 +0000\r\n".to_vec(),
        assessment.header_fields(&settings).into_bytes(),
        signed,
    ]
    .concat();

    // Forwarding by the alias team@example.org: sealed with example.org's RSA key.
    let arrival = Arrival {
        client_ip: client.ip,
        helo: client.helo,
        mail_from: client.mail_from,
    };
    let set = signer
        .arc_seal(
            &lookups,
            "example.org",
            "mx.example.org",
            arrival,
            &received,
        )
        .await
        .unwrap()
        .expect("example.org has an RSA key");
    let text = String::from_utf8(set.clone()).unwrap();
    assert!(text.contains("ARC-Seal: i=1; a=rsa-sha256"), "{text}");
    assert!(text.contains("cv=none"), "{text}");
    assert!(text.contains("d=example.org"), "{text}");
    assert!(
        text.contains("ARC-Authentication-Results: i=1; mx.example.org;"),
        "{text}"
    );
    assert!(
        text.contains("dkim=pass") && text.contains("spf=pass"),
        "{text}"
    );
    assert!(text.contains("dmarc=pass"), "{text}");
    let sealed = [set, received].concat();

    let chain = verify_arc(&lookups, &sealed).await;
    assert_eq!(chain.verdict.status, Status::Pass, "{chain:?}");
    assert_eq!(chain.sealers, vec!["example.org".to_string()]);
    if let Some(verdict) = python_arc_verify(&sealed, &records) {
        assert!(verdict.starts_with("pass"), "python3-dkim: {verdict}");
    }

    // A domain without an RSA key does not seal (ARC is rsa-sha256 only, RFC 8617 §4.1.2).
    assert!(
        signer
            .arc_seal(&lookups, "example.com", "mx.example.org", arrival, &sealed)
            .await
            .unwrap()
            .is_none()
    );
}
