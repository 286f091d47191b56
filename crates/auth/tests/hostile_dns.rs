//! Hostile DNS answers (issue 16): SPF include loops, too many DNS-querying terms, void
//! lookups, two SPF records, broken syntax, DKIM keys that are not keys, a DMARC record with
//! duplicated tags. Each ends in the RFC's result with a reason a person can read in the
//! `Authentication-Results:` field, never a panic or a hang (every check runs under a time
//! bound). The zones are in memory; `hostile_dns_tcp.rs` has the ones the transport matters
//! for.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use base64::Engine as _;
use mailward_auth::verify::{
    AuthenticationResults, Lookups, SpfCheck, StaticDns, Status, check_dmarc, check_spf_mail_from,
    verify_dkim,
};
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

const CLIENT: &str = "192.0.2.10";

/// Fails the test when `check` takes longer than a few seconds (a hang).
async fn bounded<T>(check: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), check)
        .await
        .expect("the check hung")
}

/// The SPF check of `sender@example.com` from [`CLIENT`] against `zone`, and the
/// `Authentication-Results:` field written for it.
async fn spf(zone: &StaticDns, client: &str) -> (SpfCheck, String) {
    let authenticator = StaticDns::offline_authenticator().unwrap();
    let lookups = Lookups::fixed(&authenticator, zone);
    let ip: IpAddr = client.parse().unwrap();
    let check = bounded(check_spf_mail_from(
        &lookups,
        ip,
        "mta.example.com",
        "<sender@example.com>",
        "mx.example.org",
    ))
    .await;
    let mut ar = AuthenticationResults::new("mx.example.org");
    ar.spf(&check);
    (check, ar.to_field())
}

fn zone_with(records: &[(&str, &str)]) -> StaticDns {
    let mut dns = StaticDns::new();
    for (name, text) in records {
        dns.add_txt(name, *text);
    }
    dns
}

#[tokio::test]
async fn spf_include_loop_is_a_permerror_naming_the_loop() {
    let dns = zone_with(&[
        ("example.com", "v=spf1 include:loop1.example.net -all"),
        ("loop1.example.net", "v=spf1 include:loop2.example.net -all"),
        ("loop2.example.net", "v=spf1 include:loop1.example.net -all"),
    ]);
    let (check, ar) = spf(&dns, CLIENT).await;
    assert_eq!(check.verdict.status, Status::PermError, "{ar}");
    assert!(ar.contains("spf=permerror reason=\""), "{ar}");
    assert!(ar.contains("loop"), "{ar}");
}

#[tokio::test]
async fn spf_self_include_is_a_permerror() {
    let dns = zone_with(&[("example.com", "v=spf1 include:example.com -all")]);
    let (check, ar) = spf(&dns, CLIENT).await;
    assert_eq!(check.verdict.status, Status::PermError, "{ar}");
}

#[tokio::test]
async fn spf_eleven_dns_querying_terms_are_a_permerror() {
    let mut dns = zone_with(&[(
        "example.com",
        "v=spf1 a:h1.example.com a:h2.example.com a:h3.example.com a:h4.example.com a:h5.example.com a:h6.example.com a:h7.example.com a:h8.example.com a:h9.example.com a:h10.example.com a:h11.example.com ip4:192.0.2.10 -all",
    )]);
    for i in 1..=11 {
        dns.add_a(
            &format!("h{i}.example.com"),
            "198.51.100.1".parse().unwrap(),
        );
    }
    let (check, ar) = spf(&dns, CLIENT).await;
    assert_eq!(check.verdict.status, Status::PermError, "{ar}");
    assert!(ar.contains("more than 10 DNS-querying terms"), "{ar}");
}

