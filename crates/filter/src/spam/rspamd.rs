//! The hand-off to a real rspamd, when configured: the message goes to rspamd's normal
//! worker over its HTTP protocol (`POST /checkv2`, the envelope in request headers:
//! `IP`, `Helo`, `From`, `Rcpt`, `Queue-Id`), and rspamd's score and symbols stand for
//! ours. Bounded: one connection, a time limit for the whole exchange, a size limit on the
//! answer. When rspamd cannot answer, the caller scores with its own rules.

use crate::context::Context;
use crate::verdict::Finding;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `[filter.spam.rspamd]`.
#[derive(Debug, Clone)]
pub struct RspamdSettings {
    /// The normal worker's `host:port` (rspamd's default `127.0.0.1:11333`).
    pub address: String,
    /// Time for the whole exchange (default 5 s).
    pub timeout: Duration,
}

impl Default for RspamdSettings {
    fn default() -> Self {
        RspamdSettings {
            address: "127.0.0.1:11333".into(),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Why rspamd gave no score.
#[derive(Debug, thiserror::Error)]
pub enum RspamdError {
    #[error("rspamd at {0}: {1}")]
    Io(String, std::io::Error),
    #[error("rspamd did not answer within {0:?}")]
    Timeout(Duration),
    #[error("rspamd answered {0}")]
    Status(String),
    #[error("rspamd's answer is not one we read: {0}")]
    Answer(String),
}

/// What rspamd said.
#[derive(Debug, Clone, PartialEq)]
pub struct RspamdVerdict {
    pub score: f64,
    /// rspamd's own action word (`no action`, `add header`, `reject`, ...).
    pub action: String,
    /// Symbols with a score, as findings (the code is the symbol's name).
    pub findings: Vec<Finding>,
}

/// The largest answer read.
const MAX_ANSWER: usize = 1 << 20;

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    score: f64,
    #[serde(default)]
    action: String,
    #[serde(default)]
    symbols: BTreeMap<String, Symbol>,
}

#[derive(Deserialize)]
struct Symbol {
    #[serde(default)]
    score: f64,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    options: Vec<String>,
}

/// Asks rspamd at `settings.address` to score `raw`.
pub async fn check(
    raw: &[u8],
    ctx: &Context<'_>,
    settings: &RspamdSettings,
) -> Result<RspamdVerdict, RspamdError> {
    match tokio::time::timeout(settings.timeout, exchange(raw, ctx, &settings.address)).await {
        Ok(answer) => answer,
        Err(_) => Err(RspamdError::Timeout(settings.timeout)),
    }
}

async fn exchange(
    raw: &[u8],
    ctx: &Context<'_>,
    address: &str,
) -> Result<RspamdVerdict, RspamdError> {
    let io = |e| RspamdError::Io(address.to_owned(), e);
    let mut stream = TcpStream::connect(address).await.map_err(io)?;
    stream.write_all(&request(raw, ctx)).await.map_err(io)?;
    stream.write_all(raw).await.map_err(io)?;
    let mut answer = Vec::new();
    (&mut stream)
        .take(MAX_ANSWER as u64 + 1)
        .read_to_end(&mut answer)
        .await
        .map_err(io)?;
    if answer.len() > MAX_ANSWER {
        return Err(RspamdError::Answer(format!(
            "longer than {MAX_ANSWER} bytes"
        )));
    }
    read_answer(&answer)
}

/// The request line and headers (rspamd's protocol: the SMTP envelope travels in headers so
/// rspamd's SPF, RBL and greylisting modules see what we saw).
fn request(raw: &[u8], ctx: &Context<'_>) -> Vec<u8> {
    let clean = |s: &str| s.replace(['\r', '\n'], " ");
    let mut head = String::from("POST /checkv2 HTTP/1.1\r\nHost: rspamd\r\nConnection: close\r\n");
    head.push_str(&format!("Content-Length: {}\r\n", raw.len()));
    head.push_str(&format!("IP: {}\r\n", ctx.client_ip));
    if !ctx.helo.is_empty() {
        head.push_str(&format!("Helo: {}\r\n", clean(ctx.helo)));
    }
    head.push_str(&format!("From: {}\r\n", clean(ctx.mail_from)));
    for r in ctx.rcpts.iter().take(100) {
        head.push_str(&format!("Rcpt: {}\r\n", clean(r)));
    }
    if !ctx.queue_id.is_empty() {
        head.push_str(&format!("Queue-Id: {}\r\n", clean(ctx.queue_id)));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Reads an HTTP/1.1 answer (RFC 9112): the status line, the header, a JSON body.
fn read_answer(answer: &[u8]) -> Result<RspamdVerdict, RspamdError> {
    let split = memchr::memmem::find(answer, b"\r\n\r\n")
        .ok_or_else(|| RspamdError::Answer("no end of header".into()))?;
    let head = String::from_utf8_lossy(answer.get(..split).unwrap_or_default());
    let body = answer.get(split + 4..).unwrap_or_default();
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(RspamdError::Status(status.chars().take(100).collect()));
    }
    let parsed: Answer =
        serde_json::from_slice(body).map_err(|e| RspamdError::Answer(e.to_string()))?;
    if !parsed.score.is_finite() {
        return Err(RspamdError::Answer("the score is not a number".into()));
    }
    let findings = parsed
        .symbols
        .into_iter()
        .filter(|(_, s)| s.score != 0.0 && s.score.is_finite())
        .take(200)
        .map(|(name, s)| {
            let mut detail = s.description.unwrap_or_else(|| name.clone());
            if !s.options.is_empty() {
                detail.push_str(&format!(" ({})", s.options.join(", ")));
            }
            Finding::rule(&name, s.score, detail.chars().take(300).collect::<String>())
        })
        .collect();
    Ok(RspamdVerdict {
        score: parsed.score,
        action: parsed.action,
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spam::tests::ctx_for;
    use tokio::net::TcpListener;

    const ANSWER: &str = r#"{"is_skipped":false,"score":7.5,"required_score":15,"action":"add header",
"symbols":{"R_SPF_FAIL":{"name":"R_SPF_FAIL","score":1.0,"description":"SPF verification failed","options":["-all"]},
"MIME_GOOD":{"name":"MIME_GOOD","score":-0.1},"ZERO":{"name":"ZERO","score":0}}}"#;

    /// A stand-in for rspamd: reads one request, keeps it, answers `reply`.
    async fn fake(reply: String) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // Header, then Content-Length bytes.
            loop {
                let n = s.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                if let Some(end) = memchr::memmem::find(&got, b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&got[..end]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .unwrap()
                        .parse()
                        .unwrap();
                    if got.len() >= end + 4 + len || n == 0 {
                        break;
                    }
                }
            }
            s.write_all(reply.as_bytes()).await.unwrap();
            got
        });
        (addr, task)
    }

    #[tokio::test]
    async fn the_envelope_goes_in_headers_and_the_symbols_come_back() {
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{ANSWER}",
            ANSWER.len()
        );
        let (address, server) = fake(reply).await;
        let rcpts = vec!["bob@example.org".to_owned()];
        let mut ctx = ctx_for(&rcpts);
        ctx.mail_from = "alice@example.com";
        let settings = RspamdSettings {
            address,
            timeout: Duration::from_secs(5),
        };
        let v = check(b"Subject: hi\r\n\r\nhello\r\n", &ctx, &settings)
            .await
            .unwrap();
        assert!((v.score - 7.5).abs() < 1e-9);
        assert_eq!(v.action, "add header");
        let codes: Vec<&str> = v.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, vec!["MIME_GOOD", "R_SPF_FAIL"]);
        assert_eq!(v.findings[1].detail, "SPF verification failed (-all)");
        let request = String::from_utf8(server.await.unwrap()).unwrap();
        assert!(
            request.starts_with("POST /checkv2 HTTP/1.1\r\n"),
            "{request}"
        );
        for h in [
            "IP: 192.0.2.1\r\n",
            "Helo: mail.example.com\r\n",
            "From: alice@example.com\r\n",
            "Rcpt: bob@example.org\r\n",
            "Queue-Id: Q1\r\n",
        ] {
            assert!(request.contains(h), "{h} in {request}");
        }
        assert!(request.ends_with("\r\n\r\nSubject: hi\r\n\r\nhello\r\n"));
    }

    #[tokio::test]
    async fn errors_and_silence_are_errors() {
        let (address, _server) = fake("HTTP/1.1 500 Internal Server Error\r\n\r\n".into()).await;
        let rcpts = vec!["bob@example.org".to_owned()];
        let ctx = ctx_for(&rcpts);
        let settings = RspamdSettings {
            address,
            timeout: Duration::from_secs(5),
        };
        let e = check(b"Subject: hi\r\n\r\nx\r\n", &ctx, &settings).await;
        assert!(matches!(e, Err(RspamdError::Status(_))), "{e:?}");

        // A listener that never answers: the time limit.
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let settings = RspamdSettings {
            address: silent.local_addr().unwrap().to_string(),
            timeout: Duration::from_millis(200),
        };
        let e = check(b"Subject: hi\r\n\r\nx\r\n", &ctx, &settings).await;
        assert!(matches!(e, Err(RspamdError::Timeout(_))), "{e:?}");
    }

    #[test]
    fn answers_that_are_not_json_are_refused() {
        assert!(read_answer(b"HTTP/1.1 200 OK\r\n\r\n<html>").is_err());
        assert!(read_answer(b"garbage").is_err());
    }
}
