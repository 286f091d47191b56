//! A minimal HTTP/1.1 client for the sandbox hook and rspamd: one `POST` per connection over
//! plain TCP, answers read with a size bound.
//!
//! RFC 9112: the request is sent with `Content-Length` (§6.2) and `Connection: close`
//! (§9.6); the answer's body is delimited by `Content-Length`, by chunked transfer coding
//! (§7.1), or by the end of the connection (§6.3, rule 8). The callers bound the time.

use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest status line and header section read (RFC 9112 §2.3 leaves it to us).
const MAX_HEAD: usize = 16 * 1024;

/// What went wrong talking HTTP.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("not an http:// URL: {0:?}")]
    BadUrl(String),
    #[error("cannot connect to {address}: {source}")]
    Connect {
        address: String,
        #[source]
        source: io::Error,
    },
    #[error("HTTP connection: {0}")]
    Io(#[from] io::Error),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("malformed HTTP answer: {0}")]
    Malformed(&'static str),
}

/// An `http://host[:port][/path]` URL (RFC 9110 §4.2.1), the only scheme taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    pub host: String,
    pub port: u16,
    /// The path and query, `/` when absent.
    pub path: String,
}

impl HttpUrl {
    pub fn parse(url: &str) -> Result<HttpUrl, HttpError> {
        let bad = || HttpError::BadUrl(url.to_owned());
        let rest = url
            .get(..7)
            .filter(|s| s.eq_ignore_ascii_case("http://"))
            .and_then(|_| url.get(7..))
            .ok_or_else(bad)?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("/")),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        if authority.contains('@') || path.chars().any(|c| c.is_ascii_control() || c == ' ') {
            return Err(bad());
        }
        // `[v6]:port`, `host:port` or `host` (RFC 3986 §3.2.2, §3.2.3).
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if after.is_empty() => 80,
                None => return Err(bad()),
            };
            (h.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| bad())?),
                None => (authority.to_owned(), 80),
            }
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(HttpUrl { host, port, path })
    }

    fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// An answer: its status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Makes a header value safe to send: bytes outside printable ASCII and `%` are
/// percent-encoded (RFC 9110 §5.5 allows no CR, LF or NUL in a field value).
pub fn header_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `POST`s `body` to `url` with `headers` (values passed through [`header_value`]) and
/// reads the answer, its body at most `max_body` bytes.
pub async fn post(
    url: &HttpUrl,
    headers: &[(&str, String)],
    body: &[u8],
    max_body: usize,
) -> Result<Response, HttpError> {
    let address = url.address();
    let mut stream = TcpStream::connect(address.as_str())
        .await
        .map_err(|source| HttpError::Connect {
            address: address.clone(),
            source,
        })?;
    stream.set_nodelay(true)?;
    let mut head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        url.path,
        address,
        body.len()
    );
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(&header_value(value));
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;

    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        let eof = n == 0;
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if let Some(response) = parse_response(&buf, eof, max_body)? {
            return Ok(response);
        }
        if eof {
            return Err(HttpError::Malformed("the connection closed mid-answer"));
        }
    }
}

/// Reads an answer from `buf` if it is complete (`eof`: nothing more will come): `None`
/// while more is needed; the body is never longer than `max_body`.
pub fn parse_response(
    buf: &[u8],
    eof: bool,
    max_body: usize,
) -> Result<Option<Response>, HttpError> {
    let Some(end) = memchr::memmem::find(buf, b"\r\n\r\n") else {
        if buf.len() > MAX_HEAD {
            return Err(HttpError::TooLarge(MAX_HEAD));
        }
        return Ok(None);
    };
    if end > MAX_HEAD {
        return Err(HttpError::TooLarge(MAX_HEAD));
    }
    let head = String::from_utf8_lossy(buf.get(..end).unwrap_or_default());
    let rest = buf.get(end + 4..).unwrap_or_default();
    let mut lines = head.split("\r\n");
    // RFC 9112 §4: `HTTP/1.1 200 OK`.
    let status_line = lines.next().unwrap_or_default();
    let mut words = status_line.split(' ');
    let version = words.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Malformed("no HTTP/1.x status line"));
    }
    let status: u16 = words
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|s| (100..1000).contains(s))
        .ok_or(HttpError::Malformed("no status code"))?;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse()
                    .map_err(|_| HttpError::Malformed("bad Content-Length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
        {
            chunked = true;
        }
    }
    // RFC 9112 §6.3: chunked wins over Content-Length.
    if chunked {
        return match dechunk(rest, max_body)? {
            Some(body) => Ok(Some(Response { status, body })),
            None if eof => Err(HttpError::Malformed("the chunked body is cut short")),
            None => Ok(None),
        };
    }
    if let Some(length) = length {
        if length > max_body {
            return Err(HttpError::TooLarge(max_body));
        }
        return match rest.get(..length) {
            Some(body) => Ok(Some(Response {
                status,
                body: body.to_vec(),
            })),
            None if eof => Err(HttpError::Malformed("the body is cut short")),
            None => Ok(None),
        };
    }
    if rest.len() > max_body {
        return Err(HttpError::TooLarge(max_body));
    }
    Ok(eof.then(|| Response {
        status,
        body: rest.to_vec(),
    }))
}

