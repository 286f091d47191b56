//! Which chunk is parsed when, and where: segments cut into chunks numbered across the input,
//! opened to the parsing threads a few at a time, parsed lowest number first, and taken back
//! in input order by the calling thread, which parses an open chunk itself rather than wait.

use super::chunk::{Job, ParsedChunk, Segment, parse_job};
use super::pool::Spares;
use crate::error::LogsError;
use crate::summary::SummaryBuilder;
use crate::time::YearRef;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};

/// Bytes of whole lines one worker parses at a time.
pub(super) const CHUNK: usize = 128 * 1024;
/// Chunks opened to the workers past the one the calling thread is taking in. Unbounded, a
/// fast worker parses far ahead: megabytes of records that have left the caches before they
/// are read, and as many item vectors to allocate.
pub(super) const AHEAD: usize = 8;

/// Splits `text` (whole lines) into chunks of about `size` bytes, each ending after a newline:
/// their byte ranges.
fn chunk_ranges(text: &str, size: usize) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / size.max(1) + 1);
    let mut start = 0;
    while start < bytes.len() {
        let end = match bytes
            .get(start + size..)
            .and_then(|rest| memchr::memchr(b'\n', rest))
        {
            Some(i) => start + size + i + 1,
            None => bytes.len(),
        };
        out.push(start..end);
        start = end;
    }
    out
}

/// The chunks open for parsing, lowest index first.
#[derive(Default)]
pub(super) struct Jobs {
    state: Mutex<JobState>,
    added: Condvar,
}

#[derive(Default)]
struct JobState {
    open: VecDeque<Job>,
    closed: bool,
}

impl Jobs {
    fn push(&self, job: Job) {
        if let Ok(mut st) = self.state.lock() {
            st.open.push_back(job);
        }
        self.added.notify_one();
    }

    /// The next open chunk, if there is one now.
    fn try_take(&self) -> Option<Job> {
        self.state.lock().ok()?.open.pop_front()
    }

    /// The next open chunk, waiting for one; `None` once closed.
    fn take(&self) -> Option<Job> {
        let mut st = self.state.lock().ok()?;
        loop {
            if let Some(job) = st.open.pop_front() {
                return Some(job);
            }
            if st.closed {
                return None;
            }
            st = self.added.wait(st).ok()?;
        }
    }

    fn close(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.closed = true;
        }
        self.added.notify_all();
    }
}

/// Closes the [`Jobs`] when dropped, also when the calling thread unwinds: a worker waiting for
/// a job would otherwise keep the scope from ending.
pub(super) struct CloseOnDrop<'j>(pub(super) &'j Jobs);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// A parsing thread: parses the open chunks, lowest index first, until the jobs close, and
/// sends each back with its index on `done`; returns the counts of the lines it parsed.
pub(super) fn work(
    jobs: &Jobs,
    spares: &Spares,
    year: &YearRef,
    done: Sender<(usize, ParsedChunk)>,
) -> SummaryBuilder {
    let mut stats = SummaryBuilder::new();
    while let Some(job) = jobs.take() {
        let index = job.index;
        let parsed = parse_job(job, year, &mut stats, spares.take());
        if done.send((index, parsed)).is_err() {
            break;
        }
    }
    stats
}

/// The parsed chunk `next` (`parsed[0]` is chunk `next`'s slot): from the workers, or parsed
/// here (counted into `own`), together with any open chunk, while it is not there yet. `None`
/// when the workers are gone (a worker only hangs up by panicking; its join re-raises that).
pub(super) fn take_chunk(
    next: usize,
    parsed: &mut VecDeque<Option<ParsedChunk>>,
    done: &Receiver<(usize, ParsedChunk)>,
    jobs: &Jobs,
    spares: &Spares,
    year: &YearRef,
    own: &mut SummaryBuilder,
) -> Option<ParsedChunk> {
    let store = |parsed: &mut VecDeque<Option<ParsedChunk>>, k: usize, p: ParsedChunk| {
        let at = k.saturating_sub(next);
        if parsed.len() <= at {
            parsed.resize_with(at + 1, || None);
        }
        if let Some(slot) = parsed.get_mut(at) {
            *slot = Some(p);
        }
    };
    loop {
        // The emptied slot stays until the chunk is taken in (the caller pops it).
        if let Some(p) = parsed.front_mut().and_then(Option::take) {
            return Some(p);
        }
        if let Ok((k, p)) = done.try_recv() {
            store(parsed, k, p);
            continue;
        }
        if let Some(job) = jobs.try_take() {
            let k = job.index;
            let p = parse_job(job, year, own, spares.take());
            store(parsed, k, p);
            continue;
        }
        match done.recv() {
            Ok((k, p)) => store(parsed, k, p),
            Err(_) => return None,
        }
    }
}

