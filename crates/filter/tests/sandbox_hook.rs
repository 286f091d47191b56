//! The sandbox hook with real hooks: a shell script as the command (it checks that the file
//! on its standard input has the SHA-256 it is told in `MAILWARD_SHA256`, and logs each run
//! so the cache can be counted), and a small HTTP server on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use base64::Engine as _;
use mailward_event::Scope;
use mailward_filter::mime::{self, MimeLimits};
use mailward_filter::quarantine::Quarantine;
use mailward_filter::sandbox::{Hook, Sandbox, SandboxSettings};
use mailward_filter::{Action, Context, Finding, Gateway, GatewaySettings};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SCRIPT: &str = r#"#!/bin/sh
log="$1"
echo "$MAILWARD_FILENAME $MAILWARD_CONTENT_TYPE" >> "$log"
tmp="$log.$$"
cat > "$tmp"
sum=$(sha256sum < "$tmp" | cut -d' ' -f1)
verdict=0
if [ "$sum" != "$MAILWARD_SHA256" ]; then echo "digest mismatch"; verdict=9
elif grep -q SLOW "$tmp"; then sleep 30
elif grep -q BROKEN "$tmp"; then echo "cannot analyse"; verdict=5
elif grep -q MALICIOUS "$tmp"; then echo "Trojan.Test found"; echo "second line"; verdict=2
elif grep -q SUSPICIOUS "$tmp"; then echo "auto-open macro"; verdict=1
else echo "nothing found"
fi
rm -f "$tmp"
exit $verdict
"#;

struct Hooked {
    _dir: tempfile::TempDir,
    log: PathBuf,
    script: PathBuf,
}

fn hooked() -> Hooked {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("hook.sh");
    std::fs::write(&script, SCRIPT).unwrap();
    Hooked {
        log: dir.path().join("runs.log"),
        script,
        _dir: dir,
    }
}

impl Hooked {
    fn settings(&self) -> SandboxSettings {
        SandboxSettings {
            hook: Hook::Command(vec![
                "sh".into(),
                self.script.display().to_string(),
                self.log.display().to_string(),
            ]),
            timeout: Duration::from_secs(20),
            ..SandboxSettings::default()
        }
    }

    fn runs(&self) -> Vec<String> {
        runs(&self.log)
    }
}