#[tokio::test]
async fn spf_ten_dns_querying_terms_are_still_evaluated() {
    let mut dns = zone_with(&[(
        "example.com",
        "v=spf1 a:h1.example.com a:h2.example.com a:h3.example.com a:h4.example.com a:h5.example.com a:h6.example.com a:h7.example.com a:h8.example.com a:h9.example.com a:h10.example.com ip4:192.0.2.10 -all",
    )]);
    for i in 1..=10 {
        dns.add_a(
            &format!("h{i}.example.com"),
            "198.51.100.1".parse().unwrap(),
        );
    }
    let (check, ar) = spf(&dns, CLIENT).await;
    assert_eq!(check.verdict.status, Status::Pass, "{ar}");
}

#[tokio::test]
async fn spf_three_void_lookups_are_a_permerror_naming_them() {
    let dns = zone_with(&[(
        "example.com",
        "v=spf1 a:gone1.example.com mx:gone2.example.com exists:gone3.example.com ip4:192.0.2.10 -all",
    )]);
    let (check, ar) = spf(&dns, CLIENT).await;
    assert_eq!(check.verdict.status, Status::PermError, "{ar}");
    assert!(ar.contains("more than 2 void DNS lookups"), "{ar}");
    assert!(ar.contains("gone1.example.com (A)"), "{ar}");
    assert!(ar.contains("gone2.example.com (MX)"), "{ar}");
}

#[tokio::test]
async fn spf_two_void_lookups_are_allowed() {
    let dns = zone_with(&[(
        "example.com",
        "v=spf1 a:gone1.example.com mx:gone2.example.com ip4:192.0.2.10 -all",
    )]);
    let (check, ar) = spf(&dns, CLIENT).await;
    assert_eq!(check.verdict.status, Status::Pass, "{ar}");
}

#[tokio::test]
async fn spf_void_lookups_after_the_match_do_not_count() {
    // RFC 7208 §4.6.2: evaluation stops at the first match; the terms after it ask nothing.
    let dns = zone_with(&[(
        "example.com",
        "v=spf1 ip4:192.0.2.10 a:gone1.example.com a:gone2.example.com a:gone3.example.com -all",
    )]);
    let (check, ar) = spf(&dns, CLIENT).await;
    assert_eq!(check.verdict.status, Status::Pass, "{ar}");
}

#[tokio::test]
async fn spf_two_records_are_a_permerror() {
    let dns = zone_with(&[
        ("example.com", "v=spf1 ip4:192.0.2.10 -all"),
        ("example.com", "v=spf1 -all"),
    ]);
    let (check, ar) = spf(&dns, CLIENT).await;
    assert_eq!(check.verdict.status, Status::PermError, "{ar}");
    assert!(
        ar.contains("example.com publishes 2 SPF records; exactly one is allowed"),
        "{ar}"
    );
}

#[tokio::test]
async fn spf_syntax_error_in_a_reached_include_is_a_permerror() {
    let dns = zone_with(&[
        ("example.com", "v=spf1 include:_spf.example.net -all"),
        ("_spf.example.net", "v=spf1 ip4:192.0.2.0/33 -all"),
    ]);
    let (check, ar) = spf(&dns, CLIENT).await;
    assert_eq!(check.verdict.status, Status::PermError, "{ar}");
    assert!(ar.contains("_spf.example.net has a syntax error"), "{ar}");
    assert!(ar.contains("/33"), "{ar}");
}

#[tokio::test]
async fn spf_include_never_reached_cannot_break_the_result() {
    let dns = zone_with(&[
        (
            "example.com",
            "v=spf1 ip4:192.0.2.10 include:_spf.example.net -all",
        ),
        ("_spf.example.net", "v=spf1 ip4:192.0.2.0/33 -all"),
    ]);
    let (check, ar) = spf(&dns, CLIENT).await;
    assert_eq!(check.verdict.status, Status::Pass, "{ar}");
}

#[tokio::test]
async fn regress_ipv4_mapped_client_is_checked_as_ipv4() {
    let dns = zone_with(&[("example.com", "v=spf1 ip4:192.0.2.0/24 -all")]);
    let (check, ar) = spf(&dns, "::ffff:192.0.2.10").await;
    assert_eq!(check.verdict.status, Status::Pass, "{ar}");
    assert_eq!(check.client_ip, "192.0.2.10".parse::<IpAddr>().unwrap());
}

