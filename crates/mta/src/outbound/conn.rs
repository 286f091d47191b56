//! One connection to a remote SMTP server: plain TCP or TLS after STARTTLS (or from the
//! first byte for a smarthost on port 465), every read and write under a deadline, replies
//! read through [`super::reply::frame`] so a hostile server costs bounded memory.

use super::error::ClientError;
use super::reply::{self, Reply};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the connection runs over.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// TLS as it was negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1_3`.
    pub version: String,
    /// `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// The certificate chain was verified against the trusted roots for the host's name.
    pub verified: bool,
    /// The certificates the server presented, its own first (for `probe` and DANE).
    pub chain: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl std::fmt::Display for TlsInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}{}",
            self.version,
            self.cipher,
            if self.verified { " verified" } else { "" }
        )
    }
}

pub struct Connection {
    io: Box<dyn Io>,
    buf: Vec<u8>,
    pub peer: SocketAddr,
    /// The host name it was reached as (the MX name or the smarthost).
    pub host: String,
    pub tls: Option<TlsInfo>,
    /// Messages sent over it so far.
    pub messages: u32,
}

impl Connection {
    pub async fn connect(
        host: &str,
        peer: SocketAddr,
        timeout: Duration,
    ) -> Result<Connection, ClientError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(peer))
            .await
            .map_err(|_| ClientError::Timeout("connect"))?
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            io: Box::new(stream),
            buf: Vec::with_capacity(1024),
            peer,
            host: host.to_string(),
            tls: None,
            messages: 0,
        })
    }

    /// `host[ip]:port`, as Postfix names a relay.
    pub fn relay(&self) -> String {
        format!("{}[{}]:{}", self.host, self.peer.ip(), self.peer.port())
    }

    /// Reads the next whole reply (bytes included, for EHLO's capabilities).
    pub async fn read_raw(
        &mut self,
        timeout: Duration,
        stage: &'static str,
    ) -> Result<Vec<u8>, ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(n) = reply::frame(&self.buf)? {
                let rest = self.buf.split_off(n);
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            let mut chunk = [0u8; 4096];
            let read = tokio::time::timeout_at(deadline, self.io.read(&mut chunk))
                .await
                .map_err(|_| ClientError::Timeout(stage))?
                .map_err(|e| ClientError::Io(stage, e.to_string()))?;
            if read == 0 {
                return Err(ClientError::Closed(stage));
            }
            self.buf
                .extend_from_slice(chunk.get(..read).unwrap_or_default());
        }
    }

    pub async fn read_reply(
        &mut self,
        timeout: Duration,
        stage: &'static str,
    ) -> Result<Reply, ClientError> {
        let raw = self.read_raw(timeout, stage).await?;
        Ok(reply::parse(&raw)?)
    }

    pub async fn write(
        &mut self,
        bytes: &[u8],
        timeout: Duration,
        stage: &'static str,
    ) -> Result<(), ClientError> {
        tokio::time::timeout(timeout, async {
            self.io.write_all(bytes).await?;
            self.io.flush().await
        })
        .await
        .map_err(|_| ClientError::Timeout(stage))?
        .map_err(|e| ClientError::Io(stage, e.to_string()))
    }

    /// Writes a message body in blocks of 64 KiB, each under its own `timeout` (RFC 5321
    /// §4.5.3.2.5: the data block time-out is per write, so a large message on a slow link
    /// is not cut off while it moves).
    pub async fn write_blocks(
        &mut self,
        bytes: &[u8],
        timeout: Duration,
        stage: &'static str,
    ) -> Result<(), ClientError> {
        for block in bytes.chunks(64 * 1024) {
            tokio::time::timeout(timeout, self.io.write_all(block))
                .await
                .map_err(|_| ClientError::Timeout(stage))?
                .map_err(|e| ClientError::Io(stage, e.to_string()))?;
        }
        tokio::time::timeout(timeout, self.io.flush())
            .await
            .map_err(|_| ClientError::Timeout(stage))?
            .map_err(|e| ClientError::Io(stage, e.to_string()))
    }

    /// Bytes the server sent that no command asked for yet (RFC 2920 §3.1: nothing may
    /// follow the reply to STARTTLS before the handshake).
    pub fn has_unread(&self) -> bool {
        !self.buf.is_empty()
    }

    /// True when nothing from the server is waiting to be read: nothing left over after
    /// the last reply, and nothing on the socket (looked at without waiting). A server that
    /// said something unasked is out of step with the commands (RFC 5321 §4.2).
    pub async fn is_quiet(&mut self) -> bool {
        if self.has_unread() {
            return false;
        }
        let mut probe = [0u8; 512];
        match tokio::time::timeout(Duration::ZERO, self.io.read(&mut probe)).await {
            // Nothing there yet.
            Err(_) => true,
            // Bytes, the end of the stream or an error: not a connection to go on with.
            Ok(Ok(n)) => {
                self.buf
                    .extend_from_slice(probe.get(..n).unwrap_or_default());
                false
            }
            Ok(Err(_)) => false,
        }
    }

    /// Runs the TLS handshake over this connection (after `220` to STARTTLS, or at once
    /// for implicit TLS).
    pub async fn start_tls(
        self,
        tls: &super::tls::ClientTls,
        strict: bool,
        server_name: rustls::pki_types::ServerName<'static>,
        timeout: Duration,
    ) -> Result<Connection, ClientError> {
        let Connection {
            io,
            peer,
            host,
            messages,
            ..
        } = self;
        let connector = if strict { &tls.strict } else { &tls.lax };
        // A handshake that never ends is a failed handshake like any other, so the
        // opportunistic policy goes on in plaintext (RFC 7435 §3) instead of deferring.
        let stream = tokio::time::timeout(timeout, connector.connect(server_name.clone(), io))
            .await
            .map_err(|_| ClientError::Tls(format!("no handshake within {timeout:?}")))?
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        let (_, session) = stream.get_ref();
        let verified = strict
            || session
                .peer_certificates()
                .is_some_and(|chain| tls.would_verify(chain, &server_name));
        let info = TlsInfo {
            version: session
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default(),
            cipher: session
                .negotiated_cipher_suite()
                .map(|c| format!("{:?}", c.suite()))
                .unwrap_or_default(),
            verified,
            chain: session
                .peer_certificates()
                .map(<[_]>::to_vec)
                .unwrap_or_default(),
        };
        Ok(Connection {
            io: Box::new(stream),
            buf: Vec::with_capacity(1024),
            peer,
            host,
            tls: Some(info),
            messages,
        })
    }
}
