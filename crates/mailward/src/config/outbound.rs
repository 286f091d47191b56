//! `[dns]`, `[outbound]`, `[[route]]` and the smarthost keys of `[relay]`: how mail leaves.

use super::{de_duration, parse_duration};
use anyhow::bail;
use serde::{Deserialize, Deserializer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `[dns]`: the resolver every part shares.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSection {
    /// `"IP:PORT"` (or `"IP"`, port 53), or a list: these servers instead of the system's.
    #[serde(default, deserialize_with = "de_resolvers")]
    pub resolver: Vec<SocketAddr>,
}

/// A name server: `"IP:PORT"`, or `"IP"` for port 53.
pub fn parse_resolver(s: &str) -> Option<SocketAddr> {
    let s = s.trim();
    s.parse::<SocketAddr>().ok().or_else(|| {
        s.parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

fn de_resolvers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SocketAddr>, D::Error> {
    super::one_or_many(d)?
        .iter()
        .map(|s| {
            parse_resolver(s).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "invalid resolver {s:?} (expected \"ip\" or \"ip:port\")"
                ))
            })
        })
        .collect()
}

/// `[outbound]`: the SMTP client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundSection {
    /// `none`, `may` (default: STARTTLS when offered), `encrypt`, `verify`.
    #[serde(default = "d_tls", deserialize_with = "de_tls")]
    pub tls: mailward_mta::outbound::TlsPolicy,
    /// Extra trusted CA certificates (PEM) for `verify`, besides the system's.
    pub ca_file: Option<PathBuf>,
    /// The port of MX hosts (25).
    #[serde(default = "d_port")]
    pub port: u16,
    #[serde(default = "d_connect", deserialize_with = "de_duration")]
    pub connect_timeout: Duration,
    /// Greeting, EHLO, MAIL, RCPT (RFC 5321 §4.5.3.2: at least 5 minutes).
    #[serde(default = "d_command", deserialize_with = "de_duration")]
    pub command_timeout: Duration,
    /// The reply after the end of data (§4.5.3.2.6: 10 minutes).
    #[serde(default = "d_data", deserialize_with = "de_duration")]
    pub data_timeout: Duration,
    /// Connections at once to one destination domain.
    #[serde(default = "d_per_destination")]
    pub per_destination: usize,
    /// How long an idle connection waits for the next message to the same host.
    #[serde(default = "d_idle", deserialize_with = "de_duration")]
    pub idle_keep: Duration,
    /// Honour destination domains' MTA-STS policies (RFC 8461).
    #[serde(default = "d_true")]
    pub mta_sts: bool,
}

fn d_true() -> bool {
    true
}

impl Default for OutboundSection {
    fn default() -> Self {
        OutboundSection {
            tls: d_tls(),
            ca_file: None,
            port: d_port(),
            connect_timeout: d_connect(),
            command_timeout: d_command(),
            data_timeout: d_data(),
            per_destination: d_per_destination(),
            idle_keep: d_idle(),
            mta_sts: true,
        }
    }
}

fn d_tls() -> mailward_mta::outbound::TlsPolicy {
    mailward_mta::outbound::TlsPolicy::May
}
fn d_port() -> u16 {
    25
}
fn d_connect() -> Duration {
    Duration::from_secs(30)
}
fn d_command() -> Duration {
    Duration::from_secs(300)
}
fn d_data() -> Duration {
    Duration::from_secs(600)
}
fn d_per_destination() -> usize {
    20
}
fn d_idle() -> Duration {
    Duration::from_secs(5)
}

fn de_tls<'de, D: Deserializer<'de>>(d: D) -> Result<mailward_mta::outbound::TlsPolicy, D::Error> {
    let s = String::deserialize(d)?;
    mailward_mta::outbound::TlsPolicy::parse(&s).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "invalid TLS policy {s:?}: expected none, may, encrypt or verify"
        ))
    })
}

pub(super) fn de_tls_opt<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<mailward_mta::outbound::TlsPolicy>, D::Error> {
    de_tls(d).map(Some)
}

/// `[[route]]`: mail for a domain goes to a fixed host.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    /// `b.test`, or `.b.test` for it and its subdomains.
    pub domain: String,
    /// `host` or `host:port` (port 25 when absent).
    pub host: String,
    #[serde(default, deserialize_with = "de_tls_opt")]
    pub tls: Option<mailward_mta::outbound::TlsPolicy>,
}

/// `host`, `host:port`, `[v6]:port`.
pub fn split_host_port(s: &str, default_port: u16) -> anyhow::Result<(String, u16)> {
    let s = s.trim();
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok((sa.ip().to_string(), sa.port()));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => {
            let port: u16 = p
                .parse()
                .map_err(|_| anyhow::anyhow!("invalid port in {s:?}"))?;
            Ok((h.to_string(), port))
        }
        _ if s.is_empty() => bail!("empty host"),
        _ => Ok((
            s.trim_matches(|c| c == '[' || c == ']').to_string(),
            default_port,
        )),
    }
}

/// `"4h"` and the like, for `[queue] delay_warning`.
pub fn d_delay_warning() -> Duration {
    parse_duration("4h").unwrap_or(Duration::from_secs(4 * 3600))
}
