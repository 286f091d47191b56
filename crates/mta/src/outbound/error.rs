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
}
