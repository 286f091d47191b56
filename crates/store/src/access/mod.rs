//! One account's mail, as the IMAP and POP3 servers see it: folders with their SPECIAL-USE
//! attributes (RFC 6154), messages with UIDs, flags and MODSEQs (RFC 9051, RFC 7162), and
//! every change that keeps the Maildir and the index in step.
//!
//! Each change takes the Store's Maildir lock, changes the files first and the index second
//! (a crash in between leaves files that [`crate::sync::reconcile`] turns back into a
//! consistent index: nothing is lost), commits, and announces a [`MailboxChange`] so other
//! sessions on the same folder learn of it. The calls block on disk and SQLite: async
//! servers run them on blocking threads.

mod append;
mod cache;
mod copy_move;
mod error;
mod expunge;
mod flags;
mod folders;
pub(crate) mod messages;
pub mod metadata;
mod quota;
pub mod urlauth_key;

pub use append::NewMessage;
pub use cache::CachedStructure;
pub use copy_move::Copied;
pub use error::AccessError;
pub use flags::{FlagChange, FlagOp};
pub use folders::{Folder, FolderStatus};
pub use messages::{Changes, Message};
pub use metadata::{MetadataChange, MetadataDepth, MetadataEntry};

use crate::change::ChangeKind;
use crate::directory::Account;
use crate::folder_name::{self, NameError};
use crate::handle::{MailboxChange, Store};
use crate::mailbox::{self, ensure_maildir, mtime_ns};
use rusqlite::params;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// The folders every account has, with their SPECIAL-USE attribute (RFC 6154 §2).
pub const DEFAULT_FOLDERS: [(&str, Option<&str>); 6] = [
    ("INBOX", None),
    ("Sent", Some("\\Sent")),
    ("Drafts", Some("\\Drafts")),
    ("Trash", Some("\\Trash")),
    ("Junk", Some("\\Junk")),
    ("Archive", Some("\\Archive")),
];

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
            // The folders every account starts with are subscribed when they are made (as
            // mox and Stalwart do: clients that show only subscribed folders find them);
            // what the user unsubscribes later stays unsubscribed.
            if mailbox::get(&conn, self.account.id, name)?.is_none() {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?1, ?2)",
                )?
                .execute(params![self.account.id, name])?;
            }
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

    fn announce(&self, mailbox_id: i64, highestmodseq: u64, kind: ChangeKind) {
        self.store.announce(MailboxChange {
            account_id: self.account.id,
            mailbox_id,
            highestmodseq,
            kind,
        });
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
