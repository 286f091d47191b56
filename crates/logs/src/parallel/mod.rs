//! Reading one log on several cores.
//!
//! Parsing a line does not depend on any other line (the format is detected per line and the
//! year rule for syslog stamps is stateless, see [`crate::time`]), so it is done in parallel;
//! following queue IDs through the flow engine is not, so it stays on the calling thread, in
//! log order. The pipeline, one module per part:
//!
//! 1. a **reader** thread ([`reader`]) reads the input (decompressing it if need be) in
//!    segments of whole lines ([`reader::SEGMENT`] bytes), checks their UTF-8 once and hands
//!    them over, reading the next segment while the current one is parsed;
//! 2. the calling thread cuts each segment into **chunks** ([`schedule::CHUNK`] bytes of whole
//!    lines), numbered across the whole input, and opens them to the workers a few
//!    ([`schedule::AHEAD`]) at a time ([`schedule`]);
//! 3. **workers** parse the open chunks, lowest number first ([`chunk`]), count what is only
//!    counted (line kinds, rejects, reply codes: see [`SummaryBuilder::count_line`]) and pass
//!    on the records that matter to a flow or must be seen in order (SASL failures for burst
//!    detection), with the unparsed lines;
//! 4. the **calling thread** takes the chunks back in input order and hands those records to
//!    its [`InOrder`] target — the flow engine — exactly as a single-threaded read would (lines
//!    that are only counted never touch a flow; the engine's clock advances with the next
//!    record it sees, which expires the same hand-off waits and held flows); when the next
//!    chunk in order is not parsed yet, it parses an open one itself rather than wait, so the
//!    cores share the work whatever the parsing and the flow engine cost relative to each
//!    other;
//! 5. a **flow thread** ([`flows`]) adds the finished flows to the summary and hands them
//!    back, so that they reach the sink — and are freed — on the calling thread, where they
//!    were allocated.
//!
//! The result is the same as reading line by line (the analyzer's tests compare both on a log
//! of every kind of line, cut into pieces of many sizes), only faster. A chunk's records borrow
//! the text of its segment, and travel with a share of it ([`yoke::Yoke`] over an `Arc`), so
//! the workers live for the whole input and go on into the next segment while the calling
//! thread finishes the last one; once all of a segment's chunks are taken in, its buffer goes
//! back to the reader, and emptied vectors of records back to the parsers ([`pool`]).
//!
//! This module knows its caller only through [`InOrder`], and its parts know nothing of this
//! module: `pool` and `schedule` use `chunk`, `schedule` uses `pool`, `reader` and `flows`
//! stand alone.

mod chunk;
mod flows;
mod pool;
mod reader;
mod schedule;

use crate::error::LogsError;
use crate::event::Record;
use crate::flow::Flow;
use crate::summary::SummaryBuilder;
use crate::time::YearRef;
use flows::FlowOut;
use pool::Spares;
use schedule::{CloseOnDrop, Feed, Jobs};
use std::collections::VecDeque;
use std::io::BufRead;
use std::path::Path;
use std::sync::mpsc::{channel, sync_channel};

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
            segment: reader::SEGMENT,
            chunk: schedule::CHUNK,
        }
    }
}

/// What the calling thread does with the input in log order — the one part of reading that is
/// not parallel. The parallel reader knows its caller only through this.
pub(crate) trait InOrder {
    /// A parsed line that a flow or an order-dependent count needs; it has been counted
    /// already.
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
/// the workers [`schedule::AHEAD`] at a time, takes the parsed chunks back in order and hands
/// their records to `target`; when the next chunk is not parsed yet, it parses an open one
/// itself instead of waiting, so the work balances itself between the cores however the
/// parsing and the flow engine compare in cost. Workers live for the whole input and go on into
/// the next segment while this thread finishes the last one.
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
    let spares = Spares::new(plan.chunk);
    std::thread::scope(|s| {
        let (tx, seg_rx) = sync_channel(1);
        let (back_tx, back_rx) = channel();
        s.spawn(move || reader::reader_loop(reader, plan.segment, head, name, tx, back_rx));
        let (flow_tx, flow_rx) = sync_channel(flows::FLOWS_AHEAD);
        let (flow_back_tx, flow_back_rx) = channel();
        let flow_thread = s.spawn(move || flows::summarize(flow_rx, flow_back_tx, summarize));
        let (done_tx, done_rx) = channel();
        let mut workers = Vec::with_capacity(plan.workers);
        for _ in 0..plan.workers {
            let (jobs, spares, done_tx) = (&jobs, &spares, done_tx.clone());
            workers.push(s.spawn(move || schedule::work(jobs, spares, year, done_tx)));
        }
        drop(done_tx);
        let mut out = FlowOut::new(flow_tx, flow_back_rx, sink);
        // The line counts of the chunks this thread parses itself.
        let mut own = SummaryBuilder::new();
        let result = {
            let _close = CloseOnDrop(&jobs);
            let mut feed = Feed::new(seg_rx, back_tx, plan.chunk);
            let mut parsed = VecDeque::new();
            let mut next = 0usize;
            loop {
                feed.open_up_to(next + schedule::AHEAD, next, &jobs);
                if feed.exhausted(next) {
                    break;
                }
                let Some(chunk) = schedule::take_chunk(
                    next,
                    &mut parsed,
                    &done_rx,
                    &jobs,
                    &spares,
                    year,
                    &mut own,
                ) else {
                    break;
                };
                for item in &chunk.get().items {
                    match &item.rec {
                        Some(rec) => target.record(rec, item.line),
                        None => target.unparsed(item.line),
                    }
                }
                spares.give(chunk::emptied(chunk));
                next += 1;
                parsed.pop_front();
                feed.release(next);
                if let Some(flows) = target.finished() {
                    out.push(flows);
                }
                progress();
            }
            feed.into_result()
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
