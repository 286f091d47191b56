//! Sieve scripts per account (RFC 5804's model, shared by ManageSieve, the admin commands
//! and delivery): named scripts, at most one of them active.
//!
//! On disk under the data directory, so an administrator can read them:
//! `<data>/sieve/<domain>/<local>/<file>.sieve`, one file per script (the name mapped to a
//! safe file name by [`name`]), and `active`, a file holding the active script's name,
//! replaced atomically (temp file, fsync, rename, fsync of the directory).
//!
//! [`SieveFiles`] is the local implementation of [`crate::backend::SieveScripts`]; a
//! database backend (issue 19) implements the same trait.

mod error;
mod files;
pub mod name;
#[cfg(test)]
mod tests;

pub use error::SieveScriptError;
pub use files::SieveFiles;
pub use name::validate_name;

/// One stored script, as LISTSCRIPTS (RFC 5804 §2.7) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptInfo {
    pub name: String,
    pub active: bool,
    /// Bytes of the script.
    pub size: u64,
}

/// Per-account limits (`[sieve]` in the configuration). RFC 5804 §1.3: exceeding them is
/// `NO (QUOTA/MAXSCRIPTS)`, `NO (QUOTA/MAXSIZE)` or `NO (QUOTA)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SieveQuota {
    /// Scripts one account may keep.
    pub max_scripts: usize,
    /// Bytes of one script.
    pub max_script_size: u64,
    /// Bytes of all of an account's scripts together.
    pub max_total_size: u64,
}

impl Default for SieveQuota {
    fn default() -> Self {
        SieveQuota {
            max_scripts: 32,
            max_script_size: 1024 * 1024,
            max_total_size: 8 * 1024 * 1024,
        }
    }
}
