//! Finished flows off the calling thread and back: the flow thread adds them to a summary,
//! then they reach the sink on the calling thread, where they were allocated (memory freed on
//! another thread is slow to allocate again).

#![allow(
    clippy::vec_box,
    reason = "finished flows are boxed: a pointer moves through the ready list, the summary thread and back cheaper than a 300-byte Flow"
)]

use crate::flow::Flow;
use crate::summary::SummaryBuilder;
use std::sync::mpsc::{Receiver, Sender, SyncSender};

/// Finished flows handed to the flow thread at a time.
const FLOW_BATCH: usize = 256;
/// Batches of flows the calling thread may hand over before it waits for the flow thread.
pub(super) const FLOWS_AHEAD: usize = 8;

/// Finished flows on their way to the flow thread, in batches. The flow thread only reads
/// them (for the summary) and sends each batch back: they reach the sink, and are freed, on
/// the calling thread, where they were allocated (memory freed on another thread is slow to
/// allocate again).
pub(super) struct FlowOut<'s, F> {
    tx: SyncSender<Vec<Box<Flow>>>,
    back: Receiver<Vec<Box<Flow>>>,
    batch: Vec<Box<Flow>>,
    spare: Vec<Vec<Box<Flow>>>,
    /// Batches at the flow thread.
    out: usize,
    sink: &'s mut F,
}

impl<'s, F: FnMut(Flow)> FlowOut<'s, F> {
    /// Batches go out on `tx` and come back on `back`; then their flows go to `sink`.
    pub(super) fn new(
        tx: SyncSender<Vec<Box<Flow>>>,
        back: Receiver<Vec<Box<Flow>>>,
        sink: &'s mut F,
    ) -> Self {
        FlowOut {
            tx,
            back,
            batch: Vec::with_capacity(FLOW_BATCH),
            spare: Vec::new(),
            out: 0,
            sink,
        }
    }

    pub(super) fn push(&mut self, flows: std::vec::Drain<'_, Box<Flow>>) {
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
    pub(super) fn finish(mut self) {
        self.flush();
        while self.out > 0 {
            match self.back.recv() {
                Ok(done) => self.sunk(done),
                Err(_) => break,
            }
        }
    }
}

/// The flow thread: takes the batches of `batches`, adds their flows to a summary when
/// `summarize`, and sends each batch `back`; returns the summary once the batches end.
pub(super) fn summarize(
    batches: Receiver<Vec<Box<Flow>>>,
    back: Sender<Vec<Box<Flow>>>,
    summarize: bool,
) -> SummaryBuilder {
    let mut summary = SummaryBuilder::new();
    for batch in batches {
        if summarize {
            for f in &batch {
                summary.flow(f);
            }
        }
        if back.send(batch).is_err() {
            break;
        }
    }
    summary
}
