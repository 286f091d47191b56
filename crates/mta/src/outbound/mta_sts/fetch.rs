//! Fetching a policy (RFC 8461 §3.3): `https://mta-sts.DOMAIN/.well-known/mta-sts.txt`
//! over HTTPS with a certificate valid for that name, no redirects, a 200 answer, at most
//! [`super::policy::MAX_POLICY`] octets, within a time limit. HTTP/1.1 by hand: one GET,
//! `Connection: close`, read to the end.

use super::super::tls::ClientTls;
use super::policy::MAX_POLICY;
use mailward_auth::Resolver;
use rustls::pki_types::ServerName;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("{0}: {1}")]
    Dns(String, String),
    #[error("connect to {0}: {1}")]
    Connect(String, String),
    #[error("TLS with {0}: {1}")]
    Tls(String, String),
    #[error("{0}: timed out")]
    Timeout(String),
    #[error("{0}: HTTP {1}")]
    Status(String, String),
    #[error("{0}: answer larger than {MAX_POLICY} octets")]
    TooLarge(String),
    #[error("{0}: not an HTTP answer")]
    BadAnswer(String),
}

/// The policy text of `domain`.
pub async fn fetch(
    domain: &str,
    resolver: &Resolver,
    tls: &ClientTls,
    port: u16,
    timeout: Duration,
) -> Result<String, FetchError> {
    let host = format!("mta-sts.{domain}");
    tokio::time::timeout(timeout, fetch_from(&host, resolver, tls, port))
        .await
        .map_err(|_| FetchError::Timeout(host.clone()))?
}

async fn fetch_from(
    host: &str,
    resolver: &Resolver,
    tls: &ClientTls,
    port: u16,
) -> Result<String, FetchError> {
    let ips = resolver
        .addresses(host)
        .await
        .map_err(|e| FetchError::Dns(host.to_string(), e.to_string()))?;
    let mut last = FetchError::Connect(host.to_string(), "no address".into());
    for ip in ips {
        match get(host, SocketAddr::new(ip, port), tls).await {
            Ok(text) => return Ok(text),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn get(host: &str, peer: SocketAddr, tls: &ClientTls) -> Result<String, FetchError> {
    let tcp = tokio::net::TcpStream::connect(peer)
        .await
        .map_err(|e| FetchError::Connect(host.to_string(), e.to_string()))?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| FetchError::Tls(host.to_string(), e.to_string()))?;
    // §3.3: the certificate must be valid for the policy host.
    let mut stream = tls
        .strict
        .connect(name, tcp)
        .await
        .map_err(|e| FetchError::Tls(host.to_string(), e.to_string()))?;
    let request = format!(
        "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: {host}\r\nUser-Agent: mailward\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| FetchError::Connect(host.to_string(), e.to_string()))?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => n,
            // A peer that closes without close_notify after a complete answer.
            Err(_) if !answer.is_empty() => break,
            Err(e) => return Err(FetchError::Connect(host.to_string(), e.to_string())),
        };
        answer.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if answer.len() > MAX_POLICY + 16 * 1024 {
            return Err(FetchError::TooLarge(host.to_string()));
        }
    }
    body_of(host, &answer)
}

/// The body of a 200 answer (Content-Length or to the end; chunked bodies are decoded).
fn body_of(host: &str, answer: &[u8]) -> Result<String, FetchError> {
    let bad = || FetchError::BadAnswer(host.to_string());
    let split = memchr::memmem::find(answer, b"\r\n\r\n").ok_or_else(bad)?;
    let head = std::str::from_utf8(answer.get(..split).ok_or_else(bad)?).map_err(|_| bad())?;
    let body = answer.get(split + 4..).ok_or_else(bad)?;
    let mut lines = head.split("\r\n");
    let status = lines.next().ok_or_else(bad)?;
    let code = status.split_whitespace().nth(1).ok_or_else(bad)?;
    // §3.3: redirects are not followed; only 200 is a policy.
    if code != "200" {
        return Err(FetchError::Status(host.to_string(), code.to_string()));
    }
    let chunked = lines.any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        dechunk(body).ok_or_else(bad)?
    } else {
        body.to_vec()
    };
    if body.len() > MAX_POLICY {
        return Err(FetchError::TooLarge(host.to_string()));
    }
    String::from_utf8(body).map_err(|_| bad())
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = memchr::memmem::find(body, b"\r\n")?;
        let size_text = std::str::from_utf8(body.get(..eol)?).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = body.get(eol + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
        if out.len() > MAX_POLICY {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_200_answer_gives_its_body_and_others_do_not() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\n";
        assert_eq!(body_of("h", ok).unwrap(), "version: STSv1\r\n");
        let moved = b"HTTP/1.1 301 Moved\r\nLocation: https://x/\r\n\r\n";
        assert!(matches!(body_of("h", moved), Err(FetchError::Status(_, c)) if c == "301"));
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        assert_eq!(body_of("h", chunked).unwrap(), "hello");
        assert!(body_of("h", b"garbage").is_err());
    }
}
