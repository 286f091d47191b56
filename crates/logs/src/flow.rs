//! Flow reconstruction: one [`Flow`] per message, built by a state machine over [`Record`]s.
//!
//! # Queue IDs and hand-offs
//!
//! Each log line names a queue ID; lines with the same ID belong to one message. A message
//! can change queue ID without being a new message:
//!
//! * **content filter / re-injection** — Postfix hands the message to a filter
//!   (`relay=127.0.0.1[127.0.0.1]:10025 ... status=sent (250 2.0.0 Ok: queued as B)`) and the
//!   filter re-injects it, where it arrives as queue ID `B` (`B: client=localhost[127.0.0.1]`);
//! * **local forwarding** — local(8) `status=sent (forwarded as B)`;
//! * **before-queue filters** — smtpd `B: client=..., orig_queue_id=A`.
//!
//! Such a `B` is linked into `A`'s flow when it is a hand-off: `B` arrived from the relay's
//! address (or both are loopback), or the hand-off was a local forward. The lines may come in
//! either order (the re-injected message usually appears *before* the filter's `250` reply is
//! logged), so a finished flow that could be a hand-off target — its client is loopback, a
//! private address, a known hand-off address, or it has no network client — is held for
//! [`HOLD_WINDOW_SECS`] of log time before it is emitted; a hand-off to a loopback or private
//! relay waits as long for its target. A linked flow is one message: it is received once and
//! each recipient is delivered once, at the end of the chain.
//!
//! # Completion
//!
//! A flow is complete when every queue ID in it has left the queue (Postfix `removed`, Exim
//! `Completed`); for mailward logs, which have no removal event, when every recipient has a
//! final status. Whatever is still open at the end of the input is emitted as incomplete.

#![allow(
    clippy::vec_box,
    reason = "finished flows are boxed: a pointer moves through the ready list, the summary thread and back cheaper than a 300-byte Flow"
)]

use crate::event::{Delivery, Event, Received, Record, Source, Status};
use crate::fasthash::{FxHashMap, FxHashSet, StrMap};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::net::IpAddr;

/// How long (log time) a finished flow that could be a hand-off target waits for its parent,
/// and how long a hand-off waits for its target to appear.
pub const HOLD_WINDOW_SECS: i64 = 300;

/// One recipient of a message and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_to: Option<String>,
    pub status: Status,
    /// Delivery attempts logged (deferrals plus the final attempt).
    pub attempts: u32,
    pub deferrals: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay_host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay_ip: Option<String>,
    /// Delivered (or attempted) over SMTP/LMTP to another host rather than to a local mailbox,
    /// command or file.
    pub remote: bool,
    /// Seconds from arrival to the final status, summed over hand-offs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<f64>,
    /// Postfix's per-stage delays of the final attempt: before the queue manager, in the queue
    /// manager, connection setup, transmission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delays: Option<[f32; 4]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
    /// The queue ID this recipient was handed off to (content filter, forward).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handed_off_to: Option<String>,
    #[serde(skip)]
    handoff_delay: f64,
}

impl Recipient {
    fn new(to: &str) -> Self {
        Recipient {
            to: to.to_owned(),
            orig_to: None,
            status: Status::Pending,
            attempts: 0,
            deferrals: 0,
            relay: None,
            relay_host: None,
            relay_ip: None,
            remote: false,
            delay: None,
            delays: None,
            dsn: None,
            response: None,
            time: None,
            handed_off_to: None,
            handoff_delay: 0.0,
        }
    }
}

/// One message's story. Serialized as `mailward logs flows --json` prints it; deserializing
/// reads that output back (tests and tools), without the engine's private state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// Queue IDs in hand-off order; the first is the original.
    pub queue_ids: Vec<String>,
    pub source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    /// Envelope sender (`""` for the null sender `<>`).
    pub from: Option<String>,
    pub size: Option<u64>,
    pub message_id: Option<String>,
    pub client_host: Option<String>,
    pub client_ip: Option<String>,
    pub sasl_user: Option<String>,
    /// Submitted locally (Postfix pickup, sendmail) rather than over the network.
    pub local_submission: bool,
    /// The arrival of the message is in the log (not only later lines).
    pub arrival_seen: bool,
    /// For a delivery status notification: the queue ID of the message it reports on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_of: Option<String>,
    /// Why the whole message was refused after it got a queue ID (milter, header checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
    pub recipients: Vec<Recipient>,
    /// Every queue ID of the flow left the queue.
    pub complete: bool,
    /// The raw log lines, when the story is kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    #[serde(skip)]
    removed: Removed,
    #[serde(skip)]
    outgoing_links: u32,
    #[serde(skip)]
    expected_rcpts: u32,
}

