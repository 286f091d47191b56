//! Reading a folder's messages: index rows by UID, keywords, changes since a MODSEQ
//! (RFC 7162), and the message files themselves.

use super::{AccessError, Folder, MailAccess, expected_path, find_file};
use crate::error::StoreError;
use crate::flags::Flags;
use rusqlite::{OptionalExtension, params};
use std::path::PathBuf;

/// One message of a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub uid: u32,
    pub modseq: u64,
    pub flags: Flags,
    /// Maildir base name (without `:2,` info).
    pub filename: String,
    pub size: u64,
    /// INTERNALDATE, seconds since the epoch.
    pub internal_date: i64,
    /// The file is in `cur/` (with info) rather than `new/`.
    pub in_cur: bool,
}

/// What changed in a folder since a MODSEQ.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub highestmodseq: u64,
    /// Messages added or changed (MODSEQ above the one asked for), in UID order.
    pub changed: Vec<Message>,
    /// UIDs expunged since, ascending.
    pub expunged: Vec<u32>,
}

pub(crate) const MESSAGE_COLS: &str = "uid, modseq, flags, filename, size, internal_date, in_cur";

pub(crate) fn message_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        uid: r.get::<_, i64>(0)? as u32,
        modseq: r.get::<_, i64>(1)? as u64,
        flags: Flags::from_index(&r.get::<_, String>(2)?),
        filename: r.get(3)?,
        size: r.get::<_, i64>(4)?.max(0) as u64,
        internal_date: r.get(5)?,
        in_cur: r.get::<_, i64>(6)? != 0,
    })
}

impl MailAccess {
    /// The messages of a folder in UID order.
    pub fn messages(&self, folder_id: i64) -> Result<Vec<Message>, AccessError> {
        let conn = self.store.mail_conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE mailbox_id = ?1 ORDER BY uid"
        ))?;
        let rows = stmt.query_map([folder_id], message_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The UIDs of a folder, ascending (read from the primary key alone).
    pub fn uids(&self, folder_id: i64) -> Result<Vec<u32>, AccessError> {
        let conn = self.store.mail_conn();
        let mut stmt =
            conn.prepare_cached("SELECT uid FROM messages WHERE mailbox_id = ?1 ORDER BY uid")?;
        let rows = stmt.query_map([folder_id], |r| r.get::<_, i64>(0))?;
        rows.map(|r| r.map(|u| u as u32))
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    /// The keywords (non-system flags) in use in a folder, in first-seen order.
    pub fn keywords(&self, folder_id: i64) -> Result<Vec<String>, AccessError> {
        let conn = self.store.mail_conn();
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT flags FROM messages WHERE mailbox_id = ?1 AND flags <> ''",
        )?;
        let rows = stmt.query_map([folder_id], |r| r.get::<_, String>(0))?;
        let mut out: Vec<String> = Vec::new();
        for f in rows {
            for k in Flags::from_index(&f?).keywords() {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
        Ok(out)
    }

    /// The messages among `uids` (any order, duplicates allowed) that exist, in UID order.
    /// A few UIDs are looked up one by one on the primary key; many are read as one UID
    /// range `min..=max` and filtered, so FETCH of one message in a large folder does not
    /// read every row.
    pub fn messages_by_uid(
        &self,
        folder_id: i64,
        uids: &[u32],
    ) -> Result<Vec<Message>, AccessError> {
        let mut want = uids.to_vec();
        want.sort_unstable();
        want.dedup();
        let (Some(&lo), Some(&hi)) = (want.first(), want.last()) else {
            return Ok(Vec::new());
        };
        let conn = self.store.mail_conn();
        let mut out = Vec::with_capacity(want.len());
        if want.len() <= 64 {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLS} FROM messages WHERE mailbox_id = ?1 AND uid = ?2"
            ))?;
            for &uid in &want {
                if let Some(m) = stmt
                    .query_row(params![folder_id, uid], message_from_row)
                    .optional()?
                {
                    out.push(m);
                }
            }
        } else {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLS} FROM messages WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid"
            ))?;
            let dense = (hi - lo) as usize + 1 == want.len();
            let rows = stmt.query_map(params![folder_id, lo, hi], message_from_row)?;
            for m in rows {
                let m = m?;
                if dense || want.binary_search(&m.uid).is_ok() {
                    out.push(m);
                }
            }
        }
        Ok(out)
    }

    /// One message by UID, if it exists.
    pub fn message_by_uid(&self, folder_id: i64, uid: u32) -> Result<Option<Message>, AccessError> {
        Ok(self.messages_by_uid(folder_id, &[uid])?.pop())
    }

    /// Messages changed and UIDs expunged since `modseq` (CONDSTORE/QRESYNC, RFC 7162).
    pub fn changes_since(&self, folder_id: i64, modseq: u64) -> Result<Changes, AccessError> {
        let conn = self.store.mail_conn();
        let highestmodseq: i64 = conn.query_row(
            "SELECT highestmodseq FROM mailboxes WHERE id = ?1",
            [folder_id],
            |r| r.get(0),
        )?;
        let changed = {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLS} FROM messages WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid"
            ))?;
            let rows = stmt.query_map(params![folder_id, modseq as i64], message_from_row)?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let expunged = {
            let mut stmt = conn.prepare_cached(
                "SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid",
            )?;
            let rows = stmt.query_map(params![folder_id, modseq as i64], |r| r.get::<_, i64>(0))?;
            rows.map(|r| r.map(|u| u as u32))
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(Changes {
            highestmodseq: highestmodseq as u64,
            changed,
            expunged,
        })
    }

    /// The path of a message's file, following renames by other programs.
    pub fn path_of(&self, folder: &Folder, m: &Message) -> Result<PathBuf, AccessError> {
        let dir = self.dir_of(&folder.name)?;
        let p = expected_path(&dir, m);
        if p.is_file() {
            return Ok(p);
        }
        find_file(&dir, &m.filename).ok_or(AccessError::Expunged)
    }

    /// A message's bytes.
    ///
    /// The file is opened where the index says it is, without a `stat` first (a FETCH of
    /// many uncached messages reads every file); only when it is not there is it looked for.
    pub fn read(&self, folder: &Folder, m: &Message) -> Result<Vec<u8>, AccessError> {
        read_in(&self.dir_of(&folder.name)?, m)
    }
}

/// A message's bytes from its folder's directory: where the index says, else looked for
/// (another program renamed it).
pub(crate) fn read_in(dir: &std::path::Path, m: &Message) -> Result<Vec<u8>, AccessError> {
    let expected = expected_path(dir, m);
    match std::fs::read(&expected) {
        Ok(bytes) => return Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(AccessError::Store(StoreError::io(expected, e))),
    }
    let p = find_file(dir, &m.filename).ok_or(AccessError::Expunged)?;
    std::fs::read(&p).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => AccessError::Expunged,
        _ => AccessError::Store(StoreError::io(p, e)),
    })
}
