//! Reading opened inputs: line by line on the calling thread, or one input on several cores
//! ([`crate::parallel`]). The choice is only about speed: the result is the same.

use crate::error::LogsError;
use crate::flow::Flow;
use crate::input::{Input, for_each_line};
use crate::parallel::{self, InOrder, Plan};
use crate::time::YearRef;

/// What reading feeds: whole lines when it reads on one thread, and the records and unparsed
/// lines the parallel reader parsed ahead otherwise ([`InOrder`]).
pub(crate) trait Target: InOrder {
    /// One log line; finished flows go to `sink`.
    fn line(&mut self, line: &str, year: &YearRef, sink: &mut impl FnMut(Flow));
}

/// Reads every line of `inputs` (several files merged in time order) into `target`. One input
/// is read on `threads` threads when `threads` is at least 2 (`threads - 1` parsing threads
/// plus this one, which hands the records to `target` and parses when it would otherwise
/// wait); then finished flows are summarized on a thread of their own when `summarize_flows`.
/// Finished flows go to `sink`; `progress` is called every so often (for a progress bar).
pub(crate) fn read(
    target: &mut impl Target,
    mut inputs: Vec<Input>,
    threads: usize,
    summarize_flows: bool,
    sink: &mut impl FnMut(Flow),
    progress: &mut dyn FnMut(),
) -> Result<(), LogsError> {
    if threads >= 2
        && inputs.len() == 1
        && let Some(input) = inputs.pop()
    {
        let (name, year, reader, head) = input.into_parts();
        // The calling thread runs the flows and parses whenever it would wait, so
        // `threads - 1` workers keep `threads` cores busy.
        let plan = Plan::new(threads - 1);
        return parallel::read(
            target,
            reader,
            head,
            &name,
            &year,
            plan,
            summarize_flows,
            sink,
            progress,
        );
    }
    let mut n: u32 = 0;
    for_each_line(inputs, |line, year| {
        target.line(line, year, sink);
        n = n.wrapping_add(1);
        if n & 0xffff == 0 {
            progress();
        }
    })
}
