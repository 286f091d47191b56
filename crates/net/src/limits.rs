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
    blocked_until: Option<Instant>,
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
    ips: Mutex<HashMap<IpAddr, IpState>>,
}

impl Limiter {
    pub fn new(settings: LimitSettings) -> Self {
        Limiter {
            settings,
            ips: Mutex::new(HashMap::new()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<IpAddr, IpState>) -> T) -> T {
        match self.ips.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// Registers a new connection; `exempt` IPs (trusted networks) skip count and rate.
    pub fn connect(&self, ip: IpAddr, exempt: bool) -> Result<(), Refused> {
        let s = &self.settings;
        let now = Instant::now();
        self.with(|ips| {
            let st = ips.entry(ip).or_default();
            if st.blocked_until.is_some_and(|t| t > now) {
                return Err(Refused::Blocked);
            }
            if !exempt {
                if s.max_connections_per_ip > 0 && st.active >= s.max_connections_per_ip {
                    return Err(Refused::TooManyConnections);
                }
                if s.connection_rate_per_minute > 0 {
                    match st.window_start {
                        Some(t) if now.duration_since(t) < Duration::from_secs(60) => {}
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
        })
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
