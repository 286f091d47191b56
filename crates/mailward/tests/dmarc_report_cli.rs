//! `mailward dmarc report` and the report sender (issue 16, RFC 9990): evaluations recorded
//! in the data directory's format are shown per policy domain with their rows and `rua`
//! destinations, as XML that `mailward dmarc read` reads back, and `serve` with
//! `[dmarc] send_reports` queues one report per destination, once, even across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_dns;
mod common_serve;

use common_dns::start_dns;
use common_serve::{BIN, Mailward, config_text};
use mailward_auth::aggregate::{
    Disposition, Evaluation, Period, PolicyRequest, PublishedPolicy, Row, RuaUri, SpfAuth,
    append_evaluations,
};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Two days ago (UTC): a finished day the sender reports (it waits a few minutes after
/// midnight, and catches up a week back).
fn day() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    Period::containing(now).previous().previous().to_string()
}

fn internal_rua() -> Vec<RuaUri> {
    vec![
        RuaUri {
            address: "dmarc@sender.test".into(),
            max_size: 0,
        },
        RuaUri {
            address: "agg@reports.sender.test".into(),
            max_size: 10,
        },
    ]
}

fn evaluation(at: i64, ip: &str, aligned: bool, rua: Vec<RuaUri>) -> Evaluation {
    Evaluation {
        at,
        policy: PublishedPolicy {
            domain: "sender.test".into(),
            p: PolicyRequest::Reject,
            sp: PolicyRequest::Reject,
            np: PolicyRequest::Reject,
            strict_dkim: false,
            strict_spf: false,
            testing: false,
            rua,
        },
        row: Row {
            source_ip: ip.parse().unwrap(),
            disposition: if aligned {
                Disposition::None
            } else {
                Disposition::Reject
            },
            dkim_aligned: false,
            spf_aligned: aligned,
            overridden: None,
            header_from: "sender.test".into(),
            envelope_from: "sender.test".into(),
            envelope_to: "example.test".into(),
            dkim: Vec::new(),
            spf: SpfAuth {
                domain: "sender.test".into(),
                scope: "mfrom".into(),
                result: if aligned { "pass" } else { "fail" }.into(),
            },
        },
    }
}

/// Three aligned messages from one IP, two spoofed ones from another, on [`day`].
fn record(data: &Path) {
    record_with(data, internal_rua());
}

fn record_with(data: &Path, rua: Vec<RuaUri>) {
    let begin = Period::parse(&day(), 0).unwrap().begin();
    let mut all = Vec::new();
    for i in 0..3 {
        all.push(evaluation(
            begin + 3600 + i,
            "192.0.2.10",
            true,
            rua.clone(),
        ));
    }
    for i in 0..2 {
        all.push(evaluation(
            begin + 7200 + i,
            "198.51.100.7",
            false,
            rua.clone(),
        ));
    }
    append_evaluations(&data.join("dmarc"), &all).unwrap();
}

