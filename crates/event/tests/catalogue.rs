//! The catalogue, its documentation and its JSON form agree.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_event::{Event, Level, LogLine, Protocol, Scope, sink_json_line};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// Event names documented in `docs/log-format.md`: the first cell of each table row,
/// when it is one or more backticked names (`` `login` / `logout` `` names two).
fn documented_events() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/log-format.md"
    ))
    .expect("docs/log-format.md is readable");
    let mut names = BTreeSet::new();
    let mut in_event_table = false;
    for line in doc.lines() {
        if line.starts_with("| event |") {
            in_event_table = true;
            continue;
        }
        if !line.starts_with('|') {
            in_event_table = false;
            continue;
        }
        if !in_event_table {
            continue;
        }
        let cell = line.split('|').nth(1).unwrap_or_default();
        for part in cell.split('`').skip(1).step_by(2) {
            if !part.is_empty() && !part.starts_with('-') {
                names.insert(part.to_owned());
            }
        }
    }
    names
}

#[test]
fn every_event_is_documented_and_every_documented_event_exists() {
    let documented = documented_events();
    let catalogue: BTreeSet<String> = Event::NAMES.iter().map(|s| s.to_string()).collect();
    let undocumented: Vec<_> = catalogue.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&catalogue).collect();
    assert!(
        undocumented.is_empty(),
        "events missing from docs/log-format.md: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "docs/log-format.md documents events that do not exist: {unknown:?}"
    );
}

#[test]
fn every_event_reads_back_as_written() {
    let scope = Scope::connection(Protocol::Imap, "kT3pQa", IpAddr::from([192, 0, 2, 7]));
    let kinds = Event::each_kind();
    assert_eq!(kinds.len(), Event::NAMES.len());
    for event in kinds {
        let line = sink_json_line(Level::Info, &scope.with_queue_id("4XgK2B1Zq9"), &event);
        let back = LogLine::parse(&line).unwrap_or_else(|| panic!("unreadable: {line}"));
        assert_eq!(back.event.name(), event.name(), "{line}");
        if !matches!(event, Event::Library(_)) {
            assert_eq!(back.event, event, "{line}");
        }
        assert_eq!(back.scope.session.as_deref(), Some("kT3pQa"));
        assert_eq!(back.scope.protocol, Some(Protocol::Imap));
        assert_eq!(back.scope.queue_id.as_deref(), Some("4XgK2B1Zq9"));
        assert_eq!(back.scope.remote_ip, Some(IpAddr::from([192, 0, 2, 7])));
        assert_eq!(back.level, Some(Level::Info));
    }
}

/// Lines as versions before the catalogue wrote them (`tls_established` with
/// `version`/`cipher`, `login`, `timeout`, `pop3_commit_failed`) read as today's events.
#[test]
fn lines_of_older_versions_read_as_todays_events() {
    let old = [
        (
            r#"{"timestamp":"2026-11-23T10:02:11.230Z","level":"INFO","event":"tls_established","protocol":"imap","session":"kT3pQa","remote_ip":"127.0.0.1","version":"TLSv1.3","cipher":"TLS13_AES_256_GCM_SHA384","target":"mailward_imap::server"}"#,
            "tls",
        ),
        (
            r#"{"timestamp":"2026-11-23T10:02:11.240Z","level":"INFO","protocol":"imap","event":"login","session":"kT3pQa","remote_ip":"127.0.0.1","user":"bob@example.test","mechanism":"LOGIN","target":"mailward_imap::session"}"#,
            "auth",
        ),
        (
            r#"{"timestamp":"2026-11-22T21:56:53.301Z","level":"INFO","event":"timeout","protocol":"pop3","session":"atPCYZ","remote_ip":"127.0.0.1"}"#,
            "closed",
        ),
        (
            r#"{"timestamp":"2026-11-22T21:56:53.301Z","level":"WARN","event":"pop3_commit_failed","protocol":"pop3","session":"atPCYZ","remote_ip":"127.0.0.1","reason":"disk full"}"#,
            "commit_failed",
        ),
        (
            r#"{"timestamp":"2026-11-22T18:43:50.123456Z","level":"INFO","target":"mailward_mta::session","event":"connect","session":"s7Q2xK","remote_ip":"127.0.0.1","listener":"smtp","remote_port":51544}"#,
            "connect",
        ),
        (
            r#"{"timestamp":"2026-11-22T18:43:50.123456Z","level":"INFO","event":"some_future_event","x":1}"#,
            "unknown",
        ),
    ];
    for (line, name) in old {
        let parsed = LogLine::parse(line).unwrap_or_else(|| panic!("unreadable: {line}"));
        assert_eq!(parsed.event.name(), name, "{line}");
    }
    let tls = LogLine::parse(old[0].0).map(|l| l.event);
    let Some(Event::Tls(tls)) = tls else {
        panic!("{tls:?}")
    };
    assert_eq!(tls.tls_version, "TLSv1.3");
    assert_eq!(tls.tls_cipher, "TLS13_AES_256_GCM_SHA384");
}

/// Every `.rs` file under `dir`.
fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Events are written only through the catalogue: no crate's source writes an event name
/// as a free-form `event = "..."` field of a `tracing` macro.
#[test]
fn no_crate_writes_an_event_name_as_a_free_form_string() {
    let crates = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(crates) else {
        panic!("cannot list {}", crates.display());
    };
    for entry in entries.flatten() {
        sources(&entry.path().join("src"), &mut files);
    }
    assert!(files.len() > 50, "found only {} sources", files.len());
    let mut offenders = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let squeezed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
            if squeezed.contains("event=\"") {
                offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "free-form events:\n{}",
        offenders.join("\n")
    );
}
