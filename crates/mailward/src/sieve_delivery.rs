//! Wiring of Sieve into `mailward serve` (issue 18): delivery's [`SieveDelivery`] from
//! `[sieve]`, and the SMTP server's [`DataCheck`] that answers a single-recipient message
//! its script rejects with `550 5.7.1` (RFC 5429 §2.1).

use crate::config::Config;
use mailward_mda::sieve::{Engine, Job, SieveDelivery};
use mailward_mta::DataCheck;
use mailward_store::{DirectoryStore, Recipient, Store};
use std::sync::Arc;

/// The interpreter delivery uses.
fn engine() -> Arc<dyn Engine> {
    Arc::new(mailward_mda::sieve::Interpreter)
}

/// Sieve for delivery, unless `[sieve] enabled = false`.
pub fn start(cfg: &Config, store: &Arc<Store>) -> anyhow::Result<Option<Arc<SieveDelivery>>> {
    if !cfg.sieve.enabled {
        return Ok(None);
    }
    let settings = cfg
        .sieve
        .settings(&cfg.server.hostname, cfg.filter.spam.reject)
        .map_err(anyhow::Error::msg)?;
    let sieve =
        SieveDelivery::new(settings, engine(), store.clone()).map_err(anyhow::Error::msg)?;
    Ok(Some(Arc::new(sieve)))
}

/// The SMTP-time refusal, when `[sieve] reject_at_smtp` is on.
pub fn data_check(
    cfg: &Config,
    sieve: Option<&Arc<SieveDelivery>>,
    store: &Arc<Store>,
) -> Option<Arc<dyn DataCheck>> {
    let sieve = sieve?;
    if !cfg.sieve.reject_at_smtp {
        return None;
    }
    Some(Arc::new(SmtpReject {
        sieve: sieve.clone(),
        store: store.clone(),
    }))
}

/// Evaluates the recipient's scripts without side effects ([`SieveDelivery::would_reject`]).
struct SmtpReject {
    sieve: Arc<SieveDelivery>,
    store: Arc<Store>,
}

impl std::fmt::Debug for SmtpReject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpReject")
    }
}

impl DataCheck for SmtpReject {
    fn refuse(&self, sender: &str, rcpt: &str, message: &[u8], remote_ip: &str) -> Option<String> {
        // One account behind the address: an alias to several is refused per account later.
        let Ok(Recipient::Local { accounts, remote }) = self.store.resolve(rcpt) else {
            return None;
        };
        let [account] = accounts.as_slice() else {
            return None;
        };
        if !remote.is_empty() {
            return None;
        }
        self.sieve.would_reject(&Job {
            queue_id: "",
            sender,
            rcpt,
            orcpt: None,
            auth: None,
            remote_ip: Some(remote_ip),
            junk: false,
            account,
            message,
        })
    }
}
