//! Behaviour of the analysis on realistic messages, one per provider format and finding.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_trace::{AnalyzeOptions, Report, Severity, analyze};
use std::net::IpAddr;

/// 2026-11-22, after every fixture's dates.
const NOW: i64 = 1_795_000_000;

fn fixture(name: &str) -> Report {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    analyze(&raw, name, &AnalyzeOptions { now: NOW })
}

fn codes(r: &Report) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test IP")
}

fn assert_no_critical(r: &Report) {
    let critical: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .collect();
    assert!(
        critical.is_empty(),
        "{}: false critical findings {critical:?}",
        r.source
    );
}

#[test]
fn gmail_message_origin_is_googles_outbound_server() {
    let r = fixture("gmail.eml");
    assert_eq!(r.hops.len(), 3, "one hop per Received header");
    assert_eq!(
        r.hops[0].by_host.as_deref(),
        Some("mail-wm1-f44.google.com")
    );
    assert_eq!(r.hops[2].from_ip, Some(ip("127.0.0.1")));
    assert_eq!(r.trust.trusted_hops, 3);
    let origin = r.origin.as_ref().expect("origin");
    assert_eq!(origin.ip, Some(ip("209.85.128.44")));
    assert_eq!(origin.hop, Some(2));
    assert_eq!(
        r.provider.as_ref().map(|p| p.name.as_str()),
        Some("Gmail / Google Workspace")
    );
    assert_eq!(r.hops[1].delay_seconds, Some(1));
    assert_eq!(
        r.hops[1].tls.as_deref(),
        Some("TLSv1.3 TLS_AES_128_GCM_SHA256")
    );
    assert_eq!(r.authentication.dkim.as_deref(), Some("pass"));
    assert_eq!(r.authentication.spf.as_deref(), Some("pass"));
    let alignment = r.authentication.alignment.as_ref().expect("alignment");
    assert!(alignment.dkim_aligned && alignment.spf_aligned);
    assert_eq!(r.message.date.as_deref(), Some("2023-11-14T09:15:19Z"));
    assert_no_critical(&r);
    assert!(
        r.findings.iter().all(|f| f.severity == Severity::Info),
        "{:?}",
        r.findings
    );
}

#[test]
fn mailing_list_post_is_not_flagged_critical() {
    let r = fixture("list.eml");
    assert_eq!(r.hops.len(), 4);
    assert_eq!(r.trust.trusted_hops, 4, "{}", r.trust.reason);
    let origin = r.origin.as_ref().expect("origin");
    assert_eq!(origin.ip, Some(ip("85.14.220.7")), "{}", origin.reason);
    assert!(
        r.hops[0]
            .authenticated
            .as_deref()
            .is_some_and(|a| a.contains("carol@example.com"))
    );
    assert_eq!(r.authentication.arc.as_deref(), Some("pass"));
    assert_eq!(r.authentication.dmarc.as_deref(), Some("pass"));
    let reply = r
        .findings
        .iter()
        .find(|f| f.code == "reply-to-mismatch")
        .expect("reply-to-mismatch");
    assert_eq!(
        reply.severity,
        Severity::Info,
        "lists set Reply-To to the author"
    );
    assert_no_critical(&r);
}

#[test]
fn microsoft_365_chain_keeps_trust_through_internal_hops() {
    let r = fixture("m365.eml");
    assert_eq!(r.hops.len(), 4);
    assert_eq!(r.trust.trusted_hops, 4, "{}", r.trust.reason);
    assert_eq!(r.hops[1].from_ip, Some(ip("2603:10a6:20b:3f2::21")));
    assert_eq!(r.hops[1].via, None);
    // The oldest trusted hop is the MAPI submission (link-local); the oldest public source
    // among trusted hops is Microsoft's own mailbox server.
    let origin = r.origin.as_ref().expect("origin");
    assert_eq!(
        origin.ip,
        Some(ip("2603:10a6:20b:3f2::21")),
        "{}",
        origin.reason
    );
    assert_eq!(origin.hop, Some(2));
    assert_eq!(r.hops[2].from_ip, Some(ip("40.107.22.71")));
    assert_eq!(
        r.provider.as_ref().map(|p| p.name.as_str()),
        Some("Microsoft 365 / Outlook.com")
    );
    // `id 15.20.7002.19` is a version, never an IP.
    assert!(r.hops.iter().all(|h| h.from_ip != Some(ip("15.20.7.19"))));
    assert_eq!(r.authentication.dmarc.as_deref(), Some("pass"));
    assert_no_critical(&r);
}