/// The calling thread's side of the input: segments from the reader, cut into numbered chunks
/// and opened to the workers a few at a time.
pub(super) struct Feed {
    segments: Receiver<Result<String, LogsError>>,
    recycle: Sender<Vec<u8>>,
    chunk: usize,
    /// Chunks cut and not opened yet.
    cut: VecDeque<Job>,
    /// Segments with chunks not taken in yet: (index past their last chunk, segment).
    held: VecDeque<(usize, Segment)>,
    /// Index of the next chunk to cut.
    next_index: usize,
    /// Chunks before this one are open (or parsed).
    opened: usize,
    /// The reader has nothing more.
    done: bool,
    /// The reader's error, which ended the input early.
    result: Result<(), LogsError>,
}

impl Feed {
    /// Cuts the segments of `segments` into chunks of about `chunk` bytes; their buffers go back
    /// on `recycle` once taken in.
    pub(super) fn new(
        segments: Receiver<Result<String, LogsError>>,
        recycle: Sender<Vec<u8>>,
        chunk: usize,
    ) -> Feed {
        Feed {
            segments,
            recycle,
            chunk,
            cut: VecDeque::new(),
            held: VecDeque::new(),
            next_index: 0,
            opened: 0,
            done: false,
            result: Ok(()),
        }
    }

    /// Opens chunks up to (not including) `limit`, cutting new segments as needed. Waits for
    /// the reader only when chunk `next` itself is not cut yet.
    pub(super) fn open_up_to(&mut self, limit: usize, next: usize, jobs: &Jobs) {
        while self.opened < limit {
            if let Some(job) = self.cut.pop_front() {
                jobs.push(job);
                self.opened += 1;
                continue;
            }
            if self.done {
                return;
            }
            let received = if next >= self.next_index {
                self.segments.recv().map_err(|_| ())
            } else {
                match self.segments.try_recv() {
                    Ok(seg) => Ok(seg),
                    Err(TryRecvError::Empty) => return,
                    Err(TryRecvError::Disconnected) => Err(()),
                }
            };
            match received {
                Ok(Ok(text)) => self.cut_segment(text),
                Ok(Err(e)) => {
                    self.result = Err(e);
                    self.done = true;
                }
                Err(()) => self.done = true,
            }
        }
    }

    fn cut_segment(&mut self, text: String) {
        let ranges = chunk_ranges(&text, self.chunk);
        if ranges.is_empty() {
            return;
        }
        let segment = Arc::new(text);
        for range in ranges {
            self.cut.push_back(Job {
                segment: Arc::clone(&segment),
                range,
                index: self.next_index,
            });
            self.next_index += 1;
        }
        self.held.push_back((self.next_index, segment));
    }

    /// Nothing is left to take in after the chunks before `next`.
    pub(super) fn exhausted(&self, next: usize) -> bool {
        self.done && next >= self.next_index
    }

    /// How reading ended: an error of the reader, or not.
    pub(super) fn into_result(self) -> Result<(), LogsError> {
        self.result
    }

    /// Chunks before `next` are taken in: their segments' buffers go back to the reader.
    pub(super) fn release(&mut self, next: usize) {
        while self.held.front().is_some_and(|(end, _)| *end <= next) {
            if let Some((_, seg)) = self.held.pop_front()
                && let Ok(text) = Arc::try_unwrap(seg)
            {
                // The reader may have finished already; then the buffer is simply dropped.
                let _ = self.recycle.send(text.into_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_after_a_newline_and_cover_the_text() {
        let text = "aaaa\nbb\ncccccc\nd\ne";
        let parts: Vec<&str> = chunk_ranges(text, 3)
            .into_iter()
            .filter_map(|r| text.get(r))
            .collect();
        assert_eq!(parts, ["aaaa\n", "bb\ncccccc\n", "d\ne"]);
        assert_eq!(parts.concat(), text);
        assert!(chunk_ranges("", 3).is_empty());
    }
}
