//! DMARC aggregate reports out (RFC 9990): evaluations from real checks are recorded,
//! counted into rows per policy domain, written as XML that our own report reader (the
//! `dmarc read` code) reads back with the same counts, and sent only to verified `rua`
//! destinations.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_auth::aggregate::{
    DestinationVerdict, Disposition, Evaluation, OverrideReason, Period, Recorder, Submitter,
    aggregate, append_evaluations, build_report, evaluations_dir, prune_before, read_period,
    report_file_name, report_gzip, report_message, verify_destinations,
};
use mailward_auth::report::{Limits, ReadReport, read_report};
use mailward_auth::verify::{Lookups, StaticDns, check_dmarc, check_spf_mail_from, verify_dkim};
use std::io::Write;
use std::net::IpAddr;
use std::path::Path;

/// The From domain has no record of its own: the tree walk finds example.com's.
const MESSAGE: &[u8] =
    b"From: News <news@mail.example.com>\r\nTo: you@example.org\r\nSubject: hi\r\n\r\nHello\r\n";
const RECORD: &str =
    "v=DMARC1; p=reject; rua=mailto:dmarc@example.com,mailto:reports@thirdparty.example!10k";
/// 2026-12-07T20:18:02Z
const NOW: i64 = 1_796_674_682;

fn zone(authorize_thirdparty: bool) -> StaticDns {
    let mut dns = StaticDns::new();
    dns.add_txt("mail.example.com", "v=spf1 ip4:192.0.2.0/24 -all");
    dns.add_a("mail.example.com", "192.0.2.1".parse().unwrap());
    dns.add_a("example.com", "192.0.2.1".parse().unwrap());
    dns.add_txt("_dmarc.example.com", RECORD);
    if authorize_thirdparty {
        dns.add_txt("example.com._report._dmarc.thirdparty.example", "v=DMARC1");
    }
    dns
}

async fn evaluate(dns: &StaticDns, client: &str, at: i64) -> Option<Evaluation> {
    let authenticator = StaticDns::offline_authenticator().unwrap();
    let lookups = Lookups::fixed(&authenticator, dns);
    let ip: IpAddr = client.parse().unwrap();
    let spf = check_spf_mail_from(
        &lookups,
        ip,
        "mta.example.com",
        "<owner@mail.example.com>",
        "mx.example.org",
    )
    .await;
    let dkim = verify_dkim(&lookups, MESSAGE).await;
    let dmarc = check_dmarc(&lookups, MESSAGE, &dkim, &spf).await;
    let disposition = if dmarc.spf_aligned {
        Disposition::None
    } else {
        Disposition::Reject
    };
    Evaluation::new(
        at,
        ip,
        "owner@mail.example.com",
        "Example.ORG",
        &spf,
        &dkim,
        &dmarc,
        disposition,
        None,
    )
}

fn submitter() -> Submitter {
    Submitter {
        org_name: "Example Receiver".into(),
        email: "dmarc-reports@example.org".into(),
        domain: "example.org".into(),
    }
}

#[tokio::test]
async fn the_policy_domain_is_where_the_record_was_found() {
    let e = evaluate(&zone(false), "192.0.2.10", NOW).await.unwrap();
    assert_eq!(e.policy.domain, "example.com");
    assert_eq!(e.row.header_from, "mail.example.com");
    assert_eq!(e.row.envelope_from, "mail.example.com");
    assert_eq!(e.row.envelope_to, "example.org");
    assert_eq!(e.policy.p.as_str(), "reject");
    assert_eq!(e.policy.rua.len(), 2);
    assert_eq!(e.policy.rua[1].address, "reports@thirdparty.example");
    assert_eq!(e.policy.rua[1].max_size, 10 * 1024);
    assert!(e.row.spf_aligned);
}

#[tokio::test]
async fn no_dmarc_record_means_nothing_to_report() {
    let mut dns = StaticDns::new();
    dns.add_txt("mail.example.com", "v=spf1 ip4:192.0.2.0/24 -all");
    assert!(evaluate(&dns, "192.0.2.10", NOW).await.is_none());
}

