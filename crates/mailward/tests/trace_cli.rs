//! `mailward trace` as a user runs it: the built binary over mboxes, Maildirs, stdin, the
//! shared test corpus and the MaxMind test databases.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn mailward(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailward"))
        .arg("trace")
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailward");
    if let Some(mut pipe) = child.stdin.take() {
        // A child that exits early closes its end; that is not the test's failure.
        let _ = pipe.write_all(stdin.unwrap_or_default());
    }
    child.wait_with_output().expect("wait for mailward")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON lines of `--json` output.
fn json_lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// `/work/shared`, or None (with a notice) where the shared test data is not mounted.
fn shared() -> Option<PathBuf> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"));
    if dir.join("testdata").is_dir() {
        Some(dir.to_path_buf())
    } else {
        eprintln!("skipping: shared test data not found at {}", dir.display());
        None
    }
}

/// A complete message passed by two relays; `ip` is the sending client.
fn message(subject: &str, ip: &str) -> String {
    format!(
        "Received: from mx.relay.example (mx.relay.example [198.51.100.7])\n\
         \tby mail.example.net (Postfix) with ESMTPS id 4AB12C3D4E\n\
         \tfor <bob@example.net>; Mon, 1 Jan 2024 10:00:07 +0000\n\
         Received: from client.example.org (client.example.org [{ip}])\n\
         \tby mx.relay.example (Postfix) with ESMTP id 11AA22BB33\n\
         \tfor <bob@example.net>; Mon, 1 Jan 2024 10:00:02 +0000\n\
         From: Alice <alice@example.org>\n\
         To: Bob <bob@example.net>\n\
         Subject: {subject}\n\
         Date: Mon, 1 Jan 2024 10:00:00 +0000\n\
         Message-ID: <{subject}@example.org>\n\
         \n\
         Hello.\n"
    )
}

/// A message with neither Date nor Message-ID: the analysis flags `missing-date` (warning).
const NO_DATE: &str =
    "From: Mallory <m@example.com>\nTo: bob@example.net\nSubject: undated\n\nbody\n";

fn mbox(messages: &[String], crlf: bool) -> Vec<u8> {
    let mut out = String::new();
    for m in messages {
        out.push_str("From MAILER-DAEMON Mon Jan  1 10:00:00 2024\n");
        out.push_str(m);
        out.push('\n');
    }
    if crlf {
        out = out.replace('\n', "\r\n");
    }
    out.into_bytes()
}

#[test]
fn mbox_gives_one_json_report_per_message_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("inbox.mbox");
    let mut first = message("first", "81.2.69.142");
    // A quoted body line must not split the mailbox.
    first.push_str(">From the archive: not a new message\n");
    let msgs = [
        first,
        message("second", "1.128.0.1"),
        message("third", "8.8.8.8"),
    ];
    std::fs::write(&path, mbox(&msgs, false)).expect("write mbox");

    let out = mailward(&["--json", path_str(&path)], None);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let reports = json_lines(&out);
    assert_eq!(reports.len(), 3);
    for (i, (report, subject)) in reports.iter().zip(["first", "second", "third"]).enumerate() {
        assert_eq!(report["source"], format!("{}#{}", path.display(), i + 1));
        assert_eq!(report["message"]["subject"], subject);
        assert_eq!(report["hops"].as_array().map(Vec::len), Some(2));
    }
}

#[test]
fn crlf_mbox_splits_like_lf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crlf.mbox");
    let msgs = [message("one", "81.2.69.142"), message("two", "81.2.69.142")];
    std::fs::write(&path, mbox(&msgs, true)).expect("write mbox");
    let out = mailward(&["--json", path_str(&path)], None);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let reports = json_lines(&out);
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[1]["message"]["subject"], "two");
}

#[test]
fn maildir_reads_new_and_cur_but_not_tmp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let md = dir.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).expect("mkdir");
    }
    std::fs::write(
        md.join("new/1700000001.M1.host"),
        message("fresh", "81.2.69.142"),
    )
    .expect("write");
    std::fs::write(
        md.join("cur/1700000000.M1.host:2,S"),
        message("seen", "81.2.69.142"),
    )
    .expect("write");
    std::fs::write(
        md.join("tmp/1700000002.M1.host"),
        message("in-delivery", "81.2.69.142"),
    )
    .expect("write");

    let out = mailward(&["--json", path_str(&md)], None);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let subjects: Vec<Value> = json_lines(&out)
        .iter()
        .map(|r| r["message"]["subject"].clone())
        .collect();
    assert_eq!(subjects, ["fresh", "seen"]);
}

