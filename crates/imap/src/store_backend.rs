//! [`Authenticator`] and [`MailboxBackend`] over mailward's store: passwords checked by
//! [`Store::authenticate`], mailboxes are the account's Maildir++ folders through
//! [`MailAccess`] (which keeps the Maildir and the SQLite index in step), ENVELOPE and
//! BODYSTRUCTURE cached in the index, SEARCH over content reading files in parallel
//! (rayon), and change notifications from [`Store::subscribe_changes`].

use crate::backend::{
    Account as ImapAccount, AppendOutcome, AppendRequest, AuthOutcome, Authenticator, BackendError,
    BackendResult, CachedStructure, Changes, CopyOutcome, Credentials, Flag, MailboxBackend,
    MailboxInfo, MailboxStatus, MessageMeta, Quota, Selected, SpecialUse, StoreMode, StoreOutcome,
    StoreRequest, Subscription,
};
use mailward_store::access::{AccessError, FlagOp};
use mailward_store::{Folder, MailAccess, Message, Store};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use tracing::warn;

/// Checks passwords against the store's accounts.
pub struct StoreAuthenticator {
    store: Arc<Store>,
}

impl StoreAuthenticator {
    pub fn new(store: Arc<Store>) -> Self {
        StoreAuthenticator { store }
    }
}

impl Authenticator for StoreAuthenticator {
    fn authenticate(&self, creds: &Credentials) -> AuthOutcome {
        match self.store.authenticate(&creds.username, &creds.password) {
            Ok(Some(account)) => {
                let name = account.address.clone();
                match MailAccess::open(self.store.clone(), account) {
                    Ok(access) => AuthOutcome::Success(ImapAccount {
                        name,
                        mailboxes: Box::new(StoreMailboxes::new(access)),
                    }),
                    Err(e) => AuthOutcome::Unavailable(e.to_string()),
                }
            }
            Ok(None) => AuthOutcome::Failed,
            Err(e) => AuthOutcome::Unavailable(e.to_string()),
        }
    }
}

/// One account's mailboxes.
pub struct StoreMailboxes {
    access: MailAccess,
    /// The folder last used (most calls are on the selected one).
    folder: Option<Folder>,
    /// Index rows of the messages the last [`MailboxBackend::metas`] call returned, so the
    /// FETCH or SEARCH that follows finds their files without another query. Emptied when
    /// the session looks for changes, so an IDLE session keeps nothing.
    rows: HashMap<u32, Message>,
}

fn err(e: AccessError) -> BackendError {
    match e {
        AccessError::NoSuchFolder(_) => BackendError::NoSuchMailbox,
        AccessError::FolderExists(_) => BackendError::AlreadyExists,
        AccessError::HasChildren(_) => BackendError::HasChildren,
        AccessError::BadName(e) => BackendError::Cannot(e.to_string()),
        AccessError::BadFlag(e) => BackendError::Cannot(e.to_string()),
        AccessError::InboxUndeletable => BackendError::Cannot("INBOX cannot be deleted".into()),
        AccessError::Expunged => BackendError::Cannot("The message has been expunged".into()),
        AccessError::OverQuota { .. } => BackendError::OverQuota,
        AccessError::Store(e) => BackendError::Internal(e.to_string()),
    }
}

fn flag_of(s: &str) -> Flag {
    match s.to_ascii_lowercase().as_str() {
        "\\seen" => Flag::Seen,
        "\\answered" => Flag::Answered,
        "\\flagged" => Flag::Flagged,
        "\\deleted" => Flag::Deleted,
        "\\draft" => Flag::Draft,
        _ => Flag::Keyword(s.to_string()),
    }
}

fn flag_str(f: &Flag) -> String {
    crate::session::respond::flag_name(f)
}

fn meta(m: &Message) -> MessageMeta {
    MessageMeta {
        uid: m.uid,
        flags: m.flags.iter().map(flag_of).collect(),
        modseq: m.modseq.max(1),
        internal_date: m.internal_date,
        internal_date_offset_minutes: 0,
        size: m.size,
    }
}

fn special(s: Option<&str>) -> Option<SpecialUse> {
    crate::session::special_use_from(s?)
}

impl StoreMailboxes {
    pub fn new(access: MailAccess) -> Self {
        StoreMailboxes {
            access,
            folder: None,
            rows: HashMap::new(),
        }
    }

    fn folder(&mut self, name: &str) -> BackendResult<Folder> {
        if let Some(f) = &self.folder
            && f.name == name
        {
            return Ok(f.clone());
        }
        let f = self
            .access
            .folder(name)
            .map_err(err)?
            .ok_or(BackendError::NoSuchMailbox)?;
        self.folder = Some(f.clone());
        self.rows.clear();
        Ok(f)
    }

    fn row(&mut self, folder: &Folder, uid: u32) -> BackendResult<Message> {
        if let Some(m) = self.rows.get(&uid) {
            return Ok(m.clone());
        }
        self.access
            .messages(folder.id)
            .map_err(err)?
            .into_iter()
            .find(|m| m.uid == uid)
            .ok_or_else(|| BackendError::Cannot("The message has been expunged".into()))
    }
}

