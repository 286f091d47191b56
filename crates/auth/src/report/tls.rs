//! An SMTP TLS report (RFC 8460 §4) as the CLI shows it: per policy, how many sessions
//! succeeded and failed.

use mail_auth::report::tlsrpt::{PolicyType, TlsReport};
use serde::Serialize;

/// One TLS report, summarised.
#[derive(Debug, Clone, Serialize)]
pub struct TlsSummary {
    pub org_name: String,
    pub report_id: String,
    /// RFC 3339 (RFC 8460 §4.4 `date-range`).
    pub begin: String,
    pub end: String,
    pub policies: Vec<TlsPolicySummary>,
    pub total_success: u64,
    pub total_failure: u64,
}

/// One `policies` entry (RFC 8460 §4.4).
#[derive(Debug, Clone, Serialize)]
pub struct TlsPolicySummary {
    pub policy_type: &'static str,
    pub policy_domain: String,
    pub success: u32,
    pub failure: u32,
    /// `result-type` of each failure detail with its session count.
    pub failures: Vec<String>,
}

impl TlsSummary {
    pub fn from_report(report: &TlsReport) -> TlsSummary {
        let policies: Vec<TlsPolicySummary> = report
            .policies
            .iter()
            .map(|p| TlsPolicySummary {
                policy_type: match p.policy.policy_type {
                    PolicyType::Tlsa => "tlsa",
                    PolicyType::Sts => "sts",
                    PolicyType::NoPolicyFound => "no-policy-found",
                    PolicyType::Other => "other",
                },
                policy_domain: p.policy.policy_domain.clone(),
                success: p.summary.total_success,
                failure: p.summary.total_failure,
                failures: p
                    .failure_details
                    .iter()
                    .map(|f| format!("{:?} x{}", f.result_type, f.failed_session_count))
                    .collect(),
            })
            .collect();
        TlsSummary {
            org_name: report.organization_name.clone().unwrap_or_default(),
            report_id: report.report_id.clone(),
            begin: report.date_range.start_datetime.to_rfc3339(),
            end: report.date_range.end_datetime.to_rfc3339(),
            total_success: policies.iter().map(|p| u64::from(p.success)).sum(),
            total_failure: policies.iter().map(|p| u64::from(p.failure)).sum(),
            policies,
        }
    }
}