#[test]
fn forged_paypal_message_raises_the_spoofing_findings() {
    let r = fixture("spoof.eml");
    let c = codes(&r);
    for code in [
        "received-chain-break",
        "received-time-reversed",
        "lookalike-domain",
        "display-name-spoof",
        "reply-to-mismatch",
        "spf-fail",
        "dmarc-fail",
        "missing-message-id",
    ] {
        assert!(c.contains(&code), "{code} missing from {c:?}");
    }
    assert_eq!(r.trust.trusted_hops, 1);
    assert!(!r.hops[0].trusted);
    let origin = r.origin.as_ref().expect("origin");
    assert_eq!(
        origin.ip,
        Some(ip("45.137.21.9")),
        "the forged hop's IP is not the origin"
    );
    assert_eq!(
        r.hops[1].delay_seconds,
        Some(-5395),
        "negative delays are reported, not wrapped"
    );
    assert!(
        r.findings
            .first()
            .is_some_and(|f| f.severity == Severity::Critical)
    );
}

#[test]
fn webmail_origin_comes_from_x_originating_ip() {
    let r = fixture("webmail.eml");
    let origin = r.origin.as_ref().expect("origin");
    assert_eq!(origin.ip, Some(ip("84.23.77.12")));
    assert_eq!(origin.source, "X-Originating-IP");
    assert!(origin.reason.contains("hop 1"), "{}", origin.reason);
}

#[test]
fn bare_header_text_without_date_or_message_id() {
    let raw = b"Received: from a.example.com (a.example.com [8.8.4.4]) by b.example.com with SMTP id X1; Mon, 1 Jan 2024 00:00:00 +0000\nSubject: hi\n";
    let r = analyze(raw, "-", &AnalyzeOptions { now: NOW });
    assert_eq!(r.hops.len(), 1);
    let c = codes(&r);
    assert!(
        c.contains(&"missing-date") && c.contains(&"missing-message-id"),
        "{c:?}"
    );
}

#[test]
fn future_dated_message_is_flagged() {
    let raw = b"Date: Mon, 1 Jan 2035 00:00:00 +0000\nMessage-ID: <a@b.example>\nFrom: a@b.example\n\nbody";
    let r = analyze(raw, "-", &AnalyzeOptions { now: NOW });
    assert!(codes(&r).contains(&"future-date"));
}

#[test]
fn long_delay_and_date_skew_are_reported() {
    let raw = b"Received: from b.example.org (b.example.org [8.8.8.8]) by c.example.org with ESMTP id 2; Tue, 2 Jan 2024 03:00:00 +0000\n\
Received: from a.example.net (a.example.net [9.9.9.9]) by b.example.org with ESMTP id 1; Tue, 2 Jan 2024 00:00:00 +0000\n\
Date: Tue, 2 Jan 2024 02:00:00 +0000\nMessage-ID: <x@example.net>\nFrom: x@example.net\n\n";
    let r = analyze(raw, "-", &AnalyzeOptions { now: NOW });
    let c = codes(&r);
    assert!(c.contains(&"long-delay"), "{c:?}");
    assert!(c.contains(&"date-skew"), "{c:?}");
    assert_eq!(r.hops[1].delay_seconds, Some(3 * 3600));
}

