//! DKIM verification (RFC 6376 §6, RFC 8463 Ed25519, RFC 8301 algorithm and key-size rules).
//!
//! `mail-auth` 0.13 keeps whitespace-only lines at the end of the body under relaxed body
//! canonicalisation, where RFC 6376 §3.4.4 ignores them, so correctly signed messages would
//! fail. A signature with `c=*/relaxed` is therefore checked against a copy of the message
//! whose body tail has that whitespace removed (same canonical body, see
//! `crate::dkim::body_tail`); a `c=*/simple` signature is always checked against the message
//! as received, where those lines count (§3.4.3).

use super::lookups::Lookups;
use super::verdict::{Status, Verdict};
use crate::dkim::body_tail::signing_copy;
use mail_auth::common::crypto::Algorithm;
use mail_auth::common::verify::{DomainKey, VerifySignature};
use mail_auth::dkim::{Canonicalization, DkimError, Signature};
use mail_auth::{AuthenticatedMessage, DkimOutput, DkimResult, Error};
use std::borrow::Cow;

/// At most this many `DKIM-Signature` fields are verified per message, the topmost first
/// (RFC 6376 §6.1: verifiers MAY limit the number of signatures they try, to bound the
/// DNS and CPU a message can cost), and at most this many malformed ones reported. The
/// others are ignored: they get no result.
pub const MAX_SIGNATURES: usize = 8;

/// RFC 8301 §3.2: verifiers MUST NOT accept RSA keys shorter than this.
const MIN_RSA_BITS: usize = 1024;

/// The outcome for one `DKIM-Signature` field (RFC 6376 §6.1.3; RFC 8601 §2.7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimCheck {
    pub verdict: Verdict,
    /// `d=`, lower-case; empty when the field could not be parsed.
    pub domain: String,
    /// `s=`.
    pub selector: String,
    /// `a=` (`rsa-sha256`, `ed25519-sha256`, `rsa-sha1`).
    pub algorithm: &'static str,
    /// `i=`, when given.
    pub identity: Option<String>,
}

/// Verifies the message's DKIM signatures (up to [`MAX_SIGNATURES`]), in header order, with
/// malformed signature fields first (as `permerror`). No signature: an empty list.
pub async fn verify_dkim(lookups: &Lookups<'_>, message: &[u8]) -> Vec<DkimCheck> {
    verify_signatures(lookups, message, Expiry::Enforced)
        .await
        .into_iter()
        .map(|(check, _)| check)
        .collect()
}

/// Whether `x=` (RFC 6376 §3.5) is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expiry {
    Enforced,
    /// Every signature is checked as if it had no `x=` (forensics only).
    Ignored,
}

/// [`verify_dkim`], with each check's `x=` time when the signature was refused only as
/// expired. Under [`Expiry::Ignored`] the outputs line up one to one with the enforced run
/// (same parse, same order).
pub(super) async fn verify_signatures(
    lookups: &Lookups<'_>,
    message: &[u8],
    expiry: Expiry,
) -> Vec<(DkimCheck, Option<u64>)> {
    let Some(mut original) = AuthenticatedMessage::parse(message) else {
        return Vec::new();
    };
    prepare(&mut original, expiry);
    let auth = lookups.authenticator();
    let outputs = auth.verify_dkim(lookups.params(&original)).await;
    let mut checks = Vec::with_capacity(outputs.len());
    for output in &outputs {
        checks.push((check_of(lookups, output).await, expired_at(output)));
    }

    let relaxed_body = |s: &Signature| s.cb == Canonicalization::Relaxed;
    if original
        .dkim_headers
        .iter()
        .any(|h| relaxed_body(&h.header))
        && let Cow::Owned(copy) = signing_copy(message, original.body_offset as usize)
        && let Some(mut trimmed) = AuthenticatedMessage::parse(&copy)
    {
        prepare(&mut trimmed, expiry);
        let again = auth.verify_dkim(lookups.params(&trimmed)).await;
        // Both parses see the same header section, so the outputs line up one to one.
        if again.len() == outputs.len() {
            for (slot, output) in checks.iter_mut().zip(again.iter()) {
                if output.signature().is_some_and(relaxed_body) {
                    *slot = (check_of(lookups, output).await, expired_at(output));
                }
            }
        }
    }
    checks
}

fn prepare(message: &mut AuthenticatedMessage<'_>, expiry: Expiry) {
    limit_signatures(message);
    if expiry == Expiry::Ignored {
        // `mail-auth` reads `x=0` as "no expiry".
        for header in &mut message.dkim_headers {
            header.header.x = 0;
        }
    }
}

/// The signature's `x=` when it was refused as expired (RFC 6376 §3.5).
fn expired_at(output: &DkimOutput<'_>) -> Option<u64> {
    match output.result() {
        DkimResult::Neutral(Error::Dkim(DkimError::SignatureExpired)) => {
            output.signature().map(|s| s.x)
        }
        _ => None,
    }
}

/// Keeps the first [`MAX_SIGNATURES`] signatures, and as many malformed ones (each is
/// reported, so their number is bounded too).
fn limit_signatures(message: &mut AuthenticatedMessage<'_>) {
    message.dkim_headers.truncate(MAX_SIGNATURES);
    let mut malformed = 0;
    message.errors.retain(|e| {
        if matches!(e.header, Error::Dkim(_)) {
            malformed += 1;
            malformed <= MAX_SIGNATURES
        } else {
            true
        }
    });
}

