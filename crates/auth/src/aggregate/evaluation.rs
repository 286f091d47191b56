//! One DMARC evaluation of one inbound message, as the aggregate report counts it
//! (RFC 9990 §3.1.1.5-3.1.1.8: the row, its identifiers and auth results).

use crate::verify::PublishedPolicy;
use crate::verify::{DkimCheck, DmarcCheck, SpfCheck, SpfIdentity};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What we did with the message (RFC 9990 §3.1.1.6, `DispositionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Disposition {
    None,
    Quarantine,
    Reject,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::None => "none",
            Disposition::Quarantine => "quarantine",
            Disposition::Reject => "reject",
        }
    }
}

/// Why the disposition differs from what the policy asked for (RFC 9990 §3.1.1.6,
/// `PolicyOverrideType`; `forwarded` and `sampled_out` are RFC 7489's, reported as
/// `other` with that word in the comment since RFC 9990 dropped them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideReason {
    Forwarded,
    SampledOut,
    TrustedForwarder,
    MailingList,
    LocalPolicy,
    Other,
}

impl OverrideReason {
    pub fn as_str(self) -> &'static str {
        match self {
            OverrideReason::Forwarded => "forwarded",
            OverrideReason::SampledOut => "sampled_out",
            OverrideReason::TrustedForwarder => "trusted_forwarder",
            OverrideReason::MailingList => "mailing_list",
            OverrideReason::LocalPolicy => "local_policy",
            OverrideReason::Other => "other",
        }
    }
}

/// One DKIM signature's result (RFC 9990 §3.1.1.8, `DKIMAuthResultType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DkimAuth {
    pub domain: String,
    pub selector: String,
    /// The RFC 8601 result keyword (`pass`, `fail`, `temperror`, ...).
    pub result: String,
}

/// The SPF result (RFC 9990 §3.1.1.8, `SPFAuthResultType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SpfAuth {
    pub domain: String,
    /// `mfrom` or `helo`.
    pub scope: String,
    pub result: String,
}

/// Everything that tells one report row from another (RFC 9990 §3.1.1.5): evaluations
/// with equal rows are counted together.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Row {
    pub source_ip: IpAddr,
    pub disposition: Disposition,
    /// The DMARC-aligned DKIM and SPF results (`policy_evaluated`: pass or fail).
    pub dkim_aligned: bool,
    pub spf_aligned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overridden: Option<(OverrideReason, String)>,
    /// RFC 5322.From domain.
    pub header_from: String,
    /// RFC 5321.MailFrom domain (the HELO domain for a null reverse-path).
    pub envelope_from: String,
    /// RFC 5321.RcptTo domain.
    pub envelope_to: String,
    #[serde(default)]
    pub dkim: Vec<DkimAuth>,
    pub spf: SpfAuth,
}

/// One recorded evaluation: when, under which published policy, and its row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Seconds since the Unix epoch (UTC).
    pub at: i64,
    pub policy: PublishedPolicy,
    pub row: Row,
}

impl Evaluation {
    /// None when no DMARC record applied (nothing to report).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        at_unix: i64,
        source_ip: IpAddr,
        envelope_from: &str,
        envelope_to_domain: &str,
        spf: &SpfCheck,
        dkim: &[DkimCheck],
        dmarc: &DmarcCheck,
        disposition: Disposition,
        overridden: Option<(OverrideReason, String)>,
    ) -> Option<Evaluation> {
        let policy = dmarc.published.clone()?;
        let envelope_from = match envelope_from.rsplit_once('@') {
            Some((_, domain)) => domain.trim_end_matches('>').to_ascii_lowercase(),
            // RFC 9990 §3.1.1.7: the MAIL FROM domain; a null reverse-path is checked by
            // SPF as the HELO identity (RFC 7208 §2.4), whose domain SpfCheck holds.
            None => spf.domain.to_ascii_lowercase(),
        };
        Some(Evaluation {
            at: at_unix,
            policy,
            row: Row {
                source_ip,
                disposition,
                dkim_aligned: dmarc.dkim_aligned,
                spf_aligned: dmarc.spf_aligned,
                overridden,
                header_from: dmarc.from_domain.clone(),
                envelope_from,
                envelope_to: envelope_to_domain.to_ascii_lowercase(),
                dkim: dkim
                    .iter()
                    .filter(|d| !d.domain.is_empty())
                    .map(|d| DkimAuth {
                        domain: d.domain.clone(),
                        selector: d.selector.clone(),
                        result: d.verdict.status.as_str().to_string(),
                    })
                    .collect(),
                spf: SpfAuth {
                    domain: spf.domain.to_ascii_lowercase(),
                    scope: match spf.identity {
                        SpfIdentity::MailFrom => "mfrom",
                        SpfIdentity::Helo => "helo",
                    }
                    .to_string(),
                    result: spf.verdict.status.as_str().to_string(),
                },
            },
        })
    }
}
