//! The queue runner: delivers new messages at once, retries deferred ones with exponential
//! back-off, expires what stayed too long. Delivery is idempotent (the store recognises a
//! delivery it already made), so a crash between delivering and updating the queue row
//! never makes a duplicate.

use crate::deliver::local_copy;
use mailward_event::{Bounced, Deferred, Delivered, Event, Expired, Reason, Scope};
use mailward_store::queue::{self, Envelope, Notice, NoticeReceiver, RcptState};
use mailward_store::{
    DeliverRequest, DirectoryStore, MailStore, QueueStore, Recipient, Store, StoreError, ids,
};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

/// Retry schedule.
#[derive(Debug, Clone)]
pub struct RetrySettings {
    /// First retry after this; doubles each time up to `max_delay`.
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// Give up after this long in the queue (RFC 5321 §4.5.4.1: at least 4-5 days).
    pub max_age: Duration,
    /// How often the queue is scanned for due entries.
    pub scan_interval: Duration,
    /// Messages delivered at the same time.
    pub concurrency: usize,
}

/// Shared state of the runner, over any store with a queue, a directory and mailboxes
/// (SQLite + Maildir by default).
pub struct QueueRunner<S = Store> {
    store: Arc<S>,
    retry: RetrySettings,
    in_flight: Mutex<HashSet<String>>,
    slots: Arc<Semaphore>,
}

enum Outcome {
    Delivered,
    Deferred(String),
    Failed(String, &'static str),
}

/// Where an attempt's message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Handed over by the server just after it was queued.
    Notice,
    /// Found by a scan of the queue.
    Scan,
}

impl<S: QueueStore + DirectoryStore + MailStore> QueueRunner<S> {
    pub fn new(store: Arc<S>, retry: RetrySettings) -> Arc<QueueRunner<S>> {
        let slots = Arc::new(Semaphore::new(retry.concurrency.max(1)));
        Arc::new(QueueRunner {
            store,
            retry,
            in_flight: Mutex::new(HashSet::new()),
            slots,
        })
    }

    fn claim(&self, id: &str) -> bool {
        match self.in_flight.lock() {
            Ok(mut g) => g.insert(id.to_string()),
            Err(p) => p.into_inner().insert(id.to_string()),
        }
    }

    fn release(&self, id: &str) {
        match self.in_flight.lock() {
            Ok(mut g) => g.remove(id),
            Err(p) => p.into_inner().remove(id),
        };
    }

