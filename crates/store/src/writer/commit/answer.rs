//! Phase 5 of a batch: every caller gets its answer; files of requests that failed are
//! removed, and spool files of removed queue entries go once their rows are gone.

use super::Prep;
use crate::error::StoreError;
use crate::layout::DataDir;
use crate::mailbox::Appended;
use std::collections::HashMap;

/// Answers every request of the batch.
pub(super) fn answer(
    dir: &DataDir,
    preps: Vec<Prep>,
    mut failures: HashMap<usize, StoreError>,
    result: Result<Vec<Option<Appended>>, StoreError>,
) {
    match result {
        Ok(appended) => {
            for (i, (p, a)) in preps.into_iter().zip(appended).enumerate() {
                let failure = failures.remove(&i);
                match p {
                    Prep::Enqueue { path, reply, .. } => {
                        if failure.is_some()
                            && let Some(path) = path
                        {
                            let _ = std::fs::remove_file(&path);
                        }
                        let _ = reply.send(failure.map_or(Ok(()), Err));
                    }
                    Prep::Deliver { reply, .. } => {
                        let res = match (failure, a) {
                            (Some(e), _) => Err(e),
                            (None, Some(a)) => Ok(a),
                            (None, None) => Err(StoreError::WriterGone),
                        };
                        let _ = reply.send(res);
                    }
                    Prep::Update { reply, .. } => {
                        let _ = reply.send(Ok(()));
                    }
                    Prep::Remove { id, reply } => {
                        if crate::ids::is_valid_id(&id) {
                            let _ = std::fs::remove_file(dir.spool_file(&id));
                        }
                        let _ = reply.send(Ok(()));
                    }
                }
            }
        }
        Err(e) => {
            let msg = e.to_string();
            let err = || StoreError::io(dir.root(), std::io::Error::other(msg.clone()));
            for p in preps {
                match p {
                    Prep::Enqueue { path, reply, .. } => {
                        if let Some(path) = path {
                            let _ = std::fs::remove_file(&path);
                        }
                        let _ = reply.send(Err(err()));
                    }
                    Prep::Deliver { reply, .. } => {
                        let _ = reply.send(Err(err()));
                    }
                    Prep::Update { reply, .. } | Prep::Remove { reply, .. } => {
                        let _ = reply.send(Err(err()));
                    }
                }
            }
        }
    }
}
