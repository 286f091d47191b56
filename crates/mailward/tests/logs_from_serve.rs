//! `mailward logs` over a log that `mailward serve` itself wrote: the real server receives
//! known traffic from Python's smtplib (several senders, several recipients, an alias, a
//! recipient refused as unknown, an authenticated submission over STARTTLS), and the real
//! `mailward logs flows --json` and `mailward logs summary --json` must read its JSON log back
//! into exactly that traffic: one flow per accepted message with its queue ID, sender, client,
//! SASL user and every recipient delivered, and the counts of what was received, delivered
//! and refused.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{BIN, Mailward, PASSWORD};
use mailward_logs::verify::{SentMessage, flows_match_sent};
use mailward_logs::{Flow, Status};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Sends the traffic and prints one JSON object: Message-ID -> queue ID from the `250` reply.
/// Arguments: smtp port, submission port, password.
const TRAFFIC: &str = r#"
import json, smtplib, ssl, sys
HOST = "127.0.0.1"
smtp_port, sub_port, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
queued = {}

def body(msgid, frm, to):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: logs {msgid}\r\n"
            f"Message-ID: <{msgid}>\r\n\r\nHello.\r\n")

def send(s, frm, rcpts, msgid, refused=()):
    code, resp = s.mail(frm)
    assert code == 250, (code, resp)
    for r in rcpts:
        code, resp = s.rcpt(r)
        assert code == 250, (r, code, resp)
    for r in refused:
        code, resp = s.rcpt(r)
        assert code == 550, (r, code, resp)
    code, resp = s.data(body(msgid, frm, ", ".join(rcpts)))
    assert code == 250, (code, resp)
    text = resp.decode()
    assert "queued as " in text, text
    queued[msgid] = text.rsplit(" ", 1)[-1]

s = smtplib.SMTP(HOST, smtp_port, timeout=20)
s.ehlo("client.remote.test")
send(s, "alice@remote.test", ["bob@example.test"], "one@remote.test")
send(s, "carol@other.test",
     ["bob@example.test", "carol@example.test", "dave@example.test"],
     "three@other.test", refused=["nobody@example.test"])
s.quit()

s = smtplib.SMTP(HOST, smtp_port, timeout=20)
s.ehlo("lists.list.test")
send(s, "news@list.test", ["sales@example.test"], "alias@list.test")
s.quit()

c = ssl.create_default_context()
c.check_hostname = False
c.verify_mode = ssl.CERT_NONE  # the server's self-signed certificate
s = smtplib.SMTP(HOST, sub_port, timeout=20)
s.ehlo("laptop")
s.starttls(context=c)
s.ehlo("laptop")
s.login("bob@example.test", password)
send(s, "bob@example.test", ["dave@example.test"], "auth@laptop")
s.quit()
print(json.dumps(queued))
"#;

fn python3() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `mailward ARGS...`; returns stdout.
fn mailward(args: &[&str], log: &Path) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg(log)
        .output()
        .unwrap_or_else(|e| panic!("run mailward: {e}"));
    assert!(
        out.status.success(),
        "mailward {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until the log has a `delivered` event for every (queue ID, recipient) in `want`.
fn wait_for_deliveries(m: &Mailward, want: &BTreeSet<(String, String)>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got: BTreeSet<(String, String)> = m
            .log_lines()
            .iter()
            .filter(|l| l["event"] == "delivered")
            .filter_map(|l| Some((l["queue_id"].as_str()?.into(), l["to"].as_str()?.into())))
            .collect();
        if want.is_subset(&got) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not delivered: {:?}",
            want.difference(&got).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_log_written_by_serve_reads_back_into_the_flows_that_were_sent() {
    if !python3() {
        eprintln!("SKIPPED: python3 is not installed");
        return;
    }
    let m = Mailward::start("");
    for a in [
        "bob@example.test",
        "carol@example.test",
        "dave@example.test",
    ] {
        m.add_account(a, None);
    }
    m.cli(
        &["alias", "add", "sales@example.test", "carol@example.test"],
        None,
    );

    let out = Command::new("python3")
        .args(["-c", TRAFFIC])
        .arg(m.smtp.to_string())
        .arg(m.submission.to_string())
        .arg(PASSWORD)
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        out.status.success(),
        "sending failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let queued: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let qid = |msgid: &str| -> String {
        queued[msgid]
            .as_str()
            .unwrap_or_else(|| panic!("no queue ID for {msgid}: {queued}"))
            .to_owned()
    };

    let local = |to: &str| (to.to_owned(), Status::Sent, false);
    let message = |msgid: &str, from: &str, sasl: Option<&str>, to: &[&str]| SentMessage {
        message_id: msgid.into(),
        from: from.into(),
        client_ip: Some("127.0.0.1".into()),
        sasl_user: sasl.map(str::to_owned),
        queue_ids: vec![qid(msgid)],
        recipients: to.iter().map(|t| local(t)).collect(),
    };
    let sent = [
        message(
            "one@remote.test",
            "alice@remote.test",
            None,
            &["bob@example.test"],
        ),
        message(
            "three@other.test",
            "carol@other.test",
            None,
            &[
                "bob@example.test",
                "carol@example.test",
                "dave@example.test",
            ],
        ),
        message(
            "alias@list.test",
            "news@list.test",
            None,
            &["sales@example.test"],
        ),
        message(
            "auth@laptop",
            "bob@example.test",
            Some("bob@example.test"),
            &["dave@example.test"],
        ),
    ];
    let want: BTreeSet<(String, String)> = sent
        .iter()
        .flat_map(|s| {
            s.recipients
                .iter()
                .map(|(to, _, _)| (s.queue_ids.concat(), to.clone()))
        })
        .collect();
    wait_for_deliveries(&m, &want);

    let flows: Vec<Flow> = mailward(&["logs", "flows", "--json", "--no-lines"], &m.log)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let bad = flows_match_sent(&flows, &sent);
    assert!(bad.is_empty(), "{}\n{flows:#?}", bad.join("\n"));
    assert_eq!(flows.len(), sent.len(), "one flow per message: {flows:#?}");
    assert!(
        flows.iter().all(|f| f.complete && f.arrival_seen),
        "{flows:#?}"
    );

    let text = mailward(&["logs", "summary", "--json"], &m.log);
    assert_eq!(
        text,
        mailward(&["logs", "summary", "--json", "--threads", "1"], &m.log),
        "the same summary on one thread"
    );
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let count = |k: &str| summary[k].as_u64();
    assert_eq!(count("received"), Some(4), "{summary:#}");
    assert_eq!(count("delivered"), Some(6), "{summary:#}");
    assert_eq!(count("delivered_locally"), Some(6), "{summary:#}");
    assert_eq!(count("rejected"), Some(1), "{summary:#}");
    assert_eq!(
        (count("deferred"), count("bounced"), count("pending")),
        (Some(0), Some(0), Some(0)),
        "{summary:#}"
    );
    assert_eq!(summary["lines"]["unparsed"], 0, "{summary:#}");
}
