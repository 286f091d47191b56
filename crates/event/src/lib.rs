//! mailward's typed event catalogue: every event any part of mailward writes, with its
//! fields, how it is written as one JSON line, and how it is read back.
//!
//! The writer ([`Scope::emit`]) and the reader ([`LogLine::parse`], used by
//! `mailward logs`) share these types, so the two cannot drift. `docs/log-format.md`
//! documents every variant; a test checks that the document and [`Event::NAMES`] agree.
//!
//! A line is `{"timestamp":…,"level":…,"event":…,"protocol":…,"session":…,"remote_ip":…,
//! "queue_id":…, <the event's own fields>}`: the common fields come from the [`Scope`] the
//! event is emitted in, so every line of a connection carries the same `protocol`,
//! `session` and `remote_ip`.

mod catalogue;
mod human;
mod library;
mod line;
mod scope;
mod sink;

pub use catalogue::*;
pub use library::{LibraryLayer, in_session};
pub use line::LogLine;
pub use scope::{Protocol, Scope};
pub use sink::{Format, Level, Sink, install, installed, json_line_string as sink_json_line};
