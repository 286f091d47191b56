//! The result options of an extended SEARCH or SORT (`RETURN (...)`): RFC 4731 §3.1
//! (MIN, MAX, ALL, COUNT), RFC 5267 §4 (CONTEXT, UPDATE, PARTIAL) and RFC 9394 §3.1
//! (PARTIAL counted from the last result: `-1:-100`).
//!
//! [`crate::wire::extended`] takes the words of the list off the command; they are read
//! here into [`ReturnOptions`], and [`PartialRange`] does the window arithmetic.

use std::fmt;
use std::ops::Range;

/// Why a `RETURN (...)` list is refused (answered `BAD`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("Unknown SEARCH return option {0}")]
    Unknown(String),
    /// RFC 5267 §5: `modifier-partial = "PARTIAL" SP partial-range`.
    #[error("PARTIAL range missing")]
    PartialMissing,
    /// RFC 9394 §4: both ends are nz-numbers, both positive or both negative, no `*`.
    #[error("PARTIAL range broken: {0}")]
    PartialBroken(String),
    /// RFC 5267 §4.4 / RFC 9394 §3.1: "either one PARTIAL, one ALL, or neither".
    #[error("PARTIAL can be used only once, and not with ALL")]
    PartialTwice,
    #[error("UPDATE can be used only once")]
    UpdateTwice,
}

/// RFC 9394 §4 `partial-range`: results `first..=last` counted from 1, from the first
/// result in the requested order or (`from_end`) from the last. Stored with
/// `first <= last` (RFC 5267 §5: "A range 500:400 is the same as 400:500").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialRange {
    pub from_end: bool,
    pub first: u32,
    pub last: u32,
}

impl PartialRange {
    /// Reads `a:b` or `-a:-b` (a and b nz-numbers).
    pub fn parse(s: &str) -> Result<PartialRange, ReturnError> {
        let broken = || ReturnError::PartialBroken(s.chars().take(64).collect());
        let (a, b) = s.split_once(':').ok_or_else(broken)?;
        let (from_end, a, b) = match (a.strip_prefix('-'), b.strip_prefix('-')) {
            (Some(a), Some(b)) => (true, a, b),
            (None, None) => (false, a, b),
            _ => return Err(broken()),
        };
        let number = |t: &str| -> Option<u32> {
            // nz-number = digit-nz *DIGIT: no sign, no leading zero.
            if t.is_empty() || t.starts_with('0') || !t.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            t.parse().ok()
        };
        let (a, b) = (number(a).ok_or_else(broken)?, number(b).ok_or_else(broken)?);
        Ok(PartialRange {
            from_end,
            first: a.min(b),
            last: a.max(b),
        })
    }

    /// The indexes (from 0, in the requested order) of the results the range names among
    /// `len` results; empty when it lies wholly beyond them (RFC 5267 §4.4: "the server
    /// returns the results that are in the set").
    pub fn window(&self, len: usize) -> Range<usize> {
        let first = usize::try_from(self.first).unwrap_or(usize::MAX);
        let last = usize::try_from(self.last).unwrap_or(usize::MAX);
        if self.from_end {
            // RFC 9394 §3.1: -1 is the last result, -2 the one before it.
            let end = len.saturating_sub(first - 1);
            let start = len.saturating_sub(last);
            start..end
        } else {
            let start = (first - 1).min(len);
            let end = last.min(len);
            start..end
        }
    }
}

impl fmt::Display for PartialRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from_end {
            write!(f, "-{}:-{}", self.first, self.last)
        } else {
            write!(f, "{}:{}", self.first, self.last)
        }
    }
}

/// The options of one `RETURN (...)` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnOptions {
    pub min: bool,
    pub max: bool,
    pub all: bool,
    pub count: bool,
    /// RFC 5267 §4.2: a hint; nothing changes.
    pub context: bool,
    /// RFC 5267 §4.3: keep the result up to date with ADDTO / REMOVEFROM.
    pub update: bool,
    pub partial: Option<PartialRange>,
}

impl ReturnOptions {
    /// Reads the words of the list (upper case, as [`crate::wire::extended`] gives them;
    /// PARTIAL's range is the word after it).
    pub fn parse(words: &[String]) -> Result<ReturnOptions, ReturnError> {
        let mut o = ReturnOptions::default();
        let mut it = words.iter();
        while let Some(w) = it.next() {
            match w.as_str() {
                "MIN" => o.min = true,
                "MAX" => o.max = true,
                "COUNT" => o.count = true,
                "ALL" if o.partial.is_some() => return Err(ReturnError::PartialTwice),
                "ALL" => o.all = true,
                "CONTEXT" => o.context = true,
                "UPDATE" if o.update => return Err(ReturnError::UpdateTwice),
                "UPDATE" => o.update = true,
                "PARTIAL" if o.partial.is_some() || o.all => {
                    return Err(ReturnError::PartialTwice);
                }
                "PARTIAL" => {
                    let range = it.next().ok_or(ReturnError::PartialMissing)?;
                    o.partial = Some(PartialRange::parse(range)?);
                }
                other => return Err(ReturnError::Unknown(other.chars().take(64).collect())),
            }
        }
        Ok(o)
    }

