//! Messages signed by another implementation (python3-dkim, Debian's `python3-dkim`) are
//! verified here: the relaxed-body work-around for `mail-auth` 0.13, simple bodies keeping
//! their trailing lines (RFC 6376 §3.4.3-3.4.4), and RFC 8301's minimum RSA key size.
//! Skipped, with a notice, when `/usr/bin/python3` with `dkim` or `openssl` is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use base64::Engine;
use mailward_auth::verify::{Lookups, StaticDns, Status, verify_dkim};
use std::path::Path;
use std::process::Command;

const PYTHON: &str = "/usr/bin/python3";

/// Signs `message` with python3-dkim; prints the DKIM-Signature field.
const SIGN: &str = r#"
import dkim, sys
key = open(sys.argv[1], 'rb').read()
message = open(sys.argv[2], 'rb').read()
canon = sys.argv[3].encode().split(b'/')
sys.stdout.buffer.write(dkim.sign(message, b'sel', b'example.com', key,
    canonicalize=(canon[0], canon[1]), include_headers=[b'from', b'to', b'subject']))
"#;

const MESSAGE: &[u8] = b"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: trailing lines\r\n\r\nHello Bob,\r\nsee you.\r\n  \r\n\t\r\n \t \r\n";

struct Signer {
    dir: tempfile::TempDir,
    p: String,
}

impl Signer {
    /// A new RSA key of `bits`, or `None` (with a notice) when the tools are missing.
    fn new(bits: u32) -> Option<Signer> {
        let has_dkim = Path::new(PYTHON).exists()
            && Command::new(PYTHON)
                .args(["-c", "import dkim"])
                .status()
                .is_ok_and(|s| s.success());
        if !has_dkim {
            println!("SKIPPED: {PYTHON} with python3-dkim is not installed");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        let made = Command::new("openssl")
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt"])
            .arg(format!("rsa_keygen_bits:{bits}"))
            .arg("-out")
            .arg(&key)
            .status();
        if !made.is_ok_and(|s| s.success()) {
            println!("SKIPPED: openssl cannot make an RSA key of {bits} bits");
            return None;
        }
        let der = Command::new("openssl")
            .args(["pkey", "-pubout", "-outform", "DER", "-in"])
            .arg(&key)
            .output()
            .unwrap();
        assert!(der.status.success());
        let p = base64::engine::general_purpose::STANDARD.encode(&der.stdout);
        Some(Signer { dir, p })
    }

    fn sign(&self, message: &[u8], canonicalization: &str) -> Vec<u8> {
        let path = self.dir.path().join("message.eml");
        std::fs::write(&path, message).unwrap();
        let out = Command::new(PYTHON)
            .args(["-c", SIGN])
            .arg(self.dir.path().join("key.pem"))
            .arg(&path)
            .arg(canonicalization)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.starts_with(b"DKIM-Signature:"));
        let mut signed = out.stdout;
        signed.extend_from_slice(message);
        signed
    }

    async fn verify(&self, message: &[u8]) -> (Status, Option<String>) {
        let mut dns = StaticDns::new();
        dns.add_txt(
            "sel._domainkey.example.com",
            format!("v=DKIM1; k=rsa; p={}", self.p),
        );
        let authenticator = StaticDns::offline_authenticator().unwrap();
        let checks = verify_dkim(&Lookups::fixed(&authenticator, &dns), message).await;
        assert_eq!(checks.len(), 1, "{checks:?}");
        assert_eq!(checks[0].domain, "example.com");
        (checks[0].verdict.status, checks[0].verdict.reason.clone())
    }
}

/// Cuts the whitespace-only lines off the end of the body (a relay "tidying" it).
fn without_trailing_lines(message: &[u8]) -> Vec<u8> {
    let end = message
        .windows(10)
        .position(|w| w == b"see you.\r\n")
        .unwrap()
        + 10;
    message[..end].to_vec()
}

#[tokio::test]
async fn regress_relaxed_body_trailing_whitespace_lines_verify() {
    let Some(signer) = Signer::new(2048) else {
        return;
    };
    let signed = signer.sign(MESSAGE, "relaxed/relaxed");
    assert_eq!(signer.verify(&signed).await, (Status::Pass, None));
    // Relaxed body ignores those lines (RFC 6376 §3.4.4): without them it still verifies.
    let trimmed = without_trailing_lines(&signed);
    assert_eq!(signer.verify(&trimmed).await, (Status::Pass, None));
    // A changed word is still caught.
    let altered = String::from_utf8(signed)
        .unwrap()
        .replace("see you.", "see you!");
    assert_eq!(signer.verify(altered.as_bytes()).await.0, Status::Fail);
}

#[tokio::test]
async fn simple_body_keeps_trailing_whitespace_lines() {
    let Some(signer) = Signer::new(2048) else {
        return;
    };
    let signed = signer.sign(MESSAGE, "relaxed/simple");
    assert_eq!(signer.verify(&signed).await, (Status::Pass, None));
    // Simple body (RFC 6376 §3.4.3) counts those lines: changing them breaks the signature.
    let trimmed = without_trailing_lines(&signed);
    let (status, reason) = signer.verify(&trimmed).await;
    assert_eq!(status, Status::Fail);
    assert!(reason.unwrap().contains("body hash"));
    let mut spaced = signed.clone();
    let at = spaced.len() - 2;
    spaced.insert(at, b' ');
    assert_eq!(signer.verify(&spaced).await.0, Status::Fail);
}

#[tokio::test]
async fn rsa_keys_under_1024_bits_fail() {
    let Some(signer) = Signer::new(512) else {
        return;
    };
    let signed = signer.sign(MESSAGE, "relaxed/relaxed");
    let (status, reason) = signer.verify(&signed).await;
    assert_eq!(status, Status::Fail);
    assert!(
        reason.as_deref().unwrap().contains("512 bits"),
        "{reason:?}"
    );
}

#[tokio::test]
async fn signatures_beyond_the_limit_are_not_verified() {
    let Some(signer) = Signer::new(2048) else {
        return;
    };
    let signed = signer.sign(MESSAGE, "relaxed/relaxed");
    // Many copies of a malformed signature, then the good one below them.
    let mut message = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; bh=; b=\r\n"
        .repeat(3 * mailward_auth::verify::MAX_SIGNATURES);
    message.extend_from_slice(&signed);
    let authenticator = StaticDns::offline_authenticator().unwrap();
    let mut dns = StaticDns::new();
    dns.add_txt(
        "sel._domainkey.example.com",
        format!("v=DKIM1; k=rsa; p={}", signer.p),
    );
    let checks = verify_dkim(&Lookups::fixed(&authenticator, &dns), &message).await;
    assert!(
        checks.len() <= 2 * mailward_auth::verify::MAX_SIGNATURES,
        "{}",
        checks.len()
    );
}
