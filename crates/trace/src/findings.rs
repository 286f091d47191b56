//! Findings: things a person should look at, each with a stable code.
//!
//! Severities are chosen so that ordinary mail (a Gmail message, a mailing-list post, a
//! Microsoft 365 chain) raises no `critical` finding: `critical` is kept for signs that
//! mail is forged or impersonating (look-alike domains, DMARC failure at the receiver).
//! A DMARC failure that forwarding inside the recipient's organisation explains is
//! `dmarc-fail-after-forward`, a warning ([`crate::forward`]).

use crate::domains::{address_domain, lookalike, organizational_domain};
use crate::forward;
use crate::report::{Authentication, Finding, Hop, MessageInfo, Severity, TrustBoundary};
use crate::trust::TIME_TOLERANCE_SECONDS;

/// A hop delay above this is `long-delay` (info), above [`VERY_LONG_DELAY`] a warning.
pub const LONG_DELAY: i64 = 3600;
pub const VERY_LONG_DELAY: i64 = 24 * 3600;
/// `Date:` may run ahead of the first hop by this much before `date-skew`.
pub const DATE_AHEAD_TOLERANCE: i64 = 15 * 60;
/// `Date:` may run behind the first hop by this much (drafts, queued mail).
pub const DATE_BEHIND_TOLERANCE: i64 = 24 * 3600;
/// A date further than this past "now" is `future-date`.
pub const FUTURE_TOLERANCE: i64 = 15 * 60;

/// What the finding checks need besides the report parts.
pub struct Context<'a> {
    pub message: &'a MessageInfo,
    /// The `From:` display name, decoded.
    pub from_name: Option<&'a str>,
    pub date_unix: Option<i64>,
    pub date_present: bool,
    pub message_id_domain: Option<String>,
    pub is_list_mail: bool,
    pub recipient_domains: Vec<String>,
    pub now: i64,
}

