//! DKIM verification for forensics (`mailward trace --verify`): a signature whose `x=`
//! expiry has passed "MAY" be taken as invalid (RFC 6376 §3.5), so [`super::verify_dkim`]
//! gives it no pass. Someone investigating an old message still wants to know whether the
//! signature was genuine: each signature refused only as expired is checked once more as
//! if it had no expiry. The SMTP server never uses this.

use super::dkim::{DkimCheck, Expiry, verify_signatures};
use super::lookups::Lookups;
use super::verdict::Verdict;

/// What an expired signature gives when its expiry is set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastExpiry {
    /// The signature's `x=` (seconds since the Unix epoch), which has passed.
    pub expired_at: u64,
    /// The verdict without the expiry: `pass` means it was signed correctly and only its
    /// age refuses it (RFC 8601 §2.7.1 calls that `policy`).
    pub otherwise: Verdict,
}

/// [`super::verify_dkim`]'s checks, in the same order, each with the [`PastExpiry`]
/// re-check when (and only when) the signature was refused as expired.
pub async fn verify_dkim_past_expiry(
    lookups: &Lookups<'_>,
    message: &[u8],
) -> Vec<(DkimCheck, Option<PastExpiry>)> {
    let checks = verify_signatures(lookups, message, Expiry::Enforced).await;
    if checks.iter().all(|(_, expired)| expired.is_none()) {
        return checks.into_iter().map(|(c, _)| (c, None)).collect();
    }
    let again = verify_signatures(lookups, message, Expiry::Ignored).await;
    if again.len() != checks.len() {
        // Cannot happen (same parse, same order); keep the enforced results if it does.
        return checks.into_iter().map(|(c, _)| (c, None)).collect();
    }
    checks
        .into_iter()
        .zip(again)
        .map(|((check, expired), (second, _))| {
            let past = expired.map(|expired_at| PastExpiry {
                expired_at,
                otherwise: second.verdict,
            });
            (check, past)
        })
        .collect()
}
