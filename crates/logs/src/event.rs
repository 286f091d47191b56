//! The typed events every parser produces: one [`Record`] per log line.
//!
//! Parsers are pure functions `&str -> Option<Record>`; `None` means the line was not
//! understood (it is counted and can be shown with `--unparsed`). Text borrows from the line
//! ([`Text`] is a `Cow` only because JSON strings with escapes must be unescaped).

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Text from a log line, borrowed whenever possible.
pub type Text<'a> = Cow<'a, str>;

/// Which log format a line was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Postfix,
    Exim,
    Mailward,
}

/// One understood log line.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    pub time: Option<Timestamp>,
    pub source: Source,
    pub event: Event<'a>,
}

/// Final (or latest) state of one recipient of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Accepted by the next hop or delivered to a mailbox (RFC 3464 action `delivered`/`relayed`).
    Sent,
    /// Temporary failure, will be retried (RFC 3464 action `delayed`, DSN class 4.x.x).
    Deferred,
    /// Permanent failure, returned to the sender (RFC 3464 action `failed`, DSN class 5.x.x).
    Bounced,
    /// Gave up after the maximal queue lifetime (Postfix `status=expired`, Exim
    /// `retry timeout exceeded`).
    Expired,
    /// No final status in the log (yet).
    Pending,
    /// Anything else a log calls a status (address-verification probes, ...).
    Other,
}

impl Status {
    /// The status word, as printed and as accepted by `--status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sent => "sent",
            Status::Deferred => "deferred",
            Status::Bounced => "bounced",
            Status::Expired => "expired",
            Status::Pending => "pending",
            Status::Other => "other",
        }
    }
}

/// A message entered a queue (Postfix smtpd `client=`, Exim `<=`, mailward `queued`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Received<'a> {
    pub qid: Text<'a>,
    pub client_host: Option<Text<'a>>,
    pub client_ip: Option<Text<'a>>,
    pub sasl_user: Option<Text<'a>>,
    pub from: Option<Text<'a>>,
    pub size: Option<u64>,
    pub message_id: Option<Text<'a>>,
    /// Comma-separated envelope recipients, where the log has them at arrival (mailward).
    pub recipients: Option<Text<'a>>,
    /// The queue ID this message came from: Exim's `R=` on a bounce arrival, Postfix's
    /// `orig_queue_id=` (before-queue filter).
    pub parent: Option<Text<'a>>,
    /// True for a delivery status notification the mail system generated itself.
    pub notification: bool,
}

/// One delivery attempt for one recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery<'a> {
    pub qid: Text<'a>,
    pub to: Text<'a>,
    pub orig_to: Option<Text<'a>>,
    /// The relay as logged (`host[ip]:port`, `local`, `virtual`, `dovecot`, ...).
    pub relay: Option<Text<'a>>,
    pub relay_host: Option<Text<'a>>,
    pub relay_ip: Option<Text<'a>>,
    /// True when the message went out over SMTP/LMTP to a host (not a local agent): what the
    /// summary counts as `forwarded` when the status is `sent`.
    pub remote: bool,
    pub status: Status,
    /// Total delay in seconds, as the log states it.
    pub delay: Option<f64>,
    /// Postfix `delays=a/b/c/d`: before queue manager, in queue manager, connection setup,
    /// transmission (seconds).
    pub delays: Option<[f32; 4]>,
    /// RFC 3464 §2.3.4 status code (`2.0.0`, `5.1.1`).
    pub dsn: Option<Text<'a>>,
    /// The reply or explanation in parentheses.
    pub response: Option<Text<'a>>,
    /// Queue ID the next hop gave the message (`250 2.0.0 Ok: queued as ABC`) or the new
    /// queue ID of a local forward (`forwarded as ABC`): the hand-off link.
    pub queued_as: Option<Text<'a>>,
    /// Attempt number, where the log numbers them (mailward).
    pub attempt: Option<u32>,
}

/// A refusal at the SMTP door (Postfix `NOQUEUE: reject`, Exim `rejected RCPT`, mailward
/// `rcpt_rejected`/`rejected`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reject<'a> {
    /// The queue ID when the message already had one (a later recipient refused).
    pub qid: Option<Text<'a>>,
    /// `reject`, `reject_warning`, `discard`, `milter-reject`, `hold`, ...
    pub action: Text<'a>,
    /// SMTP stage: `CONNECT`, `HELO`, `MAIL`, `RCPT`, `DATA`, `END-OF-MESSAGE`, `VRFY`.
    pub stage: Option<Text<'a>>,
    pub client_host: Option<Text<'a>>,
    pub client_ip: Option<Text<'a>>,
    /// SMTP reply code (RFC 5321 §4.2).
    pub code: Option<Text<'a>>,
    /// Enhanced status code (RFC 3463).
    pub dsn: Option<Text<'a>>,
    pub reason: Text<'a>,
    pub from: Option<Text<'a>>,
    pub to: Option<Text<'a>>,
}