pub fn collect(
    ctx: &Context<'_>,
    hops: &[Hop],
    trust: &TrustBoundary,
    auth: &Authentication,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let from_domain = ctx.message.from_address.as_deref().and_then(address_domain);
    let from_org = from_domain.as_deref().map(organizational_domain);

    address_mismatches(ctx, from_org.as_deref(), &mut out);
    display_name(ctx, from_domain.as_deref(), &mut out);
    lookalikes(ctx, from_domain.as_deref(), &mut out);
    chain(hops, trust, &mut out);
    dates(ctx, hops, &mut out);
    authentication(ctx, hops, auth, &mut out);

    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

fn push(out: &mut Vec<Finding>, code: &'static str, severity: Severity, message: String) {
    out.push(Finding {
        code,
        severity,
        message,
        evidence: Vec::new(),
    });
}

fn address_mismatches(ctx: &Context<'_>, from_org: Option<&str>, out: &mut Vec<Finding>) {
    let Some(from_org) = from_org else { return };
    let differs = |addr: &Option<String>| -> Option<String> {
        let domain = address_domain(addr.as_deref()?)?;
        (organizational_domain(&domain) != from_org).then_some(domain)
    };
    if let Some(d) = differs(&ctx.message.return_path) {
        push(
            out,
            "return-path-mismatch",
            Severity::Info,
            format!(
                "Return-Path domain {d} differs from the From domain {from_org} (usual for mailing lists and bulk senders)"
            ),
        );
    }
    if let Some(d) = differs(&ctx.message.reply_to) {
        let severity = if ctx.is_list_mail {
            Severity::Info
        } else {
            Severity::Warning
        };
        push(
            out,
            "reply-to-mismatch",
            severity,
            format!("replies go to {d}, not to the From domain {from_org}"),
        );
    }
    if let Some(d) = differs(&ctx.message.sender) {
        push(
            out,
            "sender-mismatch",
            Severity::Info,
            format!("Sender domain {d} differs from the From domain {from_org}"),
        );
    }
    if let Some(mid) = &ctx.message_id_domain
        && organizational_domain(mid) != from_org
        && !mid.is_empty()
    {
        push(
            out,
            "message-id-domain-mismatch",
            Severity::Info,
            format!("Message-ID was made at {mid}, not at the From domain {from_org}"),
        );
    }
}

/// RFC 5322 §3.4: the display name is free text, so it can carry an address or a domain
/// that is not the real sender's.
fn display_name(ctx: &Context<'_>, from_domain: Option<&str>, out: &mut Vec<Finding>) {
    let (Some(name), Some(from_domain)) = (ctx.from_name, from_domain) else {
        return;
    };
    let from_org = organizational_domain(from_domain);
    for word in name.split(|c: char| c.is_whitespace() || "<>()\"',;[]".contains(c)) {
        let word = word.trim_matches('.').to_ascii_lowercase();
        let candidate = match word.rsplit_once('@') {
            Some((_, d)) => d.to_string(),
            None => word.clone(),
        };
        if !candidate.contains('.') || candidate.parse::<std::net::IpAddr>().is_ok() {
            continue;
        }
        // A domain-looking word must end in a known public suffix to count.
        if psl::suffix_str(&candidate).is_none_or(|s| s == candidate) {
            continue;
        }
        let Some(labels) = psl::domain_str(&candidate) else {
            continue;
        };
        if organizational_domain(labels) != from_org {
            push(
                out,
                "display-name-spoof",
                Severity::Warning,
                format!(
                    "the display name \"{name}\" shows {word}, but the address is at {from_domain}"
                ),
            );
            return;
        }
    }
}

fn lookalikes(ctx: &Context<'_>, from_domain: Option<&str>, out: &mut Vec<Finding>) {
    let mut checked = Vec::new();
    let candidates = [
        from_domain.map(str::to_string),
        ctx.message.reply_to.as_deref().and_then(address_domain),
    ];
    for domain in candidates.into_iter().flatten() {
        if checked.contains(&domain) {
            continue;
        }
        if let Some(hit) = lookalike(&domain, &ctx.recipient_domains) {
            let (severity, what) = match hit.kind {
                "confusable" => (
                    Severity::Critical,
                    "is a look-alike (same characters' skeleton) of",
                ),
                "near-miss"
                    if ctx
                        .recipient_domains
                        .iter()
                        .any(|r| organizational_domain(r) == hit.target) =>
                {
                    (
                        Severity::Critical,
                        "is a near-miss spelling of the recipient's domain",
                    )
                }
                "near-miss" => (Severity::Warning, "is a near-miss spelling of"),
                _ => (
                    Severity::Info,
                    "is an internationalised (punycode) name shown as",
                ),
            };
            push(
                out,
                "lookalike-domain",
                severity,
                format!("{domain} {what} {}", hit.target),
            );
        }
        checked.push(domain);
    }
}

fn chain(hops: &[Hop], trust: &TrustBoundary, out: &mut Vec<Finding>) {
    if trust.trusted_hops < hops.len() {
        push(
            out,
            "received-chain-break",
            Severity::Warning,
            format!(
                "the Received chain breaks: {}; the {} older header(s) may be forged",
                trust.reason,
                hops.len() - trust.trusted_hops
            ),
        );
    }
    for hop in hops {
        let Some(delay) = hop.delay_seconds else {
            continue;
        };
        if delay < -TIME_TOLERANCE_SECONDS {
            push(
                out,
                "received-time-reversed",
                Severity::Warning,
                format!(
                    "hop {} is dated {} s before the hop before it (clock skew or forgery)",
                    hop.index, -delay
                ),
            );
        } else if delay > VERY_LONG_DELAY {
            push(
                out,
                "long-delay",
                Severity::Warning,
                format!("hop {} took {}", hop.index, human(delay)),
            );
        } else if delay > LONG_DELAY {
            push(
                out,
                "long-delay",
                Severity::Info,
                format!("hop {} took {}", hop.index, human(delay)),
            );
        }
    }
}

fn dates(ctx: &Context<'_>, hops: &[Hop], out: &mut Vec<Finding>) {
    if !ctx.date_present {
        push(
            out,
            "missing-date",
            Severity::Warning,
            "no Date header (RFC 5322 §3.6 requires one)".into(),
        );
    }
    if ctx.message.message_id.is_none() {
        push(
            out,
            "missing-message-id",
            Severity::Warning,
            "no Message-ID header (RFC 5322 §3.6.4: every message should have one)".into(),
        );
    }
    let first_hop = hops
        .iter()
        .find(|h| h.trusted && h.timestamp_unix.is_some())
        .and_then(|h| h.timestamp_unix.map(|t| (h.index, t)));
    if let (Some(date), Some((index, first))) = (ctx.date_unix, first_hop) {
        let ahead = date.saturating_sub(first);
        if ahead > DATE_AHEAD_TOLERANCE {
            push(
                out,
                "date-skew",
                Severity::Warning,
                format!(
                    "the Date header is {} after hop {} received the message",
                    human(ahead),
                    index
                ),
            );
        } else if -ahead > DATE_BEHIND_TOLERANCE {
            push(
                out,
                "date-skew",
                Severity::Info,
                format!(
                    "the Date header is {} before hop {} received the message",
                    human(-ahead),
                    index
                ),
            );
        }
    }
    if let Some(date) = ctx.date_unix
        && date.saturating_sub(ctx.now) > FUTURE_TOLERANCE
    {
        push(
            out,
            "future-date",
            Severity::Warning,
            format!(
                "the Date header is {} in the future",
                human(date.saturating_sub(ctx.now))
            ),
        );
    }
    if let Some(hop) = hops.iter().find(|h| {
        h.timestamp_unix
            .is_some_and(|t| t.saturating_sub(ctx.now) > FUTURE_TOLERANCE)
    }) {
        push(
            out,
            "future-date",
            Severity::Warning,
            format!("hop {} is dated in the future", hop.index),
        );
    }
}

fn authentication(ctx: &Context<'_>, hops: &[Hop], auth: &Authentication, out: &mut Vec<Finding>) {
    let who_for = |method: &str| {
        if auth.results.iter().any(|r| r.ours && r.method == method) {
            "re-verification"
        } else {
            "the receiving server"
        }
    };
    let who = who_for("spf");
    match auth.spf.as_deref() {
        Some("fail") => push(
            out,
            "spf-fail",
            Severity::Warning,
            format!(
                "SPF failed according to {who}: the sending IP is not allowed for the envelope domain"
            ),
        ),
        Some("softfail") => push(
            out,
            "spf-fail",
            Severity::Info,
            format!("SPF soft-failed according to {who}"),
        ),
        _ => {}
    }
    let who = who_for("dkim");
    if auth.dkim.as_deref() == Some("fail") {
        push(
            out,
            "dkim-fail",
            Severity::Warning,
            format!("no DKIM signature verified according to {who}"),
        );
    }
    let who = who_for("dmarc");
    let forwarded = (auth.dmarc.as_deref() == Some("fail"))
        .then(|| forward::internal_forward(auth, hops, &ctx.recipient_domains))
        .flatten();
    if let Some(f) = forwarded {
        // Not spoofing: the sender was authenticated on arrival, and the recipient's own
        // organisation relayed the message to the receiver that failed it (see `forward`).
        push(
            out,
            "dmarc-fail-after-forward",
            Severity::Warning,
            format!(
                "DMARC failed according to {who}, after the recipient's organisation forwarded the message: \
                 {} (hop {}) had recorded {} in {}, and {} (hop {}) relayed it on; \
                 the last receiver found SPF {} (for the relay's address) and DKIM {}. \
                 A failure caused by an internal forward is not spoofing \
                 (the relay should add ARC, or the receiver should treat it as an internal relay)",
                f.authserv_id,
                f.pass_hop,
                f.passed,
                f.header,
                f.relay_host,
                f.relay_hop,
                auth.spf.as_deref().unwrap_or("not stated"),
                auth.dkim.as_deref().unwrap_or("not stated"),
            ),
        );
    } else if auth.dmarc.as_deref() == Some("fail") {
        let arc_pass = auth.arc.as_deref() == Some("pass");
        let severity = if arc_pass {
            Severity::Warning
        } else {
            Severity::Critical
        };
        push(
            out,
            "dmarc-fail",
            severity,
            format!(
                "DMARC failed according to {who}: the From domain is not authenticated{}",
                if arc_pass {
                    " (an ARC chain vouches for an earlier pass)"
                } else {
                    ""
                }
            ),
        );
    }
    let who = who_for("arc");
    if auth.arc.as_deref() == Some("fail") {
        push(
            out,
            "arc-fail",
            Severity::Warning,
            format!("the ARC chain did not validate according to {who}"),
        );
    }
}

/// `3 h 12 min` style durations for messages.
pub fn human(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} days", s / 86_400),
    }
}
