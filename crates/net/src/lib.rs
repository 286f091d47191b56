//! Listener plumbing every mailward server needs (SMTP, POP3, IMAP): the TLS server
//! configuration ([`tls`]) and the per-IP connection and authentication-failure limiter
//! ([`limits`]), the life of a connection ([`connection`]: limits, session ID, events),
//! the one SASL decoder ([`sasl`]), plus the small address helpers the listeners share.

pub mod connection;
pub mod limits;
pub mod listen;
pub mod sasl;
pub mod tls;

use std::net::IpAddr;

pub use connection::session_id;
pub use tls::TlsInfo;

/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack listener reports for
/// IPv4 clients) as the IPv4 address it is, so per-IP limits and logs see one address.
pub fn normalize_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// A loopback client (127.0.0.0/8, `::1`, or IPv4-mapped loopback): the exception of
/// DESIGN.md's "authentication only over TLS, except on loopback for development".
pub fn is_loopback(ip: IpAddr) -> bool {
    normalize_ip(ip).is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv4_is_normalized_and_loopback_is_recognized() {
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(normalize_ip(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
        assert!(is_loopback("127.0.0.5".parse().unwrap()));
        assert!(is_loopback("::1".parse().unwrap()));
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback("192.0.2.1".parse().unwrap()));
    }
}
