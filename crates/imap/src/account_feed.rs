//! One account's view of the store's change feed, for IMAP NOTIFY (RFC 5465): the store
//! announces every committed change of every account on one bounded broadcast channel
//! ([`mailward_store::Store::subscribe_changes`]). A session that follows its account has
//! a small task read the channel as changes come, keep its account's (others are dropped
//! at once, so a busy server's other accounts cannot push this one's out of the ring) in a
//! bounded queue and wake the session; the session reads the queue when it may send
//! untagged responses. Nothing grows without bound: past [`QUEUE_MAX`] changes the session
//! is told it lagged and reads the state again (coalesced STATUS, RFC 5465 §5.8). Without a
//! tokio runtime (tests, tools) the session reads the channel itself.
//!
//! The store names mailboxes of message changes by id; ids are turned into names here,
//! from a map kept up to date by the feed's own create, rename and delete changes and
//! filled from the folder list when an id is new.

use crate::backend::{AccountEvent, AccountEvents};
use mailward_store::{ChangeKind, MailboxChange};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::{Receiver, error::RecvError, error::TryRecvError};

/// Mailbox ids remembered (an account with more folders reloads the list more often).
const MAX_NAMES: usize = 100_000;

/// Changes of the account kept for a session that has not read them yet.
pub const QUEUE_MAX: usize = 4096;

type Wake = Arc<dyn Fn() + Send + Sync>;

/// What the feed's task shares with the session.
#[derive(Default)]
struct Queue {
    changes: VecDeque<MailboxChange>,
    lagged: bool,
    /// The session's wake functions (the driver between commands, IDLE), by guard id.
    wakes: Vec<(u64, Wake)>,
    next_id: u64,
}

impl Queue {
    fn wakes(&self) -> Vec<Wake> {
        self.wakes.iter().map(|(_, w)| w.clone()).collect()
    }
}

fn lock(q: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    q.lock().unwrap_or_else(|p| p.into_inner())
}

enum Source {
    /// Read by the session itself.
    Direct(Receiver<MailboxChange>),
    /// Filled by a task on the runtime.
    Task {
        queue: Arc<Mutex<Queue>>,
        task: tokio::task::JoinHandle<()>,
    },
}

/// Stops calling the wake function registered by [`AccountFeed::on_change`] when dropped.
pub struct WakeGuard(std::sync::Weak<Mutex<Queue>>, u64);

impl Drop for WakeGuard {
    fn drop(&mut self) {
        if let Some(q) = self.0.upgrade() {
            lock(&q).wakes.retain(|(id, _)| *id != self.1);
        }
    }
}

/// A receiver on the store's feed, filtered to one account.
pub struct AccountFeed {
    source: Source,
    account_id: i64,
    names: HashMap<i64, String>,
}

impl Drop for AccountFeed {
    fn drop(&mut self) {
        if let Source::Task { task, .. } = &self.source {
            task.abort();
        }
    }
}

async fn fill(mut rx: Receiver<MailboxChange>, account_id: i64, queue: Arc<Mutex<Queue>>) {
    loop {
        let wake = match rx.recv().await {
            Ok(c) if c.account_id == account_id => {
                let mut q = lock(&queue);
                if q.changes.len() >= QUEUE_MAX {
                    q.lagged = true;
                } else {
                    q.changes.push_back(c);
                }
                q.wakes()
            }
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => {
                let mut q = lock(&queue);
                q.lagged = true;
                q.wakes()
            }
            Err(RecvError::Closed) => break,
        };
        for w in wake {
            w();
        }
    }
}

