//! Phase 2 of a batch: every new file of the batch is fsynced, in parallel, so the kernel
//! folds them into few journal commits.

use super::Prep;
use crate::error::StoreError;
use crate::layout::DataDir;
use std::collections::HashMap;
use std::fs::File;

/// Most threads used to fsync one batch's files.
const SYNC_THREADS: usize = 16;

/// fsyncs the batch's new files; returns the failures by request index.
pub(super) fn sync_files(dir: &DataDir, preps: &[Prep]) -> HashMap<usize, StoreError> {
    let mut failures: HashMap<usize, StoreError> = HashMap::new();
    {
        let mut owners = Vec::new();
        let mut files = Vec::new();
        for (i, p) in preps.iter().enumerate() {
            match p {
                Prep::Enqueue { file: Some(f), .. } => {
                    owners.push(i);
                    files.push(f);
                }
                Prep::Enqueue { temp: Some(t), .. } => {
                    owners.push(i);
                    files.push(t.file());
                }
                Prep::Deliver {
                    tmp: Some((_, f)), ..
                } => {
                    owners.push(i);
                    files.push(f);
                }
                _ => {}
            }
        }
        for (idx, err) in sync_all(&files) {
            if let Some(&owner) = owners.get(idx) {
                failures.insert(owner, StoreError::io(dir.spool_dir(), err));
            }
        }
    }
    failures
}

/// fsyncs files (or directories) in parallel; returns the indices that failed.
pub(super) fn sync_all(files: &[&File]) -> Vec<(usize, std::io::Error)> {
    if files.len() <= 1 {
        return files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.sync_data().err().map(|e| (i, e)))
            .collect();
    }
    let threads = files.len().min(SYNC_THREADS);
    let chunk = files.len().div_ceil(threads);
    let mut failed = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .enumerate()
            .map(|(ci, part)| {
                s.spawn(move || {
                    part.iter()
                        .enumerate()
                        .filter_map(|(j, f)| f.sync_data().err().map(|e| (ci * chunk + j, e)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            if let Ok(v) = h.join() {
                failed.extend(v);
            }
        }
    });
    failed
}
