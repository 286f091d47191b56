//! DMARC (RFC 7489; `mail-auth` 0.13 evaluates it): is the RFC 5322.From domain
//! authenticated by an SPF or DKIM pass whose domain is aligned with it, and what policy
//! does the From domain ask for when not?
//!
//! What `mail-auth` 0.13.3 does, which is RFC 9989 (DMARCbis) rather than RFC 7489:
//! - the DMARC record and the organisational domain are found by a DNS tree walk
//!   (RFC 9989 §4.10: `_dmarc.` at the From domain, then at each parent, at most eight
//!   queries, stopped by `psd=y`/`psd=n`), not with the Public Suffix List of RFC 7489 §3.2;
//!   relaxed alignment (RFC 7489 §3.1.1-3.1.2) compares organisational domains found that way;
//! - `np=` (non-existent subdomains, RFC 9989) is applied when the From domain has no A
//!   record, and `t=y` (test mode) replaces `pct=`;
//! - a record without a valid `p=` counts as `p=none` when it has `rua=`, else DMARC does
//!   not apply.
//!
//! Strict and relaxed alignment (`adkim=`, `aspf=`) are `mail-auth`'s; we only report them.

use super::dkim::{DkimCheck, mail_auth_outputs, outputs_for_dmarc};
use super::dmarc_audit::broken_record;
use super::lookups::Lookups;
use super::published::PublishedPolicy;
use super::spf::SpfCheck;
use super::spf_audit::Recorder;
use super::verdict::{Status, Verdict};
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::dmarc::{Alignment, Dmarc, Policy};
use mail_auth::{AuthenticatedMessage, DmarcResult};

/// The DMARC outcome (RFC 7489 §6.6, RFC 8601 §2.7.5 `dmarc=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcCheck {
    pub verdict: Verdict,
    /// The RFC 5322.From domain (lower-case); empty when the message has none usable.
    pub from_domain: String,
    /// The policy the domain asks for on failure: `none`, `quarantine` or `reject`;
    /// `None` when no DMARC record applies.
    pub policy: Option<&'static str>,
    /// An aligned DKIM signature passed.
    pub dkim_aligned: bool,
    /// An aligned SPF (MAIL FROM) pass.
    pub spf_aligned: bool,
    /// `adkim=s` / `aspf=s` (strict alignment) in the record.
    pub strict_dkim: bool,
    pub strict_spf: bool,
    /// The record that applied and where it was found, for the aggregate report's
    /// `policy_published` (RFC 9990 §3.1.1.4); `None` when no DMARC record applies.
    pub published: Option<PublishedPolicy>,
}

/// Evaluates DMARC for `message` from our DKIM results and the MAIL FROM SPF check
/// (RFC 7489 §4.2: either aligned pass is enough).
pub async fn check_dmarc(
    lookups: &Lookups<'_>,
    message: &[u8],
    dkim: &[DkimCheck],
    spf_mail_from: &SpfCheck,
) -> DmarcCheck {
    let Some(parsed) = AuthenticatedMessage::parse(message) else {
        return none("the message has no header section");
    };
    let (signatures, statuses) = outputs_for_dmarc(dkim);
    let outputs = mail_auth_outputs(&signatures, &statuses);
    let spf = spf_mail_from.to_output();
    let mail_from_domain = spf_mail_from.domain.clone();
    let params = DmarcParameters::new(&parsed, &outputs, &mail_from_domain, &spf);
    let recorder = Recorder::new(lookups);
    let output = lookups
        .authenticator()
        .verify_dmarc(recorder.params(params))
        .await;
    // RFC 7489 §6.3 / RFC 6376 §3.2: a repeated tag makes the record invalid, which
    // `mail-auth` does not see (it keeps the last value). Only when it found a record: its
    // walk then ended on an answer, so asking again is answered from the cache.
    if output.dmarc_record().is_some()
        && let Some(why) = broken_record(lookups, &recorder.into_questions()).await
    {
        let mut check = none("");
        check.verdict = Verdict::because(Status::PermError, why);
        check.from_domain = output.domain().to_ascii_lowercase();
        return check;
    }

    let record = output.dmarc_record();
    let dkim_aligned = *output.dkim_result() == DmarcResult::Pass;
    let spf_aligned = *output.spf_result() == DmarcResult::Pass;
    let from_domain = output.domain().to_ascii_lowercase();
    let verdict = if record.is_none() {
        match (output.dkim_result(), output.spf_result()) {
            (DmarcResult::TempError(e), _) | (_, DmarcResult::TempError(e)) => {
                Verdict::because(Status::TempError, e.to_string())
            }
            _ if from_domain.is_empty() => {
                Verdict::because(Status::None, "no single RFC 5322.From domain")
            }
            _ => Verdict::because(
                Status::None,
                format!("{from_domain} publishes no DMARC record"),
            ),
        }
    } else if dkim_aligned || spf_aligned {
        Verdict::new(Status::Pass)
    } else {
        match (output.dkim_result(), output.spf_result()) {
            (DmarcResult::TempError(e), _) | (_, DmarcResult::TempError(e)) => {
                Verdict::because(Status::TempError, e.to_string())
            }
            (DmarcResult::PermError(e), _) | (_, DmarcResult::PermError(e)) => {
                Verdict::because(Status::PermError, e.to_string())
            }
            _ => Verdict::because(
                Status::Fail,
                format!("no SPF or DKIM pass aligned with {from_domain}"),
            ),
        }
    };
    let published = match record {
        Some(record) => {
            let domain = record_domain(lookups, &from_domain, record).await;
            Some(PublishedPolicy::from_record(domain, record))
        }
        None => None,
    };
    DmarcCheck {
        verdict,
        published,
        policy: record.map(|_| policy_name(output.policy())),
        strict_dkim: record.is_some_and(|r| r.adkim == Alignment::Strict),
        strict_spf: record.is_some_and(|r| r.aspf == Alignment::Strict),
        from_domain,
        dkim_aligned,
        spf_aligned,
    }
}

