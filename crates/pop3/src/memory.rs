//! An in-memory [`Backend`] for tests and the fuzzer: accounts with passwords and
//! messages, a maildrop lock, and switches that make reads, removals or logins fail.

use crate::backend::{Backend, Entry, Login, MailError, Mailbox, Maildrop};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// One stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub data: Vec<u8>,
    pub seen: bool,
}

#[derive(Debug, Default)]
struct Account {
    password: String,
    /// UID → message.
    messages: BTreeMap<u32, StoredMessage>,
    next_uid: u32,
}

#[derive(Debug, Default)]
struct State {
    accounts: HashMap<String, Account>,
    locked: HashSet<String>,
    fail_reads: bool,
    fail_removals: bool,
    fail_logins: bool,
}

/// The fake store. Clones share the same state.
#[derive(Debug, Clone, Default)]
pub struct MemoryBackend {
    state: Arc<Mutex<State>>,
    pub uidvalidity: u32,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    match state.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl MemoryBackend {
    pub fn new(uidvalidity: u32) -> Self {
        MemoryBackend {
            state: Arc::default(),
            uidvalidity,
        }
    }

    pub fn add_account(&self, user: &str, password: &str) {
        lock(&self.state).accounts.insert(
            user.to_ascii_lowercase(),
            Account {
                password: password.to_string(),
                messages: BTreeMap::new(),
                next_uid: 1,
            },
        );
    }

    /// Delivers a message; returns its UID.
    pub fn deliver(&self, user: &str, data: &[u8]) -> u32 {
        let mut st = lock(&self.state);
        let Some(acct) = st.accounts.get_mut(&user.to_ascii_lowercase()) else {
            return 0;
        };
        let uid = acct.next_uid;
        acct.next_uid += 1;
        acct.messages.insert(
            uid,
            StoredMessage {
                data: data.to_vec(),
                seen: false,
            },
        );
        uid
    }

    /// Removes a message behind the POP3 session's back (as an IMAP client would).
    pub fn expunge(&self, user: &str, uid: u32) {
        if let Some(a) = lock(&self.state)
            .accounts
            .get_mut(&user.to_ascii_lowercase())
        {
            a.messages.remove(&uid);
        }
    }

    /// The account's messages now, by UID.
    pub fn messages(&self, user: &str) -> BTreeMap<u32, StoredMessage> {
        lock(&self.state)
            .accounts
            .get(&user.to_ascii_lowercase())
            .map(|a| a.messages.clone())
            .unwrap_or_default()
    }

    pub fn is_locked(&self, user: &str) -> bool {
        lock(&self.state)
            .locked
            .contains(&user.to_ascii_lowercase())
    }

    pub fn fail_reads(&self, on: bool) {
        lock(&self.state).fail_reads = on;
    }

    pub fn fail_removals(&self, on: bool) {
        lock(&self.state).fail_removals = on;
    }

    pub fn fail_logins(&self, on: bool) {
        lock(&self.state).fail_logins = on;
    }
}

/// An open maildrop of the fake store; dropping it unlocks.
#[derive(Debug)]
pub struct MemoryMailbox {
    state: Arc<Mutex<State>>,
    user: String,
}

impl Drop for MemoryMailbox {
    fn drop(&mut self) {
        lock(&self.state).locked.remove(&self.user);
    }
}

impl Backend for MemoryBackend {
    type Mailbox = MemoryMailbox;

    fn login(&self, user: &str, password: &str) -> Login<MemoryMailbox> {
        let user = user.to_ascii_lowercase();
        let mut st = lock(&self.state);
        if st.fail_logins {
            return Login::TempFail("switched off".into());
        }
        let maildrop = match st.accounts.get(&user) {
            Some(a) if a.password == password => Maildrop {
                uidvalidity: self.uidvalidity,
                messages: a
                    .messages
                    .iter()
                    .map(|(&uid, m)| Entry {
                        uid,
                        size: m.data.len() as u64,
                    })
                    .collect(),
            },
            _ => return Login::BadCredentials,
        };
        if !st.locked.insert(user.clone()) {
            return Login::InUse;
        }
        drop(st);
        Login::Ok {
            account: user.clone(),
            maildrop,
            mailbox: MemoryMailbox {
                state: self.state.clone(),
                user,
            },
        }
    }
}

impl Mailbox for MemoryMailbox {
    fn fetch(&self, uid: u32, mark_seen: bool) -> Result<Vec<u8>, MailError> {
        let mut st = lock(&self.state);
        if st.fail_reads {
            return Err(MailError::Temporary("switched off".into()));
        }
        let m = st
            .accounts
            .get_mut(&self.user)
            .and_then(|a| a.messages.get_mut(&uid))
            .ok_or(MailError::Gone)?;
        if mark_seen {
            m.seen = true;
        }
        Ok(m.data.clone())
    }

    fn remove(&self, uids: &[u32]) -> Result<usize, MailError> {
        let mut st = lock(&self.state);
        if st.fail_removals {
            return Err(MailError::Temporary("switched off".into()));
        }
        let Some(a) = st.accounts.get_mut(&self.user) else {
            return Ok(0);
        };
        Ok(uids
            .iter()
            .filter(|u| a.messages.remove(u).is_some())
            .count())
    }
}
