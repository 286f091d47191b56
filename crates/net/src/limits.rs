//! Per-IP defences: concurrent connections, connection rate, and refusing an IP for a while
//! after repeated authentication failures.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Settings of [`Limiter`].
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// Concurrent connections per IP (0 = unlimited).
    pub max_connections_per_ip: usize,
    /// New connections per IP per minute (0 = unlimited).
    pub connection_rate_per_minute: usize,
    /// Authentication failures before the IP is refused.
    pub auth_failures_before_block: u32,
    /// How long a blocked IP is refused.
    pub auth_block_duration: Duration,
}

#[derive(Debug, Default)]
struct IpState {
    active: usize,
    window_start: Option<Instant>,
    window_count: usize,
    auth_failures: u32,
    /// When the last failure was counted: failures are forgotten a block's length later.
    last_failure: Option<Instant>,
    blocked_until: Option<Instant>,
}

impl IpState {
    /// Nothing about this IP matters any more at `now`: no connection open, its rate window
    /// over, no block in force, no recent failure.
    fn forgettable(&self, now: Instant, settings: &LimitSettings) -> bool {
        self.active == 0
            && self
                .window_start
                .is_none_or(|t| now.duration_since(t) >= RATE_WINDOW)
            && self.blocked_until.is_none_or(|t| t <= now)
            && self
                .last_failure
                .is_none_or(|t| now.duration_since(t) >= settings.auth_block_duration)
    }
}

/// The connection-rate window.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// How often the table is swept of addresses nothing is remembered about.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

/// Past this many addresses, idle ones are dropped at once even inside their rate window
/// (under a flood from many addresses, memory stays bounded; the rate limit of those
/// addresses is what gives way).
const MAX_TRACKED: usize = 65_536;

#[derive(Debug)]
struct Table {
    ips: HashMap<IpAddr, IpState>,
    last_sweep: Instant,
}

impl Table {
    /// Drops the addresses nothing is remembered about (time-based), and, past
    /// [`MAX_TRACKED`], every address without an open connection, block or recent failure.
    fn sweep(&mut self, now: Instant, settings: &LimitSettings) {
        let due = now.duration_since(self.last_sweep) >= SWEEP_INTERVAL;
        if !due && self.ips.len() < MAX_TRACKED {
            return;
        }
        self.last_sweep = now;
        self.ips.retain(|_, st| !st.forgettable(now, settings));
        if self.ips.len() >= MAX_TRACKED {
            self.ips.retain(|_, st| {
                st.active > 0 || st.blocked_until.is_some_and(|t| t > now) || st.auth_failures > 0
            });
        }
        if self.ips.capacity() > 4 * self.ips.len().max(1024) {
            self.ips.shrink_to_fit();
        }
    }
}

/// Why a connection is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    TooManyConnections,
    RateExceeded,
    Blocked,
}

/// Shared by all listeners.
#[derive(Debug)]
pub struct Limiter {
    settings: LimitSettings,
    table: Mutex<Table>,
}

