//! Issue 14: `mailward trace` recognises phishing from its content, with evidence, and stays
//! quiet on ordinary mail.
//!
//! `fixtures/phishing/` holds messages written after real phishing (example domains where
//! possible; brands are real names, since the brand list is about them), each with the
//! findings it must raise and its verdict. `fixtures/ordinary/` holds the mail that must not
//! light up: a bank notification, a GitHub notification, a newsletter with click tracking,
//! a Google Calendar invitation, a mailing-list post, and near-misses of every check.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_trace::content::CONTENT_CODES;
use mailward_trace::{AnalyzeOptions, Report, Severity, Verdict, analyze};
use std::path::{Path, PathBuf};

const NOW: i64 = 1_795_000_000;

fn fixtures(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind)
}

fn analyse(path: &Path) -> Report {
    let raw = std::fs::read(path).expect("fixture readable");
    analyze(
        &raw,
        &path.display().to_string(),
        &AnalyzeOptions { now: NOW },
    )
}

fn codes(report: &Report) -> Vec<(&'static str, Severity)> {
    report
        .findings
        .iter()
        .map(|f| (f.code, f.severity))
        .collect()
}

/// Each phishing fixture, the findings it must raise, and its verdict.
const PHISHING: &[(&str, &[&str], Verdict)] = &[
    (
        "netflix-payment-hold.eml",
        &[
            "brand-impersonation",
            "free-hosting-link",
            "credential-lure",
        ],
        Verdict::PhishingLikely,
    ),
    (
        "paypal-link-text-mismatch.eml",
        &[
            "link-text-mismatch",
            "brand-impersonation",
            "credential-lure",
        ],
        Verdict::PhishingLikely,
    ),
    (
        "microsoft-password-expiry-lookalike.eml",
        &["lookalike-link", "credential-lure"],
        Verdict::PhishingLikely,
    ),
    (
        "dhl-ip-link.eml",
        &["ip-link", "brand-impersonation"],
        Verdict::PhishingLikely,
    ),
    (
        "costco-reward-shortener.eml",
        &["shortener-link", "brand-impersonation"],
        Verdict::PhishingLikely,
    ),
    (
        "remittance-html-attachment.eml",
        &["html-attachment"],
        Verdict::PhishingLikely,
    ),
    (
        "voicemail-svg-smuggling.eml",
        &["html-attachment"],
        Verdict::PhishingLikely,
    ),
    (
        "invoice-encrypted-zip.eml",
        &["encrypted-archive", "reply-to-freemail"],
        Verdict::PhishingLikely,
    ),
    (
        "ceo-reply-to-freemail.eml",
        &["reply-to-freemail"],
        Verdict::Suspicious,
    ),
    (
        "docusign-form.eml",
        &["brand-impersonation", "credential-lure"],
        Verdict::PhishingLikely,
    ),
    (
        "webmail-quota-ptbr.eml",
        &["free-hosting-link", "credential-lure"],
        Verdict::PhishingLikely,
    ),
    (
        "invoice-data-url.eml",
        &["html-attachment"],
        Verdict::PhishingLikely,
    ),
    (
        "apple-id-punycode.eml",
        &["lookalike-link", "brand-impersonation"],
        Verdict::PhishingLikely,
    ),
    (
        "order-zip-double-extension.eml",
        &["risky-attachment"],
        Verdict::PhishingLikely,
    ),
    (
        "paypal-confusable-display-name.eml",
        &["brand-impersonation"],
        Verdict::PhishingLikely,
    ),
    (
        "shared-document-pdf-link.eml",
        &["free-hosting-link", "credential-lure"],
        Verdict::PhishingLikely,
    ),
    (
        "mailbox-personalised-link.eml",
        &["credential-lure"],
        Verdict::PhishingLikely,
    ),
    (
        "spaced-brand-display-name.eml",
        &["brand-impersonation"],
        Verdict::PhishingLikely,
    ),
    (
        "brand-in-sender-domain.eml",
        &["brand-impersonation", "lookalike-link"],
        Verdict::PhishingLikely,
    ),
    (
        "mfa-qr-code.eml",
        &["qr-code", "free-hosting-link", "credential-lure"],
        Verdict::PhishingLikely,
    ),
    (
        "bank-ptbr-brand-subject.eml",
        &[
            "brand-impersonation",
            "free-hosting-link",
            "credential-lure",
        ],
        Verdict::PhishingLikely,
    ),
];

