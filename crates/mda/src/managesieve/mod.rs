//! The ManageSieve server (RFC 5804): users upload, list, activate and delete their Sieve
//! scripts with a mail client (Thunderbird, Roundcube, sieve-connect).
//!
//! [`wire`] frames client input (quoted strings, literals, limits), [`command`] types it,
//! [`response`] writes answers, [`session`] is the pure state machine, [`ops`] runs the
//! script commands against the store ([`mailward_store::SieveScripts`]) after a
//! [`checker::ScriptChecker`] has compiled the script, and [`server`] puts sessions on
//! tokio listeners with STARTTLS and the shared limits of `mailward-net`.

pub mod checker;
pub mod command;
pub mod ops;
pub mod response;
pub mod server;
pub mod session;
pub mod wire;

pub use checker::{ScriptChecker, SieveCompiler, sieve_capability};
pub use server::{Server, ServerConfig};
pub use session::{Session, SessionConfig};
#[cfg(test)]
mod session_tests;
