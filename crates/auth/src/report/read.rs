//! One report file in, one checked summary (or a reason) out.

use super::ReportError;
use super::aggregate::AggregateSummary;
use super::decompress::{Limits, gunzip, unzip};
use super::format::InputFormat;
use super::tls::TlsSummary;
use mail_auth::report::tlsrpt::TlsReport;
use mail_auth::report::{Error as MailAuthError, Report};
use serde::Serialize;
use std::io::Read;
use std::path::Path;

/// What a report file held.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReadReport {
    /// A DMARC aggregate report (RFC 9990).
    Aggregate(AggregateSummary),
    /// An SMTP TLS report (RFC 8460).
    Tls(TlsSummary),
}

/// Reads the file at `path` (at most `limits.max_file` bytes) and parses its report.
pub fn read_report_file(path: &Path, limits: &Limits) -> Result<ReadReport, ReportError> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > limits.max_file {
        return Err(ReportError::TooLarge {
            size,
            limit: limits.max_file,
        });
    }
    let mut bytes = Vec::new();
    // The file may grow between the stat and the read: read one byte past the limit.
    file.take(limits.max_file.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limits.max_file {
        return Err(ReportError::TooLarge {
            size: bytes.len() as u64,
            limit: limits.max_file,
        });
    }
    read_report(path, &bytes, limits)
}

/// Parses `bytes`, the content of `path` (its name helps tell the format).
pub fn read_report(path: &Path, bytes: &[u8], limits: &Limits) -> Result<ReadReport, ReportError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ReportError::Empty);
    }
    match InputFormat::detect(path, bytes) {
        InputFormat::Gzip => parse_document(&gunzip(bytes, limits)?),
        InputFormat::Zip => parse_document(&unzip(bytes, limits)?),
        InputFormat::Xml => parse_aggregate_xml(bytes),
        InputFormat::Json => parse_tls_json(bytes),
        InputFormat::Mail => parse_mail(bytes, limits),
    }
}

/// A decompressed document: JSON (RFC 8460) if it starts with `{`, else XML.
fn parse_document(bytes: &[u8]) -> Result<ReadReport, ReportError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(ReportError::Empty),
        Some(b'{') => parse_tls_json(bytes),
        Some(_) => parse_aggregate_xml(bytes),
    }
}

/// RFC 9990 §5.1: the report is an XML document in UTF-8; other bytes are refused rather
/// than guessed at.
fn parse_aggregate_xml(bytes: &[u8]) -> Result<ReadReport, ReportError> {
    std::str::from_utf8(bytes).map_err(|e| ReportError::NotUtf8(e.valid_up_to()))?;
    let report = match Report::parse_xml(bytes) {
        Ok(report) => report,
        Err(first) => wrapped_feedback(bytes)
            .and_then(|inner| Report::parse_xml(inner).ok())
            .ok_or(ReportError::InvalidAggregate(first))?,
    };
    Ok(ReadReport::Aggregate(AggregateSummary::from_report(
        &report,
    )?))
}

/// The `<feedback>` element of a report whose root is another, unclosed element (IKEA
/// sends one inside an `xs:schema` start tag): the element itself must still be valid.
fn wrapped_feedback(bytes: &[u8]) -> Option<&[u8]> {
    let start = memchr::memmem::find(bytes, b"<feedback")?;
    (start > 0).then(|| &bytes[start..])
}

/// RFC 8460 §4: the report is one JSON object (I-JSON, UTF-8).
fn parse_tls_json(bytes: &[u8]) -> Result<ReadReport, ReportError> {
    let report = match TlsReport::parse_json(bytes) {
        Ok(report) => report,
        Err(first) => single_mx_host_as_list(bytes)
            .and_then(|fixed| TlsReport::parse_json(&fixed).ok())
            .ok_or_else(|| match first {
                MailAuthError::ReportParseError(m) => ReportError::InvalidTls(m),
                other => ReportError::InvalidTls(format!("{other:?}")),
            })?,
    };
    Ok(ReadReport::Tls(TlsSummary::from_report(&report)))
}

/// RFC 8460 §4.4 defines `mx-host` as an array, but the RFC's own example (§4.8) and
/// some reporters give one string: the same report with each such string made a list.
fn single_mx_host_as_list(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut changed = false;
    for policy in value.get_mut("policies")?.as_array_mut()? {
        if let Some(mx) = policy.get_mut("policy").and_then(|p| p.get_mut("mx-host"))
            && mx.is_string()
        {
            *mx = serde_json::Value::Array(vec![mx.take()]);
            changed = true;
        }
    }
    changed.then(|| serde_json::to_vec(&value).ok()).flatten()
}

/// An e-mail carrying a report (RFC 9990 §5.5.2, RFC 8460 §5.3): the first attachment
/// that is one, DMARC tried first. mail-auth caps each decompressed attachment at
/// `limits.max_decompressed`.
fn parse_mail(bytes: &[u8], limits: &Limits) -> Result<ReadReport, ReportError> {
    let cap = usize::try_from(limits.max_decompressed).unwrap_or(usize::MAX);
    match Report::parse_rfc5322(bytes, cap) {
        Ok(report) => {
            return Ok(ReadReport::Aggregate(AggregateSummary::from_report(
                &report,
            )?));
        }
        Err(MailAuthError::NoReportsFound) => {}
        // A gzip attachment may be a TLS report (application/tlsrpt+gzip): try that too.
        Err(dmarc @ MailAuthError::ReportParseError(_)) => {
            return match TlsReport::parse_rfc5322(bytes, cap) {
                Ok(report) => Ok(ReadReport::Tls(TlsSummary::from_report(&report))),
                Err(_) => Err(from_mail_auth(dmarc, limits, ReportError::InvalidAggregate)),
            };
        }
        Err(e) => return Err(from_mail_auth(e, limits, ReportError::InvalidAggregate)),
    }
    match TlsReport::parse_rfc5322(bytes, cap) {
        Ok(report) => Ok(ReadReport::Tls(TlsSummary::from_report(&report))),
        Err(MailAuthError::NoReportsFound) if is_failure_report(bytes) => {
            Err(ReportError::FailureReport)
        }
        Err(e) => Err(from_mail_auth(e, limits, ReportError::InvalidTls)),
    }
}

/// A DMARC failure report is `multipart/report; report-type=feedback-report` with a
/// `message/feedback-report` part (RFC 6591 §3, RFC 5965 §2; some senders send only the
/// part): told apart so the user knows why it was not read.
fn is_failure_report(bytes: &[u8]) -> bool {
    let has = |pattern: &[u8]| {
        bytes
            .windows(pattern.len())
            .any(|w| w.eq_ignore_ascii_case(pattern))
    };
    has(b"report-type=feedback-report") || has(b"message/feedback-report")
}

fn from_mail_auth(
    e: MailAuthError,
    limits: &Limits,
    invalid: fn(String) -> ReportError,
) -> ReportError {
    match e {
        MailAuthError::MailParseError => ReportError::NotMail,
        MailAuthError::ReportParseError(m) => invalid(m),
        MailAuthError::UncompressError(m) => ReportError::Decompress(m),
        MailAuthError::ReportTooLarge => ReportError::DecompressedTooLarge {
            limit: limits.max_decompressed,
        },
        MailAuthError::NoReportsFound => ReportError::NoReport,
    }
}
