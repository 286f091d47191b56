//! Summaries over flows and lines.
//!
//! Counting rules (each message and each recipient is counted once, however many queue IDs
//! and hand-offs its flow has):
//!
//! * `received` — messages whose arrival is in the log, not counting delivery status
//!   notifications the mail system generated itself (`notifications`) nor messages refused
//!   after they got a queue ID (counted in `rejected`);
//! * `delivered` — recipients whose final status is `sent`;
//! * `forwarded` — the part of `delivered` that went to another host over SMTP or LMTP-over-TCP
//!   (Postfix `smtp`/`lmtp` to `host[ip]`, Exim transports with `H=`, mailward `relay`),
//!   as opposed to local delivery (mailbox, Maildir, pipe, LMTP over a local socket);
//!   a hand-off to a content filter that re-injects the message is neither: the recipient is
//!   counted where the re-injected copy ends;
//! * `deferred` — recipients deferred at least once (`deferrals` counts every attempt);
//! * `bounced`, `expired` — recipients with that final status;
//! * `rejected` — refusals: SMTP-level rejects (`NOQUEUE: reject`, Exim `rejected`, mailward
//!   `rcpt_rejected`/`rejected`) plus whole messages refused after queueing;
//!   `reject_warning`s are counted apart;
//! * `sasl_failures` — failed SMTP AUTH per client IP; a *brute-force burst* is at least
//!   [`BURST_THRESHOLD`] failures from one IP within [`BURST_WINDOW_SECS`] seconds.

use crate::event::{Event, Record, Status};
use crate::fasthash::{FxHashMap, KeyRef, StrMap};
use crate::flow::Flow;
use crate::postfix::reason_key;
use crate::scan::domain_of;
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

/// Failures from one IP within [`BURST_WINDOW_SECS`] that make a brute-force burst.
pub const BURST_THRESHOLD: usize = 10;
/// The sliding window for brute-force bursts, in seconds.
pub const BURST_WINDOW_SECS: i64 = 60;

/// A name and how often it occurred.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    pub name: String,
    pub count: u64,
}

/// Traffic in one clock hour (UTC).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourTraffic {
    pub hour: Timestamp,
    pub received: u64,
    pub delivered: u64,
}

/// Percentiles of a set of delays, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Percentiles {
    pub count: u64,
    pub avg: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// A multiset of delays: each distinct value with its count. Logs state delays to a
/// hundredth of a second or so, so a few thousand distinct values stand for any number of
/// deliveries: kilobytes where a list of every delay takes megabytes, and the percentiles at
/// the end of a run sort those few values instead of every delay.
#[derive(Debug, Default)]
struct Delays(FxHashMap<u32, u64>);

/// `x` as a `u32` that sorts like [`f32::total_cmp`] (sign bit flipped for positive values,
/// all bits for negative ones).
fn order_key(x: f32) -> u32 {
    let b = x.to_bits();
    if b >> 31 == 1 { !b } else { b | 1 << 31 }
}

/// The inverse of [`order_key`].
fn from_order_key(k: u32) -> f32 {
    f32::from_bits(if k >> 31 == 1 { k & !(1 << 31) } else { !k })
}

impl Delays {
    fn add(&mut self, x: f32) {
        *self.0.entry(order_key(x)).or_insert(0) += 1;
    }

    fn merge(&mut self, other: Delays) {
        for (k, n) in other.0 {
            *self.0.entry(k).or_insert(0) += n;
        }
    }

