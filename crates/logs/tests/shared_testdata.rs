//! The shared third-party test data: Postfix message vectors (postfix-grok) and Exim logs with
//! the counters an exporter computed from them. Skips with a notice when `../shared` is absent.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_logs::event::{Event, Status};
use mailward_logs::{Analyzer, Timestamp, YearRef};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ));
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "notice: {} not found, skipping shared-testdata test",
            p.display()
        );
        None
    }
}

/// A grok vector: the message text and the expected fields.
struct Case {
    file: String,
    data: String,
    results: BTreeMap<String, String>,
}

/// Reads a YAML double-quoted or plain scalar (the subset the vectors use).
fn scalar(v: &str) -> String {
    let v = v.trim();
    if let Some(inner) = v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some(o) => out.push(o),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        out
    } else if let Some(inner) = v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        inner.replace("''", "'")
    } else {
        v.to_owned()
    }
}

fn cases(dir: &std::path::Path) -> Vec<Case> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let mut data = String::new();
        let mut results = BTreeMap::new();
        let mut in_results = false;
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("data:") {
                data = scalar(v);
            } else if line.starts_with("results:") {
                in_results = true;
            } else if in_results
                && line.starts_with(' ')
                && let Some((k, v)) = line.trim().split_once(':')
            {
                results.insert(k.trim().to_owned(), scalar(v));
            }
        }
        let file = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(Case {
            file,
            data,
            results,
        });
    }
    out
}

fn daemon_of(file: &str) -> String {
    let prefix = file.rsplit_once('_').map(|(p, _)| p).unwrap_or(file);
    match prefix {
        "trivial_rewrite" => "trivial-rewrite".into(),
        other => other.into(),
    }
}

/// Vectors that are fragments of a message (a `delays=` value, a TLS feature list, a command
/// counter run), not whole messages: they may be reported unparsed.
fn is_fragment(file: &str) -> bool {
    [
        "delays_",
        "tls_features_0007",
        "tls_features_0008",
        "tls_features_0009",
        "tls_features_001",
        "command_counter_data_",
        "relay_",
    ]
    .iter()
    .any(|p| file.starts_with(p))
}

/// Compares the fields an event carries with the vector's expectations.
fn check(case: &Case, ev: &Event<'_>) -> Vec<String> {
    let mut bad = Vec::new();
    let mut expect = |key: &str, got: Option<&str>| {
        if let Some(want) = case.results.get(key)
            && got != Some(want.as_str())
        {
            bad.push(format!("{}: {key} = {got:?}, want {want:?}", case.file));
        }
    };
    match ev {
        Event::Received(r) => {
            expect("postfix_queueid", Some(&r.qid));
            expect("postfix_client_ip", r.client_ip.as_deref());
            expect("postfix_client_hostname", r.client_host.as_deref());
        }
        Event::MessageId { qid, message_id } => {
            expect("postfix_queueid", Some(qid));
            expect("postfix_message-id", Some(message_id));
        }
        Event::Sender { qid, from, .. } => {
            expect("postfix_queueid", Some(qid));
            expect("postfix_from", Some(from));
        }
        Event::Expired { qid } => {
            expect("postfix_queueid", Some(qid));
            expect("postfix_status", Some("expired"));
        }
        Event::Removed { qid } => expect("postfix_queueid", Some(qid)),
        Event::Notification { qid, notice_qid } => {
            expect("postfix_queueid", Some(qid));
            expect("postfix_bounce_queueid", Some(notice_qid));
        }
        Event::Delivery(d) => {
            expect("postfix_queueid", Some(&d.qid));
            let status = match d.status {
                Status::Other => None,
                s => Some(s.as_str()),
            };
            if status.is_some() {
                expect("postfix_status", status);
            }
            expect("postfix_relay_hostname", d.relay_host.as_deref());
            expect("postfix_relay_ip", d.relay_ip.as_deref());
            for k in [
                "postfix_smtp_response",
                "postfix_local_response",
                "postfix_pipe_response",
            ] {
                expect(k, d.response.as_deref());
            }
            if let (Some(want), Some(got)) =
                (case.results.get("postfix_delay_before_qmgr"), d.delays)
            {
                let w: f32 = want.parse().unwrap_or(-1.0);
                if (w - got[0]).abs() > 1e-6 {
                    bad.push(format!("{}: delays[0] {got:?} vs {want}", case.file));
                }
            }
        }
        Event::Reject(r) => {
            let q = r.qid.as_deref().unwrap_or("NOQUEUE");
            expect("postfix_queueid", Some(q));
            expect("postfix_client_ip", r.client_ip.as_deref());
            expect("postfix_client_hostname", r.client_host.as_deref());
            expect("postfix_status_code", r.code.as_deref());
            expect("postfix_status_code_enhanced", r.dsn.as_deref());
            expect("postfix_smtp_stage", r.stage.as_deref());
            expect("postfix_action", Some(&r.action));
        }
        Event::SaslFailure(f) => {
            expect("postfix_client_ip", Some(&f.client_ip));
            expect("postfix_client_hostname", f.client_host.as_deref());
        }
        Event::MessageRejected { qid, .. } => expect("postfix_queueid", Some(qid)),
        Event::Other | Event::Foreign => {}
    }
    bad
}

