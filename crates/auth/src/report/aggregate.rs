//! A DMARC aggregate report (RFC 9990 §3, formerly RFC 7489 appendix C) as the CLI shows
//! it: who reported, for which period and policy, and per source IP what happened.

use super::ReportError;
use mail_auth::report::{
    ActionDisposition, Alignment, Disposition, DkimResult, DmarcResult, PolicyOverride, Record,
    Report, SpfResult,
};
use serde::Serialize;

/// One aggregate report, checked and summarised.
#[derive(Debug, Clone, Serialize)]
pub struct AggregateSummary {
    pub org_name: String,
    pub email: String,
    pub report_id: String,
    /// The reporting period, seconds since the epoch (RFC 9990 §3.1.1 `date_range`).
    pub begin: u64,
    pub end: u64,
    pub policy: PolicySummary,
    pub records: Vec<RecordSummary>,
    /// Messages over all records (the sum of `count`).
    pub total_messages: u64,
    /// Messages for which DMARC passed (aligned DKIM or aligned SPF, RFC 7489 §6.6.2).
    pub dmarc_pass_messages: u64,
    pub dmarc_fail_messages: u64,
}

/// The DMARC record the reporter found (RFC 9990 §3.1.2 `policy_published`).
#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    pub domain: String,
    pub p: &'static str,
    pub sp: &'static str,
    pub adkim: &'static str,
    pub aspf: &'static str,
    pub testing: bool,
}

/// One `record` (RFC 9990 §3.1.3): messages from one source IP with one set of results.
#[derive(Debug, Clone, Serialize)]
pub struct RecordSummary {
    pub source_ip: String,
    pub count: u32,
    pub disposition: &'static str,
    /// DMARC-aligned DKIM and SPF results (`policy_evaluated`).
    pub dkim_aligned: &'static str,
    pub spf_aligned: &'static str,
    pub dmarc: &'static str,
    pub header_from: String,
    pub envelope_from: String,
    /// Raw results, `domain=result` (`auth_results`).
    pub dkim: Vec<String>,
    pub spf: Vec<String>,
    /// Why the receiver did not apply the policy (`reason`), if it said.
    pub reasons: Vec<String>,
}

impl AggregateSummary {
    /// Summarises `report`, refusing records whose evaluated results are not the schema's
    /// lower-case values (RFC 9990 appendix A: `dmarc_result` is `pass` or `fail`,
    /// disposition `none`, `pass`, `quarantine` or `reject`).
    pub fn from_report(report: &Report) -> Result<AggregateSummary, ReportError> {
        let meta = &report.report_metadata;
        let pp = &report.policy_published;
        let mut records = Vec::with_capacity(report.record.len());
        for (i, record) in report.record.iter().enumerate() {
            records.push(summarise_record(i + 1, record)?);
        }
        let total: u64 = records.iter().map(|r| u64::from(r.count)).sum();
        let pass: u64 = records
            .iter()
            .filter(|r| r.dmarc == "pass")
            .map(|r| u64::from(r.count))
            .sum();
        Ok(AggregateSummary {
            org_name: meta.org_name.trim().to_string(),
            email: meta.email.trim().to_string(),
            report_id: meta.report_id.trim().to_string(),
            begin: meta.date_range.begin,
            end: meta.date_range.end,
            policy: PolicySummary {
                domain: pp.domain.clone(),
                p: disposition_name(pp.p),
                sp: disposition_name(pp.sp),
                adkim: alignment_name(pp.adkim),
                aspf: alignment_name(pp.aspf),
                testing: pp.testing,
            },
            records,
            total_messages: total,
            dmarc_pass_messages: pass,
            dmarc_fail_messages: total - pass,
        })
    }
}

fn summarise_record(n: usize, record: &Record) -> Result<RecordSummary, ReportError> {
    let pe = &record.row.policy_evaluated;
    let invalid = |field: &str| {
        ReportError::InvalidAggregate(format!(
            "record {n}: policy_evaluated/{field} is missing or not a lower-case schema value"
        ))
    };
    let dkim_aligned = dmarc_result_name(pe.dkim).ok_or_else(|| invalid("dkim"))?;
    let spf_aligned = dmarc_result_name(pe.spf).ok_or_else(|| invalid("spf"))?;
    let disposition = action_name(pe.disposition).ok_or_else(|| invalid("disposition"))?;
    let dmarc = if dkim_aligned == "pass" || spf_aligned == "pass" {
        "pass"
    } else {
        "fail"
    };
    let ids = &record.identifiers;
    let auth = &record.auth_results;
    Ok(RecordSummary {
        source_ip: record
            .row
            .source_ip
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "?".into()),
        count: record.row.count,
        disposition,
        dkim_aligned,
        spf_aligned,
        dmarc,
        header_from: ids.header_from.clone(),
        envelope_from: ids.envelope_from.clone(),
        dkim: auth
            .dkim
            .iter()
            .map(|d| format!("{}={}", d.domain, dkim_name(d.result)))
            .collect(),
        spf: auth
            .spf
            .iter()
            .map(|s| format!("{}={}", s.domain, spf_name(s.result)))
            .collect(),
        reasons: pe
            .reason
            .iter()
            .filter_map(|r| override_name(r.policy_override()))
            .map(str::to_string)
            .collect(),
    })
}

fn dmarc_result_name(r: DmarcResult) -> Option<&'static str> {
    match r {
        DmarcResult::Pass => Some("pass"),
        DmarcResult::Fail => Some("fail"),
        DmarcResult::Unspecified => None,
    }
}

fn action_name(d: ActionDisposition) -> Option<&'static str> {
    match d {
        ActionDisposition::None => Some("none"),
        ActionDisposition::Pass => Some("pass"),
        ActionDisposition::Quarantine => Some("quarantine"),
        ActionDisposition::Reject => Some("reject"),
        ActionDisposition::Unspecified => None,
    }
}

fn disposition_name(d: Disposition) -> &'static str {
    match d {
        Disposition::None => "none",
        Disposition::Quarantine => "quarantine",
        Disposition::Reject => "reject",
        Disposition::Unspecified => "-",
    }
}

fn alignment_name(a: Alignment) -> &'static str {
    match a {
        Alignment::Relaxed => "r",
        Alignment::Strict => "s",
        Alignment::Unspecified => "-",
    }
}

fn dkim_name(r: DkimResult) -> &'static str {
    match r {
        DkimResult::None => "none",
        DkimResult::Pass => "pass",
        DkimResult::Fail => "fail",
        DkimResult::Policy => "policy",
        DkimResult::Neutral => "neutral",
        DkimResult::TempError => "temperror",
        DkimResult::PermError => "permerror",
    }
}

fn spf_name(r: SpfResult) -> &'static str {
    match r {
        SpfResult::None => "none",
        SpfResult::Neutral => "neutral",
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
    }
}

/// RFC 9990 §3.1.3 `PolicyOverrideType` as mail-auth keeps it (`forwarded` and
/// `sampled_out` read as `other`).
fn override_name(o: PolicyOverride) -> Option<&'static str> {
    match o {
        PolicyOverride::TrustedForwarder => Some("trusted_forwarder"),
        PolicyOverride::MailingList => Some("mailing_list"),
        PolicyOverride::LocalPolicy => Some("local_policy"),
        PolicyOverride::PolicyTestMode => Some("policy_test_mode"),
        PolicyOverride::Other => Some("other"),
    }
}
