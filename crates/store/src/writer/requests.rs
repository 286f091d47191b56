//! The requests the [`Store`] hands to its writer threads, each answered once its batch
//! is durable.

use super::{DeliverRequest, Op, QueuedBody};
use crate::error::StoreError;
use crate::handle::Store;
use crate::mailbox::Appended;
use crate::queue::{Envelope, SpoolTemp};
use std::sync::Arc;
use tokio::sync::oneshot;

impl Store {
    fn send(&self, op: Op) -> Result<(), StoreError> {
        let chan = match op {
            Op::Deliver { .. } => &self.dtx,
            _ => &self.tx,
        };
        let tx = match chan.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        tx.send(op).map_err(|_| StoreError::WriterGone)
    }

    /// Queues a message: the spool file and the row are durable when this returns `Ok`.
    pub async fn enqueue(&self, envelope: Envelope, body: Arc<Vec<u8>>) -> Result<(), StoreError> {
        self.enqueue_body(envelope, QueuedBody::Bytes(body)).await
    }

    /// Queues a message whose whole body (as stored, `Received:` included) is in `temp`,
    /// under `temp`'s queue ID: when this returns `Ok` the file is `spool/<queue-id>`, and
    /// it and the row are durable. The file is fsynced on a blocking thread first, so the
    /// batch's commit does not wait for a big file's data to reach the disk.
    pub async fn enqueue_spooled(
        &self,
        envelope: Envelope,
        temp: SpoolTemp,
    ) -> Result<(), StoreError> {
        if envelope.id != temp.queue_id() {
            return Err(StoreError::NoSuchQueueEntry(envelope.id));
        }
        let root = self.data_dir().root().to_path_buf();
        let synced = tokio::task::spawn_blocking(move || temp.sync().map(|()| temp))
            .await
            .map_err(|e| StoreError::io(root, std::io::Error::other(e.to_string())))??;
        self.enqueue_body(envelope, QueuedBody::Spooled(synced))
            .await
    }

    async fn enqueue_body(&self, envelope: Envelope, body: QueuedBody) -> Result<(), StoreError> {
        let (reply, rx) = oneshot::channel();
        self.send(Op::Enqueue {
            envelope: Box::new(envelope),
            body,
            reply,
        })?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Delivers into a Maildir folder and indexes it (UID, MODSEQ); idempotent per
    /// `(queue_id, rcpt_index, account)`.
    pub async fn deliver(&self, req: DeliverRequest) -> Result<Appended, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.send(Op::Deliver {
            req: Box::new(req),
            reply,
        })?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Rewrites a queue row (recipient states, next attempt).
    pub async fn update_queue(
        &self,
        envelope: Envelope,
        next_attempt: i64,
        attempts: u32,
    ) -> Result<(), StoreError> {
        let (reply, rx) = oneshot::channel();
        self.send(Op::Update {
            envelope: Box::new(envelope),
            next_attempt,
            attempts,
            reply,
        })?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Removes a queue row, then its spool file.
    pub async fn remove_queued(&self, id: &str) -> Result<(), StoreError> {
        let (reply, rx) = oneshot::channel();
        self.send(Op::Remove {
            id: id.to_string(),
            reply,
        })?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }
}
