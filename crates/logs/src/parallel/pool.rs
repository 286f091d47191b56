//! Memory the parsers reuse: emptied item vectors, shared by the threads that parse, so that a
//! chunk's vector is allocated once for the whole input rather than once per chunk.

use super::chunk::Item;
use std::sync::Mutex;

/// Emptied item vectors, kept from one segment to the next so that their memory is reused.
type Pool = Vec<Vec<Item<'static>>>;

/// Bytes of log per item, to size a new item vector (lines of ~120 bytes, most of them kept).
const ITEM_ESTIMATE: usize = 96;

/// Emptied item vectors, shared by the threads that parse.
pub(super) struct Spares {
    pool: Mutex<Pool>,
    /// Bytes per chunk, to size a new vector.
    chunk: usize,
}

impl Spares {
    /// A pool for chunks of about `chunk` bytes.
    pub(super) fn new(chunk: usize) -> Spares {
        Spares {
            pool: Mutex::new(Pool::new()),
            chunk,
        }
    }

    pub(super) fn take(&self) -> Vec<Item<'static>> {
        self.pool
            .lock()
            .ok()
            .and_then(|mut s| s.pop())
            .unwrap_or_else(|| Vec::with_capacity(self.chunk / ITEM_ESTIMATE))
    }

    pub(super) fn give(&self, v: Vec<Item<'static>>) {
        if let Ok(mut s) = self.pool.lock() {
            s.push(v);
        }
    }
}
