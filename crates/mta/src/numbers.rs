//! Numbers in SMTP commands read exactly. `smtp-proto` saturates a number that does not fit
//! and then lets the next digit restart it (`BDAT 99999999999999999999999` became a 999-octet
//! chunk): a front end that reads the number differently would frame the stream
//! differently, which is the shape of a smuggling bug. So the two numbers that decide
//! framing or acceptance are checked here first, and an out-of-range one is refused.

/// A decimal number as written in a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decimal {
    /// One to twenty ASCII digits whose value fits in a `u64`.
    Fits(u64),
    /// Digits only, but too many for a `u64`.
    TooBig,
    /// Empty, or something other than digits.
    NotDecimal,
}

/// Reads `s` as an unsigned decimal number, exactly.
pub fn decimal(s: &[u8]) -> Decimal {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return Decimal::NotDecimal;
    }
    let mut n: u64 = 0;
    for &d in s {
        let Some(next) = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
        else {
            return Decimal::TooBig;
        };
        n = next;
    }
    Decimal::Fits(n)
}

/// What is wrong with a number in a command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// `BDAT <size>` whose size is no number that fits (RFC 3030 §3: `chunk-size = 1*DIGIT`).
    /// The chunk's end cannot be known, so the session cannot go on.
    BdatSize,
    /// `MAIL FROM:<…> SIZE=<n>` whose value does not fit (RFC 1870 §6: the server refuses a
    /// declared size above its maximum with 552).
    DeclaredSizeTooBig,
}

/// Checks the numbers of a command line before it is parsed; `None` when they are fine (or
/// the line has none).
pub fn check(line: &[u8]) -> Option<Problem> {
    let line = line.strip_suffix(b"\r\n").unwrap_or(line);
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let verb = words.next()?;
    if verb.eq_ignore_ascii_case(b"BDAT") {
        return match words.next().map(decimal) {
            Some(Decimal::Fits(_)) => None,
            _ => Some(Problem::BdatSize),
        };
    }
    if verb.eq_ignore_ascii_case(b"MAIL") {
        for word in words {
            let Some((key, value)) = split_param(word) else {
                continue;
            };
            if key.eq_ignore_ascii_case(b"SIZE") && decimal(value) == Decimal::TooBig {
                return Some(Problem::DeclaredSizeTooBig);
            }
        }
    }
    None
}

fn split_param(word: &[u8]) -> Option<(&[u8], &[u8])> {
    let eq = word.iter().position(|&b| b == b'=')?;
    Some((word.get(..eq)?, word.get(eq + 1..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_exactly() {
        assert_eq!(decimal(b"0"), Decimal::Fits(0));
        assert_eq!(decimal(b"18446744073709551615"), Decimal::Fits(u64::MAX));
        assert_eq!(decimal(b"18446744073709551616"), Decimal::TooBig);
        assert_eq!(decimal(b"99999999999999999999999"), Decimal::TooBig);
        assert_eq!(decimal(b""), Decimal::NotDecimal);
        assert_eq!(decimal(b"12a"), Decimal::NotDecimal);
        assert_eq!(decimal(b"-1"), Decimal::NotDecimal);
    }

    #[test]
    fn regress_bdat_and_size_numbers_that_wrap_are_refused() {
        assert_eq!(
            check(b"BDAT 99999999999999999999999 LAST\r\n"),
            Some(Problem::BdatSize)
        );
        assert_eq!(check(b"bdat 12x LAST"), Some(Problem::BdatSize));
        assert_eq!(check(b"BDAT"), Some(Problem::BdatSize));
        assert_eq!(check(b"BDAT 999 LAST"), None);
        assert_eq!(
            check(b"MAIL FROM:<a@b> SIZE=99999999999999999999999"),
            Some(Problem::DeclaredSizeTooBig)
        );
        assert_eq!(check(b"MAIL FROM:<a@b> size=1000 BODY=8BITMIME"), None);
        assert_eq!(check(b"RCPT TO:<a@b>"), None);
    }

    proptest::proptest! {
        /// Any number that fits is read as `str::parse` reads it; any digit string that
        /// does not is `TooBig`, never a smaller value.
        #[test]
        fn decimal_agrees_with_parse(digits in "[0-9]{1,40}") {
            let expected = digits.parse::<u64>().map_or(Decimal::TooBig, Decimal::Fits);
            proptest::prop_assert_eq!(decimal(digits.as_bytes()), expected);
        }
    }
}
