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
        let one = NewMessage {
            data,
            flags,
            internal_date,
        };
        let (uidvalidity, uids) = self.append_many(name, std::slice::from_ref(&one))?;
        let uid = uids.first().copied().ok_or(AccessError::Expunged)?;
        Ok((uidvalidity, uid))
    }

    /// RFC 3502 MULTIAPPEND: every message or none ("If the server is unable to append
    /// all messages ... none of the messages are appended", §6.3.11). The files are written
    /// and fsynced first, moved into `cur/`, then indexed in one transaction; a failure at
    /// any step removes the files already placed. Returns the UIDVALIDITY and the new
    /// UIDs in order (RFC 4315 §3 APPENDUID with a uid-set).
    pub fn append_many(
        &self,
        name: &str,
        msgs: &[NewMessage<'_>],
    ) -> Result<(u32, Vec<u32>), AccessError> {
        let folder = self.require(name)?;
        let mut parsed_flags = Vec::with_capacity(msgs.len());
        for m in msgs {
            let mut parsed = Flags::new();
            for f in m.flags {
                parsed.insert(f)?;
            }
            parsed_flags.push(parsed);
        }
        let dir = self.dir_of(&folder.name)?;
        let total: u64 = msgs.iter().map(|m| m.data.len() as u64).sum();
        self.check_quota(&self.store.mail_conn(), total)?;
        let mut written: Vec<(std::path::PathBuf, Message)> = Vec::with_capacity(msgs.len());
        for (m, flags) in msgs.iter().zip(parsed_flags) {
            let base = self.unique_name(m.data.len());
            let tmp = dir.join("tmp").join(&base);
            let res = std::fs::File::create(&tmp).and_then(|mut f| {
                f.write_all(m.data)?;
                f.sync_all()
            });
            if let Err(e) = res {
                let _ = std::fs::remove_file(&tmp);
                for (p, _) in &written {
                    let _ = std::fs::remove_file(p);
                }
                return Err(StoreError::io(&tmp, e).into());
            }
            let msg = Message {
                uid: 0,
                modseq: 0,
                flags,
                filename: base,
                size: m.data.len() as u64,
                internal_date: m.internal_date.unwrap_or_else(now),
                in_cur: true,
            };
            written.push((tmp, msg));
        }
        let uids = self.insert_files(&folder, &dir, written)?;
        Ok((folder.uidvalidity, uids))
    }

    /// Moves a written, fsynced file from `tmp` into `cur/` and indexes it.
    pub(super) fn insert_file(
        &self,
        folder: &Folder,
        dir: &Path,
        tmp: &Path,
        msg: Message,
    ) -> Result<(u32, u32), AccessError> {
        let uids = self.insert_files(folder, dir, vec![(tmp.to_path_buf(), msg)])?;
        let uid = uids.first().copied().ok_or(AccessError::Expunged)?;
        Ok((folder.uidvalidity, uid))
    }

    /// Moves written, fsynced files from `tmp` into `cur/` and indexes them in one
    /// transaction; returns their UIDs in order. On failure none stays: the files moved
    /// are removed again, so a client told NO does not find them later.
    fn insert_files(
        &self,
        folder: &Folder,
        dir: &Path,
        files: Vec<(std::path::PathBuf, Message)>,
    ) -> Result<Vec<u32>, AccessError> {
        let maildir = self.store.maildir_lock();
        let cur_before = mtime_ns(&dir.join("cur"));
        let new_before = mtime_ns(&dir.join("new"));
        let mut placed: Vec<std::path::PathBuf> = Vec::with_capacity(files.len());
        let remove_all = |placed: &[std::path::PathBuf],
                          files: &[(std::path::PathBuf, Message)]| {
            for p in placed {
                let _ = std::fs::remove_file(p);
            }
            for (tmp, _) in files {
                let _ = std::fs::remove_file(tmp);
            }
        };
        for (tmp, msg) in &files {
            let dest = expected_path(dir, msg);
            if let Err(e) = std::fs::rename(tmp, &dest) {
                remove_all(&placed, &files);
                return Err(StoreError::io(&dest, e).into());
            }
            placed.push(dest);
        }
        let (uids, modseq) = match self.index_files(folder, dir, &files, new_before, cur_before) {
            Ok(done) => done,
            Err(e) => {
                remove_all(&placed, &[]);
                return Err(e);
            }
        };
        drop(maildir);
        // The renames are made durable before the client hears OK, but outside the Maildir
        // lock, so other sessions' changes do not queue behind the disk. A crash before
        // this fsync loses nothing acknowledged: a row whose file did not survive is
        // removed when the index is reconciled with the Maildir, and the client was not
        // told OK. Should the fsync itself fail, the rows stay and the client hears NO.
        fsync_dir(&dir.join("cur"))?;
        self.announce(folder.id, modseq, ChangeKind::added());
        Ok(uids)
    }

    /// The index rows of files placed in `cur/`, in one transaction: (UIDs, last MODSEQ).
    fn index_files(
        &self,
        folder: &Folder,
        dir: &Path,
        files: &[(std::path::PathBuf, Message)],
        new_before: i64,
        cur_before: i64,
    ) -> Result<(Vec<u32>, u64), AccessError> {
        let _c = self.store.commit_lock();
        let mut conn = self.store.mail_conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut uids = Vec::with_capacity(files.len());
        let mut last_modseq = 0;
        let mut total = 0i64;
        for (_, msg) in files {
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
            uids.push(uid);
            last_modseq = modseq;
            total += msg.size as i64;
        }
        tx.prepare_cached("UPDATE accounts SET used = used + ?1 WHERE id = ?2")?
            .execute(params![total, self.account.id])?;
        keep_synced(&tx, folder.id, dir, new_before, cur_before)?;
        tx.commit()?;
        Ok((uids, last_modseq))
    }
}

/// One message of an APPEND (see [`MailAccess::append_many`]).
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    /// The octets, as they are to be stored.
    pub data: &'a [u8],
    /// IMAP flags (`\Seen`, keywords).
    pub flags: &'a [String],
    /// INTERNALDATE, seconds since the epoch; now when absent.
    pub internal_date: Option<i64>,
}