    /// RFC 4731 §3.1: a list without any result option (MIN, MAX, ALL, COUNT, or RFC 5267
    /// PARTIAL) asks for ALL; CONTEXT and UPDATE do not count (RFC 5267 §4.3: "no
    /// interaction between UPDATE and any other return options").
    pub fn wants_all(&self) -> bool {
        self.all || !(self.min || self.max || self.count || self.partial.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn range(s: &str) -> PartialRange {
        PartialRange::parse(s).unwrap()
    }

    #[test]
    fn partial_ranges_parse_and_normalize() {
        assert_eq!(
            range("4:2"),
            PartialRange {
                from_end: false,
                first: 2,
                last: 4
            }
        );
        assert_eq!(range("4:2").to_string(), "2:4");
        assert_eq!(range("-1:-100").to_string(), "-1:-100");
        assert_eq!(range("-100:-1").to_string(), "-1:-100");
        assert_eq!(range("4294967295:1").last, u32::MAX);
        for bad in [
            "1",
            "1:*",
            "*:1",
            "0:3",
            "1:0",
            "-1:2",
            "1:-2",
            "01:2",
            "+1:2",
            "",
            ":",
            "1:2:3",
            "-0:-1",
            "1:4294967296",
            "a:b",
        ] {
            assert!(PartialRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partial_windows_from_either_end() {
        // Five results.
        assert_eq!(range("1:1").window(5), 0..1);
        assert_eq!(range("2:4").window(5), 1..4);
        assert_eq!(range("1:6").window(5), 0..5);
        assert_eq!(range("6:6").window(5), 5..5);
        assert_eq!(range("5:10").window(4), 4..4);
        assert_eq!(range("-1:-1").window(5), 4..5);
        assert_eq!(range("-1:-3").window(5), 2..5);
        assert_eq!(range("-2:-100").window(5), 0..4);
        assert_eq!(range("-6:-9").window(5), 0..0);
        assert_eq!(range("-1:-100").window(0), 0..0);
        assert_eq!(range("1:4294967295").window(3), 0..3);
        assert_eq!(range("-4294967295:-4294967295").window(3), 0..0);
    }

    proptest::proptest! {
        /// Any range over any number of results names a window inside them, no wider than
        /// the range, and the mirror range from the other end names the mirror window.
        #[test]
        fn windows_stay_inside_the_results(a in 1u32.., b in 1u32.., len in 0usize..100_000) {
            let fwd = PartialRange { from_end: false, first: a.min(b), last: a.max(b) };
            let back = PartialRange { from_end: true, ..fwd };
            for w in [fwd.window(len), back.window(len)] {
                proptest::prop_assert!(w.start <= w.end && w.end <= len);
                proptest::prop_assert!((w.end - w.start) as u64 <= u64::from(fwd.last - fwd.first) + 1);
            }
            let (f, r) = (fwd.window(len), back.window(len));
            proptest::prop_assert_eq!((f.start, f.end), (len - r.end, len - r.start));
            proptest::prop_assert_eq!(PartialRange::parse(&back.to_string()), Ok(back));
        }

        #[test]
        fn parsing_never_panics(s in "[-0-9:*PARTIL ]{0,24}") {
            let _ = PartialRange::parse(&s);
            let words: Vec<String> = s.split(' ').map(str::to_string).collect();
            let _ = ReturnOptions::parse(&words);
        }
    }

    #[test]
    fn return_lists() {
        let o = ReturnOptions::parse(&words("UPDATE")).unwrap();
        assert!(o.update && o.wants_all());
        let o = ReturnOptions::parse(&words("CONTEXT COUNT")).unwrap();
        assert!(o.context && o.count && !o.wants_all());
        let o = ReturnOptions::parse(&words("PARTIAL 4:2 MIN")).unwrap();
        assert_eq!(o.partial, Some(range("2:4")));
        assert!(!o.wants_all());
        assert!(ReturnOptions::parse(&[]).unwrap().wants_all());
        for bad in [
            "PARTIAL",
            "PARTIAL 1",
            "PARTIAL 1:*",
            "PARTIAL *:1",
            "PARTIAL 1:2 PARTIAL 3:4",
            "ALL PARTIAL 1:2",
            "PARTIAL 1:2 ALL",
            "UPDATE UPDATE",
            "SAVE",
        ] {
            assert!(ReturnOptions::parse(&words(bad)).is_err(), "{bad}");
        }
    }
}
