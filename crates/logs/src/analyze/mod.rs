//! Lines in, flows and a summary out: the parsers, the flow engine and the summary wired
//! together. [`Analyzer::line`] is free of I/O; [`Analyzer::read`] hands it the lines of
//! opened [`Input`]s (the `read` module: on one thread or several).

#![allow(
    clippy::vec_box,
    reason = "finished flows are boxed: a pointer moves through the ready list, the summary thread and back cheaper than a 300-byte Flow"
)]

use crate::error::LogsError;
use crate::event::{Event, Record};
use crate::flow::{Flow, FlowEngine};
use crate::input::Input;
use crate::parallel::InOrder;
use crate::parse::parse_line;
use crate::read::{self, Target};
use crate::summary::{Summary, SummaryBuilder};
use crate::time::YearRef;

/// How many unparsed lines are kept for `--unparsed` (all are counted).
pub const UNPARSED_KEEP: usize = 10_000;

/// Feeds lines through the parsers into the flow engine and the summary.
#[derive(Debug)]
pub struct Analyzer {
    engine: FlowEngine,
    summary: SummaryBuilder,
    summarize_flows: bool,
    keep_unparsed: bool,
    unparsed: Vec<String>,
}

impl Analyzer {
    /// `keep_lines`: keep each flow's raw lines; `summarize_flows`: fold emitted flows into the
    /// summary; `keep_unparsed`: keep up to [`UNPARSED_KEEP`] unparsed lines.
    pub fn new(keep_lines: bool, summarize_flows: bool, keep_unparsed: bool) -> Self {
        Analyzer {
            engine: FlowEngine::new(keep_lines),
            summary: SummaryBuilder::new(),
            summarize_flows,
            keep_unparsed,
            unparsed: Vec::new(),
        }
    }

    /// For a summary only: the flows handed to the sink lack what only a printed flow shows
    /// (Message-ID, SASL user, relays, DSN and reply text; see [`FlowEngine::summary_only`]).
    /// The summary is the same.
    pub fn summary_only(mut self) -> Self {
        self.engine = self.engine.summary_only();
        self
    }

    /// One log line; finished flows go to `sink`.
    #[inline]
    pub fn line(&mut self, line: &str, year: &YearRef, sink: &mut impl FnMut(Flow)) {
        self.parsed(line, parse_line(line, year), sink);
    }

    /// One log line already parsed (for callers that parse ahead themselves).
    #[inline]
    pub fn parsed(&mut self, line: &str, rec: Option<Record<'_>>, sink: &mut impl FnMut(Flow)) {
        match rec {
            Some(rec) => {
                self.summary.count_line(&rec);
                self.ordered(&rec, line);
            }
            None => {
                if line.trim().is_empty() {
                    return;
                }
                self.summary.unparsed_line();
                self.keep_unparsed(line);
            }
        }
        if self.engine.has_ready() {
            self.drain(sink);
        }
    }

    /// The order-dependent part of a parsed line: SASL bursts and the flow engine. Finished
    /// flows wait in the engine until drained.
    #[inline]
    fn ordered(&mut self, rec: &Record<'_>, line: &str) {
        if matches!(rec.event, Event::SaslFailure { .. }) {
            self.summary.track_sasl(rec);
        }
        self.engine.process(rec, line);
    }

    /// Keeps an unparsed line for `--unparsed` (it has been counted already).
    fn keep_unparsed(&mut self, line: &str) {
        if self.keep_unparsed && self.unparsed.len() < UNPARSED_KEEP {
            self.unparsed.push(line.to_owned());
        }
    }

    /// Reads every line of `inputs` (several files merged in time order). One input is read
    /// on `threads` threads when `threads` is at least 2 (see the `read` module); the result is
    /// the same as with one. Finished flows go to `sink`; `progress` is called every so often
    /// (for a progress bar).
    pub fn read(
        &mut self,
        inputs: Vec<Input>,
        threads: usize,
        sink: &mut impl FnMut(Flow),
        progress: &mut dyn FnMut(),
    ) -> Result<(), LogsError> {
        let summarize = self.summarize_flows;
        read::read(self, inputs, threads, summarize, sink, progress)
    }

    /// Advances the log clock without a line (used by `follow` when the log is idle).
    pub fn tick(&mut self, now: crate::time::Timestamp, sink: &mut impl FnMut(Flow)) {
        self.engine.tick(now);
        self.drain(sink);
    }

    fn drain(&mut self, sink: &mut impl FnMut(Flow)) {
        let flows: Vec<Box<Flow>> = self.engine.drain_ready().collect();
        for f in flows {
            if self.summarize_flows {
                self.summary.flow(&f);
            }
            sink(*f);
        }
    }

    /// End of input: emits the open flows and returns the summary and the kept unparsed lines.
    pub fn finish(mut self, top_n: usize, sink: &mut impl FnMut(Flow)) -> (Summary, Vec<String>) {
        self.engine.finish();
        self.drain(sink);
        (self.summary.finish(top_n), self.unparsed)
    }
}

/// The parallel reader hands the calling thread's share of the work to the analyzer: records
/// in log order, the unparsed lines, and at the end the counts made on the other threads.
impl InOrder for Analyzer {
    #[inline]
    fn record(&mut self, rec: &Record<'_>, line: &str) {
        self.ordered(rec, line);
    }

    #[inline]
    fn unparsed(&mut self, line: &str) {
        self.keep_unparsed(line);
    }

    #[inline]
    fn finished(&mut self) -> Option<std::vec::Drain<'_, Box<Flow>>> {
        if self.engine.has_ready() {
            Some(self.engine.drain_ready())
        } else {
            None
        }
    }

    fn merge(&mut self, counts: SummaryBuilder) {
        self.summary.merge(counts);
    }
}

/// Reading on one thread hands the analyzer whole lines.
impl Target for Analyzer {
    #[inline]
    fn line(&mut self, line: &str, year: &YearRef, sink: &mut impl FnMut(Flow)) {
        Analyzer::line(self, line, year, sink);
    }
}

#[cfg(test)]
mod tests;