fn runs(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A message with each `(name, content type, bytes)` attached in base64.
fn message(files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut m = String::from(
        "From: a@example.org\r\nTo: b@example.com\r\nSubject: files\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nThe files.\r\n",
    );
    for (name, ctype, data) in files {
        m.push_str(&format!(
            "--b1\r\nContent-Type: {ctype}\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            base64::engine::general_purpose::STANDARD.encode(data)
        ));
    }
    m.push_str("--b1--\r\n");
    m.into_bytes()
}

async fn check(sandbox: &Sandbox, raw: &[u8]) -> Vec<Finding> {
    let parsed = mime::parse(raw).unwrap();
    let walk = mime::walk(&parsed, raw, &MimeLimits::default());
    sandbox.check(&walk).await
}

fn codes(found: &[Finding]) -> Vec<(Action, &str, &str)> {
    found
        .iter()
        .map(|f| (f.action, f.code.as_str(), f.detail.as_str()))
        .collect()
}

#[tokio::test]
async fn the_command_decides_by_exit_status() {
    let h = hooked();
    let sandbox = Sandbox::new(h.settings());
    let raw = message(&[
        ("a.pdf", "application/pdf", b"%PDF-1.4 fine"),
        ("b.docm", "application/octet-stream", b"SUSPICIOUS stuff"),
        ("c.pdf", "application/pdf", b"%PDF-1.4 MALICIOUS"),
    ]);
    let found = check(&sandbox, &raw).await;
    assert_eq!(
        codes(&found),
        [
            (
                Action::Quarantine,
                "sandbox_suspicious",
                "b.docm: suspicious by the sandbox's analysis (auto-open macro)"
            ),
            (
                Action::Reject,
                "sandbox_malicious",
                "c.pdf: malicious by the sandbox's analysis (Trojan.Test found)"
            ),
        ]
    );
    // The environment named each file and its type.
    assert_eq!(
        h.runs(),
        [
            "a.pdf application/pdf",
            "b.docm application/octet-stream",
            "c.pdf application/pdf"
        ]
    );
}

#[tokio::test]
async fn types_not_configured_are_not_handed_over() {
    let h = hooked();
    let sandbox = Sandbox::new(SandboxSettings {
        types: vec!["pdf".into()],
        ..h.settings()
    });
    let raw = message(&[
        ("notes.txt", "text/plain", b"MALICIOUS but only text"),
        ("sheet.xlsx", "application/octet-stream", b"MALICIOUS"),
    ]);
    assert_eq!(check(&sandbox, &raw).await, vec![]);
    assert!(h.runs().is_empty());
}

#[tokio::test]
async fn a_file_seen_before_does_not_run_the_hook_again() {
    let h = hooked();
    let sandbox = Sandbox::new(h.settings());
    let same: &[u8] = b"%PDF-1.4 MALICIOUS again";
    let first = message(&[
        ("one.pdf", "application/pdf", same),
        ("two.pdf", "application/pdf", same),
    ]);
    let found = check(&sandbox, &first).await;
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|f| f.code == "sandbox_malicious"));
    let second = message(&[("three.pdf", "application/pdf", same)]);
    let found = check(&sandbox, &second).await;
    assert_eq!(
        found[0].detail,
        "three.pdf: malicious by the sandbox's analysis (Trojan.Test found)"
    );
    assert_eq!(h.runs().len(), 1, "{:?}", h.runs());
    assert_eq!(sandbox.cached(), 1);
}

#[tokio::test]
async fn a_slow_hook_is_killed_at_the_timeout_and_on_timeout_applies() {
    let h = hooked();
    let sandbox = Sandbox::new(SandboxSettings {
        timeout: Duration::from_millis(700),
        ..h.settings()
    });
    let raw = message(&[("slow.pdf", "application/pdf", b"%PDF SLOW")]);
    let started = Instant::now();
    let found = check(&sandbox, &raw).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        codes(&found),
        [(
            Action::Accept,
            "sandbox_unavailable",
            "slow.pdf: not checked by the sandbox (it did not answer in time)"
        )]
    );
    // A failure is not cached: the next message tries again, and a stricter setting holds it.
    let strict = Sandbox::new(SandboxSettings {
        timeout: Duration::from_millis(700),
        on_timeout: Action::Quarantine,
        ..h.settings()
    });
    let found = check(&strict, &raw).await;
    assert_eq!(found[0].action, Action::Quarantine);
    assert_eq!(h.runs().len(), 2);
}

#[tokio::test]
async fn a_failing_or_missing_command_is_a_failure() {
    let h = hooked();
    let sandbox = Sandbox::new(h.settings());
    let raw = message(&[("x.pdf", "application/pdf", b"%PDF BROKEN")]);
    let found = check(&sandbox, &raw).await;
    assert_eq!(
        codes(&found),
        [(
            Action::Accept,
            "sandbox_unavailable",
            "x.pdf: not checked by the sandbox (it failed)"
        )]
    );
    let missing = Sandbox::new(SandboxSettings {
        hook: Hook::Command(vec!["/nonexistent/sandbox".into()]),
        on_timeout: Action::TempFail,
        ..SandboxSettings::default()
    });
    let found = check(&missing, &raw).await;
    assert_eq!(
        (found[0].action, found[0].code.as_str()),
        (Action::TempFail, "sandbox_unavailable")
    );
}

