//! The indexer: one background thread that keeps the full-text index in step with the
//! mail index. At start it visits every mailbox (building what is missing, dropping what
//! belongs to mailboxes that are gone); then every committed change a mailbox announces
//! (delivery, APPEND, COPY/MOVE, expunge) brings that mailbox up to date: new messages
//! are read, their text extracted and added, expunged ones removed.
//!
//! It runs beside delivery and never in its way: it reads the main database on its own
//! connection and writes only `fulltext.db`; a message is searchable (by the scan of the
//! not yet indexed tail) the moment it is committed, whatever the indexer's backlog.

use super::write::Document;
use super::{Extractor, FullText};
use crate::access::messages::{MESSAGE_COLS, message_from_row, read_in};
use crate::error::StoreError;
use crate::handle::{MailboxChange, Store};
use crate::mailbox;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::collections::BTreeSet;
use std::sync::{Arc, Weak};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

/// Messages read and added per index transaction.
const BATCH: usize = 256;
/// How long the indexer gathers announcements after the first: under a stream of
/// deliveries it indexes a few times a second in full batches, rather than a handful of
/// messages per delivery commit (each index transaction writes a segment that FTS5 merges
/// later). Searches are exact meanwhile: the not yet indexed tail is scanned.
const GATHER: std::time::Duration = std::time::Duration::from_millis(500);

/// Starts the indexer thread. It holds the store weakly and ends when the store is gone.
pub(crate) fn spawn(
    store: &Arc<Store>,
    index: Arc<FullText>,
    extract: Extractor,
) -> Result<(), StoreError> {
    let conn = Connection::open_with_flags(
        store.data_dir().db_path(),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let changes = store.subscribe_changes();
    let store = Arc::downgrade(store);
    std::thread::Builder::new()
        .name("fulltext-indexer".into())
        .spawn(move || {
            lower_priority();
            let indexer = Indexer {
                store,
                conn,
                index,
                extract,
            };
            indexer.run(changes);
        })
        .map_err(|e| StoreError::io("fulltext-indexer thread", e))?;
    Ok(())
}

/// The indexer yields the processor to everything else (nice 19): on a busy server it fills
/// the gaps, so IMAP commands and delivery keep their speed while it catches up.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // setpriority(2) on a thread id sets that thread's nice value on Linux.
        let tid = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(tid), 19) {
            tracing::debug!(error = %e, "full-text indexer: cannot lower its priority");
        }
    }
}

struct Indexer {
    store: Weak<Store>,
    conn: Connection,
    index: Arc<FullText>,
    extract: Extractor,
}

impl Indexer {
    fn run(&self, mut changes: tokio::sync::broadcast::Receiver<MailboxChange>) {
        let mut todo = self.everything();
        loop {
            while let Some(id) = todo.pop_first() {
                let Some(store) = self.store.upgrade() else {
                    return;
                };
                if let Err(e) = self.catch_up(&store, id) {
                    tracing::warn!(mailbox_id = id, error = %e, "full-text indexing failed");
                }
            }
            match changes.blocking_recv() {
                Ok(c) => {
                    todo.insert(c.mailbox_id);
                }
                Err(RecvError::Lagged(_)) => todo = self.everything(),
                Err(RecvError::Closed) => return,
            }
            std::thread::sleep(GATHER);
            loop {
                match changes.try_recv() {
                    Ok(c) => {
                        todo.insert(c.mailbox_id);
                    }
                    Err(TryRecvError::Lagged(_)) => todo = self.everything(),
                    Err(TryRecvError::Closed) => return,
                    Err(TryRecvError::Empty) => break,
                }
            }
        }
    }

    /// Every mailbox of the mail index and every mailbox the full-text index still has.
    fn everything(&self) -> BTreeSet<i64> {
        let mut all: BTreeSet<i64> = self
            .index
            .mailboxes()
            .unwrap_or_default()
            .into_iter()
            .collect();
        if let Ok(mut stmt) = self.conn.prepare("SELECT id FROM mailboxes")
            && let Ok(rows) = stmt.query_map([], |r| r.get::<_, i64>(0))
        {
            all.extend(rows.flatten());
        }
        all
    }

    /// Brings one mailbox's entries up to date.
    fn catch_up(&self, store: &Store, mailbox_id: i64) -> Result<(), StoreError> {
        let found: Option<(String, u32, String, String)> = self
            .conn
            .prepare_cached(
                "SELECT m.name, m.uidvalidity, a.domain, a.local FROM mailboxes m JOIN accounts a ON a.id = m.account_id WHERE m.id = ?1",
            )?
            .query_row([mailbox_id], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u32, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((name, uidvalidity, domain, local)) = found else {
            return self.index.forget_mailbox(mailbox_id);
        };
        let Some(dir) = mailbox::folder_dir(&store.data_dir().maildir(&domain, &local), &name)
        else {
            return Ok(());
        };
        let mut through = match self.index.progress(mailbox_id)? {
            Some((v, t)) if v == uidvalidity => t,
            Some(_) => {
                self.index.forget_mailbox(mailbox_id)?;
                0
            }
            None => {
                // An empty mailbox is indexed too: searches then know there is no tail.
                self.index.add(mailbox_id, uidvalidity, &[], 0)?;
                0
            }
        };
        loop {
            let batch = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLS} FROM messages WHERE mailbox_id = ?1 AND uid > ?2 ORDER BY uid LIMIT {BATCH}"
                ))?
                .query_map(params![mailbox_id, i64::from(through)], message_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            let Some(last) = batch.last() else {
                break;
            };
            let last = last.uid;
            let docs: Vec<Document> = batch
                .iter()
                .map(|m| Document {
                    uid: m.uid,
                    text: read_in(&dir, m).ok().and_then(|raw| (self.extract)(&raw)),
                })
                .collect();
            self.index.add(mailbox_id, uidvalidity, &docs, last)?;
            through = last;
            if self.store.strong_count() == 0 {
                return Ok(());
            }
        }
        self.drop_expunged(mailbox_id, through)
    }

    /// Removes the entries of messages no longer in the mailbox. Every live message up to
    /// `through` has an entry, so more entries than live messages means some went.
    fn drop_expunged(&self, mailbox_id: i64, through: u32) -> Result<(), StoreError> {
        let live: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM messages WHERE mailbox_id = ?1 AND uid <= ?2")?
            .query_row(params![mailbox_id, i64::from(through)], |r| r.get(0))?;
        if self.index.indexed_count(mailbox_id)? <= live.max(0) as u64 {
            return Ok(());
        }
        let present: BTreeSet<u32> = self
            .conn
            .prepare_cached("SELECT uid FROM messages WHERE mailbox_id = ?1 AND uid <= ?2")?
            .query_map(params![mailbox_id, i64::from(through)], |r| {
                r.get::<_, i64>(0).map(|u| u as u32)
            })?
            .collect::<Result<_, _>>()?;
        let gone: Vec<u32> = self
            .index
            .indexed_uids(mailbox_id)?
            .into_iter()
            .filter(|u| !present.contains(u))
            .collect();
        self.index.remove(mailbox_id, &gone)
    }
}