impl MailboxBackend for StoreMailboxes {
    fn list(&mut self) -> BackendResult<Vec<MailboxInfo>> {
        let folders = self.access.folders().map_err(err)?;
        let names: Vec<String> = folders.iter().map(|f| f.name.clone()).collect();
        Ok(folders
            .into_iter()
            .map(|f| {
                let prefix = format!("{}/", f.name);
                MailboxInfo {
                    has_children: names.iter().any(|n| n.starts_with(&prefix)),
                    selectable: true,
                    no_inferiors: false,
                    subscribed: f.subscribed,
                    special_use: special(f.special_use.as_deref()),
                    name: f.name,
                }
            })
            .collect())
    }

    fn status(&mut self, mailbox: &str) -> BackendResult<MailboxStatus> {
        let s = self.access.status(mailbox).map_err(err)?;
        Ok(MailboxStatus {
            messages: s.messages,
            unseen: s.unseen,
            deleted: s.deleted,
            uid_next: s.uidnext,
            uid_validity: s.uidvalidity,
            highest_modseq: s.highestmodseq.max(1),
            size: s.size,
        })
    }

    fn select(&mut self, mailbox: &str, read_only: bool) -> BackendResult<Selected> {
        let (folder, messages) = self.access.select(mailbox).map_err(err)?;
        let mut keywords: Vec<String> = Vec::new();
        for m in &messages {
            for k in m.flags.keywords() {
                if !keywords.contains(k) {
                    keywords.push(k.clone());
                }
            }
        }
        let metas = messages.iter().map(meta).collect();
        self.rows.clear();
        self.folder = Some(folder.clone());
        Ok(Selected {
            uid_validity: folder.uidvalidity,
            uid_next: folder.uidnext,
            highest_modseq: folder.highestmodseq.max(1),
            messages: metas,
            keywords,
            read_only,
        })
    }

    fn message(&mut self, mailbox: &str, uid: u32) -> BackendResult<Vec<u8>> {
        let folder = self.folder(mailbox)?;
        let m = self.row(&folder, uid)?;
        self.access.read(&folder, &m).map_err(err)
    }

    fn metas(&mut self, mailbox: &str, uids: &[u32]) -> BackendResult<Vec<MessageMeta>> {
        let folder = self.folder(mailbox)?;
        let mut want = uids.to_vec();
        want.sort_unstable();
        let rows: Vec<Message> = self
            .access
            .messages(folder.id)
            .map_err(err)?
            .into_iter()
            .filter(|m| want.binary_search(&m.uid).is_ok())
            .collect();
        let metas = rows.iter().map(meta).collect();
        self.rows = rows.into_iter().map(|m| (m.uid, m)).collect();
        Ok(metas)
    }

    fn store(&mut self, mailbox: &str, req: &StoreRequest) -> BackendResult<StoreOutcome> {
        let folder = self.folder(mailbox)?;
        let op = match req.mode {
            StoreMode::Replace => FlagOp::Replace,
            StoreMode::Add => FlagOp::Add,
            StoreMode::Remove => FlagOp::Remove,
        };
        let flags: Vec<String> = req.flags.iter().map(flag_str).collect();
        let r = self
            .access
            .store_flags(&folder, &req.uids, op, &flags, req.unchanged_since)
            .map_err(err)?;
        for m in &r.updated {
            if let Some(slot) = self.rows.get_mut(&m.uid) {
                *slot = m.clone();
            }
        }
        Ok(StoreOutcome {
            changed: r.updated.iter().map(meta).collect(),
            modified: r.modified,
        })
    }

    fn expunge(&mut self, mailbox: &str, uids: Option<&[u32]>) -> BackendResult<Vec<u32>> {
        let folder = self.folder(mailbox)?;
        self.access.expunge(&folder, uids).map_err(err)
    }

    fn append(&mut self, mailbox: &str, req: AppendRequest) -> BackendResult<AppendOutcome> {
        let flags: Vec<String> = req.flags.iter().map(flag_str).collect();
        let (uid_validity, uid) = self
            .access
            .append(
                mailbox,
                &req.message,
                &flags,
                req.internal_date.map(|d| d.0),
            )
            .map_err(err)?;
        Ok(AppendOutcome { uid_validity, uid })
    }

    fn copy(&mut self, from: &str, uids: &[u32], to: &str) -> BackendResult<CopyOutcome> {
        let folder = self.folder(from)?;
        let c = self.access.copy(&folder, uids, to).map_err(err)?;
        Ok(CopyOutcome {
            uid_validity: c.uidvalidity,
            mapping: c.uids,
        })
    }

    fn move_messages(&mut self, from: &str, uids: &[u32], to: &str) -> BackendResult<CopyOutcome> {
        let folder = self.folder(from)?;
        let c = self.access.move_messages(&folder, uids, to).map_err(err)?;
        Ok(CopyOutcome {
            uid_validity: c.uidvalidity,
            mapping: c.uids,
        })
    }

