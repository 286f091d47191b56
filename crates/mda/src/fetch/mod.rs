//! Remote retrieval (fetchmail's job): polls a remote POP3 (RFC 1939) or IMAP (RFC 9051)
//! mailbox over TLS and delivers each message into a local account through the queue, the
//! same path as SMTP mail. What was taken is remembered durably per entry ([`state`]), so
//! nothing is fetched twice or lost across restarts; the remote copy is deleted (unless
//! `keep`) only after the local one is durably queued.

mod error;
pub mod headers;
pub mod imap;
mod intake;
mod poll;
pub mod pop3;
pub mod state;
mod tls;
pub mod wire;

pub use error::FetchError;
pub use intake::FetchContext;
pub use poll::{PollReport, poll_once, run_poller};

use std::path::PathBuf;
use std::time::Duration;

/// The remote protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Pop3,
    Imap,
}

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (RFC 8314 §3.3: 993, 995).
    Implicit,
    /// STARTTLS (RFC 9051 §6.2.1) or STLS (RFC 2595 §4) before logging in.
    StartTls,
    /// Plain text: allowed only to a loopback address (checked at connect).
    None,
}

impl Protocol {
    /// The well-known port (RFC 8314 §7, RFC 1939 §3, RFC 9051 §1).
    pub fn default_port(self, tls: TlsMode) -> u16 {
        match (self, tls) {
            (Protocol::Pop3, TlsMode::Implicit) => 995,
            (Protocol::Pop3, _) => 110,
            (Protocol::Imap, TlsMode::Implicit) => 993,
            (Protocol::Imap, _) => 143,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Pop3 => "pop3",
            Protocol::Imap => "imap",
        }
    }
}

/// One `[[fetch]]` entry, resolved (password read, port defaulted).
#[derive(Debug, Clone)]
pub struct FetchAccount {
    /// Names the state file (`<data>/fetch/<name>.state`) and the log lines.
    pub name: String,
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: String,
    pub password: String,
    /// IMAP folder (default INBOX).
    pub folder: String,
    /// The local account the messages are delivered to.
    pub deliver_to: String,
    pub interval: Duration,
    /// Leave the messages on the server.
    pub keep: bool,
    /// Messages fetched in one poll; 0: no limit.
    pub max_messages_per_poll: usize,
    pub tls_verify: bool,
    pub ca_file: Option<PathBuf>,
    /// Larger messages are skipped (and counted as errors).
    pub max_message_size: u64,
    /// Each read waits at most this long.
    pub timeout: Duration,
    /// Where the state file lives (`<data>/fetch`).
    pub state_dir: PathBuf,
}

impl FetchAccount {
    pub fn state_path(&self) -> PathBuf {
        self.state_dir.join(format!("{}.state", self.name))
    }
}
