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
//! 2. **workers** parse the chunks of a segment ([`CHUNK`] bytes of whole lines, each claimed
//!    in order from one counter), count what is only counted (line kinds, rejects, reply codes: see
//!    [`SummaryBuilder::count_line`]) and pass on the records that matter to a flow or must
//!    be seen in order (SASL failures for burst detection), with the unparsed lines;
//! 3. the **calling thread** takes the chunks back in input order and feeds those records to
//!    the flow engine, exactly as a single-threaded read would (lines that are only counted
//!    never touch a flow; the engine's clock advances with the next record it sees, which
//!    expires the same hand-off waits and held flows); when the next chunk in order is not
//!    parsed yet, it claims and parses one itself rather than wait, so the cores share the
//!    work whatever the parsing and the flow engine cost relative to each other;
//! 4. a **flow thread** adds the finished flows to the summary and hands them back, so that
//!    they reach the sink — and are freed — on the calling thread, where they were allocated.
//!
//! The result is the same as reading line by line (the tests compare both on a log of every
//! kind of line, cut into pieces of many sizes), only faster. A segment's records borrow its
//! text, so the workers of a segment are scoped threads that end with it; the emptied vectors
//! of records are kept for the next segment.

#![allow(
    clippy::vec_box,
    reason = "finished flows are boxed: a pointer moves through the ready list, the summary thread and back cheaper than a 300-byte Flow"
)]

use crate::analyze::Analyzer;
use crate::error::LogsError;
use crate::event::{Event, Record};
use crate::flow::Flow;
use crate::parse::parse_line;
use crate::summary::SummaryBuilder;
use crate::time::YearRef;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Condvar, Mutex};

/// Bytes of whole lines the reader hands over at a time.
pub const SEGMENT: usize = 16 * 1024 * 1024;
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
        // The record stays in its `Option` from the parser to the vector: a record is a few
        // hundred bytes, and every unwrapping and re-wrapping is a copy.
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

/// Splits `text` (whole lines) into chunks of about `size` bytes, each ending after a newline.
fn chunks(text: &str, size: usize) -> Vec<&str> {
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
        if let Some(c) = text.get(start..end) {
            out.push(c);
        }
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

/// Chunks a worker may parse ahead of the one the calling thread is taking in. Unbounded, a
/// fast worker parses a whole segment ahead: megabytes of records that have left the caches
/// before they are read, and as many item vectors to allocate.
const AHEAD: usize = 8;
/// Bytes of log per item, to size a new item vector (lines of ~120 bytes, most of them kept).
const ITEM_ESTIMATE: usize = 96;

/// Holds workers back to [`AHEAD`] chunks past the chunks taken in so far.
#[derive(Default)]
struct Gate {
    consumed: Mutex<usize>,
    moved: Condvar,
}

impl Gate {
    /// Waits until chunk `k` is less than [`AHEAD`] chunks past those taken in.
    fn wait_until_near(&self, k: usize) {
        let Ok(mut consumed) = self.consumed.lock() else {
            return;
        };
        while k >= consumed.saturating_add(AHEAD) {
            consumed = match self.moved.wait(consumed) {
                Ok(c) => c,
                Err(_) => return,
            };
        }
    }

    /// The chunks before `n` have been taken in.
    fn consumed(&self, n: usize) {
        if let Ok(mut c) = self.consumed.lock() {
            *c = n;
        }
        self.moved.notify_all();
    }
}

/// Opens a [`Gate`] for good when dropped.
struct OpenOnDrop<'g>(&'g Gate);

impl Drop for OpenOnDrop<'_> {
    fn drop(&mut self) {
        self.0.consumed(usize::MAX);
    }
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

