//! mailward's Sieve interpreter: RFC 5228 and the extensions `docs/rfc-status.md` lists.
//!
//! Pure and I/O-free (DESIGN.md): a script is parsed, checked and compiled once
//! ([`compile`]), then evaluated against a message, its envelope and an environment; the
//! result is a list of [`Action`]s for the delivery agent to carry out. State that lives
//! outside the interpreter (mailboxes, duplicate tracking, included scripts, programs) is
//! reached through the [`Host`] trait, so the same script runs in delivery, in
//! `mailward sieve test` and under Pigeonhole's test suite.

pub mod action;
pub mod address;
pub mod comparator;
pub mod compile;
pub mod envelope;
pub mod error;
pub mod eval;
pub mod execute;
pub mod ext;
pub mod host;
pub mod limits;
pub mod message;
pub mod parser;
pub mod registry;
#[cfg(feature = "testsuite")]
#[doc(hidden)]
pub mod testsuite;

pub use action::{Action, ProgramKind};
pub use compile::{CompileOptions, Script, compile};
pub use envelope::{Envelope, Environment, Score};
pub use error::{CompileError, RuntimeError};
pub use eval::{Outcome, evaluate};
pub use host::Host;
pub use limits::Limits;
