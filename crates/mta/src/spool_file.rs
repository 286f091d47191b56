//! The server's side of a body too big for memory ([`crate::session::Action::Spool`]):
//! the message's temporary spool file from the store, written on blocking threads so the
//! async runtime never waits for the disk.
//!
//! The `Received:` header (RFC 5321 §4.4) is the file's first line, so the queue ID and
//! time stamp it names are chosen when the spool file starts (the body's first octets past
//! the threshold), as Postfix stamps a message when its data starts; the message is queued
//! under that ID. A transaction that ends any other way (RSET, a new EHLO or MAIL, a size
//! or policy refusal, a failed write, a disconnect) drops its [`SpoolFile`], which deletes
//! the file.

use mailward_store::{QueueStore, SpoolTemp, StoreError};
use std::sync::Arc;

/// The spool file of the transaction in progress.
#[derive(Debug)]
pub struct SpoolFile {
    /// `None` only while a blocking thread writes it.
    temp: Option<SpoolTemp>,
    /// The queue ID its `Received:` names.
    pub queue_id: String,
    /// Arrival (the start of the spool file), milliseconds since the epoch.
    pub arrival_ms: i64,
}

/// Why a spool file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("spool writer task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("no spool file for this message")]
    Missing,
}

/// Runs a blocking write of `temp` on a blocking thread.
async fn blocking<F>(temp: SpoolTemp, write: F) -> Result<SpoolTemp, SpoolError>
where
    F: FnOnce(&mut SpoolTemp) -> Result<(), StoreError> + Send + 'static,
{
    let (temp, done) = tokio::task::spawn_blocking(move || {
        let mut temp = temp;
        let done = write(&mut temp);
        (temp, done)
    })
    .await?;
    done?;
    Ok(temp)
}

impl SpoolFile {
    /// Starts `queue_id`'s spool file with `received` (the `Received:` header) and `bytes`.
    pub async fn start<B: QueueStore>(
        store: &Arc<B>,
        queue_id: String,
        arrival_ms: i64,
        received: String,
        bytes: Vec<u8>,
    ) -> Result<SpoolFile, SpoolError> {
        let store = store.clone();
        let id = queue_id.clone();
        let temp = tokio::task::spawn_blocking(move || -> Result<SpoolTemp, StoreError> {
            let mut temp = store.spool_temp(&id)?;
            temp.append(received.as_bytes())?;
            temp.append(&bytes)?;
            Ok(temp)
        })
        .await??;
        Ok(SpoolFile {
            temp: Some(temp),
            queue_id,
            arrival_ms,
        })
    }

    /// Appends the body's next octets.
    pub async fn append(&mut self, bytes: Vec<u8>) -> Result<(), SpoolError> {
        let temp = self.temp.take().ok_or(SpoolError::Missing)?;
        self.temp = Some(blocking(temp, move |t| t.append(&bytes)).await?);
        Ok(())
    }

    /// Appends the last octets and hands the file over for queueing.
    pub async fn finish(mut self, tail: Vec<u8>) -> Result<SpoolTemp, SpoolError> {
        let temp = self.temp.take().ok_or(SpoolError::Missing)?;
        if tail.is_empty() {
            return Ok(temp);
        }
        blocking(temp, move |t| t.append(&tail)).await
    }
}

impl Drop for SpoolFile {
    /// An unqueued file is deleted on a blocking thread (unlinking a big file takes a
    /// while), or here when no runtime is left.
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn_blocking(move || drop(temp));
                }
                Err(_) => drop(temp),
            }
        }
    }
}
