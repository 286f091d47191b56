//! The account's storage quota (RFC 9208): the check before adding mail, and the figures.

use super::{AccessError, MailAccess};
use rusqlite::Connection;

impl MailAccess {
    pub(super) fn check_quota(&self, conn: &Connection, size: u64) -> Result<(), AccessError> {
        let (used, quota): (i64, Option<i64>) = conn.query_row(
            "SELECT used, quota FROM accounts WHERE id = ?1",
            [self.account.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if let Some(quota) = quota {
            let (used, quota) = (used.max(0) as u64, quota.max(0) as u64);
            if used + size > quota {
                return Err(AccessError::OverQuota { used, size, quota });
            }
        }
        Ok(())
    }

    /// (bytes used, quota) for QUOTA (RFC 9208).
    pub fn quota(&self) -> Result<(u64, Option<u64>), AccessError> {
        let (used, quota): (i64, Option<i64>) = self.store.mail_conn().query_row(
            "SELECT used, quota FROM accounts WHERE id = ?1",
            [self.account.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((used.max(0) as u64, quota.map(|q| q.max(0) as u64)))
    }
}
