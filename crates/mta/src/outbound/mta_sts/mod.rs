//! MTA-STS (RFC 8461): a domain publishes (TXT `_mta-sts.DOMAIN`, then a policy over HTTPS)
//! which MX hosts it uses and that they have valid TLS. Policies are cached by domain for
//! their `max_age`, refreshed when the TXT record's `id` changes, and kept when a refresh
//! fails (§5.1), so an attacker who blocks the fetch cannot switch the policy off.

mod fetch;
pub mod policy;

pub use fetch::FetchError;
pub use policy::{Mode, Policy};

use super::tls::ClientTls;
use mailward_auth::{DnsError, Resolver};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Cached {
    id: String,
    policy: Policy,
    expires: Instant,
}

/// The policy cache of the outbound transport.
#[derive(Default)]
pub struct MtaSts {
    cache: Mutex<HashMap<String, Cached>>,
    /// The HTTPS port policies are fetched from (443; tests may move it).
    pub port: Option<u16>,
}

/// What applies to a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applies {
    /// No policy (no record, or mode `none`).
    Nothing,
    Policy(Policy),
    /// A record says there is a policy but it could not be fetched and none is cached:
    /// §5.1 says deliver as if there were none; the reason is logged.
    Unavailable(String),
}

impl MtaSts {
    fn cached(&self, domain: &str) -> Option<(String, Policy)> {
        let map = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        map.get(domain)
            .filter(|c| c.expires > Instant::now())
            .map(|c| (c.id.clone(), c.policy.clone()))
    }

    /// The policy for `domain` (lower case).
    pub async fn policy_for(&self, domain: &str, resolver: &Resolver, tls: &ClientTls) -> Applies {
        let cached = self.cached(domain);
        let id = match resolver.txt(&format!("_mta-sts.{domain}")).await {
            Ok(records) => {
                let ids: Vec<String> = records
                    .iter()
                    .filter_map(|t| policy::record_id(t))
                    .collect();
                // §3.1: exactly one record, or none is valid.
                if ids.len() == 1 {
                    ids.into_iter().next()
                } else {
                    None
                }
            }
            Err(DnsError::Temporary(..)) | Err(_) => None,
        };
        let Some(id) = id else {
            // No record (or DNS failed): a cached policy still holds (§5.1).
            return match cached {
                Some((_, p)) if p.mode != Mode::None => Applies::Policy(p),
                _ => Applies::Nothing,
            };
        };
        if let Some((cached_id, p)) = &cached
            && *cached_id == id
        {
            return applies(p.clone());
        }
        let port = self.port.unwrap_or(443);
        match fetch::fetch(domain, resolver, tls, port, Duration::from_secs(30)).await {
            Ok(text) => match policy::parse(&text) {
                Ok(p) => {
                    let mut map = self.cache.lock().unwrap_or_else(|e| e.into_inner());
                    map.insert(
                        domain.to_string(),
                        Cached {
                            id,
                            policy: p.clone(),
                            expires: Instant::now() + Duration::from_secs(p.max_age),
                        },
                    );
                    applies(p)
                }
                Err(e) => keep_or(cached, format!("MTA-STS policy of {domain}: {e}")),
            },
            Err(e) => keep_or(cached, format!("MTA-STS policy of {domain}: {e}")),
        }
    }
}

fn applies(p: Policy) -> Applies {
    if p.mode == Mode::None {
        Applies::Nothing
    } else {
        Applies::Policy(p)
    }
}

fn keep_or(cached: Option<(String, Policy)>, reason: String) -> Applies {
    match cached {
        Some((_, p)) => applies(p),
        None => Applies::Unavailable(reason),
    }
}