#[tokio::test]
async fn rows_count_messages_and_the_xml_reads_back_with_the_same_counts() {
    let dns = zone(false);
    let mut evaluations = Vec::new();
    for i in 0..3 {
        evaluations.push(evaluate(&dns, "192.0.2.10", NOW + i).await.unwrap());
    }
    for i in 0..2 {
        evaluations.push(evaluate(&dns, "198.51.100.7", NOW + i).await.unwrap());
    }
    let mut overridden = evaluate(&dns, "198.51.100.7", NOW).await.unwrap();
    overridden.row.disposition = Disposition::None;
    overridden.row.overridden = Some((OverrideReason::MailingList, "list.example.net".into()));
    evaluations.push(overridden);

    let reports = aggregate(evaluations.clone(), None);
    assert_eq!(reports.len(), 1);
    let domain = &reports[0];
    assert_eq!(domain.messages(), 6);
    let mut counts: Vec<u32> = domain.rows.iter().map(|(_, n)| *n).collect();
    counts.sort_unstable();
    assert_eq!(counts, vec![1, 2, 3], "{:#?}", domain.rows);
    assert!(aggregate(evaluations, Some("other.example")).is_empty());

    let period = Period::containing(NOW);
    let report = build_report(domain, period, &submitter());
    let name = report_file_name(&report, &submitter());
    assert!(
        name.starts_with(&format!(
            "example.org!example.com!{}!{}!",
            period.begin(),
            period.end()
        )),
        "{name}"
    );
    assert!(name.ends_with(".xml.gz"), "{name}");

    let gz = report_gzip(&report).unwrap();
    let ReadReport::Aggregate(summary) =
        read_report(Path::new(&name), &gz, &Limits::default()).unwrap()
    else {
        panic!("not read as an aggregate report");
    };
    assert_eq!(summary.org_name, "Example Receiver");
    assert_eq!(summary.policy.domain, "example.com");
    assert_eq!(summary.policy.p, "reject");
    assert_eq!(summary.begin, period.begin() as u64);
    assert_eq!(summary.total_messages, 6);
    assert_eq!(summary.dmarc_pass_messages, 3);
    assert_eq!(summary.dmarc_fail_messages, 3);
    let rejected = summary
        .records
        .iter()
        .find(|r| r.source_ip == "198.51.100.7" && r.disposition == "reject")
        .unwrap();
    assert_eq!(rejected.count, 2);
    assert_eq!(rejected.spf, vec!["mail.example.com=fail".to_string()]);
    let listed = summary.records.iter().find(|r| r.count == 1).unwrap();
    assert_eq!(listed.reasons.len(), 1, "{listed:?}");
    assert!(listed.reasons[0].contains("mailing_list"), "{listed:?}");
}

#[tokio::test]
async fn the_report_mail_has_the_rfc_9990_subject_and_a_gzip_attachment() {
    let e = evaluate(&zone(false), "192.0.2.10", NOW).await.unwrap();
    let reports = aggregate([e], None);
    let report = build_report(&reports[0], Period::containing(NOW), &submitter());
    let mail = report_message(
        &report,
        &submitter(),
        &["dmarc@example.com".to_string()],
        NOW,
    )
    .unwrap();
    let text = String::from_utf8_lossy(&mail);
    assert!(
        text.contains("Subject: Report Domain: example.com Submitter: example.org Report-ID: <2026-12-07.example.com@example.org>"),
        "{text}"
    );
    assert!(text.contains("application/gzip"), "{text}");
    assert!(text.contains("dmarc@example.com"), "{text}");
    // The whole mail reads back as a report, as `dmarc read` reads an arriving one.
    let ReadReport::Aggregate(summary) =
        read_report(Path::new("report.eml"), &mail, &Limits::default()).unwrap()
    else {
        panic!("not read as an aggregate report");
    };
    assert_eq!(summary.total_messages, 1);
}

#[tokio::test]
async fn external_destinations_need_the_report_record() {
    let e = evaluate(&zone(false), "192.0.2.10", NOW).await.unwrap();
    for (authorize, expected) in [
        (false, DestinationVerdict::Refused),
        (true, DestinationVerdict::Authorized),
    ] {
        let dns = zone(authorize);
        let authenticator = StaticDns::offline_authenticator().unwrap();
        let lookups = Lookups::fixed(&authenticator, &dns);
        let d = verify_destinations(&lookups, &e.policy.domain, &e.policy.rua).await;
        assert_eq!(d[0].address, "dmarc@example.com");
        assert_eq!(d[0].verdict, DestinationVerdict::Internal);
        assert_eq!(d[1].verdict, expected);
        assert_eq!(
            d[1].checked_name.as_deref(),
            Some("example.com._report._dmarc.thirdparty.example")
        );
        assert!(d[1].accepts(10 * 1024));
        assert!(!d[1].accepts(10 * 1024 + 1));
        assert!(d[0].accepts(u64::MAX));
    }
}

