//! Phase 4 of a batch: one SQLite transaction for every row (queue rows, index rows,
//! quota usage), taken in turn with the other writer and the mail access layer.

use super::Prep;
use super::publish::Published;
use super::write_files::delivery_key;
use crate::error::StoreError;
use crate::handle::{MailboxChange, lock};
use crate::mailbox::{self, Appended};
use crate::writer::{FRESH_GRACE_SECS, WriterCtx};
use rusqlite::{Connection, params};
use std::collections::HashMap;

/// The rows' outcome (a delivery's place per request) and the mailboxes that changed.
pub(super) type Indexed = (
    Result<Vec<Option<Appended>>, StoreError>,
    HashMap<i64, MailboxChange>,
);

/// Commits the rows of every request that has not failed.
pub(super) fn index_rows(
    conn: &mut Connection,
    ctx: &WriterCtx,
    preps: &[Prep],
    failures: &HashMap<usize, StoreError>,
    published: Published,
    now: i64,
) -> Indexed {
    let dir = &ctx.dir;
    let Published {
        mut new_mtimes,
        dir_sync_failed,
    } = published;
    let mut changed: HashMap<i64, MailboxChange> = HashMap::new();

    let result = (|| -> Result<Vec<Option<Appended>>, StoreError> {
        if dir_sync_failed {
            return Err(StoreError::io(
                dir.root(),
                std::io::Error::other("directory fsync failed"),
            ));
        }
        // One writer's transaction at a time: SQLite has one write lock, and waiting here
        // is cheaper than its busy handler's sleeps.
        let _turn = lock(&ctx.commit_lock);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut appended = Vec::with_capacity(preps.len());
        for (i, p) in preps.iter().enumerate() {
            if failures.contains_key(&i) {
                appended.push(None);
                continue;
            }
            match p {
                Prep::Enqueue {
                    envelope, inline, ..
                } => {
                    tx.prepare_cached(
                        "INSERT INTO queue (id, created, created_ms, next_attempt, attempts, envelope, body) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
                    )?
                    .execute(params![envelope.id, envelope.created, envelope.arrival_ms(), envelope.created + FRESH_GRACE_SECS, serde_json::to_string(envelope)?, inline.as_ref().map(|b| b.as_slice())])?;
                    appended.push(None);
                }
                Prep::Deliver {
                    req,
                    folder_dir,
                    filename,
                    ..
                } => {
                    let mbox = mailbox::get_or_create(&tx, req.account.id, &req.folder, now)?;
                    let (uid, modseq) = mailbox::allocate_uid(&tx, mbox.id)?;
                    let size = req.data.len() as i64;
                    tx.prepare_cached(
                        "INSERT INTO messages (mailbox_id, uid, modseq, flags, filename, size, internal_date, delivery_key, in_cur) VALUES (?1, ?2, ?3, ?8, ?4, ?5, ?6, ?7, ?9)",
                    )?
                    .execute(params![mbox.id, uid, modseq as i64, filename, size, now, delivery_key(req), req.flags.to_index(), req.in_cur()])?;
                    tx.prepare_cached("UPDATE accounts SET used = used + ?1 WHERE id = ?2")?
                        .execute(params![size, req.account.id])?;
                    if let Some((before, after)) = new_mtimes.remove(folder_dir) {
                        tx.prepare_cached(
                            "UPDATE mailboxes SET synced_new = ?1 WHERE id = ?2 AND synced_new = ?3",
                        )?
                        .execute(params![after, mbox.id, before])?;
                    }
                    changed.insert(
                        mbox.id,
                        MailboxChange {
                            account_id: req.account.id,
                            mailbox_id: mbox.id,
                            highestmodseq: modseq,
                            kind: crate::change::ChangeKind::added(),
                        },
                    );
                    appended.push(Some(Appended {
                        mailbox_id: mbox.id,
                        uid,
                        modseq,
                        path: folder_dir
                            .join(req.subdir())
                            .join(req.stored_name(filename)),
                        duplicate: false,
                    }));
                }
                Prep::Update {
                    envelope,
                    next_attempt,
                    attempts,
                    ..
                } => {
                    tx.prepare_cached("UPDATE queue SET envelope = ?1, next_attempt = CASE WHEN next_attempt = ?5 THEN ?5 ELSE ?2 END, attempts = ?3 WHERE id = ?4")?
                        .execute(params![serde_json::to_string(envelope)?, next_attempt, attempts, envelope.id, crate::queue::HELD])?;
                    appended.push(None);
                }
                Prep::Remove { id, .. } => {
                    tx.prepare_cached("DELETE FROM queue WHERE id = ?1")?
                        .execute([id])?;
                    appended.push(None);
                }
            }
        }
        tx.commit()?;
        Ok(appended)
    })();
    (result, changed)
}
