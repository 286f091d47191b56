//! The HTTP hook: the file `POST`ed to an `http://` URL with `X-Filename`, `X-Sha256` and
//! `X-Content-Type`; the answer is JSON `{"verdict": "clean|suspicious|malicious",
//! "detail": "..."}` with status 200.

use super::{FileToCheck, HookError, HookVerdict, Judgement, detail_line};
use crate::http::{self, HttpUrl};
use serde::Deserialize;
use std::time::Duration;

/// The largest answer read.
const MAX_ANSWER: usize = 64 * 1024;

#[derive(Debug, Deserialize)]
struct Answer {
    verdict: String,
    #[serde(default)]
    detail: String,
}

/// POSTs `file` to `url` within `timeout`.
pub async fn run(
    url: &str,
    file: &FileToCheck<'_>,
    timeout: Duration,
) -> Result<HookVerdict, HookError> {
    let url = HttpUrl::parse(url)?;
    let headers = [
        ("Content-Type", "application/octet-stream".to_owned()),
        ("X-Filename", file.name.clone()),
        ("X-Sha256", file.sha256.clone()),
        ("X-Content-Type", file.content_type.clone()),
    ];
    let response =
        tokio::time::timeout(timeout, http::post(&url, &headers, file.bytes, MAX_ANSWER))
            .await
            .map_err(|_| HookError::Timeout(timeout))??;
    if response.status != 200 {
        return Err(HookError::Status(format!("HTTP {}", response.status)));
    }
    let answer: Answer =
        serde_json::from_slice(&response.body).map_err(|e| HookError::Answer(e.to_string()))?;
    let judgement = match answer.verdict.to_ascii_lowercase().as_str() {
        "clean" => Judgement::Clean,
        "suspicious" => Judgement::Suspicious,
        "malicious" => Judgement::Malicious,
        other => return Err(HookError::Answer(format!("unknown verdict {other:?}"))),
    };
    Ok(HookVerdict {
        judgement,
        detail: detail_line(answer.detail.as_bytes()),
    })
}
