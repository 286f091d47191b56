//! The few DER structures DKIM keys need, read and written by hand (X.690 §8.1: tag,
//! length, contents): the algorithm of a PKCS#8 private key (RFC 5208 §5, RFC 5958 §2) and
//! the SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) that an RSA `p=` carries. The reader is
//! bounded by its input and never panics.

/// `rsaEncryption`, 1.2.840.113549.1.1.1 (RFC 8017 Appendix C), encoded.
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// `id-Ed25519`, 1.3.101.112 (RFC 8410 §3), encoded.
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_NULL: u8 = 0x05;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// The key algorithm a PKCS#8 `PrivateKeyInfo` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pkcs8Algorithm {
    Rsa,
    Ed25519,
    /// Another algorithm (EC keys, DSA...): DKIM has no use for it.
    Other,
}

/// One TLV: its tag, its contents and what follows it. `None` when the bytes are not DER
/// (truncated, indefinite or over-long length).
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        // X.690 §8.1.3.5: long form, 1 to 4 length octets here (keys are small).
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (octets, rest) = rest.split_at_checked(count)?;
        let len = octets
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, rest)
    };
    let (contents, rest) = rest.split_at_checked(len)?;
    Some((tag, contents, rest))
}

/// The algorithm of a PKCS#8 private key: `PrivateKeyInfo ::= SEQUENCE { version,
/// privateKeyAlgorithm AlgorithmIdentifier, privateKey OCTET STRING, ... }` (RFC 5208 §5;
/// RFC 5958 §2 adds an optional public key, which is not read). `None` when the bytes are
/// not a PKCS#8 structure.
pub(crate) fn pkcs8_algorithm(der: &[u8]) -> Option<Pkcs8Algorithm> {
    let (tag, info, _) = read_tlv(der)?;
    if tag != TAG_SEQUENCE {
        return None;
    }
    let (tag, _version, rest) = read_tlv(info)?;
    if tag != TAG_INTEGER {
        return None;
    }
    let (tag, algorithm_identifier, _) = read_tlv(rest)?;
    if tag != TAG_SEQUENCE {
        return None;
    }
    let (tag, oid, _) = read_tlv(algorithm_identifier)?;
    if tag != TAG_OID {
        return None;
    }
    Some(match oid {
        OID_RSA_ENCRYPTION => Pkcs8Algorithm::Rsa,
        OID_ED25519 => Pkcs8Algorithm::Ed25519,
        _ => Pkcs8Algorithm::Other,
    })
}

/// Appends one TLV with a definite length (X.690 §8.1.3: short form below 128, else the
/// fewest length octets).
fn write_tlv(out: &mut Vec<u8>, tag: u8, contents: &[u8]) {
    out.push(tag);
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let octets: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | octets.len() as u8);
        out.extend_from_slice(&octets);
    }
    out.extend_from_slice(contents);
}

/// Wraps a PKCS#1 `RSAPublicKey` (RFC 8017 §A.1.1) in a SubjectPublicKeyInfo with the
/// `rsaEncryption` algorithm and NULL parameters (RFC 3279 §2.3.1): the form RFC 6376
/// §3.6.1 shows for `p=` (what `openssl rsa -pubout` writes), which every verifier reads.
pub(crate) fn rsa_subject_public_key_info(rsa_public_key: &[u8]) -> Vec<u8> {
    let mut algorithm = Vec::with_capacity(16);
    write_tlv(&mut algorithm, TAG_OID, OID_RSA_ENCRYPTION);
    write_tlv(&mut algorithm, TAG_NULL, &[]);
    let mut bits = Vec::with_capacity(rsa_public_key.len() + 1);
    bits.push(0); // no unused bits in the last octet
    bits.extend_from_slice(rsa_public_key);
    let mut body = Vec::with_capacity(rsa_public_key.len() + 32);
    write_tlv(&mut body, TAG_SEQUENCE, &algorithm);
    write_tlv(&mut body, TAG_BIT_STRING, &bits);
    let mut spki = Vec::with_capacity(body.len() + 4);
    write_tlv(&mut spki, TAG_SEQUENCE, &body);
    spki
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_or_garbage_der_is_not_a_key() {
        assert_eq!(pkcs8_algorithm(b""), None);
        assert_eq!(pkcs8_algorithm(&[0x30]), None);
        assert_eq!(pkcs8_algorithm(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(pkcs8_algorithm(&[0x30, 0x80, 0, 0]), None);
        assert_eq!(pkcs8_algorithm(b"-----BEGIN PRIVATE KEY-----"), None);
    }

    #[test]
    fn ed25519_pkcs8_names_its_algorithm() {
        // RFC 8410 §10.3's example private key.
        let der = [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20, 0xd4, 0xee, 0x72, 0xdb, 0xf9, 0x13, 0x58, 0x4a, 0xd5, 0xb6, 0xd8, 0xf1,
            0xf7, 0x69, 0xf8, 0xad, 0x3a, 0xfe, 0x7c, 0x28, 0xcb, 0xf1, 0xd4, 0xfb, 0xe0, 0x97,
            0xa8, 0x8f, 0x44, 0x75, 0x58, 0x42,
        ];
        assert_eq!(pkcs8_algorithm(&der), Some(Pkcs8Algorithm::Ed25519));
    }

    #[test]
    fn spki_round_trips_through_the_reader() {
        let fake_key = vec![0x30, 0x03, 0x02, 0x01, 0x03];
        let spki = rsa_subject_public_key_info(&fake_key);
        let (tag, body, rest) = read_tlv(&spki).unwrap();
        assert_eq!((tag, rest.len()), (TAG_SEQUENCE, 0));
        let (_, alg, rest) = read_tlv(body).unwrap();
        assert_eq!(read_tlv(alg).unwrap().1, OID_RSA_ENCRYPTION);
        let (tag, bits, _) = read_tlv(rest).unwrap();
        assert_eq!(tag, TAG_BIT_STRING);
        assert_eq!(&bits[1..], &fake_key[..]);
        // A 300-byte key needs a two-octet length.
        let big = rsa_subject_public_key_info(&[7u8; 300]);
        assert_eq!(&big[..2], &[0x30, 0x82]);
    }
}
