//! DNS block lists (RFC 5782): the client's address in IP lists (`dnsbl`), the sender's
//! and the links' registrable domains in domain lists (`uribl`). All lookups run at once,
//! bounded in number and in time: a list that does not answer in time adds nothing.

use mailward_auth::Resolver;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use tokio::task::JoinSet;

/// What is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Ip(IpAddr),
    Domain(String),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Ip(ip) => write!(f, "{ip}"),
            Subject::Domain(d) => f.write_str(d),
        }
    }
}

/// One lookup: `subject` in `zone`, asked as `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub zone: String,
    pub subject: Subject,
    pub name: String,
}

impl Query {
    /// The query for an address (RFC 5782 §2.1 IPv4: the octets reversed; §2.4 IPv6: the
    /// 32 nibbles reversed, dot-separated).
    /// An IPv4-mapped IPv6 address (a dual-stack listener's view of an IPv4 client) is
    /// looked up as the IPv4 address it is.
    pub fn ip(ip: IpAddr, zone: &str) -> Query {
        let ip = ip.to_canonical();
        let zone = zone.trim_end_matches('.').to_ascii_lowercase();
        let reversed = match ip {
            IpAddr::V4(v4) => {
                let [a, b, c, d] = v4.octets();
                format!("{d}.{c}.{b}.{a}")
            }
            IpAddr::V6(v6) => {
                let mut nibbles: Vec<String> = Vec::with_capacity(32);
                for byte in v6.octets().iter().rev() {
                    nibbles.push(format!("{:x}", byte & 0x0f));
                    nibbles.push(format!("{:x}", byte >> 4));
                }
                nibbles.join(".")
            }
        };
        Query {
            name: format!("{reversed}.{zone}"),
            zone,
            subject: Subject::Ip(ip),
        }
    }

    /// The query for a domain (RFC 5782 §3: the name prepended to the zone); `None` when
    /// the name would be longer than DNS allows (RFC 1035 §2.3.4, 253 characters written)
    /// or is not a host name.
    pub fn domain(domain: &str, zone: &str) -> Option<Query> {
        let zone = zone.trim_end_matches('.').to_ascii_lowercase();
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let valid = !domain.is_empty()
            && domain.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        let name = format!("{domain}.{zone}");
        (valid && name.len() <= 253).then_some(Query {
            name,
            zone,
            subject: Subject::Domain(domain),
        })
    }
}

/// A subject a list holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub query: Query,
    /// The `127.0.0.x` answers (RFC 5782 §2.3: the code says why, per list).
    pub codes: Vec<Ipv4Addr>,
    /// The list's TXT reason, when it gives one.
    pub reason: Option<String>,
}

/// True when `answer` says "listed": RFC 5782 §2.3 answers are in 127.0.0.0/8; Spamhaus
/// answers 127.255.255.x for errors (a public resolver, over quota), which list nothing.
/// An answer outside 127/8 is a wildcard or a hijacking resolver, not a listing.
pub fn is_listing(answer: Ipv4Addr) -> bool {
    let [a, b, c, _] = answer.octets();
    a == 127 && !(b == 255 && c == 255)
}

/// True when the address may be in a public list at all: private, loopback, link-local
/// and unspecified addresses are never looked up.
pub fn listable(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            !(v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified())
        }
        IpAddr::V6(v6) => {
            let first = v6.segments().first().copied().unwrap_or(0);
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // RFC 4193 unique local
                || (first & 0xffc0) == 0xfe80) // RFC 4291 link-local
        }
    }
}

/// Asks every query at once; what has not answered after `timeout` is dropped.
/// The listings come back in the order of `queries`.
pub async fn lookup(resolver: &Resolver, queries: Vec<Query>, timeout: Duration) -> Vec<Listing> {
    let mut tasks = JoinSet::new();
    for (i, query) in queries.into_iter().enumerate() {
        let resolver = resolver.clone();
        tasks.spawn(async move { (i, ask(&resolver, query).await) });
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut found: Vec<(usize, Listing)> = Vec::new();
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline, tasks.join_next()).await {
        if let Ok((i, Some(listing))) = joined {
            found.push((i, listing));
        }
    }
    // Dropping the set aborts the lookups still under way.
    drop(tasks);
    found.sort_by_key(|(i, _)| *i);
    found.into_iter().map(|(_, l)| l).collect()
}

/// One lookup: the A records (RFC 5782 §2.1), then the TXT reason if listed (§2.2).
async fn ask(resolver: &Resolver, query: Query) -> Option<Listing> {
    let answers = resolver.addresses(&query.name).await.ok()?;
    let codes: Vec<Ipv4Addr> = answers
        .into_iter()
        .filter_map(|a| match a {
            IpAddr::V4(v4) if is_listing(v4) => Some(v4),
            _ => None,
        })
        .collect();
    if codes.is_empty() {
        return None;
    }
    let reason = resolver
        .txt(&query.name)
        .await
        .ok()
        .and_then(|t| t.into_iter().next())
        .map(|t| t.chars().take(200).collect());
    Some(Listing {
        query,
        codes,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_5782_query_names() {
        // RFC 5782 §2.1 and §2.4's own examples.
        let v4 = Query::ip("192.0.2.99".parse().unwrap(), "bad.example.com");
        assert_eq!(v4.name, "99.2.0.192.bad.example.com");
        let v6 = Query::ip(
            "2001:db8:1:2:3:4:567:89ab".parse().unwrap(),
            "ugly.example.com.",
        );
        assert_eq!(
            v6.name,
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com"
        );
        let d = Query::domain("Example.NET", "uribl.example").map(|q| q.name);
        assert_eq!(d.as_deref(), Some("example.net.uribl.example"));
    }

    #[test]
    fn regress_a_mapped_ipv4_client_asked_as_ipv6_nibbles() {
        let q = Query::ip("::ffff:192.0.2.99".parse().unwrap(), "bl.example");
        assert_eq!(q.name, "99.2.0.192.bl.example");
        assert_eq!(q.subject, Subject::Ip("192.0.2.99".parse().unwrap()));
        assert!(!listable("::ffff:10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bad_domains_are_not_asked() {
        assert!(Query::domain("", "z.example").is_none());
        assert!(Query::domain("a..b", "z.example").is_none());
        assert!(Query::domain("a b.example", "z.example").is_none());
        assert!(Query::domain(&"a.".repeat(130), "z.example").is_none());
    }

    #[test]
    fn listings_and_error_codes() {
        assert!(is_listing(Ipv4Addr::new(127, 0, 0, 2)));
        assert!(is_listing(Ipv4Addr::new(127, 0, 1, 4)));
        assert!(!is_listing(Ipv4Addr::new(127, 255, 255, 254)));
        assert!(!is_listing(Ipv4Addr::new(127, 255, 255, 252)));
        assert!(!is_listing(Ipv4Addr::new(198, 51, 100, 7)));
    }

    #[test]
    fn private_addresses_are_not_asked() {
        for ip in [
            "10.1.2.3",
            "127.0.0.1",
            "192.168.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(!listable(ip.parse().unwrap()), "{ip}");
        }
        assert!(listable(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))));
    }
}