impl Limiter {
    pub fn new(settings: LimitSettings) -> Self {
        Limiter {
            settings,
            table: Mutex::new(Table {
                ips: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<IpAddr, IpState>) -> T) -> T {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut table.ips)
    }

    /// Addresses remembered now (for tests and monitoring).
    pub fn tracked(&self) -> usize {
        self.with(|ips| ips.len())
    }

    /// Registers a new connection; `exempt` IPs (trusted networks) skip count and rate.
    pub fn connect(&self, ip: IpAddr, exempt: bool) -> Result<(), Refused> {
        let s = &self.settings;
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.sweep(now, s);
        {
            let st = table.ips.entry(ip).or_default();
            if st.blocked_until.is_some_and(|t| t > now) {
                return Err(Refused::Blocked);
            }
            if !exempt {
                if s.max_connections_per_ip > 0 && st.active >= s.max_connections_per_ip {
                    return Err(Refused::TooManyConnections);
                }
                if s.connection_rate_per_minute > 0 {
                    match st.window_start {
                        Some(t) if now.duration_since(t) < RATE_WINDOW => {}
                        _ => {
                            st.window_start = Some(now);
                            st.window_count = 0;
                        }
                    }
                    if st.window_count >= s.connection_rate_per_minute {
                        return Err(Refused::RateExceeded);
                    }
                    st.window_count += 1;
                }
            }
            st.active += 1;
            Ok(())
        }
    }

    pub fn disconnect(&self, ip: IpAddr) {
        self.with(|ips| {
            let remove = match ips.get_mut(&ip) {
                Some(st) => {
                    st.active = st.active.saturating_sub(1);
                    st.active == 0
                        && st.auth_failures == 0
                        && st.blocked_until.is_none()
                        && st.window_start.is_none()
                }
                None => false,
            };
            if remove {
                ips.remove(&ip);
            }
        });
    }

    /// Records a failed authentication; returns how many this IP has now.
    pub fn auth_failed(&self, ip: IpAddr) -> u32 {
        let s = &self.settings;
        self.with(|ips| {
            let st = ips.entry(ip).or_default();
            let now = Instant::now();
            if st
                .last_failure
                .is_some_and(|t| now.duration_since(t) >= s.auth_block_duration)
            {
                st.auth_failures = 0;
            }
            st.last_failure = Some(now);
            st.auth_failures += 1;
            if st.auth_failures >= s.auth_failures_before_block {
                st.blocked_until = Some(Instant::now() + s.auth_block_duration);
                st.auth_failures = 0;
            }
            st.auth_failures
        })
    }

    /// A success clears the count.
    pub fn auth_ok(&self, ip: IpAddr) {
        self.with(|ips| {
            if let Some(st) = ips.get_mut(&ip) {
                st.auth_failures = 0;
            }
        });
    }

    pub fn is_blocked(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        self.with(|ips| {
            ips.get(&ip)
                .and_then(|s| s.blocked_until)
                .is_some_and(|t| t > now)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> Limiter {
        Limiter::new(LimitSettings {
            max_connections_per_ip: 2,
            connection_rate_per_minute: 3,
            auth_failures_before_block: 2,
            auth_block_duration: Duration::from_secs(60),
        })
    }

    #[test]
    fn concurrent_and_rate_limits_per_ip() {
        let l = limiter();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(l.connect(ip, false).is_ok());
        assert!(l.connect(ip, false).is_ok());
        assert_eq!(l.connect(ip, false), Err(Refused::TooManyConnections));
        l.disconnect(ip);
        assert!(l.connect(ip, false).is_ok());
        l.disconnect(ip);
        assert_eq!(l.connect(ip, false), Err(Refused::RateExceeded));
        assert!(l.connect(ip, true).is_ok(), "trusted networks are exempt");
    }

    /// One connection from each of 300,000 addresses grew RSS for good: entries were
    /// never evicted.
    #[test]
    fn regress_addresses_seen_once_are_forgotten() {
        let l = Limiter::new(LimitSettings {
            max_connections_per_ip: 20,
            connection_rate_per_minute: 100,
            auth_failures_before_block: 5,
            auth_block_duration: Duration::from_secs(60),
        });
        for n in 0..300_000u32 {
            let ip = IpAddr::from(std::net::Ipv6Addr::from(u128::from(n) << 64));
            assert!(l.connect(ip, false).is_ok());
            l.disconnect(ip);
        }
        assert!(l.tracked() <= MAX_TRACKED, "{} addresses kept", l.tracked());
        // A blocked address survives the flood.
        let bad: IpAddr = "192.0.2.66".parse().unwrap();
        for _ in 0..5 {
            l.auth_failed(bad);
        }
        for n in 300_000..400_000u32 {
            let ip = IpAddr::from(std::net::Ipv6Addr::from(u128::from(n) << 64));
            let _ = l.connect(ip, false);
            l.disconnect(ip);
        }
        assert!(l.is_blocked(bad));
        assert_eq!(l.connect(bad, false), Err(Refused::Blocked));
    }

    #[test]
    fn repeated_auth_failures_block_the_ip() {
        let l = limiter();
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        l.auth_failed(ip);
        assert!(!l.is_blocked(ip));
        l.auth_failed(ip);
        assert!(l.is_blocked(ip));
        assert_eq!(l.connect(ip, true), Err(Refused::Blocked));
    }
}
