//! Phase 3 of a batch: deliveries move from `tmp/` into `new/` and bodies received into
//! temporary spool files from `spool/tmp/` into `spool/`, then every directory that gained
//! a file (the spool, each folder's `new/`) is fsynced once. The caller holds the
//! Maildir lock from here until the index rows are committed.

use super::Prep;
use super::sync_files::sync_all;
use crate::error::StoreError;
use crate::layout::DataDir;
use crate::mailbox;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::PathBuf;

/// What the renames left for the index phase.
pub(super) struct Published {
    /// `new/`'s modification time before and after this batch's renames, per folder.
    pub(super) new_mtimes: HashMap<PathBuf, (i64, i64)>,
    /// A directory could not be opened or fsynced: nothing of the batch is durable.
    pub(super) dir_sync_failed: bool,
}

/// Renames the batch's delivered files into `new/` and fsyncs the directories.
pub(super) fn publish(
    dir: &DataDir,
    preps: &mut [Prep],
    failures: &mut HashMap<usize, StoreError>,
) -> Published {
    // `new/`'s modification time before and after this batch's renames, per folder: a
    // folder that was reconciled before stays reconciled (`mailboxes.synced_new`).
    let mut new_mtimes: HashMap<PathBuf, (i64, i64)> = HashMap::new();
    for p in preps.iter() {
        if let Prep::Deliver {
            folder_dir,
            tmp: Some(_),
            ..
        } = p
        {
            new_mtimes
                .entry(folder_dir.clone())
                .or_insert_with(|| (mailbox::mtime_ns(&folder_dir.join("new")), 0));
        }
    }
    let mut dirs_to_sync: HashSet<PathBuf> = HashSet::new();
    for (i, p) in preps.iter_mut().enumerate() {
        match p {
            Prep::Enqueue {
                file: file @ Some(_),
                ..
            } => {
                *file = None;
                dirs_to_sync.insert(dir.spool_dir());
            }
            Prep::Enqueue {
                temp: Some(temp),
                path: Some(dest),
                ..
            } => {
                if failures.contains_key(&i) {
                    continue;
                }
                // Synced in phase 2; a rename is atomic, so `spool/<queue-id>` is never
                // a partial body.
                if let Err(e) = temp.publish(dest) {
                    failures.insert(i, e);
                    continue;
                }
                dirs_to_sync.insert(dir.spool_dir());
            }
            Prep::Deliver {
                req,
                folder_dir,
                filename,
                tmp,
                ..
            } => {
                if let Some((tmp_path, _)) = tmp.take()
                    && !failures.contains_key(&i)
                {
                    let dest = folder_dir
                        .join(req.subdir())
                        .join(req.stored_name(filename));
                    if let Err(e) = std::fs::rename(&tmp_path, &dest) {
                        failures.insert(i, StoreError::io(&dest, e));
                        let _ = std::fs::remove_file(&tmp_path);
                        continue;
                    }
                    dirs_to_sync.insert(folder_dir.join(req.subdir()));
                }
            }
            _ => {}
        }
    }
    let dir_files: Vec<(PathBuf, Result<File, std::io::Error>)> = dirs_to_sync
        .into_iter()
        .map(|d| {
            let f = File::open(&d);
            (d, f)
        })
        .collect();
    let opened: Vec<&File> = dir_files
        .iter()
        .filter_map(|(_, f)| f.as_ref().ok())
        .collect();
    let dir_sync_failed =
        !sync_all(&opened).is_empty() || dir_files.iter().any(|(_, f)| f.is_err());
    for (folder_dir, (_, after)) in new_mtimes.iter_mut() {
        *after = mailbox::mtime_ns(&folder_dir.join("new"));
    }
    Published {
        new_mtimes,
        dir_sync_failed,
    }
}
