//! The queue runner: delivers new messages at once, retries deferred ones with exponential
//! back-off, expires what stayed too long. Delivery is idempotent (the store recognises a
//! delivery it already made), so a crash between delivering and updating the queue row
//! never makes a duplicate.

use crate::deliver::local_copy;
use crate::remote::{RemoteTransport, domain_of};
use crate::report;
use crate::sieve::{Decision, Job, SendKind, SieveDelivery};
use mailward_event::{
    Bounced, Deferred, Delivered, Event, Expired, Reason, RedirectSent, ReportQueued, Scope,
    VacationSent,
};
use mailward_message::dsn::Action;
use mailward_store::queue::{
    self, Envelope, Notice, NoticeReceiver, QueueRcpt, RcptOutcome, RcptState,
};
use mailward_store::{
    DeliverRequest, DirectoryStore, MailStore, QueueStore, Recipient, Store, StoreError, ids,
};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, Weak};
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
    /// A recipient still pending this long after arrival gets a delay notice (RFC 3464
    /// `delayed`), once.
    pub delay_warning: Duration,
    /// This server's name: `Reporting-MTA` and `MAILER-DAEMON@` of the reports it sends.
    pub hostname: String,
}

/// Shared state of the runner, over any store with a queue, a directory and mailboxes
/// (SQLite + Maildir by default).
pub struct QueueRunner<S = Store> {
    store: Arc<S>,
    retry: RetrySettings,
    in_flight: Mutex<HashSet<String>>,
    slots: Arc<Semaphore>,
    /// Outbound delivery for recipients that are not local; `None`: they wait.
    remote: Option<Arc<dyn RemoteTransport>>,
    /// Itself, so an attempt can start the delivery of a report it queued.
    me: Weak<QueueRunner<S>>,
    /// Sieve for local recipients, once configured ([`QueueRunner::set_sieve`]).
    sieve: OnceLock<Arc<SieveDelivery>>,
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
    /// A runner that delivers local recipients only (remote ones wait in the queue).
    pub fn new(store: Arc<S>, retry: RetrySettings) -> Arc<QueueRunner<S>> {
        QueueRunner::with_remote(store, retry, None)
    }

    /// A runner that hands remote recipients to `remote`.
    pub fn with_remote(
        store: Arc<S>,
        retry: RetrySettings,
        remote: Option<Arc<dyn RemoteTransport>>,
    ) -> Arc<QueueRunner<S>> {
        let slots = Arc::new(Semaphore::new(retry.concurrency.max(1)));
        Arc::new_cyclic(|me| QueueRunner {
            store,
            retry,
            in_flight: Mutex::new(HashSet::new()),
            slots,
            remote,
            me: me.clone(),
            sieve: OnceLock::new(),
        })
    }

