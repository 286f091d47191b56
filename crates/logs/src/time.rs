//! Timestamps: parsing the three log clocks and printing RFC 3339.
//!
//! A [`Timestamp`] is microseconds since the Unix epoch, UTC. Log lines carry one of:
//!
//! * the traditional syslog stamp `Mmm dd HH:MM:SS` (RFC 3164 §4.1.2), which has no year and
//!   no zone;
//! * an RFC 3339 stamp `YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)` (the RFC 5424 §6.2.3 syslog
//!   TIMESTAMP, and mailward's own JSON log);
//! * Exim's `YYYY-MM-DD HH:MM:SS[.mmm] [±hhmm]`.
//!
//! Stamps without a zone are read as UTC (syslog writes local time; a log from a machine
//! east or west of UTC is shifted by its offset, uniformly, so ordering and delays are kept).
//!
//! # Year inference for syslog stamps
//!
//! The rule, stateless per line so that files can be read in any chunking: a stamp takes the
//! year of the *reference time* (the file's modification time; for stdin and `follow`, the
//! current time). If that puts it more than one day after the reference time, it belongs to
//! the year before. A log written up to the file's mtime therefore reads correctly across
//! one New Year (`Dec 31` lines before `Jan 1` lines get the previous year), for any log
//! spanning less than a year. The one-day slack absorbs the local-time-as-UTC shift.

use mailward_message::datetime;
use std::fmt;

/// Microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

const MICROS: i64 = 1_000_000;
const DAY: i64 = 86_400;

impl Timestamp {
    /// From whole seconds since the epoch.
    pub fn from_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(MICROS))
    }

    /// Whole seconds since the epoch (floor).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(MICROS)
    }

    /// From a civil UTC date and time; `None` when a field is out of range.
    pub fn from_civil(
        y: i32,
        mon: u32,
        d: u32,
        h: u32,
        mi: u32,
        s: u32,
        micros: u32,
    ) -> Option<Self> {
        if !(1..=12).contains(&mon)
            || d == 0
            || d > days_in_month(y, mon)
            || h > 23
            || mi > 59
            || s > 60
        {
            return None;
        }
        let days = days_from_civil(y, mon, d);
        let secs = days * DAY + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
        Some(Timestamp(secs * MICROS + i64::from(micros)))
    }

    /// The civil UTC year of this instant.
    pub fn year(self) -> i32 {
        civil_from_days(self.secs().div_euclid(DAY)).0
    }

    /// Start of the hour containing this instant.
    pub fn hour_floor(self) -> Timestamp {
        Timestamp::from_secs(self.secs().div_euclid(3600) * 3600)
    }

    /// Seconds (fractional) from `earlier` to `self`.
    pub fn seconds_since(self, earlier: Timestamp) -> f64 {
        (self.0 - earlier.0) as f64 / MICROS as f64
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339, UTC, with microseconds only when non-zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.secs();
        let micros = self.0.rem_euclid(MICROS);
        let (y, m, d) = civil_from_days(secs.div_euclid(DAY));
        let sod = secs.rem_euclid(DAY);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        )?;
        if micros != 0 {
            write!(f, ".{micros:06}")?;
        }
        f.write_str("Z")
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    /// An RFC 3339 date-time, as [`Timestamp`]'s `Display` writes it.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        match parse_rfc3339(&s) {
            Some((t, n)) if n == s.len() => Ok(t),
            _ => Err(serde::de::Error::custom(format!(
                "not an RFC 3339 date-time: {s:?}"
            ))),
        }
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    u32::try_from(datetime::days_in_month(i64::from(y), i64::from(m))).unwrap_or(0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (shared with the message crate).
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    datetime::days_from_civil(i64::from(y), i64::from(m), i64::from(d))
}