    /// Nearest-rank percentiles (the smallest value with at least p % of the delays at or
    /// below it).
    fn percentiles(&self) -> Percentiles {
        let mut values: Vec<(u32, u64)> = self.0.iter().map(|(&k, &n)| (k, n)).collect();
        values.sort_unstable_by_key(|&(k, _)| k);
        let n: u64 = values.iter().map(|&(_, c)| c).sum();
        if n == 0 {
            return Percentiles::default();
        }
        let rank = |p: f64| ((p / 100.0 * n as f64).ceil() as u64).clamp(1, n);
        let mut want = [50.0, 90.0, 95.0, 99.0, 100.0].map(|p| (rank(p), 0.0f64));
        let (mut seen, mut sum) = (0u64, 0.0f64);
        for &(k, c) in &values {
            let v = f64::from(from_order_key(k));
            for (r, at) in &mut want {
                if seen < *r && *r <= seen + c {
                    *at = v;
                }
            }
            seen += c;
            sum += v * c as f64;
        }
        let [p50, p90, p95, p99, max] = want.map(|(_, v)| v);
        Percentiles {
            count: n,
            avg: sum / n as f64,
            p50,
            p90,
            p95,
            p99,
            max,
        }
    }
}

/// Per-stage delay percentiles (Postfix `delays=a/b/c/d`).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct StageDelays {
    pub before_queue_manager: Percentiles,
    pub in_queue_manager: Percentiles,
    pub connection_setup: Percentiles,
    pub transmission: Percentiles,
}

/// A brute-force burst of SASL failures from one IP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Burst {
    pub ip: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub failures: u64,
}

/// Raw line counts, per kind of line (each log line once; no de-duplication).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct LineCounts {
    pub total: u64,
    pub parsed: u64,
    pub unparsed: u64,
    /// Syslog lines of other programs (dovecot, opendkim, ...).
    pub other_programs: u64,
    pub arrivals: u64,
    pub sent: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
    pub removed: u64,
    pub rejects: u64,
    pub sasl_failures: u64,
}

/// The report of `mailward logs summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Summary {
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub messages: u64,
    pub received: u64,
    pub delivered: u64,
    pub forwarded: u64,
    pub delivered_locally: u64,
    pub deferred: u64,
    pub deferrals: u64,
    pub bounced: u64,
    pub expired: u64,
    pub pending: u64,
    pub rejected: u64,
    pub reject_warnings: u64,
    pub notifications: u64,
    pub handoffs: u64,
    pub bytes_received: u64,
    pub rejected_by_reason: Vec<Count>,
    /// Deferrals and failures by SMTP reply (`554 5.2.0`), one per line.
    pub errors_by_code: BTreeMap<String, u64>,
    pub top_senders: Vec<Count>,
    pub top_sender_domains: Vec<Count>,
    pub top_recipients: Vec<Count>,
    pub top_recipient_domains: Vec<Count>,
    pub top_client_hosts: Vec<Count>,
    pub traffic_per_hour: Vec<HourTraffic>,
    pub delay: Percentiles,
    pub delay_stages: StageDelays,
    /// Failed logins per client IP: SMTP AUTH, and IMAP/POP3 logins in mailward's log.
    pub sasl_failures: BTreeMap<String, u64>,
    /// Failed logins per service (`smtp`, `imap`, `pop3`).
    pub auth_failures_by_protocol: BTreeMap<&'static str, u64>,
    pub brute_force: Vec<Burst>,
    pub lines: LineCounts,
}

#[derive(Debug, Default)]
struct IpBursts {
    window: VecDeque<Timestamp>,
    bursts: Vec<Burst>,
}

/// Accumulates a [`Summary`] from records (line-level counts) and flows.
#[derive(Debug, Default)]
pub struct SummaryBuilder {
    s: Summary,
    /// Deferrals and failures by reply code (`450 4.7.1`).
    codes: StrMap<u64>,
    reasons: StrMap<u64>,
    senders: StrMap<u64>,
    sender_domains: StrMap<u64>,
    recipients: StrMap<u64>,
    recipient_domains: StrMap<u64>,
    clients: StrMap<u64>,
    hours: BTreeMap<Timestamp, (u64, u64)>,
    delays: Delays,
    stages: [Delays; 4],
    sasl: FxHashMap<String, IpBursts>,
}

fn bump(map: &mut StrMap<u64>, key: &str) {
    *map.entry_parts(&[key], false) += 1;
}

/// Counts an address or domain case-insensitively (RFC 5321 §2.4: domain names are; local
/// parts are in practice).
fn bump_lower(map: &mut StrMap<u64>, key: &str) {
    *map.entry_parts(&[key], true) += 1;
}