    fn create(&mut self, name: &str, _special_use: Option<SpecialUse>) -> BackendResult<()> {
        self.access.create_folder(name).map_err(err)?;
        Ok(())
    }

    fn delete(&mut self, name: &str) -> BackendResult<()> {
        self.folder = None;
        self.access.delete_folder(name).map_err(err)
    }

    fn rename(&mut self, from: &str, to: &str) -> BackendResult<()> {
        self.folder = None;
        self.access.rename_folder(from, to).map_err(err)
    }

    fn subscribe(&mut self, name: &str, subscribed: bool) -> BackendResult<()> {
        self.access.set_subscribed(name, subscribed).map_err(err)
    }

    fn changes(
        &mut self,
        mailbox: &str,
        since_modseq: u64,
        known_uid_next: u32,
    ) -> BackendResult<Changes> {
        let folder = self.folder(mailbox)?;
        self.rows = HashMap::new();
        // Files dropped into new/ or renamed by other programs (Maildir ↔ index).
        self.access.sync(&folder, false).map_err(err)?;
        let c = self
            .access
            .changes_since(folder.id, since_modseq)
            .map_err(err)?;
        let fresh = self.access.refresh(folder.id).map_err(err)?;
        let (added, changed): (Vec<Message>, Vec<Message>) =
            c.changed.into_iter().partition(|m| m.uid >= known_uid_next);
        Ok(Changes {
            expunged: c.expunged,
            added: added.iter().map(meta).collect(),
            flags_changed: changed.iter().map(meta).collect(),
            uid_next: fresh.uidnext,
            highest_modseq: c.highestmodseq,
        })
    }

    fn quota(&mut self) -> BackendResult<Quota> {
        let (used, limit) = self.access.quota().map_err(err)?;
        Ok(Quota {
            storage_used_kib: used.div_ceil(1024),
            storage_limit_kib: limit.map(|l| l / 1024),
            messages_used: 0,
            messages_limit: None,
        })
    }

    fn cached_structure(
        &mut self,
        mailbox: &str,
        uids: &[u32],
    ) -> BackendResult<Vec<CachedStructure>> {
        let folder = self.folder(mailbox)?;
        Ok(self
            .access
            .cached_structure(folder.id, uids)
            .map_err(err)?
            .into_iter()
            .map(|c| CachedStructure {
                uid: c.uid,
                envelope: c.envelope,
                bodystructure: c.bodystructure,
            })
            .collect())
    }

    fn cache_structure(&mut self, mailbox: &str, entries: &[CachedStructure]) {
        let Ok(folder) = self.folder(mailbox) else {
            return;
        };
        let rows: Vec<mailward_store::access::CachedStructure> = entries
            .iter()
            .map(|e| mailward_store::access::CachedStructure {
                uid: e.uid,
                envelope: e.envelope.clone(),
                bodystructure: e.bodystructure.clone(),
            })
            .collect();
        if let Err(e) = self.access.cache_structure(folder.id, &rows) {
            warn!(event = "cache_error", protocol = "imap", reason = %e);
        }
    }

    /// Reads the candidates' files on rayon's pool: SEARCH TEXT over a large mailbox is
    /// bound by parsing and decoding, which spreads over the cores.
    fn search_content(
        &mut self,
        mailbox: &str,
        uids: &[u32],
        matches: &(dyn Fn(u32, &[u8]) -> bool + Sync),
    ) -> BackendResult<Vec<u32>> {
        let folder = self.folder(mailbox)?;
        if uids.iter().any(|u| !self.rows.contains_key(u)) {
            self.rows = self
                .access
                .messages(folder.id)
                .map_err(err)?
                .into_iter()
                .map(|m| (m.uid, m))
                .collect();
        }
        let rows: Vec<&Message> = uids.iter().filter_map(|u| self.rows.get(u)).collect();
        let access = &self.access;
        let folder = &folder;
        let mut found: Vec<u32> = rows
            .par_iter()
            .filter_map(|m| {
                let raw = access.read(folder, m).ok()?;
                matches(m.uid, &raw).then_some(m.uid)
            })
            .collect();
        found.sort_unstable();
        Ok(found)
    }

    fn watch(
        &mut self,
        mailbox: &str,
        wake: Box<dyn Fn() + Send + Sync>,
    ) -> BackendResult<Subscription> {
        let folder = self.folder(mailbox)?;
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return Err(BackendError::Unavailable("no runtime to watch on".into()));
        };
        let mut rx = self.access.store().subscribe_changes();
        let account = self.access.account().id;
        let id = folder.id;
        let task = handle.spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match rx.recv().await {
                    Ok(c) if c.account_id == account && c.mailbox_id == id => wake(),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => wake(),
                    Err(RecvError::Closed) => break,
                }
            }
        });
        Ok(Subscription(Box::new(AbortOnDrop(task))))
    }
}

/// Stops the watching task when the subscription is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
