//! STORE (RFC 9051 §6.4.6) with UNCHANGEDSINCE (RFC 7162 §3.1.3): the Maildir file is
//! renamed to carry the new flags, then the index row gets them with a new MODSEQ.

use super::messages::{MESSAGE_COLS, message_from_row};
use super::{AccessError, Folder, MailAccess, Message, expected_path, find_file, keep_synced};
use crate::change::{ChangeKind, MessageEvents};
use crate::error::StoreError;
use crate::flags::Flags;
use crate::mailbox::mtime_ns;
use rusqlite::{OptionalExtension, params};

/// How STORE combines flags (RFC 9051 §6.4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Add,
    Remove,
    Replace,
}

/// Result of a flag change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagChange {
    /// Messages whose flags changed, with the new MODSEQ and flags.
    pub updated: Vec<Message>,
    /// UIDs not changed because their MODSEQ was above UNCHANGEDSINCE (RFC 7162 §3.1.3).
    pub modified: Vec<u32>,
}

impl MailAccess {
    /// STORE (RFC 9051 §6.4.6) with UNCHANGEDSINCE (RFC 7162 §3.1.3). Flags are given in
    /// IMAP form; a bad one fails the whole command before anything changes.
    pub fn store_flags(
        &self,
        folder: &Folder,
        uids: &[u32],
        op: FlagOp,
        flags: &[String],
        unchanged_since: Option<u64>,
    ) -> Result<FlagChange, AccessError> {
        let mut given = Flags::new();
        for f in flags {
            given.insert(f)?;
        }
        let dir = self.dir_of(&folder.name)?;
        let _m = self.store.maildir_lock();
        let _c = self.store.commit_lock();
        let mut conn = self.store.mail_conn();
        let cur_before = mtime_ns(&dir.join("cur"));
        let new_before = mtime_ns(&dir.join("new"));
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut result = FlagChange::default();
        for &uid in uids {
            let Some(m) = tx
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLS} FROM messages WHERE mailbox_id = ?1 AND uid = ?2"
                ))?
                .query_row(params![folder.id, uid], message_from_row)
                .optional()?
            else {
                continue;
            };
            if unchanged_since.is_some_and(|u| m.modseq > u) {
                result.modified.push(uid);
                continue;
            }
            let mut next = match op {
                FlagOp::Replace => Flags::new(),
                _ => m.flags.clone(),
            };
            for f in given.iter() {
                match op {
                    FlagOp::Add | FlagOp::Replace => next.insert(f)?,
                    FlagOp::Remove => next.remove(f),
                }
            }
            if next == m.flags {
                continue;
            }
            // The file first: its name carries the Maildir flags.
            let from = expected_path(&dir, &m);
            let from = if from.is_file() {
                from
            } else {
                match find_file(&dir, &m.filename) {
                    Some(p) => p,
                    None => continue, // gone: the next reconciliation expunges it
                }
            };
            let mut moved = m.clone();
            moved.flags = next.clone();
            moved.in_cur = true;
            let to = expected_path(&dir, &moved);
            if from != to {
                std::fs::rename(&from, &to).map_err(|e| StoreError::io(&from, e))?;
            }
            let modseq = tx
                .prepare_cached(
                    "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ?1 RETURNING highestmodseq",
                )?
                .query_row([folder.id], |r| r.get::<_, i64>(0))?;
            tx.prepare_cached(
                "UPDATE messages SET flags = ?1, modseq = ?2, in_cur = 1 WHERE mailbox_id = ?3 AND uid = ?4",
            )?
            .execute(params![next.to_index(), modseq, folder.id, uid])?;
            moved.modseq = modseq as u64;
            result.updated.push(moved);
        }
        keep_synced(&tx, folder.id, &dir, new_before, cur_before)?;
        tx.commit()?;
        drop(conn);
        if let Some(last) = result.updated.last() {
            self.announce(
                folder.id,
                last.modseq,
                ChangeKind::Messages(MessageEvents::FLAGS),
            );
        }
        Ok(result)
    }
}
