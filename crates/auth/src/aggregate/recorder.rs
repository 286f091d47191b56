//! Recording evaluations without slowing the SMTP server: `record` only puts the evaluation
//! in a bounded channel; one writer thread appends them in batches. A full channel drops
//! the evaluation and counts it (a report with a few messages missing beats a slow server;
//! RFC 9990 reports are statistics, not a delivery log).

use super::error::AggregateError;
use super::evaluation::Evaluation;
use super::journal::{append_evaluations, evaluations_dir, prune_before};
use super::period::Period;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// How many evaluations may wait for the writer (about a few seconds at 2,000 messages/s).
const QUEUE: usize = 16 * 1024;
/// How many the writer appends in one write.
const BATCH: usize = 1024;
/// How long the writer gathers evaluations after the first of a batch: at a steady stream
/// of messages it wakes and opens the day file a few times a second, not once per message.
/// A crash loses at most this much of the statistics.
const GATHER: std::time::Duration = std::time::Duration::from_millis(200);
/// Days of evaluations kept: `mailward dmarc report --period` reaches back this far.
pub const KEEP_DAYS: u32 = 32;

/// The handle the SMTP sessions share.
#[derive(Clone, Debug)]
pub struct Recorder {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sender: mpsc::Sender<Evaluation>,
    dropped: Arc<AtomicU64>,
    dir: PathBuf,
}

impl Recorder {
    /// Starts the writer for `dir` (`<data_dir>/dmarc`), creating its folders.
    pub fn open(dir: &Path) -> Result<Recorder, AggregateError> {
        let evaluations = evaluations_dir(dir);
        std::fs::create_dir_all(&evaluations).map_err(|e| AggregateError::io(&evaluations, e))?;
        let (sender, receiver) = mpsc::channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let writer_dir = dir.to_path_buf();
        let writer_dropped = Arc::clone(&dropped);
        std::thread::Builder::new()
            .name("dmarc-recorder".into())
            .spawn(move || write_loop(&writer_dir, receiver, &writer_dropped))
            .map_err(|e| AggregateError::io(dir, e))?;
        Ok(Recorder {
            inner: Arc::new(Inner {
                sender,
                dropped,
                dir: dir.to_path_buf(),
            }),
        })
    }

    /// Records `e`; never blocks and never fails the message (a full queue drops it).
    pub fn record(&self, e: Evaluation) {
        if self.inner.sender.try_send(e).is_err() {
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Evaluations dropped so far (queue full, or the disk refused them).
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// The folder evaluations are recorded under.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }
}

/// Appends what arrives until every `Recorder` is gone.
fn write_loop(dir: &Path, mut receiver: mpsc::Receiver<Evaluation>, dropped: &AtomicU64) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut pruned_for: Option<Period> = None;
    while let Some(first) = receiver.blocking_recv() {
        // Once a day (at the first evaluation of a new day), old day files go.
        let today = Period::containing(first.at);
        if pruned_for.is_none_or(|p| p < today) {
            pruned_for = Some(today);
            let oldest_kept = (0..KEEP_DAYS).fold(today, |p, _| p.previous());
            if let Err(e) = prune_before(dir, oldest_kept) {
                eprintln!("dmarc: old evaluations not removed: {e}");
            }
        }
        batch.push(first);
        std::thread::sleep(GATHER);
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        if let Err(e) = append_evaluations(dir, &batch) {
            dropped.fetch_add(batch.len() as u64, Ordering::Relaxed);
            eprintln!("dmarc: evaluations not recorded: {e}");
        }
        batch.clear();
    }
}
