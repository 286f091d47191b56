//! The hand-off to a real rspamd, when configured: [`crate::rspamd`] sends the message to
//! rspamd's normal worker (`POST /checkv2`, the envelope in request headers), and rspamd's
//! score and symbols stand for ours. When rspamd cannot answer, the caller scores with its
//! own rules.

use crate::context::Context;
use crate::rspamd::Rspamd;
pub use crate::rspamd::{RspamdError, RspamdSettings};
use crate::verdict::Finding;

/// What rspamd said.
#[derive(Debug, Clone, PartialEq)]
pub struct RspamdVerdict {
    pub score: f64,
    /// rspamd's own action word (`no action`, `add header`, `reject`, ...).
    pub action: String,
    /// Symbols with a score, as findings (the code is the symbol's name).
    pub findings: Vec<Finding>,
}

/// Asks rspamd at `settings.url` to score `raw`.
pub async fn check(
    raw: &[u8],
    ctx: &Context<'_>,
    settings: &RspamdSettings,
) -> Result<RspamdVerdict, RspamdError> {
    let result = Rspamd::new(settings.clone())?.check(raw, ctx).await?;
    let findings = result
        .symbols
        .into_iter()
        .filter(|(_, score)| *score != 0.0 && score.is_finite())
        .take(200)
        .map(|(name, score)| Finding::rule(&name, score, name.clone()))
        .collect();
    Ok(RspamdVerdict {
        score: if result.score.is_finite() {
            result.score
        } else {
            0.0
        },
        action: result.action,
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spam::tests::ctx_for;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
            url: format!("http://{address}"),
            timeout: Duration::from_secs(5),
            ..RspamdSettings::default()
        };
        let v = check(b"Subject: hi\r\n\r\nhello\r\n", &ctx, &settings)
            .await
            .unwrap();
        assert!((v.score - 7.5).abs() < 1e-9);
        assert_eq!(v.action, "add header");
        let mut codes: Vec<&str> = v.findings.iter().map(|f| f.code.as_str()).collect();
        codes.sort_unstable();
        assert_eq!(codes, vec!["MIME_GOOD", "R_SPF_FAIL"]);
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
            url: format!("http://{address}"),
            timeout: Duration::from_secs(5),
            ..RspamdSettings::default()
        };
        let e = check(b"Subject: hi\r\n\r\nx\r\n", &ctx, &settings).await;
        assert!(matches!(e, Err(RspamdError::Status { .. })), "{e:?}");

        // A listener that never answers: the time limit.
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let settings = RspamdSettings {
            url: format!("http://{}", silent.local_addr().unwrap()),
            timeout: Duration::from_millis(200),
            ..RspamdSettings::default()
        };
        let e = check(b"Subject: hi\r\n\r\nx\r\n", &ctx, &settings).await;
        assert!(matches!(e, Err(RspamdError::Timeout(_))), "{e:?}");
    }
}
