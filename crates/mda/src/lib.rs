//! mailward's local delivery agent: turns queued messages into Maildir files
//! ([`deliver`]) and runs the queue ([`runner`]): immediate delivery of new messages,
//! retries with back-off for temporary failures, expiry. [`managesieve`] is the
//! ManageSieve server (RFC 5804) through which users manage their Sieve scripts.

pub mod deliver;
pub mod fetch;
pub mod managesieve;
pub mod remote;
mod report;
pub mod runner;
pub mod sieve;

pub use remote::{Delivery, RemoteTransport, domain_of};
pub use runner::{QueueRunner, RetrySettings};
