//! The evaluation of a message the SMTP server checked with [`crate::inbound::assess`]:
//! its decision as the RFC 9990 disposition and its local override as the reason.

use super::evaluation::{Disposition, Evaluation, OverrideReason};
use crate::inbound::{Assessment, Decision, PolicyOverride};
use std::net::IpAddr;

impl Evaluation {
    /// [`Evaluation::new`] from an [`Assessment`]; None when no DMARC record applied.
    pub fn from_assessment(
        at_unix: i64,
        source_ip: IpAddr,
        envelope_from: &str,
        envelope_to_domain: &str,
        assessment: &Assessment,
    ) -> Option<Evaluation> {
        // RFC 9990 `DispositionType`: what we did, after any override.
        let disposition = match assessment.decision {
            Decision::Deliver => Disposition::None,
            Decision::Junk { .. } => Disposition::Quarantine,
            Decision::Reject { .. } => Disposition::Reject,
        };
        let overridden = assessment.policy_override.as_ref().map(|o| {
            let reason = match o {
                PolicyOverride::TrustedForwarder(_) => OverrideReason::TrustedForwarder,
                PolicyOverride::MailingList(_) => OverrideReason::MailingList,
                PolicyOverride::LocalPolicy(_) => OverrideReason::LocalPolicy,
            };
            (reason, o.comment().to_string())
        });
        Evaluation::new(
            at_unix,
            source_ip,
            envelope_from,
            envelope_to_domain,
            &assessment.spf,
            &assessment.dkim,
            &assessment.dmarc,
            disposition,
            overridden,
        )
    }
}