/// The `n` largest counts, ties by name; only those names are copied out. The `n`-th largest
/// count is found first, among the counts alone: only entries at or above it are compared by
/// name (a map of a hundred thousand client hosts has a handful of them).
fn top(map: &StrMap<u64>, n: usize) -> Vec<Count> {
    if n == 0 {
        return Vec::new();
    }
    let mut counts: Vec<u64> = map.iter().map(|(_, &c)| c).collect();
    let threshold = if n < counts.len() {
        let (_, nth, _) = counts.select_nth_unstable_by(n - 1, |a, b| b.cmp(a));
        *nth
    } else {
        0
    };
    let mut v: Vec<(u64, KeyRef<'_>)> = map
        .iter()
        .filter(|&(_, &c)| c >= threshold)
        .map(|(k, &c)| (c, k))
        .collect();
    let order = |a: &(u64, KeyRef<'_>), b: &(u64, KeyRef<'_>)| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.as_bytes().cmp(b.1.as_bytes()))
    };
    if n < v.len() {
        v.select_nth_unstable_by(n, order);
        v.truncate(n);
    }
    v.sort_unstable_by(order);
    v.into_iter()
        .map(|(count, name)| Count {
            name: String::from_utf8_lossy(name.as_bytes()).into_owned(),
            count,
        })
        .collect()
}

impl SummaryBuilder {
    pub fn new() -> Self {
        SummaryBuilder::default()
    }

    /// Counts a line that no parser understood.
    pub fn unparsed_line(&mut self) {
        self.s.lines.total += 1;
        self.s.lines.unparsed += 1;
    }

    /// Line-level accounting of one parsed record.
    pub fn record(&mut self, rec: &Record<'_>) {
        self.count_line(rec);
        self.track_sasl(rec);
    }

    /// The order-dependent part of [`SummaryBuilder::record`]: brute-force bursts, which need
    /// each IP's SASL failures in log order. The rest of the line accounting
    /// ([`SummaryBuilder::count_line`]) is counting, so lines may be counted in any order by
    /// several builders and [merged](SummaryBuilder::merge_lines).
    pub fn track_sasl(&mut self, rec: &Record<'_>) {
        if let Event::SaslFailure(f) = &rec.event
            && let Some(t) = rec.time
        {
            let client_ip = &f.client_ip;
            let st = match self.sasl.get_mut(client_ip.as_ref()) {
                Some(st) => st,
                None => self.sasl.entry(client_ip.to_string()).or_default(),
            };
            track_burst(st, client_ip, t);
        }
    }

    /// The order-independent part of [`SummaryBuilder::record`]: line counts, the log's time
    /// span, errors by reply code, rejects by reason, SASL failures per IP.
    pub fn count_line(&mut self, rec: &Record<'_>) {
        let l = &mut self.s.lines;
        l.total += 1;
        l.parsed += 1;
        if let Some(t) = rec.time {
            self.s.first = Some(self.s.first.map_or(t, |f| f.min(t)));
            self.s.last = Some(self.s.last.map_or(t, |f| f.max(t)));
        }
        match &rec.event {
            Event::Foreign => l.other_programs += 1,
            Event::Received(_) => l.arrivals += 1,
            Event::Removed { .. } => l.removed += 1,
            Event::Delivery(d) => {
                match d.status {
                    Status::Sent => l.sent += 1,
                    Status::Deferred => l.deferred += 1,
                    Status::Bounced => l.bounced += 1,
                    Status::Expired => l.expired += 1,
                    _ => {}
                }
                if matches!(
                    d.status,
                    Status::Deferred | Status::Bounced | Status::Expired
                ) && let Some((code, dsn)) =
                    d.response.as_deref().and_then(crate::scan::embedded_reply)
                {
                    let key = match dsn {
                        Some(dsn) => self.codes.entry_parts(&[code, " ", dsn], false),
                        None => self.codes.entry_parts(&[code], false),
                    };
                    *key += 1;
                }
            }
            Event::Reject(r) => {
                l.rejects += 1;
                if r.is_warning() {
                    self.s.reject_warnings += 1;
                } else {
                    self.s.rejected += 1;
                    bump(&mut self.reasons, reason_key(&r.reason));
                }
            }
            Event::SaslFailure(f) => {
                let (client_ip, protocol) = (&f.client_ip, f.protocol);
                l.sasl_failures += 1;
                *self
                    .s
                    .auth_failures_by_protocol
                    .entry(protocol.as_str())
                    .or_insert(0) += 1;
                match self.s.sasl_failures.get_mut(client_ip.as_ref()) {
                    Some(n) => *n += 1,
                    None => {
                        self.s.sasl_failures.insert(client_ip.to_string(), 1);
                    }
                }
            }
            _ => {}
        }
    }

