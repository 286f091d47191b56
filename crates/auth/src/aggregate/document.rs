//! The report document (RFC 9990 §3: XML in the `urn:ietf:params:xml:ns:dmarc-2.0`
//! namespace, written by mail-auth's `Report::to_xml`), its gzip file and name (§5.1),
//! and the e-mail that carries it (§5.5).

use super::error::AggregateError;
use super::evaluation::{Disposition, OverrideReason, Row};
use super::period::Period;
use super::rows::DomainAggregate;
use crate::verify::PolicyRequest;
use base64::Engine;
use flate2::Compression;
use flate2::write::GzEncoder;
use mail_auth::report::{
    ActionDisposition, Alignment, AuthResult, DKIMAuthResult, DateRange, Discovery,
    Disposition as PolicyDisposition, DkimResult, DmarcResult, Identifier, PolicyEvaluated,
    PolicyOverride, PolicyOverrideReason, PolicyPublished, Record, Report, ReportMetadata,
    Row as ReportRow, SPFAuthResult, SPFDomainScope, SpfResult,
};
use std::io::Write;

/// Who sends the reports (RFC 9990 §3.1.1.3 `report_metadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitter {
    /// `org_name`.
    pub org_name: String,
    /// `email`: where the domain owner can write back; also the report's From.
    pub email: String,
    /// Our domain: the receiver in the file name and the report ID (§5.1).
    pub domain: String,
}

/// The RFC 9990 report of `aggregate` for `period`.
pub fn build_report(aggregate: &DomainAggregate, period: Period, submitter: &Submitter) -> Report {
    let policy = &aggregate.policy;
    Report {
        // RFC 9990 §3.1.1.2: the format version is 1.0.
        version: 1.0,
        report_metadata: ReportMetadata {
            org_name: submitter.org_name.clone(),
            email: submitter.email.clone(),
            extra_contact_info: None,
            // §3.1.1.3: unique per report from this submitter: one per domain and period.
            report_id: format!("{}.{}@{}", period, policy.domain, submitter.domain),
            date_range: DateRange {
                begin: u64::try_from(period.begin()).unwrap_or_default(),
                end: u64::try_from(period.end()).unwrap_or_default(),
            },
            error: Vec::new(),
            generator: Some(concat!("mailward ", env!("CARGO_PKG_VERSION")).to_string()),
        },
        policy_published: PolicyPublished {
            domain: policy.domain.clone(),
            version_published: None,
            adkim: alignment(policy.strict_dkim),
            aspf: alignment(policy.strict_spf),
            p: requested(policy.p),
            sp: requested(policy.sp),
            np: requested(policy.np),
            testing: policy.testing,
            // RFC 9989 §4.10: the record is found by the DNS tree walk.
            discovery_method: Discovery::Treewalk,
            fo: None,
        },
        record: aggregate
            .rows
            .iter()
            .map(|(row, count)| Record {
                row: ReportRow {
                    source_ip: Some(row.source_ip),
                    count: *count,
                    policy_evaluated: PolicyEvaluated {
                        disposition: match row.disposition {
                            Disposition::None => ActionDisposition::None,
                            Disposition::Quarantine => ActionDisposition::Quarantine,
                            Disposition::Reject => ActionDisposition::Reject,
                        },
                        dkim: pass_or_fail(row.dkim_aligned),
                        spf: pass_or_fail(row.spf_aligned),
                        reason: reasons(row, policy.testing),
                    },
                },
                identifiers: Identifier {
                    envelope_to: (!row.envelope_to.is_empty()).then(|| row.envelope_to.clone()),
                    envelope_from: row.envelope_from.clone(),
                    header_from: row.header_from.clone(),
                },
                auth_results: AuthResult {
                    dkim: row
                        .dkim
                        .iter()
                        .map(|d| DKIMAuthResult {
                            domain: d.domain.clone(),
                            selector: d.selector.clone(),
                            result: dkim_result(&d.result),
                            human_result: None,
                        })
                        .collect(),
                    spf: vec![SPFAuthResult {
                        domain: row.spf.domain.clone(),
                        scope: if row.spf.scope == "helo" {
                            SPFDomainScope::Helo
                        } else {
                            SPFDomainScope::MailFrom
                        },
                        result: spf_result(&row.spf.result),
                        human_result: None,
                    }],
                },
                extensions: Vec::new(),
            })
            .collect(),
        extensions: Vec::new(),
    }
}

