//! ARC chain validation (RFC 8617 §5.2): is the chain of ARC sets intact, and which
//! domains sealed it?
//!
//! The ARC-Message-Signature body hash suffers from the same `mail-auth` 0.13 relaxed body
//! bug as DKIM (see `verify/dkim.rs`): when every AMS uses `c=*/relaxed`, the chain is
//! validated on the copy whose body tail has its whitespace removed (same canonical body).

use super::arc_structure::structure_problem;
use super::lookups::Lookups;
use super::verdict::{Status, Verdict};
use crate::dkim::body_tail::signing_copy;
use mail_auth::dkim::Canonicalization;
use mail_auth::{ArcOutput, AuthenticatedMessage, DkimResult};
use std::borrow::Cow;

/// The chain validation status (RFC 8617 §4.4: `none`, `pass`, `fail`; `temperror` when
/// DNS did not answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArcCheck {
    pub verdict: Verdict,
    /// The sealers' `d=`, instance 1 first (lower-case).
    pub sealers: Vec<String>,
}

/// Validates the message's ARC chain.
pub async fn verify_arc(lookups: &Lookups<'_>, message: &[u8]) -> ArcCheck {
    let Some(parsed) = AuthenticatedMessage::parse(message) else {
        return ArcCheck {
            verdict: Verdict::new(Status::None),
            sealers: Vec::new(),
        };
    };
    if let Some(problem) = structure_problem(&parsed) {
        return ArcCheck {
            verdict: Verdict::because(Status::Fail, problem),
            sealers: Vec::new(),
        };
    }
    let all_relaxed = !parsed.ams_headers.is_empty()
        && parsed
            .ams_headers
            .iter()
            .all(|h| h.header.cb == Canonicalization::Relaxed);
    if all_relaxed
        && let Cow::Owned(copy) = signing_copy(message, parsed.body_offset as usize)
        && let Some(trimmed) = AuthenticatedMessage::parse(&copy)
    {
        let output = lookups
            .authenticator()
            .verify_arc(lookups.params(&trimmed))
            .await;
        return check_of(&output);
    }
    let output = lookups
        .authenticator()
        .verify_arc(lookups.params(&parsed))
        .await;
    check_of(&output)
}

fn check_of(output: &ArcOutput<'_>) -> ArcCheck {
    let verdict = match output.result() {
        DkimResult::Pass => Verdict::new(Status::Pass),
        DkimResult::None => Verdict::new(Status::None),
        DkimResult::TempError(e) => Verdict::because(Status::TempError, e.to_string()),
        DkimResult::Fail(e) | DkimResult::Neutral(e) | DkimResult::PermError(e) => {
            Verdict::because(Status::Fail, e.to_string())
        }
    };
    ArcCheck {
        verdict,
        sealers: output
            .sets()
            .iter()
            .map(|set| set.seal.header.d.to_ascii_lowercase())
            .collect(),
    }
}