    /// Adds everything `other` counted: lines and flows of another part of the same input.
    /// All counts are sums and the delay percentiles are taken over the sorted delays, so the
    /// result does not depend on how the work was split — except for brute-force bursts, which
    /// need one IP's failures in order: only one of the builders may track them
    /// ([`SummaryBuilder::track_sasl`]).
    pub fn merge(&mut self, other: SummaryBuilder) {
        let (a, b) = (&mut self.s, other.s);
        a.first = match (a.first, b.first) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        a.last = a.last.max(b.last);
        for (x, y) in [
            (&mut a.messages, b.messages),
            (&mut a.received, b.received),
            (&mut a.delivered, b.delivered),
            (&mut a.forwarded, b.forwarded),
            (&mut a.delivered_locally, b.delivered_locally),
            (&mut a.deferred, b.deferred),
            (&mut a.deferrals, b.deferrals),
            (&mut a.bounced, b.bounced),
            (&mut a.expired, b.expired),
            (&mut a.pending, b.pending),
            (&mut a.rejected, b.rejected),
            (&mut a.reject_warnings, b.reject_warnings),
            (&mut a.notifications, b.notifications),
            (&mut a.handoffs, b.handoffs),
            (&mut a.bytes_received, b.bytes_received),
        ] {
            *x += y;
        }
        let (l, m) = (&mut a.lines, b.lines);
        for (x, y) in [
            (&mut l.total, m.total),
            (&mut l.parsed, m.parsed),
            (&mut l.unparsed, m.unparsed),
            (&mut l.other_programs, m.other_programs),
            (&mut l.arrivals, m.arrivals),
            (&mut l.sent, m.sent),
            (&mut l.deferred, m.deferred),
            (&mut l.bounced, m.bounced),
            (&mut l.expired, m.expired),
            (&mut l.removed, m.removed),
            (&mut l.rejects, m.rejects),
            (&mut l.sasl_failures, m.sasl_failures),
        ] {
            *x += y;
        }
        for (k, n) in b.sasl_failures {
            *a.sasl_failures.entry(k).or_insert(0) += n;
        }
        for (k, n) in b.auth_failures_by_protocol {
            *a.auth_failures_by_protocol.entry(k).or_insert(0) += n;
        }
        for (mine, theirs) in [
            (&mut self.codes, other.codes),
            (&mut self.reasons, other.reasons),
            (&mut self.senders, other.senders),
            (&mut self.sender_domains, other.sender_domains),
            (&mut self.recipients, other.recipients),
            (&mut self.recipient_domains, other.recipient_domains),
            (&mut self.clients, other.clients),
        ] {
            if mine.is_empty() {
                *mine = theirs;
            } else {
                mine.merge(theirs, |a, b| *a += b);
            }
        }
        for (h, (r, d)) in other.hours {
            let e = self.hours.entry(h).or_default();
            e.0 += r;
            e.1 += d;
        }
        self.delays.merge(other.delays);
        for (mine, theirs) in self.stages.iter_mut().zip(other.stages) {
            mine.merge(theirs);
        }
        for (ip, st) in other.sasl {
            self.sasl.entry(ip).or_default().bursts.extend(st.bursts);
        }
    }

