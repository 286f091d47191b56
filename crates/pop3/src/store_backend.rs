//! The [`Backend`] over mailward's store: passwords checked by
//! [`DirectoryStore::authenticate`], the maildrop is the account's INBOX (reconciled with
//! its Maildir at login), RETR marks `\Seen`, and QUIT removes messages through
//! [`MailIndex::remove_messages`], so IMAP sees the same mailbox.

use crate::backend::{Backend, Entry, Login, MailError, Mailbox, Maildrop};
use mailward_event::{Event, FlagError, Protocol, Scope};
use mailward_store::access::{AccessError, FlagOp};
use mailward_store::flags::SystemFlag;
use mailward_store::{
    DirectoryStore, Folder, MailAccess, MailIndex, MailStore, Message, MessageBlobs, Store,
};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

type Locks = Arc<Mutex<HashSet<i64>>>;

fn guard(locks: &Mutex<HashSet<i64>>) -> MutexGuard<'_, HashSet<i64>> {
    match locks.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// Logins and maildrops of the store's accounts, over any store with a directory and
/// mailboxes ([`DirectoryStore`], [`MailStore`]; SQLite + Maildir by default).
pub struct StoreBackend<S = Store> {
    store: Arc<S>,
    /// Accounts with an open POP3 session (RFC 1939 §8: the maildrop is locked for the
    /// session; a second session gets `-ERR [IN-USE]`, RFC 2449 §8.1.1).
    locks: Locks,
}

impl<S> Clone for StoreBackend<S> {
    fn clone(&self) -> Self {
        StoreBackend {
            store: self.store.clone(),
            locks: self.locks.clone(),
        }
    }
}

impl<S> std::fmt::Debug for StoreBackend<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreBackend").finish()
    }
}

impl<S> StoreBackend<S> {
    pub fn new(store: Arc<S>) -> Self {
        StoreBackend {
            store,
            locks: Arc::default(),
        }
    }
}

/// Holds an account's POP3 lock until dropped.
struct LockGuard {
    locks: Locks,
    account_id: i64,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        guard(&self.locks).remove(&self.account_id);
    }
}

/// An opened INBOX.
pub struct StoreMailbox<M = MailAccess> {
    access: M,
    folder: Folder,
    /// The login snapshot, updated as RETR changes flags (the file is renamed then).
    messages: Mutex<HashMap<u32, Message>>,
    _lock: LockGuard,
}

impl<M: MailIndex> std::fmt::Debug for StoreMailbox<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreMailbox")
            .field("account", &self.access.account().address)
            .finish()
    }
}

fn temp(e: impl std::fmt::Display) -> MailError {
    MailError::Temporary(e.to_string())
}

impl<S: DirectoryStore + MailStore> Backend for StoreBackend<S> {
    type Mailbox = StoreMailbox<S::Mail>;

    fn login(&self, user: &str, password: &str) -> Login<StoreMailbox<S::Mail>> {
        let account = match self.store.authenticate(user, password) {
            Ok(Some(a)) => a,
            Ok(None) => return Login::BadCredentials,
            Err(e) => return Login::TempFail(e.to_string()),
        };
        if !guard(&self.locks).insert(account.id) {
            return Login::InUse;
        }
        let lock = LockGuard {
            locks: self.locks.clone(),
            account_id: account.id,
        };
        let address = account.address.clone();
        let opened = self
            .store
            .open_mail(account)
            .and_then(|access| access.select("INBOX").map(|sel| (access, sel)));
        let (access, (folder, messages)) = match opened {
            Ok(x) => x,
            Err(e) => return Login::TempFail(e.to_string()),
        };
        let maildrop = Maildrop {
            uidvalidity: folder.uidvalidity,
            messages: messages
                .iter()
                .map(|m| Entry {
                    uid: m.uid,
                    size: m.size,
                })
                .collect(),
        };
        let messages = messages.into_iter().map(|m| (m.uid, m)).collect();
        Login::Ok {
            account: address,
            maildrop,
            mailbox: StoreMailbox {
                access,
                folder,
                messages: Mutex::new(messages),
                _lock: lock,
            },
        }
    }
}

impl<M> StoreMailbox<M> {
    fn snapshot(&self) -> MutexGuard<'_, HashMap<u32, Message>> {
        match self.messages.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

impl<M: MailIndex + MessageBlobs + 'static> Mailbox for StoreMailbox<M> {
    fn fetch(&self, uid: u32, mark_seen: bool) -> Result<Vec<u8>, MailError> {
        let Some(msg) = self.snapshot().get(&uid).cloned() else {
            return Err(MailError::Gone);
        };
        let data = self.access.read(&self.folder, &msg).map_err(|e| match e {
            AccessError::Expunged => MailError::Gone,
            e => temp(e),
        })?;
        if mark_seen && !msg.flags.has(SystemFlag::Seen) {
            match self.access.store_flags(
                &self.folder,
                &[uid],
                FlagOp::Add,
                &["\\Seen".to_string()],
                None,
            ) {
                Ok(change) => {
                    let mut snap = self.snapshot();
                    for m in change.updated {
                        snap.insert(m.uid, m);
                    }
                }
                // The message was read; a flag that could not be set is not worth failing
                // RETR for.
                Err(e) => {
                    Scope::protocol(Protocol::Pop3).emit(Event::FlagError(FlagError {
                        user: self.access.account().address.as_str().into(),
                        uid,
                        reason: e.to_string().into(),
                    }));
                }
            }
        }
        Ok(data)
    }

    fn remove(&self, uids: &[u32]) -> Result<usize, MailError> {
        let doomed: Vec<Message> = {
            let snap = self.snapshot();
            uids.iter().filter_map(|u| snap.get(u).cloned()).collect()
        };
        let gone = self
            .access
            .remove_messages(&self.folder, doomed)
            .map_err(temp)?;
        let mut snap = self.snapshot();
        for u in &gone {
            snap.remove(u);
        }
        Ok(gone.len())
    }
}
