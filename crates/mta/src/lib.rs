//! mailward's SMTP server: RFC 5321 with PIPELINING, SIZE, 8BITMIME, SMTPUTF8,
//! ENHANCEDSTATUSCODES, CHUNKING, STARTTLS, AUTH PLAIN/LOGIN and DSN.
//!
//! The wire framing ([`framing`]), the session state machine ([`session`]) and how it
//! collects a body ([`body`]) are pure and I/O-free (bytes in, replies and [`session::Action`]s out), so they are unit-tested and
//! fuzzed without sockets; [`server`] puts them on tokio listeners with rustls.

pub mod body;
pub mod data_check;
pub mod framing;
pub mod headers;
pub mod inbound;
pub mod numbers;
pub mod outbound;
pub mod policy;
pub mod probe;
pub mod received;
pub mod reply;
pub mod screen;
pub mod server;
pub mod session;
pub mod spool_file;

/// TLS configuration and per-IP limits live in `mailward-net` (shared with POP3 and IMAP);
/// re-exported so `mailward_mta::{limits, tls}` keep working.
pub use mailward_net::{limits, tls};

pub use body::Body;
pub use data_check::DataCheck;
pub use policy::{Cidr, Directory, RcptLookup};
pub use reply::{Code, EnhancedCode, Reply, ReplyClass, Status};
pub use server::{ListenerKind, Server, ServerConfig};
pub use session::{
    Action, DEFAULT_SPOOL_THRESHOLD, EnqueueOutcome, HeaderFromPolicy, Session, SessionConfig,
    Submission, TlsInfo,
};
