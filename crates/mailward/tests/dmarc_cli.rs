//! `mailward dmarc read`, run as a user runs it over the shared report samples
//! (`/work/shared/testdata/dmarc-reports`, skipped with a notice when absent): the good
//! reports are shown with their totals, each broken file is named on stderr, and the exit
//! status says whether any file was refused.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_dns;
mod common_serve;

use common_serve::BIN;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
    cmd.args(["dmarc", "read", "--no-dns"]).args(args);
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

/// The RFC 9990 example report with its two sources replaced by addresses the MaxMind test
/// databases know (`shared/testdata/geoip/README.md`): 81.2.69.142 is GB in the City
/// database, 1.128.0.1 is AS1221 "Telstra Pty Ltd" in the ASN one.
fn report_with_known_sources(dir: &Path) -> Option<PathBuf> {
    let samples = samples()?;
    let text = std::fs::read_to_string(
        samples.join("aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml"),
    )
    .unwrap();
    let text = text
        .replace("198.51.100.1", "81.2.69.142")
        .replace("203.0.113.10", "1.128.0.1");
    let path = dir.join("known-sources.xml");
    std::fs::write(&path, text).unwrap();
    Some(path)
}

fn geoip(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/geoip")
        .join(name);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipped: no GeoIP test database at {}", path.display());
        None
    }
}

#[test]
fn sources_show_reverse_dns_country_and_as() {
    let dir = tempfile::tempdir().unwrap();
    let Some(report) = report_with_known_sources(dir.path()) else {
        return;
    };
    let (Some(city), Some(asn)) = (
        geoip("GeoLite2-City-Test.mmdb"),
        geoip("GeoLite2-ASN-Test.mmdb"),
    ) else {
        return;
    };
    let Some(dns) =
        common_dns::start_dns(&["--ptr-record=142.69.2.81.in-addr.arpa,mail.sender.test"])
    else {
        return;
    };
    let run = |json: bool| {
        let mut cmd = Command::new(BIN);
        cmd.args(["dmarc", "read"])
            .arg(&report)
            .arg("--geoip")
            .arg(&city)
            .arg("--asn")
            .arg(&asn)
            .arg("--dns-server")
            .arg(format!("127.0.0.1:{}", dns.port));
        if json {
            cmd.arg("--json");
        }
        let started = std::time::Instant::now();
        let out = cmd.output().unwrap();
        assert!(
            started.elapsed().as_secs() < 20,
            "PTR look-ups must be bounded"
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        out
    };

    let text = String::from_utf8(run(false).stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let after = |ip: &str| {
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with(ip))
            .expect(&text);
        lines[at + 1].trim().to_string()
    };
    assert_eq!(after("81.2.69.142"), "ptr mail.sender.test, GB");
    assert!(
        after("1.128.0.1").contains("AS1221 Telstra Pty Ltd"),
        "{text}"
    );

    let v: serde_json::Value = serde_json::from_slice(&run(true).stdout).unwrap();
    let records = v["reports"][0]["records"].as_array().unwrap();
    let source = |ip: &str| {
        records
            .iter()
            .find(|r| r["source_ip"] == ip)
            .map(|r| r["source"].clone())
            .unwrap()
    };
    let gb = source("81.2.69.142");
    assert_eq!(gb["reverse_dns"], "mail.sender.test");
    assert_eq!(gb["country"], "GB");
    let telstra = source("1.128.0.1");
    assert_eq!(telstra["asn"], 1221);
    assert_eq!(telstra["as_org"], "Telstra Pty Ltd");
    assert!(telstra.get("reverse_dns").is_none(), "{telstra}");
}

#[test]
fn no_dns_skips_reverse_names_but_keeps_the_databases() {
    let dir = tempfile::tempdir().unwrap();
    let Some(report) = report_with_known_sources(dir.path()) else {
        return;
    };
    let Some(city) = geoip("GeoLite2-City-Test.mmdb") else {
        return;
    };
    let out = Command::new(BIN)
        .args(["dmarc", "read", "--no-dns", "--json", "--geoip"])
        .arg(&city)
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gb = v["reports"][0]["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source_ip"] == "81.2.69.142")
        .map(|r| r["source"].clone())
        .unwrap();
    assert_eq!(gb["country"], "GB");
    assert!(gb.get("reverse_dns").is_none() && gb.get("reverse_dns_error").is_none());
}
