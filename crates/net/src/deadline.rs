//! Writes under a deadline: a client that stops reading must not hold a session (and its
//! memory) forever, so every write of every protocol has a time limit.

use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// How long closing a connection may take.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(5);

/// Writes all of `bytes` and flushes within `limit`; past it, the write fails with
/// `TimedOut` ("write timeout") and the session ends.
pub async fn write_within<S: AsyncWrite + Unpin>(
    io: &mut S,
    bytes: &[u8],
    limit: Duration,
) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    let write = async {
        io.write_all(bytes).await?;
        io.flush().await
    };
    tokio::time::timeout(limit, write)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "write timeout"))?
}

/// Closes the write side, giving up after a few seconds.
pub async fn shutdown<S: AsyncWrite + Unpin>(io: &mut S) {
    let _ = tokio::time::timeout(SHUTDOWN_LIMIT, io.shutdown()).await;
}
