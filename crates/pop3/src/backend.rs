//! What the POP3 server needs from the mail store: checking a login and opening the
//! maildrop, reading messages, and removing the deleted ones at QUIT. The session never
//! calls these itself (it is pure); the drivers ([`crate::server`], [`crate::blocking`]) do,
//! so tests and the fuzzer run the session against a fake ([`crate::memory`]).

/// One message of the maildrop snapshot (RFC 1939 §5: the maildrop as it was at login).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The message's IMAP UID (stable across sessions within one UIDVALIDITY).
    pub uid: u32,
    /// Octets as stored (RFC 1939 §5 LIST: "the exact size of the message in octets").
    pub size: u64,
}

/// The maildrop at login: the messages numbered 1..n in this order (UID order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maildrop {
    pub uidvalidity: u32,
    pub messages: Vec<Entry>,
}

/// How a login went, with the opened mailbox on success.
#[derive(Debug)]
pub enum Login<M> {
    Ok {
        /// The account's canonical name (for the log).
        account: String,
        maildrop: Maildrop,
        mailbox: M,
    },
    /// Wrong user name or password (RFC 3206 §4: `[AUTH]`).
    BadCredentials,
    /// The maildrop is held by another POP3 session (RFC 2449 §8.1.1: `[IN-USE]`).
    InUse,
    /// A temporary problem on our side (RFC 3206 §5: `[SYS/TEMP]`).
    TempFail(String),
}

/// What the session learns of a login (the mailbox stays with the driver).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    Ok { account: String, maildrop: Maildrop },
    BadCredentials,
    InUse,
    TempFail(String),
}

impl<M> Login<M> {
    /// Splits into what the session needs and the mailbox the driver keeps.
    pub fn split(self) -> (LoginOutcome, Option<M>) {
        match self {
            Login::Ok {
                account,
                maildrop,
                mailbox,
            } => (LoginOutcome::Ok { account, maildrop }, Some(mailbox)),
            Login::BadCredentials => (LoginOutcome::BadCredentials, None),
            Login::InUse => (LoginOutcome::InUse, None),
            Login::TempFail(why) => (LoginOutcome::TempFail(why), None),
        }
    }
}

/// Why a message could not be read or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Another client (IMAP, another program) removed it since the login.
    #[error("the message was removed by another session")]
    Gone,
    #[error("{0}")]
    Temporary(String),
}

/// Checks logins and opens maildrops. Calls may block (disk, SQLite, password hashing):
/// the async server runs them on blocking threads.
pub trait Backend: Send + Sync + 'static {
    type Mailbox: Mailbox;

    /// Checks `user` and `password`; on success opens (and locks) the account's INBOX.
    fn login(&self, user: &str, password: &str) -> Login<Self::Mailbox>;
}

/// An opened maildrop. Dropping it releases the POP3 lock on it.
pub trait Mailbox: Send + Sync + 'static {
    /// The message with `uid`; `mark_seen` sets `\Seen` as RETR does.
    fn fetch(&self, uid: u32, mark_seen: bool) -> Result<Vec<u8>, MailError>;

    /// RFC 1939 §6 (UPDATE): removes the messages; returns how many were removed.
    fn remove(&self, uids: &[u32]) -> Result<usize, MailError>;
}
