//! `mailward dmarc read`, run as a user runs it over the shared report samples
//! (`/work/shared/testdata/dmarc-reports`, skipped with a notice when absent): the good
//! reports are shown with their totals, each broken file is named on stderr, and the exit
//! status says whether any file was refused.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mailward");

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

fn dmarc_read(args: &[&Path], json: bool) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["dmarc", "read"]).args(args);
    if json {
        cmd.arg("--json");
    }
    cmd.output().unwrap()
}

#[test]
fn whole_sample_tree_names_each_broken_file_and_exits_1() {
    let Some(dir) = samples() else { return };
    let out = dmarc_read(&[&dir], false);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    for broken in [
        "aggregate/invalid_utf_8.xml: not UTF-8",
        "aggregate/invalid_xml.xml: invalid DMARC aggregate report",
        "report_with_upper_cased_pass.xml: invalid DMARC aggregate report",
        "empty.xml: empty file",
        "failure/netease-failure-report.eml: no DMARC aggregate or SMTP TLS report found in this message: it is a failure (ruf",
    ] {
        assert!(stderr.contains(broken), "{broken} not in {stderr}");
    }
    // Every refusal names its file (samples added later may add refusals of their own; the
    // counts per known file are checked in crates/auth/tests/dmarc_read.rs).
    for line in stderr.lines() {
        assert!(
            line.starts_with("mailward: ") && line.contains(": "),
            "{line}"
        );
    }
    assert!(stderr.lines().count() >= 9, "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("total: "), "{stdout}");
    assert!(stdout.contains("TLS report(s): "), "{stdout}");
}

#[test]
fn one_good_report_shows_its_sources_and_exits_0() {
    let Some(dir) = samples() else { return };
    let file = dir.join("aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml");
    let out = dmarc_read(&[&file], false);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("DMARC aggregate report from example.net <postmaster@example.net>, id dmarcbis-test-report-001"));
    assert!(stdout.contains("period: 2023-11-14T22:13:20Z .. 2023-11-15T22:13:19Z"));
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("203.0.113.10"))
        .expect(&stdout);
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &cols[..7],
        [
            "203.0.113.10",
            "2",
            "fail",
            "fail",
            "fail",
            "reject",
            "example.com"
        ]
    );
}

#[test]
fn json_is_one_object_with_reports_errors_and_totals() {
    let Some(dir) = samples() else { return };
    let good = dir.join("extract_report/nice-input.xml.gz");
    let tls = dir.join("smtp_tls/rfc8460.json");
    let bad = dir.join("aggregate/invalid_xml.xml");
    let out = dmarc_read(&[&good, &tls, &bad], true);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reports = v["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["kind"], "aggregate");
    assert_eq!(reports[0]["records"].as_array().unwrap().len(), 20);
    assert_eq!(reports[1]["kind"], "tls");
    assert_eq!(v["errors"][0]["file"], bad.display().to_string());
    assert_eq!(v["totals"]["messages"], 3047);
    assert_eq!(v["totals"]["tls_sessions_failure"], 303);
    assert_eq!(v["totals"]["files_refused"], 1);
}

#[test]
fn missing_path_is_named_and_others_are_still_read() {
    let Some(dir) = samples() else { return };
    let missing = dir.join("no-such-report.xml");
    let good = dir.join("aggregate/twilight.eml");
    let out = dmarc_read(&[&missing, &good], false);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("no-such-report.xml: cannot read"),
        "{stderr}"
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("total: 1 DMARC report(s)")
    );
}