/// Calendar date of a day count since 1970-01-01 (shared with the message crate); years
/// outside `i32` saturate, which no log timestamp reaches.
fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let (y, m, d) = datetime::civil_from_days(z);
    (
        i32::try_from(y).unwrap_or(if y < 0 { i32::MIN } else { i32::MAX }),
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// Fixed-width decimal digits at `b[at..at+n]`.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// A fraction `.ddd…` at `b[at..]`: (microseconds, bytes consumed including the dot).
fn fraction(b: &[u8], at: usize) -> (u32, usize) {
    if b.get(at) != Some(&b'.') {
        return (0, 0);
    }
    let mut micros = 0u32;
    let mut n = 0usize;
    while let Some(c) = b.get(at + 1 + n).filter(|c| c.is_ascii_digit()) {
        if n < 6 {
            micros = micros * 10 + u32::from(c - b'0');
        }
        n += 1;
    }
    for _ in n..6 {
        micros *= 10;
    }
    (micros, n + 1)
}

/// Hours, minutes, seconds and microseconds of a civil time.
type Clock = (u32, u32, u32, u32);

/// The reference time for syslog year inference (see the module doc).
#[derive(Debug, Clone, Copy)]
pub struct YearRef {
    now: Timestamp,
    /// For the reference year and the year before: each month's first day (days since the
    /// epoch) and length, so that a stamp costs no calendar arithmetic.
    months: [[(i64, u32); 12]; 2],
}

impl YearRef {
    /// Reference at `now` (a file's mtime, or the current time).
    pub fn new(now: Timestamp) -> Self {
        let year = now.year();
        let mut months = [[(0, 0); 12]; 2];
        for (y, table) in [year, year.saturating_sub(1)].into_iter().zip(&mut months) {
            for (m, slot) in (1..=12).zip(table.iter_mut()) {
                *slot = (days_from_civil(y, m, 1), days_in_month(y, m));
            }
        }
        YearRef { now, months }
    }

    /// The instant of a civil time (`clock` = hours, minutes, seconds, microseconds) in the
    /// reference year (`back` = 0) or the year before (`back` = 1); the same as
    /// [`Timestamp::from_civil`].
    #[inline]
    fn civil(&self, back: usize, mon: u32, d: u32, clock: Clock) -> Option<Timestamp> {
        let (h, mi, s, us) = clock;
        let &(first, len) = self
            .months
            .get(back)?
            .get(usize::try_from(mon).ok()?.checked_sub(1)?)?;
        if d == 0 || d > len || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let days = first + i64::from(d) - 1;
        let secs = days * DAY + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
        Some(Timestamp(secs * MICROS + i64::from(us)))
    }

    /// Reference at the current system time.
    pub fn current() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        YearRef::new(Timestamp::from_secs(secs))
    }

    /// Reference at the modification time of a file, or now if it has none.
    pub fn from_mtime(meta: &std::fs::Metadata) -> Self {
        match meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        {
            Some(d) => YearRef::new(Timestamp::from_secs(d.as_secs() as i64)),
            None => YearRef::current(),
        }
    }

    fn resolve(&self, mon: u32, d: u32, clock: Clock) -> Option<Timestamp> {
        match self.civil(0, mon, d, clock) {
            Some(t) if t.0 <= self.now.0 + DAY * MICROS => Some(t),
            // In the future (or Feb 29 of a common year): the year before.
            _ => self.civil(1, mon, d, clock),
        }
    }
}

