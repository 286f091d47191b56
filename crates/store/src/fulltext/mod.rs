//! The full-text index behind IMAP SEARCH's content keys (RFC 9051 §6.4.4): a trigram
//! index (SQLite FTS5's `trigram` tokenizer over a contentless table) of the decoded,
//! case-folded text of every message, in its own database file (`fulltext.db`) beside the
//! main one, so that indexing never holds the locks delivery and IMAP commit under.
//!
//! The index only narrows: a message whose text holds a needle has every trigram of the
//! needle in its entry ([`grams`]), so the messages whose entries hold them all are a
//! superset of the matches, and the search then checks those candidates exactly. Messages
//! not yet indexed (the [`indexer`] follows deliveries, APPENDs and expunges in the
//! background) and messages that could not be indexed whole are always candidates, so an
//! answer never depends on how far the index has got. The file is a cache: when it is
//! missing, unreadable or of another format it is made anew and filled again.

pub mod grams;
pub mod indexer;
mod write;

use crate::error::StoreError;
use crate::handle::lock;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Turns a message's octets into the text its content keys search, case-folded (what the
/// IMAP server's search compares against); `None` when it cannot (the message is then
/// always a candidate). Supplied by the server that owns the search semantics.
pub type Extractor = Arc<dyn Fn(&[u8]) -> Option<String> + Send + Sync>;

/// The format of `fulltext.db`; a file of another format is rebuilt (raise it when the
/// extracted text or the gram rules change).
const FORMAT: i64 = 1;

/// The most text indexed for one message; a message with more is marked incomplete and is
/// always a candidate.
pub const MAX_INDEXED_TEXT: usize = 4 * 1024 * 1024;

const SCHEMA: &str = r#"
CREATE VIRTUAL TABLE IF NOT EXISTS grams USING fts5(
    body,
    tokenize = 'trigram case_sensitive 1',
    content = '',
    contentless_delete = 1,
    detail = none
);
-- one row per indexed message; id = mailbox id << 32 | uid
CREATE TABLE IF NOT EXISTS docs (
    id       INTEGER PRIMARY KEY,
    complete INTEGER NOT NULL
);
-- how far each mailbox is indexed: every message up to through_uid has its docs row
CREATE TABLE IF NOT EXISTS progress (
    mailbox_id  INTEGER PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    through_uid INTEGER NOT NULL
);
"#;

/// What the index says about one needle in one mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    /// Every message up to this UID is indexed; messages above it are not yet.
    pub through_uid: u32,
    /// The UIDs up to `through_uid` that may match, ascending: those whose entry holds
    /// every trigram of the needle, and those not indexed whole.
    pub uids: Vec<u32>,
}

impl Candidates {
    /// True when the message may match and must be checked.
    pub fn admits(&self, uid: u32) -> bool {
        uid > self.through_uid || self.uids.binary_search(&uid).is_ok()
    }
}

/// Connections to `fulltext.db`: one for the indexer's writes, a few for lookups.
pub struct FullText {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: [Mutex<Connection>; READERS],
}

const READERS: usize = 2;

impl std::fmt::Debug for FullText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FullText")
            .field("path", &self.path)
            .finish()
    }
}

/// The first and last document ids of a mailbox.
fn id_range(mailbox_id: i64) -> (i64, i64) {
    (mailbox_id << 32, (mailbox_id << 32) | 0xffff_ffff)
}

fn doc_id(mailbox_id: i64, uid: u32) -> i64 {
    (mailbox_id << 32) | i64::from(uid)
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // A cache: a crash may lose the last commits (WAL keeps each one whole), and the
    // indexer redoes them.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

fn open_checked(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    configure(&conn)?;
    let format: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name IN ('grams', 'docs', 'progress')",
        [],
        |r| r.get(0),
    )?;
    if tables == 0 && format == 0 {
        conn.execute_batch(SCHEMA)?;
        conn.pragma_update(None, "user_version", FORMAT)?;
    } else if format != FORMAT || tables != 3 {
        return Err(StoreError::Corrupt(format!(
            "{}: format {format}, expected {FORMAT}",
            path.display()
        )));
    }
    conn.query_row("SELECT count(*) FROM progress", [], |r| r.get::<_, i64>(0))?;
    Ok(conn)
}

fn remove_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

impl FullText {
    /// Opens `path`, making it anew when it is missing, damaged or of another format.
    pub fn open(path: &Path) -> Result<FullText, StoreError> {
        let writer = match open_checked(path) {
            Ok(c) => c,
            Err(_) => {
                remove_files(path);
                open_checked(path)?
            }
        };
        let reader = || -> Result<Mutex<Connection>, StoreError> {
            let c = Connection::open(path)?;
            c.busy_timeout(std::time::Duration::from_secs(10))?;
            Ok(Mutex::new(c))
        };
        Ok(FullText {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: [reader()?, reader()?],
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        for r in &self.readers {
            if let Ok(g) = r.try_lock() {
                return g;
            }
        }
        lock(&self.readers[0])
    }

    /// The candidates for `needle` (case-folded) in a mailbox, or `None` when the index
    /// cannot narrow: the needle is too short, or the mailbox (with this UIDVALIDITY) is
    /// not indexed at all yet.
    pub fn candidates(
        &self,
        mailbox_id: i64,
        uidvalidity: u32,
        needle: &str,
    ) -> Result<Option<Candidates>, StoreError> {
        let Some(g) = grams::of_needle(needle) else {
            return Ok(None);
        };
        let conn = self.reader();
        let tx = conn.unchecked_transaction()?;
        let through: Option<(i64, i64)> = tx
            .prepare_cached("SELECT uidvalidity, through_uid FROM progress WHERE mailbox_id = ?1")?
            .query_row([mailbox_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((v, through)) = through else {
            return Ok(None);
        };
        if v != i64::from(uidvalidity) || through <= 0 {
            return Ok(None);
        }
        let (lo, _) = id_range(mailbox_id);
        let hi = doc_id(mailbox_id, through as u32);
        let to_uid = |id: i64| (id - lo) as u32;
        let mut uids: Vec<u32> = tx
            .prepare_cached(
                "SELECT rowid FROM grams WHERE grams MATCH ?1 AND rowid BETWEEN ?2 AND ?3",
            )?
            .query_map(params![grams::match_expression(&g), lo, hi], |r| {
                r.get::<_, i64>(0)
            })?
            .map(|r| r.map(to_uid))
            .collect::<Result<_, _>>()?;
        let incomplete = tx
            .prepare_cached("SELECT id FROM docs WHERE id BETWEEN ?1 AND ?2 AND complete = 0")?
            .query_map(params![lo, hi], |r| r.get::<_, i64>(0))?
            .map(|r| r.map(to_uid))
            .collect::<Result<Vec<u32>, _>>()?;
        uids.extend(incomplete);
        uids.sort_unstable();
        uids.dedup();
        Ok(Some(Candidates {
            through_uid: through as u32,
            uids,
        }))
    }

    /// How far a mailbox is indexed: its UIDVALIDITY then and the highest UID covered.
    pub fn progress(&self, mailbox_id: i64) -> Result<Option<(u32, u32)>, StoreError> {
        let conn = lock(&self.writer);
        Ok(conn
            .prepare_cached("SELECT uidvalidity, through_uid FROM progress WHERE mailbox_id = ?1")?
            .query_row([mailbox_id], |r| {
                Ok((r.get::<_, i64>(0)? as u32, r.get::<_, i64>(1)? as u32))
            })
            .optional()?)
    }
}

#[cfg(test)]
mod tests;
