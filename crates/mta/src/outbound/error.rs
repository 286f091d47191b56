//! Why an attempt on one connection failed before the server could answer for each
//! recipient: every one of these defers the recipients (or moves on to the next host).

use super::reply::ReplyError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    #[error("connect failed: {0}")]
    Connect(String),
    /// RFC 5321 §4.5.3.2: each stage has its own time-out.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("connection closed by the server during {0}")]
    Closed(&'static str),
    #[error("I/O error during {0}: {1}")]
    Io(&'static str, String),
    #[error("bad reply: {0}")]
    Reply(#[from] ReplyError),
    #[error("TLS failed: {0}")]
    Tls(String),
    /// RFC 5321 §4.2: one reply per command, in order. Bytes that arrived before a command
    /// was sent would be taken for its reply, and every later reply for the one before.
    #[error("the server sent a reply no command asked for (before {0})")]
    Unsolicited(&'static str),
    /// A reply the command cannot have (RFC 5321 §4.3.2), e.g. 250 to DATA.
    #[error("unexpected reply to {0}: {1}")]
    Unexpected(&'static str, String),
}
