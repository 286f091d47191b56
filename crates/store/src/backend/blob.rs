//! Message contents, apart from the index that numbers and flags them.

use crate::access::{AccessError, Folder, Message};

/// Reads the bytes of indexed messages (Maildir files here; objects in a blob store).
pub trait MessageBlobs: Send + Sync {
    /// The message's bytes; [`AccessError::Expunged`] when it is gone.
    fn read(&self, folder: &Folder, message: &Message) -> Result<Vec<u8>, AccessError>;
}
