//! What a delivery attempt made of one recipient: the words between the queue runner and
//! the transports (local delivery, the outbound SMTP client).

/// What happened to one recipient in one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptOutcome {
    /// The destination took it.
    Sent {
        relay: String,
        reply: String,
        tls: Option<String>,
        /// The peer offers DSN, so NOTIFY went with it (RFC 3461 §5.2): no `relayed` notice.
        dsn_passed: bool,
    },
    /// Try again later.
    Deferred {
        reason: String,
        relay: Option<String>,
    },
    /// Never: the sender gets a failure DSN.
    Failed {
        reason: String,
        /// RFC 3463 status.
        status: String,
        relay: Option<String>,
        /// The remote reply, when a server gave one.
        reply: Option<String>,
    },
}
