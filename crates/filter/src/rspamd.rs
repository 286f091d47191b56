//! A client of a real rspamd: the message is `POST`ed to `/checkv2` of its normal worker with
//! the envelope in request headers, and its JSON answer gives the score, the action and the
//! symbols that matched.
//!
//! The protocol is rspamd's "Protocol" page (rspamd.com/doc/developers/protocol.html):
//! request headers `IP`, `Helo`, `From`, `Rcpt` (once per recipient), `Queue-Id`, `User`
//! (the authenticated user), `Password` (when the worker asks for one); the answer's fields
//! `score`, `required_score`, `action` (`no action`, `greylist`, `add header`,
//! `rewrite subject`, `soft reject`, `reject`) and `symbols` (name → `{score, ...}`).

use crate::context::Context;
use crate::http::{self, HttpError, HttpUrl};
use crate::verdict::Action;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// `[filter.spam] rspamd = ...`.
#[derive(Debug, Clone)]
pub struct RspamdSettings {
    /// The normal worker (`http://127.0.0.1:11333`); `/checkv2` is added when the URL has
    /// no path.
    pub url: String,
    /// Connecting, sending and rspamd's answer together (default 20 s).
    pub timeout: Duration,
    /// Sent as `Password` when set (a worker configured with one).
    pub password: Option<String>,
    /// The largest answer read (default 1 MiB; a usual one is a few KB).
    pub max_answer: usize,
}

impl Default for RspamdSettings {
    fn default() -> Self {
        RspamdSettings {
            url: "http://127.0.0.1:11333".to_owned(),
            timeout: Duration::from_secs(20),
            password: None,
            max_answer: 1024 * 1024,
        }
    }
}

/// What rspamd said about a message.
#[derive(Debug, Clone, PartialEq)]
pub struct RspamdResult {
    pub score: f64,
    pub required_score: Option<f64>,
    /// rspamd's action, as it wrote it (`no action`, `add header`, `reject`, ...).
    pub action: String,
    /// The symbols that matched with their scores, the highest first.
    pub symbols: Vec<(String, f64)>,
}

impl RspamdResult {
    /// rspamd's action as ours: `reject` → Reject, `soft reject` → TempFail,
    /// `add header`/`rewrite subject` → Tag, anything else (`no action`, `greylist`: we do
    /// not greylist) → Accept.
    pub fn suggested_action(&self) -> Action {
        match self.action.as_str() {
            "reject" => Action::Reject,
            "soft reject" => Action::TempFail,
            "add header" | "rewrite subject" => Action::Tag,
            _ => Action::Accept,
        }
    }
}

