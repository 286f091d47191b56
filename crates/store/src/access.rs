//! One account's mail, as the IMAP and POP3 servers see it: folders with their SPECIAL-USE
//! attributes (RFC 6154), messages with UIDs, flags and MODSEQs (RFC 9051, RFC 7162), and
//! every change that keeps the Maildir and the index in step.
//!
//! Each change takes the Store's Maildir lock, changes the files first and the index second
//! (a crash in between leaves files that [`crate::sync::reconcile`] turns back into a
//! consistent index: nothing is lost), commits, and announces a [`MailboxChange`] so other
//! sessions on the same folder learn of it. The calls block on disk and SQLite: async
//! servers run them on blocking threads.

use crate::directory::Account;
use crate::error::StoreError;
use crate::flags::{FlagError, Flags, SystemFlag};
use crate::folder_name::{self, NameError};
use crate::handle::{MailboxChange, Store};
use crate::mailbox::{self, ensure_maildir, mtime_ns};
use crate::sync::{SyncReport, reconcile};
use rusqlite::{Connection, OptionalExtension, params};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The folders every account has, with their SPECIAL-USE attribute (RFC 6154 §2).
pub const DEFAULT_FOLDERS: [(&str, Option<&str>); 6] = [
    ("INBOX", None),
    ("Sent", Some("\\Sent")),
    ("Drafts", Some("\\Drafts")),
    ("Trash", Some("\\Trash")),
    ("Junk", Some("\\Junk")),
    ("Archive", Some("\\Archive")),
];

/// Errors of mailbox operations that a client caused (the server turns them into `NO`).
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("no such folder {0:?}")]
    NoSuchFolder(String),
    #[error("folder {0:?} already exists")]
    FolderExists(String),
    #[error("{0}")]
    BadName(#[from] NameError),
    #[error("{0}")]
    BadFlag(#[from] FlagError),
    #[error("folder {0:?} has subfolders; delete them first")]
    HasChildren(String),
    #[error("INBOX cannot be deleted")]
    InboxUndeletable,
    #[error("the message has been expunged")]
    Expunged,
    #[error("over quota ({used} + {size} > {quota} bytes)")]
    OverQuota { used: u64, size: u64, quota: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for AccessError {
    fn from(e: rusqlite::Error) -> Self {
        AccessError::Store(StoreError::Db(e))
    }
}

/// A folder of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub id: i64,
    /// Canonical IMAP name (UTF-8, `/` between levels).
    pub name: String,
    /// `\Sent`, `\Drafts`, `\Trash`, `\Junk`, `\Archive` (RFC 6154).
    pub special_use: Option<String>,
    pub subscribed: bool,
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub highestmodseq: u64,
}

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

/// Counts for STATUS (RFC 9051 §6.3.11) and LIST-STATUS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderStatus {
    pub messages: u32,
    pub unseen: u32,
    pub deleted: u32,
    pub size: u64,
    pub uidnext: u32,
    pub uidvalidity: u32,
    pub highestmodseq: u64,
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

/// A message's ENVELOPE and BODYSTRUCTURE as the IMAP server computed them (its wire
/// form), kept in the index so a second FETCH does not parse the file again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedStructure {
    pub uid: u32,
    pub envelope: Option<String>,
    pub bodystructure: Option<String>,
}

fn cached_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CachedStructure> {
    Ok(CachedStructure {
        uid: r.get::<_, i64>(0)? as u32,
        envelope: r.get(1)?,
        bodystructure: r.get(2)?,
    })
}

/// A copy's UIDs (for COPYUID, RFC 4315 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    pub uidvalidity: u32,
    /// (source UID, destination UID), in source UID order.
    pub uids: Vec<(u32, u32)>,
}

/// An account's mail, opened.
#[derive(Clone)]
pub struct MailAccess {
    store: Arc<Store>,
    account: Account,
    maildir: PathBuf,
}

static UNIQUE: AtomicU64 = AtomicU64::new(0);

impl std::fmt::Debug for MailAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailAccess")
            .field("account", &self.account.address)
            .finish()
    }
}

fn now() -> i64 {
    crate::ids::unix_now()
}

