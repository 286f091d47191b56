//! The report `mailward trace` produces for one message: the JSON field names here are a
//! public contract (`--json` output), so rename nothing; add fields freely.

use mailward_message::IpClass;
use serde::Serialize;
use std::net::IpAddr;

/// Everything found out about one message.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Where the message came from: a path, `path#N` for the N-th message of an mbox, or `-`.
    pub source: String,
    /// The message's own identifying headers.
    pub message: MessageInfo,
    /// One hop per `Received:` header, oldest first.
    pub hops: Vec<Hop>,
    /// Where the chain of trustworthy hops ends.
    pub trust: TrustBoundary,
    /// The origin of the message: the sender's IP as far as the trusted chain shows it.
    pub origin: Option<Origin>,
    /// The e-mail service provider that handled the origin.
    pub provider: Option<Provider>,
    /// What the headers say about SPF, DKIM, DMARC and ARC, and what re-verification found.
    pub authentication: Authentication,
    /// Things a person should look at, most severe first.
    pub findings: Vec<Finding>,
    /// What could not be parsed.
    pub warnings: Vec<String>,
    /// `phishing-likely`, `suspicious` or `clean-so-far` (docs/trace.md, "Verdict").
    pub verdict: Verdict,
    /// The finding codes that decided the verdict, heaviest first.
    pub verdict_findings: Vec<&'static str>,
    /// What the body holds: links and attachments (None when only headers were read).
    pub content: Option<ContentReport>,
    /// The delivery status notification the message is (RFC 3464), None for other mail.
    pub dsn: Option<DsnReport>,
}

/// A delivery status notification (RFC 3464, RFC 6533): what the reporting server says
/// happened to each recipient, and the message that came back with it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DsnReport {
    /// `delivery-status` (RFC 3464) or `global-delivery-status` (RFC 6533).
    pub kind: String,
    /// The server that wrote the report (`Reporting-MTA`, the `dns;` type left out).
    pub reporting_mta: Option<String>,
    /// `DSN-Gateway`, when a gateway translated a foreign report.
    pub dsn_gateway: Option<String>,
    /// `Received-From-MTA`: where the reporting server had the message from.
    pub received_from_mta: Option<String>,
    /// `Arrival-Date`, RFC 3339 UTC.
    pub arrival_date: Option<String>,
    /// `Original-Envelope-Id` (RFC 3461 ENVID).
    pub original_envelope_id: Option<String>,
    /// The reporting server's queue ID (`X-Mailward-Queue-ID`, `X-Postfix-Queue-ID`), to
    /// look the message up in its queue and logs.
    pub queue_id: Option<String>,
    /// The field `queue_id` came from.
    pub queue_id_field: Option<String>,
    /// One entry per recipient, in the report's order, at most 100.
    pub recipients: Vec<DsnRecipient>,
    /// Recipient groups past the limit, not read.
    pub recipients_omitted: usize,
    /// A limit was reached: part of the report was not read.
    pub truncated: bool,
    /// The returned message (RFC 3462 §2: the third part), None when there is none.
    pub returned: Option<ReturnedMessage>,
}

/// What the report says about one recipient (RFC 3464 §2.3).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DsnRecipient {
    /// `Final-Recipient`: the address delivery was attempted to (`rfc822;` left out).
    pub final_recipient: Option<String>,
    /// `Original-Recipient`: the address as the sender gave it (RFC 3461 ORCPT).
    pub original_recipient: Option<String>,
    /// `failed`, `delayed`, `delivered`, `relayed` or `expanded` (lower-cased; another
    /// word as written).
    pub action: Option<String>,
    /// The RFC 3463 status code, e.g. `5.1.1` (as written when it is not one).
    pub status: Option<String>,
    /// `success`, `persistent transient failure` or `permanent failure` (RFC 3463 §3.1).
    pub status_class: Option<String>,
    /// The code in words, e.g. `bad destination mailbox address`.
    pub status_meaning: Option<String>,
    /// `Remote-MTA`: the server that gave the answer (`dns;` left out).
    pub remote_mta: Option<String>,
    /// `Diagnostic-Code`: the answer itself, e.g. `smtp; 550 5.1.1 user unknown`.
    pub diagnostic_code: Option<String>,
    /// `Last-Attempt-Date`, RFC 3339 UTC.
    pub last_attempt_date: Option<String>,
    /// `Will-Retry-Until` (delayed recipients), RFC 3339 UTC.
    pub will_retry_until: Option<String>,
    /// `Final-Log-ID`: the reporting server's log entry for this recipient.
    pub final_log_id: Option<String>,
}