    /// Runs Sieve for local recipients from now on (once; later calls are ignored).
    pub fn set_sieve(&self, sieve: Arc<SieveDelivery>) {
        let _ = self.sieve.set(sieve);
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
                            relay: None,
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
        let warn = now - env.created > self.retry.delay_warning.as_secs() as i64;
        let mut tally = Tally {
            attempt: attempts + 1,
            delay: env.delay_secs(ids::unix_now_ms()),
            expired,
            warn,
            lines: Vec::new(),
        };
        // Local recipients now; remote ones grouped by domain, one transaction each.
        let mut remote: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for idx in 0..env.rcpts.len() {
            let Some(rcpt) = env.rcpts.get(idx).cloned() else {
                continue;
            };
            if rcpt.state != RcptState::Pending {
                continue;
            }
            let outcome = match self.store.resolve(&rcpt.address) {
                Ok(Recipient::NotLocal) => {
                    remote
                        .entry(domain_of(&rcpt.address))
                        .or_default()
                        .push(idx);
                    continue;
                }
                Ok(Recipient::Local { accounts, remote }) => {
                    let local = self
                        .deliver_local(&env, idx, &rcpt.address, &accounts, &body, fresh)
                        .await;
                    if remote.is_empty() || !matches!(local, Outcome::Delivered { .. }) {
                        local
                    } else {
                        self.forward(&env, idx, &remote, &body).await
                    }
                }
                Ok(Recipient::Unknown) => Outcome::Failed {
                    reason: "user unknown".into(),
                    status: "5.1.1".into(),
                    relay: None,
                    reply: None,
                },
                Err(e) => Outcome::deferred(format!("directory lookup failed: {e}")),
            };
            tally.apply(&mut env, idx, outcome);
        }
        for (domain, idxs) in &remote {
            let outcomes = match &self.remote {
                Some(t) => t.deliver(&env, &body, domain, idxs).await,
                None => idxs
                    .iter()
                    .map(|&i| {
                        (
                            i,
                            RcptOutcome::Deferred {
                                reason: "remote delivery is not configured".into(),
                                relay: None,
                            },
                        )
                    })
                    .collect(),
            };
            for (idx, o) in outcomes {
                tally.apply(&mut env, idx, Outcome::from_remote(o));
            }
        }
        let reported = self.send_reports(&mut env, tally.lines, &body).await;
        let done = reported && env.rcpts.iter().all(|r| r.state != RcptState::Pending);
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

    /// Queues the report this attempt owes the sender (and one for recipients an
    /// administrator bounced). False when it could not be queued: the message stays, so the
    /// report is tried again.
    async fn send_reports(
        &self,
        env: &mut Envelope,
        mut lines: Vec<report::Line>,
        body: &[u8],
    ) -> bool {
        for (idx, r) in env.rcpts.iter().enumerate() {
            if r.state == RcptState::Failed
                && !r.reported
                && report::wants(r, "FAILURE")
                && !lines.iter().any(|l| l.index == idx)
            {
                lines.push(report::Line {
                    index: idx,
                    action: Action::Failed,
                    status: "5.0.0".into(),
                    remote_mta: None,
                    reply: None,
                    note: None,
                });
            }
        }
        let now = ids::unix_now();
        let until = env.created + self.retry.max_age.as_secs() as i64;
        let ok = match report::build(env, &lines, &self.retry.hostname, body, now, until) {
            None => true,
            Some(message) => self.queue_report(env, message).await,
        };
        if ok {
            for r in env.rcpts.iter_mut() {
                if r.state != RcptState::Pending {
                    r.reported = true;
                }
            }
        }
        ok
    }

    /// Queues a report to `original.sender` from the null sender (RFC 3461 §6.2) and starts
    /// its delivery.
    async fn queue_report(&self, original: &Envelope, message: Vec<u8>) -> bool {
        let now_ms = ids::unix_now_ms();
        let report = Envelope {
            id: ids::queue_id(),
            created: now_ms.div_euclid(1000),
            created_ms: now_ms,
            sender: String::new(),
            rcpts: vec![QueueRcpt {
                address: original.sender.clone(),
                ..Default::default()
            }],
            size: message.len() as u64,
            message_id: None,
            body: None,
            smtputf8: false,
            requiretls: false,
            ret: None,
            envid: None,
            auth_user: None,
            remote_ip: String::new(),
            session: original.session.clone(),
            ..Default::default()
        };
        match self.store.enqueue(report.clone(), Arc::new(message)).await {
            Ok(()) => {
                Scope::message(&original.id).emit(Event::ReportQueued(ReportQueued {
                    report_id: report.id.as_str().into(),
                    to: original.sender.as_str().into(),
                }));
                if let Some(me) = self.me.upgrade() {
                    me.spawn(report, 0, Source::Notice);
                }
                true
            }
            Err(e) => {
                Scope::message(&original.id).emit(Event::QueueUpdateFailed(Reason::new(format!(
                    "report not queued: {e}"
                ))));
                false
            }
        }
    }

    /// An alias's remote targets (`alias add team@a.test x@b.test`): sent as recipients of
    /// their own, each keeping the alias as its ORCPT; the recipient counts as delivered
    /// only when every target took it.
    async fn forward(
        &self,
        env: &Envelope,
        idx: usize,
        targets: &[String],
        body: &[u8],
    ) -> Outcome {
        let Some(transport) = &self.remote else {
            return Outcome::deferred(format!(
                "forwarding to {} needs remote delivery, which is not configured",
                targets.join(",")
            ));
        };
        let Some(orig) = env.rcpts.get(idx) else {
            return Outcome::deferred("recipient vanished".into());
        };
        let mut fwd = env.clone();
        fwd.rcpts = targets
            .iter()
            .map(|t| QueueRcpt {
                address: t.clone(),
                orcpt: Some(format!("rfc822;{}", orig.address)),
                notify: orig.notify.clone(),
                ..Default::default()
            })
            .collect();
        let mut by_domain: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, t) in targets.iter().enumerate() {
            by_domain.entry(domain_of(t)).or_default().push(i);
        }
        let mut worst: Option<Outcome> = None;
        for (domain, idxs) in &by_domain {
            for (_, o) in transport
                .forward(&fwd, body, domain, idxs, &orig.address)
                .await
            {
                let o = Outcome::from_remote(o);
                let rank = |o: &Outcome| match o {
                    Outcome::Delivered { .. } => 0,
                    Outcome::Deferred { .. } => 1,
                    Outcome::Failed { .. } => 2,
                };
                if worst.as_ref().is_none_or(|w| rank(&o) > rank(w)) {
                    worst = Some(o);
                }
            }
        }
        worst.unwrap_or(Outcome::Delivered {
            remote: None,
            dsn_passed: false,
        })
    }

    fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1u32.checked_shl(attempts.min(20)).unwrap_or(u32::MAX);
        self.retry
            .initial_delay
            .saturating_mul(factor)
            .min(self.retry.max_delay)
    }

    /// The copies for a local recipient's accounts (one for an account, several for an
    /// alias): where the account's Sieve scripts say, or INBOX (Junk for junk).
    async fn deliver_local(
        &self,
        env: &Envelope,
        idx: usize,
        address: &str,
        accounts: &[mailward_store::Account],
        body: &Arc<Vec<u8>>,
        fresh: bool,
    ) -> Outcome {
        let mut deferred = None;
        let mut rejected = None;
        for acct in accounts {
            let decision = match self.sieve.get() {
                Some(sieve) => self.sieve_decide(sieve, env, idx, acct, body).await,
                None => Ok(None),
            };
            let decision = match decision {
                Ok(decision) => decision,
                Err(reason) => {
                    deferred = Some(reason);
                    continue;
                }
            };
            let Some(decision) = decision else {
                // A DMARC `p=quarantine` failure (RFC 9989 §5.8) or the gateway's junk
                // verdict goes into Junk.
                let folder = if env.junk.is_some() { "Junk" } else { "INBOX" };
                let copy = crate::sieve::Copy {
                    folder: folder.into(),
                    flags: Default::default(),
                };
                match self
                    .deliver_copy(env, idx, address, acct, &copy, 0, body, fresh)
                    .await
                {
                    Ok(()) => {}
                    Err(CopyFailure::Deferred(reason)) => deferred = Some(reason),
                    Err(CopyFailure::Failed(outcome)) => return outcome,
                }
                continue;
            };
            let mut stored = true;
            for (number, copy) in decision.copies.iter().enumerate() {
                let copy_index = u32::try_from(number).unwrap_or(u32::MAX);
                match self
                    .deliver_copy(
                        env,
                        idx,
                        address,
                        acct,
                        copy,
                        copy_index,
                        &decision.message,
                        fresh,
                    )
                    .await
                {
                    Ok(()) => {}
                    Err(CopyFailure::Deferred(reason)) => {
                        deferred = Some(reason);
                        stored = false;
                    }
                    Err(CopyFailure::Failed(outcome)) => return outcome,
                }
            }
            // What the script sends and runs happens once its copies are stored (a retry
            // runs the script again).
            if !stored {
                continue;
            }
            self.carry_out(env, idx, acct, &decision).await;
            if let Some(reason) = decision.reject {
                rejected = Some(reason);
            }
        }
        if let Some(reason) = deferred {
            return Outcome::deferred(reason);
        }
        if let Some(reason) = rejected {
            // RFC 5429 §2.1: refused after acceptance, so the refusal reaches the sender as
            // a delivery status notification (the report path), never to the null sender.
            return Outcome::Failed {
                reason: format!("rejected by the recipient's Sieve filter: {reason}"),
                status: "5.7.1".into(),
                relay: None,
                reply: None,
            };
        }
        Outcome::Delivered {
            remote: None,
            dsn_passed: false,
        }
    }

    /// Runs the account's scripts on a blocking thread; `Ok(None)` when it has none.
    async fn sieve_decide(
        &self,
        sieve: &Arc<SieveDelivery>,
        env: &Envelope,
        idx: usize,
        acct: &mailward_store::Account,
        body: &Arc<Vec<u8>>,
    ) -> Result<Option<Decision>, String> {
        let sieve = sieve.clone();
        let env = env.clone();
        let acct = acct.clone();
        let body = body.clone();
        tokio::task::spawn_blocking(move || {
            let rcpt = env.rcpts.get(idx);
            let job = Job {
                queue_id: &env.id,
                sender: &env.sender,
                rcpt: rcpt.map_or(acct.address.as_str(), |r| r.address.as_str()),
                orcpt: rcpt.and_then(|r| r.orcpt.as_deref()),
                auth: env.auth_user.as_deref(),
                remote_ip: Some(env.remote_ip.as_str()),
                junk: env.junk.is_some(),
                account: &acct,
                message: &body,
            };
            sieve.decide(&job)
        })
        .await
        .map_err(|e| format!("sieve run failed: {e}"))
    }

    /// Queues what the script sends (redirects, vacation replies, notifications) and runs
    /// its `pipe` programs.
    async fn carry_out(
        &self,
        env: &Envelope,
        idx: usize,
        acct: &mailward_store::Account,
        decision: &Decision,
    ) {
        for sending in &decision.sendings {
            let out = &sending.outgoing;
            match self
                .queue_message(env, out.from.clone(), &out.to, out.message.clone())
                .await
            {
                Ok(id) => {
                    let to = out.to.join(",");
                    let event = match sending.kind {
                        SendKind::Vacation => Event::VacationSent(VacationSent {
                            account: acct.address.as_str().into(),
                            to: to.as_str().into(),
                            reply_id: id.as_str().into(),
                        }),
                        SendKind::Redirect | SendKind::Notify => {
                            Event::RedirectSent(RedirectSent {
                                account: acct.address.as_str().into(),
                                kind: if sending.kind == SendKind::Redirect {
                                    "redirect"
                                } else {
                                    "notify"
                                }
                                .into(),
                                to: to.as_str().into(),
                                sent_id: id.as_str().into(),
                            })
                        }
                    };
                    Scope::message(&env.id).emit(event);
                }
                Err(e) => {
                    Scope::message(&env.id).emit(Event::QueueUpdateFailed(Reason::new(format!(
                        "sieve message not queued: {e}"
                    ))));
                }
            }
        }
        if decision.pipes.is_empty() {
            return;
        }
        if let Some(sieve) = self.sieve.get() {
            let sieve = sieve.clone();
            let env = env.clone();
            let acct = acct.clone();
            let decision = decision.clone();
            let _ = tokio::task::spawn_blocking(move || {
                let rcpt = env.rcpts.get(idx);
                let job = Job {
                    queue_id: &env.id,
                    sender: &env.sender,
                    rcpt: rcpt.map_or(acct.address.as_str(), |r| r.address.as_str()),
                    orcpt: None,
                    auth: None,
                    remote_ip: None,
                    junk: env.junk.is_some(),
                    account: &acct,
                    message: &decision.message,
                };
                sieve.run_pipes(&job, &decision);
            })
            .await;
        }
    }

    /// Queues a message a script sends on the account's behalf and starts its delivery;
    /// its queue ID.
    async fn queue_message(
        &self,
        original: &Envelope,
        sender: String,
        rcpts: &[String],
        message: Vec<u8>,
    ) -> Result<String, StoreError> {
        let now_ms = ids::unix_now_ms();
        let queued = Envelope {
            id: ids::queue_id(),
            created: now_ms.div_euclid(1000),
            created_ms: now_ms,
            sender,
            rcpts: rcpts
                .iter()
                .map(|address| QueueRcpt {
                    address: address.clone(),
                    ..Default::default()
                })
                .collect(),
            size: message.len() as u64,
            session: original.session.clone(),
            ..Default::default()
        };
        self.store
            .enqueue(queued.clone(), Arc::new(message))
            .await?;
        let id = queued.id.clone();
        if let Some(me) = self.me.upgrade() {
            me.spawn(queued, 0, Source::Notice);
        }
        Ok(id)
    }

    /// Stores one copy for one account (copy `copy_index` of this recipient).
    #[allow(clippy::too_many_arguments)]
    async fn deliver_copy(
        &self,
        env: &Envelope,
        idx: usize,
        address: &str,
        acct: &mailward_store::Account,
        copy: &crate::sieve::Copy,
        copy_index: u32,
        message: &[u8],
        fresh: bool,
    ) -> Result<(), CopyFailure> {
        let data = local_copy(&env.sender, &acct.address, message);
        let mailbox = format!("{}/{}/{}", acct.domain, acct.local, copy.folder);
        let req = DeliverRequest {
            queue_id: env.id.clone(),
            rcpt_index: idx,
            account: acct.clone(),
            folder: copy.folder.clone(),
            arrival: env.created,
            data,
            fresh,
            flags: copy.flags.clone(),
            copy: copy_index,
        };
        match self.store.deliver(req).await {
            Ok(a) => {
                if !a.duplicate {
                    let delay = env.delay_secs(ids::unix_now_ms());
                    Scope::message(&env.id).emit(Event::Delivered(Delivered {
                        to: address.into(),
                        mailbox: Some(mailbox.as_str().into()),
                        uid: Some(a.uid),
                        delay,
                        status: "sent".into(),
                        ..Default::default()
                    }));
                }
                Ok(())
            }
            Err(e @ StoreError::OverQuota { .. }) => Err(CopyFailure::Deferred(format!(
                "4.2.2 mailbox {} full: {e}",
                acct.address
            ))),
            Err(e) if e.is_temporary() => Err(CopyFailure::Deferred(format!("{e}"))),
            Err(e) => Err(CopyFailure::Failed(Outcome::Failed {
                reason: e.to_string(),
                status: "5.3.0".into(),
                relay: None,
                reply: None,
            })),
        }
    }
}

