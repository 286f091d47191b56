//! One chunk of the input parsed: the lines the calling thread needs, borrowing the text of
//! their segment, and the counts of the others.

use crate::event::{Event, Record};
use crate::parse::parse_line;
use crate::summary::SummaryBuilder;
use crate::time::YearRef;
use std::ops::Range;
use std::sync::Arc;
use yoke::{Yoke, Yokeable};

/// A segment of the input, shared by the chunks cut from it.
pub(super) type Segment = Arc<String>;

/// One chunk to parse: `range` of `segment`, the `index`-th chunk of the input.
pub(super) struct Job {
    pub(super) segment: Segment,
    pub(super) range: Range<usize>,
    pub(super) index: usize,
}

/// One line passed on to the calling thread: a record for the flow engine, or an unparsed line.
pub(super) struct Item<'a> {
    pub(super) line: &'a str,
    pub(super) rec: Option<Record<'a>>,
}

/// The items of one chunk, borrowing the text of their segment.
#[derive(Yokeable)]
pub(super) struct Parsed<'a> {
    pub(super) items: Vec<Item<'a>>,
}

/// A parsed chunk travelling with (a share of) the segment its records borrow from, so that
/// the workers can outlive any one segment.
pub(super) type ParsedChunk = Yoke<Parsed<'static>, Segment>;

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

/// The emptied item vector of a chunk taken in, to parse another chunk into; the chunk's share
/// of its segment goes with it.
pub(super) fn emptied(mut chunk: ParsedChunk) -> Vec<Item<'static>> {
    chunk.with_mut_return(|p| retype(std::mem::take(&mut p.items)))
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

/// Parses one chunk into items that borrow its segment.
pub(super) fn parse_job(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emptied_item_vectors_keep_their_memory_for_the_next_segment() {
        let v: Vec<Item<'_>> = Vec::with_capacity(1000);
        let w: Vec<Item<'static>> = retype(v);
        assert!(w.is_empty() && w.capacity() >= 1000, "{}", w.capacity());
    }
}
