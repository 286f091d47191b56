//! Which `rua` addresses may receive a policy domain's reports (RFC 9990 §4, "Verifying
//! External Destinations"; RFC 7489 §7.1): an address outside the policy domain gets reports
//! only when `<policy-domain>._report._dmarc.<destination-domain>` publishes a TXT record
//! starting `v=DMARC1`, so nobody can point a flood of reports at a third party. The lookup
//! is mail-auth's `verify_dmarc_report_address`; only `mailto:` URIs reach us (mail-auth's
//! record parser keeps no others) and a `!size` limit comes with each (RFC 9989 §4.7).

use crate::verify::Lookups;
use crate::verify::RuaUri;

/// What the check found for one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationVerdict {
    /// The policy domain or one of its subdomains: no check needed.
    Internal,
    /// Outside, and the destination domain agreed in DNS.
    Authorized,
    /// Outside, and no `v=DMARC1` record at the verification name: not sent.
    Refused,
    /// The lookup failed for now: not sent this time.
    TempError,
}

impl DestinationVerdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            DestinationVerdict::Internal => "internal",
            DestinationVerdict::Authorized => "authorized",
            DestinationVerdict::Refused => "refused",
            DestinationVerdict::TempError => "temperror",
        }
    }

    /// Whether reports go to this address.
    pub fn allows(&self) -> bool {
        matches!(
            self,
            DestinationVerdict::Internal | DestinationVerdict::Authorized
        )
    }
}

/// One `rua` address with its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub address: String,
    /// `!size` in bytes; 0 for no limit.
    pub max_size: u64,
    pub verdict: DestinationVerdict,
    /// The DNS name that was checked, for external addresses.
    pub checked_name: Option<String>,
}

impl Destination {
    /// RFC 9989 §4.7: a report larger than the `!size` limit is not sent to this address.
    pub fn accepts(&self, size: u64) -> bool {
        self.max_size == 0 || size <= self.max_size
    }
}

/// Checks each of `rua` for reports about `policy_domain`.
pub async fn verify_destinations(
    lookups: &Lookups<'_>,
    policy_domain: &str,
    rua: &[RuaUri],
) -> Vec<Destination> {
    let policy_domain = policy_domain.trim_end_matches('.').to_ascii_lowercase();
    let mut out = Vec::with_capacity(rua.len());
    for uri in rua {
        let address = uri.address.clone();
        let domain = address
            .rsplit_once('@')
            .map(|(_, d)| d.trim_end_matches('.').to_ascii_lowercase())
            .unwrap_or_default();
        let internal = domain == policy_domain
            || domain
                .strip_suffix(policy_domain.as_str())
                .is_some_and(|prefix| prefix.ends_with('.'));
        let (verdict, checked_name) = if internal {
            (DestinationVerdict::Internal, None)
        } else {
            let name = format!("{policy_domain}._report._dmarc.{domain}");
            let one = [address.as_str()];
            let answer = lookups
                .authenticator()
                .verify_dmarc_report_address(&policy_domain, &one, Some(lookups.txt_cache()))
                .await;
            let verdict = match answer {
                None => DestinationVerdict::TempError,
                Some(allowed) if allowed.is_empty() => DestinationVerdict::Refused,
                Some(_) => DestinationVerdict::Authorized,
            };
            (verdict, Some(name))
        };
        out.push(Destination {
            address,
            max_size: uri.max_size,
            verdict,
            checked_name,
        });
    }
    out
}