/// The XML document, gzipped (RFC 9990 §5.1: reports are sent compressed with gzip).
pub fn report_gzip(report: &Report) -> Result<Vec<u8>, AggregateError> {
    let xml = report.to_xml();
    let mut gz = GzEncoder::new(Vec::with_capacity(xml.len() / 4), Compression::default());
    gz.write_all(xml.as_bytes())
        .map_err(AggregateError::Compress)?;
    gz.finish().map_err(AggregateError::Compress)
}

/// RFC 9990 §5.1: `receiver "!" policy-domain "!" begin "!" end "!" unique-id ".xml.gz"`,
/// with `unique-id` letters and digits only.
pub fn report_file_name(report: &Report, submitter: &Submitter) -> String {
    let meta = &report.report_metadata;
    format!(
        "{}!{}!{}!{}!{}.xml.gz",
        submitter.domain,
        report.policy_published.domain,
        meta.date_range.begin,
        meta.date_range.end,
        unique_id(&meta.report_id)
    )
}

/// The report as an e-mail to `to` (RFC 9990 §5.5: Subject `Report Domain: ...
/// Submitter: ... Report-ID: <...>` written plainly, a short text part, and the gzip file as
/// an `application/gzip` attachment named as §5.1 says). `now_unix` dates it.
pub fn report_message(
    report: &Report,
    submitter: &Submitter,
    to: &[String],
    now_unix: i64,
) -> Result<Vec<u8>, AggregateError> {
    let gz = report_gzip(report)?;
    let file_name = report_file_name(report, submitter);
    let report_id = &report.report_metadata.report_id;
    let domain = &report.policy_published.domain;
    let boundary = format!("=_dmarc_{}", unique_id(&file_name));
    let date = chrono::DateTime::from_timestamp(now_unix, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S +0000");
    let to = to
        .iter()
        .map(|a| format!("<{}>", header_safe(a)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut m = String::with_capacity(gz.len() * 4 / 3 + 1024);
    m.push_str(&format!(
        "From: \"{}\" <{}>\r\n",
        header_safe(&submitter.org_name).replace(['"', '\\'], ""),
        header_safe(&submitter.email)
    ));
    m.push_str(&format!("To: {to}\r\n"));
    // RFC 9990 §5.5: the Subject names the domain, the submitter and the report ID.
    m.push_str(&format!(
        "Subject: Report Domain: {} Submitter: {} Report-ID: <{}>\r\n",
        header_safe(domain),
        header_safe(&submitter.domain),
        header_safe(report_id)
    ));
    m.push_str(&format!("Date: {date}\r\n"));
    m.push_str(&format!(
        "Message-ID: <{}.{now_unix}@{}>\r\n",
        unique_id(report_id),
        header_safe(&submitter.domain)
    ));
    // RFC 3834 §5: a machine wrote this; no auto-replies please.
    m.push_str("Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n");
    m.push_str(&format!(
        "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
    ));
    m.push_str(&format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n\
         This is a DMARC aggregate report (RFC 9990) from {}.\r\n\r\n\
         Report Domain: {}\r\nSubmitter: {}\r\nReport-ID: {}\r\n\r\n",
        header_safe(&submitter.org_name),
        header_safe(domain),
        header_safe(&submitter.domain),
        header_safe(report_id)
    ));
    m.push_str(&format!(
        "--{boundary}\r\nContent-Type: application/gzip\r\n\
         Content-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"{}\"\r\n\r\n",
        header_safe(&file_name)
    ));
    let encoded = base64::engine::general_purpose::STANDARD.encode(&gz);
    // RFC 2045 §6.8: encoded lines of at most 76 characters.
    for line in encoded.as_bytes().chunks(76) {
        m.push_str(&String::from_utf8_lossy(line));
        m.push_str("\r\n");
    }
    m.push_str(&format!("--{boundary}--\r\n"));
    Ok(m.into_bytes())
}

/// Printable ASCII only: configuration and DNS data never break the header section.
fn header_safe(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .collect()
}

/// A short stable hex digest (FNV-1a, 64 bits) of the report ID.
fn unique_id(report_id: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in report_id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn alignment(strict: bool) -> Alignment {
    if strict {
        Alignment::Strict
    } else {
        Alignment::Relaxed
    }
}

fn requested(p: PolicyRequest) -> PolicyDisposition {
    match p {
        PolicyRequest::None => PolicyDisposition::None,
        PolicyRequest::Quarantine => PolicyDisposition::Quarantine,
        PolicyRequest::Reject => PolicyDisposition::Reject,
    }
}

fn pass_or_fail(aligned: bool) -> DmarcResult {
    if aligned {
        DmarcResult::Pass
    } else {
        DmarcResult::Fail
    }
}

/// Why the policy was not applied as published: the caller's override, else, for a
/// failing message under `t=y` (RFC 9989 §4.7 test mode), `policy_test_mode`.
fn reasons(row: &Row, testing: bool) -> Vec<PolicyOverrideReason> {
    match &row.overridden {
        Some((reason, comment)) => vec![override_reason(*reason, comment)],
        None if testing && !row.dkim_aligned && !row.spf_aligned => vec![PolicyOverrideReason {
            type_: PolicyOverride::PolicyTestMode,
            comment: None,
        }],
        None => Vec::new(),
    }
}

/// RFC 9990 §3.1.1.6 `PolicyOverrideType`; RFC 7489's `forwarded` and `sampled_out` are
/// no longer in the schema and go as `other` with the word in the comment.
fn override_reason(reason: OverrideReason, comment: &str) -> PolicyOverrideReason {
    let (type_, comment) = match reason {
        OverrideReason::TrustedForwarder => (PolicyOverride::TrustedForwarder, comment.to_string()),
        OverrideReason::MailingList => (PolicyOverride::MailingList, comment.to_string()),
        OverrideReason::LocalPolicy => (PolicyOverride::LocalPolicy, comment.to_string()),
        OverrideReason::Other => (PolicyOverride::Other, comment.to_string()),
        OverrideReason::Forwarded | OverrideReason::SampledOut => {
            let word = reason.as_str();
            let text = if comment.is_empty() {
                word.to_string()
            } else {
                format!("{word}: {comment}")
            };
            (PolicyOverride::Other, text)
        }
    };
    PolicyOverrideReason {
        type_,
        comment: (!comment.is_empty()).then_some(comment),
    }
}

/// RFC 9990 §3.1.1.8 `DKIMResultType` from the RFC 8601 keyword.
fn dkim_result(keyword: &str) -> DkimResult {
    match keyword {
        "pass" => DkimResult::Pass,
        "fail" => DkimResult::Fail,
        "policy" => DkimResult::Policy,
        "neutral" => DkimResult::Neutral,
        "temperror" => DkimResult::TempError,
        "permerror" => DkimResult::PermError,
        _ => DkimResult::None,
    }
}

/// RFC 9990 §3.1.1.8 `SPFResultType` from the RFC 7208 keyword.
fn spf_result(keyword: &str) -> SpfResult {
    match keyword {
        "pass" => SpfResult::Pass,
        "fail" => SpfResult::Fail,
        "softfail" => SpfResult::SoftFail,
        "neutral" => SpfResult::Neutral,
        "temperror" => SpfResult::TempError,
        "permerror" => SpfResult::PermError,
        _ => SpfResult::None,
    }
}
