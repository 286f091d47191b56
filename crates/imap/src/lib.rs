//! mailward's IMAP server: IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501).
//!
//! The parts, each pure and I/O-free so they are unit-tested and fuzzed without sockets:
//! - [`wire`]: framing of client input (lines, synchronizing and non-synchronizing literals,
//!   limits) and decoding of complete commands with `imap-codec`;
//! - [`message`]: functions over a message's raw bytes: ENVELOPE, BODYSTRUCTURE, BODY[section],
//!   BINARY, sizes and the content predicates of SEARCH;
//! - [`mailbox_name`]: mailbox names on the wire (modified UTF-7, UTF-8) and their checks;
//! - [`session`]: the session state machine (bytes in, responses and [`session::Action`]s out);
//! - [`backend`]: the traits the session uses for authentication and mailbox access;
//! - [`store_backend`]: those traits over `mailward-store`;
//! - [`server`]: the tokio listeners (`imap` with STARTTLS, `imaps`).

pub mod account_feed;
pub mod backend;
pub mod limits;
pub mod mailbox_name;
pub mod message;
pub mod server;
pub mod session;
pub mod store_backend;
pub mod wire;

pub use imap_codec;
pub use imap_codec::imap_types;
pub use limits::Limits;
pub use server::{ListenerKind, Server, ServerConfig};
pub use session::{Action, Session, SessionConfig};
pub use store_backend::{StoreAuthenticator, StoreMailboxes};