fn run(config: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn dmarc_report_shows_rows_destinations_and_xml() {
    let day = day();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mailward.toml");
    std::fs::write(&config, config_text(dir.path(), "")).unwrap();
    record(&dir.path().join("data"));

    let text = run(
        &config,
        &[
            "dmarc",
            "report",
            "--domain",
            "sender.test",
            "--period",
            &day,
        ],
    );
    assert!(
        text.contains(&format!(
            "sender.test  {day}: 5 message(s) in 2 row(s); p=reject"
        )),
        "{text}"
    );
    assert!(
        text.contains("rua: dmarc@sender.test internal (send)"),
        "{text}"
    );
    assert!(
        text.contains("rua: agg@reports.sender.test internal (not sent: larger than !10 bytes)"),
        "{text}"
    );
    assert!(
        text.contains("     3  192.0.2.10 disposition=none dkim=fail spf=pass"),
        "{text}"
    );
    assert!(
        text.contains("     2  198.51.100.7 disposition=reject dkim=fail spf=fail"),
        "{text}"
    );
    assert!(
        text.contains("file: mx.example.test!sender.test!"),
        "{text}"
    );

    let other = run(
        &config,
        &[
            "dmarc",
            "report",
            "--domain",
            "other.test",
            "--period",
            &day,
        ],
    );
    assert!(other.contains("No DMARC evaluations recorded"), "{other}");

    let json: serde_json::Value = serde_json::from_str(&run(
        &config,
        &["dmarc", "report", "--period", &day, "--json"],
    ))
    .unwrap();
    assert_eq!(json["reports"][0]["messages"], 5);
    assert_eq!(json["reports"][0]["destinations"][0]["sent"], true);
    assert_eq!(json["reports"][0]["destinations"][1]["sent"], false);

    // The XML is what `dmarc read` (the reading side) accepts, with the same counts.
    let xml = run(&config, &["dmarc", "report", "--period", &day, "--xml"]);
    let file = dir.path().join("report.xml");
    std::fs::write(&file, &xml).unwrap();
    let read: serde_json::Value = serde_json::from_str(&run(
        &config,
        &["dmarc", "read", "--json", file.to_str().unwrap()],
    ))
    .unwrap();
    let text = read.to_string();
    assert!(text.contains("\"total_messages\":5"), "{text}");
    assert!(text.contains("\"dmarc_fail_messages\":2"), "{text}");
}

fn queued_to(m: &Mailward) -> Vec<String> {
    m.cli(&["queue", "list", "--json"], None)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .flat_map(|e| {
            e["envelope"]["rcpts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r["address"].as_str().map(String::from))
        })
        .collect()
}

#[test]
fn serve_queues_each_finished_day_once_per_destination() {
    let extra = "\n[dmarc]\nsend_reports = true\norg_name = \"Example Test\"\n";
    let mut m = Mailward::launch_with(|dir| {
        record(&dir.join("data"));
        config_text(dir, extra)
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut to = queued_to(&m);
    while to.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        to = queued_to(&m);
    }
    // The second address's `!10` limit is smaller than any report: only the first.
    assert_eq!(to, vec!["dmarc@sender.test".to_string()]);
    let id = m.cli(&["queue", "list", "--json"], None);
    let entry: serde_json::Value = serde_json::from_str(id.lines().next().unwrap()).unwrap();
    let shown = m.cli(
        &["queue", "show", entry["envelope"]["id"].as_str().unwrap()],
        None,
    );
    assert!(
        shown.contains(&format!("Subject: Report Domain: sender.test Submitter: mx.example.test Report-ID: <{}.sender.test@mx.example.test>", day())),
        "{shown}"
    );
    assert!(shown.contains("application/gzip"), "{shown}");

    // A restart does not send the day again.
    m.kill9();
    m.spawn();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(queued_to(&m), vec!["dmarc@sender.test".to_string()]);
}

/// RFC 9990 external destinations, against a real DNS server: the destination that
/// publishes `<policy-domain>._report._dmarc.<its domain>` gets the report, the other not.
#[test]
fn external_rua_needs_the_destinations_consent_in_dns() {
    let day = day();
    let Some(dns) = start_dns(&["--txt-record=sender.test._report._dmarc.partner.test,v=DMARC1"])
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mailward.toml");
    let text = config_text(dir.path(), "").replace(
        "resolver = \"127.0.0.1:9\"",
        &format!("resolver = \"127.0.0.1:{}\"", dns.port),
    );
    std::fs::write(&config, text).unwrap();
    record_with(
        &dir.path().join("data"),
        vec![
            RuaUri {
                address: "reports@partner.test".into(),
                max_size: 0,
            },
            RuaUri {
                address: "victim@victim.test".into(),
                max_size: 0,
            },
        ],
    );
    let text = run(&config, &["dmarc", "report", "--period", &day]);
    assert!(
        text.contains("rua: reports@partner.test authorized (send)"),
        "{text}"
    );
    assert!(
        text.contains("rua: victim@victim.test refused (not sent: no v=DMARC1 TXT at sender.test._report._dmarc.victim.test)"),
        "{text}"
    );
}
