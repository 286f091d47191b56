//! Lines in, flows and a summary out: the parsers, the flow engine and the summary wired
//! together, still free of I/O.

use crate::flow::{Flow, FlowEngine};
use crate::parse::parse_line;
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

    /// One log line; finished flows go to `sink`.
    #[inline]
    pub fn line(&mut self, line: &str, year: &YearRef, sink: &mut impl FnMut(Flow)) {
        self.parsed(line, parse_line(line, year), sink);
    }

    /// One log line already parsed (for callers that parse ahead themselves).
    #[inline]
    pub fn parsed(
        &mut self,
        line: &str,
        rec: Option<crate::event::Record<'_>>,
        sink: &mut impl FnMut(Flow),
    ) {
        match rec {
            Some(rec) => {
                self.summary.record(&rec);
                self.engine.process(&rec, line);
            }
            None => {
                if line.trim().is_empty() {
                    return;
                }
                self.summary.unparsed_line();
                if self.keep_unparsed && self.unparsed.len() < UNPARSED_KEEP {
                    self.unparsed.push(line.to_owned());
                }
            }
        }
        if self.engine.has_ready() {
            self.drain(sink);
        }
    }

    /// Advances the log clock without a line (used by `follow` when the log is idle).
    pub fn tick(&mut self, now: crate::time::Timestamp, sink: &mut impl FnMut(Flow)) {
        self.engine.tick(now);
        self.drain(sink);
    }

    fn drain(&mut self, sink: &mut impl FnMut(Flow)) {
        let flows: Vec<Flow> = self.engine.drain_ready().collect();
        for f in flows {
            if self.summarize_flows {
                self.summary.flow(&f);
            }
            sink(f);
        }
    }

    /// End of input: emits the open flows and returns the summary and the kept unparsed lines.
    pub fn finish(mut self, top_n: usize, sink: &mut impl FnMut(Flow)) -> (Summary, Vec<String>) {
        self.engine.finish();
        self.drain(sink);
        (self.summary.finish(top_n), self.unparsed)
    }
}
