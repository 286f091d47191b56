//! RFC 5322 §3.3 date-time: a lenient parser (with the obsolete forms of §4.3 and the
//! `asctime` layout some old MTAs write) and writers for RFC 5322 and RFC 3339.
//!
//! No calendar crate: the civil-from-days arithmetic below is exact for the proleptic
//! Gregorian calendar, and the parser only accepts years 1900..=9999, so nothing overflows.
//!
//! The layouts that real MTAs write outside RFC 5322 (Go's default time format, numeric
//! US dates with AM/PM) live in [`mta_layouts`].

mod mta_layouts;

/// Parses an RFC 5322 `date-time` and returns `(unix seconds UTC, zone offset in minutes)`.
///
/// Accepted, beyond the strict grammar (RFC 5322 §3.3):
/// - a missing day of week, CFWS (comments, folding) between tokens (§3.2.2),
/// - 2- and 3-digit years (§4.3: `00..=49` → 2000+, else 1900+),
/// - named zones `UT`, `GMT`, `UTC`, the US zones, military letters (§4.3: all but `Z` are
///   treated as `-0000`), a missing zone (taken as `-0000`, i.e. offset 0),
/// - fractional seconds, a zone name after a numeric zone (`-0700 PDT`), a numeric zone
///   with a colon (`+05:30`), `AM`/`PM` after the time,
/// - the `asctime` layout `Fri Feb 07 10:18:12 2003 -0800` / `Fri Sep 14 14:36:56 EDT 2018`,
///   and the same with the year before the time (`Apr 21 2018 03:01:04 +0000`),
/// - year-first dates: Go's default format `2018-03-26 13:35:36.270951634 +0000 UTC`
///   (SendGrid's filter hosts), RFC 3339 `2018-03-26T13:35:36Z`, `2018/03/26 13:35:36`,
/// - numeric `M/D/YYYY` dates (`4/20/2018 11:01:16 PM -0400`): month first unless the first
///   number is above 12 (see [`mta_layouts`] for the rule and why).
///
/// Returns `None` for anything else, including out-of-range fields (day 31 of a 30-day
/// month, hour 24, zone `+2500`, ...) and text after the date-time other than CFWS.
pub fn parse_rfc5322_date(s: &str) -> Option<(i64, i32)> {
    let (unix, offset, used) = parse_date_prefix(s)?;
    let rest = s.get(used..).unwrap_or("");
    if rest.bytes().all(|b| b.is_ascii_whitespace()) {
        Some((unix, offset))
    } else {
        None
    }
}

/// Like [`parse_rfc5322_date`] but stops after the date-time (and any trailing CFWS or zone
/// name), returning how many bytes of `s` it used; what follows is left to the caller.
pub fn parse_date_prefix(s: &str) -> Option<(i64, i32, usize)> {
    let mut c = Cursor {
        b: s.as_bytes(),
        pos: 0,
    };
    c.skip_cfws();
    let mut first = c.token()?;
    if let Tok::Alpha(w) = first
        && weekday(w).is_some()
    {
        c.skip_cfws();
        if c.peek() == Some(b',') {
            c.pos += 1;
        }
        c.skip_cfws();
        first = c.token()?;
    }
    let fields = match first {
        Tok::Num(year, 4) if matches!(c.peek(), Some(b'-' | b'/')) => {
            mta_layouts::year_first(&mut c, year)?
        }
        Tok::Num(first, 1 | 2) if c.peek() == Some(b'/') => {
            mta_layouts::month_day_year(&mut c, first)?
        }
        Tok::Num(day, _) => rfc_layout(&mut c, day)?,
        Tok::Alpha(w) => asctime_layout(&mut c, month(w)?)?,
        Tok::Punct(_) => return None,
    };
    let unix = fields.to_unix()?;
    Some((unix, fields.offset, c.pos))
}

