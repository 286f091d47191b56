//! Phase 1 of a batch: the spool files of large queued bodies and the Maildir `tmp/`
//! files of deliveries are written (not yet synced); bodies received into a temporary
//! spool file need no write; deliveries already made are answered from the index at once
//! (delivery is idempotent).

use super::Prep;
use crate::directory;
use crate::error::StoreError;
use crate::layout::DataDir;
use crate::mailbox::{self, Appended};
use crate::writer::{DeliverRequest, INLINE_BODY_MAX, Op, QueuedBody, WriterCtx};
use rusqlite::Connection;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Turns the batch's requests into [`Prep`]s, answering those that fail or need no write.
pub(super) fn write_files(
    conn: &Connection,
    ctx: &WriterCtx,
    known_dirs: &mut HashSet<PathBuf>,
    batch: Vec<Op>,
) -> Vec<Prep> {
    let (dir, host) = (&ctx.dir, ctx.host.as_str());
    // Bytes each account gains in this batch, for quota checks across the batch.
    let mut pending_bytes: HashMap<i64, u64> = HashMap::new();
    let mut preps: Vec<Prep> = Vec::with_capacity(batch.len());

    for op in batch {
        match op {
            Op::Enqueue {
                envelope,
                body,
                reply,
            } => {
                if !crate::ids::is_valid_id(&envelope.id) {
                    let _ = reply.send(Err(StoreError::NoSuchQueueEntry(envelope.id.clone())));
                    continue;
                }
                let path = dir.spool_file(&envelope.id);
                let body = match body {
                    QueuedBody::Spooled(temp) => {
                        preps.push(Prep::Enqueue {
                            envelope,
                            inline: None,
                            path: Some(path),
                            file: None,
                            temp: Some(temp),
                            reply,
                        });
                        continue;
                    }
                    QueuedBody::Bytes(body) => body,
                };
                if body.len() <= INLINE_BODY_MAX {
                    preps.push(Prep::Enqueue {
                        envelope,
                        inline: Some(body),
                        path: None,
                        file: None,
                        temp: None,
                        reply,
                    });
                    continue;
                }
                match write_new(&path, &body) {
                    Ok(f) => preps.push(Prep::Enqueue {
                        envelope,
                        inline: None,
                        path: Some(path),
                        file: Some(f),
                        temp: None,
                        reply,
                    }),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Op::Deliver { req, reply } => {
                match prepare_delivery(conn, dir, host, known_dirs, &req, &mut pending_bytes) {
                    Ok(Some((folder_dir, filename, tmp))) => preps.push(Prep::Deliver {
                        req,
                        folder_dir,
                        filename,
                        tmp,
                        reply,
                    }),
                    Ok(None) => {
                        // Indexed before: answer with what the index says.
                        let key = delivery_key(&req);
                        let res = already_indexed(conn, &key).and_then(|found| {
                            found
                                .map(|(mailbox_id, uid, modseq)| Appended {
                                    mailbox_id,
                                    uid,
                                    modseq,
                                    path: PathBuf::new(),
                                    duplicate: true,
                                })
                                .ok_or(StoreError::NoSuchQueueEntry(key))
                        });
                        let _ = reply.send(res);
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Op::Update {
                envelope,
                next_attempt,
                attempts,
                reply,
            } => preps.push(Prep::Update {
                envelope,
                next_attempt,
                attempts,
                reply,
            }),
            Op::Remove { id, reply } => preps.push(Prep::Remove { id, reply }),
        }
    }
    preps
}

fn write_new(path: &Path, data: &[u8]) -> Result<File, StoreError> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    f.write_all(data).map_err(|e| StoreError::io(path, e))?;
    Ok(f)
}

fn maildir_has(folder_dir: &Path, filename: &str) -> bool {
    if folder_dir.join("new").join(filename).exists() {
        return true;
    }
    // A reader may have moved it to cur/ with an info suffix (`:2,FLAGS`).
    let prefix = format!("{filename}:");
    std::fs::read_dir(folder_dir.join("cur"))
        .map(|rd| {
            rd.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        })
        .unwrap_or(false)
}

pub(super) fn already_indexed(
    conn: &Connection,
    key: &str,
) -> Result<Option<(i64, u32, u64)>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT mailbox_id, uid, modseq FROM messages WHERE delivery_key = ?1")?;
    let mut rows = stmt.query([key])?;
    Ok(match rows.next()? {
        Some(r) => Some((
            r.get(0)?,
            r.get::<_, i64>(1)? as u32,
            r.get::<_, i64>(2)? as u64,
        )),
        None => None,
    })
}

pub(super) fn delivery_key(req: &DeliverRequest) -> String {
    if req.copy == 0 {
        format!("{}/{}/{}", req.queue_id, req.rcpt_index, req.account.id)
    } else {
        format!(
            "{}/{}/{}/{}",
            req.queue_id, req.rcpt_index, req.account.id, req.copy
        )
    }
}

type Prepared = (PathBuf, String, Option<(PathBuf, File)>);

/// Decides what a delivery needs: `None` when it is already indexed; otherwise the folder,
/// the file name and, unless the file already exists, the written (unsynced) tmp file.
fn prepare_delivery(
    conn: &Connection,
    dir: &DataDir,
    host: &str,
    known_dirs: &mut HashSet<PathBuf>,
    req: &DeliverRequest,
    pending_bytes: &mut HashMap<i64, u64>,
) -> Result<Option<Prepared>, StoreError> {
    if already_indexed(conn, &delivery_key(req))?.is_some() {
        return Ok(None);
    }
    let acct = directory::get_account_by_id(conn, req.account.id)?
        .ok_or_else(|| StoreError::NoSuchAccount(req.account.address.clone()))?;
    let size = req.data.len() as u64;
    let pending = pending_bytes.entry(acct.id).or_insert(0);
    if let Some(quota) = acct.quota {
        let used = acct.used + *pending;
        if used + size > quota {
            return Err(StoreError::OverQuota { used, size, quota });
        }
    }
    let maildir = dir.maildir(&acct.domain, &acct.local);
    let folder_dir = mailbox::folder_dir(&maildir, &req.folder)
        .ok_or_else(|| StoreError::InvalidAddress(req.folder.clone()))?;
    if !known_dirs.contains(&folder_dir) {
        mailbox::ensure_maildir(&folder_dir, folder_dir != maildir)?;
        known_dirs.insert(folder_dir.clone());
    }
    let queue_part = if req.copy == 0 {
        req.queue_id.clone()
    } else {
        format!("{}C{}", req.queue_id, req.copy)
    };
    let filename = mailbox::delivery_filename(
        req.arrival,
        &queue_part,
        req.rcpt_index,
        acct.id,
        host,
        req.data.len(),
    );
    *pending += size;
    if !req.fresh && maildir_has(&folder_dir, &filename) {
        return Ok(Some((folder_dir, filename, None)));
    }
    let tmp_path = folder_dir.join("tmp").join(&filename);
    let f = write_new(&tmp_path, &req.data)?;
    Ok(Some((folder_dir, filename, Some((tmp_path, f)))))
}