impl Flow {
    fn new(qid: &str, source: Source, time: Option<Timestamp>) -> Self {
        Flow {
            queue_ids: vec![qid.to_owned()],
            source,
            first_seen: time,
            last_seen: time,
            from: None,
            size: None,
            message_id: None,
            client_host: None,
            client_ip: None,
            sasl_user: None,
            local_submission: false,
            arrival_seen: false,
            notification_of: None,
            rejected: None,
            recipients: Vec::new(),
            complete: false,
            lines: Vec::new(),
            removed: Removed::default(),
            outgoing_links: 0,
            expected_rcpts: 0,
        }
    }

    /// The status of the flow as a whole for `--status`: true when any recipient has `s`
    /// (`rejected` matches a refused message).
    pub fn has_status(&self, s: &str) -> bool {
        if s == "rejected" {
            return self.rejected.is_some();
        }
        self.recipients.iter().any(|r| r.status.as_str() == s)
    }

    fn recipient_mut(&mut self, to: &str, orig_to: Option<&str>) -> &mut Recipient {
        let idx = self.recipients.iter().position(|r| {
            r.to.eq_ignore_ascii_case(to)
                || orig_to.is_some_and(|o| {
                    r.to.eq_ignore_ascii_case(o)
                        || r.orig_to
                            .as_deref()
                            .is_some_and(|ro| ro.eq_ignore_ascii_case(o))
                })
        });
        let idx = match idx {
            Some(i) => i,
            None => {
                // Room for the recipients the log announced (`nrcpt=`), else one: a plain
                // push reserves four, a block large enough to be slow to allocate, for
                // messages that mostly have one or two.
                let len = self.recipients.len();
                if len == self.recipients.capacity() {
                    let announced = usize::try_from(self.expected_rcpts).unwrap_or(0);
                    self.recipients
                        .reserve_exact(announced.saturating_sub(len).clamp(1, 64).max(len));
                }
                self.recipients.push(Recipient::new(to));
                self.recipients.len() - 1
            }
        };
        // `idx` is in range by construction; `get_mut` keeps the no-panic rule anyway.
        match self.recipients.get_mut(idx) {
            Some(r) => r,
            None => unreachable_recipient(),
        }
    }

    fn all_final(&self) -> bool {
        !self.recipients.is_empty()
            && self.recipients.len() as u32 >= self.expected_rcpts
            && self
                .recipients
                .iter()
                .all(|r| matches!(r.status, Status::Sent | Status::Bounced | Status::Expired))
    }

    fn is_done(&self) -> bool {
        if self.outgoing_links > 0 {
            return false;
        }
        if self.rejected.is_some() {
            return true;
        }
        match self.source {
            Source::Mailward => self.all_final(),
            _ => self.removed.all(self.queue_ids.len()),
        }
    }

    /// Could this flow be the re-injected half of another (so worth holding)?
    fn may_be_handoff_target(&self, handoff_ips: &FxHashSet<String>) -> bool {
        match self.client_ip.as_deref() {
            None => self.notification_of.is_none(),
            Some(ip) => is_local_ip(ip) || handoff_ips.contains(ip),
        }
    }
}

/// Which queue IDs of a flow have left the queue (bit `i` for `queue_ids[i]`); a bit set
/// instead of a vector, as nearly every flow has one or two queue IDs.
#[derive(Debug, Clone, Default, PartialEq)]
struct Removed {
    first: u64,
    /// Queue IDs from the 65th on (a chain of hand-offs that long is a crafted log).
    more: Vec<bool>,
}

impl Removed {
    fn set(&mut self, i: usize) {
        match i.checked_sub(64) {
            None => self.first |= 1 << i,
            Some(j) => {
                if self.more.len() <= j {
                    self.more.resize(j + 1, false);
                }
                if let Some(slot) = self.more.get_mut(j) {
                    *slot = true;
                }
            }
        }
    }

    fn get(&self, i: usize) -> bool {
        match i.checked_sub(64) {
            None => self.first & (1 << i) != 0,
            Some(j) => self.more.get(j).copied().unwrap_or(false),
        }
    }

    /// Every one of the first `n` queue IDs removed.
    fn all(&self, n: usize) -> bool {
        if n <= 64 {
            let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            return self.first & mask == mask;
        }
        (0..n).all(|i| self.get(i))
    }

