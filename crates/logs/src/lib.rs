//! Mail-log forensics: parsers for Postfix, Exim and mailward logs, flow reconstruction and
//! summaries (`mailward logs`).
//!
//! The pipeline, each stage in its own module:
//!
//! 1. [`parse`] — one line to one typed [`event::Record`] (pure; text is borrowed from the
//!    line, and only the few large events are boxed): [`postfix`], [`exim`], [`jsonlog`]
//!    (mailward's own log), format detected per line; timestamps and year inference in
//!    [`time`].
//! 2. [`flow`] — a state machine over records: one [`flow::Flow`] per message, following
//!    queue-ID hand-offs through content filters and re-injection.
//! 3. [`summary`] — counts over flows and lines.
//! 4. [`input`] — the I/O edge: files, gzip/xz, stdin, merging, following.
//! 5. `read` — opened inputs read line by line, or one large input parsed on several cores
//!    (`parallel`: a reader thread, chunks parsed by workers, the flows still built in log
//!    order on the calling thread).
//!
//! [`analyze::Analyzer`] wires 1–3 together and reads through 5. The modules form no cycle:
//! `read` and `parallel` know the analyzer only through the small traits it implements
//! (`read::Target`, `parallel::InOrder`), and call nothing above them.

pub mod analyze;
pub mod error;
pub mod event;
pub mod exim;
mod fasthash;
pub mod filter;
pub mod flow;
pub mod input;
pub mod jsonlog;
mod parallel;
pub mod parse;
pub mod postfix;
mod read;
pub mod scan;
pub mod summary;
pub mod time;
pub mod verify;

pub use analyze::Analyzer;
pub use error::LogsError;
pub use event::{AuthProtocol, Event, Record, Source, Status};
pub use filter::FlowFilter;
pub use flow::{Flow, FlowEngine, Recipient};
pub use summary::{Summary, SummaryBuilder};
pub use time::{Timestamp, YearRef};