/// The message returned in a report: its identity and where it had gone.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReturnedMessage {
    /// `message` (the whole message came back: `message/rfc822`, `message/global`) or
    /// `headers` (its header only: `text/rfc822-headers`, `message/global-headers`).
    pub content: String,
    /// Its identifying headers.
    pub message: MessageInfo,
    /// One hop per `Received:` header of the returned message, oldest first.
    pub hops: Vec<Hop>,
    /// Where the trusted part of its chain ends.
    pub trust: TrustBoundary,
    /// Where it started, as far as its trusted chain shows.
    pub origin: Option<Origin>,
}

pub use crate::content::Verdict;

/// The body of a message as the content pass saw it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ContentReport {
    /// MIME parts visited.
    pub parts: usize,
    /// A limit was reached and some content was not analysed.
    pub truncated: bool,
    /// Followed links (anchors, forms, refreshes, plain-text URLs) and any flagged image
    /// source, at most 100.
    pub links: Vec<LinkReport>,
    pub attachments: Vec<AttachmentReport>,
}

/// One link: what the reader sees, where it goes, and why it matters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkReport {
    /// `href`, `form-action`, `src`, `refresh` or `text`.
    pub source: &'static str,
    /// The visible text.
    pub text: String,
    /// The target as written.
    pub target: String,
    /// Registrable domain of the destination (behind Safe Links and similar wrappers).
    pub domain: Option<String>,
    /// Finding codes raised by this link.
    pub why: Vec<&'static str>,
}

/// One attachment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AttachmentReport {
    pub name: Option<String>,
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: usize,
    /// Finding codes raised by this attachment.
    pub why: Vec<&'static str>,
}

/// What a finding rests on: a link, a header, an attachment or a phrase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// `link`, `header`, `attachment` or `text`.
    pub kind: &'static str,
    /// Visible link text, header value, attachment type and size, or the phrase.
    pub text: Option<String>,
    /// Link target, header name or attachment file name.
    pub target: Option<String>,
    /// Registrable domain involved.
    pub domain: Option<String>,
}

/// Identifying headers of the message, decoded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MessageInfo {
    pub subject: Option<String>,
    /// The first `From:` mailbox as written (`Name <addr>`).
    pub from: Option<String>,
    /// The `From:` address alone, lower-cased domain.
    pub from_address: Option<String>,
    pub to: Vec<String>,
    /// The `Date:` header as RFC 3339 UTC.
    pub date: Option<String>,
    pub message_id: Option<String>,
    pub return_path: Option<String>,
    pub reply_to: Option<String>,
    pub sender: Option<String>,
    /// Size of the header block in bytes.
    pub header_bytes: usize,
}

/// One `Received:` header, interpreted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Hop {
    /// 1 for the oldest hop (the last `Received:` header), counting up to the newest.
    pub index: usize,
    pub from_host: Option<String>,
    pub from_rdns: Option<String>,
    pub from_ip: Option<IpAddr>,
    /// The class of `from_ip` (`public`, `private`, `loopback`, ...).
    pub ip_class: Option<IpClass>,
    pub by_host: Option<String>,
    pub by_ip: Option<IpAddr>,
    pub via: Option<String>,
    /// The `with` protocol word.
    pub protocol: Option<String>,
    pub id: Option<String>,
    #[serde(rename = "for")]
    pub for_addr: Option<String>,
    /// `version cipher` when stated, e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`.
    pub tls: Option<String>,
    /// The evidence (and user) when the hop was an authenticated submission.
    pub authenticated: Option<String>,
    /// RFC 3339 UTC.
    pub timestamp: Option<String>,
    /// Unix seconds, for arithmetic by consumers.
    pub timestamp_unix: Option<i64>,
    /// Seconds since the previous (older) hop; negative means clock skew or forgery.
    pub delay_seconds: Option<i64>,
    /// False for hops past the trust boundary (possibly forged by the sender).
    pub trusted: bool,
    /// Geolocation of `from_ip` when a database was given and knows it.
    pub geo: Option<Geo>,
    pub raw: String,
    pub parse_error: Option<String>,
}