    /// Runs until `shutdown` turns true.
    ///
    /// The loop never waits for a delivery slot: every notice is claimed the moment it is
    /// received, so a message handed over by the server is in flight (and skipped by the
    /// scan) long before its row's first scan-driven attempt is due, however far delivery
    /// lags behind ([`mailward_store::FRESH_GRACE_SECS`]).
    ///
    /// The notice channel is bounded ([`mailward_store::queue::notice`]): when the server
    /// had to drop notices, the runner hears [`Notice::Missed`] and scans the queue for
    /// every message not yet attempted, so those are delivered at once too.
    pub async fn run(
        self: Arc<Self>,
        mut notices: NoticeReceiver,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(self.retry.scan_interval);
        // At start everything queued is due: a crash may have left fresh messages behind.
        self.clone().scan(i64::MAX);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                notice = notices.recv() => match notice {
                    Notice::Queued(n) => self.clone().spawn(n.envelope, 0, Source::Notice),
                    Notice::Missed => {
                        self.clone().claim_waiting(&mut notices);
                        self.clone().scan_new(ids::unix_now());
                    }
                    Notice::Closed => break,
                },
                _ = tick.tick() => {
                    // Claim every notice already handed over before looking at the table.
                    self.clone().claim_waiting(&mut notices);
                    self.clone().scan(ids::unix_now());
                }
            }
        }
    }

    /// Starts every notice already waiting in the channel.
    fn claim_waiting(self: Arc<Self>, notices: &mut NoticeReceiver) {
        while let Some(n) = notices.try_recv() {
            self.clone().spawn(n.envelope, 0, Source::Notice);
        }
    }

    fn scan(self: Arc<Self>, now: i64) {
        let due = self.store.due(now, 10_000);
        self.start_scanned(due);
    }

    /// After dropped notices: what is due and every message not attempted yet (those
    /// whose notice was dropped among them), however far their first attempt is.
    fn scan_new(self: Arc<Self>, now: i64) {
        let due = self.store.due_or_new(now, 10_000);
        self.start_scanned(due);
    }

    fn start_scanned(self: Arc<Self>, due: Result<Vec<queue::QueueEntry>, StoreError>) {
        match due {
            Ok(entries) => {
                for e in entries {
                    self.clone().spawn(e.envelope, e.attempts, Source::Scan);
                }
            }
            Err(e) => {
                Scope::service().emit(Event::QueueScanFailed(Reason::new(e.to_string())));
            }
        }
    }

    /// Claims the message and starts its attempt, which waits for a delivery slot.
    fn spawn(self: Arc<Self>, envelope: Envelope, attempts: u32, source: Source) {
        if !self.claim(&envelope.id) {
            return;
        }
        let slots = self.slots.clone();
        tokio::spawn(async move {
            let id = envelope.id.clone();
            if let Ok(_permit) = slots.acquire_owned().await {
                self.attempt(envelope, attempts, source).await;
            }
            self.release(&id);
        });
    }

    fn current_row(&self, id: &str) -> Result<Option<queue::QueueEntry>, StoreError> {
        self.store.queued(id)
    }

    /// One delivery attempt of one message.
    async fn attempt(&self, env: Envelope, attempts: u32, source: Source) {
        // Handed over by the server: the body is read now that a delivery slot is free (a
        // notice carries none). When that fails, the attempt goes on as a scan's would.
        let body = match source {
            Source::Notice => self.store.read_body(&env.id).ok().map(Arc::new),
            Source::Scan => None,
        };
        // Handed over by the server: the first attempt ever for this message.
        let fresh = body.is_some() && attempts == 0;
        let (mut env, attempts, body) = match body {
            Some(b) => (env, attempts, b),
            // From a scan: the row read then may have changed since (an attempt that was in
            // flight finished), so work from the row as it is now; gone means done.
            None => match self.current_row(&env.id) {
                Ok(Some(fresh)) => match self.store.read_body(&env.id) {
                    Ok(b) => (fresh.envelope, fresh.attempts, Arc::new(b)),
                    Err(e) => {
                        Scope::message(&env.id).emit(Event::Deferred(Deferred {
                            to: "".into(),
                            reason: format!("spool file unreadable: {e}").into(),
                            attempt: fresh.attempts + 1,
                            delay: fresh.envelope.delay_secs(ids::unix_now_ms()),
                        }));
                        let next = ids::unix_now() + self.backoff(fresh.attempts).as_secs() as i64;
                        let _ = self
                            .store
                            .update_queued(fresh.envelope, next, fresh.attempts + 1)
                            .await;
                        return;
                    }
                },
                Ok(None) => return,
                Err(e) => {
                    Scope::message(&env.id)
                        .emit(Event::QueueScanFailed(Reason::new(e.to_string())));
                    return;
                }
            },
        };
        let now = ids::unix_now();
        let expired = now - env.created > self.retry.max_age.as_secs() as i64;
        let delay = env.delay_secs(ids::unix_now_ms());
        for idx in 0..env.rcpts.len() {
            let Some(rcpt) = env.rcpts.get(idx).cloned() else {
                continue;
            };
            if rcpt.state != RcptState::Pending {
                continue;
            }
            let outcome = self
                .deliver_rcpt(&env, idx, &rcpt.address, &body, fresh)
                .await;
            let Some(r) = env.rcpts.get_mut(idx) else {
                continue;
            };
            r.attempts += 1;
            match outcome {
                Outcome::Delivered => r.state = RcptState::Delivered,
                Outcome::Failed(reason, dsn) => {
                    Scope::message(&env.id).emit(Event::Bounced(Bounced {
                        to: rcpt.address.as_str().into(),
                        reason: reason.as_str().into(),
                        dsn: dsn.into(),
                    }));
                    r.state = RcptState::Failed;
                    r.last_error = Some(reason);
                }
                Outcome::Deferred(reason) if expired => {
                    Scope::message(&env.id).emit(Event::Expired(Expired {
                        to: rcpt.address.as_str().into(),
                        reason: reason.as_str().into(),
                    }));
                    r.state = RcptState::Failed;
                    r.last_error = Some(reason);
                }
                Outcome::Deferred(reason) => {
                    Scope::message(&env.id).emit(Event::Deferred(Deferred {
                        to: rcpt.address.as_str().into(),
                        reason: reason.as_str().into(),
                        attempt: attempts + 1,
                        delay,
                    }));
                    r.last_error = Some(reason);
                }
            }
        }
        let done = env.rcpts.iter().all(|r| r.state != RcptState::Pending);
        let result = if done {
            self.store.remove_queued(&env.id).await
        } else {
            let next = ids::unix_now() + self.backoff(attempts).as_secs() as i64;
            self.store
                .update_queued(env.clone(), next, attempts + 1)
                .await
        };
        if let Err(e) = result {
            Scope::message(&env.id).emit(Event::QueueUpdateFailed(Reason::new(e.to_string())));
        }
    }

    fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1u32.checked_shl(attempts.min(20)).unwrap_or(u32::MAX);
        self.retry
            .initial_delay
            .saturating_mul(factor)
            .min(self.retry.max_delay)
    }

    async fn deliver_rcpt(
        &self,
        env: &Envelope,
        idx: usize,
        address: &str,
        body: &[u8],
        fresh: bool,
    ) -> Outcome {
        let resolved = self.store.resolve(address);
        let (accounts, remote) = match resolved {
            Ok(Recipient::Local { accounts, remote }) => (accounts, remote),
            Ok(Recipient::NotLocal) => {
                return Outcome::Deferred(
                    "remote delivery is not available yet (no outbound transport)".into(),
                );
            }
            Ok(Recipient::Unknown) => return Outcome::Failed("user unknown".into(), "5.1.1"),
            Err(e) => return Outcome::Deferred(format!("directory lookup failed: {e}")),
        };
        let mut deferred = None;
        for acct in accounts {
            let data = local_copy(&env.sender, &acct.address, body);
            let mailbox = format!("{}/{}/INBOX", acct.domain, acct.local);
            let req = DeliverRequest {
                queue_id: env.id.clone(),
                rcpt_index: idx,
                account: acct.clone(),
                folder: "INBOX".into(),
                arrival: env.created,
                data,
                fresh,
            };
            match self.store.deliver(req).await {
                Ok(a) => {
                    if !a.duplicate {
                        let delay = env.delay_secs(ids::unix_now_ms());
                        Scope::message(&env.id).emit(Event::Delivered(Delivered {
                            to: address.into(),
                            mailbox: Some(mailbox.as_str().into()),
                            relay: None,
                            uid: Some(a.uid),
                            delay,
                            status: "sent".into(),
                        }));
                    }
                }
                Err(e @ StoreError::OverQuota { .. }) => {
                    deferred = Some(format!("4.2.2 mailbox {} full: {e}", acct.address));
                }
                Err(e) if e.is_temporary() => deferred = Some(format!("{e}")),
                Err(e) => return Outcome::Failed(e.to_string(), "5.3.0"),
            }
        }
        if !remote.is_empty() {
            deferred.get_or_insert_with(|| {
                format!(
                    "forwarding to {} is not available yet (no outbound transport)",
                    remote.join(",")
                )
            });
        }
        match deferred {
            Some(reason) => Outcome::Deferred(reason),
            None => Outcome::Delivered,
        }
    }
}
