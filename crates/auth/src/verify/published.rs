//! The DMARC record that applied to a message, as the report's `policy_published` shows it
//! (RFC 9990 §3.1.1.4), with the `rua` destinations (RFC 9989 §4.7) the report goes to.

use mail_auth::dmarc::{Alignment, Dmarc, Policy};
use serde::{Deserialize, Serialize};

/// A `p=`, `sp=` or `np=` value (RFC 9989 §4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyRequest {
    None,
    Quarantine,
    Reject,
}

impl PolicyRequest {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyRequest::None => "none",
            PolicyRequest::Quarantine => "quarantine",
            PolicyRequest::Reject => "reject",
        }
    }

    /// RFC 9989 §4.10.1: a record without a valid `p=` is `p=none` when it applies at all.
    fn from_policy(policy: Policy) -> PolicyRequest {
        match policy {
            Policy::None | Policy::Unspecified => PolicyRequest::None,
            Policy::Quarantine => PolicyRequest::Quarantine,
            Policy::Reject => PolicyRequest::Reject,
        }
    }
}

/// One `rua` destination: a `mailto:` address (mail-auth keeps only those, RFC 9989 §4.7)
/// and its `!size` limit in bytes, 0 when none.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RuaUri {
    pub address: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_size: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The record's tags a report carries (RFC 9990 §3.1.1.4) and where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PublishedPolicy {
    /// The domain where the record was found (the policy domain).
    pub domain: String,
    pub p: PolicyRequest,
    pub sp: PolicyRequest,
    pub np: PolicyRequest,
    /// `adkim=s` / `aspf=s`: strict alignment.
    pub strict_dkim: bool,
    pub strict_spf: bool,
    /// `t=y` (RFC 9989 §4.7): test mode.
    #[serde(default)]
    pub testing: bool,
    #[serde(default)]
    pub rua: Vec<RuaUri>,
}

impl PublishedPolicy {
    /// The policy of `record`, found at `domain`.
    pub fn from_record(domain: impl Into<String>, record: &Dmarc) -> PublishedPolicy {
        PublishedPolicy {
            domain: domain.into().to_ascii_lowercase(),
            p: PolicyRequest::from_policy(record.p),
            sp: PolicyRequest::from_policy(record.sp),
            np: PolicyRequest::from_policy(record.np),
            strict_dkim: record.adkim == Alignment::Strict,
            strict_spf: record.aspf == Alignment::Strict,
            testing: record.t,
            rua: record
                .rua
                .iter()
                .map(|u| RuaUri {
                    address: u.uri().to_string(),
                    max_size: u64::try_from(u.max_size()).unwrap_or(u64::MAX),
                })
                .collect(),
        }
    }
}
