//! Reading the DMARC aggregate and SMTP TLS reports in the shared test data (parsedmarc's
//! samples, `/work/shared/testdata/dmarc-reports`, skipped with a notice when absent): every
//! good report gives the record and message counts written in it, every broken one is
//! refused for the reason a user would look for, and decompression bombs made here are
//! refused before they cost memory.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_auth::report::{
    Limits, ReadReport, ReportError, read_report, read_report_file, report_files,
};
use std::io::Write;
use std::path::{Path, PathBuf};

fn samples() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/dmarc-reports/samples");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: no DMARC report samples at {}", dir.display());
        None
    }
}

/// (file, org_name, records, messages), counted in the files themselves (`<record>`
/// elements and the sum of `<count>`).
const AGGREGATE: &[(&str, &str, usize, u64)] = &[
    ("aggregate/!example.com!1538204542!1538463818.xml", "", 1, 1),
    (
        "aggregate/!large-example.com!1711897200!1711983600.xml",
        "",
        2286,
        2286,
    ),
    (
        "aggregate/addisonfoods.com!example.com!1536105600!1536191999.xml",
        "addisonfoods.com",
        1,
        1,
    ),
    ("aggregate/empty_reason.xml", "example.org", 1, 2),
    (
        "aggregate/estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.zip",
        "XYZ Corporation",
        1,
        1,
    ),
    (
        "aggregate/example.net!example.com!1529366400!1529452799.xml",
        "example.net",
        1,
        1,
    ),
    (
        "aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz",
        "FastMail Pty Ltd",
        1,
        1,
    ),
    (
        "aggregate/google-report-borschow.com.eml",
        "google.com",
        1,
        1,
    ),
    (
        "aggregate/ikea.com!example.de!1538690400!1538776800.xml",
        "ikea.com",
        1,
        1,
    ),
    ("aggregate/mimecast-weird-gzip.eml", "Mimecast", 1, 1),
    ("aggregate/old_draft_from_wiki.xml", "acme.com", 1, 2),
    (
        "aggregate/protection.outlook.com!example.com!1711756800!1711843200.xml",
        "Outlook.com",
        1,
        1,
    ),
    (
        "aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml",
        "example.net",
        2,
        7,
    ),
    ("aggregate/rfc9990-sample.xml", "Sample Reporter", 1, 123),
    ("aggregate/twilight.eml", "google.com", 1, 1),
    (
        "aggregate/usssa.com!example.com!1538784000!1538870399.xml",
        "usssa.com",
        2,
        2,
    ),
    (
        "aggregate/veeam.com!example.com!1530133200!1530219600.xml",
        "veeam.com",
        1,
        1,
    ),
    ("extract_report/changed-input.xml", "fred.com", 20, 3047),
    ("extract_report/nice-input.xml", "google.com", 20, 3047),
    ("extract_report/nice-input.xml.gz", "google.com", 20, 3047),
    ("extract_report/nice-input.xml.zip", "google.com", 20, 3047),
];

/// (file, organization-name, policies, successful sessions, failed sessions).
const TLS: &[(&str, &str, usize, u64, u64)] = &[
    (
        "smtp_tls/google.com_smtp_tls_report.eml",
        "Google Inc.",
        1,
        48,
        0,
    ),
    ("smtp_tls/mail.ru.json", "Mail.ru", 1, 0, 1),
    ("smtp_tls/rfc8460.json", "Company-X", 1, 5326, 303),
    ("smtp_tls/smtp_tls.json", "Example Inc.", 1, 0, 3),
];

/// Files that must be refused, with a word the error must hold.
const BROKEN: &[(&str, &str)] = &[
    ("aggregate/invalid_utf_8.xml", "not UTF-8"),
    (
        "aggregate/invalid_xml.xml",
        "invalid DMARC aggregate report",
    ),
    (
        "aggregate_invalid/report_with_upper_cased_pass.xml",
        "lower-case",
    ),
    ("empty.xml", "empty"),
    // Failure (ruf) reports are not aggregate reports: `dmarc read` does not read them.
    (
        "failure/dmarc_ruf_report_linkedin.crlf.eml",
        "no DMARC aggregate",
    ),
    (
        "failure/dmarc_ruf_report_linkedin.eml",
        "no DMARC aggregate",
    ),
    ("failure/domain.de-failure-report.eml", "no DMARC aggregate"),
    (
        "failure/exim_plain_text_only_no_arf_part.eml",
        "no DMARC aggregate",
    ),
    ("failure/netease-failure-report.eml", "no DMARC aggregate"),
];

#[test]
fn good_aggregate_reports_give_the_counts_written_in_them() {
    let Some(dir) = samples() else { return };
    for &(file, org, records, messages) in AGGREGATE {
        match read_report_file(&dir.join(file), &Limits::default()) {
            Ok(ReadReport::Aggregate(a)) => {
                assert_eq!(a.org_name, org, "{file}");
                assert_eq!(a.records.len(), records, "{file}");
                assert_eq!(a.total_messages, messages, "{file}");
                assert_eq!(a.dmarc_pass_messages + a.dmarc_fail_messages, messages);
            }
            other => panic!("{file}: {other:?}"),
        }
    }
}

