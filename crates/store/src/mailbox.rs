//! Maildir mailboxes (Maildir++ folders as `.Name`) and their SQLite index: one
//! `mailboxes` row per folder (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ; RFC 3501 §2.3.1.1,
//! RFC 7162 §3.1) and one `messages` row per message (UID, MODSEQ, flags, file name).
//! Delivery assigns the UID and MODSEQ in the same commit that indexes the file.

use crate::error::StoreError;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Files in a Maildir's `tmp/` older than this are left-overs of an interrupted delivery:
/// the Maildir convention (maildir(5), Dovecot, Courier) deletes them after 36 hours.
pub const STALE_TMP_AGE: Duration = Duration::from_secs(36 * 3600);

/// Result of appending a message to a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub mailbox_id: i64,
    pub uid: u32,
    pub modseq: u64,
    /// Path of the file in `new/`.
    pub path: PathBuf,
    /// True when this delivery had already happened (idempotent retry): nothing written.
    pub duplicate: bool,
}

/// A folder's IMAP state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxIndex {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub highestmodseq: u64,
}

/// The directory of folder `name` inside a Maildir: `INBOX` is the Maildir itself,
/// others are Maildir++ directories (see [`crate::folder_name::to_disk`]). `None` for
/// names [`crate::folder_name::canonical`] refuses.
pub fn folder_dir(maildir: &Path, name: &str) -> Option<PathBuf> {
    let name = crate::folder_name::canonical(name).ok()?;
    if crate::folder_name::is_inbox(&name) {
        return Some(maildir.to_path_buf());
    }
    Some(maildir.join(crate::folder_name::to_disk(&name)))
}

/// A directory's modification time in nanoseconds since the epoch (0 when unreadable):
/// how reconciliation tells that another program changed a Maildir.
pub fn mtime_ns(dir: &Path) -> i64 {
    std::fs::metadata(dir)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
}

/// Creates `tmp/`, `new/`, `cur/` (and `maildirfolder` for Maildir++ subfolders).
pub fn ensure_maildir(dir: &Path, is_subfolder: bool) -> Result<(), StoreError> {
    for sub in ["tmp", "new", "cur"] {
        let p = dir.join(sub);
        std::fs::create_dir_all(&p).map_err(|e| StoreError::io(&p, e))?;
    }
    if is_subfolder {
        let marker = dir.join("maildirfolder");
        if !marker.exists() {
            std::fs::write(&marker, b"").map_err(|e| StoreError::io(&marker, e))?;
        }
    }
    Ok(())
}

/// A UIDVALIDITY for a new mailbox row: the time in seconds, but never one this process
/// handed out before, so a folder deleted and re-created (or an index rebuilt) within the
/// same second still gets a new value (RFC 9051 §2.3.1.1: UIDs of a re-created mailbox
/// must not be taken for the old ones).
fn next_uidvalidity(now: i64) -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = now.rem_euclid(i64::from(u32::MAX)).max(1);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = if now > last { now } else { last + 1 };
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next.min(i64::from(u32::MAX)),
            Err(seen) => last = seen,
        }
    }
}

/// The mailbox row for `(account, name)`, created with a fresh UIDVALIDITY when missing.
pub fn get_or_create(
    conn: &Connection,
    account_id: i64,
    name: &str,
    now: i64,
) -> Result<MailboxIndex, StoreError> {
    if let Some(m) = get(conn, account_id, name)? {
        return Ok(m);
    }
    conn.execute(
        "INSERT OR IGNORE INTO mailboxes (account_id, name, uidvalidity) VALUES (?1, ?2, ?3)",
        params![account_id, name, next_uidvalidity(now)],
    )?;
    get(conn, account_id, name)?.ok_or(StoreError::NoSuchAccount(account_id.to_string()))
}

pub fn get(
    conn: &Connection,
    account_id: i64,
    name: &str,
) -> Result<Option<MailboxIndex>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, account_id, name, uidvalidity, uidnext, highestmodseq FROM mailboxes WHERE account_id = ?1 AND name = ?2",
        )?
        .query_row(params![account_id, name], |r| {
            Ok(MailboxIndex {
                id: r.get(0)?,
                account_id: r.get(1)?,
                name: r.get(2)?,
                uidvalidity: r.get::<_, i64>(3)? as u32,
                uidnext: r.get::<_, i64>(4)? as u32,
                highestmodseq: r.get::<_, i64>(5)? as u64,
            })
        })
        .optional()?)
}