/// Writes `unix` as an RFC 5322 §3.3 date-time in the zone `offset_min` minutes east of
/// UTC, e.g. `Sun, 22 Nov 2026 18:43:50 +0000`. Offsets beyond ±99:59 are written as
/// `+0000`.
pub fn format_rfc5322(unix: i64, offset_min: i32) -> String {
    let offset = if offset_min.unsigned_abs() > 99 * 60 + 59 {
        0
    } else {
        offset_min
    };
    let local = unix.saturating_add(i64::from(offset) * 60);
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    // 1970-01-01 was a Thursday (index 4 with Sunday = 0).
    let wd = WEEKDAYS
        .get(usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0))
        .copied()
        .unwrap_or("Sun");
    let mon = MONTHS
        .get(usize::try_from(m - 1).unwrap_or(0))
        .copied()
        .unwrap_or("Jan");
    let sign = if offset < 0 { '-' } else { '+' };
    let off = offset.unsigned_abs();
    format!(
        "{wd}, {d:02} {mon} {y:04} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// Writes `unix` as an RFC 3339 §5.6 UTC timestamp, e.g. `2026-11-22T18:43:50Z`.
pub fn format_rfc3339_utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
    }
    // The common case without the formatting machinery: the tracer writes one of these per
    // hop, so it sits on the hot path.
    let mut out = String::with_capacity(20);
    push_digits(&mut out, y, 4);
    out.push('-');
    push_digits(&mut out, m, 2);
    out.push('-');
    push_digits(&mut out, d, 2);
    out.push('T');
    push_digits(&mut out, secs / 3600, 2);
    out.push(':');
    push_digits(&mut out, secs / 60 % 60, 2);
    out.push(':');
    push_digits(&mut out, secs % 60, 2);
    out.push('Z');
    out
}

