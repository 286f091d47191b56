//! EXPUNGE (RFC 9051 §6.4.3, RFC 4315 §2.1) and removal whatever the flags (POP3 QUIT,
//! MOVE's source side): files first, then the index rows, remembered for QRESYNC.

use super::{AccessError, Folder, MailAccess, Message, expected_path, find_file, keep_synced};
use crate::change::{ChangeKind, MessageEvents};
use crate::error::StoreError;
use crate::flags::SystemFlag;
use crate::mailbox::mtime_ns;
use rusqlite::{OptionalExtension, params};

impl MailAccess {
    /// EXPUNGE / UID EXPUNGE (RFC 9051 §6.4.3, RFC 4315 §2.1): removes the messages flagged
    /// `\Deleted` (only those among `only` when given). Returns the expunged UIDs.
    pub fn expunge(&self, folder: &Folder, only: Option<&[u32]>) -> Result<Vec<u32>, AccessError> {
        let doomed: Vec<Message> = self
            .messages(folder.id)?
            .into_iter()
            .filter(|m| m.flags.has(SystemFlag::Deleted))
            .filter(|m| only.is_none_or(|set| set.contains(&m.uid)))
            .collect();
        self.remove_messages(folder, doomed)
    }

    /// Removes messages whatever their flags (POP3 DELE + QUIT, MOVE's source side).
    pub fn remove_messages(
        &self,
        folder: &Folder,
        doomed: Vec<Message>,
    ) -> Result<Vec<u32>, AccessError> {
        if doomed.is_empty() {
            return Ok(Vec::new());
        }
        let dir = self.dir_of(&folder.name)?;
        let _m = self.store.maildir_lock();
        let _c = self.store.commit_lock();
        let mut conn = self.store.mail_conn();
        let cur_before = mtime_ns(&dir.join("cur"));
        let new_before = mtime_ns(&dir.join("new"));
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut gone = Vec::with_capacity(doomed.len());
        let mut freed: i64 = 0;
        let mut last_modseq = 0;
        for m in doomed {
            let exists: Option<i64> = tx
                .prepare_cached("SELECT size FROM messages WHERE mailbox_id = ?1 AND uid = ?2")?
                .query_row(params![folder.id, m.uid], |r| r.get(0))
                .optional()?;
            let Some(size) = exists else { continue };
            let path = expected_path(&dir, &m);
            let removed =
                std::fs::remove_file(&path).or_else(|_| match find_file(&dir, &m.filename) {
                    Some(p) => std::fs::remove_file(p),
                    None => Ok(()),
                });
            if let Err(e) = removed {
                return Err(StoreError::io(path, e).into());
            }
            let modseq = tx
                .prepare_cached(
                    "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ?1 RETURNING highestmodseq",
                )?
                .query_row([folder.id], |r| r.get::<_, i64>(0))?;
            tx.prepare_cached("DELETE FROM messages WHERE mailbox_id = ?1 AND uid = ?2")?
                .execute(params![folder.id, m.uid])?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![folder.id, m.uid, modseq])?;
            freed += size;
            last_modseq = modseq as u64;
            gone.push(m.uid);
        }
        tx.prepare_cached("UPDATE accounts SET used = MAX(0, used - ?1) WHERE id = ?2")?
            .execute(params![freed, self.account.id])?;
        keep_synced(&tx, folder.id, &dir, new_before, cur_before)?;
        tx.commit()?;
        drop(conn);
        if !gone.is_empty() {
            self.announce(
                folder.id,
                last_modseq,
                ChangeKind::Messages(MessageEvents::EXPUNGED),
            );
        }
        gone.sort_unstable();
        Ok(gone)
    }
}
