//! Relay policy (RFC 5321 §3.9, RFC 5321 §7.1; never an open relay) and the lookups the
//! session needs from the directory.

use crate::reply::Reply;

/// What the directory says about a recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptLookup {
    /// Not one of our domains.
    NotLocal,
    /// Our domain, no such user.
    Unknown,
    /// Reaches local mailboxes.
    Local,
    /// Reaches a mailbox that is full (RFC 3463 `4.2.2`).
    OverQuota,
    /// The lookup itself failed; try again later.
    TempFail,
}

/// The directory as the SMTP session sees it. Implementations must be quick (they run on
/// the session's task): the SQLite one is an indexed read.
pub trait Directory: Send + Sync {
    /// `size`: what the message will write into each mailbox as far as is known now (the
    /// `SIZE=` the client declared, RFC 1870 §6; 0 if none); a mailbox whose quota cannot
    /// take it is [`RcptLookup::OverQuota`].
    fn rcpt(&self, address: &str, size: u64) -> RcptLookup;
    /// RFC 6409 §6.1: may the authenticated `user` use `address` as the sender?
    fn may_send_as(&self, user: &str, address: &str) -> bool;
}

/// Trusted networks: shared with the other listeners (`mailward-net`).
pub use mailward_net::cidr::{Cidr, in_networks};

/// Decides on a recipient (RFC 5321 §4.1.1.3): `Ok(local)` to accept, or the refusal to
/// send. `may_relay` is true for authenticated sessions and trusted networks.
///
/// - A local part holding `@` (quoted `"a@b"@ours`, or `a@b@ours`) is refused: RFC 5321
///   §3.6.1 — we never route on the local part, so `%`-hacks and `!` paths are plain local
///   parts that match no account.
/// - Source routes (`@a,@b:user@c`) were already reduced to `user@c` by the parser, as
///   RFC 5321 §C allows; `user@c` then passes these same checks.
pub fn check_rcpt(
    dir: &dyn Directory,
    address: &str,
    may_relay: bool,
    size: u64,
) -> Result<bool, Reply> {
    let Some(at) = address.rfind('@') else {
        return Err(Reply::BAD_RECIPIENT_SYNTAX);
    };
    let local = address.get(..at).unwrap_or("");
    let domain = address.get(at + 1..).unwrap_or("");
    if local.is_empty() || domain.is_empty() || local.contains('@') {
        return Err(Reply::recipient_bad_syntax(address));
    }
    match dir.rcpt(address, size) {
        RcptLookup::Local => Ok(true),
        RcptLookup::Unknown => Err(Reply::unknown_user(address)),
        RcptLookup::OverQuota => Err(Reply::mailbox_full(address)),
        RcptLookup::TempFail => Err(Reply::lookup_failed(address)),
        RcptLookup::NotLocal if may_relay => Ok(false),
        RcptLookup::NotLocal => Err(Reply::relay_denied(address)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_matching() {
        let n: Cidr = "192.0.2.0/24".parse().unwrap();
        assert!(n.contains("192.0.2.77".parse().unwrap()));
        assert!(!n.contains("192.0.3.1".parse().unwrap()));
        assert!(n.contains("::ffff:192.0.2.1".parse().unwrap()));
        let one: Cidr = "::1".parse().unwrap();
        assert!(one.contains("::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
    }
}