/// Where the trusted part of the chain ends.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrustBoundary {
    /// How many hops (counted from the newest) are trusted.
    pub trusted_hops: usize,
    /// The `index` of the oldest trusted hop, if any hop is trusted.
    pub oldest_trusted_hop: Option<usize>,
    /// Why the walk stopped (or that it reached the oldest hop).
    pub reason: String,
}

/// The origin of a message.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Origin {
    pub ip: Option<IpAddr>,
    pub ip_class: Option<IpClass>,
    pub host: Option<String>,
    /// The `index` of the hop it was taken from (None when from another header).
    pub hop: Option<usize>,
    /// Which header it came from (`Received`, `X-Originating-IP`, ...).
    pub source: String,
    /// One sentence a person can check.
    pub reason: String,
    pub geo: Option<Geo>,
}

/// The e-mail service provider that handled the origin.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Provider {
    pub name: String,
    /// What identified it (a host name, a header, an ASN).
    pub evidence: String,
}

/// Geolocation of one IP from offline MaxMind-format databases.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Geo {
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub country_name: Option<String>,
    pub city: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
}

/// Authentication verdicts found in, or recomputed from, the headers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Authentication {
    /// Each method result from `Authentication-Results` and `ARC-Authentication-Results`.
    pub results: Vec<AuthResult>,
    /// `Received-SPF` verdicts (RFC 7208 §9.1).
    pub received_spf: Vec<String>,
    /// Each `DKIM-Signature` header's key tags.
    pub dkim_signatures: Vec<DkimSignature>,
    /// The summary verdict per method (`spf`, `dkim`, `dmarc`, `arc`) from the newest
    /// trusted `Authentication-Results`, or re-verification when `--verify` was given.
    pub spf: Option<String>,
    pub dkim: Option<String>,
    pub dmarc: Option<String>,
    pub arc: Option<String>,
    /// DMARC alignment of the From domain (RFC 7489 §3.1) with SPF and DKIM domains.
    pub alignment: Option<Alignment>,
    /// True when the verdicts come from our own re-verification (`--verify`).
    pub verified: bool,
}

/// One `method=result` from an `Authentication-Results` header (RFC 8601 §2.2).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuthResult {
    /// The authserv-id of the header (who made the claim).
    pub authserv_id: String,
    pub method: String,
    pub result: String,
    /// `ptype.property=value` pairs, e.g. `header.d=example.com`.
    pub properties: Vec<(String, String)>,
    /// `Authentication-Results` or `ARC-Authentication-Results`.
    pub header: String,
    /// Our own re-verification rather than a header's claim.
    pub ours: bool,
}

/// The tags of a `DKIM-Signature` header that matter for forensics (RFC 6376 §3.5).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DkimSignature {
    pub domain: Option<String>,
    pub selector: Option<String>,
    pub algorithm: Option<String>,
    /// Signature creation time (`t=`), RFC 3339.
    pub timestamp: Option<String>,
    /// Signed header names (`h=`).
    pub headers: Vec<String>,
    /// Our re-verification result when `--verify` was given.
    pub result: Option<String>,
}

/// DMARC identifier alignment (RFC 7489 §3.1).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Alignment {
    pub from_domain: String,
    pub organizational_domain: String,
    /// SPF-authenticated domain (MAIL FROM) and whether it aligns (relaxed).
    pub spf_domain: Option<String>,
    pub spf_aligned: bool,
    /// DKIM `d=` domains that passed and whether any aligns (relaxed).
    pub dkim_domains: Vec<String>,
    pub dkim_aligned: bool,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Something a person should look at. `code` values are stable (documented in README).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// What the finding rests on (content findings; empty for header findings, whose
    /// message names the header).
    pub evidence: Vec<Evidence>,
}
