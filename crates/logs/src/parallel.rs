//! Reading one log on several cores.
//!
//! Parsing a line does not depend on any other line (the format is detected per line and the
//! year rule for syslog stamps is stateless, see [`crate::time`]), so it is done in parallel;
//! following queue IDs through the flow engine is not, so it stays on the calling thread, in
//! log order. The pipeline:
//!
//! 1. a **reader** thread reads the input (decompressing it if need be) in segments of whole
//!    lines ([`SEGMENT`] bytes), checks their UTF-8 once (invalid bytes are replaced with
//!    U+FFFD, as [`Input::next_line`](crate::input::Input::next_line) does per line) and hands
//!    them over, reading the next segment while the current one is parsed;
//! 2. the calling thread cuts each segment into **chunks** ([`CHUNK`] bytes of whole lines),
//!    numbered across the whole input, and opens them to the workers a few ([`AHEAD`]) at a
//!    time;
//! 3. **workers** parse the open chunks, lowest number first, count what is only counted (line
//!    kinds, rejects, reply codes: see [`SummaryBuilder::count_line`]) and pass on the records
//!    that matter to a flow or must be seen in order (SASL failures for burst detection), with
//!    the unparsed lines;
//! 4. the **calling thread** takes the chunks back in input order and feeds those records to
//!    the flow engine, exactly as a single-threaded read would (lines that are only counted
//!    never touch a flow; the engine's clock advances with the next record it sees, which
//!    expires the same hand-off waits and held flows); when the next chunk in order is not
//!    parsed yet, it parses an open one itself rather than wait, so the cores share the work
//!    whatever the parsing and the flow engine cost relative to each other;
//! 5. a **flow thread** adds the finished flows to the summary and hands them back, so that
//!    they reach the sink — and are freed — on the calling thread, where they were allocated.
//!
//! The result is the same as reading line by line (the tests compare both on a log of every
//! kind of line, cut into pieces of many sizes), only faster. A chunk's records borrow the
//! text of its segment, and travel with a share of it ([`yoke::Yoke`] over an `Arc`), so the
//! workers live for the whole input and go on into the next segment while the calling thread
//! finishes the last one; once all of a segment's chunks are taken in, its buffer goes back
//! to the reader, and emptied vectors of records back to the parsers.

#![allow(
    clippy::vec_box,
    reason = "finished flows are boxed: a pointer moves through the ready list, the summary thread and back cheaper than a 300-byte Flow"
)]

use crate::error::LogsError;
use crate::event::{Event, Record};
use crate::flow::Flow;
use crate::parse::parse_line;
use crate::summary::SummaryBuilder;
use crate::time::YearRef;
use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use yoke::{Yoke, Yokeable};

/// Bytes of whole lines the reader hands over at a time.
pub const SEGMENT: usize = 4 * 1024 * 1024;
/// Bytes of the first segment (the next ones double up to [`SEGMENT`]).
const FIRST_SEGMENT: usize = 512 * 1024;
/// Bytes of whole lines one worker parses at a time.
pub const CHUNK: usize = 128 * 1024;

/// How the input is cut up and parsed (the tests cut it small).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// Parsing threads.
    pub workers: usize,
    /// Bytes the reader hands over at a time.
    pub segment: usize,
    /// Bytes a worker parses at a time.
    pub chunk: usize,
}

impl Plan {
    pub fn new(workers: usize) -> Plan {
        Plan {
            workers,
            segment: SEGMENT,
            chunk: CHUNK,
        }
    }
}
/// One line passed on to the calling thread: a record for the flow engine, or an unparsed line.
struct Item<'a> {
    line: &'a str,
    rec: Option<Record<'a>>,
}

/// Emptied item vectors, kept from one segment to the next so that their memory is reused.
type Pool = Vec<Vec<Item<'static>>>;

/// `v` emptied, for items of another lifetime (another segment). Collecting a mapped
/// `vec::IntoIter` into a vector of an element of the same size reuses the allocation.
fn retype<'b>(mut v: Vec<Item<'_>>) -> Vec<Item<'b>> {
    v.clear();
    v.into_iter()
        .map(|_| Item {
            line: "",
            rec: None,
        })
        .collect()
}

