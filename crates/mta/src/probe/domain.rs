//! What DNS says about a mail domain, for a probe given one: its MX records and the host to
//! probe (the best MX, RFC 5321 §5.1, or the domain itself when it has none; nothing for a
//! null MX, RFC 7505), whether it announces MTA-STS (RFC 8461 §3.1), and the TLSA records
//! of the probed host for DANE (RFC 7672 §2.2). Each lookup has the probe's time-out.

use super::dane::{self, NOT_VALIDATED};
use super::mta_sts;
use super::report::{DaneReport, DomainReport, MtaStsReport, MxView};
use crate::outbound::route::{self, MxAnswer};
use mailward_auth::{DnsError, Resolver};
use rustls::pki_types::CertificateDer;
use std::future::Future;
use std::time::Duration;

/// MX and MTA-STS for `domain`; `chosen` names the MX to probe.
pub async fn lookup(resolver: &Resolver, domain: &str, timeout: Duration) -> DomainReport {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let mut report = DomainReport {
        domain: domain.clone(),
        ..DomainReport::default()
    };
    let name = format!("_mta-sts.{domain}");
    let (mx, txt) = tokio::join!(
        bounded(timeout, &domain, resolver.mx(&domain)),
        bounded(timeout, &name, resolver.txt(&name))
    );
    match mx {
        Ok(answer) => {
            if let MxAnswer::Records(records) = &answer {
                let mut sorted = records.clone();
                sorted.sort_by_key(|r| r.preference);
                report.mx = sorted
                    .into_iter()
                    .map(|r| MxView {
                        preference: r.preference,
                        exchange: r.exchange.trim_end_matches('.').to_string(),
                    })
                    .collect();
            }
            // No shuffle: the probe takes the first of the best preference, every time.
            match route::plan(&domain, &answer, &[], |_| {}) {
                Ok(hops) => {
                    report.implicit_mx = hops.first().is_some_and(|h| h.implicit);
                    report.chosen = hops.first().map(|h| h.host.clone());
                }
                Err(no_route) => report.mx_error = Some(no_route.to_string()),
            }
        }
        Err(e) => report.mx_error = Some(e.to_string()),
    }
    report.mta_sts = match txt {
        Ok(txt) => MtaStsReport {
            record: mta_sts::evaluate(&txt),
            txt,
            ..sts_base(&name, &domain)
        },
        Err(DnsError::NoRecords(..) | DnsError::NoSuchDomain(_)) => sts_base(&name, &domain),
        Err(e) => MtaStsReport {
            lookup_error: Some(e.to_string()),
            ..sts_base(&name, &domain)
        },
    };
    report
}

fn sts_base(name: &str, domain: &str) -> MtaStsReport {
    MtaStsReport {
        name: name.to_string(),
        policy_url: mta_sts::policy_url(domain),
        ..MtaStsReport::default()
    }
}

/// The TLSA records at `_PORT._tcp.HOST`, matched against `chain`.
pub async fn dane(
    resolver: &Resolver,
    host: &str,
    port: u16,
    chain: &[CertificateDer<'_>],
    timeout: Duration,
) -> DaneReport {
    let name = format!("_{port}._tcp.{}", host.trim_end_matches('.'));
    let (records, lookup) = match bounded(timeout, &name, resolver.tlsa(&name)).await {
        Ok(r) if r.is_empty() => (Vec::new(), Some("no TLSA records".to_string())),
        Ok(r) => (dane::check(&r, chain), None),
        Err(DnsError::NoRecords(..) | DnsError::NoSuchDomain(_)) => {
            (Vec::new(), Some("no TLSA records".to_string()))
        }
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    DaneReport {
        name,
        records,
        lookup,
        dnssec: NOT_VALIDATED.to_string(),
    }
}

/// A lookup under the probe's time-out.
async fn bounded<T>(
    timeout: Duration,
    name: &str,
    lookup: impl Future<Output = Result<T, DnsError>>,
) -> Result<T, DnsError> {
    tokio::time::timeout(timeout, lookup)
        .await
        .unwrap_or_else(|_| Err(DnsError::Temporary(name.to_string(), "timed out".into())))
}
