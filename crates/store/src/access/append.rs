//! APPEND (RFC 9051 §6.3.12): a new Maildir file, fsynced, moved into `cur/` and indexed;
//! also the insertion COPY uses.

use super::{AccessError, Folder, MailAccess, Message, UNIQUE, expected_path, keep_synced, now};
use crate::change::ChangeKind;
use crate::error::StoreError;
use crate::flags::Flags;
use crate::mailbox::{self, mtime_ns};
use rusqlite::params;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;

fn fsync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

impl MailAccess {
    pub(super) fn unique_name(&self, size: usize) -> String {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
        let host: String = self
            .store
            .host()
            .chars()
            .map(|c| match c {
                '/' => '\\',
                ':' => '-',
                c => c,
            })
            .collect();
        format!(
            "{}.M{}P{}Q{}.{host},S={size}",
            t.as_secs(),
            t.subsec_micros(),
            std::process::id(),
            n
        )
    }

    /// APPEND (RFC 9051 §6.3.12): durable (file and directory fsynced, row committed) when
    /// it returns. Returns (UIDVALIDITY, UID) for APPENDUID (RFC 4315 §3).
    pub fn append(
        &self,
        name: &str,
        data: &[u8],
        flags: &[String],
        internal_date: Option<i64>,
    ) -> Result<(u32, u32), AccessError> {
        let folder = self.require(name)?;
        let mut parsed = Flags::new();
        for f in flags {
            parsed.insert(f)?;
        }
        let dir = self.dir_of(&folder.name)?;
        self.check_quota(&self.store.mail_conn(), data.len() as u64)?;
        let base = self.unique_name(data.len());
        let tmp = dir.join("tmp").join(&base);
        {
            let mut f = std::fs::File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
            f.write_all(data)
                .and_then(|()| f.sync_all())
                .map_err(|e| StoreError::io(&tmp, e))?;
        }
        let msg = Message {
            uid: 0,
            modseq: 0,
            flags: parsed,
            filename: base,
            size: data.len() as u64,
            internal_date: internal_date.unwrap_or_else(now),
            in_cur: true,
        };
        self.insert_file(&folder, &dir, &tmp, msg)
    }

    /// Moves a written, fsynced file from `tmp` into `cur/` and indexes it.
    pub(super) fn insert_file(
        &self,
        folder: &Folder,
        dir: &Path,
        tmp: &Path,
        msg: Message,
    ) -> Result<(u32, u32), AccessError> {
        let _m = self.store.maildir_lock();
        let cur_before = mtime_ns(&dir.join("cur"));
        let new_before = mtime_ns(&dir.join("new"));
        let dest = expected_path(dir, &msg);
        if let Err(e) = std::fs::rename(tmp, &dest) {
            let _ = std::fs::remove_file(tmp);
            return Err(StoreError::io(&dest, e).into());
        }
        fsync_dir(&dir.join("cur"))?;
        let _c = self.store.commit_lock();
        let mut conn = self.store.mail_conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (uid, modseq) = mailbox::allocate_uid(&tx, folder.id)?;
        tx.prepare_cached(
            "INSERT INTO messages (mailbox_id, uid, modseq, flags, filename, size, internal_date, in_cur) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)",
        )?
        .execute(params![
            folder.id,
            uid,
            modseq as i64,
            msg.flags.to_index(),
            msg.filename,
            msg.size as i64,
            msg.internal_date
        ])?;
        tx.prepare_cached("UPDATE accounts SET used = used + ?1 WHERE id = ?2")?
            .execute(params![msg.size as i64, self.account.id])?;
        keep_synced(&tx, folder.id, dir, new_before, cur_before)?;
        tx.commit()?;
        drop(conn);
        self.announce(folder.id, modseq, ChangeKind::added());
        Ok((folder.uidvalidity, uid))
    }
}
