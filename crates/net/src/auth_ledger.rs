//! One ledger of password checks per client address, shared by SMTP, IMAP and POP3, so an
//! address has one budget of guesses whatever protocol it uses.
//!
//! A check must be admitted ([`AuthLedger::admit`]) before the password is looked at:
//! - a blocked address is refused, however many connections it holds open;
//! - at most [`LedgerSettings::concurrent_per_ip`] checks from one address run at once;
//! - no check starts that could not still fail before the block (failures counted plus
//!   checks in flight stay below [`LedgerSettings::failures_before_block`]), so guesses
//!   sent at once on many pre-opened connections are not all verified;
//! - a failure's delay is served by [`Attempt::failed`] while the check still holds its
//!   slot, and the protocol answers only after it returns.
//!
//! Like the connection limiter, the table is bounded and swept by time: an address is
//! forgotten once nothing is remembered about it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Settings of [`AuthLedger`].
#[derive(Debug, Clone)]
pub struct LedgerSettings {
    /// Failures (within `block_duration` of each other) before the address is refused.
    pub failures_before_block: u32,
    /// How long a blocked address is refused.
    pub block_duration: Duration,
    /// The delay before a failure is answered, times the address's failures so far (at
    /// most [`MAX_DELAY_FACTOR`] times).
    pub failure_delay: Duration,
    /// Password checks from one address running at once.
    pub concurrent_per_ip: u32,
    /// Password checks running at once over all addresses (each may hold an argon2
    /// working area of several MiB and a blocking thread).
    pub concurrent_total: u32,
    /// How long a check waits for a slot before it is answered "try later".
    pub admission_wait: Duration,
}

impl LedgerSettings {
    /// The defaults besides the three configured figures: two checks at once per address,
    /// one per CPU in all (at least two: a check is CPU-bound, more at once only hold more
    /// memory), at most 30 s of waiting for one.
    pub fn new(
        failures_before_block: u32,
        block_duration: Duration,
        failure_delay: Duration,
    ) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        LedgerSettings {
            failures_before_block: failures_before_block.max(1),
            block_duration,
            failure_delay,
            concurrent_per_ip: 2,
            concurrent_total: u32::try_from(cpus.max(2)).unwrap_or(u32::MAX),
            admission_wait: Duration::from_secs(30),
        }
    }
}

/// The failure delay grows with the address's failures up to this factor.
pub const MAX_DELAY_FACTOR: u32 = 5;

/// How often the table is swept of addresses nothing is remembered about.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

/// Past this many addresses, those with no check running and no block are dropped at once.
const MAX_TRACKED: usize = 65_536;

#[derive(Debug, Default)]
struct Entry {
    failures: u32,
    last_failure: Option<Instant>,
    blocked_until: Option<Instant>,
    in_flight: u32,
}

impl Entry {
    fn blocked(&self, now: Instant) -> bool {
        self.blocked_until.is_some_and(|t| t > now)
    }

    /// Failures older than a block's length are forgotten.
    fn expire_failures(&mut self, now: Instant, settings: &LedgerSettings) {
        if self
            .last_failure
            .is_some_and(|t| now.duration_since(t) >= settings.block_duration)
        {
            self.failures = 0;
            self.last_failure = None;
        }
        if self.blocked_until.is_some_and(|t| t <= now) {
            self.blocked_until = None;
        }
    }

    fn forgettable(&mut self, now: Instant, settings: &LedgerSettings) -> bool {
        self.expire_failures(now, settings);
        self.in_flight == 0 && self.failures == 0 && self.blocked_until.is_none()
    }
}

#[derive(Debug)]
struct Table {
    ips: HashMap<IpAddr, Entry>,
    last_sweep: Instant,
    /// Checks running now, over all addresses.
    in_flight: u32,
}