/// Appends `value` (0 ≤ value < 10^width) zero-padded to `width` digits.
fn push_digits(out: &mut String, value: i64, width: u32) {
    let mut div = 10i64.pow(width.saturating_sub(1));
    while div > 0 {
        let digit = (value / div % 10).unsigned_abs() as u8;
        out.push(char::from(b'0' + digit));
        div /= 10;
    }
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Calendar fields as read, before validation.
struct Fields {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    offset: i32,
}

impl Fields {
    /// Validates every field (RFC 5322 §3.3 ranges; second 60 allowed for leap seconds) and
    /// converts to Unix seconds.
    fn to_unix(&self) -> Option<i64> {
        if !(1900..=9999).contains(&self.year)
            || !(1..=12).contains(&self.month)
            || self.day < 1
            || self.day > days_in_month(self.year, self.month)
            || !(0..=23).contains(&self.hour)
            || !(0..=59).contains(&self.minute)
            || !(0..=60).contains(&self.second)
        {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        Some(
            days * 86_400 + self.hour * 3600 + self.minute * 60 + self.second
                - i64::from(self.offset) * 60,
        )
    }
}

/// `day month year time [zone]` (RFC 5322 §3.3), the day already read.
fn rfc_layout(c: &mut Cursor<'_>, day: i64) -> Option<Fields> {
    c.skip_cfws();
    let Tok::Alpha(mon) = c.token()? else {
        return None;
    };
    let month = month(mon)?;
    c.skip_cfws();
    let Tok::Num(y, digits) = c.token()? else {
        return None;
    };
    let year = full_year(y, digits)?;
    c.skip_cfws();
    let (hour, minute, second) = time(c)?;
    let hour = mta_layouts::meridiem(c, hour)?;
    let offset = zone(c)?;
    Some(Fields {
        year,
        month,
        day,
        hour,
        minute,
        second,
        offset,
    })
}

/// `month day time [zone] year [zone]` (C `asctime` and Unix `date` output), and
/// `month day [","] year time [zone]` (`Apr 21 2018 03:01:04 +0000`, written by some
/// appliances after the `;` of `Received:`).
fn asctime_layout(c: &mut Cursor<'_>, month: i64) -> Option<Fields> {
    c.skip_cfws();
    let Tok::Num(day, _) = c.token()? else {
        return None;
    };
    c.skip_cfws();
    if c.peek() == Some(b',') {
        c.pos += 1;
        c.skip_cfws();
    }
    let mut year = None;
    // A year before the time: four digits not followed by `:` (an hour has at most two).
    let save = c.pos;
    match c.token() {
        Some(Tok::Num(y, 4)) if c.peek() != Some(b':') => {
            year = Some(y);
            c.skip_cfws();
        }
        _ => c.pos = save,
    }
    let (hour, minute, second) = time(c)?;
    let hour = mta_layouts::meridiem(c, hour)?;
    c.skip_cfws();
    let mut offset = None;
    for _ in 0..2 {
        let save = c.pos;
        match c.token() {
            Some(Tok::Num(y, digits)) if year.is_none() && digits >= 4 => {
                year = Some(full_year(y, digits)?);
            }
            Some(Tok::Punct(b'+' | b'-')) | Some(Tok::Alpha(_)) if offset.is_none() => {
                c.pos = save;
                offset = Some(zone(c)?);
            }
            _ => {
                c.pos = save;
                break;
            }
        }
        c.skip_cfws();
    }
    Some(Fields {
        year: year?,
        month,
        day,
        hour,
        minute,
        second,
        offset: offset.unwrap_or(0),
    })
}

/// `hour ":" minute [":" second ["." fraction]]`.
fn time(c: &mut Cursor<'_>) -> Option<(i64, i64, i64)> {
    let Tok::Num(h, _) = c.token()? else {
        return None;
    };
    c.skip_fws();
    if c.peek()? != b':' {
        return None;
    }
    c.pos += 1;
    c.skip_fws();
    let Tok::Num(m, _) = c.token()? else {
        return None;
    };
    let save = c.pos;
    c.skip_fws();
    let mut s = 0;
    if c.peek() == Some(b':') {
        c.pos += 1;
        c.skip_fws();
        let Tok::Num(sec, _) = c.token()? else {
            return None;
        };
        s = sec;
        if c.peek() == Some(b'.') {
            c.pos += 1;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.pos += 1;
            }
        }
    } else {
        c.pos = save;
    }
    Some((h, m, s))
}

/// The zone (RFC 5322 §3.3 `zone`, §4.3 `obs-zone`), then trailing CFWS and at most one
/// zone name written after a numeric zone. A missing zone is offset 0.
fn zone(c: &mut Cursor<'_>) -> Option<i32> {
    c.skip_cfws();
    let save = c.pos;
    let offset = match c.token() {
        None => return Some(0),
        Some(Tok::Punct(sign @ (b'+' | b'-'))) => {
            let hhmm = match c.token() {
                Some(Tok::Num(hhmm, 4)) => hhmm,
                // RFC 3339 §5.6 `time-numoffset`: `+05:30`.
                Some(Tok::Num(hh, 2)) if c.peek() == Some(b':') => {
                    c.pos += 1;
                    let Some(Tok::Num(mm, 2)) = c.token() else {
                        return None;
                    };
                    hh * 100 + mm
                }
                _ => return None,
            };
            let (h, m) = (hhmm / 100, hhmm % 100);
            if h > 23 || m > 59 {
                return None;
            }
            let mins = i32::try_from(h * 60 + m).ok()?;
            // An informational zone name may follow the numeric zone (`-0800 PST`).
            c.skip_cfws();
            let after = c.pos;
            match c.token() {
                Some(Tok::Alpha(w)) if zone_like(w) => {}
                _ => c.pos = after,
            }
            if sign == b'-' { -mins } else { mins }
        }
        Some(Tok::Alpha(w)) if zone_like(w) => named_zone(w).unwrap_or(0),
        Some(_) => {
            c.pos = save;
            0
        }
    };
    c.skip_cfws();
    Some(offset)
}

/// A word that can be a zone name: a known one, or 1-5 capital letters that are not a
/// `Received:` clause keyword.
fn zone_like(w: &[u8]) -> bool {
    named_zone(w).is_some()
        || (w.len() <= 5
            && w.iter().all(u8::is_ascii_uppercase)
            && !matches!(w, b"FROM" | b"BY" | b"VIA" | b"WITH" | b"ID" | b"FOR"))
}

/// RFC 5322 §4.3 `obs-zone`: the named zones; military letters other than `Z` and unknown
/// names SHOULD be taken as `-0000` (offset 0), which the caller does for `None` here.
fn named_zone(w: &[u8]) -> Option<i32> {
    const ZONES: [(&[u8], i32); 12] = [
        (b"UT", 0),
        (b"GMT", 0),
        (b"UTC", 0),
        (b"Z", 0),
        (b"EDT", -4),
        (b"EST", -5),
        (b"CDT", -5),
        (b"CST", -6),
        (b"MDT", -6),
        (b"MST", -7),
        (b"PDT", -7),
        (b"PST", -8),
    ];
    ZONES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(w))
        .map(|(_, h)| h * 60)
}

/// RFC 5322 §4.3: a 2-digit year is 2000+ below 50 and 1900+ otherwise; a 3-digit year is
/// 1900+. Years of more than 4 digits are refused.
fn full_year(y: i64, digits: usize) -> Option<i64> {
    match digits {
        1 | 2 if y < 50 => Some(2000 + y),
        1 | 2 => Some(1900 + y),
        3 => Some(1900 + y),
        4 => Some(y),
        _ => None,
    }
}

/// Index (Sunday = 0) of a day name, abbreviated or full, any case.
fn weekday(w: &[u8]) -> Option<usize> {
    const FULL: [&str; 7] = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    name_index(w, &FULL)
}

