//! The server's one DNS resolver: hickory (through `mail-auth`'s authenticator, so the
//! SPF/DKIM/DMARC checks share its cache), pointed at the system's name servers or at the
//! ones `[dns] resolver` lists. Answers keep the distinction mail routing needs: a name that
//! does not exist (NXDOMAIN), a name without records of the type asked (NODATA), and a
//! lookup that failed (a temporary error: try later).

mod answer;

pub use answer::{MxAnswer, MxRecord, TlsaRecord};

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::{DnsError as HickoryDnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use mail_auth::MessageAuthenticator;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Why a lookup gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// NXDOMAIN: the name does not exist (RFC 8020: nor anything below it).
    #[error("{0}: no such domain (NXDOMAIN)")]
    NoSuchDomain(String),
    /// The name exists without records of the type asked (NODATA).
    #[error("{0}: no {1} records")]
    NoRecords(String, &'static str),
    /// SERVFAIL, a time-out, a refused query, a name that is not a DNS name: nothing is
    /// known, so mail waits and tries again.
    #[error("DNS lookup of {0} failed: {1}")]
    Temporary(String, String),
}

impl DnsError {
    /// True when trying again later may give an answer.
    pub fn is_temporary(&self) -> bool {
        matches!(self, DnsError::Temporary(..))
    }
}

/// The shared resolver (cheap to clone).
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<MessageAuthenticator>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resolver")
    }
}

impl Resolver {
    /// The system's name servers (`/etc/resolv.conf`).
    pub fn system() -> Result<Resolver, DnsError> {
        let auth = MessageAuthenticator::new_system_conf()
            .map_err(|e| DnsError::Temporary("/etc/resolv.conf".into(), e.to_string()))?;
        Ok(Resolver {
            inner: Arc::new(auth),
        })
    }

    /// These name servers only (`[dns] resolver`), over UDP with TCP for truncated answers,
    /// each on its own port (a test's dnsmasq listens on a high one).
    pub fn with_servers(servers: &[SocketAddr]) -> Result<Resolver, DnsError> {
        let mut config = ResolverConfig::from_name_servers(Vec::new());
        for s in servers {
            let mut udp = ConnectionConfig::udp();
            udp.port = s.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = s.port();
            config.add_name_server(NameServerConfig::new(s.ip(), true, vec![udp, tcp]));
        }
        let mut opts = ResolverOpts::default();
        opts.timeout = Duration::from_secs(5);
        opts.attempts = 2;
        // The names asked are mail domains: never complete them with a search list.
        opts.ndots = 0;
        let auth = MessageAuthenticator::new(config, opts).map_err(|e| {
            DnsError::Temporary(format!("{servers:?}"), format!("resolver setup: {e}"))
        })?;
        Ok(Resolver {
            inner: Arc::new(auth),
        })
    }

    /// `[dns] resolver` when given, the system's otherwise.
    pub fn from_config(servers: &[SocketAddr]) -> Result<Resolver, DnsError> {
        if servers.is_empty() {
            Resolver::system()
        } else {
            Resolver::with_servers(servers)
        }
    }

    /// The authenticator (SPF, DKIM, DMARC, ARC) over the same resolver and cache.
    pub fn authenticator(&self) -> &MessageAuthenticator {
        &self.inner
    }