impl Reject<'_> {
    /// A warning only (Postfix `reject_warning`, `warn_if_reject`): nothing was refused.
    pub fn is_warning(&self) -> bool {
        self.action.contains("warn")
    }
}

/// What a line says happened.
///
/// The variants with many fields are boxed: a record moves from the parser through a queue
/// to the flow engine, and a small `Event` moves in registers and a few stores where a
/// 260-byte one is a `memcpy` call at every step (most lines are small events).
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    Received(Box<Received<'a>>),
    /// Postfix cleanup `message-id=`.
    MessageId {
        qid: Text<'a>,
        message_id: Text<'a>,
    },
    /// Postfix qmgr `from=<>, size=, nrcpt=` or pickup `uid= from=<>`.
    Sender {
        qid: Text<'a>,
        from: Text<'a>,
        size: Option<u64>,
        nrcpt: Option<u32>,
        local: bool,
    },
    Delivery(Box<Delivery<'a>>),
    /// The message reached the queue lifetime and was returned (Postfix qmgr
    /// `status=expired, returned to sender`).
    Expired {
        qid: Text<'a>,
    },
    /// The message left the queue (Postfix `removed`, Exim `Completed`).
    Removed {
        qid: Text<'a>,
    },
    /// A delivery status notification was created for `qid` under `notice_qid` (Postfix
    /// bounce(8) `sender non-delivery notification: X`).
    Notification {
        qid: Text<'a>,
        notice_qid: Text<'a>,
    },
    /// The whole message was refused after it got a queue ID (milter or header/body checks).
    MessageRejected {
        qid: Text<'a>,
        action: Text<'a>,
        reason: Text<'a>,
    },
    Reject(Box<Reject<'a>>),
    /// An authentication attempt failed: SMTP AUTH (RFC 4954 §6, reply 535), or an IMAP or
    /// POP3 login in mailward's own log.
    SaslFailure(Box<AuthFailure<'a>>),
    /// A line of a known program that matters to no flow or count (TLS, statistics, ...).
    Other,
    /// A well-formed syslog line from a program that is not a mail daemon we read.
    Foreign,
}

/// A failed login ([`Event::SaslFailure`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthFailure<'a> {
    pub client_ip: Text<'a>,
    pub client_host: Option<Text<'a>>,
    pub user: Option<Text<'a>>,
    pub mechanism: Option<Text<'a>>,
    pub protocol: AuthProtocol,
}

/// The service a failed login was made to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AuthProtocol {
    /// SMTP AUTH (Postfix, Exim, and mailward lines without a `protocol` field).
    Smtp,
    Imap,
    Pop3,
    /// ManageSieve (RFC 5804).
    ManageSieve,
    /// A `protocol` this reader does not know.
    Other,
}

impl AuthProtocol {
    /// The name used in `summary --json` (`auth_failures_by_protocol`) and the text report.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthProtocol::Smtp => "smtp",
            AuthProtocol::Imap => "imap",
            AuthProtocol::Pop3 => "pop3",
            AuthProtocol::ManageSieve => "managesieve",
            AuthProtocol::Other => "other",
        }
    }

    /// From the `protocol` field of a mailward log line (`docs/log-format.md`); SMTP lines have
    /// none.
    pub fn from_field(field: Option<&str>) -> AuthProtocol {
        match field {
            None | Some("smtp") => AuthProtocol::Smtp,
            Some("imap") => AuthProtocol::Imap,
            Some("pop3") => AuthProtocol::Pop3,
            Some("managesieve") => AuthProtocol::ManageSieve,
            Some(_) => AuthProtocol::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record is moved by value from parser to flow engine: kept small enough to move
    /// without a `memcpy` call (see [`Event`]).
    #[test]
    fn a_record_stays_small() {
        assert!(
            std::mem::size_of::<Record<'_>>() <= 128,
            "{}",
            std::mem::size_of::<Record<'_>>()
        );
    }
}

#[cfg(test)]
mod protocol_tests {
    use super::AuthProtocol;

    #[test]
    fn managesieve_logins_are_counted_under_their_protocol() {
        let p = AuthProtocol::from_field(Some("managesieve"));
        assert_eq!(p, AuthProtocol::ManageSieve);
        assert_eq!(p.as_str(), "managesieve");
        assert_eq!(
            AuthProtocol::from_field(mailward_event::Protocol::ManageSieve.as_str().into()),
            AuthProtocol::ManageSieve
        );
    }
}