impl AccountFeed {
    /// Follows `account_id` on `rx`, through a task when a tokio runtime is at hand.
    pub fn new(rx: Receiver<MailboxChange>, account_id: i64) -> Self {
        let source = match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let queue = Arc::new(Mutex::new(Queue::default()));
                let task = handle.spawn(fill(rx, account_id, queue.clone()));
                Source::Task { queue, task }
            }
            Err(_) => Source::Direct(rx),
        };
        AccountFeed {
            source,
            account_id,
            names: HashMap::new(),
        }
    }

    /// Calls `wake` on each change of the account until the guard is dropped; `None` when
    /// the feed has no task (the caller watches the channel itself).
    pub fn on_change(&self, wake: Box<dyn Fn() + Send + Sync>) -> Option<WakeGuard> {
        let Source::Task { queue, .. } = &self.source else {
            return None;
        };
        let wake: Wake = Arc::from(wake);
        let (id, pending) = {
            let mut q = lock(queue);
            let id = q.next_id;
            q.next_id += 1;
            q.wakes.push((id, wake.clone()));
            (id, !q.changes.is_empty() || q.lagged)
        };
        // Changes that came before the wake function did.
        if pending {
            wake();
        }
        Some(WakeGuard(Arc::downgrade(queue), id))
    }

    /// The next change of the account, and whether some were lost.
    fn next(&mut self, lagged: &mut bool) -> Option<MailboxChange> {
        match &mut self.source {
            Source::Direct(rx) => loop {
                match rx.try_recv() {
                    Ok(c) if c.account_id == self.account_id => return Some(c),
                    Ok(_) => {}
                    Err(TryRecvError::Lagged(_)) => *lagged = true,
                    Err(TryRecvError::Empty) | Err(TryRecvError::Closed) => return None,
                }
            },
            Source::Task { queue, .. } => {
                let mut q = lock(queue);
                if std::mem::take(&mut q.lagged) {
                    *lagged = true;
                }
                q.changes.pop_front()
            }
        }
    }

    /// The account's changes waiting on the channel, at most `max` of them; `folders` lists
    /// the account's (id, name) pairs when a change names an unknown id (at most once per
    /// call). The message changes of one mailbox are merged into its first.
    pub fn drain(
        &mut self,
        max: usize,
        mut folders: impl FnMut() -> Vec<(i64, String)>,
    ) -> AccountEvents {
        let mut out = AccountEvents::default();
        let mut merged: HashMap<String, usize> = HashMap::new();
        let mut reloaded = false;
        let mut taken = 0usize;
        while taken < max {
            let Some(change) = self.next(&mut out.lagged) else {
                break;
            };
            taken += 1;
            let event = match change.kind {
                ChangeKind::Messages(m) => {
                    if !self.names.contains_key(&change.mailbox_id) && !reloaded {
                        reloaded = true;
                        if self.names.len() > MAX_NAMES {
                            self.names.clear();
                        }
                        self.names.extend(folders());
                    }
                    let Some(name) = self.names.get(&change.mailbox_id) else {
                        continue; // gone meanwhile
                    };
                    if let Some(&i) = merged.get(name) {
                        if let Some(AccountEvent::Messages {
                            added,
                            expunged,
                            flags,
                            ..
                        }) = out.events.get_mut(i)
                        {
                            *added |= m.added;
                            *expunged |= m.expunged;
                            *flags |= m.flags;
                        }
                        continue;
                    }
                    merged.insert(name.clone(), out.events.len());
                    AccountEvent::Messages {
                        mailbox: name.clone(),
                        added: m.added,
                        expunged: m.expunged,
                        flags: m.flags,
                    }
                }
                ChangeKind::Created { name } => {
                    self.names.insert(change.mailbox_id, name.to_string());
                    AccountEvent::Created(name.to_string())
                }
                ChangeKind::Deleted { name } => {
                    self.names.remove(&change.mailbox_id);
                    merged.remove(name.as_ref());
                    AccountEvent::Deleted(name.to_string())
                }
                ChangeKind::Renamed { from, to } => {
                    self.names.insert(change.mailbox_id, to.to_string());
                    merged.remove(from.as_ref());
                    AccountEvent::Renamed {
                        from: from.to_string(),
                        to: to.to_string(),
                    }
                }
                ChangeKind::Subscription { name, subscribed } => AccountEvent::Subscription {
                    name: name.to_string(),
                    subscribed,
                },
            };
            out.events.push(event);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailward_store::MessageEvents;

    fn change(account_id: i64, mailbox_id: i64, kind: ChangeKind) -> MailboxChange {
        MailboxChange {
            account_id,
            mailbox_id,
            highestmodseq: 1,
            kind,
        }
    }

    #[test]
    fn other_accounts_are_skipped_and_message_changes_merged() {
        let (tx, rx) = tokio::sync::broadcast::channel(16);
        let mut feed = AccountFeed::new(rx, 7);
        tx.send(change(7, 1, ChangeKind::added())).unwrap();
        tx.send(change(8, 1, ChangeKind::added())).unwrap();
        tx.send(change(7, 1, ChangeKind::Messages(MessageEvents::FLAGS)))
            .unwrap();
        tx.send(change(7, 2, ChangeKind::Created { name: "New".into() }))
            .unwrap();
        tx.send(change(7, 2, ChangeKind::Messages(MessageEvents::EXPUNGED)))
            .unwrap();
        let mut listed = 0;
        let got = feed.drain(100, || {
            listed += 1;
            vec![(1, "INBOX".to_string())]
        });
        assert_eq!(listed, 1);
        assert!(!got.lagged);
        assert_eq!(
            got.events,
            vec![
                AccountEvent::Messages {
                    mailbox: "INBOX".into(),
                    added: true,
                    expunged: false,
                    flags: true
                },
                AccountEvent::Created("New".into()),
                AccountEvent::Messages {
                    mailbox: "New".into(),
                    added: false,
                    expunged: true,
                    flags: false
                },
            ]
        );
    }

    #[test]
    fn renames_follow_the_id_and_unknown_ids_are_dropped() {
        let (tx, rx) = tokio::sync::broadcast::channel(16);
        let mut feed = AccountFeed::new(rx, 1);
        tx.send(change(
            1,
            3,
            ChangeKind::Renamed {
                from: "a".into(),
                to: "b".into(),
            },
        ))
        .unwrap();
        tx.send(change(1, 3, ChangeKind::added())).unwrap();
        tx.send(change(1, 99, ChangeKind::added())).unwrap();
        let got = feed.drain(100, Vec::new);
        assert_eq!(
            got.events[1],
            AccountEvent::Messages {
                mailbox: "b".into(),
                added: true,
                expunged: false,
                flags: false
            }
        );
        assert_eq!(got.events.len(), 2);
    }

    #[test]
    fn the_task_keeps_only_the_account_and_wakes_the_session() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, rx) = tokio::sync::broadcast::channel(4);
            let mut feed = AccountFeed::new(rx, 1);
            let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let w = woken.clone();
            let guard = feed.on_change(Box::new(move || {
                w.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }));
            assert!(guard.is_some());
            // A second watcher (IDLE while the driver waits between commands) is woken too.
            let w2 = woken.clone();
            let second = feed.on_change(Box::new(move || {
                w2.fetch_add(100, std::sync::atomic::Ordering::SeqCst);
            }));
            drop(second);
            // Many more changes of other accounts than the channel holds: read as they
            // come, they push nothing of this account's out.
            for i in 0..50 {
                let account = if i % 10 == 0 { 1 } else { 2 };
                tx.send(change(
                    account,
                    0,
                    ChangeKind::Subscription {
                        name: format!("m{i}").into(),
                        subscribed: true,
                    },
                ))
                .unwrap();
                tokio::task::yield_now().await;
            }
            let got = feed.drain(100, Vec::new);
            assert!(!got.lagged);
            assert_eq!(got.events.len(), 5);
            assert_eq!(woken.load(std::sync::atomic::Ordering::SeqCst), 5);
            drop(guard);
            tx.send(change(1, 0, ChangeKind::added())).unwrap();
            tokio::task::yield_now().await;
            assert_eq!(woken.load(std::sync::atomic::Ordering::SeqCst), 5);
        });
    }

    #[test]
    fn a_receiver_that_falls_behind_is_told_so_and_bounded() {
        let (tx, rx) = tokio::sync::broadcast::channel(4);
        let mut feed = AccountFeed::new(rx, 1);
        for i in 0..10 {
            tx.send(change(
                1,
                0,
                ChangeKind::Subscription {
                    name: format!("m{i}").into(),
                    subscribed: true,
                },
            ))
            .unwrap();
        }
        let got = feed.drain(2, Vec::new);
        assert!(got.lagged);
        assert_eq!(got.events.len(), 2);
        let rest = feed.drain(100, Vec::new);
        assert_eq!(rest.events.len(), 2);
        assert!(!rest.lagged);
    }
}
