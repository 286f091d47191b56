//! Date layouts that real MTAs write after the `;` of `Received:` (or with no `;` at all)
//! although RFC 5322 §3.3 does not allow them. RFC 5321 §4.4 asks for an RFC 5322
//! `date-time` there; these hosts wrote their platform's default instead:
//!
//! - year first: Go's `time.Time.String()` (`2018-03-26 13:35:36.270951634 +0000 UTC`, what
//!   SendGrid's filter hosts write), RFC 3339 (`2018-03-26T13:35:36Z`, `+05:30`) and
//!   `2018/03/26 13:35:36`;
//! - numbers with slashes: the US short date with a 24-hour or 12-hour clock, as .NET's
//!   `DateTime.ToString()` prints it under the `en-US` culture (`4/20/2018 23:01:06 -0400
//!   (EDT)`, `4/20/2018 11:01:16 PM -0400`).
//!
//! Which number is the month in `A/B/YYYY`: a number above 12 can only be the day, so
//! `20/4/2018` is 20 April and `4/20/2018` is 20 April. When both are 12 or below the
//! date is ambiguous, and the first number is taken as the month (`4/5/2018` is 5 April):
//! the layout is the US locale's default short date, which is what the MTAs that write it
//! print when nobody configured them, and a day-first locale would more likely have
//! written dots (`05.04.2018`) or a month name.

use super::{Cursor, Fields, Tok, full_year, time, zone};

