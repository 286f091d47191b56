//! Sieve scripts per account, as ManageSieve (RFC 5804), the admin commands and delivery
//! see them.

use crate::sieve_scripts::{ScriptInfo, SieveScriptError};

/// Named scripts of each account, at most one active. Accounts are named by their address.
/// Calls block (files or a database): async callers run them on blocking threads.
pub trait SieveScripts: Send + Sync + 'static {
    /// Stores (or replaces) a script, within the quota (RFC 5804 §2.6). The caller has
    /// checked that it compiles.
    fn put(&self, account: &str, name: &str, script: &[u8]) -> Result<(), SieveScriptError>;

    /// RFC 5804 §2.5 HAVESPACE: would a script of `size` bytes named `name` fit?
    fn check_space(&self, account: &str, name: &str, size: u64) -> Result<(), SieveScriptError>;

    /// The account's scripts, sorted by name (RFC 5804 §2.7).
    fn list(&self, account: &str) -> Result<Vec<ScriptInfo>, SieveScriptError>;

    /// One script's bytes (RFC 5804 §2.9).
    fn get(&self, account: &str, name: &str) -> Result<Vec<u8>, SieveScriptError>;

    /// Makes `name` the active script, or none (RFC 5804 §2.8).
    fn set_active(&self, account: &str, name: Option<&str>) -> Result<(), SieveScriptError>;

    /// Deletes a script; the active one is refused (RFC 5804 §2.10).
    fn delete(&self, account: &str, name: &str) -> Result<(), SieveScriptError>;

    /// Renames a script, keeping it active if it was (RFC 5804 §2.11.1).
    fn rename(&self, account: &str, old: &str, new: &str) -> Result<(), SieveScriptError>;

    /// The active script's name and bytes, for delivery.
    fn active(&self, account: &str) -> Result<Option<(String, Vec<u8>)>, SieveScriptError>;
}
