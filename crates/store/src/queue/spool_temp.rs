//! A body being received that is too big to hold in memory (issue 12, item 8): the SMTP
//! server appends it to `<data>/spool/tmp/<queue-id>` as it arrives, and the queue writer
//! renames the file to `spool/<queue-id>` in the group commit that writes its queue row.
//!
//! DESIGN.md, "Durability": the file is fsynced, renamed and its directory fsynced before
//! the row is committed, and the `250` (RFC 5321 §4.1.1.4) follows the commit. A crash
//! before the commit leaves a temporary file (or an orphan spool file) that
//! [`crate::Store::recover`] deletes at start; the client got no `250`, so it sends again.
//!
//! All methods do blocking file I/O: async callers run them on a blocking thread.

use crate::error::StoreError;
use crate::layout::DataDir;
use std::fs::File;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

/// The temporary spool file of one message. Dropped before it was queued (the transaction
/// was aborted), it deletes itself.
#[derive(Debug)]
pub struct SpoolTemp {
    queue_id: String,
    path: PathBuf,
    file: File,
    len: u64,
    /// Still under its temporary name (deleted on drop).
    temporary: bool,
}

impl SpoolTemp {
    /// Creates `spool/tmp/<queue_id>`; the name must not exist yet.
    pub(crate) fn create(dir: &DataDir, queue_id: &str) -> Result<SpoolTemp, StoreError> {
        if !crate::ids::is_valid_id(queue_id) {
            return Err(StoreError::NoSuchQueueEntry(queue_id.to_string()));
        }
        let path = dir.spool_tmp_dir().join(queue_id);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        Ok(SpoolTemp {
            queue_id: queue_id.to_string(),
            path,
            file,
            len: 0,
            temporary: true,
        })
    }

    /// The queue ID the file will be published under.
    pub fn queue_id(&self) -> &str {
        &self.queue_id
    }

    /// Octets written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `bytes` (not synced: the commit does that).
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.file
            .write_all(bytes)
            .map_err(|e| StoreError::io(&self.path, e))?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// The whole file as written so far.
    pub fn read_all(&self) -> Result<Vec<u8>, StoreError> {
        std::fs::read(&self.path).map_err(|e| StoreError::io(&self.path, e))
    }

    /// Replaces the whole content with `parts`, one after the other (the SMTP server adds
    /// the results of its checks to a spooled message this way).
    pub fn rewrite(&mut self, parts: &[&[u8]]) -> Result<(), StoreError> {
        let io = |e| StoreError::io(&self.path, e);
        self.file.set_len(0).map_err(io)?;
        self.file.rewind().map_err(io)?;
        let mut len = 0;
        for part in parts {
            self.file.write_all(part).map_err(io)?;
            len += part.len() as u64;
        }
        self.len = len;
        Ok(())
    }

    /// fsyncs the data, so the commit's own fsync of the file has nothing left to write
    /// and does not hold up the other messages of its batch.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.file
            .sync_data()
            .map_err(|e| StoreError::io(&self.path, e))
    }

    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Renames the file to `dest` (in the same file system); from then on it is the spool
    /// file and no longer deleted on drop. The caller fsyncs `dest`'s directory.
    pub(crate) fn publish(&mut self, dest: &Path) -> Result<(), StoreError> {
        std::fs::rename(&self.path, dest).map_err(|e| StoreError::io(dest, e))?;
        self.temporary = false;
        Ok(())
    }
}

impl Drop for SpoolTemp {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unqueued_temporary_file_deletes_itself() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::new(tmp.path());
        dir.create().unwrap();
        let mut t = SpoolTemp::create(&dir, "Q1").unwrap();
        t.append(b"abc").unwrap();
        t.append(b"de").unwrap();
        assert_eq!((t.len(), t.queue_id()), (5, "Q1"));
        let path = dir.spool_tmp_dir().join("Q1");
        assert_eq!(std::fs::read(&path).unwrap(), b"abcde");
        assert!(SpoolTemp::create(&dir, "Q1").is_err(), "never reused");
        t.rewrite(&[b"x", b"y"]).unwrap();
        assert_eq!(t.read_all().unwrap(), b"xy");
        t.append(b"z").unwrap();
        assert_eq!((t.len(), t.read_all().unwrap()), (3, b"xyz".to_vec()));
        assert!(SpoolTemp::create(&dir, "../Q2").is_err());
        drop(t);
        assert!(!path.exists());
    }
}
