//! The reverse DNS names of a report's source IPs (PTR, RFC 1035 §3.5, RFC 3596 §2.5), for
//! `mailward dmarc read`. A report can list thousands of sources, and a reverse zone that
//! does not answer must not hold the command up: look-ups run a few at a time, each within
//! its own time limit, and a source that does not get an answer in time is shown without
//! a name.

use crate::dns::{DnsError, Resolver};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How many look-ups may run at once, how long each may take, and how many addresses are
/// looked up at all (the rest get [`ReverseName::Skipped`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReverseLimits {
    pub concurrency: usize,
    pub per_query: Duration,
    pub max_addresses: usize,
}

impl Default for ReverseLimits {
    fn default() -> Self {
        ReverseLimits {
            concurrency: 16,
            per_query: Duration::from_secs(3),
            max_addresses: 10_000,
        }
    }
}

/// What the reverse look-up of one address gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReverseName {
    /// The PTR names, without the final dot, in the order DNS gave them.
    Names(Vec<String>),
    /// The address has no PTR record (NXDOMAIN or NODATA).
    NoName,
    /// The look-up failed or took longer than [`ReverseLimits::per_query`].
    Failed(String),
    /// Not looked up: over [`ReverseLimits::max_addresses`].
    Skipped,
}

impl ReverseName {
    /// The first name, when there is one.
    pub fn first(&self) -> Option<&str> {
        match self {
            ReverseName::Names(names) => names.first().map(String::as_str),
            _ => None,
        }
    }
}

/// Looks up the PTR names of `addresses` (duplicates are asked once) within `limits`.
pub async fn reverse_names(
    resolver: &Resolver,
    addresses: impl IntoIterator<Item = IpAddr>,
    limits: ReverseLimits,
) -> BTreeMap<IpAddr, ReverseName> {
    let mut out = BTreeMap::new();
    let permits = Arc::new(Semaphore::new(limits.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut asked = 0usize;
    for ip in addresses {
        if out.contains_key(&ip) {
            continue;
        }
        if asked >= limits.max_addresses {
            out.insert(ip, ReverseName::Skipped);
            continue;
        }
        asked += 1;
        // Placeholder so duplicates are skipped; replaced by the task's answer.
        out.insert(ip, ReverseName::Failed("not answered".into()));
        let resolver = resolver.clone();
        let permits = Arc::clone(&permits);
        tasks.spawn(async move {
            let Ok(_permit) = permits.acquire_owned().await else {
                return (ip, ReverseName::Failed("look-up cancelled".into()));
            };
            let answer = tokio::time::timeout(limits.per_query, resolver.ptr(ip)).await;
            let name = match answer {
                Err(_) => ReverseName::Failed(format!(
                    "no answer within {} ms",
                    limits.per_query.as_millis()
                )),
                Ok(Ok(names)) if names.is_empty() => ReverseName::NoName,
                Ok(Ok(names)) => ReverseName::Names(names),
                Ok(Err(DnsError::NoSuchDomain(_) | DnsError::NoRecords(..))) => ReverseName::NoName,
                Ok(Err(e)) => ReverseName::Failed(e.to_string()),
            };
            (ip, name)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok((ip, name)) = joined {
            out.insert(ip, name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name server that never answers: every look-up ends at the per-query limit, not at
    /// the resolver's own (longer) time-outs, and the work is shared out `concurrency` at a
    /// time.
    #[tokio::test]
    async fn a_silent_name_server_costs_the_per_query_limit_only() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let resolver = Resolver::with_servers(&[silent.local_addr().unwrap()]).unwrap();
        let limits = ReverseLimits {
            concurrency: 4,
            per_query: Duration::from_millis(200),
            max_addresses: 6,
        };
        let ips: Vec<IpAddr> = (1..=8u8)
            .map(|i| IpAddr::from([192, 0, 2, i]))
            .chain([IpAddr::from([192, 0, 2, 1])])
            .collect();
        let started = std::time::Instant::now();
        let names = reverse_names(&resolver, ips, limits).await;
        // Two rounds of four (six asked) at 200 ms each, with room for a slow machine.
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(names.len(), 8, "a duplicate is asked once");
        let failed = names
            .values()
            .filter(|n| matches!(n, ReverseName::Failed(_)))
            .count();
        let skipped = names
            .values()
            .filter(|n| **n == ReverseName::Skipped)
            .count();
        assert_eq!((failed, skipped), (6, 2));
        assert!(names.values().all(|n| n.first().is_none()));
    }
}
