//! The byte stream to the remote server, plain or TLS, read line by line and in counted
//! chunks. Every read has a size limit and a timeout, and the whole session a deadline, so
//! a server that trickles bytes cannot hold a poller forever.

use super::error::FetchError;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;

/// A connection before or after TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A buffered reader and writer over `S` with per-read timeouts and a session deadline.
pub struct Wire<S> {
    stream: S,
    buf: Vec<u8>,
    start: usize,
    timeout: Duration,
    deadline: Instant,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    /// Each read waits at most `timeout`; nothing is read after `deadline`.
    pub fn new(stream: S, timeout: Duration, deadline: Instant) -> Wire<S> {
        Wire {
            stream,
            buf: Vec::new(),
            start: 0,
            timeout,
            deadline,
        }
    }

    fn buffered(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or(&[])
    }

    fn wait(&self) -> Duration {
        self.timeout
            .min(self.deadline.saturating_duration_since(Instant::now()))
    }

    /// Reads more bytes into the buffer.
    async fn fill(&mut self) -> Result<(), FetchError> {
        if self.start > 0 {
            self.buf.drain(..self.start.min(self.buf.len()));
            self.start = 0;
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = tokio::time::timeout(self.wait(), self.stream.read(&mut chunk))
            .await
            .map_err(|_| FetchError::Timeout)??;
        if n == 0 {
            return Err(FetchError::Closed);
        }
        self.buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        Ok(())
    }

    /// One line without its CRLF (a bare LF ends a line too); longer than `max` is an error.
    pub async fn read_line(&mut self, max: usize) -> Result<Vec<u8>, FetchError> {
        loop {
            let pending = self.buffered();
            if let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                if pos > max {
                    return Err(FetchError::LineTooLong(max));
                }
                let mut line = pending.get(..pos).unwrap_or(&[]).to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.start += pos + 1;
                return Ok(line);
            }
            if pending.len() > max {
                return Err(FetchError::LineTooLong(max));
            }
            self.fill().await?;
        }
    }

    /// Exactly `n` bytes (an IMAP literal; the caller checked `n` against its limit).
    pub async fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, FetchError> {
        let mut out = Vec::with_capacity(n.min(1 << 20));
        while out.len() < n {
            if self.buffered().is_empty() {
                self.fill().await?;
            }
            let pending = self.buffered();
            let take = pending.len().min(n - out.len());
            out.extend_from_slice(pending.get(..take).unwrap_or(&[]));
            self.start += take;
        }
        Ok(out)
    }

    /// Sends `data` and flushes it.
    pub async fn send(&mut self, data: &[u8]) -> Result<(), FetchError> {
        tokio::time::timeout(self.wait(), async {
            self.stream.write_all(data).await?;
            self.stream.flush().await
        })
        .await
        .map_err(|_| FetchError::Timeout)??;
        Ok(())
    }

    /// The stream back, for the TLS handshake after STARTTLS/STLS. Bytes the server sent
    /// after its answer would be read as if they came over TLS (a command injection, RFC
    /// 2595 §2.2 / RFC 9051 §6.2.1): they are an error.
    pub fn into_stream(self) -> Result<S, FetchError> {
        if !self.buffered().is_empty() {
            return Err(FetchError::Protocol(
                "data after the answer to STARTTLS/STLS".into(),
            ));
        }
        Ok(self.stream)
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(input: &[u8]) -> Wire<tokio::io::DuplexStream> {
        let (a, mut b) = tokio::io::duplex(1 << 16);
        let data = input.to_vec();
        tokio::spawn(async move {
            let _ = b.write_all(&data).await;
            // keep the peer open a little so reads see data, then close
            tokio::time::sleep(Duration::from_millis(50)).await;
        });
        Wire::new(
            a,
            Duration::from_secs(2),
            Instant::now() + Duration::from_secs(5),
        )
    }

    #[tokio::test]
    async fn lines_end_at_crlf_or_lf() {
        let mut w = wire(b"+OK hi\r\nsecond\nthird\r\n");
        assert_eq!(w.read_line(100).await.unwrap(), b"+OK hi");
        assert_eq!(w.read_line(100).await.unwrap(), b"second");
        assert_eq!(w.read_line(100).await.unwrap(), b"third");
        assert!(matches!(w.read_line(100).await, Err(FetchError::Closed)));
    }

    #[tokio::test]
    async fn a_line_past_the_limit_is_an_error() {
        let mut w = wire(&[b'a'; 500]);
        assert!(matches!(
            w.read_line(100).await,
            Err(FetchError::LineTooLong(100))
        ));
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let (a, _b) = tokio::io::duplex(64);
        let mut w = Wire::new(
            a,
            Duration::from_millis(50),
            Instant::now() + Duration::from_secs(5),
        );
        assert!(matches!(w.read_line(100).await, Err(FetchError::Timeout)));
    }

    #[tokio::test]
    async fn bytes_after_the_starttls_answer_are_refused() {
        let mut w = wire(b"+OK go ahead\r\nINJECTED\r\n");
        w.read_line(100).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(w.into_stream().is_err());
    }
}