/// Why rspamd gave no score.
#[derive(Debug, thiserror::Error)]
pub enum RspamdError {
    #[error("rspamd: {0}")]
    Http(#[from] HttpError),
    #[error("rspamd did not answer within {0:?}")]
    Timeout(Duration),
    #[error("rspamd answered HTTP {status}: {text}")]
    Status { status: u16, text: String },
    #[error("rspamd's answer is not the JSON expected: {0}")]
    Json(#[from] serde_json::Error),
}

/// The part of the answer read (unknown fields are ignored).
#[derive(Debug, Deserialize)]
struct Answer {
    score: f64,
    required_score: Option<f64>,
    action: String,
    #[serde(default)]
    symbols: BTreeMap<String, Symbol>,
}

#[derive(Debug, Deserialize)]
struct Symbol {
    #[serde(default)]
    score: f64,
}

/// An rspamd client.
#[derive(Debug, Clone)]
pub struct Rspamd {
    settings: RspamdSettings,
    url: HttpUrl,
}

impl Rspamd {
    /// Checks the URL (`http://` only).
    pub fn new(settings: RspamdSettings) -> Result<Rspamd, RspamdError> {
        let mut url = HttpUrl::parse(&settings.url)?;
        if url.path == "/" {
            url.path = "/checkv2".to_owned();
        }
        Ok(Rspamd { settings, url })
    }

    pub fn settings(&self) -> &RspamdSettings {
        &self.settings
    }

    /// Scans `message` with the envelope of `ctx`.
    pub async fn check(
        &self,
        message: &[u8],
        ctx: &Context<'_>,
    ) -> Result<RspamdResult, RspamdError> {
        let headers = request_headers(ctx, self.settings.password.as_deref());
        let timeout = self.settings.timeout;
        let answer = tokio::time::timeout(
            timeout,
            http::post(&self.url, &headers, message, self.settings.max_answer),
        )
        .await
        .map_err(|_| RspamdError::Timeout(timeout))??;
        if answer.status != 200 {
            return Err(RspamdError::Status {
                status: answer.status,
                text: String::from_utf8_lossy(answer.body.get(..200).unwrap_or(&answer.body))
                    .into_owned(),
            });
        }
        parse_answer(&answer.body)
    }
}

/// The protocol's request headers for `ctx`.
fn request_headers<'a>(ctx: &Context<'_>, password: Option<&str>) -> Vec<(&'a str, String)> {
    let mut headers = vec![
        ("IP", ctx.client_ip.to_string()),
        ("Helo", ctx.helo.to_owned()),
        // The null reverse path `<>` (RFC 5321 §4.5.5) is sent as such.
        (
            "From",
            if ctx.mail_from.is_empty() {
                "<>".to_owned()
            } else {
                ctx.mail_from.to_owned()
            },
        ),
        ("Queue-Id", ctx.queue_id.to_owned()),
    ];
    for rcpt in ctx.rcpts {
        headers.push(("Rcpt", rcpt.clone()));
    }
    if let Some(user) = ctx.auth_user {
        headers.push(("User", user.to_owned()));
    }
    if let Some(password) = password {
        headers.push(("Password", password.to_owned()));
    }
    headers
}

/// Reads rspamd's JSON answer.
fn parse_answer(body: &[u8]) -> Result<RspamdResult, RspamdError> {
    let answer: Answer = serde_json::from_slice(body)?;
    let mut symbols: Vec<(String, f64)> = answer
        .symbols
        .into_iter()
        .map(|(name, s)| (name, s.score))
        .collect();
    symbols.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(RspamdResult {
        score: answer.score,
        required_score: answer.required_score,
        action: answer.action,
        symbols,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn ctx<'a>(rcpts: &'a [String], user: Option<&'a str>) -> Context<'a> {
        Context {
            queue_id: "Q1",
            client_ip: IpAddr::from([192, 0, 2, 7]),
            helo: "mx.example.org",
            mail_from: "",
            rcpts,
            auth_user: user,
            auth: None,
        }
    }

    #[test]
    fn the_answer_is_read_with_symbols_highest_first() {
        let body = br#"{"is_skipped":false,"score":7.5,"required_score":15.0,"action":"add header",
            "symbols":{"MISSING_MID":{"name":"MISSING_MID","score":2.5},
                       "MIME_GOOD":{"name":"MIME_GOOD","score":-0.1},
                       "RDNS_NONE":{"name":"RDNS_NONE","score":5.1}},"message-id":"undef"}"#;
        let r = parse_answer(body).unwrap();
        assert_eq!(r.score, 7.5);
        assert_eq!(r.required_score, Some(15.0));
        assert_eq!(r.suggested_action(), Action::Tag);
        let names: Vec<&str> = r.symbols.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(names, ["RDNS_NONE", "MISSING_MID", "MIME_GOOD"]);
        assert!(parse_answer(b"{\"error\":\"bad\"}").is_err());
    }

    #[test]
    fn the_envelope_goes_in_the_request_headers() {
        let rcpts = vec!["a@example.com".to_owned(), "b@example.net".to_owned()];
        let h = request_headers(&ctx(&rcpts, Some("alice")), None);
        let get = |n: &str| -> Vec<&str> {
            h.iter()
                .filter(|(k, _)| *k == n)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        assert_eq!(get("IP"), ["192.0.2.7"]);
        assert_eq!(get("Helo"), ["mx.example.org"]);
        assert_eq!(get("From"), ["<>"]);
        assert_eq!(get("Rcpt"), ["a@example.com", "b@example.net"]);
        assert_eq!(get("Queue-Id"), ["Q1"]);
        assert_eq!(get("User"), ["alice"]);
        assert!(get("Password").is_empty());
    }

    /// A stand-in rspamd for the client's error paths; the real one is in
    /// `tests/rspamd_real.rs`.
    async fn fake(answer: &'static [u8]) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 65536];
            let _ = s.read(&mut buf).await;
            if !answer.is_empty() {
                let _ = s.write_all(answer).await;
            } else {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn errors_and_silence_are_errors() {
        let rcpts = vec!["a@example.com".to_owned()];
        let c = ctx(&rcpts, None);
        let settings = |url| RspamdSettings {
            url,
            timeout: Duration::from_millis(300),
            ..RspamdSettings::default()
        };
        let url = fake(b"HTTP/1.1 500 Internal\r\nContent-Length: 4\r\n\r\noops").await;
        let r = Rspamd::new(settings(url)).unwrap().check(b"x", &c).await;
        assert!(
            matches!(r, Err(RspamdError::Status { status: 500, .. })),
            "{r:?}"
        );
        let url = fake(b"").await;
        let r = Rspamd::new(settings(url)).unwrap().check(b"x", &c).await;
        assert!(matches!(r, Err(RspamdError::Timeout(_))), "{r:?}");
        assert!(Rspamd::new(settings("https://x".into())).is_err());
    }
}