/// Month number (1-12) of a month name, abbreviated or full, any case.
fn month(w: &[u8]) -> Option<i64> {
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    name_index(w, &FULL).and_then(|i| i64::try_from(i + 1).ok())
}

/// Finds `w` among `names` by its 3-letter abbreviation or its full spelling.
fn name_index(w: &[u8], names: &[&str]) -> Option<usize> {
    let [a, b, c, ..] = *w else {
        return None;
    };
    let key = [
        a.to_ascii_lowercase(),
        b.to_ascii_lowercase(),
        c.to_ascii_lowercase(),
    ];
    let i = names
        .iter()
        .position(|n| n.as_bytes().get(..3) == Some(&key[..]))?;
    let full = names.get(i)?.as_bytes();
    (w.len() == 3 || full.eq_ignore_ascii_case(w)).then_some(i)
}

/// True when `w` can start a date-time: a day-of-week, a month name, a 1-2 digit day
/// number, or the start of a numeric date (`2018-03-26`, `2018/03/26`, `4/20/2018`).
pub(crate) fn may_start_date(w: &str) -> bool {
    let w = w.trim_end_matches(',').as_bytes();
    match w.first() {
        Some(b) if b.is_ascii_digit() => {
            let lead = w.iter().take_while(|b| b.is_ascii_digit()).count();
            match w.get(lead) {
                None => lead <= 2,
                Some(b'/') => lead <= 2 || lead == 4,
                Some(b'-') => lead == 4,
                Some(_) => false,
            }
        }
        Some(_) => weekday(w).is_some() || month(w).is_some(),
        None => false,
    }
}

