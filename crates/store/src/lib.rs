//! mailward's data directory: accounts, domains and aliases (the directory), the durable
//! queue (spool files + queue rows, group-committed by one writer thread) and Maildir
//! mailboxes with the SQLite index the IMAP server reads (UIDVALIDITY, UIDs, flags, MODSEQ).
//!
//! Layout under the data directory (see [`layout::DataDir`]):
//! `mailward.db` (SQLite, WAL), `fulltext.db` (the search index, a cache), `spool/<queue-id>` (message bodies), `spool/tmp/` (bodies
//! being received, too big for memory),
//! `mail/<domain>/<user>/Maildir` (Maildir++), `sieve/<domain>/<user>/` (Sieve scripts).

pub mod access;
pub mod backend;
pub mod change;
pub mod delivery_lookup;
pub mod directory;
pub mod error;
pub mod flags;
pub mod folder_name;
pub mod fulltext;
mod handle;
pub mod ids;
pub mod layout;
pub mod mailbox;
pub mod password;
pub mod queue;
pub mod schema;
pub mod sieve_scripts;
pub mod sieve_state;
pub mod sync;
mod writer;

pub use access::{AccessError, Folder, MailAccess, Message};
pub use backend::{DirectoryStore, MailIndex, MailStore, MessageBlobs, QueueStore, SieveScripts};
pub use change::{ChangeKind, MessageEvents};
pub use directory::{Account, Alias, Recipient};
pub use error::StoreError;
pub use flags::Flags;
pub use handle::{MailboxChange, Store};
pub use layout::DataDir;
pub use mailbox::{Appended, MailboxIndex};
pub use queue::{Envelope, QueueEntry, QueueRcpt, RcptState, SpoolTemp};
pub use sieve_scripts::{ScriptInfo, SieveFiles, SieveQuota, SieveScriptError};
pub use sieve_state::SieveStateKind;
pub use writer::{DeliverRequest, FRESH_GRACE_SECS, WriteStats};