impl Analyzer {
    /// Analyzes one segment. Its chunks are claimed in order from one counter by the workers
    /// and by this thread, which runs the flow engine over the records in chunk order and,
    /// whenever the next chunk is not parsed yet, claims and parses one itself instead of
    /// waiting: the work balances itself between the cores, however the parsing and the flow
    /// engine compare in cost.
    fn segment(
        &mut self,
        text: &str,
        year: &YearRef,
        plan: Plan,
        pool: &mut Pool,
        out: &mut FlowOut<'_, impl FnMut(Flow)>,
        progress: &mut dyn FnMut(),
    ) {
        let parts = chunks(text, plan.chunk);
        let total = parts.len();
        let workers = plan.workers.min(total.saturating_sub(1));
        let claim = AtomicUsize::new(0);
        let spare: Mutex<Vec<Vec<Item<'_>>>> = Mutex::new(pool.drain(..).map(retype).collect());
        let take_spare = || {
            spare
                .lock()
                .ok()
                .and_then(|mut s| s.pop())
                .unwrap_or_else(|| Vec::with_capacity(plan.chunk / ITEM_ESTIMATE))
        };
        let gate = Gate::default();
        std::thread::scope(|s| {
            let (tx, rx) = channel::<(usize, Vec<Item<'_>>)>();
            let mut handles = Vec::with_capacity(workers);
            for _ in 0..workers {
                let tx = tx.clone();
                let (claim, parts, take_spare, gate) = (&claim, &parts, &take_spare, &gate);
                handles.push(s.spawn(move || {
                    let mut stats = SummaryBuilder::new();
                    loop {
                        let k = claim.fetch_add(1, Ordering::Relaxed);
                        let Some(chunk) = parts.get(k) else { break };
                        gate.wait_until_near(k);
                        let mut items = take_spare();
                        parse_chunk(chunk, year, &mut stats, &mut items);
                        if tx.send((k, items)).is_err() {
                            break;
                        }
                    }
                    stats
                }));
            }
            drop(tx);
            // Opens the gate for good when this thread leaves the loop, even by a panic:
            // a worker waiting at it would otherwise keep the scope from ending.
            let _open = OpenOnDrop(&gate);
            let mut parsed: Vec<Option<Vec<Item<'_>>>> = Vec::with_capacity(total);
            parsed.resize_with(total, || None);
            for i in 0..total {
                let batch = loop {
                    if let Some(b) = parsed.get_mut(i).and_then(Option::take) {
                        break b;
                    }
                    if let Ok((k, items)) = rx.try_recv() {
                        if let Some(slot) = parsed.get_mut(k) {
                            *slot = Some(items);
                        }
                        continue;
                    }
                    let k = claim.fetch_add(1, Ordering::Relaxed);
                    if let Some(chunk) = parts.get(k) {
                        let mut items = take_spare();
                        parse_chunk(chunk, year, self.summary_mut(), &mut items);
                        if let Some(slot) = parsed.get_mut(k) {
                            *slot = Some(items);
                        }
                        continue;
                    }
                    // Every chunk is claimed and this one is still being parsed. A worker
                    // only hangs up early by panicking; its join below re-raises that.
                    match rx.recv() {
                        Ok((k, items)) => {
                            if let Some(slot) = parsed.get_mut(k) {
                                *slot = Some(items);
                            }
                        }
                        Err(_) => break Vec::new(),
                    }
                };
                for item in &batch {
                    match &item.rec {
                        Some(rec) => self.ordered(rec, item.line),
                        None => self.keep_unparsed(item.line),
                    }
                }
                if let Ok(mut s) = spare.lock() {
                    s.push(retype(batch));
                }
                gate.consumed(i + 1);
                if self.engine_mut().has_ready() {
                    out.push(self.engine_mut().drain_ready());
                }
                progress();
            }
            for handle in handles {
                match handle.join() {
                    Ok(stats) => self.summary_mut().merge(stats),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
        let spare = spare.into_inner().unwrap_or_default();
        pool.extend(spare.into_iter().map(retype));
    }

    /// Reads `reader` (whose first bytes are `head`) with the parsing threads of `plan`, a
    /// reader thread and a thread that summarizes finished flows.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn read_parallel(
        &mut self,
        reader: Box<dyn BufRead + Send>,
        head: Vec<u8>,
        name: &Path,
        year: &YearRef,
        plan: Plan,
        sink: &mut impl FnMut(Flow),
        progress: &mut dyn FnMut(),
    ) -> Result<(), LogsError> {
        let summarize = self.summarizes_flows();
        std::thread::scope(|s| {
            let (tx, rx) = sync_channel(1);
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
            let mut out = FlowOut {
                tx: flow_tx,
                back: flow_back_rx,
                batch: Vec::with_capacity(FLOW_BATCH),
                spare: Vec::new(),
                out: 0,
                sink,
            };
            let mut result = Ok(());
            let mut pool = Pool::new();
            for seg in rx {
                let text = match seg {
                    Ok(t) => t,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                };
                self.segment(&text, year, plan, &mut pool, &mut out, progress);
                // The reader may have finished already; then the buffer is simply dropped.
                let _ = back_tx.send(text.into_bytes());
            }
            out.finish();
            match flow_thread.join() {
                Ok(summary) => self.summary_mut().merge(summary),
                Err(panic) => std::panic::resume_unwind(panic),
            }
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let read = an.read_parallel(
            Box::new(io::Cursor::new(log.to_vec())),
            Vec::new(),
            Path::new("t"),
            &year(),
            plan,
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
        let parts = chunks(text, 3);
        assert_eq!(parts, ["aaaa\n", "bb\ncccccc\n", "d\ne"]);
        assert_eq!(parts.concat(), text);
        assert_eq!(chunks("", 3), Vec::<&str>::new());
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
