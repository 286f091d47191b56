//! DKIM key records (RFC 6376 §3.6.1) at `SELECTOR._domainkey.DOMAIN`: `v=DKIM1` first
//! when present, `k=` rsa or ed25519 (RFC 8463), `p=` a key (empty: revoked), RSA keys of
//! at least 1024 bits (RFC 8301 §3.2) and better 2048, `t=y` (testing) noted.

use super::report::Item;
use super::tags;
use crate::dns::{DnsError, Resolver};
use base64::Engine as _;

const CHECK: &str = "dkim";

/// The selectors tried when none is given: ones mail providers and tools commonly use, and
/// the year and this and last month's `YYYYMM` (what `mailward dkim keygen` picks).
pub fn common_selectors(year: i64, month: u32) -> Vec<String> {
    let mut out: Vec<String> = [
        "default",
        "selector1",
        "selector2",
        "google",
        "k1",
        "s1",
        "s2",
        "mail",
        "dkim",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    out.push(format!("{year:04}"));
    out.push(format!("{year:04}{month:02}"));
    let (py, pm) = if month <= 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    };
    out.push(format!("{py:04}{pm:02}"));
    out
}

/// Look up each selector; `guessed`: the names were not given, so absent ones are skipped.
pub(crate) async fn check(
    resolver: &Resolver,
    domain: &str,
    selectors: &[String],
    guessed: bool,
) -> Vec<Item> {
    let mut items = Vec::new();
    for selector in selectors {
        let name = format!("{selector}._domainkey.{domain}");
        match resolver.txt(&name).await {
            Ok(records) if !records.is_empty() => {
                if records.len() > 1 {
                    items.push(Item::fail(
                        CHECK,
                        name.clone(),
                        format!("{} TXT records; verifiers may pick either", records.len()),
                        "keep one key record per selector",
                    ));
                }
                for r in &records {
                    items.push(check_record(&name, r));
                }
            }
            Ok(_) | Err(DnsError::NoSuchDomain(_) | DnsError::NoRecords(..)) => {
                if !guessed {
                    items.push(Item::fail(
                        CHECK,
                        name,
                        "no key record at this selector: signatures with it fail",
                        "publish the key's TXT record (`mailward dkim keygen` prints it)",
                    ));
                }
            }
            Err(e) => items.push(Item::lookup_failed(CHECK, name, &e)),
        }
    }
    if guessed && items.is_empty() {
        items.push(Item::warn(
            CHECK,
            domain,
            format!("no DKIM key at the common selectors ({})", selectors.join(", ")),
            "sign outbound mail with DKIM and publish the key (`mailward dkim keygen`); name your selector with --selector to check it",
        ));
    }
    items
}

/// One key record's verdict.
fn check_record(name: &str, record: &str) -> Item {
    let fail = |why: String, fix: &str| Item::fail(CHECK, name, why, fix);
    let t = match tags::parse(record) {
        Ok(t) => t,
        Err(why) => {
            return fail(
                format!("syntax error: {why}"),
                "publish the record as printed by the key tool",
            );
        }
    };
    let dup = tags::duplicates(&t);
    if !dup.is_empty() {
        return fail(
            format!("tag(s) given twice: {}", dup.join(", ")),
            "give each tag once",
        );
    }
    if let Some(v) = tags::get(&t, "v")
        && (v != "DKIM1" || t.first().is_none_or(|(n, _)| n != "v"))
    {
        return fail(
            "v= must be DKIM1 and the first tag (RFC 6376 §3.6.1)".into(),
            "start the record with v=DKIM1;",
        );
    }
    let k = tags::get(&t, "k").unwrap_or("rsa").to_ascii_lowercase();
    let Some(p) = tags::get(&t, "p") else {
        return fail(
            "no p= tag: not a key record".into(),
            "publish the key's p= value",
        );
    };
    let p: String = p.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if p.is_empty() {
        return fail(
            "p= is empty: the key is revoked (RFC 6376 §3.6.1)".into(),
            "publish a current key or stop signing with this selector",
        );
    }
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&p) else {
        return fail(
            "p= is not base64".into(),
            "publish the key's base64 value unchanged",
        );
    };
    let testing = tags::get(&t, "t").is_some_and(|f| f.split(':').any(|x| x.trim() == "y"));
    let key = match k.as_str() {
        "rsa" => match rsa_modulus_bits(&der) {
            None => {
                return fail(
                    "p= is not an RSA public key".into(),
                    "publish the key's p= value as the key tool prints it",
                );
            }
            Some(bits) if bits < 1024 => {
                return fail(
                    format!(
                        "RSA key of {bits} bits: verifiers refuse keys under 1024 bits (RFC 8301 §3.2)"
                    ),
                    "make a 2048-bit key (`mailward dkim keygen --selector NEW`) and sign with it",
                );
            }
            Some(bits) if bits < 2048 => {
                return Item::warn(
                    CHECK,
                    name,
                    format!("RSA key of {bits} bits: weak, 2048 is recommended (RFC 8301 §3.2)"),
                    "make a 2048-bit key (`mailward dkim keygen --selector NEW`) and rotate to it",
                );
            }
            Some(bits) => format!("RSA key of {bits} bits"),
        },
        "ed25519" if der.len() == 32 => "Ed25519 key".to_string(),
        "ed25519" => {
            return fail(
                format!(
                    "p= is {} bytes, an Ed25519 key is 32 (RFC 8463 §4.2)",
                    der.len()
                ),
                "publish the raw 32-byte public key, base64",
            );
        }
        other => {
            return fail(
                format!("k={other} is not rsa or ed25519"),
                "use k=rsa or k=ed25519",
            );
        }
    };
    if testing {
        Item::warn(
            CHECK,
            name,
            format!("{key}, in testing mode (t=y): verifiers may ignore failures"),
            "drop t=y once signing works",
        )
    } else {
        Item::pass(CHECK, name, key)
    }
}

