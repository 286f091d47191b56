//! Reconciliation of a Maildir folder with its index: what another program did to the
//! files (a message dropped into `new/`, flags changed by renaming, a file deleted) becomes
//! index rows, UIDs and MODSEQs, and a lost index is rebuilt from the files.
//!
//! A folder whose `new/` and `cur/` modification times equal the ones recorded at the last
//! reconciliation is skipped (mailward's own changes keep the recorded times in step). The
//! caller holds the Store's Maildir lock, so deliveries in flight are not seen half-done.

use crate::error::StoreError;
use crate::flags::{Flags, split_info};
use crate::mailbox::mtime_ns;
use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::path::Path;

/// What a reconciliation changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// Files indexed for the first time.
    pub added: usize,
    /// Index rows whose file is gone.
    pub removed: usize,
    /// Rows whose flags or location changed.
    pub updated: usize,
    /// The folder's HIGHESTMODSEQ afterwards.
    pub highestmodseq: u64,
}

impl SyncReport {
    pub fn changed(&self) -> bool {
        self.added + self.removed + self.updated > 0
    }
}

struct DiskFile {
    in_cur: bool,
    info: Option<String>,
}

struct Row {
    uid: u32,
    flags: String,
    in_cur: bool,
    size: i64,
}

/// Lists one of `new/` or `cur/`: base name → file. Names starting with `.` are skipped
/// (maildir(5): they are not messages).
fn list(dir: &Path, in_cur: bool, out: &mut HashMap<String, DiskFile>) -> Result<(), StoreError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io(dir, e)),
    };
    for entry in rd.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let (base, info) = if in_cur {
            let (b, i) = split_info(&name);
            (b.to_string(), i.map(str::to_string))
        } else {
            (name, None)
        };
        out.insert(base, DiskFile { in_cur, info });
    }
    Ok(())
}

