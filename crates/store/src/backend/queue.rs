//! The durable queue, as the SMTP server and the queue runner use it.

use crate::error::StoreError;
use crate::queue::{Envelope, QueueEntry, SpoolTemp};
use std::future::Future;
use std::sync::Arc;

/// Queue records and bodies. Writes are durable when their future resolves `Ok` (DESIGN.md,
/// "Durability": RFC 5321 §4.1.1.4, the `250` after DATA is a promise to deliver).
pub trait QueueStore: Send + Sync + 'static {
    /// Queues a message; record and body survive a crash once this resolves `Ok`.
    fn enqueue(
        &self,
        envelope: Envelope,
        body: Arc<Vec<u8>>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Starts the temporary file of a body too big to hold in memory, for the message that
    /// will be queued as `queue_id` (blocking I/O, like the appends to it: async callers use
    /// a blocking thread). Dropped without [`QueueStore::enqueue_spooled`], it is deleted.
    fn spool_temp(&self, queue_id: &str) -> Result<SpoolTemp, StoreError>;

    /// Queues a message whose whole body is in `temp` (under `temp`'s queue ID, which
    /// `envelope.id` must be); record and body survive a crash once this resolves `Ok`.
    fn enqueue_spooled(
        &self,
        envelope: Envelope,
        temp: SpoolTemp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Rewrites a record (recipient states, next attempt, attempts so far).
    fn update_queued(
        &self,
        envelope: Envelope,
        next_attempt: i64,
        attempts: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes a record and its body.
    fn remove_queued(&self, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records due at `now` (at most `limit`), earliest first.
    fn due(&self, now: i64, limit: usize) -> Result<Vec<QueueEntry>, StoreError>;

    /// Records due at `now` and those never attempted (at most `limit`).
    fn due_or_new(&self, now: i64, limit: usize) -> Result<Vec<QueueEntry>, StoreError>;

    /// One record as it is now.
    fn queued(&self, id: &str) -> Result<Option<QueueEntry>, StoreError>;

    /// A queued message's body.
    fn read_body(&self, id: &str) -> Result<Vec<u8>, StoreError>;
}
