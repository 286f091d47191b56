//! Successful password checks remembered for a while, in memory only, so a client that
//! logs in again and again (IMAP clients open several connections; imaptest logs in
//! hundreds of times a second) does not pay argon2 each time. Dovecot's auth cache does the
//! same. Only successes are kept: a wrong password always costs a full check (and goes
//! through the authentication ledger first).
//!
//! An entry is a keyed SHA-256 of the stored hash and the password, under a key drawn at
//! start and never written anywhere: a changed password (another stored hash) misses, and
//! the memory of the process does not hold passwords.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a verified login is remembered.
pub const TTL: Duration = Duration::from_secs(10 * 60);

/// At most this many accounts are remembered; past it, expired entries go, then all.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    digest: [u8; 32],
    at: Instant,
}

/// The cache; one per store.
pub(crate) struct VerifiedLogins {
    key: [u8; 32],
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl VerifiedLogins {
    pub(crate) fn new(ttl: Duration) -> Self {
        let mut key = [0u8; 32];
        // Without randomness the cache stays empty (every login is checked in full).
        let usable = getrandom::getrandom(&mut key).is_ok();
        VerifiedLogins {
            key,
            ttl: if usable { ttl } else { Duration::ZERO },
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn digest(&self, stored: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update((stored.len() as u64).to_be_bytes());
        h.update(stored.as_bytes());
        h.update(password.as_bytes());
        h.finalize().into()
    }

    /// `password` was verified against `stored` for `user` less than the TTL ago.
    pub(crate) fn knows(&self, user: &str, stored: &str, password: &str) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let digest = self.digest(stored, password);
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(user)
            .is_some_and(|e| e.at.elapsed() < self.ttl && same(&e.digest, &digest))
    }

    /// Remembers a successful check.
    pub(crate) fn remember(&self, user: &str, stored: &str, password: &str) {
        if self.ttl.is_zero() {
            return;
        }
        let digest = self.digest(stored, password);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(user) {
            let ttl = self.ttl;
            entries.retain(|_, e| e.at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            user.to_string(),
            Entry {
                digest,
                at: Instant::now(),
            },
        );
    }
}

/// Compares without stopping at the first difference.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_password_and_stored_hash_hit() {
        let c = VerifiedLogins::new(TTL);
        c.remember("bob@example.test", "$argon2id$one", "secret");
        assert!(c.knows("bob@example.test", "$argon2id$one", "secret"));
        assert!(!c.knows("bob@example.test", "$argon2id$one", "Secret"));
        assert!(
            !c.knows("bob@example.test", "$argon2id$two", "secret"),
            "password changed"
        );
        assert!(!c.knows("alice@example.test", "$argon2id$one", "secret"));
    }

    #[test]
    fn entries_expire() {
        let c = VerifiedLogins::new(Duration::from_millis(20));
        c.remember("bob@example.test", "h", "p");
        std::thread::sleep(Duration::from_millis(40));
        assert!(!c.knows("bob@example.test", "h", "p"));
    }

    #[test]
    fn the_table_is_bounded() {
        let c = VerifiedLogins::new(TTL);
        for n in 0..(MAX_ENTRIES + 10) {
            c.remember(&format!("u{n}@example.test"), "h", "p");
        }
        let len = c.entries.lock().map(|e| e.len()).unwrap_or(0);
        assert!(len <= MAX_ENTRIES, "{len}");
    }
}