    /// Accounts one finished flow.
    pub fn flow(&mut self, f: &Flow) {
        self.s.messages += 1;
        if f.queue_ids.len() > 1 {
            self.s.handoffs += f.queue_ids.len() as u64 - 1;
        }
        if let Some(reason) = &f.rejected {
            self.s.rejected += 1;
            bump(&mut self.reasons, reason_key(reason));
            return;
        }
        if f.notification_of.is_some() {
            self.s.notifications += 1;
        } else if f.arrival_seen {
            self.s.received += 1;
            self.s.bytes_received += f.size.unwrap_or(0);
            if let Some(from) = f.from.as_deref() {
                let shown = if from.is_empty() { "<>" } else { from };
                bump_lower(&mut self.senders, shown);
                if let Some(d) = domain_of(from) {
                    bump_lower(&mut self.sender_domains, d);
                }
            }
            if let Some(ip) = f.client_ip.as_deref() {
                let host = f.client_host.as_deref().unwrap_or("unknown");
                *self.clients.entry_parts(&[host, "[", ip, "]"], false) += 1;
            }
            if let Some(t) = f.first_seen {
                self.hours.entry(t.hour_floor()).or_default().0 += 1;
            }
        }
        if f.notification_of.is_some() {
            return;
        }
        for r in &f.recipients {
            if r.deferrals > 0 {
                self.s.deferred += 1;
                self.s.deferrals += u64::from(r.deferrals);
            }
            match r.status {
                Status::Sent => {
                    self.s.delivered += 1;
                    if r.remote {
                        self.s.forwarded += 1;
                    } else {
                        self.s.delivered_locally += 1;
                    }
                    bump_lower(&mut self.recipients, &r.to);
                    if let Some(d) = domain_of(&r.to) {
                        bump_lower(&mut self.recipient_domains, d);
                    }
                    if let Some(t) = r.time {
                        self.hours.entry(t.hour_floor()).or_default().1 += 1;
                    }
                    if let Some(d) = r.delay {
                        self.delays.add(d as f32);
                    }
                    if let Some(ds) = r.delays {
                        for (v, x) in self.stages.iter_mut().zip(ds) {
                            v.add(x);
                        }
                    }
                }
                Status::Bounced => self.s.bounced += 1,
                Status::Expired => self.s.expired += 1,
                Status::Pending | Status::Deferred => self.s.pending += 1,
                Status::Other => {}
            }
        }
    }

    /// The finished report, with `top_n` entries in each top list.
    pub fn finish(self, top_n: usize) -> Summary {
        let mut s = self.s;
        s.errors_by_code = self
            .codes
            .iter()
            .map(|(k, &n)| (String::from_utf8_lossy(k.as_bytes()).into_owned(), n))
            .collect();
        s.rejected_by_reason = top(&self.reasons, usize::MAX);
        s.top_senders = top(&self.senders, top_n);
        s.top_sender_domains = top(&self.sender_domains, top_n);
        s.top_recipients = top(&self.recipients, top_n);
        s.top_recipient_domains = top(&self.recipient_domains, top_n);
        s.top_client_hosts = top(&self.clients, top_n);
        s.traffic_per_hour = self
            .hours
            .into_iter()
            .map(|(hour, (received, delivered))| HourTraffic {
                hour,
                received,
                delivered,
            })
            .collect();
        s.delay = self.delays.percentiles();
        let [a, b, c, d] = &self.stages;
        s.delay_stages = StageDelays {
            before_queue_manager: a.percentiles(),
            in_queue_manager: b.percentiles(),
            connection_setup: c.percentiles(),
            transmission: d.percentiles(),
        };
        let mut bursts: Vec<Burst> = self.sasl.into_values().flat_map(|st| st.bursts).collect();
        bursts.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.ip.cmp(&b.ip)));
        s.brute_force = bursts;
        s
    }
}

