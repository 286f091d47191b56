//! What can go wrong while polling a remote mailbox.

/// A poll's failure. Every variant is an answer about one account; none is a crash.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("connect to {0}: {1}")]
    Connect(String, String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("timed out waiting for the server")]
    Timeout,
    #[error("the server closed the connection")]
    Closed,
    #[error("I/O: {0}")]
    Io(String),
    #[error("server line longer than {0} bytes")]
    LineTooLong(usize),
    #[error("message larger than {0} bytes")]
    TooLarge(u64),
    #[error("unexpected server answer: {0}")]
    Protocol(String),
    #[error("the server refused {0}: {1}")]
    Refused(String, String),
    #[error("login failed: {0}")]
    Login(String),
    #[error("plain-text connection to {0}, which is not a loopback address")]
    PlainTextNotLoopback(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("state file {0}: {1}")]
    State(String, String),
    #[error("queue: {0}")]
    Queue(String),
}

impl From<std::io::Error> for FetchError {
    fn from(e: std::io::Error) -> Self {
        FetchError::Io(e.to_string())
    }
}

/// A server's text shown in an error: printable ASCII only, at most 200 characters.
pub(crate) fn shown(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(200)
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}
