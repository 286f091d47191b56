//! DMARC (RFC 7489 §3.1 alignment, §6.6 evaluation) from an SPF check, with the records in
//! memory; then the `Authentication-Results:` and `Received-SPF:` fields written for them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_auth::verify::{
    AuthenticationResults, Lookups, StaticDns, Status, check_dmarc, check_spf_mail_from,
    received_spf, verify_arc, verify_dkim,
};
use std::net::IpAddr;

const MESSAGE: &[u8] =
    b"From: News <news@example.com>\r\nTo: you@example.org\r\nSubject: hi\r\n\r\nHello\r\n";
const CLIENT: &str = "192.0.2.10";

fn zone(dmarc: Option<&str>) -> StaticDns {
    let mut dns = StaticDns::new();
    dns.add_txt("bounces.example.com", "v=spf1 ip4:192.0.2.0/24 -all");
    dns.add_a("example.com", "192.0.2.1".parse().unwrap());
    if let Some(record) = dmarc {
        dns.add_txt("_dmarc.example.com", record);
    }
    dns
}

async fn run(dmarc: Option<&str>, client: &str) -> (String, String, Status, Option<&'static str>) {
    let dns = zone(dmarc);
    let authenticator = StaticDns::offline_authenticator().unwrap();
    let lookups = Lookups::fixed(&authenticator, &dns);
    let ip: IpAddr = client.parse().unwrap();
    let spf = check_spf_mail_from(
        &lookups,
        ip,
        "mta.example.com",
        "<owner@bounces.example.com>",
        "mx.example.org",
    )
    .await;
    let dkim = verify_dkim(&lookups, MESSAGE).await;
    let arc = verify_arc(&lookups, MESSAGE).await;
    let dmarc = check_dmarc(&lookups, MESSAGE, &dkim, &spf).await;
    let mut ar = AuthenticationResults::new("mx.example.org");
    ar.spf(&spf).dkim(&dkim).dmarc(&dmarc).arc(&arc);
    (
        ar.to_field(),
        received_spf(&spf, "mx.example.org"),
        dmarc.verdict.status,
        dmarc.policy,
    )
}

#[tokio::test]
async fn relaxed_spf_alignment_passes_with_a_subdomain() {
    let (ar, rspf, status, policy) = run(Some("v=DMARC1; p=reject"), CLIENT).await;
    assert_eq!(status, Status::Pass);
    assert_eq!(policy, Some("reject"));
    assert_eq!(
        ar,
        "Authentication-Results: mx.example.org;\r\n\tspf=pass smtp.mailfrom=owner@bounces.example.com;\r\n\tdkim=none;\r\n\tdmarc=pass header.from=example.com policy.dmarc=reject;\r\n\tarc=none\r\n"
    );
    assert_eq!(
        rspf,
        "Received-SPF: pass (mx.example.org: bounces.example.com designates 192.0.2.10 as permitted sender)\r\n\tclient-ip=192.0.2.10; envelope-from=\"owner@bounces.example.com\"; helo=\"mta.example.com\"; receiver=\"mx.example.org\";\r\n\tidentity=mailfrom\r\n"
    );
}

#[tokio::test]
async fn strict_spf_alignment_fails_with_a_subdomain() {
    let (ar, _, status, policy) = run(Some("v=DMARC1; p=quarantine; aspf=s"), CLIENT).await;
    assert_eq!(status, Status::Fail);
    assert_eq!(policy, Some("quarantine"));
    assert!(ar.contains("\tdmarc=fail reason=\"no SPF or DKIM pass aligned with example.com\" header.from=example.com policy.dmarc=quarantine;"), "{ar}");
}

#[tokio::test]
async fn spf_fail_fails_dmarc_and_no_record_is_none() {
    let (ar, rspf, status, _) = run(Some("v=DMARC1; p=reject"), "198.51.100.7").await;
    assert_eq!(status, Status::Fail);
    assert!(ar.contains("\tspf=fail reason="), "{ar}");
    assert!(rspf.starts_with("Received-SPF: fail (mx.example.org: bounces.example.com does not designate 198.51.100.7"), "{rspf}");
    let (_, _, status, policy) = run(None, CLIENT).await;
    assert_eq!(status, Status::None);
    assert_eq!(policy, None);
}