#[test]
fn thousands_of_received_headers_are_all_kept() {
    let mut raw = String::new();
    for i in 0..5000 {
        raw.push_str(&format!(
            "Received: from h{i}.example.com (h{i}.example.com [8.8.{}.{}]) by h{}.example.com with SMTP id {i}; Mon, 1 Jan 2024 00:00:00 +0000\r\n",
            i / 256 % 256,
            i % 256,
            i + 1
        ));
    }
    raw.push_str("\r\n");
    let r = analyze(raw.as_bytes(), "-", &AnalyzeOptions { now: NOW });
    assert_eq!(r.hops.len(), 5000);
}

#[test]
fn garbage_input_gives_a_report_with_a_warning() {
    for raw in [
        &b""[..],
        b"\xff\xfe\x00garbage",
        b"\r\r\r\n\n",
        b":::\n: \n",
    ] {
        let r = analyze(raw, "-", &AnalyzeOptions { now: NOW });
        assert!(r.hops.is_empty());
        assert!(
            !r.warnings.is_empty() || codes(&r).contains(&"missing-date"),
            "a user sees why nothing was found"
        );
    }
}

/// Issue 11: a Courier-style hop wrote the client as `::ffff:218.11.152.141`; the tracer
/// reported that IPv6 form as hop source and origin, where every other tool says
/// `218.11.152.141`. A SendGrid filter hop in Go's time format had no time, so no delay.
#[test]
fn regress_ipv4_mapped_addresses_are_ipv4_in_hops_origin_and_class() {
    let headers = "Received: from mx.example.org (mx.example.org [::ffff:192.0.2.25])\r
\tby mail.example.org (Postfix) with ESMTP id 4SbD0Kq1Zz9sVQ\r
\tfor <bob@example.org>; Mon, 26 Mar 2018 13:35:40 +0000 (UTC)\r
Received: from mail.example.net (mail.example.net [::ffff:218.11.152.141])\r
  (AUTH: LOGIN alice, TLS: TLSv1/SSLv3,256bits,AES256-SHA)\r
  by mx.example.org with ESMTPSA; Mon, 26 Mar 2018 15:35:38 +0200\r
  id 00000000001A2B3C.5AB0B4BD.00004C1E\r
Received: by filter0225p1mdw1.sendgrid.net with SMTP id filter0225p1mdw1-13879-5AB8F6F8-1\r
        2018-03-26 13:35:36.270951634 +0000 UTC\r
X-Originating-IP: [::ffff:203.0.113.9]\r
From: alice@example.net\r
To: bob@example.org\r
Date: Mon, 26 Mar 2018 13:35:30 +0000\r
Message-ID: <1@example.net>\r
\r
";
    let r = analyze(headers.as_bytes(), "-", &AnalyzeOptions { now: NOW });
    let hop = r.hops.get(1).expect("the Courier hop");
    assert_eq!(hop.from_ip, Some(ip("218.11.152.141")));
    assert_eq!(hop.ip_class.map(|c| c.as_str()), Some("public"));
    assert_eq!(
        r.hops.get(2).and_then(|h| h.from_ip),
        Some(ip("192.0.2.25"))
    );
    let origin = r.origin.as_ref().expect("origin");
    assert_eq!(origin.ip, Some(ip("218.11.152.141")));
    // The SendGrid hop now has its time, and the next hop its delay.
    assert_eq!(
        r.hops.first().and_then(|h| h.timestamp.as_deref()),
        Some("2018-03-26T13:35:36Z")
    );
    assert_eq!(r.hops.get(1).and_then(|h| h.delay_seconds), Some(2));
    // The JSON output names the IPv4 address, never the mapped form (the raw headers keep
    // what was written).
    let json = serde_json::to_string(&r).expect("json");
    assert!(!json.contains("\"::ffff:"), "{json}");
    assert_eq!(
        mailward_trace::trust::parse_originating_ip("[::ffff:203.0.113.9]"),
        Some(ip("203.0.113.9"))
    );
}
