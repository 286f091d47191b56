//! The signer: every key of `<data_dir>/dkim`, loaded once, and the signing of a message
//! with the keys of its `From:` domain.

use super::keys::load_all;
use super::{DkimError, DkimKey, KeyAlgorithm, body_tail, signed_fields};
use mail_auth::common::crypto::{Algorithm, DkimKey as MailAuthKey, Sha256, SigningKey};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::common::headers::Writable;
use mail_auth::dkim::{Canonicalization, DkimSigner};
use std::collections::BTreeMap;
use std::path::Path;

/// The DKIM keys of every signing domain, ready to sign (cheap to share behind an `Arc`).
#[derive(Debug, Default)]
pub struct Signer {
    /// Every key found, sorted by domain and selector.
    keys: Vec<DkimKey>,
    /// Per domain, the indexes into `keys` that sign: the newest key of each algorithm,
    /// RSA first.
    signing: BTreeMap<String, Vec<usize>>,
}

impl Signer {
    /// Loads every key under `dir` (`<data_dir>/dkim`): `<dir>/<domain>/<selector>.pem`. A
    /// missing `dir` gives a signer without keys; a `.pem` file that is not a usable RSA or
    /// Ed25519 key is an error naming it.
    pub fn load(dir: &Path) -> Result<Signer, DkimError> {
        Ok(Signer::from_keys(load_all(dir)?))
    }

    /// A signer for these keys: per domain and algorithm the newest (latest modification
    /// time; equal times: the greater selector) signs.
    pub fn from_keys(keys: Vec<DkimKey>) -> Signer {
        let mut newest: BTreeMap<(String, KeyAlgorithm), usize> = BTreeMap::new();
        for (i, key) in keys.iter().enumerate() {
            let slot = newest
                .entry((key.domain().to_string(), key.algorithm()))
                .or_insert(i);
            let current = &keys[*slot];
            if (key.modified(), key.selector()) > (current.modified(), current.selector()) {
                *slot = i;
            }
        }
        let mut signing: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        // BTreeMap order: by domain, then Rsa before Ed25519.
        for ((domain, _), i) in newest {
            signing.entry(domain).or_default().push(i);
        }
        Signer { keys, signing }
    }

    /// True when no key was found (nothing will be signed).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every loaded key, sorted by domain and selector (signing or not).
    pub fn keys(&self) -> &[DkimKey] {
        &self.keys
    }

    /// The keys that sign mail from `domain` (exact, lower case): one per algorithm.
    pub fn signing_keys<'a>(&'a self, domain: &str) -> impl Iterator<Item = &'a DkimKey> + 'a {
        self.signing
            .get(&domain.to_ascii_lowercase())
            .into_iter()
            .flatten()
            .filter_map(|&i| self.keys.get(i))
    }

    /// Signs `message` (RFC 5322 in its wire form: CRLF line ends, the bytes that will be
    /// sent) with the keys of the domain of its `From:` address, that exact domain: a
    /// subdomain's mail is not signed with its parent's key (`d=` is then the author's
    /// domain, what DMARC aligns strictly with). A body whose last line lacks its CRLF is
    /// signed as it arrives, with the CRLF the SMTP client adds before the final "."
    /// (RFC 5321 §4.1.1.4).
    ///
    /// Returns the `DKIM-Signature:` fields, each CRLF-terminated, to put in front of the
    /// message, which is sent unchanged; `None` when no key fits: no key for the domain, no
    /// `From:` field, more than one, or addresses of several domains in it.
    ///
    /// Each signature: `a=rsa-sha256` or `ed25519-sha256`, `c=relaxed/relaxed`, `t=` now,
    /// `h=` the present fields of [`super::SIGNED_FIELDS`] and `List-*`, `From` once more.
    pub fn sign(&self, message: &[u8]) -> Result<Option<Vec<u8>>, DkimError> {
        let plan = signed_fields::plan(message);
        let Some(domain) = plan.from_domain.as_deref() else {
            return Ok(None);
        };
        let keys: Vec<&DkimKey> = self.signing_keys(domain).collect();
        if keys.is_empty() {
            return Ok(None);
        }
        let signed = body_tail::signing_copy(message, plan.body_offset);
        let mut fields = Vec::with_capacity(keys.len() * 512);
        for key in keys {
            fields.extend_from_slice(&sign_with(key, &plan.fields, &signed)?);
        }
        Ok(Some(fields))
    }
}

/// A loaned key: `mail-auth`'s signer takes its key by value, ours stay loaded.
pub(crate) struct LoanedKey<'a>(pub(crate) &'a MailAuthKey);

impl SigningKey for LoanedKey<'_> {
    type Hasher = Sha256;

    fn sign(&self, input: impl Writable) -> mail_auth::Result<Vec<u8>> {
        self.0.sign(input)
    }

    fn algorithm(&self) -> Algorithm {
        self.0.algorithm()
    }
}

/// One `DKIM-Signature:` field (RFC 6376 §3.5), CRLF-terminated.
fn sign_with(key: &DkimKey, fields: &[String], message: &[u8]) -> Result<Vec<u8>, DkimError> {
    let signature = DkimSigner::from_key(LoanedKey(&key.signing))
        .domain(key.domain())
        .selector(key.selector())
        .headers(fields.iter().map(String::as_str))
        // RFC 6376 §3.4: relaxed survives the re-folding and re-spacing relays do.
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed)
        .sign(message)
        .map_err(|e| DkimError::Sign {
            path: key.path().to_path_buf(),
            reason: e.to_string(),
        })?;
    let mut header = Vec::with_capacity(512);
    signature.write_header(&mut header);
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The delivery side shares one signer between tasks (`Arc<Signer>`).
    #[test]
    fn signer_is_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Signer>();
    }

    #[test]
    fn an_empty_signer_signs_nothing() {
        let signer = Signer::default();
        assert!(signer.is_empty());
        let msg = b"From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n";
        assert_eq!(signer.sign(msg).unwrap(), None);
        assert_eq!(signer.sign(b"").unwrap(), None);
        assert_eq!(signer.sign(b"\r\n\r\n").unwrap(), None);
    }
}