/// Does the calling thread need this record (in order)? Lines that change no flow and carry no
/// order-dependent count are fully accounted by the worker.
fn needs_order(ev: &Event<'_>) -> bool {
    match ev {
        Event::Other | Event::Foreign => false,
        Event::Reject(r) => r.qid.is_some(),
        _ => true,
    }
}

/// Parses every line of `chunk`: counts into `stats`, passes on to `out` what the calling
/// thread needs.
fn parse_chunk<'a>(
    chunk: &'a str,
    year: &YearRef,
    stats: &mut SummaryBuilder,
    out: &mut Vec<Item<'a>>,
) {
    let mut start = 0;
    let bytes = chunk.as_bytes();
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', bytes.get(start..).unwrap_or_default())
            .map_or(bytes.len(), |i| start + i);
        let mut line = chunk.get(start..end).unwrap_or_default();
        start = end + 1;
        while let Some(l) = line.strip_suffix('\r') {
            line = l;
        }
        // The record stays in its `Option` from the parser to the vector: every unwrapping
        // and re-wrapping would be a copy.
        let rec = parse_line(line, year);
        let keep = match &rec {
            Some(r) => {
                stats.count_line(r);
                needs_order(&r.event)
            }
            None if line.trim().is_empty() => false,
            None => {
                stats.unparsed_line();
                true
            }
        };
        if keep {
            out.push(Item { line, rec });
        }
    }
}

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

/// Reads the next segment of whole lines into `buf` (after the `carry` left by the last one);
/// `false` at the end of the input. `buf` may hold an earlier segment: its bytes are already
/// initialised, so reading over them costs no zeroing (unlike `read_to_end`, which zeroes the
/// whole spare capacity of a `dyn Read` reader every time).
fn read_segment(
    reader: &mut dyn Read,
    size: usize,
    carry: &mut Vec<u8>,
    buf: &mut Vec<u8>,
    eof: &mut bool,
) -> io::Result<bool> {
    let mut filled = carry.len();
    let mut want = size.max(filled + 1);
    if buf.len() < want {
        buf.resize(want, 0);
    }
    if let Some(head) = buf.get_mut(..filled) {
        head.copy_from_slice(carry);
    }
    carry.clear();
    loop {
        while !*eof && filled < want {
            match reader.read(buf.get_mut(filled..want).unwrap_or_default()) {
                Ok(0) => *eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if *eof {
            buf.truncate(filled);
            return Ok(filled > 0);
        }
        match memchr::memrchr(b'\n', buf.get(..filled).unwrap_or_default()) {
            Some(nl) => {
                carry.extend_from_slice(buf.get(nl + 1..filled).unwrap_or_default());
                buf.truncate(nl + 1);
                return Ok(true);
            }
            // One line longer than a segment: read on until it ends.
            None => {
                want = filled * 2;
                buf.resize(want, 0);
            }
        }
    }
}

/// The reader thread: segments of whole lines as UTF-8 text, until the end of the input, an
/// error, or the receiver hanging up. Emptied buffers come back through `recycled`.
fn reader_loop(
    mut reader: Box<dyn BufRead + Send>,
    size: usize,
    mut carry: Vec<u8>,
    name: &Path,
    tx: SyncSender<Result<String, LogsError>>,
    recycled: Receiver<Vec<u8>>,
) {
    let mut eof = false;
    // The first segments are small and grow to `size`: nothing is parsed until the first one
    // is read, and a full segment takes milliseconds to read and check.
    let mut want = FIRST_SEGMENT.min(size);
    loop {
        let mut buf = recycled.try_recv().unwrap_or_default();
        let read = read_segment(&mut reader, want, &mut carry, &mut buf, &mut eof);
        want = (want * 2).min(size);
        let seg = match read {
            Ok(false) => return,
            Ok(true) => Ok(match String::from_utf8(buf) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }),
            Err(err) => Err(LogsError::Read {
                path: name.to_owned(),
                err,
            }),
        };
        let failed = seg.is_err();
        if tx.send(seg).is_err() || failed {
            return;
        }
    }
}

/// Chunks opened to the workers past the one the calling thread is taking in. Unbounded, a
/// fast worker parses far ahead: megabytes of records that have left the caches before they
/// are read, and as many item vectors to allocate.
const AHEAD: usize = 8;
/// Bytes of log per item, to size a new item vector (lines of ~120 bytes, most of them kept).
const ITEM_ESTIMATE: usize = 96;

/// The items of one chunk, borrowing the text of their segment.
#[derive(Yokeable)]
struct Parsed<'a> {
    items: Vec<Item<'a>>,
}

