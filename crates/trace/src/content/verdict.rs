//! The verdict per message: `phishing-likely`, `suspicious` or `clean-so-far`, and the
//! findings that decided it.
//!
//! The rule (docs/trace.md, "Verdict"): each finding code carries a weight; a message is
//! `phishing-likely` when the weights add up to 3 or more and at least one content signal
//! (or a critical look-alike From domain) is among them — header signs alone (a DMARC
//! failure, a Reply-To elsewhere) happen to honest mail too often to decide. It is
//! `suspicious` when anything weighs at all or any finding is critical, and `clean-so-far`
//! otherwise ("so far": a message can be phishing that nothing here sees).

use super::{BrandPlace, Sender, Signal};
use crate::report::{Finding, Severity};
use serde::Serialize;

/// The verdict on one message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    #[default]
    CleanSoFar,
    Suspicious,
    PhishingLikely,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::CleanSoFar => "clean-so-far",
            Verdict::Suspicious => "suspicious",
            Verdict::PhishingLikely => "phishing-likely",
        }
    }
}

/// Total weight from which a message is `phishing-likely`.
pub const PHISHING_LIKELY: u32 = 3;

/// The weight of one content signal.
pub fn signal_weight(signal: &Signal, sender: &Sender<'_>) -> u32 {
    match signal {
        Signal::HtmlAttachment { .. } => 3,
        Signal::LookalikeLink {
            kind: "punycode", ..
        } => 0,
        Signal::LookalikeLink {
            kind: "confusable", ..
        }
        | Signal::LookalikeLink {
            recipient: true, ..
        } => 3,
        Signal::LookalikeLink { .. } => 2,
        Signal::CredentialLure {
            password_form: true,
            ..
        } => 3,
        Signal::EncryptedArchive { .. } | Signal::QrCode { .. } => 2,
        Signal::RiskyAttachment { file, .. } if file.disguised => 3,
        Signal::RiskyAttachment { .. } => 2,
        Signal::BrandImpersonation {
            lookalike: true, ..
        } => 3,
        Signal::BrandImpersonation {
            place: BrandPlace::DisplayName | BrandPlace::FromDomain,
            ..
        } => 2,
        Signal::LinkTextMismatch { brand: Some(_), .. } => 2,
        Signal::ShortenerLink { .. } | Signal::ReplyToFreemail { .. } if sender.is_list_mail => 0,
        Signal::ReplyToFreemail { .. } => 1,
        _ => 1,
    }
}

/// The weight of a header finding.
pub fn finding_weight(finding: &Finding) -> u32 {
    match (finding.code, finding.severity) {
        ("lookalike-domain", Severity::Critical) => 3,
        ("lookalike-domain", Severity::Warning) => 2,
        ("dmarc-fail", Severity::Critical)
        | ("display-name-spoof", _)
        | ("reply-to-mismatch", Severity::Warning)
        | ("spf-fail", Severity::Warning) => 1,
        _ => 0,
    }
}

/// The verdict from the header findings and the content signals, with the deciding codes
/// (heaviest first, each once).
pub fn verdict(
    header_findings: &[Finding],
    signals: &[Signal],
    sender: &Sender<'_>,
) -> (Verdict, Vec<&'static str>) {
    let mut weighed: Vec<(&'static str, u32)> = Vec::new();
    let mut add = |code: &'static str, w: u32| {
        if w == 0 {
            return;
        }
        match weighed.iter_mut().find(|(c, _)| *c == code) {
            Some((_, old)) => *old = (*old).max(w),
            None => weighed.push((code, w)),
        }
    };
    let mut content = 0;
    // Wording alone is weak; with a link that is itself odd it is the classic lure.
    let odd_link = signals.iter().any(|s| {
        matches!(
            s,
            Signal::LinkTextMismatch { .. }
                | Signal::LookalikeLink { .. }
                | Signal::IpLink { .. }
                | Signal::ShortenerLink { .. }
                | Signal::FreeHostingLink { .. }
                | Signal::HtmlAttachment { .. }
                | Signal::QrCode { .. }
        )
    });
    for s in signals {
        let w = match s {
            Signal::CredentialLure {
                personalised: true, ..
            } => 3,
            Signal::CredentialLure {
                password_form: false,
                ..
            } if odd_link => 2,
            _ => signal_weight(s, sender),
        };
        if !matches!(s, Signal::ReplyToFreemail { .. }) {
            content += w;
        }
        add(s.code(), w);
    }
    let freemail = signals
        .iter()
        .any(|s| matches!(s, Signal::ReplyToFreemail { .. }));
    let mut decisive_header = false;
    for f in header_findings {
        // The free-mail Reply-To already counts the same sign.
        if freemail && f.code == "reply-to-mismatch" {
            continue;
        }
        let w = finding_weight(f);
        decisive_header |= w >= PHISHING_LIKELY;
        add(f.code, w);
    }
    let total: u32 = weighed.iter().map(|(_, w)| w).sum();
    let any_critical = header_findings
        .iter()
        .any(|f| f.severity == Severity::Critical)
        || signals
            .iter()
            .any(|s| s.severity(sender) == Severity::Critical);
    weighed.sort_by_key(|(c, w)| (std::cmp::Reverse(*w), *c));
    let codes = weighed.iter().map(|(c, _)| *c).collect();
    let v = if total >= PHISHING_LIKELY && (content > 0 || decisive_header) {
        Verdict::PhishingLikely
    } else if total > 0 || any_critical {
        Verdict::Suspicious
    } else {
        Verdict::CleanSoFar
    };
    (v, codes)
}