/// A sandbox over HTTP: checks the `X-Sha256` it is sent against the body, answers by the
/// body's content (`SLOW` never answers, `BROKEN` gets a 500) and counts requests.
async fn http_sandbox() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/scan", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head, body) = loop {
                    let n = s.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).into_owned();
                        let length: usize = header(&head, "content-length").parse().unwrap();
                        while buf.len() < i + 4 + length {
                            let n = s.read(&mut chunk).await.unwrap();
                            buf.extend_from_slice(&chunk[..n]);
                        }
                        break (head, buf[i + 4..i + 4 + length].to_vec());
                    }
                };
                assert!(head.starts_with("POST /scan HTTP/1.1\r\n"), "{head}");
                let sum: String = Sha256::digest(&body)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let text = String::from_utf8_lossy(&body);
                let (status, json) = if header(&head, "x-sha256") != sum {
                    ("400 Bad Request", String::new())
                } else if text.contains("SLOW") {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                } else if text.contains("BROKEN") {
                    ("500 Internal Server Error", String::new())
                } else if text.contains("MALICIOUS") {
                    (
                        "200 OK",
                        format!(
                            r#"{{"verdict":"malicious","detail":"bad {}"}}"#,
                            header(&head, "x-filename")
                        ),
                    )
                } else if text.contains("SUSPICIOUS") {
                    (
                        "200 OK",
                        r#"{"verdict":"suspicious","detail":"odd"}"#.to_owned(),
                    )
                } else {
                    ("200 OK", r#"{"verdict":"clean"}"#.to_owned())
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
                    json.len()
                );
                let _ = s.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, count)
}

fn header<'a>(head: &'a str, name: &str) -> &'a str {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

#[tokio::test]
async fn the_http_hook_reads_the_json_verdict_and_caches_it() {
    let (url, count) = http_sandbox().await;
    let sandbox = Sandbox::new(SandboxSettings {
        hook: Hook::Http(url),
        timeout: Duration::from_secs(10),
        ..SandboxSettings::default()
    });
    let raw = message(&[
        ("ok.pdf", "application/pdf", b"%PDF fine"),
        ("odd.zip", "application/zip", b"PK\x03\x04 SUSPICIOUS"),
        (
            "r\u{e9}sum\u{e9}.exe",
            "application/octet-stream",
            b"MZ MALICIOUS",
        ),
        ("again.exe", "application/octet-stream", b"MZ MALICIOUS"),
    ]);
    let found = check(&sandbox, &raw).await;
    assert_eq!(
        codes(&found),
        [
            (
                Action::Quarantine,
                "sandbox_suspicious",
                "odd.zip: suspicious by the sandbox's analysis (odd)"
            ),
            // The name is sent percent-encoded (a header is ASCII).
            (
                Action::Reject,
                "sandbox_malicious",
                "r\u{e9}sum\u{e9}.exe: malicious by the sandbox's analysis (bad r%C3%A9sum%C3%A9.exe)"
            ),
            (
                Action::Reject,
                "sandbox_malicious",
                "again.exe: malicious by the sandbox's analysis (bad r%C3%A9sum%C3%A9.exe)"
            ),
        ]
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn the_http_hook_times_out_and_fails_by_on_timeout() {
    let (url, _) = http_sandbox().await;
    let sandbox = Sandbox::new(SandboxSettings {
        hook: Hook::Http(url),
        timeout: Duration::from_millis(500),
        on_timeout: Action::TempFail,
        ..SandboxSettings::default()
    });
    let started = Instant::now();
    let found = check(&sandbox, &message(&[("s.pdf", "application/pdf", b"SLOW")])).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        (found[0].action, found[0].code.as_str()),
        (Action::TempFail, "sandbox_unavailable")
    );
    let found = check(
        &sandbox,
        &message(&[("b.pdf", "application/pdf", b"BROKEN")]),
    )
    .await;
    assert_eq!(
        found[0].detail,
        "b.pdf: not checked by the sandbox (it failed)"
    );
}

#[tokio::test]
async fn a_file_repeated_in_one_message_is_handed_over_once_even_when_it_times_out() {
    let h = hooked();
    let sandbox = Sandbox::new(SandboxSettings {
        timeout: Duration::from_millis(700),
        ..h.settings()
    });
    let slow: &[u8] = b"%PDF SLOW";
    let raw = message(&[
        ("a.pdf", "application/pdf", slow),
        ("b.pdf", "application/pdf", slow),
    ]);
    let found = check(&sandbox, &raw).await;
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|f| f.code == "sandbox_unavailable"));
    assert_eq!(h.runs().len(), 1, "{:?}", h.runs());
}