/// The DKIM outputs DMARC needs (`mail-auth`'s types), rebuilt from our checks: only the
/// result and `d=` matter to it (RFC 7489 §3.1.1).
pub(crate) fn outputs_for_dmarc(checks: &[DkimCheck]) -> (Vec<Signature>, Vec<Status>) {
    let signatures = checks
        .iter()
        .map(|c| Signature {
            d: c.domain.clone(),
            s: c.selector.clone(),
            ..Signature::default()
        })
        .collect();
    let statuses = checks.iter().map(|c| c.verdict.status).collect();
    (signatures, statuses)
}

/// `mail-auth`'s DKIM outputs for `signatures` with `statuses` (from
/// [`outputs_for_dmarc`]), for the evaluations it makes from them (DMARC, the ARC sealer's
/// results).
pub(crate) fn mail_auth_outputs<'s>(
    signatures: &'s [Signature],
    statuses: &[Status],
) -> Vec<DkimOutput<'s>> {
    signatures
        .iter()
        .zip(statuses.iter())
        .map(|(s, status)| dmarc_output(s, *status))
        .collect()
}

pub(crate) fn dmarc_output(signature: &Signature, status: Status) -> DkimOutput<'_> {
    match status {
        Status::Pass => DkimOutput::pass(),
        Status::TempError => DkimOutput::temp_err(Error::Io("DNS lookup failed".into())),
        _ => DkimOutput::fail(Error::Io("signature did not verify".into())),
    }
    .with_signature(signature)
}

async fn check_of(lookups: &Lookups<'_>, output: &DkimOutput<'_>) -> DkimCheck {
    let signature = output.signature();
    let verdict = match (output.result(), signature) {
        // RFC 8301 §3.1: rsa-sha1 signatures MUST NOT be considered valid.
        (DkimResult::Pass, Some(s)) if s.a == Algorithm::RsaSha1 => Verdict::because(
            Status::Fail,
            "rsa-sha1 is not accepted (RFC 8301 section 3.1)",
        ),
        (DkimResult::Pass, _) => Verdict::new(Status::Pass),
        (DkimResult::None, _) => Verdict::new(Status::None),
        (DkimResult::Neutral(Error::Dkim(DkimError::FailedBodyHashMatch)), _) => Verdict::because(
            Status::Fail,
            "body hash did not verify: the body changed after signing",
        ),
        (DkimResult::Neutral(Error::Dkim(DkimError::SignatureExpired)), _) => {
            Verdict::because(Status::Neutral, "signature expired (x= is past)")
        }
        // A field that could not be parsed (RFC 6376 §6.1.1: PERMFAIL).
        (DkimResult::Neutral(e), None) => Verdict::because(Status::PermError, e.to_string()),
        (DkimResult::Neutral(e), Some(_)) => Verdict::because(Status::Neutral, e.to_string()),
        (DkimResult::Fail(e), Some(s)) if s.a != Algorithm::Ed25519Sha256 => {
            match short_rsa_key(lookups, s).await {
                Some(0) => {
                    Verdict::because(Status::Fail, "the key record's p= is not an RSA public key")
                }
                Some(bits) => Verdict::because(
                    Status::Fail,
                    format!(
                        "RSA key of {bits} bits is shorter than {MIN_RSA_BITS} (RFC 8301 section 3.2)"
                    ),
                ),
                None => Verdict::because(Status::Fail, e.to_string()),
            }
        }
        (DkimResult::Fail(e), _) => Verdict::because(Status::Fail, e.to_string()),
        (DkimResult::TempError(e), _) => Verdict::because(Status::TempError, e.to_string()),
        (DkimResult::PermError(e), _) => Verdict::because(Status::PermError, e.to_string()),
    };
    DkimCheck {
        verdict,
        domain: signature
            .map(|s| s.d.to_ascii_lowercase())
            .unwrap_or_default(),
        selector: signature.map(|s| s.s.clone()).unwrap_or_default(),
        algorithm: signature.map_or("", |s| algorithm_name(s.a)),
        identity: signature.map(|s| s.i.clone()).filter(|i| !i.is_empty()),
    }
}

/// The key's size when it is an RSA key below [`MIN_RSA_BITS`] (the crypto library refuses
/// those with a bare "verification failed"; this says why). The record is in the resolver's
/// cache from the verification just made.
async fn short_rsa_key(lookups: &Lookups<'_>, signature: &Signature) -> Option<usize> {
    let fixed = lookups.params(());
    let key = lookups
        .authenticator()
        .txt_lookup::<DomainKey>(signature.domain_key(), fixed.cache_txt)
        .await
        .ok()?;
    let bits = key.p.public_key_bits();
    (bits < MIN_RSA_BITS).then_some(bits)
}

/// RFC 6376 §3.3, RFC 8463 §3 algorithm names.
fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::RsaSha256 => "rsa-sha256",
        Algorithm::RsaSha1 => "rsa-sha1",
        Algorithm::Ed25519Sha256 => "ed25519-sha256",
    }
}
