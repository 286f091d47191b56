//! Identifiers: queue IDs and session IDs.

use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn random_chars(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    if getrandom::getrandom(&mut bytes).is_err() {
        // Fall back to the clock: IDs stay unique enough for logs, never for secrets.
        let nanos = now_nanos();
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 4)) as u8 ^ (i as u8).wrapping_mul(37);
        }
    }
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// A new queue ID: 6 characters of time (base 62 of the second, sortable within a day's
/// range) then 8 random ones, e.g. `4XgK2B1Zq9mT7a`. Only `[0-9A-Za-z]`, so it is a safe
/// file name and a `Received: ... id` token.
pub fn queue_id() -> String {
    let secs = (now_nanos() / 1_000_000_000) as u64;
    let mut t = String::new();
    let mut v = secs;
    for _ in 0..6 {
        t.insert(0, char::from(ALPHABET[(v % 62) as usize]));
        v /= 62;
    }
    t + &random_chars(8)
}

/// A new session ID (6 characters).
pub fn session_id() -> String {
    random_chars(6)
}

/// True when `s` has the shape of an ID made here (so it can name a file).
pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    (now_nanos() / 1_000_000_000) as i64
}

/// Milliseconds since the Unix epoch.
pub fn unix_now_ms() -> i64 {
    (now_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_ids_are_unique_safe_file_names() {
        let a = queue_id();
        let b = queue_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 14);
        assert!(is_valid_id(&a));
        assert!(!is_valid_id("../x"));
    }
}
