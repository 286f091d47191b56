//! The index's writes, each in one transaction with the progress row it advances, so a
//! crash leaves the index at a consistent point the indexer goes on from.

use super::{FullText, MAX_INDEXED_TEXT, doc_id, grams, id_range};
use crate::error::StoreError;
use crate::handle::lock;
use rusqlite::params;

/// One message for the index: its UID and its extracted text (`None`: could not be read
/// or decoded, so always a candidate).
#[derive(Debug, Clone)]
pub struct Document {
    pub uid: u32,
    pub text: Option<String>,
}

impl FullText {
    /// Adds `docs` (ascending UIDs above the mailbox's progress) and moves its progress to
    /// `through_uid`. A UIDVALIDITY other than the recorded one empties the mailbox's
    /// entries first (RFC 9051 §2.3.1.1: its UIDs name other messages now).
    pub fn add(
        &self,
        mailbox_id: i64,
        uidvalidity: u32,
        docs: &[Document],
        through_uid: u32,
    ) -> Result<(), StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction()?;
        let recorded: Option<i64> = {
            use rusqlite::OptionalExtension;
            tx.prepare_cached("SELECT uidvalidity FROM progress WHERE mailbox_id = ?1")?
                .query_row([mailbox_id], |r| r.get(0))
                .optional()?
        };
        if recorded.is_some_and(|v| v != i64::from(uidvalidity)) {
            forget_range(&tx, mailbox_id)?;
        }
        {
            let mut put_text =
                tx.prepare_cached("INSERT INTO grams (rowid, body) VALUES (?1, ?2)")?;
            let mut put_doc =
                tx.prepare_cached("INSERT OR REPLACE INTO docs (id, complete) VALUES (?1, ?2)")?;
            for d in docs {
                let id = doc_id(mailbox_id, d.uid);
                let text = d
                    .text
                    .as_deref()
                    .map(grams::normalize)
                    .filter(|t| t.len() <= MAX_INDEXED_TEXT);
                match text {
                    Some(t) => {
                        put_text.execute(params![id, t])?;
                        put_doc.execute(params![id, 1])?;
                    }
                    None => {
                        put_doc.execute(params![id, 0])?;
                    }
                }
            }
        }
        tx.prepare_cached(
            "INSERT OR REPLACE INTO progress (mailbox_id, uidvalidity, through_uid) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![mailbox_id, i64::from(uidvalidity), i64::from(through_uid)])?;
        tx.commit()?;
        Ok(())
    }

    /// The indexed UIDs of a mailbox, ascending.
    pub fn indexed_uids(&self, mailbox_id: i64) -> Result<Vec<u32>, StoreError> {
        let conn = lock(&self.writer);
        let (lo, hi) = id_range(mailbox_id);
        let rows = conn
            .prepare_cached("SELECT id FROM docs WHERE id BETWEEN ?1 AND ?2 ORDER BY id")?
            .query_map(params![lo, hi], |r| r.get::<_, i64>(0))?
            .map(|r| r.map(|id| (id - lo) as u32))
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// How many messages of a mailbox are indexed.
    pub fn indexed_count(&self, mailbox_id: i64) -> Result<u64, StoreError> {
        let conn = lock(&self.writer);
        let (lo, hi) = id_range(mailbox_id);
        let n: i64 = conn
            .prepare_cached("SELECT count(*) FROM docs WHERE id BETWEEN ?1 AND ?2")?
            .query_row(params![lo, hi], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// Drops the entries of expunged messages.
    pub fn remove(&self, mailbox_id: i64, uids: &[u32]) -> Result<(), StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction()?;
        {
            let mut complete = tx.prepare_cached("SELECT complete FROM docs WHERE id = ?1")?;
            let mut del_text = tx.prepare_cached("DELETE FROM grams WHERE rowid = ?1")?;
            let mut del_doc = tx.prepare_cached("DELETE FROM docs WHERE id = ?1")?;
            for &uid in uids {
                let id = doc_id(mailbox_id, uid);
                let whole: Option<i64> = {
                    use rusqlite::OptionalExtension;
                    complete.query_row([id], |r| r.get(0)).optional()?
                };
                if whole == Some(1) {
                    del_text.execute([id])?;
                }
                del_doc.execute([id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Drops a whole mailbox (deleted, or its UIDVALIDITY changed).
    pub fn forget_mailbox(&self, mailbox_id: i64) -> Result<(), StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction()?;
        forget_range(&tx, mailbox_id)?;
        tx.commit()?;
        Ok(())
    }

    /// The mailboxes with progress recorded.
    pub fn mailboxes(&self) -> Result<Vec<i64>, StoreError> {
        let conn = lock(&self.writer);
        let rows = conn
            .prepare_cached("SELECT mailbox_id FROM progress")?
            .query_map([], |r| r.get::<_, i64>(0))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

fn forget_range(tx: &rusqlite::Transaction<'_>, mailbox_id: i64) -> Result<(), StoreError> {
    let (lo, hi) = id_range(mailbox_id);
    let ids: Vec<i64> = tx
        .prepare_cached("SELECT id FROM docs WHERE id BETWEEN ?1 AND ?2 AND complete = 1")?
        .query_map(params![lo, hi], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut del_text = tx.prepare_cached("DELETE FROM grams WHERE rowid = ?1")?;
    for id in ids {
        del_text.execute([id])?;
    }
    tx.prepare_cached("DELETE FROM docs WHERE id BETWEEN ?1 AND ?2")?
        .execute(params![lo, hi])?;
    tx.prepare_cached("DELETE FROM progress WHERE mailbox_id = ?1")?
        .execute([mailbox_id])?;
    Ok(())
}
