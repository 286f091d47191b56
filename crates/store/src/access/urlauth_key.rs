//! URLAUTH mailbox access keys (RFC 4467 §7): one random 256-bit secret per mailbox, from
//! which the IMAP server computes the access tokens of URLAUTH URLs (HMAC-SHA256 over
//! the URL). RESETKEY replaces a mailbox's key, which invalidates every URL made with it.
//!
//! The keys are kept in the `metadata` table (schema 7) under the reserved entry name
//! [`URLAUTH_KEY_ENTRY`]. It lies outside `/private` and `/shared`, the only trees RFC 5464
//! §3.2 lets a client name, so GETMETADATA never shows it (its queries start with one of
//! them), SETMETADATA cannot set it ([`super::metadata::check_name`] refuses the name), and
//! it does not count against [`super::metadata::MAX_ENTRIES`]. It goes with the mailbox
//! on DELETE (the rows of a deleted mailbox are removed) and stays with it on RENAME (the
//! folder keeps its id); a RENAME of INBOX does not copy it.

use super::{AccessError, MailAccess};
use rusqlite::{OptionalExtension, params};

/// The reserved `metadata` entry holding a mailbox's URLAUTH key.
pub const URLAUTH_KEY_ENTRY: &str = "/vendor-mailward/urlauth-key";
/// Key length in octets (RFC 4467 §7: at least 128 bits).
pub const KEY_LEN: usize = 32;

impl MailAccess {
    /// The URLAUTH key of `mailbox`; with `create`, a new one is made when it has none
    /// (GENURLAUTH), else `None` (URLFETCH of a mailbox whose key was reset or never made).
    /// [`AccessError::NoSuchFolder`] when the mailbox does not exist.
    pub fn urlauth_key(&self, mailbox: &str, create: bool) -> Result<Option<Vec<u8>>, AccessError> {
        let folder = self.require(mailbox)?;
        let conn = self.store.mail_conn();
        let read = |conn: &rusqlite::Connection| -> Result<Option<Vec<u8>>, AccessError> {
            Ok(conn
                .prepare_cached(
                    "SELECT value FROM metadata WHERE account_id = ?1 AND mailbox_id = ?2 AND name = ?3",
                )?
                .query_row(params![self.account.id, folder.id, URLAUTH_KEY_ENTRY], |r| r.get(0))
                .optional()?)
        };
        if let Some(key) = read(&conn)? {
            return Ok(Some(key));
        }
        if !create {
            return Ok(None);
        }
        let mut key = vec![0u8; KEY_LEN];
        getrandom::getrandom(&mut key).map_err(|e| {
            AccessError::Store(crate::StoreError::io(
                "getrandom",
                std::io::Error::other(e.to_string()),
            ))
        })?;
        // Two sessions racing: the first key written wins, both use it.
        conn.prepare_cached(
            "INSERT OR IGNORE INTO metadata (account_id, mailbox_id, name, value) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![self.account.id, folder.id, URLAUTH_KEY_ENTRY, key])?;
        read(&conn)
    }

    /// RESETKEY (RFC 4467 §6.2): forgets the key of `mailbox`, or of every mailbox of the
    /// account (`None`); the next GENURLAUTH makes a new one.
    pub fn reset_urlauth_keys(&self, mailbox: Option<&str>) -> Result<(), AccessError> {
        let folder = mailbox.map(|m| self.require(m)).transpose()?;
        let conn = self.store.mail_conn();
        match folder {
            Some(f) => conn
                .prepare_cached(
                    "DELETE FROM metadata WHERE account_id = ?1 AND mailbox_id = ?2 AND name = ?3",
                )?
                .execute(params![self.account.id, f.id, URLAUTH_KEY_ENTRY])?,
            None => conn
                .prepare_cached("DELETE FROM metadata WHERE account_id = ?1 AND name = ?2")?
                .execute(params![self.account.id, URLAUTH_KEY_ENTRY])?,
        };
        Ok(())
    }

    /// The mail of another account of this store (URLFETCH of a URL another user made,
    /// RFC 4467 §6.3); `None` when there is no such account.
    pub fn open_other(&self, address: &str) -> Result<Option<MailAccess>, AccessError> {
        let account = crate::directory::get_account(&self.store.conn(), address)?;
        account
            .map(|a| MailAccess::open(self.store.clone(), a))
            .transpose()
    }
}
