//! Folder lookups of delivery-time filtering (Sieve's RFC 5490 mailboxexists and `:create`,
//! RFC 8579 special-use): synchronous, for a blocking thread.

use crate::directory::Account;
use crate::error::StoreError;
use crate::handle::Store;
use crate::{folder_name, mailbox};
use rusqlite::{OptionalExtension, params};

impl Store {
    /// Whether `account` has the folder `name` (IMAP form): INBOX always; another when its
    /// Maildir++ directory or its index row exists.
    pub fn folder_exists(&self, account: &Account, name: &str) -> Result<bool, StoreError> {
        let Ok(name) = folder_name::canonical(name) else {
            return Ok(false);
        };
        if folder_name::is_inbox(&name) {
            return Ok(true);
        }
        let maildir = self.dir.maildir(&account.domain, &account.local);
        if mailbox::folder_dir(&maildir, &name).is_some_and(|dir| dir.join("cur").is_dir()) {
            return Ok(true);
        }
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM mailboxes WHERE account_id = ?1 AND name = ?2",
                params![account.id, name],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The first (by name) of `account`'s folders with the special-use attribute
    /// `special_use` (RFC 6154, e.g. `\Junk`; case-insensitive), if any.
    pub fn special_use_folder(
        &self,
        account: &Account,
        special_use: &str,
    ) -> Result<Option<String>, StoreError> {
        let wanted = special_use.to_ascii_lowercase();
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT name, special_use FROM mailboxes WHERE account_id = ?1 AND special_use IS NOT NULL ORDER BY name",
        )?;
        let rows: Vec<(String, String)> = stmt
            .query_map(params![account.id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows.into_iter().find_map(|(name, uses)| {
            uses.split_whitespace()
                .any(|u| u.to_ascii_lowercase() == wanted)
                .then_some(name)
        }))
    }
}