#[test]
fn stdin_is_read_without_a_path_and_with_dash() {
    let msg = message("piped", "81.2.69.142");
    for args in [vec!["--json"], vec!["--json", "-"]] {
        let out = mailward(&args, Some(msg.as_bytes()));
        assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
        let reports = json_lines(&out);
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0]["source"], "-");
        assert_eq!(reports[0]["message"]["subject"], "piped");
    }
    // An mbox on stdin is split too.
    let boxed = mbox(
        &[message("a", "81.2.69.142"), message("b", "81.2.69.142")],
        false,
    );
    let out = mailward(&["--json"], Some(&boxed));
    let sources: Vec<Value> = json_lines(&out)
        .iter()
        .map(|r| r["source"].clone())
        .collect();
    assert_eq!(sources, ["-#1", "-#2"]);
}

#[test]
fn missing_file_exits_2_naming_it() {
    let out = mailward(&["/nonexistent/evidence.eml"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/evidence.eml"),
        "stderr: {}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_geo_database_exits_2_naming_it() {
    let out = mailward(
        &["--geoip", "/nonexistent/City.mmdb", "-"],
        Some(b"Subject: x\n\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/City.mmdb"),
        "stderr: {}",
        stderr(&out)
    );
}

#[test]
fn bad_option_value_is_a_usage_error() {
    let out = mailward(&["--fail-on", "sometimes", "-"], Some(b""));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn fail_on_sets_exit_1_only_at_or_above_the_level() {
    let input = NO_DATE.as_bytes();
    let out = mailward(&["--json"], Some(input));
    assert_eq!(
        out.status.code(),
        Some(0),
        "without --fail-on findings do not fail"
    );
    let codes: Vec<Value> = json_lines(&out)[0]["findings"]
        .as_array()
        .map(|f| f.iter().map(|f| f["code"].clone()).collect())
        .unwrap_or_default();
    assert!(
        codes.contains(&Value::from("missing-date")),
        "analysis should flag a message without Date (findings: {codes:?})"
    );
    let out = mailward(&["--fail-on", "warning"], Some(input));
    assert_eq!(out.status.code(), Some(1), "missing-date is a warning");
    let out = mailward(&["--fail-on", "critical", "--json"], Some(input));
    let critical = json_lines(&out)[0]["findings"]
        .as_array()
        .is_some_and(|f| f.iter().any(|f| f["severity"] == "critical"));
    assert_eq!(out.status.code(), Some(if critical { 1 } else { 0 }));
}

#[test]
fn text_report_is_plain_when_not_a_terminal() {
    let out = mailward(&[], Some(message("hello", "81.2.69.142").as_bytes()));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Hops"), "{text}");
    assert!(text.contains("client.example.org"), "{text}");
    assert!(text.contains("5s"), "the 5 s relay delay is shown: {text}");
    assert!(!text.contains('\x1b'), "no colour codes into a pipe");
}

#[test]
fn html_report_is_one_self_contained_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("report.html");
    let hostile = message("<script>alert(1)</script>", "81.2.69.142");
    let boxed = mbox(&[hostile, message("second", "1.128.0.1")], false);
    let out = mailward(&["--html", path_str(&page), "--summary", "-"], Some(&boxed));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let html = std::fs::read_to_string(&page).expect("report written");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"), "hop diagram");
    assert_eq!(html.matches("<section class=\"message\"").count(), 2);
    assert!(html.contains("&lt;script&gt;"), "header text escaped");
    assert!(!html.contains("<script"), "no scripts");
    for attr in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "<link",
    ] {
        assert!(!html.contains(attr), "external asset {attr} in the page");
    }
    assert!(html.contains("Summary"));
}

#[test]
fn summary_json_is_a_final_object_after_the_reports() {
    let boxed = mbox(
        &[
            message("a", "81.2.69.142"),
            message("b", "81.2.69.142"),
            NO_DATE.to_string(),
        ],
        false,
    );
    let out = mailward(&["--json", "--summary"], Some(&boxed));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4);
    let summary = &lines[3]["summary"];
    assert_eq!(summary["messages"], 3);
    assert_eq!(
        summary["findings"]["missing-date"]["messages"], 1,
        "findings are totalled by code: {summary}"
    );
    // Text summary replaces the per-message reports.
    let out = mailward(&["--summary"], Some(&boxed));
    let text = stdout(&out);
    assert!(
        text.contains("Summary") && text.contains("Messages"),
        "{text}"
    );
    assert!(!text.contains("Hops"), "{text}");
}

