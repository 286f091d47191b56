//! mailward's POP3 server: RFC 1939 with CAPA (RFC 2449), STLS (RFC 2595), AUTH PLAIN
//! (RFC 5034, RFC 4616), RESP-CODES and AUTH-RESP-CODE (RFC 2449 §8, RFC 3206).
//!
//! The wire format ([`wire`], [`command`]) and the session state machine ([`session`]) are
//! pure and I/O-free, so they are unit-tested and fuzzed without sockets against a fake
//! store ([`memory`], driven by [`blocking`]). [`server`] puts sessions on tokio listeners
//! with rustls; [`store_backend`] is the real maildrop: the account's INBOX in the store,
//! the same one IMAP serves.

pub mod backend;
pub mod blocking;
pub mod command;
pub mod memory;
pub mod server;
pub mod session;
pub mod store_backend;
pub mod wire;

pub use backend::{Backend, Entry, Login, LoginOutcome, MailError, Mailbox, Maildrop};
pub use server::{ListenerKind, MIN_IDLE_TIMEOUT, Server, ServerConfig};
pub use session::{Action, Method, Session, SessionConfig, TlsInfo};
pub use store_backend::StoreBackend;
