//! DANE for SMTP (RFC 7672): the TLSA records at `_PORT._tcp.MX` (§2.2) and whether any of
//! them matches the certificates the server presented (RFC 6698 §2.1: usage, selector,
//! matching type). The match is informative only: DANE may refuse a certificate only when
//! the TLSA records were authenticated by DNSSEC (RFC 7672 §2.2), and mailward's resolver
//! does not validate DNSSEC.

use super::cert::{hex, spki_der};
use mailward_auth::TlsaRecord;
use rustls::pki_types::CertificateDer;
use serde::Serialize;

/// What the probe says about DNSSEC, every time DANE is shown.
pub const NOT_VALIDATED: &str = "DNSSEC validation not available: mailward's resolver does not \
validate, so these TLSA records are unauthenticated and DANE is not applied (RFC 7672 §2.2)";

/// One TLSA record and what it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsaView {
    pub usage: u8,
    pub selector: u8,
    pub matching: u8,
    /// The association data, hex.
    pub data: String,
    /// `DANE-EE`, `DANE-TA`, `PKIX-EE`, `PKIX-TA`, or the number.
    pub usage_name: String,
    /// RFC 7672 §3.1.3: usages PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP; unknown
    /// selectors and matching types are unusable too (RFC 6698 §4.1).
    pub usable: bool,
    /// The position in the presented chain (0 = the server's own) of the certificate this
    /// record matches, when one does.
    pub matches_certificate: Option<usize>,
}

/// Reads `records` against `chain` (empty when no TLS was negotiated).
pub fn check(records: &[TlsaRecord], chain: &[CertificateDer<'_>]) -> Vec<TlsaView> {
    records.iter().map(|r| view(r, chain)).collect()
}

fn view(r: &TlsaRecord, chain: &[CertificateDer<'_>]) -> TlsaView {
    let usage_name = match r.usage {
        0 => "PKIX-TA".to_string(),
        1 => "PKIX-EE".to_string(),
        2 => "DANE-TA".to_string(),
        3 => "DANE-EE".to_string(),
        n => n.to_string(),
    };
    let usable = matches!(r.usage, 2 | 3) && r.selector <= 1 && r.matching <= 2;
    // RFC 7672 §3.1.1: DANE-EE matches the server's own certificate; §3.1.2: DANE-TA a
    // trust anchor the server sends after it. PKIX usages are compared for information.
    let candidates: Vec<usize> = match r.usage {
        1 | 3 => vec![0],
        2 => (1..chain.len()).collect(),
        _ => (0..chain.len()).collect(),
    };
    let matches_certificate = candidates.into_iter().find(|&i| {
        chain
            .get(i)
            .is_some_and(|c| association_matches(r, c.as_ref()))
    });
    TlsaView {
        usage: r.usage,
        selector: r.selector,
        matching: r.matching,
        data: hex(&r.data),
        usage_name,
        usable,
        matches_certificate,
    }
}

/// RFC 6698 §2.1.2 (selector) and §2.1.3 (matching type).
fn association_matches(r: &TlsaRecord, der: &[u8]) -> bool {
    let selected = match r.selector {
        0 => der.to_vec(),
        1 => match spki_der(der) {
            Some(spki) => spki,
            None => return false,
        },
        _ => return false,
    };
    match r.matching {
        0 => selected == r.data,
        1 => ring::digest::digest(&ring::digest::SHA256, &selected).as_ref() == r.data,
        2 => ring::digest::digest(&ring::digest::SHA512, &selected).as_ref() == r.data,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dane_ee_record_matches_the_servers_key() {
        let ck = rcgen::generate_simple_self_signed(vec!["mx.b.test".to_string()]).unwrap();
        let der = ck.cert.der().clone();
        let spki = spki_der(der.as_ref()).unwrap();
        let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
        let records = [
            TlsaRecord {
                usage: 3,
                selector: 1,
                matching: 1,
                data: digest.as_ref().to_vec(),
            },
            TlsaRecord {
                usage: 3,
                selector: 0,
                matching: 1,
                data: vec![0; 32],
            },
            TlsaRecord {
                usage: 1,
                selector: 0,
                matching: 0,
                data: der.to_vec(),
            },
        ];
        let views = check(&records, &[der]);
        assert_eq!(views[0].matches_certificate, Some(0));
        assert!(views[0].usable);
        assert_eq!(views[0].usage_name, "DANE-EE");
        assert_eq!(views[1].matches_certificate, None);
        assert_eq!(views[2].matches_certificate, Some(0));
        assert!(!views[2].usable, "PKIX-EE is not for SMTP");
    }

    #[test]
    fn nothing_matches_without_a_chain() {
        let r = TlsaRecord {
            usage: 2,
            selector: 1,
            matching: 2,
            data: vec![1, 2],
        };
        assert_eq!(check(&[r], &[])[0].matches_certificate, None);
    }
}
