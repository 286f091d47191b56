//! Password hashes: argon2id (PHC string) for new passwords; `{SHA512-CRYPT}` (and bare
//! `$6$`) hashes imported from Dovecot verify too, as do Dovecot's `{ARGON2ID}`/`{ARGON2I}`.

use crate::error::StoreError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Hashes a new password with argon2id and a random salt.
pub fn hash(password: &str) -> Result<String, StoreError> {
    let mut salt_bytes = [0u8; 16];
    getrandom::getrandom(&mut salt_bytes).map_err(|e| StoreError::Password(e.to_string()))?;
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| StoreError::Password(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Password(e.to_string()))
}

/// Accepts a stored hash for import: argon2 PHC strings, `{SHA512-CRYPT}$6$...`, `$6$...`.
pub fn is_supported_hash(stored: &str) -> bool {
    let s = strip_scheme(stored);
    s.starts_with("$argon2") || s.starts_with("$6$")
}

fn strip_scheme(stored: &str) -> &str {
    for prefix in ["{SHA512-CRYPT}", "{ARGON2ID}", "{ARGON2I}"] {
        if let Some(rest) = stored.strip_prefix(prefix) {
            return rest;
        }
    }
    stored
}

/// True when `password` matches `stored`. Unknown schemes never match.
pub fn verify(password: &str, stored: &str) -> bool {
    let s = strip_scheme(stored);
    if s.starts_with("$6$") {
        return sha_crypt::sha512_check(password, s).is_ok();
    }
    match PasswordHash::new(s) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_round_trip() {
        let h = hash("s3cret").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("s3cret", &h));
        assert!(!verify("wrong", &h));
    }

    #[test]
    fn dovecot_sha512_crypt_import_verifies() {
        // `doveadm pw -s SHA512-CRYPT -p password` style hash (made with `mkpasswd -m sha-512`).
        let params = sha_crypt::Sha512Params::new(5000).unwrap();
        let made = sha_crypt::sha512_simple("password", &params).unwrap();
        let stored = format!("{{SHA512-CRYPT}}{made}");
        assert!(is_supported_hash(&stored));
        assert!(verify("password", &stored));
        assert!(!verify("Password", &stored));
    }

    #[test]
    fn unknown_scheme_never_matches() {
        assert!(!verify("x", "{PLAIN}x"));
        assert!(!is_supported_hash("{PLAIN}x"));
    }
}
