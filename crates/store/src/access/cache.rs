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
        // Without an fsync of its own: in WAL mode a `synchronous=NORMAL` commit can be lost
        // in a power cut but never corrupts the database, and the next durable commit
        // (delivery, flags) syncs it along. The connection is back to FULL before the lock
        // is released, whatever happened.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let written = write_structures(&mut conn, folder_id, entries);
        let restored = conn.pragma_update(None, "synchronous", "FULL");
        written?;
        restored?;
        Ok(())
    }
}