    /// A domain's MX records (RFC 5321 §5.1): NODATA and NXDOMAIN are answers here, not
    /// errors, since routing decides what each means.
    pub async fn mx(&self, domain: &str) -> Result<MxAnswer, DnsError> {
        let name = fqdn(domain);
        match self.inner.resolver().mx_lookup(name.as_str()).await {
            Ok(lookup) => {
                let records: Vec<MxRecord> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::MX(mx) => Some(MxRecord {
                            preference: mx.preference,
                            exchange: mx.exchange.to_ascii(),
                        }),
                        _ => None,
                    })
                    .collect();
                if records.is_empty() {
                    Ok(MxAnswer::NoRecords)
                } else {
                    Ok(MxAnswer::Records(records))
                }
            }
            Err(e) => match classify(domain, "MX", e) {
                DnsError::NoSuchDomain(_) => Ok(MxAnswer::NoSuchDomain),
                DnsError::NoRecords(..) => Ok(MxAnswer::NoRecords),
                other => Err(other),
            },
        }
    }

    /// A host's addresses, IPv6 first when it has both (RFC 5321 §5.1 leaves the order
    /// to the client; RFC 6724 prefers IPv6). An address literal is returned as is.
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let name = fqdn(host);
        let resolver = self.inner.resolver();
        let (v6, v4) = tokio::join!(
            resolver.ipv6_lookup(name.as_str()),
            resolver.ipv4_lookup(name.as_str())
        );
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for result in [v6, v4] {
            match result {
                Ok(lookup) => out.extend(lookup.answers().iter().filter_map(|r| match &r.data {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                    _ => None,
                })),
                Err(e) => errors.push(classify(host, "A/AAAA", e)),
            }
        }
        if !out.is_empty() {
            return Ok(out);
        }
        // Both failed or were empty: a temporary failure wins over "not there".
        if let Some(t) = errors.iter().find(|e| e.is_temporary()) {
            return Err(t.clone());
        }
        if errors
            .iter()
            .any(|e| matches!(e, DnsError::NoSuchDomain(_)))
        {
            return Err(DnsError::NoSuchDomain(host.to_string()));
        }
        Err(DnsError::NoRecords(host.to_string(), "A/AAAA"))
    }

    /// The TXT strings at `name`, each record's strings joined (RFC 7208 §3.3).
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        match self.inner.resolver().txt_lookup(fqdn(name).as_str()).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::TXT(t) => Some(
                        t.txt_data
                            .iter()
                            .map(|s| String::from_utf8_lossy(s).into_owned())
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect()),
            Err(e) => Err(classify(name, "TXT", e)),
        }
    }

    /// The host names an address maps back to (PTR at `in-addr.arpa`/`ip6.arpa`, RFC 1035
    /// §3.5, RFC 3596 §2.5), without the trailing dot.
    pub async fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, DnsError> {
        match self.inner.resolver().reverse_lookup(ip).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::PTR(p) => Some(p.0.to_ascii().trim_end_matches('.').to_string()),
                    _ => None,
                })
                .collect()),
            Err(e) => Err(classify(&ip.to_string(), "PTR", e)),
        }
    }

    /// The TLSA records at `name` (`_25._tcp.mx.example.`, RFC 7672 §2.2), as DNS gave
    /// them. This resolver does not validate DNSSEC, so the answer is not authenticated:
    /// DANE needs a validating resolver before these may be used to refuse a certificate.
    pub async fn tlsa(&self, name: &str) -> Result<Vec<TlsaRecord>, DnsError> {
        match self
            .inner
            .resolver()
            .lookup(fqdn(name).as_str(), RecordType::TLSA)
            .await
        {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::TLSA(t) => Some(TlsaRecord {
                        usage: t.cert_usage.into(),
                        selector: t.selector.into(),
                        matching: t.matching.into(),
                        data: t.cert_data.clone(),
                    }),
                    _ => None,
                })
                .collect()),
            Err(e) => Err(classify(name, "TLSA", e)),
        }
    }
}

/// A name made absolute, so no search domain is ever appended.
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

fn classify(name: &str, kind: &'static str, e: NetError) -> DnsError {
    match &e {
        NetError::Dns(HickoryDnsError::NoRecordsFound(nr)) => {
            if nr.response_code == ResponseCode::NXDomain {
                DnsError::NoSuchDomain(name.to_string())
            } else {
                DnsError::NoRecords(name.to_string(), kind)
            }
        }
        _ => DnsError::Temporary(name.to_string(), e.to_string()),
    }
}
