//! [`Authenticator`] and [`MailboxBackend`] over mailward's store: passwords checked by
//! [`DirectoryStore::authenticate`], mailboxes are the account's folders through
//! [`MailIndex`] and [`MessageBlobs`] (by default [`MailAccess`], which keeps the Maildir
//! and the SQLite index in step), ENVELOPE and BODYSTRUCTURE cached in the index, SEARCH
//! over content reading messages in parallel (rayon), and change notifications from
//! [`MailIndex::subscribe_changes`].

use crate::backend::{
    Account as ImapAccount, AppendOutcome, AppendRequest, AuthOutcome, Authenticator, BackendError,
    BackendResult, CachedStructure, Changes, CopyOutcome, Credentials, Flag, MailboxBackend,
    MailboxInfo, MailboxStatus, MessageMeta, MetadataDepth, MetadataEntry, MetadataError, Quota,
    Selected, SpecialUse, StoreMode, StoreOutcome, StoreRequest, Subscription, TextCandidates,
};
use mailward_event::{Event, Protocol, Reason, Scope};
use mailward_store::access::{AccessError, FlagOp};
use mailward_store::{
    DirectoryStore, Folder, MailAccess, MailIndex, MailStore, MailboxChange, Message, MessageBlobs,
    Store,
};
use rayon::prelude::*;

/// Fewer messages than this are read on the calling thread: waking rayon's pool (whose
/// idle workers then spin and yield) costs more than a few files, and under many sessions
/// that spinning took a core from the commands themselves.
const PARALLEL_FROM: usize = 16;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Checks passwords against the store's accounts, over any store with a directory and
/// mailboxes ([`DirectoryStore`], [`MailStore`]; SQLite + Maildir by default).
pub struct StoreAuthenticator<S = Store> {
    store: Arc<S>,
}

impl<S> StoreAuthenticator<S> {
    pub fn new(store: Arc<S>) -> Self {
        StoreAuthenticator { store }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Password checks run on a few dedicated threads (one per core, at most 4) rather than on
/// whichever blocking thread serves the session: a check (argon2) allocates tens of MB, and
/// the allocator keeps such memory in the arena of the thread that used it. With many
/// sessions logging in at once, every blocking thread would otherwise keep its own, and the
/// server's memory would grow with the number of connections logging in concurrently.
fn on_auth_pool(job: Job) {
    static POOL: std::sync::OnceLock<Mutex<std::sync::mpsc::Sender<Job>>> =
        std::sync::OnceLock::new();
    let tx = POOL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .min(4);
        for i in 0..n {
            let rx = rx.clone();
            let _ = std::thread::Builder::new()
                .name(format!("imap-auth-{i}"))
                .spawn(move || {
                    loop {
                        let job = {
                            let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
                            rx.recv()
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => break,
                        }
                    }
                });
        }
        Mutex::new(tx)
    });
    let sent = tx.lock().unwrap_or_else(|p| p.into_inner()).send(job);
    if let Err(std::sync::mpsc::SendError(job)) = sent {
        job();
    }
}