#[test]
fn rfc9990_example_gives_per_source_results() {
    let Some(dir) = samples() else { return };
    let file = dir.join("aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml");
    let Ok(ReadReport::Aggregate(a)) = read_report_file(&file, &Limits::default()) else {
        panic!("not read");
    };
    assert_eq!(a.report_id, "dmarcbis-test-report-001");
    assert_eq!((a.begin, a.end), (1_700_000_000, 1_700_086_399));
    assert_eq!(
        (a.policy.domain.as_str(), a.policy.p),
        ("example.com", "reject")
    );
    let r = &a.records[1];
    assert_eq!(r.source_ip, "203.0.113.10");
    assert_eq!(
        (r.count, r.spf_aligned, r.dkim_aligned),
        (2, "fail", "fail")
    );
    assert_eq!((r.dmarc, r.disposition), ("fail", "reject"));
    assert_eq!(r.header_from, "example.com");
    assert_eq!((a.dmarc_pass_messages, a.dmarc_fail_messages), (5, 2));
}

#[test]
fn tls_reports_give_their_session_counts() {
    let Some(dir) = samples() else { return };
    for &(file, org, policies, success, failure) in TLS {
        match read_report_file(&dir.join(file), &Limits::default()) {
            Ok(ReadReport::Tls(t)) => {
                assert_eq!(t.org_name, org, "{file}");
                assert_eq!(t.policies.len(), policies, "{file}");
                assert_eq!(
                    (t.total_success, t.total_failure),
                    (success, failure),
                    "{file}"
                );
            }
            other => panic!("{file}: {other:?}"),
        }
    }
}

#[test]
fn broken_files_are_refused_with_their_reason() {
    let Some(dir) = samples() else { return };
    for &(file, reason) in BROKEN {
        let err = read_report_file(&dir.join(file), &Limits::default())
            .expect_err(file)
            .to_string();
        assert!(err.contains(reason), "{file}: {err}");
    }
}

#[test]
fn regress_upper_cased_pass_is_not_read_as_unspecified() {
    let Some(dir) = samples() else { return };
    let file = dir.join("aggregate_invalid/report_with_upper_cased_pass.xml");
    assert!(matches!(
        read_report_file(&file, &Limits::default()),
        Err(ReportError::InvalidAggregate(_))
    ));
}

#[test]
fn every_listed_sample_is_there_and_any_other_is_read_or_refused_cleanly() {
    let Some(dir) = samples() else { return };
    let known: Vec<PathBuf> = AGGREGATE
        .iter()
        .map(|a| a.0)
        .chain(TLS.iter().map(|t| t.0))
        .chain(BROKEN.iter().map(|b| b.0))
        .map(|f| dir.join(f))
        .collect();
    let found = report_files(&dir).unwrap();
    for k in &known {
        assert!(found.contains(k), "{} is missing", k.display());
    }
    // Samples added to the shared data later are not known here: each is read or refused
    // with a reason, never a panic.
    for other in found.iter().filter(|f| !known.contains(f)) {
        match read_report_file(other, &Limits::default()) {
            Ok(_) => {}
            Err(e) => assert!(!e.to_string().is_empty(), "{}", other.display()),
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// 100 MiB of spaces after an XML start: about 100 KiB gzipped.
fn bomb_content() -> Vec<u8> {
    let mut data = b"<?xml version=\"1.0\"?><feedback>".to_vec();
    data.resize(100 << 20, b' ');
    data
}

#[test]
fn gzip_bomb_is_refused_at_the_size_cap() {
    let bomb = gzip(&bomb_content());
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let err = read_report(Path::new("bomb.xml.gz"), &bomb, &Limits::default()).unwrap_err();
    assert!(
        matches!(err, ReportError::DecompressedTooLarge { .. }),
        "{err}"
    );
}

#[test]
fn gzip_past_the_ratio_is_refused_under_the_size_cap() {
    let limits = Limits {
        max_ratio: 100,
        ..Limits::default()
    };
    let mut data = b"<?xml version=\"1.0\"?><feedback>".to_vec();
    data.resize(4 << 20, b' ');
    let err = read_report(Path::new("bomb.gz"), &gzip(&data), &limits).unwrap_err();
    assert!(matches!(err, ReportError::RatioTooHigh { .. }), "{err}");
}

#[test]
fn zip_bomb_is_refused_at_the_size_cap() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("report.xml", options).unwrap();
    zip.write_all(&bomb_content()).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let err = read_report(Path::new("bomb.zip"), &bytes, &Limits::default()).unwrap_err();
    assert!(
        matches!(err, ReportError::DecompressedTooLarge { .. }),
        "{err}"
    );
}

#[test]
fn file_over_the_size_limit_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.xml");
    std::fs::write(&path, vec![b' '; 2048]).unwrap();
    let limits = Limits {
        max_file: 1024,
        ..Limits::default()
    };
    let err = read_report_file(&path, &limits).unwrap_err();
    assert!(
        matches!(err, ReportError::TooLarge { size: 2048, .. }),
        "{err}"
    );
}

#[test]
fn maildir_folder_gives_the_messages_in_cur_and_new() {
    let Some(samples) = samples() else { return };
    let dir = tempfile::tempdir().unwrap();
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    let eml = std::fs::read(samples.join("aggregate/twilight.eml")).unwrap();
    std::fs::write(dir.path().join("cur/1.host:2,S"), &eml).unwrap();
    std::fs::write(dir.path().join("new/2.host"), &eml).unwrap();
    std::fs::write(dir.path().join("tmp/3.host"), b"partial").unwrap();
    std::fs::write(dir.path().join("new/.hidden"), b"x").unwrap();
    let files = report_files(dir.path()).unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    for file in files {
        assert!(matches!(
            read_report_file(&file, &Limits::default()),
            Ok(ReadReport::Aggregate(_))
        ));
    }
}
