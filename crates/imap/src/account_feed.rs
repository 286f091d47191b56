//! One account's view of the store's change feed, for IMAP NOTIFY (RFC 5465): the store
//! announces every committed change of every account on one bounded broadcast channel
//! ([`mailward_store::Store::subscribe_changes`]); a session that follows its account keeps
//! a receiver and reads it when it may send untagged responses. Nothing queues per session
//! beyond the channel's ring: a session that falls behind is told it lagged and reads the
//! state again (coalesced STATUS, RFC 5465 §5.8).
//!
//! The store names mailboxes of message changes by id; ids are turned into names here,
//! from a map kept up to date by the feed's own create, rename and delete changes and
//! filled from the folder list when an id is new.

use crate::backend::{AccountEvent, AccountEvents};
use mailward_store::{ChangeKind, MailboxChange};
use std::collections::HashMap;
use tokio::sync::broadcast::{Receiver, error::TryRecvError};

/// Mailbox ids remembered (an account with more folders reloads the list more often).
const MAX_NAMES: usize = 100_000;

/// A receiver on the store's feed, filtered to one account.
pub struct AccountFeed {
    rx: Receiver<MailboxChange>,
    account_id: i64,
    names: HashMap<i64, String>,
}

impl AccountFeed {
    pub fn new(rx: Receiver<MailboxChange>, account_id: i64) -> Self {
        AccountFeed {
            rx,
            account_id,
            names: HashMap::new(),
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
            let change = match self.rx.try_recv() {
                Ok(c) => c,
                Err(TryRecvError::Lagged(_)) => {
                    out.lagged = true;
                    continue;
                }
                Err(TryRecvError::Empty) | Err(TryRecvError::Closed) => break,
            };
            if change.account_id != self.account_id {
                continue;
            }
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