/// `YYYY ("-" / "/") MM same-sep DD [T] time [AM/PM] [zone [zone-name]]`, the year already
/// read and the cursor on the separator. Go writes a zone with no abbreviation twice
/// (`+0530 +0530`); the repetition is read too.
pub(super) fn year_first(c: &mut Cursor<'_>, year: i64) -> Option<Fields> {
    let sep = c.peek()?;
    c.pos += 1;
    let month = small_number(c)?;
    if c.peek()? != sep {
        return None;
    }
    c.pos += 1;
    let day = small_number(c)?;
    // RFC 3339 §5.6: `full-date "T" full-time` (lower case `t` allowed, §5.6 NOTE).
    if matches!(c.peek(), Some(b'T' | b't')) {
        c.pos += 1;
    }
    c.skip_cfws();
    let (hour, minute, second) = time(c)?;
    let hour = meridiem(c, hour)?;
    let offset = zone(c)?;
    let save = c.pos;
    if matches!(c.peek(), Some(b'+' | b'-')) && zone(c) != Some(offset) {
        c.pos = save;
    }
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

/// `A "/" B "/" YYYY time [AM/PM] [zone]`, the first number already read and the cursor on
/// the first `/`. Month first unless `A` is above 12 (see the module documentation).
pub(super) fn month_day_year(c: &mut Cursor<'_>, first: i64) -> Option<Fields> {
    c.pos += 1;
    let second_number = small_number(c)?;
    if c.peek()? != b'/' {
        return None;
    }
    c.pos += 1;
    let Tok::Num(y, digits @ (2 | 4)) = c.token()? else {
        return None;
    };
    let year = full_year(y, digits)?;
    let (month, day) = if first > 12 {
        (second_number, first)
    } else {
        (first, second_number)
    };
    c.skip_cfws();
    let (hour, minute, second) = time(c)?;
    let hour = meridiem(c, hour)?;
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

/// A 12-hour clock's `AM`/`PM` after the time, if there is one: returns the 24-hour hour
/// (`12 AM` is 0, `12 PM` is 12), the hour unchanged when no marker follows, and `None`
/// for a marker after an hour outside 1..=12 (`13:00 PM`).
pub(super) fn meridiem(c: &mut Cursor<'_>, hour: i64) -> Option<i64> {
    let save = c.pos;
    c.skip_fws();
    let marker = [c.peek(), c.b.get(c.pos + 1).copied()];
    let ends_word = !c.b.get(c.pos + 2).is_some_and(u8::is_ascii_alphabetic);
    let pm = match marker {
        [Some(b'A' | b'a'), Some(b'M' | b'm')] if ends_word => false,
        [Some(b'P' | b'p'), Some(b'M' | b'm')] if ends_word => true,
        _ => {
            c.pos = save;
            return Some(hour);
        }
    };
    c.pos += 2;
    if !(1..=12).contains(&hour) {
        return None;
    }
    Some(match (pm, hour) {
        (false, 12) => 0,
        (true, 12) => 12,
        (true, h) => h + 12,
        (false, h) => h,
    })
}

/// A month or day number: one or two digits.
fn small_number(c: &mut Cursor<'_>) -> Option<i64> {
    match c.token()? {
        Tok::Num(n, 1 | 2) => Some(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_date_prefix, parse_rfc5322_date};

    /// The same instant written as RFC 5322 wants it.
    fn rfc(s: &str) -> Option<(i64, i32)> {
        let parsed = parse_rfc5322_date(s);
        assert!(parsed.is_some(), "reference date {s:?} must parse");
        parsed
    }

    #[test]
    fn go_default_format_of_sendgrid_filter_hosts() {
        assert_eq!(
            parse_rfc5322_date("2018-03-26 13:35:36.270951634 +0000 UTC"),
            rfc("Mon, 26 Mar 2018 13:35:36 +0000")
        );
        assert_eq!(
            parse_rfc5322_date("2018-03-26 08:35:36.1 -0500 CDT"),
            rfc("Mon, 26 Mar 2018 08:35:36 -0500")
        );
        // A zone with no abbreviation: Go repeats the offset.
        assert_eq!(
            parse_rfc5322_date("2018-03-26 19:05:36 +0530 +0530"),
            rfc("Mon, 26 Mar 2018 19:05:36 +0530")
        );
    }

    #[test]
    fn rfc3339_and_slashed_year_first_dates() {
        let want = rfc("Mon, 26 Mar 2018 13:35:36 +0000");
        assert_eq!(parse_rfc5322_date("2018-03-26T13:35:36Z"), want);
        assert_eq!(parse_rfc5322_date("2018-03-26T13:35:36.5+00:00"), want);
        assert_eq!(parse_rfc5322_date("2018/03/26 13:35:36 +0000"), want);
        assert_eq!(
            parse_rfc5322_date("2018-03-26T19:05:36+05:30"),
            rfc("Mon, 26 Mar 2018 19:05:36 +0530")
        );
    }

    #[test]
    fn month_name_day_year_before_the_time() {
        assert_eq!(
            parse_rfc5322_date("Apr 21 2018 03:01:04 +0000"),
            rfc("Sat, 21 Apr 2018 03:01:04 +0000")
        );
        assert_eq!(
            parse_rfc5322_date("Sat, Apr 21, 2018 03:01:04 -0400"),
            rfc("Sat, 21 Apr 2018 03:01:04 -0400")
        );
    }

    #[test]
    fn us_numeric_date_with_24_hour_clock_and_zone_comment() {
        assert_eq!(
            parse_rfc5322_date("4/20/2018 23:01:06 -0400 (EDT)"),
            rfc("Fri, 20 Apr 2018 23:01:06 -0400")
        );
    }

    #[test]
    fn us_numeric_date_with_12_hour_clock() {
        assert_eq!(
            parse_rfc5322_date("4/20/2018 11:01:16 PM -0400"),
            rfc("Fri, 20 Apr 2018 23:01:16 -0400")
        );
        assert_eq!(
            parse_rfc5322_date("4/20/2018 12:01:16 AM -0400"),
            rfc("Fri, 20 Apr 2018 00:01:16 -0400")
        );
        assert_eq!(
            parse_rfc5322_date("4/20/2018 12:01:16 PM -0400"),
            rfc("Fri, 20 Apr 2018 12:01:16 -0400")
        );
        assert_eq!(
            parse_rfc5322_date("4/20/2018 9:01:16 am"),
            rfc("Fri, 20 Apr 2018 09:01:16 +0000")
        );
        // AM/PM is read in the RFC 5322 layout too.
        assert_eq!(
            parse_rfc5322_date("20 Apr 2018 11:01:16 PM -0400"),
            rfc("Fri, 20 Apr 2018 23:01:16 -0400")
        );
    }

    #[test]
    fn numeric_dates_are_month_first_unless_the_first_number_is_above_12() {
        // Unambiguous: a number above 12 is the day, wherever it stands.
        assert_eq!(
            parse_rfc5322_date("4/20/2018 10:00:00 +0000"),
            rfc("20 Apr 2018 10:00:00 +0000")
        );
        assert_eq!(
            parse_rfc5322_date("20/4/2018 10:00:00 +0000"),
            rfc("20 Apr 2018 10:00:00 +0000")
        );
        // Ambiguous: the US order decides, so this is 5 April, not 4 May.
        assert_eq!(
            parse_rfc5322_date("4/5/2018 10:00:00 +0000"),
            rfc("5 Apr 2018 10:00:00 +0000")
        );
        assert_eq!(
            parse_rfc5322_date("12/12/2018 10:00:00 +0000"),
            rfc("12 Dec 2018 10:00:00 +0000")
        );
        // Two-digit years follow RFC 5322 §4.3.
        assert_eq!(
            parse_rfc5322_date("4/20/18 10:00:00 +0000"),
            rfc("20 Apr 2018 10:00:00 +0000")
        );
    }

    #[test]
    fn impossible_mta_dates_are_refused() {
        for bad in [
            "13/13/2018 10:00:00 +0000",
            "2/30/2018 10:00:00 +0000",
            "4/20/2018 13:01:16 PM -0400",
            "4/20/2018 0:01:16 AM -0400",
            "4/20 10:00:00 +0000",
            "4/20/201 10:00:00 +0000",
            "2018-13-01 10:00:00 +0000",
            "2018-03/26 10:00:00 +0000",
            "2018-03-26",
            "2018-03-26 10:00:00 +0000 +0100",
            "2018-003-26 10:00:00 +0000",
            "Apr 21 2018 +0000",
        ] {
            assert_eq!(parse_rfc5322_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn prefix_parse_stops_after_the_mta_date() {
        let s = "4/20/2018 11:01:16 PM -0400 for <a@b.example>";
        let (_, off, used) = parse_date_prefix(s).expect("date");
        assert_eq!(off, -240);
        assert_eq!(s.get(used..), Some("for <a@b.example>"));
    }
}