#[test]
fn geoip_and_asn_databases_locate_public_hops() {
    let Some(shared) = shared() else { return };
    let geoip = shared.join("testdata/geoip");
    let city = geoip.join("GeoIP2-City-Test.mmdb");
    let asn = geoip.join("GeoLite2-ASN-Test.mmdb");
    let msgs = [
        message("london", "81.2.69.142"),
        message("telstra", "1.128.0.1"),
    ];
    let out = mailward(
        &[
            "--json",
            "--geoip",
            path_str(&city),
            "--asn",
            path_str(&asn),
        ],
        Some(&mbox(&msgs, false)),
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let reports = json_lines(&out);
    let client_geo = |r: &Value| r["hops"][0]["geo"].clone();
    assert_eq!(client_geo(&reports[0])["country"], "GB");
    assert_eq!(client_geo(&reports[0])["city"], "London");
    assert_eq!(client_geo(&reports[1])["asn"], 1221);
    assert_eq!(client_geo(&reports[1])["as_org"], "Telstra Pty Ltd");
    // Documentation addresses (198.51.100.0/24) are not public: never looked up.
    assert_eq!(reports[0]["hops"][1]["geo"], Value::Null);
}

#[test]
fn real_country_database_locates_google_dns() {
    let Some(shared) = shared() else { return };
    let db = shared.join("testdata/geoip/real/geo-whois-asn-country.mmdb");
    let out = mailward(
        &["--json", "--geoip", path_str(&db)],
        Some(message("us", "8.8.8.8").as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(json_lines(&out)[0]["hops"][0]["geo"]["country"], "US");
}

/// Every message file of the shared corpus: analysed, exit 0, no panic.
#[test]
fn every_shared_message_file_is_analysed_without_panic() {
    let Some(shared) = shared() else { return };
    let mut files = Vec::new();
    collect(&shared.join("testdata/eml"), &mut files);
    collect(&shared.join("testdata/dkim"), &mut files);
    files.retain(|p| {
        p.extension().is_some_and(|e| {
            e == "eml" || (e == "txt" && p.to_string_lossy().contains("/dkim/dkim/"))
        })
    });
    assert!(files.len() > 100, "corpus found: {}", files.len());
    let args: Vec<&str> = ["--json"]
        .into_iter()
        .chain(files.iter().map(|p| path_str(p)))
        .collect();
    let out = mailward(&args, None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(json_lines(&out).len() >= files.len());
    // The text and HTML renderers see the same hostile variety.
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("corpus.html");
    let mut args: Vec<&str> = vec!["--html", path_str(&page)];
    args.extend(files.iter().map(|p| path_str(p)));
    let out = mailward(&args, None);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
    out.sort();
}

/// Issue 14: the content pass runs by default — phishing fixtures get their verdict, with
/// the deciding codes, in JSON, the text report and the summary — and `--headers-only`
/// leaves it out.
#[test]
fn phishing_fixtures_get_verdicts_and_headers_only_skips_content() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../trace/tests/fixtures/phishing");
    let out = mailward(&["--json", "--summary", path_str(&dir)], None);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let lines = json_lines(&out);
    let (summary, reports) = lines.split_last().unwrap();
    assert!(reports.len() >= 15);
    let likely = reports
        .iter()
        .filter(|r| r["verdict"] == "phishing-likely")
        .count();
    assert!(
        likely * 10 >= reports.len() * 8,
        "{likely} of {}",
        reports.len()
    );
    for r in reports {
        assert!(r["content"]["links"].is_array(), "{}", r["source"]);
        if r["verdict"] == "phishing-likely" {
            assert!(!r["verdict_findings"].as_array().unwrap().is_empty());
        }
    }
    assert_eq!(
        summary["summary"]["verdicts"]["phishing-likely"],
        likely as u64
    );

    let one = dir.join("paypal-link-text-mismatch.eml");
    let text = stdout(&mailward(&["--no-color", path_str(&one)], None));
    assert!(text.contains("Verdict      phishing-likely"), "{text}");
    assert!(text.contains("link-text-mismatch"), "{text}");
    assert!(text.contains("secure-login-center.net"), "evidence: {text}");

    let out = mailward(&["--json", "--headers-only", path_str(&one)], None);
    let report = &json_lines(&out)[0];
    assert!(report["content"].is_null());
    assert_ne!(report["verdict"], "phishing-likely");
}

/// A bounce mailward wrote (issue 15) traced as a delivery report: each recipient's fate in
/// words, and the returned message's hops, geolocated like the message's own.
#[test]
fn a_mailward_bounce_is_traced_as_a_delivery_report() {
    use mailward_message::dsn::{self, Action, RecipientReport};
    let original = message("figures", "81.2.69.142");
    let recipients = [RecipientReport {
        final_recipient: "bob@example.net".into(),
        original_recipient: None,
        action: Action::Failed,
        status: "5.1.1".into(),
        remote_mta: Some("mail.example.net".into()),
        smtp_reply: Some("550 5.1.1 <bob@example.net>: user unknown".into()),
        last_attempt: Some(1_704_103_300),
        will_retry_until: None,
        note: None,
    }];
    let bounce = dsn::build(&dsn::Report {
        reporting_mta: "mx.relay.example",
        queue_id: "QX1",
        arrival: 1_704_103_207,
        envid: None,
        sender: "alice@example.org",
        recipients: &recipients,
        ret_full: Some(true),
        original: original.as_bytes(),
        now: 1_704_103_310,
        boundary: "=_mailward_QX1",
    });
    let mut args = vec!["--json"];
    let city = shared().map(|s| s.join("testdata/geoip/GeoIP2-City-Test.mmdb"));
    if let Some(city) = &city {
        args.extend(["--geoip", path_str(city)]);
    }
    let out = mailward(&args, Some(&bounce));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let reports = json_lines(&out);
    let d = &reports[0]["dsn"];
    assert_eq!(d["reporting_mta"], "mx.relay.example");
    assert_eq!(d["queue_id"], "QX1");
    assert_eq!(d["recipients"][0]["action"], "failed");
    assert_eq!(
        d["recipients"][0]["status_meaning"],
        "bad destination mailbox address"
    );
    assert_eq!(
        d["returned"]["message"]["message_id"],
        "<figures@example.org>"
    );
    assert_eq!(d["returned"]["hops"][0]["from_host"], "client.example.org");
    if city.is_some() {
        assert_eq!(d["returned"]["hops"][0]["geo"]["city"], "London");
    }

    let text = stdout(&mailward(&[], Some(&bounce)));
    assert!(
        text.contains("Delivery report delivery-status from mx.relay.example"),
        "{text}"
    );
    assert!(
        text.contains(
            "bob@example.net failed 5.1.1 permanent failure: bad destination mailbox address"
        ),
        "{text}"
    );
    assert!(text.contains("Hops of the returned message"), "{text}");
}

/// A zone-file TXT entry, cut into 255-octet character-strings.
fn zone_txt(name: &str, value: &str) -> String {
    let strings: Vec<String> = value
        .as_bytes()
        .chunks(255)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c).replace('"', "\\\"")))
        .collect();
    format!("{name}. IN TXT ( {} )\n", strings.join(" "))
}