impl<S: DirectoryStore + MailStore> Authenticator for StoreAuthenticator<S> {
    fn authenticate(&self, creds: &Credentials) -> AuthOutcome {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let store = self.store.clone();
        let (user, pass) = (creds.username.clone(), creds.password.clone());
        on_auth_pool(Box::new(move || {
            let _ = tx.send(store.authenticate(&user, &pass));
        }));
        let checked = rx
            .recv()
            .unwrap_or_else(|_| self.store.authenticate(&creds.username, &creds.password));
        match checked {
            Ok(Some(account)) => {
                let name = account.address.clone();
                match self.store.open_mail(account) {
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

/// One account's mailboxes, over any mailbox index with its message contents
/// ([`MailIndex`], [`MessageBlobs`]; SQLite + Maildir by default).
pub struct StoreMailboxes<M = MailAccess> {
    access: M,
    /// The folder last used (most calls are on the selected one).
    folder: Option<Folder>,
    /// Index rows of the messages the last [`MailboxBackend::metas`] call returned, so the
    /// FETCH or SEARCH that follows finds their files without another query. Emptied when
    /// the session looks for changes, so an IDLE session keeps nothing.
    rows: HashMap<u32, Message>,
    /// The account's change feed while the session uses NOTIFY (RFC 5465).
    feed: Option<crate::account_feed::AccountFeed>,
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
        e @ (AccessError::MetadataTooBig { .. }
        | AccessError::MetadataTooMany { .. }
        | AccessError::MetadataInvalid(_)) => BackendError::Cannot(e.to_string()),
        AccessError::Store(e) => BackendError::Internal(e.to_string()),
    }
}

/// SETMETADATA's failures with their RFC 5464 §4.3 codes.
fn metadata_err(e: AccessError) -> MetadataError {
    match e {
        AccessError::MetadataTooBig { max } => MetadataError::TooBig { max },
        AccessError::MetadataTooMany { .. } => MetadataError::TooMany,
        e => MetadataError::Failed(err(e)),
    }
}

fn store_depth(d: MetadataDepth) -> mailward_store::access::MetadataDepth {
    use mailward_store::access::MetadataDepth as D;
    match d {
        MetadataDepth::Zero => D::Zero,
        MetadataDepth::One => D::One,
        MetadataDepth::Infinity => D::Infinity,
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

/// What SELECT needs of a folder's state, shared by the sessions of this process: with many
/// sessions on one large mailbox (IDLE clients) each would otherwise read every row and
/// keep its own copy of the UID list. Keyed by the store's database and the folder id (a
/// process may open several stores, as tests do); valid while UIDVALIDITY, UIDNEXT and
/// HIGHESTMODSEQ are the same (every change moves one of them).
struct SelectShare {
    key: (u32, u32, u64),
    uids: Arc<Vec<u32>>,
    keywords: Arc<Vec<String>>,
}

type ShareKey = (std::path::PathBuf, i64);

static SELECT_SHARE: Mutex<Option<HashMap<ShareKey, SelectShare>>> = Mutex::new(None);

/// The last answer to "what changed in this folder since MODSEQ `since`", while the
/// folder's HIGHESTMODSEQ is still `highest` (see [`StoreMailboxes::changes`]).
struct SharedChanges {
    since: u64,
    highest: u64,
    uid_next: u32,
    changes: Arc<mailward_store::access::Changes>,
}

static CHANGES_SHARE: Mutex<Option<HashMap<ShareKey, SharedChanges>>> = Mutex::new(None);

fn special(s: Option<&str>) -> Option<SpecialUse> {
    crate::session::special_use_from(s?)
}

impl<M: MailIndex + MessageBlobs> StoreMailboxes<M> {
    /// Makes sure `self.rows` holds the index rows of `uids` (one query when any is
    /// missing), so content calls read files without a query per message.
    fn load_rows(&mut self, folder_id: i64, uids: &[u32]) -> BackendResult<()> {
        if uids.iter().any(|u| !self.rows.contains_key(u)) {
            self.rows = self
                .access
                .messages_by_uid(folder_id, uids)
                .map_err(err)?
                .into_iter()
                .map(|m| (m.uid, m))
                .collect();
        }
        Ok(())
    }

    pub fn new(access: M) -> Self {
        StoreMailboxes {
            access,
            folder: None,
            rows: HashMap::new(),
            feed: None,
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
            .message_by_uid(folder.id, uid)
            .map_err(err)?
            .ok_or_else(|| BackendError::Cannot("The message has been expunged".into()))
    }
}

impl<M: MailIndex + MessageBlobs + 'static> MailboxBackend for StoreMailboxes<M> {
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
            recent: s.recent,
            unseen: s.unseen,
            deleted: s.deleted,
            uid_next: s.uidnext,
            uid_validity: s.uidvalidity,
            highest_modseq: s.highestmodseq.max(1),
            size: s.size,
        })
    }

    fn select(&mut self, mailbox: &str, read_only: bool) -> BackendResult<Selected> {
        let folder = self
            .access
            .folder(mailbox)
            .map_err(err)?
            .ok_or(BackendError::NoSuchMailbox)?;
        self.access.sync(&folder, false).map_err(err)?;
        let folder = self.access.refresh(folder.id).map_err(err)?;
        let key = (folder.uidvalidity, folder.uidnext, folder.highestmodseq);
        let share_key: ShareKey = (self.access.store_identity(), folder.id);
        let shared = {
            let share = SELECT_SHARE.lock().unwrap_or_else(|p| p.into_inner());
            share
                .as_ref()
                .and_then(|m| m.get(&share_key))
                .filter(|s| s.key == key)
                .map(|s| (s.uids.clone(), s.keywords.clone()))
        };
        let (uids, keywords) = match shared {
            Some(s) => s,
            None => {
                let uids = Arc::new(self.access.uids(folder.id).map_err(err)?);
                let keywords = Arc::new(self.access.keywords(folder.id).map_err(err)?);
                // Read after the rows: a change meanwhile leaves a key that differs.
                let now = self.access.refresh(folder.id).map_err(err)?;
                if (now.uidvalidity, now.uidnext, now.highestmodseq) == key {
                    let mut share = SELECT_SHARE.lock().unwrap_or_else(|p| p.into_inner());
                    share.get_or_insert_with(HashMap::new).insert(
                        share_key,
                        SelectShare {
                            key,
                            uids: uids.clone(),
                            keywords: keywords.clone(),
                        },
                    );
                }
                (uids, keywords)
            }
        };
        self.rows.clear();
        self.folder = Some(folder.clone());
        let first_recent = if read_only {
            self.access.first_recent(folder.id)
        } else {
            self.access.claim_recent(folder.id, folder.uidnext)
        }
        .map_err(err)?;
        let first_unseen = self.access.first_unseen(folder.id).map_err(err)?;
        Ok(Selected {
            first_recent,
            first_unseen,
            uid_validity: folder.uidvalidity,
            uid_next: folder.uidnext,
            highest_modseq: folder.highestmodseq.max(1),
            uids,
            keywords: keywords.as_ref().clone(),
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
        let rows: Vec<Message> = self.access.messages_by_uid(folder.id, uids).map_err(err)?;
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

    /// RFC 3502: the store writes every file, then indexes them in one transaction.
    fn append_many(
        &mut self,
        mailbox: &str,
        reqs: Vec<AppendRequest>,
    ) -> BackendResult<Vec<AppendOutcome>> {
        let flags: Vec<Vec<String>> = reqs
            .iter()
            .map(|r| r.flags.iter().map(flag_str).collect())
            .collect();
        let msgs: Vec<mailward_store::access::NewMessage<'_>> = reqs
            .iter()
            .zip(&flags)
            .map(|(r, f)| mailward_store::access::NewMessage {
                data: &r.message,
                flags: f,
                internal_date: r.internal_date.map(|d| d.0),
            })
            .collect();
        let (uid_validity, uids) = self.access.append_many(mailbox, &msgs).map_err(err)?;
        Ok(uids
            .into_iter()
            .map(|uid| AppendOutcome { uid_validity, uid })
            .collect())
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

    fn create(&mut self, name: &str, special_use: Option<SpecialUse>) -> BackendResult<()> {
        self.access.create_folder(name).map_err(err)?;
        // RFC 6154 §3: CREATE ... (USE (attribute)).
        if let Some(su) = special_use {
            self.access
                .set_special_use(name, su.as_attribute())
                .map_err(err)?;
        }
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

    fn subscriptions(&mut self) -> BackendResult<Vec<String>> {
        self.access.subscriptions().map_err(err)
    }

    fn claim_recent(&mut self, mailbox: &str, below: u32) -> BackendResult<u32> {
        let folder = self.folder(mailbox)?;
        self.access.claim_recent(folder.id, below).map_err(err)
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
        let report = self.access.sync(&folder, false).map_err(err)?;
        if report.highestmodseq == since_modseq {
            // Every change (new message, flags, expunge) raises HIGHESTMODSEQ: nothing to
            // report, no query (this runs after every UID command and APPEND).
            return Ok(Changes {
                uid_next: known_uid_next,
                highest_modseq: since_modseq,
                ..Changes::default()
            });
        }
        // Sessions idling on one mailbox all ask the same question when it changes: the
        // first answers it for the others.
        let share_key: ShareKey = (self.access.store_identity(), folder.id);
        let shared = {
            let share = CHANGES_SHARE.lock().unwrap_or_else(|p| p.into_inner());
            share
                .as_ref()
                .and_then(|m| m.get(&share_key))
                .filter(|s| s.since == since_modseq && s.highest == report.highestmodseq)
                .map(|s| (s.changes.clone(), s.uid_next))
        };
        let (c, uid_next) = match shared {
            Some(s) => s,
            None => {
                let c = Arc::new(
                    self.access
                        .changes_since(folder.id, since_modseq)
                        .map_err(err)?,
                );
                let fresh = self.access.refresh(folder.id).map_err(err)?;
                if c.highestmodseq == report.highestmodseq
                    && fresh.highestmodseq == report.highestmodseq
                {
                    let mut share = CHANGES_SHARE.lock().unwrap_or_else(|p| p.into_inner());
                    share.get_or_insert_with(HashMap::new).insert(
                        share_key,
                        SharedChanges {
                            since: since_modseq,
                            highest: report.highestmodseq,
                            uid_next: fresh.uidnext,
                            changes: c.clone(),
                        },
                    );
                }
                (c, fresh.uidnext)
            }
        };
        let (added, changed): (Vec<&Message>, Vec<&Message>) =
            c.changed.iter().partition(|m| m.uid >= known_uid_next);
        Ok(Changes {
            expunged: c.expunged.clone(),
            added: added.into_iter().map(meta).collect(),
            flags_changed: changed.into_iter().map(meta).collect(),
            uid_next,
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
            Scope::protocol(Protocol::Imap).emit(Event::CacheError(Reason::new(e.to_string())));
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
        self.load_rows(folder.id, uids)?;
        let rows: Vec<&Message> = uids.iter().filter_map(|u| self.rows.get(u)).collect();
        let access = &self.access;
        let folder = &folder;
        let check = |m: &&Message| {
            let raw = access.read(folder, m).ok()?;
            matches(m.uid, &raw).then_some(m.uid)
        };
        let mut found: Vec<u32> = if rows.len() < PARALLEL_FROM {
            rows.iter().filter_map(check).collect()
        } else {
            rows.par_iter().filter_map(check).collect()
        };
        found.sort_unstable();
        Ok(found)
    }

    /// The store's full-text index, when it runs, for the folder as selected (the index
    /// answers only for the UIDVALIDITY it indexed).
    fn text_candidates(
        &mut self,
        mailbox: &str,
        needle: &str,
    ) -> BackendResult<Option<TextCandidates>> {
        let folder = self.folder(mailbox)?;
        match self.access.text_candidates(&folder, needle) {
            Ok(c) => Ok(c.map(|c| TextCandidates {
                through_uid: c.through_uid,
                uids: c.uids,
            })),
            // The index is a cache: without it the search scans.
            Err(_) => Ok(None),
        }
    }

    /// Reads and maps the messages on rayon's pool (FETCH ENVELOPE / BODYSTRUCTURE of
    /// many uncached messages is bound by parsing).
    fn map_content(
        &mut self,
        mailbox: &str,
        uids: &[u32],
        f: &(dyn Fn(u32, &[u8]) -> Option<CachedStructure> + Sync),
    ) -> BackendResult<Vec<CachedStructure>> {
        let folder = self.folder(mailbox)?;
        self.load_rows(folder.id, uids)?;
        let rows: Vec<&Message> = uids.iter().filter_map(|u| self.rows.get(u)).collect();
        let access = &self.access;
        let folder = &folder;
        let map = |m: &&Message| {
            let raw = access.read(folder, m).ok()?;
            f(m.uid, &raw)
        };
        Ok(if rows.len() < PARALLEL_FROM {
            rows.iter().filter_map(map).collect()
        } else {
            rows.par_iter().filter_map(map).collect()
        })
    }

    fn get_metadata(
        &mut self,
        mailbox: Option<&str>,
        names: &[String],
        depth: MetadataDepth,
        max_size: Option<u64>,
    ) -> BackendResult<Vec<MetadataEntry>> {
        Ok(self
            .access
            .metadata(mailbox, names, store_depth(depth), max_size)
            .map_err(err)?
            .into_iter()
            .map(|e| MetadataEntry {
                name: e.name,
                size: e.size,
                value: e.value,
            })
            .collect())
    }

    fn set_metadata(
        &mut self,
        mailbox: Option<&str>,
        changes: &[(String, Option<Vec<u8>>)],
    ) -> Result<(), MetadataError> {
        // `/private/specialuse` may change the folder: forget the one kept.
        self.folder = None;
        self.access
            .set_metadata(mailbox, changes)
            .map_err(metadata_err)
    }

    fn urlauth_key(
        &mut self,
        owner: Option<&str>,
        mailbox: &str,
        create: bool,
    ) -> BackendResult<Option<Vec<u8>>> {
        match owner {
            None => self.access.urlauth_key(mailbox, create).map_err(err),
            Some(address) => match self.access.open_other(address).map_err(err)? {
                Some(other) => other.urlauth_key(mailbox, false).map_err(err),
                None => Err(BackendError::NoSuchMailbox),
            },
        }
    }

    fn reset_urlauth_keys(&mut self, mailbox: Option<&str>) -> BackendResult<()> {
        self.access.reset_urlauth_keys(mailbox).map_err(err)
    }

    fn urlauth_message(
        &mut self,
        owner: Option<&str>,
        mailbox: &str,
        uid: u32,
    ) -> BackendResult<(u32, Vec<u8>)> {
        let Some(address) = owner else {
            let folder = self.folder(mailbox)?;
            let m = self.row(&folder, uid)?;
            let raw = self.access.read(&folder, &m).map_err(err)?;
            return Ok((folder.uidvalidity, raw));
        };
        let other = self
            .access
            .open_other(address)
            .map_err(err)?
            .ok_or(BackendError::NoSuchMailbox)?;
        let folder = other
            .folder(mailbox)
            .map_err(err)?
            .ok_or(BackendError::NoSuchMailbox)?;
        let m = other
            .message_by_uid(folder.id, uid)
            .map_err(err)?
            .ok_or_else(|| BackendError::Cannot("The message has been expunged".into()))?;
        let raw = other.read(&folder, &m).map_err(err)?;
        Ok((folder.uidvalidity, raw))
    }

    fn follow_account(&mut self, on: bool) -> BackendResult<()> {
        self.feed = on.then(|| {
            crate::account_feed::AccountFeed::new(
                self.access.subscribe_changes(),
                self.access.account().id,
            )
        });
        Ok(())
    }

    fn account_events(&mut self, max: usize) -> crate::backend::AccountEvents {
        let Some(feed) = self.feed.as_mut() else {
            return crate::backend::AccountEvents::default();
        };
        let access = &self.access;
        feed.drain(max, || {
            access
                .folders()
                .map(|fs| fs.into_iter().map(|f| (f.id, f.name)).collect())
                .unwrap_or_default()
        })
    }

    fn watch_account(&mut self, wake: Box<dyn Fn() + Send + Sync>) -> BackendResult<Subscription> {
        // The feed's own task wakes the session: no second receiver on the channel.
        let wake = match self.feed.as_ref() {
            Some(feed) => match feed.on_change(wake) {
                Some(guard) => return Ok(Subscription(Box::new(guard))),
                None => return Err(BackendError::Unavailable("no runtime to watch on".into())),
            },
            None => wake,
        };
        let account = self.access.account().id;
        watch_changes(
            self.access.subscribe_changes(),
            move |c| c.account_id == account,
            wake,
        )
    }

    fn watch(
        &mut self,
        mailbox: &str,
        wake: Box<dyn Fn() + Send + Sync>,
    ) -> BackendResult<Subscription> {
        let folder = self.folder(mailbox)?;
        let account = self.access.account().id;
        let id = folder.id;
        watch_changes(
            self.access.subscribe_changes(),
            move |c| c.account_id == account && c.mailbox_id == id,
            wake,
        )
    }
}

/// A task that calls `wake` for every committed change `wanted` accepts (and when it fell
/// behind and may have missed some), until the subscription is dropped.
fn watch_changes(
    mut rx: tokio::sync::broadcast::Receiver<MailboxChange>,
    wanted: impl Fn(&MailboxChange) -> bool + Send + 'static,
    wake: Box<dyn Fn() + Send + Sync>,
) -> BackendResult<Subscription> {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return Err(BackendError::Unavailable("no runtime to watch on".into()));
    };
    let task = handle.spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match rx.recv().await {
                Ok(c) if wanted(&c) => wake(),
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => wake(),
                Err(RecvError::Closed) => break,
            }
        }
    });
    Ok(Subscription(Box::new(AbortOnDrop(task))))
}

/// Stops the watching task when the subscription is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
