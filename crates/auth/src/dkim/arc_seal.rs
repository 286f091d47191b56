//! ARC sealing (RFC 8617 §5.1) of a message mailward forwards after it authenticated it
//! on arrival (an alias that points outside): the next receiver cannot verify SPF (we are
//! not the sender's server) and may not verify DKIM (if anything changed), but can see,
//! in a chain it can check, what we saw.
//!
//! The set's `ARC-Authentication-Results:` must hold our results (§4.1.1); `mail-auth`
//! writes it from its own outputs, so the checks are made again here (through the same
//! resolver and its cache: the answers are those of a moment ago) rather than copied from
//! our `Authentication-Results:` text. RFC 8617 §4.1.2 allows `rsa-sha256` only, so only
//! the forwarding domain's RSA key seals; without one, nothing is sealed.

use super::Signer;
use super::body_tail::signing_copy;
use super::signer::LoanedKey;
use super::{DkimError, KeyAlgorithm};
use crate::verify::{
    Lookups, check_spf_helo, check_spf_mail_from, dmarc_output_of, mail_auth_outputs,
    outputs_for_dmarc, verify_dkim,
};
use mail_auth::arc::ArcSealer;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::Canonicalization;
use mail_auth::{AuthenticatedMessage, AuthenticationResults};
use std::net::IpAddr;

/// The header fields the Message Signature covers (RFC 8617 §4.1.2 follows RFC 6376
/// §5.4.1): the ones that identify the message and its author.
const SEALED_FIELDS: &[&str] = &[
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "DKIM-Signature",
];

/// Who sent the message to us, as the SMTP session saw it.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    pub client_ip: IpAddr,
    pub helo: &'a str,
    /// The reverse-path, empty for `<>`.
    pub mail_from: &'a str,
}

impl Signer {
    /// The ARC set (`ARC-Seal:`, `ARC-Message-Signature:`, `ARC-Authentication-Results:`,
    /// CRLF-terminated) to put in front of `message` when `domain` (ours, the forwarding
    /// alias's) forwards it; `None` when `domain` has no RSA key, or when the chain that
    /// arrived has failed already (RFC 8617 §5.1.2: a failed chain is not sealed again,
    /// except to say so, which `mail-auth` does not do).
    pub async fn arc_seal(
        &self,
        lookups: &Lookups<'_>,
        domain: &str,
        authserv_id: &str,
        arrival: Arrival<'_>,
        message: &[u8],
    ) -> Result<Option<Vec<u8>>, DkimError> {
        let Some(key) = self
            .signing_keys(domain)
            .find(|k| k.algorithm() == KeyAlgorithm::Rsa)
        else {
            return Ok(None);
        };
        let Some(original) = AuthenticatedMessage::parse(message) else {
            return Ok(None);
        };
        let body_offset = original.body_offset as usize;
        let copy = signing_copy(message, body_offset);
        let Some(sealed) = AuthenticatedMessage::parse(&copy) else {
            return Ok(None);
        };

        // Our results, again.
        let spf = if arrival.mail_from.is_empty() {
            check_spf_helo(lookups, arrival.client_ip, arrival.helo, authserv_id).await
        } else {
            check_spf_mail_from(
                lookups,
                arrival.client_ip,
                arrival.helo,
                arrival.mail_from,
                authserv_id,
            )
            .await
        };
        let dkim = verify_dkim(lookups, message).await;
        let dmarc = dmarc_output_of(lookups, &original, &dkim, &spf).await;
        let all_relaxed = original
            .ams_headers
            .iter()
            .all(|h| h.header.cb == Canonicalization::Relaxed);
        let chain_on = if all_relaxed { &sealed } else { &original };
        let arc = lookups
            .authenticator()
            .verify_arc(lookups.params(chain_on))
            .await;
        if !arc.can_be_sealed() {
            return Ok(None);
        }
        let (signatures, statuses) = outputs_for_dmarc(&dkim);
        let dkim_outputs = mail_auth_outputs(&signatures, &statuses);
        let results = AuthenticationResults::new(authserv_id)
            .with_dkim_results(&dkim_outputs, dmarc.domain())
            .with_spf_mailfrom_result(
                &spf.to_output(),
                arrival.client_ip,
                arrival.mail_from,
                arrival.helo,
            )
            .with_arc_result(&arc, arrival.client_ip)
            .with_dmarc_result(&dmarc);

        let set = ArcSealer::from_key(LoanedKey(&key.signing))
            .domain(key.domain())
            .selector(key.selector())
            .headers(SEALED_FIELDS.iter().copied())
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed)
            .seal(&sealed, &results, &arc)
            .map_err(|e| DkimError::Sign {
                path: key.path().to_path_buf(),
                reason: format!("ARC seal: {e}"),
            })?;
        let mut fields = Vec::with_capacity(2048);
        set.write_header(&mut fields);
        Ok(Some(fields))
    }
}
