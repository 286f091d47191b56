//! The durable queue, as the SMTP server and the queue runner use it.

use crate::error::StoreError;
use crate::queue::{Envelope, QueueEntry};
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