/// Takes the next UID and MODSEQ of a mailbox (inside the caller's transaction).
pub fn allocate_uid(conn: &Connection, mailbox_id: i64) -> Result<(u32, u64), StoreError> {
    let (uid, modseq): (i64, i64) = conn
        .prepare_cached(
            "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1 WHERE id = ?1 RETURNING uidnext - 1, highestmodseq",
        )?
        .query_row([mailbox_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok((uid as u32, modseq as u64))
}

/// One message of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedMessage {
    pub uid: u32,
    pub modseq: u64,
    /// IMAP flags, space-separated (`\\Seen \\Flagged`).
    pub flags: String,
    /// Maildir base name (without `:2,` info).
    pub filename: String,
    pub size: u64,
}

/// Messages of a mailbox in UID order.
pub fn messages(conn: &Connection, mailbox_id: i64) -> Result<Vec<IndexedMessage>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT uid, modseq, flags, filename, size FROM messages WHERE mailbox_id = ?1 ORDER BY uid",
    )?;
    let rows = stmt.query_map([mailbox_id], |r| {
        Ok(IndexedMessage {
            uid: r.get::<_, i64>(0)? as u32,
            modseq: r.get::<_, i64>(1)? as u64,
            flags: r.get(2)?,
            filename: r.get(3)?,
            size: r.get::<_, i64>(4)? as u64,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A Maildir file name that is the same every time the same delivery is attempted, so a
/// retry after a crash finds the file it wrote (delivery is idempotent):
/// `<arrival>.M<queue-id>R<rcpt>A<account>.<host>,S=<size>`.
pub fn delivery_filename(
    arrival: i64,
    queue_id: &str,
    rcpt_index: usize,
    account_id: i64,
    host: &str,
    size: usize,
) -> String {
    let host: String = host
        .chars()
        .map(|c| match c {
            '/' => '\\',
            ':' => '-',
            c => c,
        })
        .collect();
    format!("{arrival}.M{queue_id}R{rcpt_index}A{account_id}.{host},S={size}")
}

/// Removes files older than `max_age` (by modification time, compared with `now`) from
/// the `tmp/` of every Maildir and Maildir++ folder under `mail_root`
/// (`<data>/mail/<domain>/<user>/Maildir[/.Folder]/tmp`). Returns how many went.
/// Unreadable directories and files that vanish meanwhile are skipped: this is
/// housekeeping, never a reason not to start.
pub fn clean_stale_tmp(mail_root: &Path, max_age: Duration, now: SystemTime) -> usize {
    let subdirs = |p: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(p)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut removed = 0;
    for domain in subdirs(mail_root) {
        for user in subdirs(&domain) {
            let maildir = user.join("Maildir");
            let mut folders = vec![maildir.clone()];
            folders.extend(subdirs(&maildir).into_iter().filter(|d| {
                d.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            }));
            for folder in folders {
                removed += clean_tmp_dir(&folder.join("tmp"), max_age, now);
            }
        }
    }
    removed
}

fn clean_tmp_dir(tmp: &Path, max_age: Duration, now: SystemTime) -> usize {
    let Ok(rd) = std::fs::read_dir(tmp) else {
        return 0;
    };
    let mut removed = 0;
    for entry in rd.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or(Duration::ZERO);
        if age > max_age && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_tmp_files_go_fresh_ones_and_new_stay() {
        let root = tempfile::tempdir().unwrap();
        let maildir = root.path().join("example.test/bob/Maildir");
        ensure_maildir(&maildir, false).unwrap();
        ensure_maildir(&maildir.join(".Archive"), true).unwrap();
        for p in ["tmp/old", "tmp/fresh", ".Archive/tmp/old", "new/delivered"] {
            std::fs::write(maildir.join(p), b"x").unwrap();
        }
        // Seen from 37 hours in the future, every file is stale except `fresh`, which we
        // pretend was written just now by looking from a moment that is not later than it.
        let later = SystemTime::now() + Duration::from_secs(37 * 3600);
        let fresh = std::fs::File::options()
            .write(true)
            .open(maildir.join("tmp/fresh"))
            .unwrap();
        fresh.set_modified(later).unwrap();
        assert_eq!(clean_stale_tmp(root.path(), STALE_TMP_AGE, later), 2);
        assert!(!maildir.join("tmp/old").exists());
        assert!(!maildir.join(".Archive/tmp/old").exists());
        assert!(maildir.join("tmp/fresh").exists());
        assert!(
            maildir.join("new/delivered").exists(),
            "new/ is never touched"
        );
        assert_eq!(
            clean_stale_tmp(root.path(), STALE_TMP_AGE, SystemTime::now()),
            0
        );
    }
}