/// The modulus length of an RSA key given as a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7,
/// what RFC 6376 §3.6.1 shows) or as a bare RSAPublicKey (RFC 8017 Appendix A.1.1, which
/// some publish). `None` when it is neither.
fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    let (tag, seq, _) = read_tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, first, rest) = read_tlv(seq)?;
    let rsa_public_key = match tag {
        // SPKI: AlgorithmIdentifier SEQUENCE, then the key in a BIT STRING.
        0x30 => {
            let (tag, bits, _) = read_tlv(rest)?;
            if tag != 0x03 {
                return None;
            }
            let (&unused, key) = bits.split_first()?;
            if unused != 0 {
                return None;
            }
            let (tag, inner, _) = read_tlv(key)?;
            if tag != 0x30 {
                return None;
            }
            read_tlv(inner)?
        }
        // RSAPublicKey: the modulus INTEGER first.
        0x02 => (tag, first, rest),
        _ => return None,
    };
    let (tag, modulus, after) = rsa_public_key;
    let (etag, _, _) = read_tlv(after)?;
    if tag != 0x02 || etag != 0x02 {
        return None;
    }
    let modulus = match modulus.iter().position(|&b| b != 0) {
        Some(i) => &modulus[i..],
        None => return None,
    };
    let top = *modulus.first()?;
    Some((modulus.len() - 1) * 8 + (8 - top.leading_zeros() as usize))
}

/// One DER TLV (X.690 §8.1): tag, contents, what follows; `None` when malformed.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (octets, rest) = rest.split_at_checked(count)?;
        (
            octets
                .iter()
                .fold(0usize, |a, &b| (a << 8) | usize::from(b)),
            rest,
        )
    };
    let (contents, rest) = rest.split_at_checked(len)?;
    Some((tag, contents, rest))
}

#[cfg(test)]
mod tests {
    use super::super::report::Status;
    use super::*;

    #[test]
    fn bare_and_spki_rsa_lengths() {
        // RSAPublicKey { n = 0x00 0x80 00.. (1024 bits), e = 65537 }
        let mut n = vec![0x00, 0x80];
        n.extend(std::iter::repeat_n(0u8, 127));
        let mut body = vec![0x02, 0x81, n.len() as u8];
        body.extend(&n);
        body.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
        let mut pkcs1 = vec![0x30, 0x81, body.len() as u8];
        pkcs1.extend(&body);
        assert_eq!(rsa_modulus_bits(&pkcs1), Some(1024));
        assert_eq!(rsa_modulus_bits(b"not a key"), None);
        assert_eq!(rsa_modulus_bits(&[]), None);
    }

    #[test]
    fn record_verdicts() {
        assert_eq!(check_record("n", "v=DKIM1; k=rsa; p=").status, Status::Fail);
        assert_eq!(
            check_record("n", "v=DKIM1; p=bm90IGEga2V5").status,
            Status::Fail
        );
        let ed = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert_eq!(
            check_record("n", &format!("v=DKIM1; k=ed25519; p={ed}")).status,
            Status::Pass
        );
        assert_eq!(
            check_record("n", &format!("k=ed25519; v=DKIM1; p={ed}")).status,
            Status::Fail
        );
    }

    #[test]
    fn common_selectors_include_the_months() {
        let s = common_selectors(2026, 1);
        assert!(s.contains(&"202601".to_string()) && s.contains(&"202512".to_string()));
        assert!(s.contains(&"selector1".to_string()));
    }
}
