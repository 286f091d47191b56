//! The ENVELOPE / BODYSTRUCTURE cache in the index: the IMAP server's wire form of a
//! message's structure, so a second FETCH does not parse the file again.

use super::{AccessError, MailAccess};
use rusqlite::{OptionalExtension, params};

/// A message's ENVELOPE and BODYSTRUCTURE as the IMAP server computed them (its wire
/// form), kept in the index so a second FETCH does not parse the file again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedStructure {
    pub uid: u32,
    pub envelope: Option<String>,
    pub bodystructure: Option<String>,
}

fn cached_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CachedStructure> {
    Ok(CachedStructure {
        uid: r.get::<_, i64>(0)? as u32,
        envelope: r.get(1)?,
        bodystructure: r.get(2)?,
    })
}

/// Stores computed ENVELOPE / BODYSTRUCTURE values in one transaction.
fn write_structures(
    conn: &mut rusqlite::Connection,
    folder_id: i64,
    entries: &[CachedStructure],
) -> Result<(), AccessError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut stmt = tx.prepare_cached(
            "UPDATE messages SET envelope = COALESCE(?1, envelope), bodystructure = COALESCE(?2, bodystructure) WHERE mailbox_id = ?3 AND uid = ?4",
        )?;
        for e in entries {
            stmt.execute(params![e.envelope, e.bodystructure, folder_id, e.uid])?;
        }
    }
    tx.commit()?;
    Ok(())
}

impl MailAccess {
    /// The cached ENVELOPE and BODYSTRUCTURE (server's wire form) of the messages in
    /// `uids` that have them, in UID order.
    pub fn cached_structure(
        &self,
        folder_id: i64,
        uids: &[u32],
    ) -> Result<Vec<CachedStructure>, AccessError> {
        let conn = self.store.mail_conn();
        let mut out = Vec::with_capacity(uids.len());
        if uids.len() > 64 {
            // Many UIDs (FETCH 1:*): one scan of the folder beats one lookup per UID.
            let wanted: std::collections::HashSet<u32> = uids.iter().copied().collect();
            let lo = uids.iter().copied().min().unwrap_or(0);
            let hi = uids.iter().copied().max().unwrap_or(0);
            let mut stmt = conn.prepare_cached(
                "SELECT uid, envelope, bodystructure FROM messages WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 AND (envelope IS NOT NULL OR bodystructure IS NOT NULL) ORDER BY uid",
            )?;
            let rows = stmt.query_map(params![folder_id, lo, hi], cached_from_row)?;
            for row in rows {
                let row = row?;
                if wanted.contains(&row.uid) {
                    out.push(row);
                }
            }
        } else {
            let mut stmt = conn.prepare_cached(
                "SELECT uid, envelope, bodystructure FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
            )?;
            for &uid in uids {
                if let Some(row) = stmt
                    .query_row(params![folder_id, uid], cached_from_row)
                    .optional()?
                {
                    out.push(row);
                }
            }
        }
        Ok(out)
    }

    /// Remembers computed ENVELOPE / BODYSTRUCTURE values (a cache: losing it costs only
    /// time, so this commits without the Maildir lock).
    pub fn cache_structure(
        &self,
        folder_id: i64,
        entries: &[CachedStructure],
    ) -> Result<(), AccessError> {
        if entries.is_empty() {
            return Ok(());
        }
        let _c = self.store.commit_lock();
        let mut conn = self.store.mail_conn();
        // Like every commit of the mail access layer, without an fsync of its own (see
        // `mail_access_durability` in handle.rs): a cache is rebuilt when lost.
        write_structures(&mut conn, folder_id, entries)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.
    use super::*;
    use crate::{DataDir, Store, directory};

    /// Writing the ENVELOPE cache set the mail connections back to `synchronous = FULL`
    /// after a `NORMAL` write of its own, so every later STORE, EXPUNGE and APPEND row
    /// was fsynced again (imaptest `logout=0` stress: 2,376 commands/s, 3,726 once fixed).
    #[test]
    fn regress_cache_write_put_mail_connections_back_to_full_sync() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(DataDir::new(tmp.path()), &["example.test".into()], "h").unwrap();
        let account = directory::add_account(&store.conn(), "a@example.test", "x", None).unwrap();
        let access = MailAccess::open(store.clone(), account).unwrap();
        let inbox = access.folder("INBOX").unwrap().unwrap();
        let (_, uid) = access
            .append("INBOX", b"Subject: x\r\n\r\nbody\r\n", &[], None)
            .unwrap();
        let entry = CachedStructure {
            uid,
            envelope: Some("(NIL)".into()),
            bodystructure: None,
        };
        for _ in 0..8 {
            access
                .cache_structure(inbox.id, std::slice::from_ref(&entry))
                .unwrap();
        }
        for _ in 0..8 {
            let conn = store.mail_conn();
            let level: i64 = conn
                .pragma_query_value(None, "synchronous", |r| r.get(0))
                .unwrap();
            assert_eq!(level, 1, "a mail connection is not at synchronous = NORMAL");
        }
    }
}