fn folder_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Folder> {
    Ok(Folder {
        id: r.get(0)?,
        name: r.get(1)?,
        special_use: r.get(2)?,
        subscribed: r.get::<_, i64>(3)? != 0,
        uidvalidity: r.get::<_, i64>(4)? as u32,
        uidnext: r.get::<_, i64>(5)? as u32,
        highestmodseq: r.get::<_, i64>(6)? as u64,
    })
}

const FOLDER_COLS: &str = "id, name, special_use, subscribed, uidvalidity, uidnext, highestmodseq";
const MESSAGE_COLS: &str = "uid, modseq, flags, filename, size, internal_date, in_cur";

fn message_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
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

/// The path of a message's file as the index says it is.
fn expected_path(folder_dir: &Path, m: &Message) -> PathBuf {
    if m.in_cur {
        folder_dir
            .join("cur")
            .join(format!("{}:2,{}", m.filename, m.flags.maildir_info()))
    } else {
        folder_dir.join("new").join(&m.filename)
    }
}

/// Stores computed ENVELOPE / BODYSTRUCTURE values in one transaction.
fn write_structures(
    conn: &mut rusqlite::Connection,
    folder_id: i64,
    entries: &[CachedStructure],
) -> Result<(), AccessError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut stmt = tx.prepare_cached(
            "UPDATE messages SET envelope = COALESCE(?1, envelope), bodystructure = COALESCE(?2, bodystructure) WHERE mailbox_id = ?3 AND uid = ?4",
        )?;
        for e in entries {
            stmt.execute(params![e.envelope, e.bodystructure, folder_id, e.uid])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Finds a message's file when it is not where the index says (another program renamed
/// it): `new/base` or `cur/base:2,*`.
fn find_file(folder_dir: &Path, base: &str) -> Option<PathBuf> {
    let p = folder_dir.join("new").join(base);
    if p.is_file() {
        return Some(p);
    }
    let prefix = format!("{base}:");
    std::fs::read_dir(folder_dir.join("cur"))
        .ok()?
        .flatten()
        .find(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            *n == *base || n.starts_with(&prefix)
        })
        .map(|e| e.path())
}

fn fsync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