impl Table {
    fn sweep(&mut self, now: Instant, settings: &LedgerSettings) {
        let due = now.duration_since(self.last_sweep) >= SWEEP_INTERVAL;
        if !due && self.ips.len() < MAX_TRACKED {
            return;
        }
        self.last_sweep = now;
        self.ips.retain(|_, e| !e.forgettable(now, settings));
        if self.ips.len() >= MAX_TRACKED {
            self.ips.retain(|_, e| e.in_flight > 0 || e.blocked(now));
        }
        if self.ips.capacity() > 4 * self.ips.len().max(1024) {
            self.ips.shrink_to_fit();
        }
    }
}

/// Why a check was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The address is refused for a while after too many failures.
    Blocked,
    /// No slot came free within [`LedgerSettings::admission_wait`].
    Busy,
}

/// What [`Attempt::failed`] found after counting the failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Failures of the address now (0 once it is blocked: the count starts again).
    pub failures: u32,
    /// The address is now refused.
    pub blocked: bool,
}

enum Admission {
    Now,
    Wait,
    Blocked,
}

/// The shared ledger; one per process, handed to every listener.
#[derive(Debug)]
pub struct AuthLedger {
    settings: LedgerSettings,
    table: Mutex<Table>,
    released: Notify,
}

impl AuthLedger {
    pub fn new(settings: LedgerSettings) -> Self {
        AuthLedger {
            settings,
            table: Mutex::new(Table {
                ips: HashMap::new(),
                last_sweep: Instant::now(),
                in_flight: 0,
            }),
            released: Notify::new(),
        }
    }

    pub fn settings(&self) -> &LedgerSettings {
        &self.settings
    }

    fn with<T>(&self, f: impl FnOnce(&mut Table) -> T) -> T {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut table)
    }

    /// Addresses remembered now (for tests and monitoring).
    pub fn tracked(&self) -> usize {
        self.with(|t| t.ips.len())
    }

    /// The address is refused now.
    pub fn is_blocked(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        let now = Instant::now();
        self.with(|t| t.ips.get(&ip).is_some_and(|e| e.blocked(now)))
    }

    /// Waits until a check from `ip` may run, or says why it may not. Call it before every
    /// password check; the returned [`Attempt`] holds the slot until it is resolved or
    /// dropped.
    pub async fn admit(&self, ip: IpAddr) -> Result<Attempt<'_>, Denied> {
        let ip = ip.to_canonical();
        let deadline = tokio::time::Instant::now() + self.settings.admission_wait;
        loop {
            // Registered before looking, so a release between the look and the wait is seen.
            let mut released = pin!(self.released.notified());
            released.as_mut().enable();
            match self.try_admit(ip) {
                Admission::Now => {
                    return Ok(Attempt {
                        ledger: self,
                        ip,
                        open: true,
                    });
                }
                Admission::Blocked => return Err(Denied::Blocked),
                Admission::Wait => {}
            }
            if tokio::time::timeout_at(deadline, released).await.is_err() {
                return Err(Denied::Busy);
            }
        }
    }

    fn try_admit(&self, ip: IpAddr) -> Admission {
        let s = &self.settings;
        let now = Instant::now();
        self.with(|t| {
            t.sweep(now, s);
            let e = t.ips.entry(ip).or_default();
            e.expire_failures(now, s);
            if e.blocked(now) {
                return Admission::Blocked;
            }
            if e.in_flight >= s.concurrent_per_ip
                || e.failures + e.in_flight >= s.failures_before_block
                || t.in_flight >= s.concurrent_total.max(1)
            {
                return Admission::Wait;
            }
            e.in_flight += 1;
            t.in_flight += 1;
            Admission::Now
        })
    }

    /// Counts a failure that needed no check (a malformed or refused exchange): it counts
    /// towards the block like a wrong password.
    pub fn record_failure(&self, ip: IpAddr) -> Failure {
        self.count_failure(ip.to_canonical())
    }

    fn count_failure(&self, ip: IpAddr) -> Failure {
        let s = &self.settings;
        let now = Instant::now();
        let failure = self.with(|t| {
            t.sweep(now, s);
            let e = t.ips.entry(ip).or_default();
            e.expire_failures(now, s);
            e.failures += 1;
            e.last_failure = Some(now);
            if e.failures >= s.failures_before_block {
                e.blocked_until = Some(now + s.block_duration);
                e.failures = 0;
                return Failure {
                    failures: 0,
                    blocked: true,
                };
            }
            Failure {
                failures: e.failures,
                blocked: false,
            }
        });
        if failure.blocked {
            // Waiting checks from the address learn of the block at once.
            self.released.notify_waiters();
        }
        failure
    }

    fn release(&self, ip: IpAddr, succeeded: bool) {
        self.with(|t| {
            t.in_flight = t.in_flight.saturating_sub(1);
            let forget = match t.ips.get_mut(&ip) {
                Some(e) => {
                    e.in_flight = e.in_flight.saturating_sub(1);
                    if succeeded {
                        e.failures = 0;
                        e.last_failure = None;
                    }
                    e.in_flight == 0 && e.failures == 0 && e.blocked_until.is_none()
                }
                None => false,
            };
            if forget {
                t.ips.remove(&ip);
            }
        });
        self.released.notify_waiters();
    }
}

