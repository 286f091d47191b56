//! The account-wide change feed's vocabulary: what happened to a mailbox, as the store
//! announces it on [`crate::Store::subscribe_changes`]. IDLE sessions look only at the
//! mailbox id; IMAP NOTIFY (RFC 5465 §5) sessions tell the event types apart: new
//! messages, expunges and flag changes for `STATUS`, mailbox names for `LIST`, and
//! subscriptions.

use std::sync::Arc;

/// What changed (the feed's message body; names are shared, so a change is cheap to clone
/// for every listener).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// Messages of the mailbox changed (RFC 5465 §5.2 MessageNew, §5.3 MessageExpunge,
    /// §5.1 FlagChange); any combination, as one commit may do several.
    Messages(MessageEvents),
    /// A mailbox was created (RFC 5465 §5.4 MailboxName).
    Created { name: Arc<str> },
    /// A mailbox was deleted (RFC 5465 §5.4).
    Deleted { name: Arc<str> },
    /// A mailbox was renamed (RFC 5465 §5.4, `OLDNAME`); one change per renamed level.
    Renamed { from: Arc<str>, to: Arc<str> },
    /// A name was subscribed or unsubscribed (RFC 5465 §5.5 SubscriptionChange).
    Subscription { name: Arc<str>, subscribed: bool },
}

/// Which kinds of message change a commit made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageEvents {
    pub added: bool,
    pub expunged: bool,
    pub flags: bool,
}

impl MessageEvents {
    pub const ADDED: MessageEvents = MessageEvents {
        added: true,
        expunged: false,
        flags: false,
    };
    pub const EXPUNGED: MessageEvents = MessageEvents {
        added: false,
        expunged: true,
        flags: false,
    };
    pub const FLAGS: MessageEvents = MessageEvents {
        added: false,
        expunged: false,
        flags: true,
    };
}

impl ChangeKind {
    /// New messages.
    pub fn added() -> ChangeKind {
        ChangeKind::Messages(MessageEvents::ADDED)
    }

    /// The messages of this change, if it is about messages.
    pub fn messages(&self) -> Option<MessageEvents> {
        match self {
            ChangeKind::Messages(m) => Some(*m),
            _ => None,
        }
    }
}
