//! New DKIM private keys, PKCS#8 PEM: Ed25519 from `ring` (RFC 8463 §3, RFC 8410 §7), RSA-2048
//! from `openssl genpkey` (ring signs with RSA but cannot make RSA keys, and no crate in the
//! tree can; RFC 8301 §3.2 recommends 2048 bits). Only `mailward dkim keygen` calls this: the
//! server never runs `openssl`.

use super::{DkimError, KeyAlgorithm};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::process::{Command, Stdio};

/// RSA modulus size of generated keys (RFC 8301 §3.2: at least 1024, 2048 recommended;
/// larger keys do not fit one 255-octet TXT string either way).
pub const RSA_BITS: u32 = 2048;

/// A new private key of `algorithm`, as a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
pub fn generate(algorithm: KeyAlgorithm) -> Result<Vec<u8>, DkimError> {
    match algorithm {
        KeyAlgorithm::Ed25519 => generate_ed25519(),
        KeyAlgorithm::Rsa => generate_rsa(),
    }
}

fn generate_ed25519() -> Result<Vec<u8>, DkimError> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
        .map_err(|e| DkimError::Generate(format!("Ed25519: {e}")))?;
    Ok(pem_encode("PRIVATE KEY", pkcs8.as_ref()))
}

fn generate_rsa() -> Result<Vec<u8>, DkimError> {
    let output = Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt"])
        .arg(format!("rsa_keygen_bits:{RSA_BITS}"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            DkimError::Generate(format!(
                "cannot run openssl ({e}): RSA keys are made with `openssl genpkey`; install \
                 openssl or use --algorithm ed25519"
            ))
        })?;
    if !output.status.success() {
        return Err(DkimError::Generate(format!(
            "openssl genpkey: {} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    if !output.stdout.starts_with(b"-----BEGIN PRIVATE KEY-----") {
        return Err(DkimError::Generate(
            "openssl genpkey did not write a PKCS#8 PEM key".into(),
        ));
    }
    Ok(output.stdout)
}

/// RFC 7468 §2: the label lines around base64 in lines of 64 characters.
fn pem_encode(label: &str, der: &[u8]) -> Vec<u8> {
    let b64 = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem.into_bytes()
}
