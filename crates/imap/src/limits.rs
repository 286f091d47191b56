//! Limits of one IMAP session: sizes the framer enforces, counts the session enforces and
//! the timeouts the driver applies. Every parser in the crate has a limit; these are the
//! ones a site may want to tune.

use std::time::Duration;

/// Session limits, with defaults close to Dovecot's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest command line, literals not counted (RFC 9051 §4 sets no bound; RFC 7162
    /// §4 asks servers to accept at least 8192 octets; Dovecot accepts 64 KiB).
    pub max_line: usize,
    /// APPENDLIMIT (RFC 7889 §2): the largest message APPEND takes, so the largest literal
    /// of an APPEND command.
    pub max_append: u64,
    /// Largest literal in any other command of an authenticated session (mailbox names,
    /// search strings).
    pub max_literal: u64,
    /// Largest literal before authentication (a user name or password in LOGIN).
    pub max_literal_unauthenticated: u64,
    /// Largest command as a whole (lines and literals).
    pub max_command: u64,
    /// Largest command before authentication: a LOGIN or AUTHENTICATE needs a few hundred
    /// octets, so chained literals cannot pin megabytes on a connection that has not logged
    /// in.
    pub max_command_unauthenticated: u64,
    /// A non-synchronizing literal larger than its limit is read and thrown away so the
    /// stream stays in step (RFC 7888 §4); beyond this size the connection is closed
    /// instead.
    pub max_discard: u64,
    /// Commands answered BAD before the session is closed.
    pub max_bad_commands: u32,
    /// Failed LOGIN/AUTHENTICATE attempts before the session is closed.
    pub max_auth_failures: u32,
    /// RFC 9051 §5.4: an idle authenticated client is logged out after at least 30 minutes.
    pub idle_timeout: Duration,
    /// A client that has not authenticated is dropped this long after it connected, however
    /// slowly it keeps sending (an absolute deadline, not a per-read timeout).
    pub login_timeout: Duration,
    /// IDLE (RFC 2177 §3): the client re-issues IDLE at least every 29 minutes; the server
    /// may end the session after this long in IDLE.
    pub idle_command_timeout: Duration,
    /// How long one write may wait for a client that does not read, once logged in (before
    /// login, the rest of `login_timeout`).
    pub write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        let max_append = 64 * 1024 * 1024;
        let max_line = 64 * 1024;
        Limits {
            max_line,
            max_append,
            max_literal: 64 * 1024,
            max_literal_unauthenticated: 8 * 1024,
            max_command: max_append + max_line as u64,
            max_command_unauthenticated: 16 * 1024,
            max_discard: 2 * max_append,
            max_bad_commands: 20,
            max_auth_failures: 3,
            idle_timeout: Duration::from_secs(30 * 60),
            login_timeout: Duration::from_secs(60),
            idle_command_timeout: Duration::from_secs(30 * 60),
            write_timeout: Duration::from_secs(5 * 60),
        }
    }
}

impl Limits {
    /// Limits with an APPENDLIMIT of `max_append` octets (the command limit follows it).
    pub fn with_append_limit(max_append: u64) -> Self {
        let d = Limits::default();
        Limits {
            max_append,
            max_command: max_append.saturating_add(d.max_line as u64),
            max_discard: max_append.saturating_mul(2).max(d.max_literal),
            ..d
        }
    }
}
