//! The spool side of the queue on the [`Store`] handle: reading a queued body back (from
//! its row or its spool file), starting the temporary spool file of a body too big for
//! memory, deleting an entry at once, and removing spool files left by transactions that
//! never committed.

use crate::error::StoreError;
use crate::handle::Store;
use crate::queue::SpoolTemp;
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

    /// Starts the temporary spool file of `queue_id`'s body (blocking I/O): the SMTP server
    /// appends a body too big for memory to it as it arrives, then queues it with
    /// [`Store::enqueue_spooled`]. Dropped unqueued, it deletes itself.
    pub fn spool_temp(&self, queue_id: &str) -> Result<SpoolTemp, StoreError> {
        SpoolTemp::create(&self.dir, queue_id)
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
    /// committed (the client got no `250`), so they go, and so do the temporary files of
    /// bodies that were being received (`spool/tmp`). Returns how many.
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
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if is_file && !known.contains(&name) && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        let tmp = self.dir.spool_tmp_dir();
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                if std::fs::remove_file(entry.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}
