//! A DMARC failure caused by the recipient's own organisation forwarding the message (an
//! on-premises Exchange relaying into Microsoft 365) is told apart from spoofing, and a
//! spoofed message keeps its critical finding. Names and addresses are documentation values
//! (RFC 2606, RFC 5737, RFC 3849) in the layout of the real report in the shared corpus
//! (`dmarc-reports/samples/aggregate/google-report-borschow.com.eml`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_trace::{AnalyzeOptions, Report, Severity, analyze};

const NOW: i64 = 1_795_000_000;

fn run(headers: &str) -> Report {
    let raw = headers.replace('\n', "\r\n");
    analyze(raw.as_bytes(), "-", &AnalyzeOptions { now: NOW })
}

fn fixture(name: &str) -> Report {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).expect("fixture");
    analyze(&raw, &path, &AnalyzeOptions { now: NOW })
}

fn severity_of(r: &Report, code: &str) -> Option<Severity> {
    r.findings
        .iter()
        .find(|f| f.code == code)
        .map(|f| f.severity)
}

/// The sender's mail reaches the recipient's gateway (which records SPF pass), crosses two
/// internal Exchange servers and is relayed into Microsoft 365, which checks SPF against
/// the relay's IP, finds the DKIM signature broken and says `dmarc=fail`. Microsoft's
/// header has no authserv-id in front, as in the real one.
const FORWARDED_INTO_M365: &str = "\
Received: from SN6PR04MB4480.namprd04.prod.outlook.com (2603:10b6:803:41::31)
 by SN6PR04MB4477.namprd04.prod.outlook.com with HTTPS; Wed, 13 Feb 2019 10:48:13 +0000
Received: from BY2NAM03FT014.eop-NAM03.prod.protection.outlook.com
 (2001:db8:f400:7e4a::207) by SN6PR04MB4480.namprd04.prod.outlook.com
 (2001:db8:805:a5::17) with Microsoft SMTP Server (version=TLS1_2,
 cipher=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384) id 15.20.1622.16 via Frontend
 Transport; Wed, 13 Feb 2019 10:48:12 +0000
Authentication-Results: spf=softfail (sender IP is 203.0.113.198)
 smtp.mailfrom=sender.example; corp.mail.onmicrosoft.com; dkim=fail
 (signature did not verify)
 header.d=sender.example;corp.mail.onmicrosoft.com; dmarc=fail
 action=oreject header.from=sender.example;
Received-SPF: SoftFail (protection.outlook.com: domain of transitioning
 sender.example discourages use of 203.0.113.198 as permitted sender)
Received: from relay.corp.example (203.0.113.198) by
 BY2NAM03FT014.mail.protection.outlook.com (10.152.84.239) with Microsoft SMTP
 Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384) id
 15.20.1580.10 via Frontend Transport; Wed, 13 Feb 2019 10:48:12 +0000
Received: from EXCH02.corp.example (10.212.25.115) by
 relay.corp.example (10.208.183.149) with Microsoft SMTP Server (TLS)
 id 14.3.361.1; Wed, 13 Feb 2019 05:47:36 -0500
Received: from EXCH01.corp.example (198.51.100.66) by
 EXCH02.corp.example (10.212.25.115) with Microsoft SMTP Server
 (TLS) id 14.3.361.1; Wed, 13 Feb 2019 05:47:32 -0500
Received: from gw.corp.example (198.51.100.108) by
 EXCH01.corp.example (198.51.100.66) with Microsoft SMTP Server
 (TLS) id 14.3.361.1; Wed, 13 Feb 2019 04:47:32 -0600
Authentication-Results-Original: gw.corp.example; spf=Pass
 smtp.mailfrom=noreply-dmarc-support@sender.example
Received-SPF: Pass (gw.corp.example: domain of
  noreply-dmarc-support@sender.example designates 192.0.2.201 as
  permitted sender) identity=mailfrom; client-ip=192.0.2.201;
  envelope-from=\"noreply-dmarc-support@sender.example\"
Received: from mail-out.sender.example ([192.0.2.201])  by
 gw.corp.example with ESMTP/TLS/AES128-GCM-SHA256; 13 Feb 2019 04:47:15
 -0600
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.example; s=s1;
 h=from:to:subject:date; bh=AAAA; b=AAAA
Date: Wed, 13 Feb 2019 02:47:14 -0800
Message-ID: <949348866075514174@sender.example>
Subject: Report domain: corp.example Submitter: sender.example
From: <noreply-dmarc-support@sender.example>
To: <dmarcreports@corp.example>
Return-Path: noreply-dmarc-support@sender.example

";

#[test]
fn regress_dmarc_report_forwarded_by_on_premises_exchange_is_not_spoofing() {
    let r = run(FORWARDED_INTO_M365);
    assert_eq!(r.trust.trusted_hops, r.hops.len(), "{}", r.trust.reason);
    assert_eq!(r.authentication.dmarc.as_deref(), Some("fail"));
    assert_eq!(severity_of(&r, "dmarc-fail"), None, "{:?}", r.findings);
    let f = r
        .findings
        .iter()
        .find(|f| f.code == "dmarc-fail-after-forward")
        .expect("the forward is recognised");
    assert_eq!(f.severity, Severity::Warning);
    // The investigator is told why, with evidence that can be checked in the headers.
    for evidence in [
        "gw.corp.example (hop 1)",
        "spf=pass smtp.mailfrom=noreply-dmarc-support@sender.example",
        "Authentication-Results-Original",
        "relay.corp.example (hop 5) relayed it on",
        "SPF softfail (for the relay's address) and DKIM fail",
        "not spoofing",
    ] {
        assert!(
            f.message.contains(evidence),
            "{evidence:?} in {}",
            f.message
        );
    }
    assert!(
        r.findings.iter().all(|f| f.severity < Severity::Critical),
        "{:?}",
        r.findings
    );
    // The earlier result is kept in the report as evidence, not as the verdict.
    assert!(r.authentication.results.iter().any(|a| {
        a.header == "Authentication-Results-Original" && a.method == "spf" && a.result == "pass"
    }));
}

#[test]
fn spoofed_message_keeps_its_critical_dmarc_failure() {
    let r = fixture("spoof.eml");
    assert_eq!(severity_of(&r, "dmarc-fail"), Some(Severity::Critical));
    assert_eq!(severity_of(&r, "dmarc-fail-after-forward"), None);
}

#[test]
fn a_forged_earlier_pass_does_not_excuse_a_spoof() {
    // The sender adds the evidence itself: an `Authentication-Results-Original` claiming a
    // pass by the recipient's gateway, and a Received header naming that gateway. The
    // receiver got the message straight from the sender, so neither is on the trusted chain.
    let r = run("Received: from evil.example (evil.example [45.137.21.9])
\tby mx.corp.example with ESMTP id 1; Wed, 13 Feb 2019 10:48:12 +0000
Authentication-Results: mx.corp.example; spf=fail smtp.mailfrom=sender.example;
 dkim=none; dmarc=fail header.from=sender.example
Authentication-Results-Original: gw.corp.example; spf=pass
 smtp.mailfrom=noreply@sender.example
Received: from mail-out.sender.example ([192.0.2.201]) by gw.corp.example
 with ESMTP; Wed, 13 Feb 2019 10:40:00 +0000
From: <noreply@sender.example>
To: <victim@corp.example>
Date: Wed, 13 Feb 2019 10:48:00 +0000
Message-ID: <1@sender.example>

");
    assert_eq!(severity_of(&r, "dmarc-fail"), Some(Severity::Critical));
    assert_eq!(severity_of(&r, "dmarc-fail-after-forward"), None);
}
