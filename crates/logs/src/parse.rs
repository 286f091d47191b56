//! Format detection and the one entry point: `line -> Option<Record>`.
//!
//! The format is decided per line from its first bytes, so files of different formats can be
//! merged and a log that switches format mid-way still reads:
//!
//! * `{` — mailward JSON lines;
//! * `YYYY-MM-DD HH:MM:SS` (a space at offset 10) — Exim;
//! * anything else — syslog (RFC 3164 or RFC 3339 stamp), read for Postfix.

use crate::event::Record;
use crate::time::{Timestamp, YearRef, parse_exim, parse_rfc3339, parse_syslog};
use crate::{exim, jsonlog, postfix};

/// Which parser a line goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Syslog,
    Exim,
    Json,
}

/// Detects the format of one line.
#[inline]
pub fn detect(line: &str) -> Format {
    let b = line.as_bytes();
    match b.first() {
        Some(b'{') => Format::Json,
        Some(c) if c.is_ascii_digit() && b.get(4) == Some(&b'-') && b.get(10) == Some(&b' ') => {
            Format::Exim
        }
        _ => Format::Syslog,
    }
}

/// Parses one line of any supported format. `year` resolves year-less syslog stamps.
#[inline]
pub fn parse_line<'a>(line: &'a str, year: &YearRef) -> Option<Record<'a>> {
    match detect(line) {
        Format::Json => jsonlog::parse_line(line),
        Format::Exim => exim::parse_line(line),
        Format::Syslog => postfix::parse_line(line, year),
    }
}

/// Only the timestamp of a line (cheaper than a full parse; used to merge files in time order).
pub fn line_time(line: &str, year: &YearRef) -> Option<Timestamp> {
    match detect(line) {
        Format::Json => {
            let i = crate::scan::find(line, "\"timestamp\":\"")?;
            parse_rfc3339(line.get(i + 13..)?).map(|(t, _)| t)
        }
        Format::Exim => parse_exim(line).map(|(t, _)| t),
        Format::Syslog if line.as_bytes().first().is_some_and(u8::is_ascii_digit) => {
            parse_rfc3339(line).map(|(t, _)| t)
        }
        Format::Syslog => parse_syslog(line, year).map(|(t, _)| t),
    }
}
