//! The DNS side of a key: the name its record lives at and the TXT record itself, also
//! split for a zone file.

use super::KeyAlgorithm;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// RFC 1035 §3.3: a `<character-string>` holds at most 255 octets.
const MAX_CHARACTER_STRING: usize = 255;

/// `<selector>._domainkey.<domain>` (RFC 6376 §3.6.2.1).
pub fn dns_name(selector: &str, domain: &str) -> String {
    format!("{selector}._domainkey.{domain}")
}

/// The key record: `v=DKIM1; k=<rsa|ed25519>; p=<base64>` (RFC 6376 §3.6.1; RFC 8463 §4.2
/// for `k=ed25519`).
pub fn txt_record(algorithm: KeyAlgorithm, public_key: &[u8]) -> String {
    format!(
        "v=DKIM1; k={}; p={}",
        algorithm.key_type(),
        STANDARD.encode(public_key)
    )
}

/// The record as zone-file text: one quoted string when it fits in 255 octets, otherwise
/// `( "..." "..." )` with strings of at most 255 octets, which a verifier joins without
/// spaces (RFC 6376 §3.6.2.2). The record is ASCII without quotes or backslashes, so
/// nothing needs escaping.
pub fn zone_file_strings(record: &str) -> String {
    let quoted: Vec<String> = record
        .as_bytes()
        .chunks(MAX_CHARACTER_STRING)
        .map(|chunk| format!("\"{}\"", String::from_utf8_lossy(chunk)))
        .collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        _ => format!("( {} )", quoted.join("\n  ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_records_are_split_at_255_octets() {
        let record = format!("v=DKIM1; k=rsa; p={}", "A".repeat(400));
        let zone = zone_file_strings(&record);
        let parts: Vec<&str> = zone
            .trim_start_matches("( ")
            .trim_end_matches(" )")
            .split("\n  ")
            .map(|s| s.trim_matches('"'))
            .collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].len(), 255);
        assert_eq!(parts.concat(), record);
        assert_eq!(zone_file_strings("v=DKIM1"), "\"v=DKIM1\"");
    }
}
