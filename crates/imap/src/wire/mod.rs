//! The IMAP wire format, apart from server logic: [`framer`] splits client input into
//! commands (lines and literals, with limits), [`decode`] turns them into imap-types
//! commands with imap-codec, [`encode`] writes responses.
//!
//! imap-codec parses the commands; we frame them ourselves because the server needs what
//! its `Fragmentizer` does not give: a line limit apart from the literal limits, literal
//! limits that depend on the command and on authentication, and skipping a refused
//! non-synchronizing literal without losing step (RFC 7888 §4).

pub mod append;
pub mod decode;
pub mod encode;
pub mod extended;
pub mod framer;
pub mod imap_url;
pub mod metadata;
pub mod notify;
pub mod search_return;
pub mod urlauth;

pub use decode::{DecodeError, decode_command};
pub use framer::{Frame, Framer, LineFrame, Rejection};
