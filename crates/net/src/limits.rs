//! Per-IP defences of one listener: concurrent connections and connection rate; an address
//! the shared [`AuthLedger`] has blocked is refused at connect.

use crate::auth_ledger::AuthLedger;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Settings of [`Limiter`].
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// Concurrent connections per IP (0 = unlimited).
    pub max_connections_per_ip: usize,
    /// New connections per IP per minute (0 = unlimited).
    pub connection_rate_per_minute: usize,
}

#[derive(Debug, Default)]
struct IpState {
    active: usize,
    window_start: Option<Instant>,
    window_count: usize,
}

impl IpState {
    /// Nothing about this IP matters any more at `now`: no connection open, its rate window
    /// over.
    fn forgettable(&self, now: Instant) -> bool {
        self.active == 0
            && self
                .window_start
                .is_none_or(|t| now.duration_since(t) >= RATE_WINDOW)
    }
}

/// The connection-rate window.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// How often the table is swept of addresses nothing is remembered about.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

/// Past this many addresses, those without an open connection are dropped at once even
/// inside their rate window (under a flood from many addresses, memory stays bounded; the
/// rate limit of those addresses is what gives way).
const MAX_TRACKED: usize = 65_536;

#[derive(Debug)]
struct Table {
    ips: HashMap<IpAddr, IpState>,
    last_sweep: Instant,
}

impl Table {
    /// Drops the addresses nothing is remembered about (time-based), and, past
    /// [`MAX_TRACKED`], every address without an open connection.
    fn sweep(&mut self, now: Instant) {
        let due = now.duration_since(self.last_sweep) >= SWEEP_INTERVAL;
        if !due && self.ips.len() < MAX_TRACKED {
            return;
        }
        self.last_sweep = now;
        self.ips.retain(|_, st| !st.forgettable(now));
        if self.ips.len() >= MAX_TRACKED {
            self.ips.retain(|_, st| st.active > 0);
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

/// Shared by the listeners of one service; the [`AuthLedger`] is shared by all services.
#[derive(Debug)]
pub struct Limiter {
    settings: LimitSettings,
    table: Mutex<Table>,
    ledger: Arc<AuthLedger>,
}

impl Limiter {
    pub fn new(settings: LimitSettings, ledger: Arc<AuthLedger>) -> Self {
        Limiter {
            settings,
            table: Mutex::new(Table {
                ips: HashMap::new(),
                last_sweep: Instant::now(),
            }),
            ledger,
        }
    }

    /// The authentication ledger every password check goes through.
    pub fn ledger(&self) -> &AuthLedger {
        &self.ledger
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
        if self.ledger.is_blocked(ip) {
            return Err(Refused::Blocked);
        }
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.sweep(now);
        {
            let st = table.ips.entry(ip).or_default();
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
                    st.active == 0 && st.window_start.is_none()
                }
                None => false,
            };
            if remove {
                ips.remove(&ip);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth_ledger::LedgerSettings;

    fn ledger(failures: u32) -> Arc<AuthLedger> {
        Arc::new(AuthLedger::new(LedgerSettings::new(
            failures,
            Duration::from_secs(60),
            Duration::ZERO,
        )))
    }

    fn limiter() -> Limiter {
        Limiter::new(
            LimitSettings {
                max_connections_per_ip: 2,
                connection_rate_per_minute: 3,
            },
            ledger(2),
        )
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
        let l = Limiter::new(
            LimitSettings {
                max_connections_per_ip: 20,
                connection_rate_per_minute: 100,
            },
            ledger(5),
        );
        for n in 0..300_000u32 {
            let ip = IpAddr::from(std::net::Ipv6Addr::from(u128::from(n) << 64));
            assert!(l.connect(ip, false).is_ok());
            l.disconnect(ip);
        }
        assert!(l.tracked() <= MAX_TRACKED, "{} addresses kept", l.tracked());
        // A blocked address survives the flood.
        let bad: IpAddr = "192.0.2.66".parse().unwrap();
        for _ in 0..5 {
            l.ledger().record_failure(bad);
        }
        for n in 300_000..400_000u32 {
            let ip = IpAddr::from(std::net::Ipv6Addr::from(u128::from(n) << 64));
            let _ = l.connect(ip, false);
            l.disconnect(ip);
        }
        assert_eq!(l.connect(bad, false), Err(Refused::Blocked));
    }

    /// The ledger is shared: failures counted through one service's limiter refuse the
    /// address at every service.
    #[test]
    fn an_address_blocked_anywhere_is_refused_everywhere() {
        let shared = ledger(2);
        let smtp = Limiter::new(
            LimitSettings {
                max_connections_per_ip: 20,
                connection_rate_per_minute: 0,
            },
            shared.clone(),
        );
        let imap = Limiter::new(
            LimitSettings {
                max_connections_per_ip: 20,
                connection_rate_per_minute: 0,
            },
            shared,
        );
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        smtp.ledger().record_failure(ip);
        assert!(imap.connect(ip, false).is_ok());
        imap.ledger().record_failure(ip);
        assert_eq!(smtp.connect(ip, true), Err(Refused::Blocked));
        assert_eq!(imap.connect(ip, false), Err(Refused::Blocked));
    }
}