/// RFC 5322 §3.3 dates are Gregorian: leap years every 4 years except centuries not divisible by 400.
pub fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in month `m` (1-12) of year `y`; 0 for a month out of range.
pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]; exact for every `i64` day count Unix seconds allow.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[derive(Clone, Copy)]
enum Tok<'a> {
    /// Digits and how many there were (values saturate; callers bound them).
    Num(i64, usize),
    Alpha(&'a [u8]),
    Punct(u8),
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Folding white space only (RFC 5322 §3.2.2 `FWS`).
    fn skip_fws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// RFC 5322 §3.2.2 `CFWS`: white space and nested comments with quoted-pairs.
    fn skip_cfws(&mut self) {
        loop {
            self.skip_fws();
            if self.peek() != Some(b'(') {
                return;
            }
            let mut depth = 0usize;
            while let Some(b) = self.peek() {
                self.pos += 1;
                match b {
                    b'\\' => self.pos += 1,
                    b'(' => depth += 1,
                    b')' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            self.pos = self.pos.min(self.b.len());
        }
    }

    fn token(&mut self) -> Option<Tok<'a>> {
        let start = self.pos;
        let first = self.peek()?;
        if first.is_ascii_digit() {
            let mut v: i64 = 0;
            while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
                v = v.saturating_mul(10).saturating_add(i64::from(d - b'0'));
                self.pos += 1;
            }
            Some(Tok::Num(v, self.pos - start))
        } else if first.is_ascii_alphabetic() {
            while self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
                self.pos += 1;
            }
            Some(Tok::Alpha(self.b.get(start..self.pos).unwrap_or_default()))
        } else {
            self.pos += 1;
            Some(Tok::Punct(first))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_rfc5322_date_with_zone() {
        // 2023-08-29 16:20:10 UTC
        assert_eq!(
            parse_rfc5322_date("Tue, 29 Aug 2023 09:20:10 -0700 (PDT)"),
            Some((1_693_326_010, -420))
        );
        assert_eq!(
            parse_rfc5322_date("29 Aug 2023 16:20:10 +0000"),
            Some((1_693_326_010, 0))
        );
    }

    #[test]
    fn obsolete_forms_of_rfc5322_section_4_3() {
        assert_eq!(
            parse_rfc5322_date("Wed, 26 Mar 03 20:43:24 -0600"),
            parse_rfc5322_date("Wed, 26 Mar 2003 20:43:24 -0600")
        );
        assert_eq!(
            parse_rfc5322_date("1 Jan 99 00:00:00 GMT"),
            Some((915_148_800, 0))
        );
        assert_eq!(
            parse_rfc5322_date("1 Jan 103 00:00 UT"),
            Some((1_041_379_200, 0))
        );
        assert_eq!(
            parse_rfc5322_date("Fri, 02 Jun 2006 08:15:21 PDT").map(|d| d.1),
            Some(-420)
        );
        assert_eq!(
            parse_rfc5322_date("Fri, 02 Jun 2006 08:15:21 EST").map(|d| d.1),
            Some(-300)
        );
        assert_eq!(
            parse_rfc5322_date("Fri, 02 Jun 2006 08:15:21 Z").map(|d| d.1),
            Some(0)
        );
        // Military letters other than Z are -0000 (RFC 5322 §4.3).
        assert_eq!(
            parse_rfc5322_date("Fri, 02 Jun 2006 08:15:21 A").map(|d| d.1),
            Some(0)
        );
        assert_eq!(
            parse_rfc5322_date("Fri, 02 Jun 2006 08:15:21 -0000"),
            parse_rfc5322_date("Fri, 02 Jun 2006 08:15:21 +0000")
        );
        assert_eq!(
            parse_rfc5322_date("Mon, 01 Apr 2024\r\n 01:02:19 GMT\r\n"),
            Some((1_711_933_339, 0))
        );
        assert_eq!(
            parse_rfc5322_date("Thu, 02 Apr 2020 07:53:55.516 +0000 (UTC)"),
            Some((1_585_814_035, 0))
        );
        assert_eq!(
            parse_rfc5322_date("17 Jan 2011 08:23:27 -0800 PST").map(|d| d.1),
            Some(-480)
        );
    }

    #[test]
    fn asctime_layouts() {
        let want = parse_rfc5322_date("Fri, 07 Feb 2003 10:18:12 -0800");
        assert_eq!(parse_rfc5322_date("Fri Feb 07 10:18:12 2003 -0800"), want);
        assert_eq!(
            parse_rfc5322_date("Fri Sep 14 14:36:56 EDT 2018"),
            parse_rfc5322_date("Fri, 14 Sep 2018 14:36:56 -0400")
        );
        assert_eq!(
            parse_rfc5322_date("Sun Nov 13 14:50:12 2005"),
            parse_rfc5322_date("Sun, 13 Nov 2005 14:50:12 +0000")
        );
    }

    #[test]
    fn out_of_range_values_are_refused_not_wrapped() {
        for bad in [
            "31 Apr 2023 10:00:00 +0000",
            "29 Feb 2023 10:00:00 +0000",
            "1 Jan 2023 24:00:00 +0000",
            "1 Jan 2023 23:60:00 +0000",
            "1 Jan 2023 23:59:61 +0000",
            "1 Jan 2023 23:59:59 +2500",
            "1 Jan 2023 23:59:59 +0060",
            "1 Jan 1899 23:59:59 +0000",
            "1 Jan 99999 00:00:00 +0000",
            "99999999999999999999 Jan 2023 00:00:00 +0000",
            "1 Foo 2023 00:00:00 +0000",
            "14:47:44 +0000",
            "",
            "Tue,",
            "1 Jan 2023 10:00:00 +0000 trailing words",
        ] {
            assert_eq!(parse_rfc5322_date(bad), None, "{bad:?}");
        }
        assert!(parse_rfc5322_date("29 Feb 2024 10:00:00 +0000").is_some());
    }

    #[test]
    fn prefix_parse_reports_the_length_used() {
        let s = "Thu, 20 Mar 03 10:06:43 +0100 for <a@b>";
        let (_, off, used) = parse_date_prefix(s).expect("date");
        assert_eq!(off, 60);
        assert_eq!(s.get(used..), Some("for <a@b>"));
    }

    #[test]
    fn writers_round_trip_through_the_parser() {
        assert_eq!(
            format_rfc5322(1_795_373_030, 0),
            "Sun, 22 Nov 2026 18:43:50 +0000"
        );
        assert_eq!(
            format_rfc5322(1_693_326_010, -420),
            "Tue, 29 Aug 2023 09:20:10 -0700"
        );
        assert_eq!(format_rfc3339_utc(1_693_326_010), "2023-08-29T16:20:10Z");
        assert_eq!(format_rfc3339_utc(-1), "1969-12-31T23:59:59Z");
        for (t, off) in [
            (0, 0),
            (951_782_400, 330),
            (4_102_444_799, -59),
            (-2_208_988_800, 0),
        ] {
            assert_eq!(
                parse_rfc5322_date(&format_rfc5322(t, off)),
                Some((t, off)),
                "{t} {off}"
            );
        }
        // Extreme inputs do not panic.
        let _ = format_rfc5322(i64::MAX, i32::MAX);
        let _ = format_rfc5322(i64::MIN, i32::MIN);
        let _ = format_rfc3339_utc(i64::MIN);
    }
}