fn none(reason: &str) -> DmarcCheck {
    DmarcCheck::without_record(Verdict::because(Status::None, reason))
}

impl DmarcCheck {
    /// A check that found no record to apply (or could not look): `verdict` says why.
    pub(crate) fn without_record(verdict: Verdict) -> DmarcCheck {
        DmarcCheck {
            verdict,
            from_domain: String::new(),
            policy: None,
            dkim_aligned: false,
            spf_aligned: false,
            strict_dkim: false,
            strict_spf: false,
            published: None,
        }
    }
}

/// Where `record` was found: the From domain itself or the first parent whose `_dmarc`
/// record is the same one (RFC 9989 §4.10 tree walk; the answers come from the lookups
/// `mail-auth` has just made, so from the resolver's cache). RFC 9990 §3.1.1.4 reports
/// that domain as the policy domain, and its `rua` gets the report.
async fn record_domain(lookups: &Lookups<'_>, from_domain: &str, record: &Dmarc) -> String {
    let mut name = from_domain.trim_end_matches('.');
    // RFC 9989 §4.10: the walk makes at most eight queries.
    for _ in 0..8 {
        let key = format!("_dmarc.{name}.");
        let found = lookups
            .authenticator()
            .txt_lookup::<Dmarc>(key, Some(lookups.txt_cache()))
            .await;
        if found.is_ok_and(|r| *r == *record) {
            return name.to_string();
        }
        match name.split_once('.') {
            Some((_, parent)) if !parent.is_empty() => name = parent,
            _ => break,
        }
    }
    from_domain.to_string()
}

/// RFC 7489 §6.3 `p=` values.
fn policy_name(policy: Policy) -> &'static str {
    match policy {
        Policy::None | Policy::Unspecified => "none",
        Policy::Quarantine => "quarantine",
        Policy::Reject => "reject",
    }
}

/// `mail-auth`'s own DMARC output for `parsed`, from our DKIM results and the MAIL FROM SPF
/// check: what the ARC sealer writes its `ARC-Authentication-Results:` from
/// (`crate::dkim::arc_seal`).
pub(crate) async fn dmarc_output_of(
    lookups: &Lookups<'_>,
    parsed: &AuthenticatedMessage<'_>,
    dkim: &[DkimCheck],
    spf_mail_from: &SpfCheck,
) -> mail_auth::DmarcOutput {
    let (signatures, statuses) = outputs_for_dmarc(dkim);
    let outputs = mail_auth_outputs(&signatures, &statuses);
    let spf = spf_mail_from.to_output();
    let params = DmarcParameters::new(parsed, &outputs, &spf_mail_from.domain, &spf);
    lookups
        .authenticator()
        .verify_dmarc(lookups.params(params))
        .await
}
