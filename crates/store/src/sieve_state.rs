//! Sieve state kept per account between deliveries: RFC 7352 duplicate tracking and
//! RFC 5230 vacation periods. Each entry is a key (stored as its SHA-256, so a long
//! header value costs 64 bytes) with an expiry; an entry past its expiry is as good as
//! absent and is removed by [`Store::sieve_state_expire`]. Synchronous (SQLite): call from
//! `spawn_blocking`.

use crate::error::StoreError;
use crate::handle::Store;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

/// Which state an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SieveStateKind {
    /// RFC 7352 §3 duplicate: the key is the `:handle` and the unique id.
    Duplicate,
    /// RFC 5230 §4.1/§4.2 vacation: the key is the sender and the handle.
    Vacation,
}

impl SieveStateKind {
    fn as_str(self) -> &'static str {
        match self {
            SieveStateKind::Duplicate => "duplicate",
            SieveStateKind::Vacation => "vacation",
        }
    }
}

/// The stored key for `key`: its SHA-256 in hex.
fn digest(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl Store {
    /// Whether `key` of `kind` was recorded for `account` and has not expired at `now`.
    /// When it was not, it is recorded to expire `seconds` after `now` (and `false` is
    /// returned). When it was and `extend` is set, its expiry moves to `now + seconds`
    /// (RFC 7352 §3.3 `:last`: the period counts from the last occurrence). An unknown
    /// account has no state: `false`, nothing recorded.
    pub fn sieve_state_check(
        &self,
        account: &str,
        kind: SieveStateKind,
        key: &str,
        seconds: u64,
        extend: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let expires = now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
        let key = digest(key);
        let conn = self.conn();
        let _commit = self.commit_lock();
        let Some(account_id): Option<i64> = conn
            .query_row(
                "SELECT id FROM accounts WHERE address = ?1",
                params![account],
                |row| row.get(0),
            )
            .optional()?
        else {
            return Ok(false);
        };
        let current: Option<i64> = conn
            .query_row(
                "SELECT expires FROM sieve_state WHERE account_id = ?1 AND kind = ?2 AND key = ?3",
                params![account_id, kind.as_str(), key],
                |row| row.get(0),
            )
            .optional()?;
        let seen = current.is_some_and(|until| until > now);
        if !seen || extend {
            conn.execute(
                "INSERT INTO sieve_state (account_id, kind, key, expires) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account_id, kind, key) DO UPDATE SET expires = excluded.expires",
                params![account_id, kind.as_str(), key, expires],
            )?;
        }
        Ok(seen)
    }

    /// Removes the entries expired at `now`; returns how many.
    pub fn sieve_state_expire(&self, now: i64) -> Result<usize, StoreError> {
        let conn = self.conn();
        let _commit = self.commit_lock();
        Ok(conn.execute("DELETE FROM sieve_state WHERE expires <= ?1", params![now])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::DataDir;

    fn store() -> (tempfile::TempDir, std::sync::Arc<Store>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            DataDir::new(dir.path().to_path_buf()),
            &["example.test".to_string()],
            "mx.example.test",
        )
        .unwrap();
        crate::directory::add_account(&store.conn(), "alice@example.test", "x", None).unwrap();
        (dir, store)
    }

    #[test]
    fn vacation_period_answers_once_then_again_after_expiry() {
        let (_dir, store) = store();
        let check = |now| {
            store
                .sieve_state_check(
                    "alice@example.test",
                    SieveStateKind::Vacation,
                    "bob@remote.test\0h",
                    100,
                    false,
                    now,
                )
                .unwrap()
        };
        assert!(!check(1000));
        assert!(check(1050));
        assert!(check(1099));
        assert!(!check(1100));
        assert!(check(1101));
    }

    #[test]
    fn duplicate_last_extends_the_period_and_kinds_and_accounts_are_apart() {
        let (_dir, store) = store();
        let dup = |now, last| {
            store
                .sieve_state_check(
                    "alice@example.test",
                    SieveStateKind::Duplicate,
                    "<id@x>",
                    100,
                    last,
                    now,
                )
                .unwrap()
        };
        assert!(!dup(0, true));
        assert!(dup(90, true));
        assert!(dup(180, true));
        assert!(
            !store
                .sieve_state_check(
                    "alice@example.test",
                    SieveStateKind::Vacation,
                    "<id@x>",
                    100,
                    false,
                    180
                )
                .unwrap()
        );
        assert!(
            !store
                .sieve_state_check(
                    "nobody@example.test",
                    SieveStateKind::Duplicate,
                    "<id@x>",
                    100,
                    false,
                    0
                )
                .unwrap()
        );
    }

    #[test]
    fn expired_entries_are_removed() {
        let (_dir, store) = store();
        store
            .sieve_state_check(
                "alice@example.test",
                SieveStateKind::Duplicate,
                "a",
                10,
                false,
                0,
            )
            .unwrap();
        store
            .sieve_state_check(
                "alice@example.test",
                SieveStateKind::Duplicate,
                "b",
                1000,
                false,
                0,
            )
            .unwrap();
        assert_eq!(store.sieve_state_expire(500).unwrap(), 1);
    }
}
