//! What `dmarc read` adds about each source IP of the aggregate reports: its reverse DNS
//! name (PTR through the shared resolver, a few at a time, each with a time limit) and its
//! country and AS from the same offline MaxMind databases `trace` reads (`--geoip`,
//! `--asn`, through `mailward_trace::geo::GeoDb`).

use mailward_auth::Resolver;
use mailward_auth::report::{ReadReport, ReverseLimits, ReverseName, reverse_names};
use mailward_trace::geo::GeoDb;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// What is known about one source IP.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceInfo {
    /// The first PTR name; absent when none, not looked up or not answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverse_dns: Option<String>,
    /// Why there is no name when the look-up failed or timed out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverse_dns_error: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_org: Option<String>,
}

impl SourceInfo {
    /// One line for the text report: `ptr NAME, GB, AS1221 Org`; empty when nothing is known.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(name) = &self.reverse_dns {
            parts.push(format!("ptr {name}"));
        } else if let Some(e) = &self.reverse_dns_error {
            parts.push(format!("ptr ? ({e})"));
        }
        if let Some(country) = &self.country {
            parts.push(country.clone());
        }
        match (self.asn, &self.as_org) {
            (Some(n), Some(org)) => parts.push(format!("AS{n} {org}")),
            (Some(n), None) => parts.push(format!("AS{n}")),
            (None, Some(org)) => parts.push(org.clone()),
            (None, None) => {}
        }
        parts.join(", ")
    }
}

/// How sources are looked up.
pub struct Enrich {
    /// None: `--no-dns`.
    pub dns_servers: Option<Vec<SocketAddr>>,
    pub geo: Option<GeoDb>,
}

/// The source IPs of every aggregate report read (those that parse as addresses).
fn source_ips(reports: &[&ReadReport]) -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = reports
        .iter()
        .filter_map(|r| match r {
            ReadReport::Aggregate(a) => Some(a.records.iter()),
            ReadReport::Tls(_) => None,
        })
        .flatten()
        .filter_map(|record| record.source_ip.trim().parse().ok())
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

/// Looks up every source IP of `reports`.
pub fn look_up(
    reports: &[&ReadReport],
    enrich: &Enrich,
) -> anyhow::Result<BTreeMap<IpAddr, SourceInfo>> {
    let ips = source_ips(reports);
    let mut out: BTreeMap<IpAddr, SourceInfo> = BTreeMap::new();
    if let Some(geo) = &enrich.geo {
        for ip in &ips {
            if let Some(found) = geo.lookup(*ip) {
                let info = out.entry(*ip).or_default();
                info.country = found.country;
                info.asn = found.asn;
                info.as_org = found.as_org;
            }
        }
    }
    if let Some(servers) = &enrich.dns_servers
        && !ips.is_empty()
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let names = runtime.block_on(async {
            let resolver = Resolver::from_config(servers)?;
            anyhow::Ok(
                reverse_names(&resolver, ips.iter().copied(), ReverseLimits::default()).await,
            )
        })?;
        for (ip, name) in names {
            let info = out.entry(ip).or_default();
            match name {
                ReverseName::Names(_) => info.reverse_dns = name.first().map(str::to_string),
                ReverseName::Failed(e) => info.reverse_dns_error = Some(e),
                ReverseName::NoName | ReverseName::Skipped => {}
            }
        }
    }
    Ok(out)
}

/// The info for a record's `source_ip` text.
pub fn info_of<'a>(
    sources: &'a BTreeMap<IpAddr, SourceInfo>,
    source_ip: &str,
) -> Option<&'a SourceInfo> {
    let ip: IpAddr = source_ip.trim().parse().ok()?;
    sources.get(&ip)
}