#[tokio::test]
async fn the_recorder_writes_what_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let e = evaluate(&zone(false), "192.0.2.10", NOW).await.unwrap();
    let recorder = Recorder::open(dir.path()).unwrap();
    for _ in 0..50 {
        recorder.record(e.clone());
    }
    let period = Period::containing(NOW);
    let mut read = Vec::new();
    for _ in 0..200 {
        read = read_period(dir.path(), period).unwrap().0;
        if read.len() == 50 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(read.len(), 50);
    assert_eq!(recorder.dropped(), 0);
    assert_eq!(read[0], e);
    assert!(read_period(dir.path(), period.next()).unwrap().0.is_empty());
}

#[tokio::test]
async fn regress_torn_last_line_is_skipped_and_the_next_append_stays_whole() {
    let dir = tempfile::tempdir().unwrap();
    let e = evaluate(&zone(false), "192.0.2.10", NOW).await.unwrap();
    append_evaluations(dir.path(), &[e.clone(), e.clone()]).unwrap();
    // A crash in the middle of the third line.
    let path = evaluations_dir(dir.path()).join("2026-12-07.jsonl");
    let line = serde_json::to_string(&e).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(&line.as_bytes()[..line.len() / 2]).unwrap();
    drop(file);

    let period = Period::containing(NOW);
    let (read, skipped) = read_period(dir.path(), period).unwrap();
    assert_eq!((read.len(), skipped), (2, 1));

    append_evaluations(dir.path(), std::slice::from_ref(&e)).unwrap();
    let (read, skipped) = read_period(dir.path(), period).unwrap();
    assert_eq!((read.len(), skipped), (3, 1));
}

#[tokio::test]
async fn old_days_are_pruned_and_recent_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let e = evaluate(&zone(false), "192.0.2.10", NOW).await.unwrap();
    let today = Period::containing(NOW);
    let mut old = e.clone();
    old.at = today.previous().previous().begin();
    append_evaluations(dir.path(), &[e.clone(), old.clone()]).unwrap();
    assert_eq!(prune_before(dir.path(), today.previous()).unwrap(), 1);
    assert!(
        read_period(dir.path(), Period::containing(old.at))
            .unwrap()
            .0
            .is_empty()
    );
    assert_eq!(read_period(dir.path(), today).unwrap().0.len(), 1);
}

#[tokio::test]
async fn a_failing_message_under_test_mode_is_reported_as_policy_test_mode() {
    let mut e = evaluate(&zone(false), "198.51.100.7", NOW).await.unwrap();
    e.policy.testing = true;
    let reports = aggregate([e], None);
    let report = build_report(&reports[0], Period::containing(NOW), &submitter());
    let xml = report.to_xml();
    assert!(xml.contains("<type>policy_test_mode</type>"), "{xml}");
    assert!(xml.contains("<testing>y</testing>"), "{xml}");
}

#[tokio::test]
async fn an_assessed_message_from_a_trusted_forwarder_is_recorded_with_the_override() {
    use mailward_auth::inbound::{Client, InboundSettings, assess};
    let dns = zone(false);
    let authenticator = StaticDns::offline_authenticator().unwrap();
    let lookups = Lookups::fixed(&authenticator, &dns);
    let ip: IpAddr = "198.51.100.7".parse().unwrap();
    let client = Client {
        ip,
        helo: "relay.example.net",
        mail_from: "owner@mail.example.com",
        trusted: Some("relay"),
    };
    let settings = InboundSettings::new("mx.example.org");
    let assessment = assess(&lookups, &client, MESSAGE, &settings).await;
    let e = Evaluation::from_assessment(
        NOW,
        ip,
        "owner@mail.example.com",
        "example.org",
        &assessment,
    )
    .unwrap();
    assert_eq!(e.policy.domain, "example.com");
    assert_eq!(e.row.disposition, Disposition::None, "{assessment:?}");
    let (reason, _) = e.row.overridden.clone().unwrap();
    assert_eq!(reason, OverrideReason::TrustedForwarder);
    assert!(!e.row.spf_aligned);
}
