//! The spool side of the queue on the [`Store`] handle: reading a queued body back (from
//! its row or its spool file), deleting an entry at once, and removing spool files left
//! by transactions that never committed.

use crate::error::StoreError;
use crate::handle::Store;
use rusqlite::OptionalExtension;
use std::collections::HashSet;

impl Store {
    /// Reads a queued message's body: from its row when it is stored inline, else from
    /// its spool file.
    pub fn read_spool(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        let inline: Option<Vec<u8>> = {
            let conn = self.conn();
            conn.prepare_cached("SELECT body FROM queue WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?
                .flatten()
        };
        if let Some(body) = inline {
            return Ok(body);
        }
        if !crate::ids::is_valid_id(id) {
            return Err(StoreError::NoSuchQueueEntry(id.to_string()));
        }
        let p = self.dir.spool_file(id);
        std::fs::read(&p).map_err(|e| StoreError::io(p, e))
    }

    /// Removes a queue entry directly (CLI `queue delete`), returns false when absent.
    pub fn delete_queued_now(&self, id: &str) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute("DELETE FROM queue WHERE id = ?1", [id])?;
        if crate::ids::is_valid_id(id) {
            let _ = std::fs::remove_file(self.dir.spool_file(id));
        }
        Ok(n > 0)
    }

    /// At server start: spool files without a queue row are from a transaction that never
    /// committed (the client got no `250`), so they go. Returns how many.
    pub fn recover(&self) -> Result<usize, StoreError> {
        let spool = self.dir.spool_dir();
        let known: HashSet<String> = {
            let conn = self.conn();
            let mut stmt = conn.prepare("SELECT id FROM queue")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut removed = 0;
        let entries = std::fs::read_dir(&spool).map_err(|e| StoreError::io(&spool, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