#[tokio::test]
async fn at_most_max_files_runs_per_message() {
    let h = hooked();
    let sandbox = Sandbox::new(SandboxSettings {
        max_files: 2,
        ..h.settings()
    });
    let raw = message(&[
        ("1.pdf", "application/pdf", b"%PDF one"),
        ("2.pdf", "application/pdf", b"%PDF two"),
        ("3.pdf", "application/pdf", b"%PDF three"),
        ("4.pdf", "application/pdf", b"%PDF four"),
    ]);
    let found = check(&sandbox, &raw).await;
    assert_eq!(
        codes(&found),
        [(
            Action::Accept,
            "sandbox_unavailable",
            "2 more files not checked by the sandbox (the limit of one message reached)"
        )]
    );
    assert_eq!(h.runs().len(), 2);
    // The two judged are cached: the next message runs the other two.
    assert_eq!(check(&sandbox, &raw).await, vec![]);
    assert_eq!(h.runs().len(), 4);
}

/// Through the gateway: a malicious verdict refuses the message with the file's name.
#[tokio::test]
async fn the_gateway_refuses_what_the_sandbox_finds_malicious() {
    let h = hooked();
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::new(
        GatewaySettings {
            sandbox: Some(h.settings()),
            ..GatewaySettings::default()
        },
        None,
        Quarantine::open(dir.path()).unwrap(),
    );
    let rcpts = vec!["b@example.com".to_owned()];
    let ctx = Context {
        queue_id: "S1",
        client_ip: IpAddr::from([192, 0, 2, 1]),
        helo: "mx.example.org",
        mail_from: "a@example.org",
        rcpts: &rcpts,
        auth_user: None,
        auth: None,
    };
    let raw = message(&[("report.pdf", "application/pdf", b"%PDF-1.4\n% MALICIOUS\n")]);
    let i = gateway.inspect(&ctx, &raw, &Scope::message("S1")).await;
    assert_eq!(i.verdict.action, Action::Reject);
    assert_eq!(
        i.reason(),
        "report.pdf: malicious by the sandbox's analysis (Trojan.Test found)"
    );
    assert_eq!(h.runs(), ["report.pdf application/pdf"]);
}

#[tokio::test]
async fn one_message_spends_at_most_message_timeout_in_the_sandbox() {
    let h = hooked();
    let sandbox = Sandbox::new(SandboxSettings {
        timeout: Duration::from_secs(20),
        message_timeout: Duration::from_millis(800),
        ..h.settings()
    });
    let raw = message(&[
        ("1.pdf", "application/pdf", b"%PDF SLOW one"),
        ("2.pdf", "application/pdf", b"%PDF SLOW two"),
        ("3.pdf", "application/pdf", b"%PDF SLOW three"),
    ]);
    let started = Instant::now();
    let found = check(&sandbox, &raw).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        codes(&found),
        [
            (
                Action::Accept,
                "sandbox_unavailable",
                "1.pdf: not checked by the sandbox (it did not answer in time)"
            ),
            (
                Action::Accept,
                "sandbox_unavailable",
                "2 more files not checked by the sandbox (the limit of one message reached)"
            ),
        ]
    );
    assert_eq!(h.runs().len(), 1);
}