#[test]
fn every_phishing_fixture_raises_its_findings_and_verdict() {
    let dir = fixtures("phishing");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = PHISHING.iter().map(|(f, _, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every phishing fixture is listed with its expectations"
    );
    let mut failures = Vec::new();
    for (file, expected, verdict) in PHISHING {
        let report = analyse(&dir.join(file));
        let got = codes(&report);
        for code in *expected {
            if !got.iter().any(|(c, _)| c == code) {
                failures.push(format!("{file}: missing {code}; got {got:?}"));
            }
        }
        if report.verdict != *verdict {
            failures.push(format!(
                "{file}: verdict {:?}, expected {verdict:?} ({:?}); got {got:?}",
                report.verdict, report.verdict_findings
            ));
        }
        // Every content finding carries its evidence.
        for f in &report.findings {
            if CONTENT_CODES.contains(&f.code) && f.evidence.is_empty() {
                failures.push(format!("{file}: {} has no evidence", f.code));
            }
        }
        if !report
            .findings
            .iter()
            .any(|f| f.severity >= Severity::Warning)
        {
            failures.push(format!("{file}: no warning or critical finding"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_ordinary_fixture_stays_quiet() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures("ordinary"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // The repository's earlier fixtures are ordinary mail too (except the forged one).
    files.extend(
        ["gmail.eml", "list.eml", "m365.eml", "webmail.eml"]
            .iter()
            .map(|f| fixtures("").join(f)),
    );
    files.sort();
    assert!(files.len() >= 15, "{files:?}");
    let mut failures = Vec::new();
    for path in &files {
        let report = analyse(path);
        let got = codes(&report);
        let content: Vec<_> = got
            .iter()
            .filter(|(c, _)| CONTENT_CODES.contains(c))
            .collect();
        if !content.is_empty()
            || got.iter().any(|(_, s)| *s == Severity::Critical)
            || report.verdict == Verdict::PhishingLikely
        {
            failures.push(format!(
                "{}: {:?} {:?}; findings {got:?}",
                path.display(),
                report.verdict,
                report.verdict_findings
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The forged fixture of the header tests stays what it was: its verdict rests on headers.
#[test]
fn links_are_reported_with_text_target_domain_and_why() {
    let report = analyse(&fixtures("phishing").join("paypal-link-text-mismatch.eml"));
    let content = report.content.as_ref().expect("content analysed");
    let link = content
        .links
        .iter()
        .find(|l| l.why.contains(&"link-text-mismatch"))
        .expect("the mismatching link is listed");
    assert_eq!(link.text, "https://www.paypal.com/signin");
    assert_eq!(link.domain.as_deref(), Some("secure-login-center.net"));
    assert_eq!(link.source, "href");
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "link-text-mismatch")
        .unwrap();
    assert!(f.message.contains("www.paypal.com"), "{}", f.message);
    assert!(f.message.contains("(PayPal)"), "{}", f.message);
    let mut json = Vec::new();
    mailward_trace::render::json_line(&report, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["verdict"], "phishing-likely");
    assert!(
        v["verdict_findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "link-text-mismatch")
    );
    assert_eq!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "link-text-mismatch")
            .unwrap()["evidence"][0]["domain"],
        "secure-login-center.net"
    );
}

#[test]
fn headers_only_input_gets_a_header_verdict() {
    let raw = std::fs::read(fixtures("phishing").join("ceo-reply-to-freemail.eml")).unwrap();
    let end = mailward_trace::source::header_end(&raw);
    let report = analyze(&raw[..end], "head", &AnalyzeOptions { now: NOW });
    assert!(report.content.is_none());
    assert!(
        codes(&report)
            .iter()
            .any(|(c, _)| *c == "reply-to-freemail")
    );
    assert_eq!(report.verdict, Verdict::Suspicious);
}

fn dump(path: &Path) -> String {
    let r = analyse(path);
    format!(
        "{} {:?} {:?} {:?}",
        path.display(),
        r.verdict,
        r.verdict_findings,
        codes(&r)
    )
}

#[test]
fn dump_when_asked() {
    if std::env::var_os("MAILWARD_TRACE_DUMP").is_none() {
        return;
    }
    for kind in ["phishing", "ordinary"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures(kind))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            println!("{}", dump(&f));
        }
    }
}