/// One admitted password check. Resolve it with [`Attempt::succeeded`] or
/// [`Attempt::failed`]; dropped unresolved (the check could not be made), it frees its slot
/// and counts nothing.
#[derive(Debug)]
pub struct Attempt<'a> {
    ledger: &'a AuthLedger,
    ip: IpAddr,
    open: bool,
}

impl Attempt<'_> {
    /// The password was right: the address's failures are forgotten.
    pub fn succeeded(mut self) {
        self.open = false;
        self.ledger.release(self.ip, true);
    }

    /// The password was wrong: counts the failure, then waits the delay (the failure
    /// delay times the address's failures, at most [`MAX_DELAY_FACTOR`]) while still
    /// holding the slot, so no other check from the address starts meanwhile. Answer the
    /// client only after this returns.
    pub async fn failed(mut self) -> Failure {
        let failure = self.ledger.count_failure(self.ip);
        let factor = if failure.blocked {
            MAX_DELAY_FACTOR
        } else {
            failure.failures.clamp(1, MAX_DELAY_FACTOR)
        };
        tokio::time::sleep(self.ledger.settings.failure_delay * factor).await;
        self.open = false;
        self.ledger.release(self.ip, false);
        failure
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.open {
            self.ledger.release(self.ip, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn ledger(failures: u32) -> AuthLedger {
        AuthLedger::new(LedgerSettings {
            failures_before_block: failures,
            block_duration: Duration::from_secs(60),
            failure_delay: Duration::from_millis(20),
            concurrent_per_ip: 2,
            concurrent_total: 16,
            admission_wait: Duration::from_secs(5),
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// 19 guesses at once from one address: only as many are checked as could fail before
    /// the block; the rest are refused without a check.
    #[tokio::test]
    async fn regress_parallel_guesses_are_not_all_checked() {
        let l = Arc::new(ledger(5));
        let checked = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..19 {
            let (l, checked) = (l.clone(), checked.clone());
            tasks.push(tokio::spawn(async move {
                match l.admit(ip("192.0.2.5")).await {
                    Ok(attempt) => {
                        checked.fetch_add(1, Ordering::SeqCst);
                        attempt.failed().await;
                        true
                    }
                    Err(why) => {
                        assert_eq!(why, Denied::Blocked);
                        false
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(checked.load(Ordering::SeqCst), 5);
        assert!(l.is_blocked(ip("192.0.2.5")));
        // The right password from the blocked address is not even looked at.
        assert_eq!(
            l.admit(ip("192.0.2.5")).await.err(),
            Some(Denied::Blocked),
            "a blocked address is refused before the check"
        );
        // Another address is not affected.
        assert!(l.admit(ip("192.0.2.6")).await.is_ok());
    }

    #[tokio::test]
    async fn at_most_the_configured_checks_run_at_once() {
        let l = ledger(100);
        let a = l.admit(ip("192.0.2.7")).await.unwrap();
        let _b = l.admit(ip("192.0.2.7")).await.unwrap();
        let third = l.admit(ip("192.0.2.7"));
        let mut third = pin!(third);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), third.as_mut())
                .await
                .is_err(),
            "a third check waits"
        );
        a.succeeded();
        assert!(third.await.is_ok(), "admitted once a slot is free");
    }

    #[tokio::test]
    async fn the_delay_comes_before_the_answer_and_grows() {
        let l = ledger(10);
        let started = Instant::now();
        let f = l.admit(ip("192.0.2.8")).await.unwrap().failed().await;
        assert_eq!(f.failures, 1);
        assert!(started.elapsed() >= Duration::from_millis(20));
        let started = Instant::now();
        let f = l.admit(ip("192.0.2.8")).await.unwrap().failed().await;
        assert_eq!(f.failures, 2);
        assert!(started.elapsed() >= Duration::from_millis(40));
    }

    #[tokio::test]
    async fn a_success_forgets_failures_and_the_address() {
        let l = ledger(3);
        l.admit(ip("192.0.2.9")).await.unwrap().failed().await;
        l.admit(ip("192.0.2.9")).await.unwrap().succeeded();
        assert_eq!(l.tracked(), 0);
        l.admit(ip("192.0.2.9")).await.unwrap().failed().await;
        l.admit(ip("192.0.2.9")).await.unwrap().failed().await;
        assert!(
            !l.is_blocked(ip("192.0.2.9")),
            "two failures after the success"
        );
    }

    #[tokio::test]
    async fn a_dropped_attempt_frees_its_slot_and_counts_nothing() {
        let l = ledger(1);
        drop(l.admit(ip("192.0.2.10")).await.unwrap());
        assert_eq!(l.tracked(), 0);
        assert!(l.admit(ip("192.0.2.10")).await.is_ok());
    }

    #[tokio::test]
    async fn checks_over_all_addresses_are_bounded_too() {
        let l = AuthLedger::new(LedgerSettings {
            concurrent_total: 2,
            ..LedgerSettings::new(5, Duration::from_secs(60), Duration::ZERO)
        });
        let a = l.admit(ip("192.0.2.20")).await.unwrap();
        let _b = l.admit(ip("192.0.2.21")).await.unwrap();
        let mut third = pin!(l.admit(ip("192.0.2.22")));
        assert!(
            tokio::time::timeout(Duration::from_millis(50), third.as_mut())
                .await
                .is_err(),
            "a third address waits for a slot"
        );
        a.succeeded();
        assert!(third.await.is_ok());
    }

    #[tokio::test]
    async fn a_slot_that_never_frees_answers_busy() {
        let l = AuthLedger::new(LedgerSettings {
            admission_wait: Duration::from_millis(30),
            concurrent_per_ip: 1,
            ..LedgerSettings::new(5, Duration::from_secs(60), Duration::ZERO)
        });
        let _held = l.admit(ip("192.0.2.11")).await.unwrap();
        assert_eq!(l.admit(ip("192.0.2.11")).await.err(), Some(Denied::Busy));
    }

    #[test]
    fn mapped_addresses_share_the_entry_of_their_ipv4() {
        let l = ledger(2);
        l.record_failure(ip("::ffff:192.0.2.12"));
        l.record_failure(ip("192.0.2.12"));
        assert!(l.is_blocked(ip("192.0.2.12")));
    }

    #[test]
    fn addresses_with_nothing_remembered_are_swept() {
        let l = AuthLedger::new(LedgerSettings::new(
            5,
            Duration::from_millis(0),
            Duration::ZERO,
        ));
        for n in 0..200_000u32 {
            let a = IpAddr::from(std::net::Ipv6Addr::from(u128::from(n) << 64));
            l.record_failure(a);
        }
        assert!(l.tracked() <= MAX_TRACKED, "{} addresses kept", l.tracked());
    }
}