/// Decodes a chunked body (RFC 9112 §7.1): `None` while the last chunk has not arrived.
fn dechunk(mut data: &[u8], max_body: usize) -> Result<Option<Vec<u8>>, HttpError> {
    let mut body = Vec::new();
    loop {
        let Some(eol) = memchr::memmem::find(data, b"\r\n") else {
            return Ok(None);
        };
        let line = String::from_utf8_lossy(data.get(..eol).unwrap_or_default());
        // §7.1.1: chunk extensions after `;` are ignored.
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::Malformed("bad chunk size"))?;
        let after = data.get(eol + 2..).unwrap_or_default();
        if size == 0 {
            return Ok(Some(body));
        }
        if body.len().saturating_add(size) > max_body {
            return Err(HttpError::TooLarge(max_body));
        }
        let Some(chunk) = after.get(..size) else {
            return Ok(None);
        };
        body.extend_from_slice(chunk);
        match after.get(size..size + 2) {
            Some(b"\r\n") => data = after.get(size + 2..).unwrap_or_default(),
            Some(_) => return Err(HttpError::Malformed("a chunk does not end in CRLF")),
            None => return Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read() {
        let u = HttpUrl::parse("http://127.0.0.1:11333/checkv2").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 11333, "/checkv2")
        );
        let u = HttpUrl::parse("HTTP://sandbox.example").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/"));
        let u = HttpUrl::parse("http://[::1]:8080?x=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 8080, "/?x=1")
        );
        for bad in [
            "https://a",
            "http://",
            "http://a:b/",
            "http://u@a/",
            "ftp://a",
            "http://a/\r\n",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn header_values_cannot_break_the_request() {
        assert_eq!(header_value("a\r\nX-Evil: 1"), "a%0D%0AX-Evil: 1");
        assert_eq!(header_value("résumé.pdf"), "r%C3%A9sum%C3%A9.pdf");
    }

    #[test]
    fn answers_by_length_chunks_and_close() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, 10)
            .unwrap()
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", false, 10)
                .unwrap()
                .is_none()
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3;x=y\r\n!!!\r\n0\r\n\r\n";
        let r = parse_response(chunked, false, 10).unwrap().unwrap();
        assert_eq!(r.body, b"ok!!!");
        let r = parse_response(b"HTTP/1.0 404 Not Found\r\n\r\nnope", true, 10)
            .unwrap()
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (404, &b"nope"[..]));
    }

    #[test]
    fn oversized_or_broken_answers_are_errors() {
        assert!(matches!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", false, 10),
            Err(HttpError::TooLarge(10))
        ));
        assert!(parse_response(b"SMTP 220\r\n\r\n", false, 10).is_err());
        assert!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                false,
                10
            )
            .is_err()
        );
        assert!(matches!(
            parse_response(&vec![b'a'; MAX_HEAD + 1], false, 10),
            Err(HttpError::TooLarge(_))
        ));
    }

    mod hostile {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_answer_is_read_or_refused_without_panic(
                bytes in proptest::collection::vec(any::<u8>(), 0..2048),
                eof: bool,
            ) {
                let _ = parse_response(&bytes, eof, 512);
            }

            #[test]
            fn any_chunk_sizes_are_bounded(
                chunks in proptest::collection::vec(("[0-9a-fA-F]{1,20}", "[a-z\\r\\n]{0,40}"), 0..8),
                eof: bool,
            ) {
                let mut answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                for (size, data) in &chunks {
                    answer.extend_from_slice(format!("{size}\r\n{data}\r\n").as_bytes());
                }
                if let Ok(Some(r)) = parse_response(&answer, eof, 64) {
                    prop_assert!(r.body.len() <= 64);
                }
            }

            #[test]
            fn any_url_is_read_or_refused_without_panic(url in "\\PC{0,60}") {
                let _ = HttpUrl::parse(&url);
                let _ = HttpUrl::parse(&format!("http://{url}"));
            }
        }
    }
}
