//! `mailward dns check`: an audit of a domain's mail records as others see them in DNS:
//! MX hosts and their addresses and reverse DNS, SPF (syntax and lookup limits), DMARC,
//! DKIM keys at the selectors asked or commonly used, MTA-STS and TLS-RPT records. Each
//! finding is pass, warn or fail with the reason and the fix ([`report`]).
//!
//! The MTA-STS policy file itself (HTTPS) is not fetched here: only its DNS record is read.

mod dkim;
mod dmarc;
mod mta_sts;
mod mx;
pub mod report;
mod spf;
pub(crate) mod tags;
mod tlsrpt;

pub use dkim::common_selectors;
pub use report::{Item, Report, Status, Summary, render_text};

use crate::dns::{DnsError, Resolver};

/// What to audit besides the domain itself.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// DKIM selectors to look up (empty: none).
    pub selectors: Vec<String>,
    /// The selectors are guesses ([`common_selectors`]): absent ones are skipped and none
    /// found is a warn, since the real selector may be another. Given ones must exist.
    pub selectors_guessed: bool,
}

/// Audit `domain` (a name without a trailing dot) through `resolver`.
pub async fn check(resolver: &Resolver, domain: &str, options: &Options) -> Report {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let mut items = Vec::new();
    items.extend(mx::check(resolver, &domain).await);
    items.extend(spf::check(resolver, &domain).await);
    items.extend(dmarc::check(resolver, &domain).await);
    items.extend(
        dkim::check(
            resolver,
            &domain,
            &options.selectors,
            options.selectors_guessed,
        )
        .await,
    );
    items.extend(mta_sts::check(resolver, &domain).await);
    items.extend(tlsrpt::check(resolver, &domain).await);
    Report::new(domain, items)
}

/// The TXT records at `name` that start with `prefix` (case-insensitive, e.g. `v=spf1`),
/// NXDOMAIN/NODATA being none; `Err` when the lookup failed.
pub(crate) async fn txt_with_prefix(
    resolver: &Resolver,
    name: &str,
    prefix: &str,
) -> Result<Vec<String>, DnsError> {
    match resolver.txt(name).await {
        Ok(records) => Ok(records
            .into_iter()
            .filter(|r| starts_with_tag(r, prefix))
            .collect()),
        Err(DnsError::NoSuchDomain(_) | DnsError::NoRecords(..)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// `record` starts with `prefix` followed by the end, a space or `;` (so `v=spf10` is not
/// `v=spf1`).
fn starts_with_tag(record: &str, prefix: &str) -> bool {
    let r = record.trim_start();
    match r.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(prefix) => r[prefix.len()..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == ';' || c == '\t'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefix_needs_a_boundary() {
        assert!(starts_with_tag("v=spf1 -all", "v=spf1"));
        assert!(starts_with_tag("v=DMARC1; p=none", "v=dmarc1"));
        assert!(starts_with_tag("v=spf1", "v=spf1"));
        assert!(!starts_with_tag("v=spf10 -all", "v=spf1"));
        assert!(!starts_with_tag("x", "v=spf1"));
    }
}