impl MailAccess {
    /// Opens an account's mail, creating its Maildir and the default folders when missing.
    pub fn open(store: Arc<Store>, account: Account) -> Result<MailAccess, AccessError> {
        let maildir = store.data_dir().maildir(&account.domain, &account.local);
        let access = MailAccess {
            store,
            account,
            maildir,
        };
        access.ensure_defaults()?;
        Ok(access)
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    fn ensure_defaults(&self) -> Result<(), AccessError> {
        let conn = self.store.mail_conn();
        for (name, special) in DEFAULT_FOLDERS {
            let dir = self.dir_of(name)?;
            ensure_maildir(&dir, name != "INBOX")?;
            let mb = mailbox::get_or_create(&conn, self.account.id, name, now())?;
            if special.is_some() {
                conn.prepare_cached(
                    "UPDATE mailboxes SET special_use = ?1 WHERE id = ?2 AND special_use IS NULL",
                )?
                .execute(params![special, mb.id])?;
            }
        }
        Ok(())
    }

    fn dir_of(&self, name: &str) -> Result<PathBuf, AccessError> {
        let name = folder_name::canonical(name)?;
        mailbox::folder_dir(&self.maildir, &name).ok_or(AccessError::BadName(NameError::Empty))
    }

    fn announce(&self, mailbox_id: i64, highestmodseq: u64) {
        self.store.announce(MailboxChange {
            account_id: self.account.id,
            mailbox_id,
            highestmodseq,
        });
    }

    /// Every folder, in name order (INBOX first). Folders another program created on
    /// disk are adopted; rows whose directory vanished are dropped.
    pub fn folders(&self) -> Result<Vec<Folder>, AccessError> {
        let mut on_disk: Vec<String> = vec!["INBOX".to_string()];
        if let Ok(rd) = std::fs::read_dir(&self.maildir) {
            for e in rd.flatten() {
                if !e.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                if let Some(name) = e.file_name().to_str().and_then(folder_name::from_disk) {
                    on_disk.push(name);
                }
            }
        }
        let conn = self.store.mail_conn();
        let mut known = self.folder_rows(&conn)?;
        for name in &on_disk {
            if !known.iter().any(|f| &f.name == name) {
                mailbox::get_or_create(&conn, self.account.id, name, now())?;
            }
        }
        for f in &known {
            if !on_disk.contains(&f.name) {
                conn.execute("DELETE FROM mailboxes WHERE id = ?1", [f.id])?;
            }
        }
        known = self.folder_rows(&conn)?;
        known.sort_by(|a, b| {
            (!folder_name::is_inbox(&a.name), &a.name)
                .cmp(&(!folder_name::is_inbox(&b.name), &b.name))
        });
        Ok(known)
    }

    fn folder_rows(&self, conn: &Connection) -> Result<Vec<Folder>, AccessError> {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {FOLDER_COLS} FROM mailboxes WHERE account_id = ?1"
        ))?;
        let rows = stmt.query_map([self.account.id], folder_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The folder named `name` (any case for INBOX), if it exists.
    pub fn folder(&self, name: &str) -> Result<Option<Folder>, AccessError> {
        let name = folder_name::canonical(name)?;
        let conn = self.store.mail_conn();
        let found = conn
            .prepare_cached(&format!(
                "SELECT {FOLDER_COLS} FROM mailboxes WHERE account_id = ?1 AND name = ?2"
            ))?
            .query_row(params![self.account.id, name], folder_from_row)
            .optional()?;
        match found {
            Some(f) if self.dir_of(&f.name)?.join("cur").is_dir() => Ok(Some(f)),
            Some(f) => {
                conn.execute("DELETE FROM mailboxes WHERE id = ?1", [f.id])?;
                Ok(None)
            }
            None => {
                // Created on disk by another program?
                let dir = self.dir_of(&name)?;
                if folder_name::is_inbox(&name) || dir.join("cur").is_dir() {
                    let mb = mailbox::get_or_create(&conn, self.account.id, &name, now())?;
                    Ok(Some(self.folder_by_id(&conn, mb.id)?))
                } else {
                    Ok(None)
                }
            }
        }
    }

    fn folder_by_id(&self, conn: &Connection, id: i64) -> Result<Folder, AccessError> {
        Ok(conn
            .prepare_cached(&format!(
                "SELECT {FOLDER_COLS} FROM mailboxes WHERE id = ?1 AND account_id = ?2"
            ))?
            .query_row(params![id, self.account.id], folder_from_row)?)
    }

    fn require(&self, name: &str) -> Result<Folder, AccessError> {
        self.folder(name)?
            .ok_or_else(|| AccessError::NoSuchFolder(name.to_string()))
    }

    /// CREATE (RFC 9051 §6.3.4): the folder and any missing superior levels.
    pub fn create_folder(&self, name: &str) -> Result<Folder, AccessError> {
        let name = folder_name::canonical(name)?;
        if self.folder(&name)?.is_some() {
            return Err(AccessError::FolderExists(name));
        }
        let levels: Vec<&str> = name.split(folder_name::SEPARATOR).collect();
        for depth in 1..=levels.len() {
            let partial = levels[..depth].join("/");
            if folder_name::is_inbox(&partial) {
                continue;
            }
            let dir = self.dir_of(&partial)?;
            ensure_maildir(&dir, true)?;
            let conn = self.store.mail_conn();
            mailbox::get_or_create(&conn, self.account.id, &partial, now())?;
        }
        self.require(&name)
    }

    /// DELETE (RFC 9051 §6.3.5). A folder with subfolders is refused (its name would have to
    /// stay as `\Noselect`, which Maildir++ cannot express).
    pub fn delete_folder(&self, name: &str) -> Result<(), AccessError> {
        let name = folder_name::canonical(name)?;
        if folder_name::is_inbox(&name) {
            return Err(AccessError::InboxUndeletable);
        }
        let folder = self.require(&name)?;
        let prefix = format!("{name}/");
        if self.folders()?.iter().any(|f| f.name.starts_with(&prefix)) {
            return Err(AccessError::HasChildren(name));
        }
        let dir = self.dir_of(&name)?;
        let _m = self.store.maildir_lock();
        // Rename away first so the folder disappears at once, then remove the files.
        let doomed = self.maildir.join(format!(
            "..deleted.{}",
            UNIQUE.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::rename(&dir, &doomed).map_err(|e| StoreError::io(&dir, e))?;
        let _c = self.store.commit_lock();
        let conn = self.store.mail_conn();
        let size: i64 = conn.query_row(
            "SELECT COALESCE(SUM(size), 0) FROM messages WHERE mailbox_id = ?1",
            [folder.id],
            |r| r.get(0),
        )?;
        conn.execute("DELETE FROM messages WHERE mailbox_id = ?1", [folder.id])?;
        conn.execute("DELETE FROM mailboxes WHERE id = ?1", [folder.id])?;
        conn.execute(
            "UPDATE accounts SET used = MAX(0, used - ?1) WHERE id = ?2",
            params![size, self.account.id],
        )?;
        drop(conn);
        let _ = std::fs::remove_dir_all(&doomed);
        self.announce(folder.id, folder.highestmodseq);
        Ok(())
    }

    /// RENAME (RFC 9051 §6.3.6), subfolders included. Renaming INBOX moves its messages
    /// into the new folder and leaves INBOX empty.
    pub fn rename_folder(&self, from: &str, to: &str) -> Result<(), AccessError> {
        let from = folder_name::canonical(from)?;
        let to = folder_name::canonical(to)?;
        if self.folder(&to)?.is_some() {
            return Err(AccessError::FolderExists(to));
        }
        if folder_name::is_inbox(&from) {
            let inbox = self.require("INBOX")?;
            let target = self.create_folder(&to)?;
            let uids: Vec<u32> = self.messages(inbox.id)?.iter().map(|m| m.uid).collect();
            self.move_messages(&inbox, &uids, &target.name)?;
            return Ok(());
        }
        self.require(&from)?;
        // Superior levels of the new name.
        if let Some((parent, _)) = to.rsplit_once(folder_name::SEPARATOR)
            && self.folder(parent)?.is_none()
        {
            self.create_folder(parent)?;
        }
        let prefix = format!("{from}/");
        let mut moves: Vec<String> = self
            .folders()?
            .into_iter()
            .map(|f| f.name)
            .filter(|n| *n == from || n.starts_with(&prefix))
            .collect();
        moves.sort();
        let _m = self.store.maildir_lock();
        let _c = self.store.commit_lock();
        let conn = self.store.mail_conn();
        for old in moves {
            let new = format!("{to}{}", &old[from.len()..]);
            let (od, nd) = (self.dir_of(&old)?, self.dir_of(&new)?);
            std::fs::rename(&od, &nd).map_err(|e| StoreError::io(&od, e))?;
            conn.execute(
                "UPDATE mailboxes SET name = ?1 WHERE account_id = ?2 AND name = ?3",
                params![new, self.account.id, old],
            )?;
        }
        Ok(())
    }

    /// SUBSCRIBE / UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8).
    pub fn set_subscribed(&self, name: &str, on: bool) -> Result<(), AccessError> {
        let folder = self.require(name)?;
        self.store.mail_conn().execute(
            "UPDATE mailboxes SET subscribed = ?1 WHERE id = ?2",
            params![on, folder.id],
        )?;
        Ok(())
    }

    /// Reconciles a folder with its Maildir (see [`crate::sync`]); `force` rescans even
    /// when the directories look unchanged.
    pub fn sync(&self, folder: &Folder, force: bool) -> Result<SyncReport, AccessError> {
        let dir = self.dir_of(&folder.name)?;
        let _m = self.store.maildir_lock();
        let _c = self.store.commit_lock();
        let report = {
            let mut conn = self.store.mail_conn();
            reconcile(&mut conn, folder.id, self.account.id, &dir, force, now())?
        };
        if report.changed() {
            self.announce(folder.id, report.highestmodseq);
        }
        Ok(report)
    }

    /// SELECT / EXAMINE (RFC 9051 §6.3.2): reconciles, then the folder's state and its
    /// messages in UID order.
    pub fn select(&self, name: &str) -> Result<(Folder, Vec<Message>), AccessError> {
        let folder = self.require(name)?;
        self.sync(&folder, false)?;
        let conn = self.store.mail_conn();
        let folder = self.folder_by_id(&conn, folder.id)?;
        drop(conn);
        let messages = self.messages(folder.id)?;
        Ok((folder, messages))
    }

    /// The folder's current state (after changes by others).
    pub fn refresh(&self, folder_id: i64) -> Result<Folder, AccessError> {
        self.folder_by_id(&self.store.mail_conn(), folder_id)
    }

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
        let dir = self.dir_of(&folder.name)?;
        let expected = expected_path(&dir, m);
        match std::fs::read(&expected) {
            Ok(bytes) => return Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(AccessError::Store(StoreError::io(expected, e))),
        }
        let p = find_file(&dir, &m.filename).ok_or(AccessError::Expunged)?;
        std::fs::read(&p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => AccessError::Expunged,
            _ => AccessError::Store(StoreError::io(p, e)),
        })
    }

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
            self.announce(folder.id, last.modseq);
        }
        Ok(result)
    }

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
            self.announce(folder.id, last_modseq);
        }
        gone.sort_unstable();
        Ok(gone)
    }

    fn check_quota(&self, conn: &Connection, size: u64) -> Result<(), AccessError> {
        let (used, quota): (i64, Option<i64>) = conn.query_row(
            "SELECT used, quota FROM accounts WHERE id = ?1",
            [self.account.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if let Some(quota) = quota {
            let (used, quota) = (used.max(0) as u64, quota.max(0) as u64);
            if used + size > quota {
                return Err(AccessError::OverQuota { used, size, quota });
            }
        }
        Ok(())
    }

    /// (bytes used, quota) for QUOTA (RFC 9208).
    pub fn quota(&self) -> Result<(u64, Option<u64>), AccessError> {
        let (used, quota): (i64, Option<i64>) = self.store.mail_conn().query_row(
            "SELECT used, quota FROM accounts WHERE id = ?1",
            [self.account.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((used.max(0) as u64, quota.map(|q| q.max(0) as u64)))
    }

    fn unique_name(&self, size: usize) -> String {
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
    fn insert_file(
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
        self.announce(folder.id, modseq);
        Ok((folder.uidvalidity, uid))
    }

    /// COPY (RFC 9051 §6.4.7): the messages with `uids` (that still exist) into folder
    /// `to`, keeping flags and INTERNALDATE. Files are hard-linked when possible.
    pub fn copy(&self, from: &Folder, uids: &[u32], to: &str) -> Result<Copied, AccessError> {
        let target = self.require(to)?;
        let dst_dir = self.dir_of(&target.name)?;
        let set: std::collections::HashSet<u32> = uids.iter().copied().collect();
        let wanted: Vec<Message> = self
            .messages(from.id)?
            .into_iter()
            .filter(|m| set.contains(&m.uid))
            .collect();
        let total: u64 = wanted.iter().map(|m| m.size).sum();
        self.check_quota(&self.store.mail_conn(), total)?;
        let mut out = Copied {
            uidvalidity: target.uidvalidity,
            uids: Vec::with_capacity(wanted.len()),
        };
        for m in wanted {
            let src = match self.path_of(from, &m) {
                Ok(p) => p,
                Err(AccessError::Expunged) => continue,
                Err(e) => return Err(e),
            };
            let base = self.unique_name(m.size as usize);
            let tmp = dst_dir.join("tmp").join(&base);
            if std::fs::hard_link(&src, &tmp).is_err() {
                std::fs::copy(&src, &tmp).map_err(|e| StoreError::io(&src, e))?;
                std::fs::File::open(&tmp)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| StoreError::io(&tmp, e))?;
            }
            let copy = Message {
                filename: base,
                in_cur: true,
                ..m.clone()
            };
            let (_, uid) = self.insert_file(&target, &dst_dir, &tmp, copy)?;
            out.uids.push((m.uid, uid));
        }
        Ok(out)
    }

    /// MOVE (RFC 6851 §3.1): copy, then remove from the source.
    pub fn move_messages(
        &self,
        from: &Folder,
        uids: &[u32],
        to: &str,
    ) -> Result<Copied, AccessError> {
        let copied = self.copy(from, uids, to)?;
        let moved: Vec<Message> = self
            .messages(from.id)?
            .into_iter()
            .filter(|m| copied.uids.iter().any(|(s, _)| *s == m.uid))
            .collect();
        self.remove_messages(from, moved)?;
        Ok(copied)
    }

    /// The cached ENVELOPE and BODYSTRUCTURE (server's wire form) of the messages in
    /// `uids` that have them, in UID order.
    pub fn cached_structure(
        &self,
        folder_id: i64,
        uids: &[u32],
    ) -> Result<Vec<CachedStructure>, AccessError> {
        let conn = self.store.mail_conn();
        let mut out = Vec::with_capacity(uids.len());
        if uids.len() > 64 {
            // Many UIDs (FETCH 1:*): one scan of the folder beats one lookup per UID.
            let wanted: std::collections::HashSet<u32> = uids.iter().copied().collect();
            let lo = uids.iter().copied().min().unwrap_or(0);
            let hi = uids.iter().copied().max().unwrap_or(0);
            let mut stmt = conn.prepare_cached(
                "SELECT uid, envelope, bodystructure FROM messages WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 AND (envelope IS NOT NULL OR bodystructure IS NOT NULL) ORDER BY uid",
            )?;
            let rows = stmt.query_map(params![folder_id, lo, hi], cached_from_row)?;
            for row in rows {
                let row = row?;
                if wanted.contains(&row.uid) {
                    out.push(row);
                }
            }
        } else {
            let mut stmt = conn.prepare_cached(
                "SELECT uid, envelope, bodystructure FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
            )?;
            for &uid in uids {
                if let Some(row) = stmt
                    .query_row(params![folder_id, uid], cached_from_row)
                    .optional()?
                {
                    out.push(row);
                }
            }
        }
        Ok(out)
    }

    /// Remembers computed ENVELOPE / BODYSTRUCTURE values (a cache: losing it costs only
    /// time, so this commits without the Maildir lock).
    pub fn cache_structure(
        &self,
        folder_id: i64,
        entries: &[CachedStructure],
    ) -> Result<(), AccessError> {
        if entries.is_empty() {
            return Ok(());
        }
        let _c = self.store.commit_lock();
        let mut conn = self.store.mail_conn();
        // Without an fsync of its own: in WAL mode a `synchronous=NORMAL` commit can be lost
        // in a power cut but never corrupts the database, and the next durable commit
        // (delivery, flags) syncs it along. The connection is back to FULL before the lock
        // is released, whatever happened.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let written = write_structures(&mut conn, folder_id, entries);
        let restored = conn.pragma_update(None, "synchronous", "FULL");
        written?;
        restored?;
        Ok(())
    }

    /// STATUS counts (RFC 9051 §6.3.11).
    pub fn status(&self, name: &str) -> Result<FolderStatus, AccessError> {
        let folder = self.require(name)?;
        self.sync(&folder, false)?;
        let conn = self.store.mail_conn();
        let folder = self.folder_by_id(&conn, folder.id)?;
        let (messages, seen, deleted, size): (i64, i64, i64, i64) = conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(instr(flags, '\\Seen') > 0), 0), COALESCE(SUM(instr(flags, '\\Deleted') > 0), 0), COALESCE(SUM(size), 0) FROM messages WHERE mailbox_id = ?1",
            [folder.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        Ok(FolderStatus {
            messages: messages as u32,
            unseen: (messages - seen).max(0) as u32,
            deleted: deleted as u32,
            size: size.max(0) as u64,
            uidnext: folder.uidnext,
            uidvalidity: folder.uidvalidity,
            highestmodseq: folder.highestmodseq,
        })
    }
}

/// After a change of our own: a folder that was reconciled before it is reconciled after
/// it, so the directory times it recorded move with the change.
fn keep_synced(
    tx: &rusqlite::Transaction<'_>,
    folder_id: i64,
    dir: &Path,
    new_before: i64,
    cur_before: i64,
) -> Result<(), AccessError> {
    let (new_after, cur_after) = (mtime_ns(&dir.join("new")), mtime_ns(&dir.join("cur")));
    tx.prepare_cached(
        "UPDATE mailboxes SET synced_new = ?1, synced_cur = ?2 WHERE id = ?3 AND synced_new = ?4 AND synced_cur = ?5",
    )?
    .execute(params![new_after, cur_after, folder_id, new_before, cur_before])?;
    Ok(())
}
