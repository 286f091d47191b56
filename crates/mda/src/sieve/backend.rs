//! What delivery's Sieve needs from the store: the account's active script, its folders,
//! and the state kept between deliveries. Blocking calls (files, SQLite): run them on a
//! blocking thread.

use mailward_store::{Account, SieveQuota, SieveScripts, SieveStateKind, Store};

/// The store as Sieve delivery sees it.
pub trait SieveBackend: Send + Sync {
    /// The account's active script (name, bytes), if any.
    fn active_script(&self, account: &str) -> Result<Option<(String, Vec<u8>)>, String>;
    /// One of the account's scripts by name (RFC 6609 `include :personal`).
    fn personal_script(&self, account: &str, name: &str) -> Option<Vec<u8>>;
    /// Whether the account has this folder (RFC 5490 mailboxexists).
    fn folder_exists(&self, account: &Account, folder: &str) -> bool;
    /// The account's folder with this special-use attribute (RFC 8579), if one has it.
    fn special_use_folder(&self, account: &Account, special_use: &str) -> Option<String>;
    /// [`Store::sieve_state_check`]; an error counts as "not seen".
    fn state_check(
        &self,
        account: &str,
        kind: SieveStateKind,
        key: &str,
        seconds: u64,
        extend: bool,
        now: i64,
    ) -> bool;
}

impl SieveBackend for Store {
    fn active_script(&self, account: &str) -> Result<Option<(String, Vec<u8>)>, String> {
        self.sieve_scripts(SieveQuota::default())
            .active(account)
            .map_err(|e| e.to_string())
    }

    fn personal_script(&self, account: &str, name: &str) -> Option<Vec<u8>> {
        self.sieve_scripts(SieveQuota::default())
            .get(account, name)
            .ok()
    }

    fn folder_exists(&self, account: &Account, folder: &str) -> bool {
        Store::folder_exists(self, account, folder).unwrap_or(false)
    }

    fn special_use_folder(&self, account: &Account, special_use: &str) -> Option<String> {
        Store::special_use_folder(self, account, special_use)
            .ok()
            .flatten()
    }

    fn state_check(
        &self,
        account: &str,
        kind: SieveStateKind,
        key: &str,
        seconds: u64,
        extend: bool,
        now: i64,
    ) -> bool {
        self.sieve_state_check(account, kind, key, seconds, extend, now)
            .unwrap_or(false)
    }
}