#[test]
fn verify_with_a_zone_file_passes_a_genuine_message_and_fails_a_tampered_one() {
    let Some(shared) = shared() else { return };
    let text = std::fs::read_to_string(shared.join("testdata/dkim/dkim/001.txt")).unwrap();
    let (keys, message) = text.split_once("\n\n").unwrap();
    let mut zone: String = keys
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(name, value)| zone_txt(name, value))
        .collect();
    zone.push_str(&zone_txt(
        "_dmarc.football.example.com",
        "v=DMARC1; p=reject",
    ));
    let dir = tempfile::tempdir().unwrap();
    let zone_file = dir.path().join("keys.zone");
    std::fs::write(&zone_file, zone).unwrap();
    // Saved with bare LF line endings, as a mail client's "save as" often does.
    let genuine = dir.path().join("genuine.eml");
    std::fs::write(&genuine, message).unwrap();
    let tampered = dir.path().join("tampered.eml");
    std::fs::write(
        &tampered,
        message.replacen("Is dinner ready?", "Is lunch ready?", 1),
    )
    .unwrap();

    let verdicts = |file: &Path| {
        let out = mailward(
            &["--json", "--dns-zone", path_str(&zone_file), path_str(file)],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let report = json_lines(&out).remove(0);
        let auth = &report["authentication"];
        (
            auth["dkim"].as_str().unwrap_or_default().to_string(),
            auth["dmarc"].as_str().unwrap_or_default().to_string(),
        )
    };
    assert_eq!(verdicts(&genuine), ("pass".into(), "pass".into()));
    assert_eq!(verdicts(&tampered), ("fail".into(), "fail".into()));
}