#[tokio::test]
async fn spf_huge_record_is_a_permerror_not_a_crash() {
    let record = format!("v=spf1 {}-all", "ip4:198.51.100.1 ".repeat(4000));
    let dns = zone_with(&[("example.com", record.as_str())]);
    let (check, ar) = spf(&dns, CLIENT).await;
    assert_eq!(check.verdict.status, Status::PermError, "{ar}");
    assert!(
        ar.len() < 2000,
        "the reason is kept short: {} bytes",
        ar.len()
    );
}

/// A message with a DKIM-Signature for `d=example.com; s=sel` whose body hash is right, so
/// verification reaches the key.
fn signed_message() -> Vec<u8> {
    let body = b"Hello\r\n";
    let bh = base64::engine::general_purpose::STANDARD
        .encode(ring::digest::digest(&ring::digest::SHA256, body));
    format!(
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel;\r\n\th=from:to:subject; bh={bh};\r\n\tb=dGhpcyBpcyBub3QgYSBzaWduYXR1cmUgYXQgYWxs\r\nFrom: News <news@example.com>\r\nTo: you@example.org\r\nSubject: hi\r\n\r\nHello\r\n"
    )
    .into_bytes()
}

async fn dkim_with_key(key: &str) -> (Status, String) {
    let mut dns = StaticDns::new();
    dns.add_txt("sel._domainkey.example.com", key);
    let authenticator = StaticDns::offline_authenticator().unwrap();
    let lookups = Lookups::fixed(&authenticator, &dns);
    let checks = bounded(verify_dkim(&lookups, &signed_message())).await;
    assert_eq!(checks.len(), 1);
    let mut ar = AuthenticationResults::new("mx.example.org");
    ar.dkim(&checks);
    (checks[0].verdict.status, ar.to_field())
}

/// RFC 6376 §6.1.2: a key record that does not parse, an empty `p=` (revoked) and a key
/// unfit for the signature's algorithm are each a PERMFAIL, written `permerror` or `fail`
/// (RFC 8601 §2.7.1); never `pass`, always with the reason.
#[tokio::test]
async fn dkim_keys_that_are_not_keys_fail_permanently_with_a_reason() {
    for (key, status, reason) in [
        // Base64 of "not a key": no RSA key inside.
        (
            "v=DKIM1; k=rsa; p=bm90IGEga2V5",
            Status::Fail,
            "the key record's p= is not an RSA public key",
        ),
        (
            "v=DKIM1; k=rsa; p=!!!not base64!!!",
            Status::PermError,
            "Invalid record",
        ),
        (
            "v=DKIM1; k=ed25519; p=AAAA",
            Status::Fail,
            "Incompatible algorithms",
        ),
        (
            "v=DKIM1; k=rsa; p=",
            Status::PermError,
            "Public key for this signature has been revoked",
        ),
        (
            "this is not a key record at all",
            Status::PermError,
            "Invalid record",
        ),
    ] {
        let (got, ar) = dkim_with_key(key).await;
        assert_eq!(got, status, "{key}: {ar}");
        assert!(ar.contains(&format!("reason=\"{reason}")), "{key}: {ar}");
    }
}

