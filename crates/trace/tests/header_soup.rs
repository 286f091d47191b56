//! Property: any soup of header-like lines gives a report, never a panic, and keeps one
//! hop per `Received:` line.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_trace::{AnalyzeOptions, analyze};
use proptest::prelude::*;

const NAMES: &[&str] = &[
    "Received",
    "From",
    "To",
    "Reply-To",
    "Sender",
    "Return-Path",
    "Date",
    "Message-ID",
    "Subject",
    "Authentication-Results",
    "ARC-Authentication-Results",
    "ARC-Seal",
    "Received-SPF",
    "DKIM-Signature",
    "X-Originating-IP",
    "List-Id",
];

const FRAGMENTS: &[&str] = &[
    "from ",
    "by ",
    "with ESMTPSA ",
    "id ",
    "for <a@b.example> ",
    "; ",
    "(",
    ")",
    "[",
    "]",
    "[IPv6:2001:db8::1]",
    "203.0.113.7",
    "8.8.8.8",
    "(Authenticated sender: x)",
    "Mon, 1 Jan 2024 00:00:00 +0000",
    "Tue, 31 Feb 99999 99:99:99 -9999",
    "=?utf-8?B?w6k=?=",
    "=?bogus?Q?",
    "\"",
    "<",
    ">",
    "@",
    "xn--pple-43d.com",
    "dkim=fail",
    "spf=pass smtp.mailfrom=x",
    "\r",
    "\n",
    "\r\n\t",
    "\u{0430}",
    "\u{ffff}",
];

fn header_soup() -> impl Strategy<Value = Vec<u8>> {
    let line = (
        prop::sample::select(NAMES),
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12),
        prop::collection::vec(any::<u8>(), 0..8),
    )
        .prop_map(|(name, frags, noise)| {
            let mut l = format!("{name}: {}", frags.concat()).into_bytes();
            l.extend(noise);
            l.extend_from_slice(b"\r\n");
            l
        });
    prop::collection::vec(line, 0..40).prop_map(|lines| lines.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_header_soup_gives_a_report(raw in header_soup()) {
        let report = analyze(&raw, "soup", &AnalyzeOptions { now: 1_795_000_000 });
        // Every hop index is in 1..=n and hops are ordered.
        for (i, hop) in report.hops.iter().enumerate() {
            prop_assert_eq!(hop.index, i + 1);
        }
        prop_assert!(report.trust.trusted_hops <= report.hops.len());
        let _ = serde_json::to_string(&report).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }

    #[test]
    fn random_bytes_give_a_report(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
        let report = analyze(&raw, "bytes", &AnalyzeOptions { now: 1_795_000_000 });
        prop_assert!(report.trust.trusted_hops <= report.hops.len());
    }
}

#[test]
fn one_hop_per_received_line_even_when_unparseable() {
    let raw = b"Received: )))(((\r\nReceived: from\r\nReceived: ;;;\r\nSubject: x\r\n\r\n";
    let report = analyze(raw, "-", &AnalyzeOptions { now: 1_795_000_000 });
    assert_eq!(report.hops.len(), 3);
    assert!(report.hops.iter().all(|h| !h.raw.is_empty()));
}