fn month_number(b: &[u8]) -> Option<u32> {
    let m = match b {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    Some(m)
}

/// RFC 3164 §4.1.2 stamp `Mmm dd HH:MM:SS` (day space-padded or zero-padded) at the start of
/// `s`, optionally with a `.ffffff` fraction (rsyslog's high-precision variant).
/// Returns the instant and the bytes consumed.
pub fn parse_syslog(s: &str, year: &YearRef) -> Option<(Timestamp, usize)> {
    let b = s.as_bytes();
    // The common 15-byte form without a fraction: consecutive lines of a log mostly share
    // their second, so the last one resolved on this thread is kept and compared first.
    if let Some(stamp) = b.get(..15).and_then(|x| <&[u8; 15]>::try_from(x).ok())
        && b.get(15) != Some(&b'.')
    {
        let (last, reference, at) = LAST_STAMP.get();
        if last == *stamp && reference == year.now.0 {
            return Some((at, 15));
        }
        let parsed = parse_syslog_uncached(b, year)?;
        if parsed.1 == 15 {
            LAST_STAMP.set((*stamp, year.now.0, parsed.0));
        }
        return Some(parsed);
    }
    parse_syslog_uncached(b, year)
}

thread_local! {
    /// The last `Mmm dd HH:MM:SS` stamp [`parse_syslog`] resolved on this thread: its bytes,
    /// the [`YearRef`] it was resolved against (by its reference instant), and the instant.
    static LAST_STAMP: std::cell::Cell<([u8; 15], i64, Timestamp)> =
        const { std::cell::Cell::new(([0; 15], i64::MIN, Timestamp(0))) };
}

fn parse_syslog_uncached(b: &[u8], year: &YearRef) -> Option<(Timestamp, usize)> {
    let mon = month_number(b.get(0..3)?)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    // Day: ` d` (RFC 3164), `dd`, or a lenient unpadded `d`.
    let (day, at) = match (b.get(4), b.get(5)) {
        (Some(b' '), Some(c)) if c.is_ascii_digit() => (u32::from(c - b'0'), 6),
        (Some(c), Some(b' ')) if c.is_ascii_digit() => (u32::from(c - b'0'), 5),
        _ => (digits(b, 4, 2)?, 6),
    };
    if b.get(at) != Some(&b' ') || b.get(at + 3) != Some(&b':') || b.get(at + 6) != Some(&b':') {
        return None;
    }
    let (h, mi, sec) = (
        digits(b, at + 1, 2)?,
        digits(b, at + 4, 2)?,
        digits(b, at + 7, 2)?,
    );
    let (us, flen) = fraction(b, at + 9);
    Some((year.resolve(mon, day, (h, mi, sec, us))?, at + 9 + flen))
}

/// A zone offset `Z`, `±hh:mm` (RFC 3339) or `±hhmm` (Exim) at `b[at..]`:
/// (offset in seconds east of UTC, bytes consumed).
fn zone(b: &[u8], at: usize) -> Option<(i64, usize)> {
    match b.get(at)? {
        b'Z' | b'z' => Some((0, 1)),
        c @ (b'+' | b'-') => {
            let sign = if *c == b'-' { -1 } else { 1 };
            let h = i64::from(digits(b, at + 1, 2)?);
            let (m, len) = if b.get(at + 3) == Some(&b':') {
                (i64::from(digits(b, at + 4, 2)?), 6)
            } else {
                (i64::from(digits(b, at + 3, 2)?), 5)
            };
            Some((sign * (h * 3600 + m * 60), len))
        }
        _ => None,
    }
}

/// `YYYY-MM-DD?HH:MM:SS[.frac]` where `?` is `sep`; (instant as if UTC, bytes consumed).
fn date_time(b: &[u8], sep: u8) -> Option<(Timestamp, usize)> {
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || b.get(10) != Some(&sep) {
        return None;
    }
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    let y = digits(b, 0, 4)? as i32;
    let (mo, d, h, mi, s) = (
        digits(b, 5, 2)?,
        digits(b, 8, 2)?,
        digits(b, 11, 2)?,
        digits(b, 14, 2)?,
        digits(b, 17, 2)?,
    );
    let (us, flen) = fraction(b, 19);
    Some((Timestamp::from_civil(y, mo, d, h, mi, s, us)?, 19 + flen))
}

/// RFC 3339 (§5.6) date-time at the start of `s`, as used by RFC 5424 syslog and by
/// mailward's JSON log. A missing zone is read as UTC. Returns the instant and bytes consumed.
pub fn parse_rfc3339(s: &str) -> Option<(Timestamp, usize)> {
    let b = s.as_bytes();
    let sep = *b.get(10)?;
    if sep != b'T' && sep != b't' {
        return None;
    }
    let (t, n) = date_time(b, sep)?;
    match zone(b, n) {
        Some((off, zl)) => Some((Timestamp(t.0 - off * MICROS), n + zl)),
        None => Some((t, n)),
    }
}

/// Exim's stamp `YYYY-MM-DD HH:MM:SS[.fff]` with an optional ` ±hhmm` (log_timezone), at the
/// start of `s`. Returns the instant and bytes consumed (including the zone).
pub fn parse_exim(s: &str) -> Option<(Timestamp, usize)> {
    let b = s.as_bytes();
    let (t, n) = date_time(b, b' ')?;
    if b.get(n) == Some(&b' ')
        && let Some((off, zl)) = zone(b, n + 1).filter(|(_, zl)| *zl == 5)
    {
        return Some((Timestamp(t.0 - off * MICROS), n + 1 + zl));
    }
    Some((t, n))
}

/// A user-given time for `--since`/`--until`: RFC 3339, or `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`,
/// `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn parse_user_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Some((t, n)) = parse_rfc3339(s) {
        return (n == s.len()).then_some(t);
    }
    if let Some((t, n)) = parse_exim(s) {
        return (n == s.len()).then_some(t);
    }
    let b = s.as_bytes();
    if b.len() == 16
        && (b.get(10) == Some(&b' ') || b.get(10) == Some(&b'T'))
        && b.get(13) == Some(&b':')
    {
        let y = digits(b, 0, 4)? as i32;
        return Timestamp::from_civil(
            y,
            digits(b, 5, 2)?,
            digits(b, 8, 2)?,
            digits(b, 11, 2)?,
            digits(b, 14, 2)?,
            0,
            0,
        );
    }
    if b.len() == 10 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-') {
        return Timestamp::from_civil(
            digits(b, 0, 4)? as i32,
            digits(b, 5, 2)?,
            digits(b, 8, 2)?,
            0,
            0,
            0,
            0,
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Timestamp {
        Timestamp::from_civil(y, mo, d, h, mi, s, 0).unwrap_or_default()
    }

    #[test]
    fn the_month_table_agrees_with_the_calendar() {
        for year in [1970, 2000, 2023, 2024, 2100] {
            let r = YearRef::new(Timestamp::from_civil(year, 7, 1, 0, 0, 0, 0).unwrap_or_default());
            for back in 0..2 {
                for m in 0..=13 {
                    for d in 0..=32 {
                        assert_eq!(
                            r.civil(back, m, d, (23, 59, 60, 999_999)),
                            Timestamp::from_civil(year - back as i32, m, d, 23, 59, 60, 999_999),
                            "{year}-{m}-{d} back {back}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn civil_round_trip_prints_rfc3339() {
        assert_eq!(
            at(2026, 11, 22, 18, 43, 50).to_string(),
            "2026-11-22T18:43:50Z"
        );
        assert_eq!(at(2024, 2, 29, 0, 0, 0).to_string(), "2024-02-29T00:00:00Z");
        assert_eq!(at(1970, 1, 1, 0, 0, 0).0, 0);
    }

    #[test]
    fn a_repeated_stamp_is_resolved_against_each_reference() {
        let this_year = YearRef::new(at(2026, 6, 1, 0, 0, 0));
        let last_year = YearRef::new(at(2025, 6, 1, 0, 0, 0));
        let line = "Mar  4 05:06:07 host x";
        for _ in 0..2 {
            assert_eq!(
                parse_syslog(line, &this_year),
                Some((at(2026, 3, 4, 5, 6, 7), 15))
            );
            assert_eq!(
                parse_syslog(line, &last_year),
                Some((at(2025, 3, 4, 5, 6, 7), 15))
            );
        }
        // The same second with a fraction, then without again: neither takes the other's value.
        let fine = "Mar  4 05:06:07.250000 host x";
        let quarter = Timestamp(at(2026, 3, 4, 5, 6, 7).0 + 250_000);
        assert_eq!(parse_syslog(fine, &this_year), Some((quarter, 22)));
        assert_eq!(
            parse_syslog(line, &this_year),
            Some((at(2026, 3, 4, 5, 6, 7), 15))
        );
        assert_eq!(
            parse_syslog("Mar  4 05:06:08 host x", &this_year).map(|t| t.0),
            Some(at(2026, 3, 4, 5, 6, 8))
        );
        assert_eq!(parse_syslog("Mar 44 05:06:07 host x", &this_year), None);
    }

    #[test]
    fn syslog_stamp_takes_reference_year() {
        let r = YearRef::new(at(2026, 6, 1, 0, 0, 0));
        let (t, n) = parse_syslog("Mar  4 05:06:07 host", &r).unwrap_or_default();
        assert_eq!(t, at(2026, 3, 4, 5, 6, 7));
        assert_eq!(n, 15);
    }

    #[test]
    fn december_lines_in_a_january_file_belong_to_the_previous_year() {
        let r = YearRef::new(at(2026, 1, 2, 12, 0, 0));
        let dec = parse_syslog("Dec 31 23:59:59 h", &r).map(|x| x.0);
        let jan = parse_syslog("Jan  1 00:00:01 h", &r).map(|x| x.0);
        assert_eq!(dec, Some(at(2025, 12, 31, 23, 59, 59)));
        assert_eq!(jan, Some(at(2026, 1, 1, 0, 0, 1)));
    }

    #[test]
    fn feb_29_in_a_common_reference_year_goes_back_to_a_leap_year() {
        let r = YearRef::new(at(2025, 3, 1, 0, 0, 0));
        // 2025 has no Feb 29 and 2024 does.
        assert_eq!(
            parse_syslog("Feb 29 10:00:00 h", &r).map(|x| x.0),
            Some(at(2024, 2, 29, 10, 0, 0))
        );
    }

    #[test]
    fn rfc3339_with_offset_and_fraction() {
        let (t, n) = parse_rfc3339("2026-11-22T20:43:50.123456+02:00 host").unwrap_or_default();
        assert_eq!(t.to_string(), "2026-11-22T18:43:50.123456Z");
        assert_eq!(n, 32);
        assert_eq!(
            parse_rfc3339("2026-11-22T18:43:50Z").map(|x| x.0.to_string()),
            Some("2026-11-22T18:43:50Z".into())
        );
    }

    #[test]
    fn exim_stamp_with_and_without_zone() {
        assert_eq!(
            parse_exim("2020-06-20 01:32:57 +0200 x").map(|x| (x.0.to_string(), x.1)),
            Some(("2020-06-19T23:32:57Z".into(), 25))
        );
        assert_eq!(
            parse_exim("2020-06-19 04:51:49 [123]").map(|x| x.1),
            Some(19)
        );
        assert_eq!(
            parse_exim("2020-06-19 04:51:49.250 x").map(|x| x.0.to_string()),
            Some("2020-06-19T04:51:49.250000Z".into())
        );
    }

    #[test]
    fn garbage_is_not_a_time() {
        for s in [
            "",
            "Foo 12 00:00:00",
            "Jan 32 00:00:00 x",
            "2020-13-01 00:00:00",
            "2020-01-01T25:00:00Z",
            "Jan",
        ] {
            assert!(
                parse_syslog(s, &YearRef::current()).is_none() || s.starts_with("Jan 3"),
                "{s}"
            );
            assert!(parse_rfc3339(s).is_none(), "{s}");
        }
    }

    #[test]
    fn user_times() {
        assert_eq!(parse_user_time("2026-01-02"), Some(at(2026, 1, 2, 0, 0, 0)));
        assert_eq!(
            parse_user_time("2026-01-02 03:04"),
            Some(at(2026, 1, 2, 3, 4, 0))
        );
        assert_eq!(
            parse_user_time("2026-01-02 03:04:05"),
            Some(at(2026, 1, 2, 3, 4, 5))
        );
        assert_eq!(
            parse_user_time("2026-01-02T03:04:05+01:00"),
            Some(at(2026, 1, 2, 2, 4, 5))
        );
        assert_eq!(parse_user_time("yesterday"), None);
    }
}
