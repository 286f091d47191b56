//! Listener plumbing every mailward server needs (SMTP, POP3, IMAP): the TLS server
//! configuration ([`tls`]), the per-IP connection limiter ([`limits`]) and the one
//! authentication ledger all protocols share ([`auth_ledger`]), the life of a connection ([`connection`]: limits, session ID, events),
//! the one SASL decoder ([`sasl`]), plus the small address helpers the listeners share.

pub mod auth_ledger;
pub mod cidr;
pub mod connection;
pub mod deadline;
pub mod limits;
pub mod listen;
pub mod sasl;
pub mod tls;

use std::net::IpAddr;

pub use connection::session_id;
pub use tls::TlsInfo;

/// A loopback client (127.0.0.0/8, `::1`, or IPv4-mapped loopback): the exception of
/// DESIGN.md's "authentication only over TLS, except on loopback for development".
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_loopback_is_recognized() {
        assert!(is_loopback("127.0.0.5".parse().unwrap()));
        assert!(is_loopback("::1".parse().unwrap()));
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback("192.0.2.1".parse().unwrap()));
    }
}
