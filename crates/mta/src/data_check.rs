//! A last look at a message before it is queued, by a part outside the SMTP server: the
//! recipient's Sieve `reject`/`ereject` answered at SMTP time (RFC 5429 §2.1: "the
//! reject is done at the protocol level when possible"). The server only knows the trait;
//! the binary plugs delivery's Sieve in (protocol crates do not depend on each other).

use std::fmt::Debug;

/// A check of a message with one local recipient, just before it is queued.
pub trait DataCheck: Send + Sync + Debug {
    /// `Some(reason)`: refuse the message (`550 5.7.1 reason`). `message` is the message as
    /// it would be queued (`Received:` and the checks' fields included). Blocking: called
    /// on a blocking thread.
    fn refuse(&self, sender: &str, rcpt: &str, message: &[u8], remote_ip: &str) -> Option<String>;
}