/// DMARC records use DKIM's tag=value syntax (RFC 7489 §6.3), where a repeated tag makes
/// the whole record invalid (RFC 6376 §3.2): `permerror` (RFC 7489 §11.2), no policy
/// applied (§6.6.3), not the last `p=` (which `mail-auth` alone would apply).
#[tokio::test]
async fn dmarc_record_with_duplicated_tags_is_a_permerror_without_policy() {
    let mut dns = StaticDns::new();
    dns.add_txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
    dns.add_txt(
        "_dmarc.example.com",
        "v=DMARC1; p=none; p=reject; p=quarantine",
    );
    let authenticator = StaticDns::offline_authenticator().unwrap();
    let lookups = Lookups::fixed(&authenticator, &dns);
    let message =
        b"From: News <news@example.com>\r\nTo: you@example.org\r\nSubject: hi\r\n\r\nHello\r\n";
    let ip: IpAddr = "198.51.100.7".parse().unwrap();
    let spf = bounded(check_spf_mail_from(
        &lookups,
        ip,
        "mta.example.com",
        "<news@example.com>",
        "mx.example.org",
    ))
    .await;
    let dkim = bounded(verify_dkim(&lookups, message)).await;
    let dmarc = bounded(check_dmarc(&lookups, message, &dkim, &spf)).await;
    let mut ar = AuthenticationResults::new("mx.example.org");
    ar.spf(&spf).dkim(&dkim).dmarc(&dmarc);
    let ar = ar.to_field();
    assert_eq!(dmarc.verdict.status, Status::PermError, "{ar}");
    assert_eq!(dmarc.policy, None, "{ar}");
    assert!(
        ar.contains("dmarc=permerror reason=\"the DMARC record at _dmarc.example.com gives p more than once, which makes it invalid (RFC 7489 section 6.3, RFC 6376 section 3.2)\" header.from=example.com"),
        "{ar}"
    );
}

#[tokio::test]
async fn dmarc_record_without_duplicates_still_applies_its_policy() {
    let mut dns = StaticDns::new();
    dns.add_txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
    dns.add_txt("_dmarc.example.com", "v=DMARC1; p=reject; sp=none");
    let authenticator = StaticDns::offline_authenticator().unwrap();
    let lookups = Lookups::fixed(&authenticator, &dns);
    let message =
        b"From: News <news@example.com>\r\nTo: you@example.org\r\nSubject: hi\r\n\r\nHello\r\n";
    let ip: IpAddr = "198.51.100.7".parse().unwrap();
    let spf = bounded(check_spf_mail_from(
        &lookups,
        ip,
        "mta.example.com",
        "<news@example.com>",
        "mx.example.org",
    ))
    .await;
    let dmarc = bounded(check_dmarc(&lookups, message, &[], &spf)).await;
    assert_eq!(dmarc.verdict.status, Status::Fail, "{dmarc:?}");
    assert_eq!(dmarc.policy, Some("reject"), "{dmarc:?}");
}

#[tokio::test]
async fn spf_include_target_with_two_records_is_a_permerror() {
    let dns = zone_with(&[
        ("example.com", "v=spf1 include:_spf.example.net -all"),
        ("_spf.example.net", "v=spf1 ip4:192.0.2.0/24 -all"),
        ("_spf.example.net", "v=spf1 ip4:198.51.100.0/24 -all"),
    ]);
    let (check, ar) = spf(&dns, CLIENT).await;
    assert_eq!(check.verdict.status, Status::PermError, "{ar}");
    assert!(
        ar.contains("_spf.example.net publishes 2 SPF records"),
        "{ar}"
    );
}

#[tokio::test]
async fn helo_check_gets_the_same_audit() {
    let dns = zone_with(&[
        ("mta.example.com", "v=spf1 ip4:192.0.2.10 -all"),
        ("mta.example.com", "v=spf1 -all"),
    ]);
    let authenticator = StaticDns::offline_authenticator().unwrap();
    let lookups = Lookups::fixed(&authenticator, &dns);
    let ip: IpAddr = CLIENT.parse().unwrap();
    let check = bounded(mailward_auth::verify::check_spf_helo(
        &lookups,
        ip,
        "mta.example.com",
        "mx.example.org",
    ))
    .await;
    assert_eq!(check.verdict.status, Status::PermError, "{check:?}");
    let mut ar = AuthenticationResults::new("mx.example.org");
    ar.spf(&check);
    let ar = ar.to_field();
    assert!(
        ar.contains("spf=permerror reason=\"mta.example.com publishes 2 SPF records; exactly one is allowed (RFC 7208 section 4.5)\" smtp.helo=mta.example.com"),
        "{ar}"
    );
}
