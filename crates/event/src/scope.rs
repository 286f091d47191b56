//! Where an event happened: the fields every line of one connection or one message shares.

use crate::catalogue::{Event, Text};
use crate::sink;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::IpAddr;

/// The protocol of a connection, the `protocol` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Smtp,
    Imap,
    Pop3,
    /// ManageSieve (RFC 5804).
    #[serde(rename = "managesieve")]
    ManageSieve,
    /// Any protocol name this version does not know.
    #[serde(other)]
    Other,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Smtp => "smtp",
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::ManageSieve => "managesieve",
            Protocol::Other => "other",
        }
    }
}

/// The common fields of an event: absent ones are not written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scope<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// The connection's session ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<Text<'a>>,
    /// The peer's address, IPv4-mapped IPv6 written as IPv4.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<IpAddr>,
    /// The message's queue ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<Text<'a>>,
}

impl Scope<'static> {
    /// The scope of one connection: every event it writes carries these three fields.
    pub fn connection(protocol: Protocol, session: impl Into<String>, remote_ip: IpAddr) -> Self {
        Scope {
            protocol: Some(protocol),
            session: Some(Cow::Owned(session.into())),
            remote_ip: Some(remote_ip.to_canonical()),
            queue_id: None,
        }
    }

    /// A protocol's events that belong to no connection (a listener, a backend).
    pub fn protocol(protocol: Protocol) -> Self {
        Scope {
            protocol: Some(protocol),
            ..Scope::default()
        }
    }

    /// Events of the whole service (start, stop, recovery).
    pub fn service() -> Self {
        Scope::default()
    }
}

impl<'a> Scope<'a> {
    /// The same scope for one message.
    pub fn with_queue_id<'b>(&'b self, queue_id: &'b str) -> Scope<'b>
    where
        'a: 'b,
    {
        Scope {
            protocol: self.protocol,
            session: self.session.as_deref().map(Cow::Borrowed),
            remote_ip: self.remote_ip,
            queue_id: Some(Cow::Borrowed(queue_id)),
        }
    }

    /// A message's events outside any connection (the queue runner).
    pub fn message(queue_id: &'a str) -> Self {
        Scope {
            queue_id: Some(Cow::Borrowed(queue_id)),
            ..Scope::default()
        }
    }

    /// The session ID, or `""` outside a connection.
    pub fn session_id(&self) -> &str {
        self.session.as_deref().unwrap_or("")
    }

    /// Writes `event` at its own level to the installed sink (nothing when none is, as in
    /// unit tests, or when the level is filtered out).
    pub fn emit(&self, event: Event<'_>) {
        let level = event.level();
        sink::write(level, self, &event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapped_address_is_kept_as_ipv4() {
        let ip: IpAddr = "::ffff:198.51.100.7"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let s = Scope::connection(Protocol::Smtp, "abc", ip);
        assert_eq!(s.remote_ip, Some(IpAddr::from([198, 51, 100, 7])));
    }
}