/// Brings the index of folder `mailbox_id` (directory `folder_dir`) in line with the files.
/// `force` scans even when the directory times say nothing changed. Runs in one
/// transaction on `conn`; the caller holds the Maildir and commit locks.
pub fn reconcile(
    conn: &mut Connection,
    mailbox_id: i64,
    account_id: i64,
    folder_dir: &Path,
    force: bool,
    now: i64,
) -> Result<SyncReport, StoreError> {
    let new_dir = folder_dir.join("new");
    let cur_dir = folder_dir.join("cur");
    // Times first: a change during the listing leaves a time that differs next time.
    let new_mtime = mtime_ns(&new_dir);
    let cur_mtime = mtime_ns(&cur_dir);
    let (synced_new, synced_cur, highest): (i64, i64, i64) = conn.query_row(
        "SELECT synced_new, synced_cur, highestmodseq FROM mailboxes WHERE id = ?1",
        [mailbox_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut report = SyncReport {
        highestmodseq: highest as u64,
        ..SyncReport::default()
    };
    if !force && new_mtime == synced_new && cur_mtime == synced_cur && new_mtime != 0 {
        return Ok(report);
    }

    let mut disk: HashMap<String, DiskFile> = HashMap::new();
    list(&new_dir, false, &mut disk)?;
    list(&cur_dir, true, &mut disk)?;

    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let rows: Vec<(String, Row)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT filename, uid, flags, in_cur, size FROM messages WHERE mailbox_id = ?1",
        )?;
        let it = stmt.query_map([mailbox_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Row {
                    uid: r.get::<_, i64>(1)? as u32,
                    flags: r.get(2)?,
                    in_cur: r.get::<_, i64>(3)? != 0,
                    size: r.get(4)?,
                },
            ))
        })?;
        it.collect::<Result<_, _>>()?
    };
    let mut size_delta: i64 = 0;
    let bump = |tx: &rusqlite::Transaction<'_>| -> Result<u64, StoreError> {
        Ok(tx
            .prepare_cached(
                "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ?1 RETURNING highestmodseq",
            )?
            .query_row([mailbox_id], |r| r.get::<_, i64>(0))? as u64)
    };
    for (filename, row) in &rows {
        match disk.remove(filename) {
            None => {
                let modseq = bump(&tx)?;
                tx.prepare_cached("DELETE FROM messages WHERE mailbox_id = ?1 AND uid = ?2")?
                    .execute(params![mailbox_id, row.uid])?;
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![mailbox_id, row.uid, modseq as i64])?;
                size_delta -= row.size;
                report.removed += 1;
            }
            Some(file) => {
                let old = Flags::from_index(&row.flags);
                let flags = match &file.info {
                    Some(info) => old.with_maildir_info(info),
                    // In new/ (or in cur/ without info): no Maildir flags.
                    None => old.with_maildir_info(""),
                };
                if flags != old || file.in_cur != row.in_cur {
                    let modseq = if flags != old { Some(bump(&tx)?) } else { None };
                    tx.prepare_cached(
                        "UPDATE messages SET flags = ?1, in_cur = ?2, modseq = COALESCE(?3, modseq) WHERE mailbox_id = ?4 AND uid = ?5",
                    )?
                    .execute(params![
                        flags.to_index(),
                        file.in_cur,
                        modseq.map(|m| m as i64),
                        mailbox_id,
                        row.uid
                    ])?;
                    report.updated += 1;
                }
            }
        }
    }
    // Files the index does not know, in name order (Maildir names start with the time of
    // delivery, so UIDs follow arrival).
    let mut unknown: Vec<(String, DiskFile)> = disk.into_iter().collect();
    unknown.sort_by(|a, b| a.0.cmp(&b.0));
    // UIDs and MODSEQs handed out here and written back once at the end (as
    // `allocate_uid` would, one per file), so a first reconciliation of a large Maildir
    // is one statement per file.
    let (mut uidnext, mut modseq_top): (i64, i64) = tx.query_row(
        "SELECT uidnext, highestmodseq FROM mailboxes WHERE id = ?1",
        [mailbox_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let uidnext_before = uidnext;
    for (base, file) in unknown {
        let path = if file.in_cur {
            match &file.info {
                Some(info) => cur_dir.join(format!("{base}:2,{info}")),
                None => cur_dir.join(&base),
            }
        } else {
            new_dir.join(&base)
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            continue; // gone meanwhile
        };
        if !meta.is_file() {
            continue;
        }
        let internal = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(now, |d| d.as_secs() as i64);
        let flags = Flags::new().with_maildir_info(file.info.as_deref().unwrap_or(""));
        let uid = uidnext;
        uidnext += 1;
        modseq_top += 1;
        let modseq = modseq_top;
        tx.prepare_cached(
            "INSERT INTO messages (mailbox_id, uid, modseq, flags, filename, size, internal_date, in_cur) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            mailbox_id,
            uid,
            modseq,
            flags.to_index(),
            base,
            meta.len() as i64,
            internal,
            file.in_cur
        ])?;
        size_delta += meta.len() as i64;
        report.added += 1;
    }
    if uidnext != uidnext_before {
        tx.prepare_cached("UPDATE mailboxes SET uidnext = ?1, highestmodseq = ?2 WHERE id = ?3")?
            .execute(params![uidnext, modseq_top, mailbox_id])?;
    }
    if size_delta != 0 {
        tx.prepare_cached("UPDATE accounts SET used = MAX(0, used + ?1) WHERE id = ?2")?
            .execute(params![size_delta, account_id])?;
    }
    report.highestmodseq = tx
        .prepare_cached(
            "UPDATE mailboxes SET synced_new = ?1, synced_cur = ?2 WHERE id = ?3 RETURNING highestmodseq",
        )?
        .query_row(params![new_mtime, cur_mtime, mailbox_id], |r| {
            r.get::<_, i64>(0)
        })? as u64;
    tx.commit()?;
    Ok(report)
}
