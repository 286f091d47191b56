//! How outbound delivery behaves: the TLS policy per destination, fixed routes, a smarthost,
//! time-outs and limits. Filled from `[outbound]`, `[[route]]` and `[relay]` in the
//! configuration file.

use std::time::Duration;

/// How much TLS a destination must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsPolicy {
    /// Never STARTTLS (a peer known to break it).
    None,
    /// Opportunistic (RFC 7435): STARTTLS when offered, any certificate, plaintext when it
    /// is not offered or the handshake fails.
    #[default]
    May,
    /// TLS required, any certificate.
    Encrypt,
    /// TLS required with a certificate valid for the host's name (RFC 6125).
    Verify,
}

impl TlsPolicy {
    pub fn parse(s: &str) -> Option<TlsPolicy> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Some(TlsPolicy::None),
            "may" => Some(TlsPolicy::May),
            "encrypt" => Some(TlsPolicy::Encrypt),
            "verify" => Some(TlsPolicy::Verify),
            _ => None,
        }
    }
    pub fn required(self) -> bool {
        matches!(self, TlsPolicy::Encrypt | TlsPolicy::Verify)
    }
}

/// `[[route]]`: mail for `domain` goes to `host:port` instead of the domain's MX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Lower case; also matches subdomains when written `.example.test`.
    pub domain: String,
    pub host: String,
    pub port: u16,
    pub tls: Option<TlsPolicy>,
}

impl Route {
    /// `domain` itself, or (for a route written `.parent`) any name below `parent` and
    /// `parent` itself.
    pub fn matches(&self, domain: &str) -> bool {
        let d = domain.trim_end_matches('.').to_ascii_lowercase();
        match self.domain.strip_prefix('.') {
            Some(parent) => d.ends_with(&self.domain) || d == parent,
            None => d == self.domain,
        }
    }
}

/// `[relay] host`: everything goes through this server (a smarthost), with credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smarthost {
    pub host: String,
    pub port: u16,
    /// TLS from the first byte (RFC 8314, port 465) instead of STARTTLS.
    pub implicit_tls: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: TlsPolicy,
}

/// RFC 5321 §4.5.3.2 time-outs (the defaults are its minimums).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// §4.5.3.2.1: initial 220, 5 minutes.
    pub greeting: Duration,
    /// §4.5.3.2.2-3: MAIL and RCPT (and EHLO, STARTTLS, AUTH, RSET), 5 minutes.
    pub command: Duration,
    /// §4.5.3.2.4: the 354 after DATA, 2 minutes.
    pub data_init: Duration,
    /// §4.5.3.2.5: each write of the body, 3 minutes.
    pub data_block: Duration,
    /// §4.5.3.2.6: the reply after the final dot, 10 minutes.
    pub data_end: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(30),
            greeting: Duration::from_secs(300),
            command: Duration::from_secs(300),
            data_init: Duration::from_secs(120),
            data_block: Duration::from_secs(180),
            data_end: Duration::from_secs(600),
        }
    }
}

/// Everything outbound delivery needs to know.
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// The name in EHLO (the server's hostname).
    pub helo_name: String,
    /// Names that are this server: an MX list is cut there (RFC 5321 §5.1).
    pub ourselves: Vec<String>,
    pub routes: Vec<Route>,
    pub smarthost: Option<Smarthost>,
    /// The policy where no route says otherwise.
    pub tls: TlsPolicy,
    pub timeouts: Timeouts,
    /// The SMTP port of MX hosts (25; tests may move it).
    pub port: u16,
    /// Connections open at once to one destination domain.
    pub per_destination: usize,
    /// An idle connection is kept this long for the next message to the same host.
    pub idle_keep: Duration,
    /// Messages sent over one connection before it is closed.
    pub messages_per_connection: u32,
    /// More `Received:` fields than this and the message is looping (RFC 5321 §6.3).
    pub max_hops: usize,
    /// Honour MTA-STS policies (RFC 8461) of destination domains.
    pub mta_sts: bool,
    /// After no host of a destination could be reached, its other messages are deferred
    /// without a connection for this long (Postfix's dead destination): a black-holed
    /// domain costs one round of connect time-outs, not one per queued message.
    pub dead_time: Duration,
}

impl OutboundConfig {
    pub fn new(helo_name: impl Into<String>) -> OutboundConfig {
        let helo_name = helo_name.into();
        OutboundConfig {
            ourselves: vec![helo_name.to_ascii_lowercase()],
            helo_name,
            routes: Vec::new(),
            smarthost: None,
            tls: TlsPolicy::May,
            timeouts: Timeouts::default(),
            port: 25,
            per_destination: 20,
            idle_keep: Duration::from_secs(5),
            messages_per_connection: 100,
            max_hops: 50,
            mta_sts: true,
            dead_time: Duration::from_secs(60),
        }
    }

    /// The fixed route for `domain`, if any: the route for the domain itself, else the one
    /// for its longest matching parent (`.example.test`), whatever their order in the file.
    pub fn route_for(&self, domain: &str) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|r| r.matches(domain))
            .max_by_key(|r| (!r.domain.starts_with('.'), r.domain.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(domain: &str, host: &str) -> Route {
        Route {
            domain: domain.into(),
            host: host.into(),
            port: 25,
            tls: None,
        }
    }

    #[test]
    fn the_route_for_a_domain_itself_wins_over_a_parent_whatever_the_order() {
        let mut cfg = OutboundConfig::new("mx.test");
        cfg.routes = vec![
            route(".test", "catch-all"),
            route(".b.test", "b-parent"),
            route("hostile.test", "exact"),
        ];
        assert_eq!(
            cfg.route_for("hostile.test").map(|r| r.host.as_str()),
            Some("exact")
        );
        assert_eq!(
            cfg.route_for("x.b.test").map(|r| r.host.as_str()),
            Some("b-parent")
        );
        assert_eq!(
            cfg.route_for("other.test").map(|r| r.host.as_str()),
            Some("catch-all")
        );
        assert_eq!(cfg.route_for("example.org"), None);
    }
}
