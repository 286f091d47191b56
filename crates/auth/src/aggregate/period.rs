//! Reporting periods: one UTC day (RFC 9990 §3.1.1.3 `date_range`; RFC 9989 §4.7 leaves the
//! interval to the receiver, and a day is what receivers send and domain owners expect).

use super::error::AggregateError;
use chrono::{DateTime, Days, NaiveDate, Utc};
use std::fmt;

const DAY: i64 = 86_400;

/// One UTC day: `begin` at 00:00:00, `end` at 23:59:59 (both seconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    date: NaiveDate,
}

impl Period {
    /// The day holding `unix` (seconds since the epoch).
    pub fn containing(unix: i64) -> Period {
        let date = DateTime::<Utc>::from_timestamp(unix, 0)
            .map(|t| t.date_naive())
            .unwrap_or_default();
        Period { date }
    }

    /// `YYYY-MM-DD`, `today` or `yesterday` (relative to `now_unix`).
    pub fn parse(text: &str, now_unix: i64) -> Result<Period, AggregateError> {
        let today = Period::containing(now_unix);
        match text.trim() {
            "today" => Ok(today),
            "yesterday" => Ok(today.previous()),
            day => NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .map(|date| Period { date })
                .map_err(|_| AggregateError::BadPeriod(text.to_string())),
        }
    }

    pub fn previous(self) -> Period {
        Period {
            date: self
                .date
                .checked_sub_days(Days::new(1))
                .unwrap_or(self.date),
        }
    }

    pub fn next(self) -> Period {
        Period {
            date: self
                .date
                .checked_add_days(Days::new(1))
                .unwrap_or(self.date),
        }
    }

    /// 00:00:00 UTC of the day.
    pub fn begin(self) -> i64 {
        self.date
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or_default()
    }

    /// 23:59:59 UTC of the day.
    pub fn end(self) -> i64 {
        self.begin() + DAY - 1
    }

    /// Whether the period is over at `now_unix`.
    pub fn is_over(self, now_unix: i64) -> bool {
        now_unix > self.end()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.date.format("%Y-%m-%d"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_runs_from_midnight_to_the_last_second() {
        // 2026-12-07T20:18:02Z
        let p = Period::containing(1_796_674_682);
        assert_eq!(p.to_string(), "2026-12-07");
        assert_eq!(p.end() - p.begin(), DAY - 1);
        assert_eq!(Period::containing(p.begin()), p);
        assert_eq!(Period::containing(p.end()), p);
        assert_eq!(Period::containing(p.end() + 1), p.next());
    }

    #[test]
    fn parses_named_and_dated_periods() {
        let now = 1_796_674_682;
        assert_eq!(
            Period::parse("today", now).unwrap().to_string(),
            "2026-12-07"
        );
        assert_eq!(
            Period::parse("yesterday", now).unwrap().to_string(),
            "2026-12-06"
        );
        assert_eq!(
            Period::parse("2026-02-28", now).unwrap().next().to_string(),
            "2026-03-01"
        );
        assert!(Period::parse("2026-13-01", now).is_err());
        assert!(Period::parse("last week", now).is_err());
    }
}