#[test]
fn postfix_grok_vectors_are_parsed_with_the_expected_fields_or_reported_unparsed() {
    let Some(root) = shared() else { return };
    let cases = cases(&root.join("postfix-grok"));
    assert!(
        cases.len() >= 190,
        "expected the 191 vectors, found {}",
        cases.len()
    );
    let year = YearRef::new(Timestamp::from_civil(2026, 12, 1, 0, 0, 0, 0).unwrap_or_default());
    let mut unparsed = Vec::new();
    let mut mismatches = Vec::new();
    let mut flow_events = 0;
    for case in &cases {
        let line = format!(
            "Oct 26 18:13:50 mx postfix/{}[4242]: {}",
            daemon_of(&case.file),
            case.data
        );
        match mailward_logs::parse::parse_line(&line, &year) {
            Some(rec) => {
                assert_eq!(
                    rec.time.map(|t| t.to_string()).as_deref(),
                    Some("2026-10-26T18:13:50Z")
                );
                if !matches!(rec.event, Event::Other | Event::Foreign) {
                    flow_events += 1;
                }
                mismatches.extend(check(case, &rec.event));
            }
            None => unparsed.push(case.file.clone()),
        }
    }
    eprintln!(
        "postfix-grok: {} vectors, {} unparsed: {unparsed:?}, {flow_events} carry flow data",
        cases.len(),
        unparsed.len()
    );
    assert!(
        mismatches.is_empty(),
        "field mismatches:\n{}",
        mismatches.join("\n")
    );
    let real_unparsed: Vec<_> = unparsed.iter().filter(|f| !is_fragment(f)).collect();
    assert!(
        real_unparsed.is_empty(),
        "whole Postfix messages left unparsed: {real_unparsed:?}"
    );
    assert!(
        flow_events >= 45,
        "only {flow_events} vectors produced flow events"
    );
}

fn analyze(
    paths: &[PathBuf],
) -> (
    mailward_logs::Summary,
    Vec<mailward_logs::Flow>,
    Vec<String>,
) {
    let inputs: Vec<_> = paths
        .iter()
        .map(|p| mailward_logs::input::Input::open(p, None))
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    assert_eq!(inputs.len(), paths.len(), "could not open the inputs");
    let mut an = Analyzer::new(false, true, true);
    let mut flows = Vec::new();
    let _ = mailward_logs::input::for_each_line(inputs, |line, year| {
        an.line(line, year, &mut |f| flows.push(f))
    });
    let (summary, unparsed) = an.finish(10, &mut |f| flows.push(f));
    (summary, flows, unparsed)
}

#[test]
fn exim_logs_give_the_exporters_counters() {
    let Some(root) = shared() else { return };
    let dir = root.join("exim/exim_exporter");
    let (s, flows, unparsed) = analyze(&[
        dir.join("mainlog"),
        dir.join("rejectlog"),
        dir.join("paniclog"),
    ]);
    assert!(unparsed.is_empty(), "unparsed Exim lines: {unparsed:#?}");
    // tail.metrics: arrived 14, delivered 3 + additional 1, deferred 2, failed 7, completed 7.
    assert_eq!(s.lines.arrivals, 14);
    assert_eq!(s.lines.sent, 4);
    assert_eq!(s.lines.deferred, 2);
    assert_eq!(s.lines.bounced + s.lines.expired, 7);
    assert_eq!(s.lines.removed, 7);
    // exim_reject_total 4.
    assert_eq!(s.lines.rejects, 4);
    // exim_message_errors_total by status.
    let want: BTreeMap<String, u64> = [
        ("550", 1),
        ("450 4.7.1", 1),
        ("554 5.2.0", 3),
        ("540 5.7.1", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(s.errors_by_code, want);
    // Flow level: each message once. Distinct non-bounce arrivals: 7 messages; the bounce
    // messages (`<= <> R=...`) are notifications.
    let ids: Vec<_> = flows
        .iter()
        .map(|f| {
            (
                f.queue_ids.clone(),
                f.arrival_seen,
                f.notification_of.clone(),
            )
        })
        .collect();
    assert_eq!(s.received, 7, "{ids:?}");
    assert_eq!(s.notifications, 5);
    let harry = flows
        .iter()
        .find(|f| f.queue_ids.first().map(String::as_str) == Some("1jmH1t-0000dO-Un"));
    let harry = harry.map(|f| {
        (
            f.from.clone(),
            f.client_ip.clone(),
            f.recipients
                .first()
                .map(|r| (r.to.clone(), r.status, r.relay_ip.clone())),
        )
    });
    assert_eq!(
        harry,
        Some((
            Some("noreply@test.corp".into()),
            Some("2.2.2.2".into()),
            Some((
                "harry@bar.corp".into(),
                Status::Sent,
                Some("7.7.7.7".into())
            ))
        ))
    );
}
