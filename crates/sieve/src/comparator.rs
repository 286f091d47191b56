//! Comparators (RFC 4790 §9, RFC 5228 §2.7.3, RFC 5051): equality of characters and the
//! ordering RFC 5231 `:value` uses.

use std::cmp::Ordering;

/// A comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    /// RFC 4790 §9.3.
    Octet,
    /// RFC 4790 §9.2, the default (RFC 5228 §2.7.3).
    AsciiCasemap,
    /// RFC 4790 §9.1.
    AsciiNumeric,
    /// RFC 5051 (simple case folding).
    UnicodeCasemap,
}

impl Comparator {
    /// By its registered name; unknown names were refused at compile time.
    pub fn from_name(name: &str) -> Comparator {
        match name {
            "i;octet" => Comparator::Octet,
            "i;ascii-numeric" => Comparator::AsciiNumeric,
            "i;unicode-casemap" => Comparator::UnicodeCasemap,
            _ => Comparator::AsciiCasemap,
        }
    }

    /// Whether two characters are equal under this comparator.
    pub fn chars_equal(self, a: char, b: char) -> bool {
        match self {
            Comparator::Octet | Comparator::AsciiNumeric => a == b,
            Comparator::AsciiCasemap => a.eq_ignore_ascii_case(&b),
            Comparator::UnicodeCasemap => a == b || a.to_lowercase().eq(b.to_lowercase()),
        }
    }

    /// The text as this comparator compares it.
    fn fold(self, s: &str) -> String {
        match self {
            Comparator::Octet | Comparator::AsciiNumeric => s.to_string(),
            Comparator::AsciiCasemap => s.to_ascii_lowercase(),
            Comparator::UnicodeCasemap => s.to_lowercase(),
        }
    }

    /// RFC 4790 §9.1: the leading digits' value; none is positive infinity (`None`).
    fn numeric(s: &str) -> Option<u128> {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return None;
        }
        let trimmed = digits.trim_start_matches('0');
        if trimmed.len() > 38 {
            return Some(u128::MAX);
        }
        Some(trimmed.parse().unwrap_or(0))
    }

    /// The ordering of `a` against `b`.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Comparator::AsciiNumeric => match (Self::numeric(a), Self::numeric(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            Comparator::Octet => a.as_bytes().cmp(b.as_bytes()),
            _ => self.fold(a).cmp(&self.fold(b)),
        }
    }

    /// RFC 5228 §2.7.1 `:is`.
    pub fn equals(self, a: &str, b: &str) -> bool {
        match self {
            Comparator::AsciiNumeric => self.compare(a, b) == Ordering::Equal,
            Comparator::Octet => a == b,
            Comparator::AsciiCasemap => a.eq_ignore_ascii_case(b),
            Comparator::UnicodeCasemap => self.fold(a) == self.fold(b),
        }
    }

    /// RFC 5228 §2.7.1 `:contains`.
    pub fn contains(self, haystack: &str, needle: &str) -> bool {
        match self {
            Comparator::Octet | Comparator::AsciiNumeric => haystack.contains(needle),
            _ => self.fold(haystack).contains(&self.fold(needle)),
        }
    }
}
