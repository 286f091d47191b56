//! One realistic chain per provider format, with the expected origin and provider, and one
//! message per finding code not covered by the fixture files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_trace::{AnalyzeOptions, Report, Severity, analyze};

const NOW: i64 = 1_795_000_000;

fn run(headers: &str) -> Report {
    let raw = headers.replace('\n', "\r\n");
    analyze(raw.as_bytes(), "-", &AnalyzeOptions { now: NOW })
}

fn codes(r: &Report) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

/// Each case: the sending provider's outbound hop into an ordinary receiving MX, and what
/// the report must say.
const PROVIDER_CASES: &[(&str, &str, &str, &str)] = &[
    (
        "Yahoo / AOL",
        "74.6.128.40",
        "sonic304-21.consmr.mail.bf2.yahoo.com",
        "X-YMail-OSG: abc",
    ),
    (
        "Amazon SES",
        "54.240.8.30",
        "a8-30.smtp-out.amazonses.com",
        "X-SES-Outgoing: 2023.11.14-54.240.8.30",
    ),
    (
        "SendGrid",
        "167.89.100.1",
        "o1.ptr1234.example.sendgrid.net",
        "X-SG-EID: abc",
    ),
    (
        "Mailgun",
        "159.135.140.82",
        "m140-82.mailgun.net",
        "X-Mailgun-Sid: abc",
    ),
    (
        "Mailchimp / Mandrill",
        "198.2.180.10",
        "mail180-10.suw21.mandrillapp.com",
        "X-Mandrill-User: md_1",
    ),
    (
        "iCloud",
        "17.58.63.10",
        "mr85p00im-ztdg06011101.me.com",
        "X-Foo: bar",
    ),
    (
        "Zoho Mail",
        "136.143.188.51",
        "sender4-op-o11.zoho.com",
        "X-ZohoMailClient: External",
    ),
    (
        "Proton Mail",
        "185.70.40.130",
        "mail-40130.protonmail.ch",
        "X-Pm-Origin: internal",
    ),
    (
        "Fastmail",
        "66.111.4.25",
        "out1-smtp.messagingengine.com",
        "X-ME-Sender: abc",
    ),
    (
        "GMX / Web.de / IONOS",
        "212.227.15.19",
        "mout.gmx.net",
        "X-Provags-ID: V03",
    ),
    (
        "Yandex",
        "77.88.21.37",
        "forward500a.mail.yandex.net",
        "X-Yandex-Fwd: 1",
    ),
];

#[test]
fn each_provider_is_recognised_from_its_outbound_host() {
    for (name, ip, host, header) in PROVIDER_CASES {
        let r = run(&format!(
            "Received: from {host} ({host} [{ip}])\n\
             \tby mx.example.org (Postfix) with ESMTPS id 4Sb9Xk0Qw5z9sVP\n\
             \tfor <bob@example.org>; Tue, 14 Nov 2023 10:15:31 +0000 (UTC)\n\
             {header}\n\
             From: sender@example.net\nTo: bob@example.org\n\
             Date: Tue, 14 Nov 2023 10:15:29 +0000\nMessage-ID: <1@example.net>\n\n"
        ));
        assert_eq!(
            r.provider.as_ref().map(|p| p.name.as_str()),
            Some(*name),
            "{host}"
        );
        let origin = r.origin.as_ref().expect("origin");
        assert_eq!(origin.ip.map(|i| i.to_string()).as_deref(), Some(*ip));
        assert!(
            r.findings.iter().all(|f| f.severity != Severity::Critical),
            "{name}: {:?}",
            r.findings
        );
    }
}

#[test]
fn provider_from_headers_when_hosts_say_nothing() {
    let r = run(
        "Received: from relay.example.net (relay.example.net [93.184.216.34])\n\
        \tby mx.example.org with ESMTP id 1; Tue, 14 Nov 2023 10:15:31 +0000\n\
        X-SG-EID: abc\nFrom: a@example.net\nDate: Tue, 14 Nov 2023 10:15:30 +0000\n\
        Message-ID: <1@example.net>\n\n",
    );
    assert_eq!(r.provider.map(|p| p.name).as_deref(), Some("SendGrid"));
}

#[test]
fn sender_return_path_and_message_id_mismatches_are_info() {
    let r = run("Return-Path: <bounce-123@bounces.esp.example>\n\
        Received: from out.esp.example (out.esp.example [93.184.216.34])\n\
        \tby mx.example.org with ESMTP id 1; Tue, 14 Nov 2023 10:15:31 +0000\n\
        From: News <news@shop.example>\nSender: agent@esp.example\nTo: bob@example.org\n\
        Date: Tue, 14 Nov 2023 10:15:30 +0000\nMessage-ID: <abc@mta.esp.example>\n\n");
    let c = codes(&r);
    for code in [
        "return-path-mismatch",
        "sender-mismatch",
        "message-id-domain-mismatch",
    ] {
        let f = r.findings.iter().find(|f| f.code == code);
        assert_eq!(
            f.map(|f| f.severity),
            Some(Severity::Info),
            "{code} in {c:?}"
        );
    }
}

#[test]
fn dkim_and_arc_failures_at_the_receiver_are_reported() {
    let r = run(
        "Received: from out.example.net (out.example.net [93.184.216.34])\n\
        \tby mx.example.org with ESMTP id 1; Tue, 14 Nov 2023 10:15:31 +0000\n\
        Authentication-Results: mx.example.org; dkim=fail (bad signature) header.d=example.net;\n\
        \tarc=fail (i=2 cv); spf=softfail smtp.mailfrom=example.net\n\
        From: a@example.net\nDate: Tue, 14 Nov 2023 10:15:30 +0000\nMessage-ID: <1@example.net>\n\n",
    );
    let c = codes(&r);
    assert!(
        c.contains(&"dkim-fail") && c.contains(&"arc-fail") && c.contains(&"spf-fail"),
        "{c:?}"
    );
    let spf = r
        .findings
        .iter()
        .find(|f| f.code == "spf-fail")
        .map(|f| f.severity);
    assert_eq!(spf, Some(Severity::Info), "softfail is info");
}

#[test]
fn forged_authentication_results_below_the_boundary_are_not_believed() {
    // The sender wrote a passing Authentication-Results for a host outside the trusted
    // chain; the receiver's own header says fail.
    let r = run("Received: from evil.example (evil.example [45.137.21.9])\n\
        \tby mx.example.org with ESMTP id 1; Tue, 14 Nov 2023 10:15:31 +0000\n\
        Authentication-Results: mx.example.org; dmarc=fail header.from=bank.example\n\
        Authentication-Results: mx.bank.example; dmarc=pass header.from=bank.example\n\
        From: a@bank.example\nDate: Tue, 14 Nov 2023 10:15:30 +0000\nMessage-ID: <1@bank.example>\n\n");
    assert_eq!(r.authentication.dmarc.as_deref(), Some("fail"));
    assert!(codes(&r).contains(&"dmarc-fail"));
}

#[test]
fn confusable_from_domain_is_critical() {
    // "gооgle.com" with two Cyrillic o's, written in its punycode form.
    let r = run(
        "From: Security <alert@xn--ggle-55da.com>\nTo: bob@example.org\n\
        Date: Tue, 14 Nov 2023 10:15:30 +0000\nMessage-ID: <1@xn--ggle-55da.com>\n\n",
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.code == "lookalike-domain")
        .expect("flagged");
    assert_eq!(f.severity, Severity::Critical, "{}", f.message);
    assert!(f.message.contains("google.com"), "{}", f.message);
}
