//! The store as the protocol crates see it: backend-neutral traits for the queue
//! ([`QueueStore`]), the directory ([`DirectoryStore`]), the mailbox index ([`MailStore`],
//! [`MailIndex`]), message contents ([`MessageBlobs`]) and Sieve scripts ([`SieveScripts`]).
//!
//! SQLite + Maildir ([`crate::Store`], [`crate::MailAccess`]) implement them in [`local`];
//! a second backend (PostgreSQL with an object store, for several nodes) implements the
//! same traits, and the SMTP, delivery, IMAP and POP3 code does not change. The traits use
//! the store's plain data types ([`crate::queue::Envelope`], [`crate::Account`],
//! [`crate::Folder`], [`crate::Message`]), none of which names a file or a connection.

mod blob;
mod directory;
mod local;
mod mailbox;
mod queue;
mod sieve;

pub use blob::MessageBlobs;
pub use directory::DirectoryStore;
pub use mailbox::{MailIndex, MailStore};
pub use queue::QueueStore;
pub use sieve::SieveScripts;
