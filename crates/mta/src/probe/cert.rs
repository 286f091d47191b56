//! What a certificate says, for a person reading a probe: subject, issuer, the names it is
//! valid for (RFC 5280 §4.2.1.6 subjectAltName), its validity period (§4.1.2.5) and how
//! many days are left. Parsed with `x509-parser`, which refuses malformed DER with an error;
//! the certificate is the server's, so nothing here trusts it.

use serde::Serialize;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// The most subjectAltName entries shown (a CDN certificate can list hundreds).
pub const MAX_NAMES: usize = 100;

/// One certificate of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    /// RFC 4514 form: `CN=mx.example.test, O=Example`.
    pub subject: String,
    pub issuer: String,
    /// subjectAltName DNS names (at most [`MAX_NAMES`]).
    pub dns_names: Vec<String>,
    /// subjectAltName IP addresses.
    pub ip_addresses: Vec<String>,
    /// More subjectAltName entries than were kept.
    pub names_truncated: bool,
    /// `2026-01-31 12:00:00 UTC`.
    pub not_before: String,
    pub not_after: String,
    pub not_before_unix: i64,
    pub not_after_unix: i64,
    /// Whole days until `not_after`; negative once expired.
    pub days_to_expiry: i64,
    /// `now` is before `not_before` or after `not_after`.
    pub expired_or_not_yet_valid: bool,
    /// Subject and issuer are the same name.
    pub self_issued: bool,
    /// `RSA 2048`, `EC 256`, `Ed25519`.
    pub key: String,
    /// SHA-256 of the DER certificate, hex.
    pub sha256: String,
}

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable certificate: {0}")]
pub struct CertError(pub String);

/// Reads one DER certificate; `now` is the current Unix time.
pub fn summarize(der: &[u8], now: i64) -> Result<CertSummary, CertError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| CertError(e.to_string()))?;
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    let mut names_truncated = false;
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if dns_names.len() + ip_addresses.len() >= MAX_NAMES {
                names_truncated = true;
                break;
            }
            match name {
                GeneralName::DNSName(n) => dns_names.push(printable(n)),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        ip_addresses.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let validity = cert.validity();
    let not_before_unix = validity.not_before.timestamp();
    let not_after_unix = validity.not_after.timestamp();
    let subject = printable(&cert.subject().to_string());
    let issuer = printable(&cert.issuer().to_string());
    Ok(CertSummary {
        self_issued: subject == issuer,
        subject,
        issuer,
        dns_names,
        ip_addresses,
        names_truncated,
        not_before: utc_text(not_before_unix),
        not_after: utc_text(not_after_unix),
        not_before_unix,
        not_after_unix,
        days_to_expiry: (not_after_unix - now).div_euclid(86_400),
        expired_or_not_yet_valid: now < not_before_unix || now > not_after_unix,
        key: key_text(&cert),
        sha256: hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref()),
    })
}

/// The SubjectPublicKeyInfo's DER (RFC 6698 §2.1.2 selector 1), `None` when unreadable.
pub fn spki_der(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    Some(cert.public_key().raw.to_vec())
}

fn key_text(cert: &X509Certificate<'_>) -> String {
    // RFC 8410 §3: id-Ed25519 is 1.3.101.112.
    let oid = cert.public_key().algorithm.algorithm.to_id_string();
    if oid == "1.3.101.112" {
        return "Ed25519".into();
    }
    match cert.public_key().parsed() {
        Ok(PublicKey::RSA(k)) => format!("RSA {}", k.key_size()),
        Ok(PublicKey::EC(k)) => format!("EC {}", k.key_size()),
        _ => format!("other ({oid})"),
    }
}

fn ip_from_bytes(bytes: &[u8]) -> Option<std::net::IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(v4.into());
    }
    <[u8; 16]>::try_from(bytes).ok().map(Into::into)
}

/// Control characters shown as `?`: the text comes from the server.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `2026-01-31 12:00:00 UTC` from Unix seconds (the proleptic Gregorian calendar).
pub fn utc_text(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's `civil_from_days`
/// algorithm (public domain description of the Gregorian era arithmetic).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_in_utc() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_text(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_text(1_767_225_599), "2025-12-31 23:59:59 UTC");
        assert_eq!(utc_text(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn a_self_signed_certificate_shows_its_names_and_expiry() {
        let ck = rcgen::generate_simple_self_signed(vec![
            "mx.example.test".to_string(),
            "127.0.0.1".to_string(),
        ])
        .unwrap();
        let der = ck.cert.der().to_vec();
        let now = 1_700_000_000;
        let s = summarize(&der, now).unwrap();
        assert_eq!(s.dns_names, vec!["mx.example.test"]);
        assert_eq!(s.ip_addresses, vec!["127.0.0.1"]);
        assert!(s.self_issued);
        assert!(s.days_to_expiry > 365, "{s:?}");
        assert!(!s.expired_or_not_yet_valid);
        assert!(s.key.starts_with("EC "), "{}", s.key);
        assert_eq!(s.sha256.len(), 64);
        assert!(spki_der(&der).is_some());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(summarize(b"", 0).is_err());
        assert!(summarize(b"\x30\x82\xff\xff", 0).is_err());
        assert!(spki_der(b"\x30\x03\x02\x01\x00").is_none());
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = summarize(&bytes, 0);
        }
    }
}