/// Sliding-window burst detection for one IP.
fn track_burst(st: &mut IpBursts, ip: &str, t: Timestamp) {
    let window = BURST_WINDOW_SECS * 1_000_000;
    while st.window.front().is_some_and(|&f| t.0 - f.0 > window) {
        st.window.pop_front();
    }
    st.window.push_back(t);
    if let Some(last) = st.bursts.last_mut()
        && t.0 - last.end.0 <= window
        && st.window.len() > 1
    {
        last.end = t;
        last.failures += 1;
        return;
    }
    if st.window.len() >= BURST_THRESHOLD {
        let start = st.window.front().copied().unwrap_or(t);
        st.bursts.push(Burst {
            ip: ip.to_owned(),
            start,
            end: t,
            failures: st.window.len() as u64,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let of = |v: &[f32]| {
            let mut d = Delays::default();
            for &x in v {
                d.add(x);
            }
            d.percentiles()
        };
        assert_eq!(of(&[]), Percentiles::default());
        let p = of(&[2.5]);
        assert_eq!(
            (p.count, p.p50, p.p99, p.max, p.avg),
            (1, 2.5, 2.5, 2.5, 2.5)
        );
        let p = of(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!((p.p50, p.p90, p.max, p.avg), (2.0, 4.0, 4.0, 2.5));
        let hundred: Vec<f32> = (1..=100).rev().map(|x| x as f32).collect();
        let p = of(&hundred);
        assert_eq!(
            (p.p50, p.p90, p.p95, p.p99, p.max),
            (50.0, 90.0, 95.0, 99.0, 100.0)
        );
        // Repeated values count once each towards the ranks; negative and zero delays sort
        // below positive ones.
        let p = of(&[0.5, 0.5, 0.5, 9.0, -1.0, 0.0, -0.0, 0.5, 0.5, 0.5]);
        assert_eq!((p.count, p.p50, p.p90, p.max), (10, 0.5, 0.5, 9.0));
        for x in [0.0f32, -0.0, 1.5, -2.25, f32::MAX, f32::MIN_POSITIVE] {
            assert_eq!(from_order_key(order_key(x)).to_bits(), x.to_bits());
        }
        assert!(order_key(-1.0) < order_key(-0.0) && order_key(-0.0) < order_key(0.0));
    }

    proptest::proptest! {
        /// The top list is the head of all entries sorted by count (descending), then name.
        #[test]
        fn top_is_the_head_of_the_sorted_entries(
            entries in proptest::collection::btree_map("[a-e]{1,3}", 1u64..6, 0..60),
            n in 0usize..70,
        ) {
            let mut map: StrMap<u64> = StrMap::default();
            for (k, &c) in &entries {
                map.insert(k, c);
            }
            let mut all: Vec<(u64, &String)> = entries.iter().map(|(k, &c)| (c, k)).collect();
            all.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            let want: Vec<(String, u64)> =
                all.into_iter().take(n).map(|(c, k)| (k.clone(), c)).collect();
            let got: Vec<(String, u64)> = top(&map, n).into_iter().map(|c| (c.name, c.count)).collect();
            proptest::prop_assert_eq!(got, want);
        }

        /// The counted multiset gives the percentiles of the sorted list, whatever the order
        /// the delays come in or how they are split between builders.
        #[test]
        fn percentiles_match_the_sorted_list(
            v in proptest::collection::vec(-10.0f32..5000.0, 1..300),
            split in 0usize..300,
        ) {
            let mut sorted = v.clone();
            sorted.sort_by(f32::total_cmp);
            let at = |p: f64| {
                let r = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
                f64::from(sorted[r - 1])
            };
            let (mut a, mut b) = (Delays::default(), Delays::default());
            for (i, &x) in v.iter().enumerate() {
                if i < split { a.add(x) } else { b.add(x) }
            }
            a.merge(b);
            let p = a.percentiles();
            proptest::prop_assert_eq!(p.count as usize, v.len());
            for (got, q) in [(p.p50, 50.0), (p.p90, 90.0), (p.p95, 95.0), (p.p99, 99.0), (p.max, 100.0)] {
                proptest::prop_assert_eq!(got, at(q));
            }
            let exact = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
            proptest::prop_assert!((p.avg - exact).abs() < 1e-6 * exact.abs().max(1.0));
        }
    }
}
