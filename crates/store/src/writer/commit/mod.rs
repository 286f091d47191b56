//! One batch of writer requests made durable together, phase by phase: write the files
//! ([`write_files`]), fsync them together ([`sync_files`]), move deliveries into `new/` and
//! fsync the directories ([`publish`]), commit every row in one transaction
//! ([`index_rows`]), then answer every caller ([`answer`]).

mod answer;
mod index_rows;
mod publish;
mod sync_files;
mod write_files;

use super::{DeliverRequest, Op, WriterCtx};
use crate::error::StoreError;
use crate::handle::lock;
use crate::ids::unix_now;
use crate::mailbox::Appended;
use crate::queue::{Envelope, SpoolTemp};
use rusqlite::Connection;
use std::collections::HashSet;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Per-request progress through a batch.
pub(super) enum Prep {
    Enqueue {
        envelope: Box<Envelope>,
        /// The body itself when it goes into the row ([`crate::writer::INLINE_BODY_MAX`]).
        inline: Option<Arc<Vec<u8>>>,
        /// The spool file when it does not.
        path: Option<PathBuf>,
        /// The spool file written by this batch (phase 1).
        file: Option<File>,
        /// The body received into a temporary file, renamed to `path` in phase 3.
        temp: Option<SpoolTemp>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Deliver {
        req: Box<DeliverRequest>,
        folder_dir: PathBuf,
        filename: String,
        /// `Some` while a new file is being written; `None` when the file was already there.
        tmp: Option<(PathBuf, File)>,
        reply: oneshot::Sender<Result<Appended, StoreError>>,
    },
    Update {
        envelope: Box<Envelope>,
        next_attempt: i64,
        attempts: u32,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Remove {
        id: String,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// Makes a batch durable and answers each request (see the module documentation).
pub(super) fn commit_batch(
    conn: &mut Connection,
    ctx: &WriterCtx,
    known_dirs: &mut HashSet<PathBuf>,
    batch: Vec<Op>,
) {
    let now = unix_now();

    // Phase 1: write files (no sync yet).
    let mut preps = write_files::write_files(conn, ctx, known_dirs, batch);

    // Phase 2: fsync every new file of the batch together.
    let mut failures = sync_files::sync_files(&ctx.dir, &preps);

    // Phase 3: move deliveries into new/, then fsync the directories once each. From the
    // first rename until the index rows are committed the Maildir lock is held, so a
    // reconciliation (`crate::sync`) never indexes a delivered file on its own.
    let delivering = preps.iter().any(|p| matches!(p, Prep::Deliver { .. }));
    let _maildir_turn = delivering.then(|| lock(&ctx.maildir_lock));
    let published = publish::publish(&ctx.dir, &mut preps, &mut failures);

    // Phase 4: one transaction for every row.
    let (result, changed) = index_rows::index_rows(conn, ctx, &preps, &failures, published, now);
    drop(_maildir_turn);
    if result.is_ok() {
        for change in changed.into_values() {
            let _ = ctx.changes.send(change);
        }
    }
    // Phase 5: answer everyone.
    answer::answer(&ctx.dir, preps, failures, result);
}