/// A segment of the input, shared by the chunks cut from it.
type Segment = Arc<String>;

/// A parsed chunk travelling with (a share of) the segment its records borrow from, so that
/// the workers can outlive any one segment.
type ParsedChunk = Yoke<Parsed<'static>, Segment>;

/// One chunk to parse: `range` of `segment`, the `index`-th chunk of the input.
struct Job {
    segment: Segment,
    range: Range<usize>,
    index: usize,
}

/// The chunks open for parsing, lowest index first.
#[derive(Default)]
struct Jobs {
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
struct CloseOnDrop<'j>(&'j Jobs);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Emptied item vectors, shared by the threads that parse.
struct Spares {
    pool: Mutex<Pool>,
    /// Bytes per chunk, to size a new vector.
    chunk: usize,
}

impl Spares {
    fn take(&self) -> Vec<Item<'static>> {
        self.pool
            .lock()
            .ok()
            .and_then(|mut s| s.pop())
            .unwrap_or_else(|| Vec::with_capacity(self.chunk / ITEM_ESTIMATE))
    }

    fn give(&self, v: Vec<Item<'static>>) {
        if let Ok(mut s) = self.pool.lock() {
            s.push(v);
        }
    }
}

/// Parses one chunk into items that borrow its segment.
fn parse_job(
    job: Job,
    year: &YearRef,
    stats: &mut SummaryBuilder,
    spare: Vec<Item<'static>>,
) -> ParsedChunk {
    let Job { segment, range, .. } = job;
    Yoke::attach_to_cart(segment, move |text: &String| {
        let mut items = retype(spare);
        parse_chunk(text.get(range).unwrap_or_default(), year, stats, &mut items);
        Parsed { items }
    })
}

/// Finished flows on their way to the flow thread, in batches. The flow thread only reads
/// them (for the summary) and sends each batch back: they reach the sink, and are freed, on
/// the calling thread, where they were allocated (memory freed on another thread is slow to
/// allocate again).
struct FlowOut<'s, F> {
    tx: SyncSender<Vec<Box<Flow>>>,
    back: Receiver<Vec<Box<Flow>>>,
    batch: Vec<Box<Flow>>,
    spare: Vec<Vec<Box<Flow>>>,
    /// Batches at the flow thread.
    out: usize,
    sink: &'s mut F,
}

impl<F: FnMut(Flow)> FlowOut<'_, F> {
    fn push(&mut self, flows: std::vec::Drain<'_, Box<Flow>>) {
        self.batch.extend(flows);
        if self.batch.len() >= FLOW_BATCH {
            self.flush();
        }
        while let Ok(done) = self.back.try_recv() {
            self.sunk(done);
        }
    }

    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let next = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(FLOW_BATCH));
        // The flow thread only hangs up by panicking; its join re-raises that.
        if self
            .tx
            .send(std::mem::replace(&mut self.batch, next))
            .is_ok()
        {
            self.out += 1;
        }
    }

    fn sunk(&mut self, mut done: Vec<Box<Flow>>) {
        self.out = self.out.saturating_sub(1);
        for f in done.drain(..) {
            (self.sink)(*f);
        }
        self.spare.push(done);
    }

    /// Sends the last batch and waits for every batch to come back.
    fn finish(mut self) {
        self.flush();
        while self.out > 0 {
            match self.back.recv() {
                Ok(done) => self.sunk(done),
                Err(_) => break,
            }
        }
    }
}

