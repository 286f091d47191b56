//! DKIM signing of outbound mail (RFC 6376, with Ed25519 from RFC 8463).
//!
//! Keys live in `<data_dir>/dkim/<domain>/<selector>.pem` (PKCS#8 PEM, RSA-2048 or Ed25519;
//! the key tells its algorithm). [`Signer::load`] reads them all at start; [`Signer::sign`]
//! picks the keys of the exact domain of the message's `From:` address and returns the
//! `DKIM-Signature:` fields to put in front of the message. `mailward dkim keygen` makes a
//! key with [`keygen::generate`] and stores it with [`store_new_key`].
//!
//! Which keys sign: per domain, one signature per algorithm, made with the newest key of
//! that algorithm (latest file modification time; equal times: the greater selector name).
//! An RSA and an Ed25519 key of one domain sign side by side, as RFC 8463 §3 advises while
//! verifiers without Ed25519 remain; an older key of the same algorithm (the one before a
//! rotation) stays on disk without signing.
//!
//! The signing itself is `mail-auth`'s, with relaxed/relaxed canonicalisation (RFC 6376
//! §3.4.2, §3.4.4). Its 0.13 relaxed body canonicalisation keeps whitespace-only lines at
//! the end of the body; `body_tail` works around that.

mod arc_seal;
pub(crate) mod body_tail;
mod der;
pub mod keygen;
mod keys;
mod record;
mod signed_fields;
mod signer;

pub use arc_seal::Arrival;
pub use keys::{
    DkimKey, KeyAlgorithm, key_dir, key_path, store_new_key, validate_domain, validate_selector,
};
pub use record::{dns_name, txt_record, zone_file_strings};
pub use signed_fields::SIGNED_FIELDS;
pub use signer::Signer;

use std::path::PathBuf;

/// What can go wrong loading, storing, generating keys or signing.
#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    /// A key file or the key directory cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file under the key directory is not a usable DKIM key.
    #[error("{}: {reason}", path.display())]
    BadKey { path: PathBuf, reason: String },
    /// `keygen` never replaces a key: its selector may be published and in use.
    #[error("{}: a DKIM key with this selector exists already (choose another --selector)", .0.display())]
    KeyExists(PathBuf),
    /// Not a domain name (RFC 5321 §4.1.2 `Domain`), so not a key directory either.
    #[error("{0:?} is not a domain name")]
    InvalidDomain(String),
    /// Not a selector (RFC 6376 §3.1: dot-separated sub-domain labels).
    #[error("{0:?} is not a DKIM selector (letters, digits, '-' and '.' labels)")]
    InvalidSelector(String),
    /// Key generation failed (the RSA generator, `openssl`, missing or failing).
    #[error("key generation failed: {0}")]
    Generate(String),
    /// The signing library refused the message or the key.
    #[error("DKIM signing with {}: {reason}", path.display())]
    Sign { path: PathBuf, reason: String },
}
