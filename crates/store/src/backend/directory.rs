//! Accounts, domains and aliases, as the protocol servers ask about them.

use crate::directory::{Account, Recipient};
use crate::error::StoreError;

/// Logins and address lookups. Calls may block (database, password hashing): async
/// callers run them on blocking threads.
pub trait DirectoryStore: Send + Sync + 'static {
    /// Checks a password; the account when it matches. Slow by design (argon2), and as
    /// slow for an unknown user, so timing does not reveal which accounts exist.
    fn authenticate(&self, user: &str, pass: &str) -> Result<Option<Account>, StoreError>;

    /// What an address reaches: accounts (aliases fanned out), remote targets, unknown
    /// (RFC 5321 §3.6.2 / RFC 3463 `5.1.1`) or not one of our domains.
    fn resolve(&self, address: &str) -> Result<Recipient, StoreError>;

    /// The account with this address.
    fn account(&self, address: &str) -> Result<Option<Account>, StoreError>;

    /// RFC 6409 §6.1: may `account` use `address` as its MAIL FROM?
    fn owns_address(&self, account: &Account, address: &str) -> Result<bool, StoreError>;
}
