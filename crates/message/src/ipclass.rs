//! Classification of IP addresses for trust decisions and reports.

use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of network an IP address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IpClass {
    /// Globally routable.
    Public,
    /// RFC 1918 (IPv4) or RFC 4193 unique-local (IPv6).
    Private,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 169.254.0.0/16, fe80::/10 (RFC 3927, RFC 4291 §2.5.6).
    LinkLocal,
    /// 100.64.0.0/10 carrier-grade NAT (RFC 6598).
    Cgnat,
    /// Documentation ranges (RFC 5737, RFC 3849).
    Documentation,
    /// Everything else not routable: unspecified, multicast, broadcast, 240/4, benchmarking,
    /// 0/8, 192.0.0.0/24 (RFC 6890).
    Reserved,
}

impl IpClass {
    /// Classifies an address. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is classified as its IPv4.
    pub fn of(ip: IpAddr) -> IpClass {
        match ip {
            IpAddr::V4(v4) => classify_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => classify_v4(v4),
                None => classify_v6(v6),
            },
        }
    }

    /// True for [`IpClass::Public`].
    pub fn is_public(self) -> bool {
        self == IpClass::Public
    }

    /// The name used in reports (`public`, `private`, `loopback`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            IpClass::Public => "public",
            IpClass::Private => "private",
            IpClass::Loopback => "loopback",
            IpClass::LinkLocal => "link-local",
            IpClass::Cgnat => "cgnat",
            IpClass::Documentation => "documentation",
            IpClass::Reserved => "reserved",
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> IpClass {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        IpClass::Loopback
    } else if ip.is_private() {
        IpClass::Private
    } else if ip.is_link_local() {
        IpClass::LinkLocal
    } else if a == 100 && (64..128).contains(&b) {
        IpClass::Cgnat
    } else if ip.is_documentation() {
        IpClass::Documentation
    } else if a == 0
        || a >= 224
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
    {
        IpClass::Reserved
    } else {
        IpClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> IpClass {
    let seg = ip.segments();
    if ip.is_loopback() {
        IpClass::Loopback
    } else if ip.is_unspecified() || ip.is_multicast() {
        IpClass::Reserved
    } else if seg[0] & 0xffc0 == 0xfe80 {
        IpClass::LinkLocal
    } else if seg[0] & 0xfe00 == 0xfc00 {
        IpClass::Private
    } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        IpClass::Documentation
    } else if seg[0] & 0xe000 == 0x2000 {
        IpClass::Public
    } else {
        IpClass::Reserved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> IpClass {
        IpClass::of(s.parse().expect("test address"))
    }

    #[test]
    fn classifies_the_ranges_reports_name() {
        assert_eq!(class("8.8.8.8"), IpClass::Public);
        assert_eq!(class("10.1.2.3"), IpClass::Private);
        assert_eq!(class("172.16.0.1"), IpClass::Private);
        assert_eq!(class("192.168.1.1"), IpClass::Private);
        assert_eq!(class("127.0.0.1"), IpClass::Loopback);
        assert_eq!(class("169.254.1.1"), IpClass::LinkLocal);
        assert_eq!(class("100.64.0.1"), IpClass::Cgnat);
        assert_eq!(class("100.128.0.1"), IpClass::Public);
        assert_eq!(class("192.0.2.10"), IpClass::Documentation);
        assert_eq!(class("203.0.113.5"), IpClass::Documentation);
        assert_eq!(class("240.0.0.1"), IpClass::Reserved);
        assert_eq!(class("::1"), IpClass::Loopback);
        assert_eq!(class("fe80::1"), IpClass::LinkLocal);
        assert_eq!(class("fd00::1"), IpClass::Private);
        assert_eq!(class("2001:db8::1"), IpClass::Documentation);
        assert_eq!(class("2a00:1450:4864:20::52f"), IpClass::Public);
        assert_eq!(class("::ffff:10.0.0.1"), IpClass::Private);
    }
}