/// Finished flows handed to the flow thread at a time.
const FLOW_BATCH: usize = 256;
/// Batches of flows the calling thread may hand over before it waits for the flow thread.
const FLOWS_AHEAD: usize = 8;

/// What the calling thread does with the input in log order — the one part of reading that is
/// not parallel. The parallel reader knows its caller only through this.
pub(crate) trait InOrder {
    /// A parsed line that a flow or an order-dependent count needs (see [`needs_order`]); it
    /// has been counted already.
    fn record(&mut self, rec: &Record<'_>, line: &str);
    /// A line no parser understood; it has been counted already.
    fn unparsed(&mut self, line: &str);
    /// The flows finished since the last call, if there are any.
    fn finished(&mut self) -> Option<std::vec::Drain<'_, Box<Flow>>>;
    /// Counts made away from the calling thread's records: the line counts of the parsing
    /// threads and the summary of the finished flows (see [`SummaryBuilder::merge`]).
    fn merge(&mut self, counts: SummaryBuilder);
}

/// Reads `reader` (whose first bytes are `head`) into `target` with the parsing threads of
/// `plan`, a reader thread and a thread that summarizes finished flows when `summarize` (into
/// the counts handed to [`InOrder::merge`]); finished flows then go to `sink`.
///
/// The segments are cut into chunks numbered across the whole input. This thread opens them to
/// the workers [`AHEAD`] at a time, takes the parsed chunks back in order and hands their
/// records to `target`; when the next chunk is not parsed yet, it parses an open one itself
/// instead of waiting, so the work balances itself between the cores however the parsing and
/// the flow engine compare in cost. Workers live for the whole input and go on into the next
/// segment while this thread finishes the last one.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read(
    target: &mut impl InOrder,
    reader: Box<dyn BufRead + Send>,
    head: Vec<u8>,
    name: &Path,
    year: &YearRef,
    plan: Plan,
    summarize: bool,
    sink: &mut impl FnMut(Flow),
    progress: &mut dyn FnMut(),
) -> Result<(), LogsError> {
    let jobs = Jobs::default();
    let spares = Spares {
        pool: Mutex::new(Pool::new()),
        chunk: plan.chunk,
    };
    std::thread::scope(|s| {
        let (tx, seg_rx) = sync_channel(1);
        let (back_tx, back_rx) = channel();
        s.spawn(move || reader_loop(reader, plan.segment, head, name, tx, back_rx));
        let (flow_tx, flow_rx) = sync_channel::<Vec<Box<Flow>>>(FLOWS_AHEAD);
        let (flow_back_tx, flow_back_rx) = channel();
        let flow_thread = s.spawn(move || {
            let mut summary = SummaryBuilder::new();
            for batch in flow_rx {
                if summarize {
                    for f in &batch {
                        summary.flow(f);
                    }
                }
                if flow_back_tx.send(batch).is_err() {
                    break;
                }
            }
            summary
        });
        let (done_tx, done_rx) = channel::<(usize, ParsedChunk)>();
        let mut workers = Vec::with_capacity(plan.workers);
        for _ in 0..plan.workers {
            let (jobs, spares, done_tx) = (&jobs, &spares, done_tx.clone());
            workers.push(s.spawn(move || {
                let mut stats = SummaryBuilder::new();
                while let Some(job) = jobs.take() {
                    let index = job.index;
                    let parsed = parse_job(job, year, &mut stats, spares.take());
                    if done_tx.send((index, parsed)).is_err() {
                        break;
                    }
                }
                stats
            }));
        }
        drop(done_tx);
        let mut out = FlowOut {
            tx: flow_tx,
            back: flow_back_rx,
            batch: Vec::with_capacity(FLOW_BATCH),
            spare: Vec::new(),
            out: 0,
            sink,
        };
        // The line counts of the chunks this thread parses itself.
        let mut own = SummaryBuilder::new();
        let result = {
            let _close = CloseOnDrop(&jobs);
            let mut feed = Feed {
                segments: seg_rx,
                recycle: back_tx,
                chunk: plan.chunk,
                cut: VecDeque::new(),
                held: VecDeque::new(),
                next_index: 0,
                opened: 0,
                done: false,
                result: Ok(()),
            };
            let mut parsed: VecDeque<Option<ParsedChunk>> = VecDeque::new();
            let mut next = 0usize;
            loop {
                feed.open_up_to(next + AHEAD, next, &jobs);
                if feed.exhausted(next) {
                    break;
                }
                let Some(mut chunk) =
                    take_chunk(next, &mut parsed, &done_rx, &jobs, &spares, year, &mut own)
                else {
                    break;
                };
                for item in &chunk.get().items {
                    match &item.rec {
                        Some(rec) => target.record(rec, item.line),
                        None => target.unparsed(item.line),
                    }
                }
                spares.give(chunk.with_mut_return(|p| retype(std::mem::take(&mut p.items))));
                drop(chunk);
                next += 1;
                parsed.pop_front();
                feed.release(next);
                if let Some(flows) = target.finished() {
                    out.push(flows);
                }
                progress();
            }
            feed.result
        };
        for worker in workers {
            match worker.join() {
                Ok(stats) => target.merge(stats),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        target.merge(own);
        out.finish();
        match flow_thread.join() {
            Ok(summary) => target.merge(summary),
            Err(panic) => std::panic::resume_unwind(panic),
        }
        result
    })
}

/// The parsed chunk `next` (`parsed[0]` is chunk `next`'s slot): from the workers, or parsed
/// here (counted into `own`), together with any open chunk, while it is not there yet. `None`
/// when the workers are gone (a worker only hangs up by panicking; its join re-raises that).
fn take_chunk(
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
struct Feed {
    segments: Receiver<Result<String, LogsError>>,
    recycle: std::sync::mpsc::Sender<Vec<u8>>,
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
    result: Result<(), LogsError>,
}

impl Feed {
    /// Opens chunks up to (not including) `limit`, cutting new segments as needed. Waits for
    /// the reader only when chunk `next` itself is not cut yet.
    fn open_up_to(&mut self, limit: usize, next: usize, jobs: &Jobs) {
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
                    Err(std::sync::mpsc::TryRecvError::Empty) => return,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(()),
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
    fn exhausted(&self, next: usize) -> bool {
        self.done && next >= self.next_index
    }

    /// Chunks before `next` are taken in: their segments' buffers go back to the reader.
    fn release(&mut self, next: usize) {
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
    use crate::analyze::Analyzer;
    use crate::input::{Input, for_each_line};
    use crate::summary::Summary;
    use crate::time::Timestamp;

    /// A log of every kind of line, interleaved: Postfix messages with deferrals, bounces and
    /// their notifications, content-filter hand-offs logged in either order and some further
    /// apart than the hold window, NOQUEUE rejects, a SASL burst, other programs, mailward
    /// JSON and Exim lines, junk, blank lines, CRLF endings and invalid UTF-8.
    fn mixed_log() -> Vec<u8> {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let mut lines: Vec<(u64, Vec<u8>)> = Vec::new();
        let stamp = |t: u64| {
            format!(
                "Mar {:2} {:02}:{:02}:{:02}",
                1 + t / 86_400,
                t / 3600 % 24,
                t / 60 % 60,
                t % 60
            )
        };
        let mut push = |t: u64, text: String| lines.push((t, text.into_bytes()));
        for i in 0..1500u64 {
            let t = i * 7 + next(5);
            let q = format!("{:X}", 0xA0000 + i * 2);
            let q2 = format!("{:X}", 0xA0001 + i * 2);
            let ip = format!("198.51.100.{}", next(200) + 1);
            let pf = |t: u64, d: &str, m: &str| {
                format!("{} mx postfix/{d}[{}]: {m}", stamp(t), 100 + t % 50)
            };
            push(
                t,
                pf(t, "smtpd", &format!("connect from h{i}.example[{ip}]")),
            );
            push(
                t,
                pf(t, "smtpd", &format!("{q}: client=h{i}.example[{ip}]")),
            );
            push(
                t,
                pf(t, "cleanup", &format!("{q}: message-id=<{i}@example.org>")),
            );
            let nrcpt = 1 + next(3);
            push(
                t + 1,
                pf(
                    t + 1,
                    "qmgr",
                    &format!(
                        "{q}: from=<S{}@Example.org>, size={}, nrcpt={nrcpt} (queue active)",
                        next(40),
                        1000 + next(9000)
                    ),
                ),
            );
            let mut end = t + 2;
            for r in 0..nrcpt {
                let to = format!("u{}@example.test", next(60));
                let dt = t + 2 + r;
                match next(6) {
                    0 => {
                        push(
                            dt,
                            pf(
                                dt,
                                "smtp",
                                &format!(
                                    "{q}: to=<{to}>, relay=mx.remote.example[203.0.113.5]:25, delay=1.5, delays=0.5/0/0.2/0.8, dsn=4.7.1, status=deferred (host mx.remote.example[203.0.113.5] said: 450 4.7.1 greylisted (in reply to RCPT TO command))"
                                ),
                            ),
                        );
                        let later = dt + 300 + next(100);
                        push(
                            later,
                            pf(
                                later,
                                "smtp",
                                &format!(
                                    "{q}: to=<{to}>, relay=mx.remote.example[203.0.113.5]:25, delay=301.25, delays=300/0/0.5/0.75, dsn=2.0.0, status=sent (250 ok)"
                                ),
                            ),
                        );
                        end = end.max(later);
                    }
                    1 => {
                        let n = format!("{:X}", 0xF00000 + i * 8 + r);
                        push(
                            dt,
                            pf(
                                dt,
                                "smtp",
                                &format!(
                                    "{q}: to=<{to}>, relay=mx.remote.example[203.0.113.5]:25, delay=0.7, delays=0.1/0/0.3/0.3, dsn=5.1.1, status=bounced (host mx.remote.example[203.0.113.5] said: 550 5.1.1 unknown (in reply to RCPT TO command))"
                                ),
                            ),
                        );
                        push(
                            dt,
                            pf(dt, "cleanup", &format!("{n}: message-id=<b{i}.{r}@mx>")),
                        );
                        push(
                            dt,
                            pf(
                                dt,
                                "bounce",
                                &format!("{q}: sender non-delivery notification: {n}"),
                            ),
                        );
                        push(
                            dt + 1,
                            pf(
                                dt + 1,
                                "qmgr",
                                &format!("{n}: from=<>, size=2000, nrcpt=1 (queue active)"),
                            ),
                        );
                        push(
                            dt + 2,
                            pf(
                                dt + 2,
                                "smtp",
                                &format!(
                                    "{n}: to=<s@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=1, delays=0.5/0/0/0.5, dsn=2.0.0, status=sent (250 ok)"
                                ),
                            ),
                        );
                        push(dt + 3, pf(dt + 3, "qmgr", &format!("{n}: removed")));
                    }
                    2 if r == 0 => {
                        // Content filter: the copy arrives before, or long after, the hand-off.
                        let copy_at = if next(2) == 0 {
                            dt
                        } else {
                            dt + 200 + next(300)
                        };
                        push(
                            dt,
                            pf(
                                dt,
                                "smtp",
                                &format!(
                                    "{q}: to=<{to}>, relay=127.0.0.1[127.0.0.1]:10025, delay=0.4, delays=0.1/0/0/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {q2})"
                                ),
                            ),
                        );
                        push(
                            copy_at,
                            pf(
                                copy_at,
                                "smtpd",
                                &format!("{q2}: client=localhost[127.0.0.1]"),
                            ),
                        );
                        push(
                            copy_at,
                            pf(
                                copy_at,
                                "cleanup",
                                &format!("{q2}: message-id=<{i}@example.org>"),
                            ),
                        );
                        push(
                            copy_at + 1,
                            pf(
                                copy_at + 1,
                                "qmgr",
                                &format!(
                                    "{q2}: from=<s@example.org>, size=3000, nrcpt=1 (queue active)"
                                ),
                            ),
                        );
                        push(
                            copy_at + 2,
                            pf(
                                copy_at + 2,
                                "virtual",
                                &format!(
                                    "{q2}: to=<{to}>, relay=virtual, delay=0.25, delays=0.1/0/0/0.15, dsn=2.0.0, status=sent (delivered to maildir)"
                                ),
                            ),
                        );
                        push(
                            copy_at + 3,
                            pf(copy_at + 3, "qmgr", &format!("{q2}: removed")),
                        );
                    }
                    _ => push(
                        dt,
                        pf(
                            dt,
                            "lmtp",
                            &format!(
                                "{q}: to=<{to}>, relay=mx[private/dovecot-lmtp], delay=0.3, delays=0.1/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Saved)"
                            ),
                        ),
                    ),
                }
            }
            push(end + 1, pf(end + 1, "qmgr", &format!("{q}: removed")));
            match next(12) {
                0 => push(
                    t,
                    pf(
                        t,
                        "smtpd",
                        &format!(
                            "NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; from=<x@spam.example> to=<u1@example.test> proto=ESMTP helo=<x>"
                        ),
                    ),
                ),
                1 => push(
                    t,
                    format!("{} mx dovecot: imap-login: Login: user=<u{i}>", stamp(t)),
                ),
                2 => push(t, format!("junk line {i} \u{fffd}")),
                3 => push(t, String::new()),
                4 => push(
                    t,
                    format!(
                        "{{\"timestamp\":\"2026-03-01T10:00:{:02}Z\",\"event\":\"queued\",\"queue_id\":\"J{i}\",\"remote_ip\":\"192.0.2.9\",\"from\":\"a@example.org\",\"to\":\"b@example.test\",\"nrcpt\":1,\"message_id\":\"<j{i}@x>\"}}",
                        i % 60
                    ),
                ),
                5 => push(
                    t,
                    format!(
                        "2026-03-01 10:00:{:02} 1hKx{i:02}-000{i:03}-Ab <= a@example.org H=h.example [192.0.2.8] P=esmtp S=100 id=e{i}@x",
                        i % 60
                    ),
                ),
                _ => {}
            }
            if (400..440).contains(&i) {
                push(
                    t,
                    pf(
                        t,
                        "smtpd",
                        "warning: unknown[203.0.113.66]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
                    ),
                );
            }
        }
        lines.sort_by_key(|(t, _)| *t);
        let mut out = Vec::new();
        for (n, (_, l)) in lines.into_iter().enumerate() {
            out.extend_from_slice(&l);
            match n % 97 {
                0 => out.extend_from_slice(b" \xff\xfe bytes\n"),
                1 => out.extend_from_slice(b"\r\n"),
                _ => out.push(b'\n'),
            }
        }
        out
    }

    fn year() -> YearRef {
        YearRef::new(Timestamp::from_civil(2026, 12, 1, 0, 0, 0, 0).unwrap_or_default())
    }

    fn sorted(mut flows: Vec<Flow>) -> Vec<Flow> {
        flows.sort_by(|a, b| {
            a.first_seen
                .cmp(&b.first_seen)
                .then_with(|| a.queue_ids.cmp(&b.queue_ids))
        });
        flows
    }

    fn one_thread(log: &[u8], an: Analyzer) -> (Summary, Vec<Flow>, Vec<String>) {
        let mut an = an;
        let mut flows = Vec::new();
        let input = Input::from_reader("t", Box::new(io::Cursor::new(log.to_vec())), year());
        let read = for_each_line(vec![input], |l, y| an.line(l, y, &mut |f| flows.push(f)));
        assert!(read.is_ok());
        let (s, unparsed) = an.finish(10, &mut |f| flows.push(f));
        (s, sorted(flows), unparsed)
    }

    fn threads(log: &[u8], an: Analyzer, plan: Plan) -> (Summary, Vec<Flow>, Vec<String>) {
        let mut an = an;
        let mut flows = Vec::new();
        // Every analyzer of these tests summarizes flows.
        let read = read(
            &mut an,
            Box::new(io::Cursor::new(log.to_vec())),
            Vec::new(),
            Path::new("t"),
            &year(),
            plan,
            true,
            &mut |f| flows.push(f),
            &mut || {},
        );
        assert!(read.is_ok());
        let (s, unparsed) = an.finish(10, &mut |f| flows.push(f));
        (s, sorted(flows), unparsed)
    }

    #[test]
    fn parallel_reading_gives_the_same_flows_summary_and_unparsed_lines() {
        let log = mixed_log();
        let (s1, f1, u1) = one_thread(&log, Analyzer::new(true, true, true));
        assert!(s1.handoffs > 100 && s1.notifications > 100 && !s1.brute_force.is_empty());
        assert!(
            s1.lines.unparsed > 10 && s1.lines.other_programs > 10,
            "{:?}",
            s1.lines
        );
        for (workers, segment, chunk) in [(3, 1500, 200), (2, 64 * 1024, 4096), (1, 100, 1)] {
            let (s2, f2, u2) = threads(
                &log,
                Analyzer::new(true, true, true),
                Plan {
                    workers,
                    segment,
                    chunk,
                },
            );
            assert_eq!(
                s1, s2,
                "{workers} workers, segment {segment}, chunk {chunk}"
            );
            assert_eq!(u1, u2);
            assert_eq!(f1.len(), f2.len());
            for (a, b) in f1.iter().zip(&f2) {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn a_summary_without_flow_details_is_the_same_summary() {
        let log = mixed_log();
        let (full, _, _) = one_thread(&log, Analyzer::new(false, true, false));
        let (lean, flows, _) = one_thread(&log, Analyzer::new(false, true, false).summary_only());
        assert_eq!(full, lean);
        assert!(flows.iter().all(|f| f.message_id.is_none()));
        let (par, _, _) = threads(
            &log,
            Analyzer::new(false, true, false).summary_only(),
            Plan {
                workers: 2,
                segment: 4096,
                chunk: 512,
            },
        );
        assert_eq!(full, par);
    }

    #[test]
    fn emptied_item_vectors_keep_their_memory_for_the_next_segment() {
        let v: Vec<Item<'_>> = Vec::with_capacity(1000);
        let w: Vec<Item<'static>> = retype(v);
        assert!(w.is_empty() && w.capacity() >= 1000, "{}", w.capacity());
    }

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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Any cut of any prefix of the log into segments and chunks, on any number of
        /// workers, reads like one thread: chunks that cross segment ends, segments of one
        /// chunk, chunks of one line.
        #[test]
        fn any_cut_reads_like_one_thread(
            keep in 0.05f64..1.0,
            workers in 1usize..4,
            segment in 1usize..20_000,
            chunk in 1usize..3_000,
        ) {
            let full = mixed_log();
            let end = full.len() * ((keep * 100.0) as usize) / 100;
            let cut = match full.get(..end).and_then(|p| memchr::memrchr(b'\n', p)) {
                Some(i) => full.get(..=i).unwrap_or_default().to_vec(),
                None => Vec::new(),
            };
            let (s1, f1, u1) = one_thread(&cut, Analyzer::new(true, true, true));
            let (s2, f2, u2) = threads(&cut, Analyzer::new(true, true, true), Plan { workers, segment, chunk });
            proptest::prop_assert_eq!(s1, s2);
            proptest::prop_assert_eq!(u1, u2);
            proptest::prop_assert_eq!(f1, f2);
        }
    }

    #[test]
    fn segments_are_whole_lines_even_when_a_line_is_longer_than_a_segment() {
        let long = "x".repeat(SEGMENT + 10);
        let input = format!("a\n{long}\nb\nc");
        let mut reader = io::Cursor::new(input.clone().into_bytes());
        let (mut carry, mut buf, mut eof) = (Vec::new(), Vec::new(), false);
        let mut got = Vec::new();
        while read_segment(&mut reader, SEGMENT, &mut carry, &mut buf, &mut eof).unwrap_or(false) {
            got.push(String::from_utf8_lossy(&buf).into_owned());
        }
        assert!(
            got.iter()
                .take(got.len().saturating_sub(1))
                .all(|s| s.ends_with('\n'))
        );
        assert!(got.len() >= 2, "{}", got.len());
        assert_eq!(got.concat(), input);
    }
}
