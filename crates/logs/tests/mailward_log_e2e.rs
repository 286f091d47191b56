//! mailward's own JSON log read back into flows: lines written by hand to the contract in
//! `docs/log-format.md`. The end-to-end version, over a log that `mailward serve` writes during
//! real SMTP sessions, is `crates/mailward/tests/logs_from_serve.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_logs::Status;
use mailward_logs::verify::{SentMessage, flows_from_log, flows_match_sent};

/// What a mailward session log looks like per `docs/log-format.md`: one local delivery, one
/// relay with a deferral first, one bounce, a rejected recipient and failed logins over SMTP,
/// IMAP and POP3.
const FIXTURE: &str = r#"{"timestamp":"2026-11-22T18:43:50.123456Z","level":"INFO","target":"mailward_mta::session","event":"connect","session":"s1","remote_ip":"192.0.2.10","listener":"smtp","remote_port":51544}
{"timestamp":"2026-11-22T18:43:50.130000Z","level":"INFO","target":"mailward_mta::session","event":"helo","session":"s1","remote_ip":"192.0.2.10","helo":"client.example.org"}
{"timestamp":"2026-11-22T18:43:50.131000Z","level":"INFO","target":"mailward_mta::session","event":"mail_from","session":"s1","remote_ip":"192.0.2.10","from":"alice@example.org","size":2048}
{"timestamp":"2026-11-22T18:43:50.132000Z","level":"INFO","target":"mailward_mta::session","event":"rcpt","session":"s1","remote_ip":"192.0.2.10","to":"bob@example.test"}
{"timestamp":"2026-11-22T18:43:50.133000Z","level":"WARN","target":"mailward_mta::session","event":"rcpt_rejected","session":"s1","remote_ip":"192.0.2.10","to":"nobody@example.test","code":"550 5.1.1","reason":"no such user"}
{"timestamp":"2026-11-22T18:43:50.140001Z","level":"INFO","target":"mailward_mta::session","event":"queued","session":"s1","remote_ip":"192.0.2.10","queue_id":"Q1","from":"alice@example.org","to":"bob@example.test","nrcpt":1,"size":2048,"message_id":"<m1@example.org>"}
{"timestamp":"2026-11-22T18:43:50.151002Z","level":"INFO","target":"mailward_mda::deliver","event":"delivered","queue_id":"Q1","to":"bob@example.test","mailbox":"example.test/bob/INBOX","delay":0.011,"status":"sent"}
{"timestamp":"2026-11-22T18:43:51.000000Z","level":"INFO","target":"mailward_mta::session","event":"auth","session":"s2","remote_ip":"192.0.2.20","user":"carol@example.test","mechanism":"PLAIN"}
{"timestamp":"2026-11-22T18:43:51.100000Z","level":"INFO","target":"mailward_mta::session","event":"queued","session":"s2","remote_ip":"192.0.2.20","queue_id":"Q2","from":"carol@example.test","to":"dave@remote.example,erin@gone.example","nrcpt":2,"size":4096,"message_id":"<m2@example.test>","user":"carol@example.test"}
{"timestamp":"2026-11-22T18:43:52.000000Z","level":"WARN","target":"mailward_mta::outbound","event":"deferred","queue_id":"Q2","to":"dave@remote.example","reason":"451 4.7.1 greylisted","attempt":1,"delay":0.9}
{"timestamp":"2026-11-22T18:43:53.000000Z","level":"WARN","target":"mailward_mta::outbound","event":"bounced","queue_id":"Q2","to":"erin@gone.example","reason":"550 5.1.1 user unknown","dsn":"5.1.1"}
{"timestamp":"2026-11-22T18:48:52.000000Z","level":"INFO","target":"mailward_mta::outbound","event":"delivered","queue_id":"Q2","to":"dave@remote.example","relay":"mx.remote.example:25","delay":300.9,"status":"sent"}
{"timestamp":"2026-11-22T18:49:00.000000Z","level":"WARN","target":"mailward_mta::session","event":"auth_failed","session":"s3","remote_ip":"203.0.113.66","user":"admin","mechanism":"LOGIN","reason":"bad password"}
{"timestamp":"2026-11-22T18:49:00.500000Z","level":"WARN","event":"auth_failed","protocol":"imap","session":"i1","remote_ip":"203.0.113.66","user":"admin","mechanism":"LOGIN","target":"mailward_imap::session"}
{"timestamp":"2026-11-22T18:49:00.600000Z","level":"WARN","event":"auth_failed","protocol":"pop3","session":"p1","remote_ip":"203.0.113.67","user":"admin","mechanism":"USER","target":"mailward_pop3::session"}
{"timestamp":"2026-11-22T18:49:00.700000Z","level":"WARN","event":"auth_failed","protocol":"imap","session":"i2","remote_ip":"203.0.113.67","user":"root","mechanism":"PLAIN","target":"mailward_imap::session"}
{"timestamp":"2026-11-22T18:49:01.000000Z","level":"INFO","target":"mailward_mta::session","event":"disconnect","session":"s3","remote_ip":"203.0.113.66","commands":3,"duration":1.0}
"#;

#[test]
fn fixture_log_in_the_contract_format_reads_back_into_the_flows_that_were_sent() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("mailward.log");
    std::fs::write(&path, FIXTURE).unwrap_or_else(|e| panic!("{e}"));
    let (flows, summary, unparsed) = flows_from_log(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(unparsed.is_empty(), "{unparsed:?}");
    let sent = vec![
        SentMessage {
            message_id: "m1@example.org".into(),
            from: "alice@example.org".into(),
            client_ip: Some("192.0.2.10".into()),
            sasl_user: None,
            queue_ids: vec!["Q1".into()],
            recipients: vec![("bob@example.test".into(), Status::Sent, false)],
        },
        SentMessage {
            message_id: "m2@example.test".into(),
            from: "carol@example.test".into(),
            client_ip: Some("192.0.2.20".into()),
            sasl_user: Some("carol@example.test".into()),
            queue_ids: vec!["Q2".into()],
            recipients: vec![
                ("dave@remote.example".into(), Status::Sent, true),
                ("erin@gone.example".into(), Status::Bounced, false),
            ],
        },
    ];
    let bad = flows_match_sent(&flows, &sent);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(
        flows.iter().all(|f| f.complete),
        "every recipient has a final status: {flows:#?}"
    );
    let m2 = flows.iter().find(|f| f.queue_ids == ["Q2"]).map(|f| {
        (
            f.sasl_user.clone(),
            f.recipients.iter().map(|r| r.deferrals).sum::<u32>(),
        )
    });
    assert_eq!(m2, Some((Some("carol@example.test".into()), 1)));
    let got = (
        summary.received,
        summary.delivered,
        summary.forwarded,
        summary.deferred,
        summary.bounced,
        summary.rejected,
    );
    assert_eq!(got, (2, 2, 1, 1, 1, 1));
    assert_eq!(summary.sasl_failures.get("203.0.113.66"), Some(&2));
    assert_eq!(summary.sasl_failures.get("203.0.113.67"), Some(&2));
    let per_protocol: Vec<(&str, u64)> = summary
        .auth_failures_by_protocol
        .iter()
        .map(|(p, n)| (*p, *n))
        .collect();
    assert_eq!(per_protocol, [("imap", 2), ("pop3", 1), ("smtp", 1)]);
}