    /// Appends `other`, the flags of queue IDs that now start at index `at`.
    fn append(&mut self, other: Removed, at: usize) {
        for i in 0..64 + other.more.len() {
            if other.get(i) {
                self.set(at + i);
            }
        }
    }
}

/// `*slot = v.map(str::to_owned)`, reusing the string already there.
fn assign(slot: &mut Option<String>, v: Option<&str>) {
    match (slot.as_mut(), v) {
        (Some(s), Some(v)) => {
            s.clear();
            s.push_str(v);
        }
        (_, v) => *slot = v.map(str::to_owned),
    }
}

#[cold]
fn unreachable_recipient() -> ! {
    // Only reachable if Vec::push failed to push, which it cannot.
    std::process::abort()
}

/// Loopback (RFC 5735/RFC 4291), RFC 1918 private or RFC 4193 unique-local address.
pub fn is_local_ip(ip: &str) -> bool {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback() || v4.is_private(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback() || (v6.segments().first().is_some_and(|s| s & 0xfe00 == 0xfc00))
        }
        Err(_) => ip == "localhost",
    }
}

fn is_loopback(ip: &str) -> bool {
    ip.parse::<IpAddr>()
        .map(|a| a.is_loopback())
        .unwrap_or(false)
}

type FlowId = u64;

#[derive(Debug)]
struct Link {
    parent: FlowId,
    relay_ip: Option<String>,
    local_forward: bool,
}

/// The state machine. Feed records with [`FlowEngine::process`]; take finished flows with
/// [`FlowEngine::drain_ready`]; call [`FlowEngine::finish`] at the end of the input.
#[derive(Debug, Default)]
pub struct FlowEngine {
    /// Boxed: a flow is moved from here to the ready list, to the summary and to the sink,
    /// and a pointer moves cheaper than the 300-odd bytes of a `Flow`.
    flows: FxHashMap<FlowId, Box<Flow>>,
    by_qid: StrMap<FlowId>,
    /// Hand-offs whose target queue ID has not appeared yet: target qid -> link.
    links: FxHashMap<String, Link>,
    link_expiry: VecDeque<(Timestamp, String)>,
    held: VecDeque<(Timestamp, FlowId)>,
    handoff_ips: FxHashSet<String>,
    next_id: FlowId,
    now: Timestamp,
    keep_lines: bool,
    /// Leave out what only a printed flow shows (see [`FlowEngine::summary_only`]).
    lean: bool,
    ready: Vec<Box<Flow>>,
}

impl FlowEngine {
    /// A new engine; `keep_lines` keeps each flow's raw log lines (for `flows`).
    pub fn new(keep_lines: bool) -> Self {
        FlowEngine {
            keep_lines,
            ..FlowEngine::default()
        }
    }

    /// Flows for a summary only: they lack the Message-ID, SASL user, relays, DSN and reply
    /// text of each recipient, which no count needs (and which cost an allocation each).
    pub fn summary_only(mut self) -> Self {
        self.lean = true;
        self
    }

