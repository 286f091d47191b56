//! Relay policy (RFC 5321 §3.9, RFC 5321 §7.1; never an open relay) and the lookups the
//! session needs from the directory.

use crate::reply::Reply;
use std::net::IpAddr;
use std::str::FromStr;

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

/// An IP network (`192.0.2.0/24`, `2001:db8::/32`, or a single address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IP network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: prefix length must be 0..={max}"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.prefix))
                };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(self.prefix))
                };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Is `ip` in any of `nets`?
pub fn in_networks(nets: &[Cidr], ip: IpAddr) -> bool {
    nets.iter().any(|n| n.contains(ip))
}

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
