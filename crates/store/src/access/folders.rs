//! Folders (RFC 9051 §6.3): listing with adoption of folders other programs made, CREATE,
//! DELETE, RENAME, SUBSCRIBE, reconciliation with the Maildir, SELECT and STATUS.

use super::{AccessError, MailAccess, Message, UNIQUE, now};
use crate::change::{ChangeKind, MessageEvents};
use crate::error::StoreError;
use crate::folder_name;
use crate::mailbox::{self, ensure_maildir};
use crate::sync::{SyncReport, reconcile};
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::atomic::Ordering;

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

/// Counts for STATUS (RFC 9051 §6.3.11) and LIST-STATUS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderStatus {
    pub messages: u32,
    /// Messages no session has seen yet (RFC 3501 §2.3.2 `\Recent`).
    pub recent: u32,
    pub unseen: u32,
    pub deleted: u32,
    pub size: u64,
    pub uidnext: u32,
    pub uidvalidity: u32,
    pub highestmodseq: u64,
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

const FOLDER_COLS: &str = "id, name, special_use, \
     EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = mailboxes.account_id AND s.name = mailboxes.name), \
     uidvalidity, uidnext, highestmodseq";

impl MailAccess {
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

    pub(super) fn require(&self, name: &str) -> Result<Folder, AccessError> {
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
            let existed = dir.join("cur").is_dir();
            ensure_maildir(&dir, true)?;
            let conn = self.store.mail_conn();
            let mb = mailbox::get_or_create(&conn, self.account.id, &partial, now())?;
            drop(conn);
            if !existed {
                self.announce(
                    mb.id,
                    0,
                    ChangeKind::Created {
                        name: partial.as_str().into(),
                    },
                );
            }
        }
        self.require(&name)
    }

    /// RFC 6154 §3 `CREATE name (USE (attribute))`: the folder carries the special-use
    /// attribute (`\Sent`, `\Archive`, ...).
    pub fn set_special_use(&self, name: &str, attribute: &str) -> Result<(), AccessError> {
        let folder = self.require(name)?;
        self.store.mail_conn().execute(
            "UPDATE mailboxes SET special_use = ?1 WHERE id = ?2",
            params![attribute, folder.id],
        )?;
        Ok(())
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
        self.announce(
            folder.id,
            folder.highestmodseq,
            ChangeKind::Deleted {
                name: folder.name.as_str().into(),
            },
        );
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
            self.copy_metadata(inbox.id, target.id)?;
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
        let mut renamed = Vec::with_capacity(moves.len());
        for old in moves {
            let new = format!("{to}{}", old.get(from.len()..).unwrap_or_default());
            let (od, nd) = (self.dir_of(&old)?, self.dir_of(&new)?);
            std::fs::rename(&od, &nd).map_err(|e| StoreError::io(&od, e))?;
            let id: Option<i64> = conn
                .prepare_cached(
                    "UPDATE mailboxes SET name = ?1 WHERE account_id = ?2 AND name = ?3 RETURNING id",
                )?
                .query_row(params![new, self.account.id, old], |r| r.get(0))
                .optional()?;
            renamed.push((id.unwrap_or(0), old, new));
        }
        drop(conn);
        for (id, old, new) in renamed {
            self.announce(
                id,
                0,
                ChangeKind::Renamed {
                    from: old.into(),
                    to: new.into(),
                },
            );
        }
        Ok(())
    }

    /// SUBSCRIBE / UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8). Subscriptions are names, apart
    /// from mailboxes: SUBSCRIBE needs the mailbox to exist (as Dovecot does), UNSUBSCRIBE
    /// of a name whose mailbox is gone succeeds, and DELETE or RENAME leave them alone.
    pub fn set_subscribed(&self, name: &str, on: bool) -> Result<(), AccessError> {
        let name = folder_name::canonical(name)?;
        if on {
            self.require(&name)?;
        }
        let sql = if on {
            "INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?1, ?2)"
        } else {
            "DELETE FROM subscriptions WHERE account_id = ?1 AND name = ?2"
        };
        let changed = self
            .store
            .mail_conn()
            .execute(sql, params![self.account.id, name])?;
        if changed > 0 {
            self.announce(
                0,
                0,
                ChangeKind::Subscription {
                    name: name.into(),
                    subscribed: on,
                },
            );
        }
        Ok(())
    }

    /// RFC 3501 §2.3.2 `\Recent`: claims for the calling session the messages of the folder
    /// below UID `below` that no session has claimed, and returns where its claim starts
    /// (the session's recent messages are the UIDs from there up to `below`; none when it
    /// returns `below` or more). One session wins each message, however many select at once.
    pub fn claim_recent(&self, folder_id: i64, below: u32) -> Result<u32, AccessError> {
        // Nothing to claim (the usual SELECT): no write lock taken.
        let first = self.first_recent(folder_id)?;
        if first >= below {
            return Ok(first);
        }
        let mut conn = self.store.mail_conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let first: i64 = tx.query_row(
            "SELECT first_recent_uid FROM mailboxes WHERE id = ?1 AND account_id = ?2",
            params![folder_id, self.account.id],
            |r| r.get(0),
        )?;
        if first < i64::from(below) {
            tx.execute(
                "UPDATE mailboxes SET first_recent_uid = ?1 WHERE id = ?2",
                params![below, folder_id],
            )?;
        }
        tx.commit()?;
        Ok(u32::try_from(first).unwrap_or(u32::MAX))
    }

    /// The UID of the folder's first message without `\Seen` (RFC 3501 §6.3.1 `UNSEEN`).
    pub fn first_unseen(&self, folder_id: i64) -> Result<Option<u32>, AccessError> {
        let uid: Option<i64> = self.store.mail_conn().query_row(
            "SELECT MIN(uid) FROM messages WHERE mailbox_id = ?1 AND instr(flags, '\\Seen') = 0",
            [folder_id],
            |r| r.get(0),
        )?;
        Ok(uid.and_then(|u| u32::try_from(u).ok()))
    }

    /// Where the folder's unclaimed (`\Recent`) messages start, without claiming them
    /// (EXAMINE, STATUS).
    pub fn first_recent(&self, folder_id: i64) -> Result<u32, AccessError> {
        let first: i64 = self.store.mail_conn().query_row(
            "SELECT first_recent_uid FROM mailboxes WHERE id = ?1 AND account_id = ?2",
            params![folder_id, self.account.id],
            |r| r.get(0),
        )?;
        Ok(u32::try_from(first).unwrap_or(u32::MAX))
    }

    /// Every subscribed name, in name order, whether its mailbox exists or not (LSUB, LIST
    /// (SUBSCRIBED): RFC 9051 §6.3.9).
    pub fn subscriptions(&self) -> Result<Vec<String>, AccessError> {
        let conn = self.store.mail_conn();
        let mut stmt = conn
            .prepare_cached("SELECT name FROM subscriptions WHERE account_id = ?1 ORDER BY name")?;
        let rows = stmt.query_map([self.account.id], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
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
            let events = MessageEvents {
                added: report.added > 0,
                expunged: report.removed > 0,
                flags: report.updated > 0,
            };
            self.announce(
                folder.id,
                report.highestmodseq,
                ChangeKind::Messages(events),
            );
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

    /// STATUS counts (RFC 9051 §6.3.11).
    pub fn status(&self, name: &str) -> Result<FolderStatus, AccessError> {
        let folder = self.require(name)?;
        self.sync(&folder, false)?;
        let conn = self.store.mail_conn();
        let folder = self.folder_by_id(&conn, folder.id)?;
        let (messages, seen, deleted, size, recent): (i64, i64, i64, i64, i64) = conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(instr(flags, '\\Seen') > 0), 0), COALESCE(SUM(instr(flags, '\\Deleted') > 0), 0), COALESCE(SUM(size), 0), \
             COALESCE(SUM(uid >= (SELECT first_recent_uid FROM mailboxes WHERE id = ?1)), 0) FROM messages WHERE mailbox_id = ?1",
            [folder.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        Ok(FolderStatus {
            messages: messages as u32,
            recent: recent.max(0) as u32,
            unseen: (messages - seen).max(0) as u32,
            deleted: deleted as u32,
            size: size.max(0) as u64,
            uidnext: folder.uidnext,
            uidvalidity: folder.uidvalidity,
            highestmodseq: folder.highestmodseq,
        })
    }
}