    /// Finished flows since the last call.
    pub fn drain_ready(&mut self) -> std::vec::Drain<'_, Box<Flow>> {
        self.ready.drain(..)
    }

    /// True when finished flows are waiting.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Emits everything still open (end of input).
    pub fn finish(&mut self) {
        self.links.clear();
        self.link_expiry.clear();
        self.held.clear();
        let mut ids: Vec<FlowId> = self.flows.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(mut f) = self.flows.remove(&id) {
                f.outgoing_links = 0;
                f.complete = f.is_done();
                self.ready.push(f);
            }
        }
        self.by_qid.clear();
    }

    /// Advances the log clock: emits held flows and drops hand-offs whose wait is over.
    pub fn tick(&mut self, now: Timestamp) {
        if now > self.now {
            self.now = now;
        }
        while let Some(&(deadline, _)) = self.link_expiry.front() {
            if deadline > self.now {
                break;
            }
            let Some((_, target)) = self.link_expiry.pop_front() else {
                break;
            };
            if let Some(link) = self.links.remove(&target) {
                if let Some(parent) = self.flows.get_mut(&link.parent) {
                    parent.outgoing_links = parent.outgoing_links.saturating_sub(1);
                }
                self.check_done(link.parent, false);
            }
        }
        while let Some(&(deadline, id)) = self.held.front() {
            if deadline > self.now {
                break;
            }
            self.held.pop_front();
            if self.flows.get(&id).is_some_and(|f| f.is_done()) {
                self.emit(id);
            }
        }
    }

    /// Applies one record. `raw` is its line, kept when the engine keeps stories.
    pub fn process(&mut self, rec: &Record<'_>, raw: &str) {
        if let Some(t) = rec.time {
            self.tick(t);
        }
        let time = rec.time;
        let touched = match &rec.event {
            Event::Received(r) => Some(self.received(r, rec.source, time)),
            Event::MessageId { qid, message_id } => {
                let id = self.get_or_create(qid, rec.source, time);
                if let Some(f) = self.flows.get_mut(&id)
                    && f.message_id.is_none()
                    && !self.lean
                {
                    f.message_id = Some(message_id.to_string());
                }
                Some(id)
            }
            Event::Sender {
                qid,
                from,
                size,
                nrcpt,
                local,
            } => {
                let id = self.get_or_create(qid, rec.source, time);
                if let Some(f) = self.flows.get_mut(&id) {
                    f.arrival_seen = true;
                    if f.from.is_none() {
                        f.from = Some(from.to_string());
                    }
                    if f.size.is_none() {
                        f.size = *size;
                    }
                    if let Some(n) = nrcpt {
                        f.expected_rcpts = f.expected_rcpts.max(*n);
                    }
                    f.local_submission |= *local;
                }
                Some(id)
            }
            Event::Delivery(d) => Some(self.delivery(d, rec.source, time)),
            Event::Expired { qid } => {
                let id = self.by_qid.get(qid.as_ref()).copied();
                if let Some(f) = id.and_then(|id| self.flows.get_mut(&id)) {
                    for r in &mut f.recipients {
                        if matches!(r.status, Status::Pending | Status::Deferred) {
                            r.status = Status::Expired;
                            r.time = time;
                        }
                    }
                }
                id
            }
            Event::Removed { qid } => {
                let id = self.by_qid.get(qid.as_ref()).copied();
                if let Some(id) = id
                    && let Some(f) = self.flows.get_mut(&id)
                    && let Some(i) = f.queue_ids.iter().position(|q| q == qid.as_ref())
                {
                    f.removed.set(i);
                }
                id
            }
            Event::Notification { qid, notice_qid } => {
                let id = self.get_or_create(notice_qid, rec.source, time);
                if let Some(f) = self.flows.get_mut(&id) {
                    f.notification_of = Some(qid.to_string());
                    f.arrival_seen = true;
                }
                // The line belongs to both stories.
                if self.keep_lines
                    && let Some(orig) = self
                        .by_qid
                        .get(qid.as_ref())
                        .and_then(|o| self.flows.get_mut(o))
                {
                    orig.lines.push(raw.to_owned());
                }
                Some(id)
            }
            Event::MessageRejected { qid, reason, .. } => {
                let id = self.get_or_create(qid, rec.source, time);
                if let Some(f) = self.flows.get_mut(&id) {
                    f.rejected = Some(reason.to_string());
                }
                Some(id)
            }
            Event::Reject(r) => r
                .qid
                .as_ref()
                .and_then(|q| self.by_qid.get(q.as_ref()).copied()),
            Event::SaslFailure { .. } | Event::Other | Event::Foreign => None,
        };
        if let Some(id) = touched
            && let Some(f) = self.flows.get_mut(&id)
        {
            if time.is_some() {
                if f.first_seen.is_none() {
                    f.first_seen = time;
                }
                f.last_seen = time.max(f.last_seen);
            }
            if self.keep_lines {
                f.lines.push(raw.to_owned());
            }
            // Most lines leave their flow open: only a finished one is looked up again.
            if f.is_done() {
                self.check_done(id, true);
            }
        }
    }

    fn new_flow(&mut self, qid: &str, source: Source, time: Option<Timestamp>) -> FlowId {
        let id = self.next_id;
        self.next_id += 1;
        self.flows
            .insert(id, Box::new(Flow::new(qid, source, time)));
        self.by_qid.insert(qid, id);
        id
    }

    fn get_or_create(&mut self, qid: &str, source: Source, time: Option<Timestamp>) -> FlowId {
        if let Some(&id) = self.by_qid.get(qid) {
            return id;
        }
        if let Some(link) = self.links.get(qid) {
            // A target of a local forward has no client line: its first line links it.
            if link.local_forward
                && let Some(link) = self.links.remove(qid)
                && self.flows.contains_key(&link.parent)
            {
                return self.attach(qid, link);
            }
        }
        self.new_flow(qid, source, time)
    }

    /// Adds `qid` to the flow of `link.parent` (a hand-off whose target appeared).
    fn attach(&mut self, qid: &str, link: Link) -> FlowId {
        if let Some(p) = self.flows.get_mut(&link.parent) {
            p.queue_ids.push(qid.to_owned());
            p.outgoing_links = p.outgoing_links.saturating_sub(1);
        }
        self.by_qid.insert(qid, link.parent);
        link.parent
    }

    fn received(&mut self, r: &Received<'_>, source: Source, time: Option<Timestamp>) -> FlowId {
        let qid = r.qid.as_ref();
        let id = match self.by_qid.get(qid).copied() {
            Some(id) => id,
            None => {
                let linked = match self.links.get(qid) {
                    Some(link) => {
                        let ip = r.client_ip.as_deref();
                        link.local_forward
                            || match (ip, link.relay_ip.as_deref()) {
                                (Some(a), Some(b)) => a == b || (is_loopback(a) && is_loopback(b)),
                                _ => false,
                            }
                    }
                    None => false,
                };
                let parent = r
                    .parent
                    .as_deref()
                    .filter(|_| !r.notification)
                    .and_then(|p| self.by_qid.get(p).copied());
                if linked {
                    match self.links.remove(qid) {
                        Some(link) if self.flows.contains_key(&link.parent) => {
                            return self.attach(qid, link);
                        }
                        _ => self.new_flow(qid, source, time),
                    }
                } else if let Some(parent) = parent {
                    // Before-queue filter: `orig_queue_id=` names the first half.
                    if let Some(p) = self.flows.get_mut(&parent) {
                        p.queue_ids.push(qid.to_owned());
                    }
                    self.by_qid.insert(qid, parent);
                    return parent;
                } else {
                    self.new_flow(qid, source, time)
                }
            }
        };
        if let Some(f) = self.flows.get_mut(&id) {
            f.arrival_seen = true;
            let is_first = f.queue_ids.first().is_some_and(|q| q == qid);
            if is_first {
                if r.client_ip.is_some() {
                    f.client_ip = r.client_ip.as_deref().map(str::to_owned);
                    f.client_host = r.client_host.as_deref().map(str::to_owned);
                }
                if r.sasl_user.is_some() && !self.lean {
                    f.sasl_user = r.sasl_user.as_deref().map(str::to_owned);
                }
            }
            if let Some(from) = &r.from {
                f.from.get_or_insert_with(|| from.to_string());
            }
            if f.size.is_none() {
                f.size = r.size;
            }
            if let Some(m) = &r.message_id
                && !self.lean
            {
                f.message_id.get_or_insert_with(|| m.to_string());
            }
            if r.notification {
                f.notification_of = r.parent.as_deref().map(str::to_owned);
            }
            if let Some(list) = &r.recipients {
                let mut n = 0;
                for to in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    f.recipient_mut(to, None);
                    n += 1;
                }
                f.expected_rcpts = f.expected_rcpts.max(n);
            }
        }
        id
    }

    fn delivery(&mut self, d: &Delivery<'_>, source: Source, time: Option<Timestamp>) -> FlowId {
        let id = self.get_or_create(&d.qid, source, time);
        let arrival = self.flows.get(&id).and_then(|f| f.first_seen);
        // A hand-off: the message was accepted by a next hop that is (or may be) us again.
        let handoff = match (&d.queued_as, d.status) {
            (Some(q), Status::Sent) => {
                let local_forward = !d.remote;
                let relay_local = d.relay_ip.as_deref().is_some_and(is_local_ip);
                (local_forward || relay_local || self.by_qid.contains_key(q.as_ref()))
                    .then(|| (q.to_string(), local_forward))
            }
            _ => None,
        };
        let Some(f) = self.flows.get_mut(&id) else {
            return id;
        };
        let r = f.recipient_mut(&d.to, d.orig_to.as_deref());
        if r.handed_off_to.is_some() && r.to != d.to.as_ref() {
            // Re-injected copy names the final address; keep the original as orig_to.
            if r.orig_to.is_none() {
                r.orig_to = Some(std::mem::replace(&mut r.to, d.to.to_string()));
            } else {
                r.to = d.to.to_string();
            }
        }
        if r.orig_to.is_none() {
            r.orig_to = d.orig_to.as_deref().map(str::to_owned);
        }
        r.attempts += 1;
        if d.status == Status::Deferred {
            r.deferrals += 1;
        }
        // A final status is not undone by a later duplicate deferral line.
        // (A hand-off's `sent` is not final: the re-injected copy's fate replaces it.)
        let is_final = r.handed_off_to.is_none()
            && matches!(r.status, Status::Sent | Status::Bounced | Status::Expired);
        if !(is_final && d.status == Status::Deferred) {
            r.status = d.status;
        }
        if !self.lean {
            assign(&mut r.relay, d.relay.as_deref());
            assign(&mut r.relay_host, d.relay_host.as_deref());
            assign(&mut r.relay_ip, d.relay_ip.as_deref());
            assign(&mut r.dsn, d.dsn.as_deref());
            assign(&mut r.response, d.response.as_deref());
        }
        r.remote = d.remote;
        let own_delay = d.delay.or_else(|| match (time, arrival) {
            (Some(t), Some(a)) if source == Source::Exim => Some(t.seconds_since(a)),
            _ => None,
        });
        r.delay = own_delay.map(|x| x + r.handoff_delay);
        r.delays = d.delays;
        r.time = time;
        r.handed_off_to = None;
        if let Some((target, local_forward)) = handoff {
            r.handed_off_to = Some(target.clone());
            r.handoff_delay = r.delay.unwrap_or(0.0);
            let relay_ip = d.relay_ip.as_deref().map(str::to_owned);
            if let Some(ip) = &relay_ip
                && !self.handoff_ips.contains(ip)
            {
                self.handoff_ips.insert(ip.clone());
            }
            self.link_or_wait(
                id,
                target,
                Link {
                    parent: id,
                    relay_ip,
                    local_forward,
                },
            );
        }
        id
    }

    /// Links an already-seen target into the parent, or waits for it.
    fn link_or_wait(&mut self, parent: FlowId, target: String, link: Link) {
        match self.by_qid.get(&target).copied() {
            Some(child) if child != parent => {
                let matches = link.local_forward
                    || match (
                        self.flows.get(&child).and_then(|c| c.client_ip.as_deref()),
                        link.relay_ip.as_deref(),
                    ) {
                        (Some(a), Some(b)) => a == b || (is_loopback(a) && is_loopback(b)),
                        (None, _) => true,
                        _ => false,
                    };
                if matches {
                    self.merge(parent, child);
                }
            }
            Some(_) => {}
            None => {
                if let Some(p) = self.flows.get_mut(&parent) {
                    p.outgoing_links += 1;
                }
                self.link_expiry.push_back((
                    Timestamp(self.now.0 + HOLD_WINDOW_SECS * 1_000_000),
                    target.clone(),
                ));
                if let Some(old) = self.links.insert(target, link)
                    && let Some(p) = self.flows.get_mut(&old.parent)
                {
                    p.outgoing_links = p.outgoing_links.saturating_sub(1);
                }
            }
        }
    }

    /// Folds flow `child` (a re-injected copy) into `parent`.
    fn merge(&mut self, parent: FlowId, child: FlowId) {
        let Some(c) = self.flows.remove(&child) else {
            return;
        };
        for q in &c.queue_ids {
            self.by_qid.insert(q, parent);
        }
        let Some(p) = self.flows.get_mut(&parent) else {
            return;
        };
        let at = p.queue_ids.len();
        p.queue_ids.extend(c.queue_ids);
        p.removed.append(c.removed, at);
        p.outgoing_links += c.outgoing_links;
        p.last_seen = p.last_seen.max(c.last_seen);
        if p.message_id.is_none() {
            p.message_id = c.message_id;
        }
        p.lines.extend(c.lines);
        for cr in c.recipients {
            let existing = p.recipients.iter().position(|r| {
                r.handed_off_to.is_some()
                    && (r.to.eq_ignore_ascii_case(&cr.to)
                        || cr
                            .orig_to
                            .as_deref()
                            .is_some_and(|o| r.to.eq_ignore_ascii_case(o)))
            });
            match existing.and_then(|i| p.recipients.get_mut(i)) {
                Some(r) => {
                    let hd = r.delay.unwrap_or(0.0);
                    let orig = if r.to.eq_ignore_ascii_case(&cr.to) {
                        r.orig_to.take()
                    } else {
                        Some(r.to.clone())
                    };
                    *r = cr;
                    r.orig_to = r.orig_to.take().or(orig);
                    r.delay = r.delay.map(|d| d + hd);
                    r.handoff_delay = hd;
                    r.handed_off_to = None;
                }
                None => p.recipients.push(cr),
            }
        }
    }

    fn check_done(&mut self, id: FlowId, allow_hold: bool) {
        let Some(f) = self.flows.get(&id) else { return };
        if !f.is_done() {
            return;
        }
        if allow_hold && f.rejected.is_none() && f.may_be_handoff_target(&self.handoff_ips) {
            if !self.held.iter().rev().take(64).any(|&(_, h)| h == id) {
                self.held
                    .push_back((Timestamp(self.now.0 + HOLD_WINDOW_SECS * 1_000_000), id));
            }
            return;
        }
        self.emit(id);
    }

    fn emit(&mut self, id: FlowId) {
        if let Some(mut f) = self.flows.remove(&id) {
            for q in &f.queue_ids {
                if self.by_qid.get(q) == Some(&id) {
                    self.by_qid.remove(q);
                }
            }
            f.complete = true;
            self.ready.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::Analyzer;
    use crate::event::Status;
    use crate::flow::Flow;
    use crate::time::{Timestamp, YearRef};

    fn run(log: &str) -> (Vec<Flow>, crate::summary::Summary) {
        let year = YearRef::new(Timestamp::from_civil(2026, 12, 1, 0, 0, 0, 0).unwrap_or_default());
        let mut an = Analyzer::new(false, true, false);
        let mut flows = Vec::new();
        for l in log.lines() {
            an.line(l.trim_start(), &year, &mut |f| flows.push(f));
        }
        let (s, _) = an.finish(10, &mut |f| flows.push(f));
        (flows, s)
    }

    const ORIGINAL: &str = "Mar 1 10:00:00 mx postfix/smtpd[1]: AAAA1: client=mail.example.org[192.0.2.1]
        Mar 1 10:00:00 mx postfix/cleanup[2]: AAAA1: message-id=<m@example.org>
        Mar 1 10:00:00 mx postfix/qmgr[3]: AAAA1: from=<a@example.org>, size=100, nrcpt=1 (queue active)";
    const COPY: &str = "Mar 1 10:00:01 mx postfix/smtpd[4]: BBBB2: client=localhost[127.0.0.1]
        Mar 1 10:00:01 mx postfix/cleanup[2]: BBBB2: message-id=<m@example.org>
        Mar 1 10:00:01 mx postfix/qmgr[3]: BBBB2: from=<a@example.org>, size=900, nrcpt=1 (queue active)";
    const HANDOFF: &str = "Mar 1 10:00:01 mx postfix/smtp[5]: AAAA1: to=<b@example.test>, relay=127.0.0.1[127.0.0.1]:10025, delay=1, delays=0.5/0/0/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as BBBB2)
        Mar 1 10:00:01 mx postfix/qmgr[3]: AAAA1: removed";
    const FINAL: &str = "Mar 1 10:00:02 mx postfix/virtual[6]: BBBB2: to=<b@example.test>, relay=virtual, delay=1, delays=0.5/0/0/0.5, dsn=2.0.0, status=sent (delivered to maildir)
        Mar 1 10:00:02 mx postfix/qmgr[3]: BBBB2: removed";

    fn assert_one_message(log: &str) {
        let (flows, s) = run(log);
        assert_eq!(flows.len(), 1, "{flows:#?}");
        let f = &flows[0];
        assert_eq!(f.queue_ids, ["AAAA1", "BBBB2"]);
        assert_eq!(
            f.client_ip.as_deref(),
            Some("192.0.2.1"),
            "the original client, not the filter"
        );
        assert_eq!(f.recipients.len(), 1);
        assert_eq!(f.recipients[0].status, Status::Sent);
        assert_eq!(f.recipients[0].relay.as_deref(), Some("virtual"));
        assert_eq!(
            f.recipients[0].delay,
            Some(2.0),
            "delays add up over the hand-off"
        );
        assert_eq!(
            (s.received, s.delivered, s.forwarded),
            (1, 1, 0),
            "pflogsumm would count 2 received, 2 delivered"
        );
    }

    #[test]
    fn content_filter_reinjection_is_one_message_when_the_copy_is_logged_first() {
        assert_one_message(&[ORIGINAL, COPY, HANDOFF, FINAL].join("\n"));
    }

    #[test]
    fn content_filter_reinjection_is_one_message_when_the_handoff_is_logged_first() {
        assert_one_message(&[ORIGINAL, HANDOFF, COPY, FINAL].join("\n"));
    }

    #[test]
    fn content_filter_reinjection_is_one_message_when_the_copy_finishes_before_the_handoff_line() {
        assert_one_message(&[ORIGINAL, COPY, FINAL, HANDOFF].join("\n"));
    }

    #[test]
    fn deferred_then_sent_is_one_delivery_after_one_deferral() {
        let (flows, s) = run("Mar 1 10:00:00 mx postfix/smtpd[1]: CCCC3: client=a.example[192.0.2.1]
            Mar 1 10:00:00 mx postfix/qmgr[3]: CCCC3: from=<a@example.org>, size=100, nrcpt=1 (queue active)
            Mar 1 10:00:01 mx postfix/smtp[5]: CCCC3: to=<b@remote.example>, relay=mx.remote.example[203.0.113.5]:25, delay=1, delays=0.5/0/0/0.5, dsn=4.7.1, status=deferred (host mx.remote.example[203.0.113.5] said: 450 4.7.1 greylisted (in reply to RCPT TO command))
            Mar 1 10:05:01 mx postfix/smtp[5]: CCCC3: to=<b@remote.example>, relay=mx.remote.example[203.0.113.5]:25, delay=301, delays=300/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)
            Mar 1 10:05:01 mx postfix/qmgr[3]: CCCC3: removed");
        let r = &flows[0].recipients[0];
        assert_eq!(
            (r.status, r.attempts, r.deferrals, r.remote),
            (Status::Sent, 2, 1, true)
        );
        assert_eq!(
            (
                s.received,
                s.delivered,
                s.forwarded,
                s.deferred,
                s.deferrals
            ),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(s.errors_by_code.get("450 4.7.1"), Some(&1));
    }

    #[test]
    fn bounce_notification_is_its_own_flow_and_not_a_received_message() {
        let (flows, s) = run("Mar 1 10:00:00 mx postfix/smtpd[1]: DDDD4: client=a.example[192.0.2.1]
            Mar 1 10:00:00 mx postfix/qmgr[3]: DDDD4: from=<a@example.org>, size=100, nrcpt=1 (queue active)
            Mar 1 10:00:01 mx postfix/smtp[5]: DDDD4: to=<x@remote.example>, relay=mx.remote.example[203.0.113.5]:25, delay=1, delays=0.5/0/0/0.5, dsn=5.1.1, status=bounced (host mx.remote.example[203.0.113.5] said: 550 5.1.1 unknown (in reply to RCPT TO command))
            Mar 1 10:00:01 mx postfix/cleanup[2]: EEEE5: message-id=<bounce@mx>
            Mar 1 10:00:01 mx postfix/bounce[7]: DDDD4: sender non-delivery notification: EEEE5
            Mar 1 10:00:01 mx postfix/qmgr[3]: EEEE5: from=<>, size=2000, nrcpt=1 (queue active)
            Mar 1 10:00:01 mx postfix/qmgr[3]: DDDD4: removed
            Mar 1 10:00:02 mx postfix/smtp[5]: EEEE5: to=<a@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=1, delays=0.5/0/0/0.5, dsn=2.0.0, status=sent (250 ok)
            Mar 1 10:00:02 mx postfix/qmgr[3]: EEEE5: removed");
        assert_eq!(flows.len(), 2);
        assert_eq!(
            (s.received, s.bounced, s.notifications, s.delivered),
            (1, 1, 1, 0)
        );
        assert!(
            flows
                .iter()
                .any(|f| f.notification_of.as_deref() == Some("DDDD4"))
        );
    }

    #[test]
    fn ten_sasl_failures_in_a_minute_are_a_burst_and_nine_are_not() {
        let line = |ip: &str, s: u32| {
            format!(
                "Mar 1 10:00:{s:02} mx postfix/smtpd[1]: warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
            )
        };
        let mut log: Vec<String> = (0..10).map(|i| line("203.0.113.1", i * 5)).collect();
        log.extend((0..9).map(|i| line("203.0.113.2", i * 5)));
        let (_, s) = run(&log.join("\n"));
        assert_eq!(s.sasl_failures.get("203.0.113.1"), Some(&10));
        assert_eq!(s.sasl_failures.get("203.0.113.2"), Some(&9));
        assert_eq!(s.brute_force.len(), 1, "{:?}", s.brute_force);
        assert_eq!(
            (s.brute_force[0].ip.as_str(), s.brute_force[0].failures),
            ("203.0.113.1", 10)
        );
    }

    #[test]
    fn milter_reject_after_queue_id_is_a_rejection_not_a_received_message() {
        let (_, s) = run("Mar 1 10:00:00 mx postfix/smtpd[1]: FFFF6: client=a.example[192.0.2.1]
            Mar 1 10:00:01 mx postfix/cleanup[2]: FFFF6: milter-reject: END-OF-MESSAGE from a.example[192.0.2.1]: 5.7.1 Blocked by SpamAssassin; from=<a@example.org> to=<b@example.test> proto=ESMTP helo=<a>");
        assert_eq!((s.received, s.rejected), (0, 1));
    }
}