/// Why one copy was not stored.
enum CopyFailure {
    Deferred(String),
    Failed(Outcome),
}

/// What one attempt did to its recipients: applied to the envelope as it goes, with the
/// events and the report lines it owes.
struct Tally {
    attempt: u32,
    delay: f64,
    expired: bool,
    /// Past the delay-warning time.
    warn: bool,
    lines: Vec<report::Line>,
}

impl Tally {
    fn apply(&mut self, env: &mut Envelope, idx: usize, outcome: Outcome) {
        let id = env.id.clone();
        let Some(r) = env.rcpts.get_mut(idx) else {
            return;
        };
        r.attempts += 1;
        let to = r.address.clone();
        match outcome {
            Outcome::Delivered { remote, dsn_passed } => {
                r.state = RcptState::Delivered;
                r.last_error = None;
                let is_remote = remote.is_some();
                if let Some(sent) = remote {
                    Scope::message(&id).emit(Event::Delivered(Delivered {
                        to: to.as_str().into(),
                        relay: Some(sent.relay.as_str().into()),
                        delay: self.delay,
                        status: "sent".into(),
                        tls: sent.tls.as_deref().map(Into::into),
                        reply: Some(sent.reply.as_str().into()),
                        ..Default::default()
                    }));
                }
                // RFC 3461 §5.2.2: a peer that offers DSN was given NOTIFY and reports
                // itself; one that does not gets `relayed` from us (§6.2.6.2).
                if report::wants(r, "SUCCESS") && !(is_remote && dsn_passed) {
                    self.lines.push(report::Line {
                        index: idx,
                        action: if is_remote {
                            Action::Relayed
                        } else {
                            Action::Delivered
                        },
                        status: "2.0.0".into(),
                        remote_mta: None,
                        reply: None,
                        note: None,
                    });
                }
            }
            Outcome::Failed {
                reason,
                status,
                relay,
                reply,
            } => {
                Scope::message(&id).emit(Event::Bounced(Bounced {
                    to: to.as_str().into(),
                    reason: reason.as_str().into(),
                    dsn: status.as_str().into(),
                    relay: relay.as_deref().map(Into::into),
                }));
                r.state = RcptState::Failed;
                r.last_error = Some(reason);
                if report::wants(r, "FAILURE") {
                    self.lines.push(report::Line {
                        index: idx,
                        action: Action::Failed,
                        status,
                        remote_mta: relay,
                        reply,
                        note: None,
                    });
                }
            }
            Outcome::Deferred { reason, relay } if self.expired => {
                Scope::message(&id).emit(Event::Expired(Expired {
                    to: to.as_str().into(),
                    reason: reason.as_str().into(),
                }));
                r.state = RcptState::Failed;
                r.last_error = Some(reason.clone());
                if report::wants(r, "FAILURE") {
                    // RFC 3463 §3.5: 4.4.7, the delivery time expired.
                    self.lines.push(report::Line {
                        index: idx,
                        action: Action::Failed,
                        status: "4.4.7".into(),
                        remote_mta: relay,
                        reply: None,
                        note: Some(format!("gave up after the queue's maximum age: {reason}")),
                    });
                }
            }
            Outcome::Deferred { reason, relay } => {
                Scope::message(&id).emit(Event::Deferred(Deferred {
                    to: to.as_str().into(),
                    reason: reason.as_str().into(),
                    attempt: self.attempt,
                    delay: self.delay,
                    relay: relay.as_deref().map(Into::into),
                }));
                r.last_error = Some(reason.clone());
                if self.warn && !r.delay_notified && report::wants(r, "DELAY") {
                    r.delay_notified = true;
                    self.lines.push(report::Line {
                        index: idx,
                        action: Action::Delayed,
                        status: "4.0.0".into(),
                        remote_mta: relay,
                        reply: None,
                        note: Some(reason),
                    });
                }
            }
        }
    }
}

/// Where the remote side of a delivery went.
struct Sent {
    relay: String,
    reply: String,
    tls: Option<String>,
}

/// One recipient's result in one attempt.
enum Outcome {
    Delivered {
        /// `None` for a local delivery.
        remote: Option<Sent>,
        dsn_passed: bool,
    },
    Deferred {
        reason: String,
        relay: Option<String>,
    },
    Failed {
        reason: String,
        status: String,
        relay: Option<String>,
        reply: Option<String>,
    },
}

impl Outcome {
    fn deferred(reason: String) -> Outcome {
        Outcome::Deferred {
            reason,
            relay: None,
        }
    }

    fn from_remote(o: RcptOutcome) -> Outcome {
        match o {
            RcptOutcome::Sent {
                relay,
                reply,
                tls,
                dsn_passed,
            } => Outcome::Delivered {
                remote: Some(Sent { relay, reply, tls }),
                dsn_passed,
            },
            RcptOutcome::Deferred { reason, relay } => Outcome::Deferred { reason, relay },
            RcptOutcome::Failed {
                reason,
                status,
                relay,
                reply,
            } => Outcome::Failed {
                reason,
                status,
                relay,
                reply,
            },
        }
    }
}
