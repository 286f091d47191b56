//! Pieces every generated message needs: a `Date` (RFC 5322 §3.3), a `Message-ID`
//! (RFC 5322 §3.6.4), header values safe to write (no CR/LF from a script), RFC 2047
//! encoded words for non-ASCII text.

use crate::Environment;

/// `Date:` value for `env.now` at `env.utc_offset_minutes` (RFC 5322 §3.3 date-time).
pub fn rfc5322_date(env: &Environment) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let offset = i64::from(env.utc_offset_minutes.clamp(-1439, 1439));
    let local = env.now.saturating_add(offset * 60);
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let weekday = DAYS
        .get(usize::try_from(days.rem_euclid(7)).unwrap_or(0))
        .copied()
        .unwrap_or("Thu");
    let month_name = MONTHS
        .get(usize::try_from(month.saturating_sub(1)).unwrap_or(0))
        .copied()
        .unwrap_or("Jan");
    let sign = if offset < 0 { '-' } else { '+' };
    format!(
        "{weekday}, {day} {month_name} {year} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        offset.abs() / 60,
        offset.abs() % 60
    )
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A `Message-ID` (RFC 5322 §3.6.4, with its angle brackets) unique to these inputs:
/// a hash of them, the time and the domain.
pub fn message_id(env: &Environment, parts: &[&[u8]]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(b"\0") {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let domain = header_safe(&env.domain);
    let domain = if domain.is_empty() {
        "localhost".to_string()
    } else {
        domain
    };
    format!("<sieve.{}.{hash:016x}@{domain}>", env.now)
}

/// A value a script supplied made safe for one header line: CR, LF and other control
/// characters become spaces (no field injection), trimmed.
pub fn header_safe(value: &str) -> String {
    value
        .chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .collect::<String>()
        .trim()
        .to_string()
}

/// `text` as an unstructured header value: as is when it is ASCII, otherwise RFC 2047
/// §4.1 "B" encoded words of UTF-8, each at most 75 characters (§2), split between
/// characters, never inside one (§5).
pub fn encode_unstructured(text: &str) -> String {
    let text = header_safe(text);
    if text.is_ascii() {
        return text;
    }
    // 75 - len("=?UTF-8?B??=") = 63 base64 characters = 45 bytes of text at most.
    const MAX_CHUNK: usize = 45;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for ch in text.chars() {
        if chunk.len() + ch.len_utf8() > MAX_CHUNK {
            words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(ch);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

/// RFC 4648 §4 base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b0 = u32::from(group.first().copied().unwrap_or(0));
        let b1 = u32::from(group.get(1).copied().unwrap_or(0));
        let b2 = u32::from(group.get(2).copied().unwrap_or(0));
        let triple = (b0 << 16) | (b1 << 8) | b2;
        for (position, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if position <= group.len() {
                let index = usize::try_from((triple >> shift) & 63).unwrap_or(0);
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `text` with every line ending CRLF (RFC 5322 §2.1), and a final CRLF.
pub fn crlf_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split('\n') {
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
        out.push_str("\r\n");
    }
    if text.ends_with('\n') {
        out.truncate(out.len() - 2);
    }
    out
}

/// `text` encoded for a body: 7bit when it is ASCII, otherwise base64 in 76-character
/// lines (RFC 2045 §6.8). Returns (Content-Transfer-Encoding, body).
pub fn body_encoding(text: &str) -> (&'static str, String) {
    if text.is_ascii() {
        return ("7bit", crlf_lines(text));
    }
    let encoded = base64(crlf_lines(text).as_bytes());
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38);
    for line in encoded.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push_str("\r\n");
    }
    ("base64", out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_is_rfc5322_with_the_local_offset() {
        let env = Environment {
            now: 1_700_000_000,
            utc_offset_minutes: 60,
            ..Environment::default()
        };
        assert_eq!(rfc5322_date(&env), "Tue, 14 Nov 2023 23:13:20 +0100");
        let env = Environment {
            now: 0,
            utc_offset_minutes: -90,
            ..Environment::default()
        };
        assert_eq!(rfc5322_date(&env), "Wed, 31 Dec 1969 22:30:00 -0130");
    }

    #[test]
    fn utf8_subjects_are_rfc2047_encoded_words_of_at_most_75_characters() {
        let encoded = encode_unstructured(&"Abwesenheit für März ".repeat(6));
        for word in encoded.split("\r\n ") {
            assert!(word.starts_with("=?UTF-8?B?") && word.ends_with("?="));
            assert!(word.len() <= 75, "{word}");
        }
        assert_eq!(encode_unstructured("plain"), "plain");
        assert_eq!(base64(b"f\xc3\xbcr"), "ZsO8cg==");
    }

    #[test]
    fn header_injection_is_refused() {
        assert_eq!(header_safe("hi\r\nBcc: x@y.test"), "hi  Bcc: x@y.test");
    }
}
