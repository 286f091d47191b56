//! The clamd conversation: `zINSTREAM` and `zPING` over TCP or a unix socket.
//!
//! clamd(8), "COMMANDS": `zINSTREAM\0`, then the data in chunks, each
//! `<length: u32 big-endian><bytes>`, ended by a zero-length chunk; clamd answers one
//! NUL-terminated line ([`super::reply`]) and closes. `zPING\0` is answered `PONG\0`.

use super::ClamdAddress;
use super::reply::{ScanReply, parse_reply};
use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

/// Bytes per INSTREAM chunk (clamd takes any size up to its `StreamMaxLength`).
const CHUNK: usize = 64 * 1024;
/// The longest reply read: clamd's are one short line.
const MAX_REPLY: u64 = 4096;

/// Why clamd gave no verdict.
#[derive(Debug, thiserror::Error)]
pub enum ClamdError {
    #[error("cannot connect to clamd at {address}: {source}")]
    Connect {
        address: String,
        #[source]
        source: io::Error,
    },
    #[error("clamd connection: {0}")]
    Io(#[from] io::Error),
    #[error("clamd did not answer within {0:?}")]
    Timeout(Duration),
    #[error("clamd answered {0:?}")]
    Unexpected(String),
    #[error("clamd closed the connection without an answer")]
    Closed,
}

/// Sends `data` with INSTREAM and reads the reply, all within `timeout`.
pub async fn instream(
    address: &ClamdAddress,
    data: &[u8],
    timeout: Duration,
) -> Result<ScanReply, ClamdError> {
    let talk = async {
        match address {
            ClamdAddress::Tcp(a) => {
                let s = TcpStream::connect(a.as_str())
                    .await
                    .map_err(|source| connect_error(address, source))?;
                // Chunks are written whole: no need to wait for acknowledgements.
                s.set_nodelay(true)?;
                send_stream(s, data).await
            }
            ClamdAddress::Unix(p) => {
                let s = UnixStream::connect(p)
                    .await
                    .map_err(|source| connect_error(address, source))?;
                send_stream(s, data).await
            }
        }
    };
    tokio::time::timeout(timeout, talk)
        .await
        .map_err(|_| ClamdError::Timeout(timeout))?
}

/// `zPING`: clamd is up and answering.
pub async fn ping(address: &ClamdAddress, timeout: Duration) -> Result<(), ClamdError> {
    let talk = async {
        let reply = match address {
            ClamdAddress::Tcp(a) => {
                let s = TcpStream::connect(a.as_str())
                    .await
                    .map_err(|source| connect_error(address, source))?;
                command(s, b"zPING\0").await?
            }
            ClamdAddress::Unix(p) => {
                let s = UnixStream::connect(p)
                    .await
                    .map_err(|source| connect_error(address, source))?;
                command(s, b"zPING\0").await?
            }
        };
        let line = reply_text(&reply);
        if line == "PONG" {
            Ok(())
        } else {
            Err(ClamdError::Unexpected(line))
        }
    };
    tokio::time::timeout(timeout, talk)
        .await
        .map_err(|_| ClamdError::Timeout(timeout))?
}

fn connect_error(address: &ClamdAddress, source: io::Error) -> ClamdError {
    ClamdError::Connect {
        address: address.to_string(),
        source,
    }
}

async fn send_stream<S: AsyncRead + AsyncWrite + Unpin>(
    s: S,
    data: &[u8],
) -> Result<ScanReply, ClamdError> {
    // clamd may answer before the stream ends (its StreamMaxLength reached) and close: the
    // reply is read while the data is still being written, so a write that fails after it
    // does not hide it.
    let (mut reader, mut writer) = tokio::io::split(s);
    let (sent, reply) = tokio::join!(write_chunks(&mut writer, data), read_reply(&mut reader));
    match (sent, reply) {
        (_, Ok(r)) if !r.is_empty() => Ok(parse_reply(&r)),
        (Err(e), _) => Err(ClamdError::Io(e)),
        (Ok(()), Err(e)) => Err(ClamdError::Io(e)),
        (Ok(()), Ok(_)) => Err(ClamdError::Closed),
    }
}

async fn write_chunks<S: AsyncWrite + Unpin>(s: &mut S, data: &[u8]) -> io::Result<()> {
    s.write_all(b"zINSTREAM\0").await?;
    for chunk in data.chunks(CHUNK) {
        // A chunk is at most CHUNK bytes, so its length fits in u32.
        let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
        s.write_all(&len.to_be_bytes()).await?;
        s.write_all(chunk).await?;
    }
    s.write_all(&0u32.to_be_bytes()).await?;
    s.flush().await
}

async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    command: &[u8],
) -> Result<Vec<u8>, ClamdError> {
    s.write_all(command).await?;
    s.flush().await?;
    Ok(read_reply(&mut s).await?)
}

/// Reads up to the NUL that ends a `z` reply, or to the end of the connection.
async fn read_reply<S: AsyncRead + Unpin>(s: &mut S) -> io::Result<Vec<u8>> {
    let mut reply = Vec::new();
    let mut limited = s.take(MAX_REPLY);
    let mut buf = [0u8; 512];
    loop {
        let n = limited.read(&mut buf).await?;
        let Some(read) = buf.get(..n) else { break };
        if read.is_empty() {
            break;
        }
        reply.extend_from_slice(read);
        if read.contains(&0) {
            break;
        }
    }
    Ok(reply)
}

fn reply_text(reply: &[u8]) -> String {
    let end = memchr::memchr(0, reply).unwrap_or(reply.len());
    String::from_utf8_lossy(reply.get(..end).unwrap_or(reply))
        .trim_end()
        .to_owned()
}
