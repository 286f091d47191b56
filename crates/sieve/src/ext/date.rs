//! RFC 5260 date and currentdate, with `:zone` / `:originalzone` and the date-parts of
//! §4.2.

use chrono::{DateTime, Datelike, FixedOffset, Offset, TimeZone, Timelike, Utc};

use crate::compile::Node;
use crate::eval::tests::select_index;
use crate::eval::{Flow, Run};

/// Evaluates `date` or `currentdate`.
pub fn test(run: &mut Run<'_>, node: &Node) -> Result<bool, Flow> {
    let current = node.name == "currentdate";
    let (part_arg, keys_arg) = if current { (0, 1) } else { (1, 2) };
    let part = run
        .string(node.positional.get(part_arg))
        .to_ascii_lowercase();
    let keys = run.strings(node.positional.get(keys_arg));
    let local =
        FixedOffset::east_opt(run.env.utc_offset_minutes.saturating_mul(60)).unwrap_or(Utc.fix());
    let zone = match node.tag_value("zone") {
        Some(value) => match parse_zone(&run.string(Some(value))) {
            Some(zone) => Some(zone),
            // RFC 5260 §4.1: an invalid zone makes the test fail.
            None => return Ok(false),
        },
        None => None,
    };
    let moments: Vec<DateTime<FixedOffset>> = if current {
        local
            .timestamp_opt(run.env.now, 0)
            .single()
            .into_iter()
            .map(|d| d.with_timezone(&zone.unwrap_or(local)))
            .collect()
    } else {
        let header = run.string(node.positional.first());
        let fields: Vec<String> = run.message.fields(&header).map(|f| f.unfolded()).collect();
        let fields = select_index(run, node, fields);
        fields
            .iter()
            .filter_map(|value| {
                // RFC 5260 §4: a Received field's date follows its last semicolon.
                let value = if header.eq_ignore_ascii_case("received") {
                    value.rsplit(';').next().unwrap_or(value)
                } else {
                    value
                };
                parse_date(value)
            })
            .map(|date| {
                if node.has_tag("originalzone") {
                    date
                } else {
                    date.with_timezone(&zone.unwrap_or(local))
                }
            })
            .collect()
    };
    let values: Vec<String> = moments
        .iter()
        .filter_map(|date| date_part(date, &part))
        .collect();
    if values.is_empty()
        && !matches!(
            run.match_type(node),
            crate::eval::matching::MatchType::Count(_)
        )
    {
        return Ok(false);
    }
    run.match_values(node, &values, &keys)
}

/// RFC 5260 §4.1 zone: `+hhmm` or `-hhmm`.
fn parse_zone(zone: &str) -> Option<FixedOffset> {
    let bytes = zone.as_bytes();
    if bytes.len() != 5 || !bytes.get(1..)?.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let hours: i32 = zone.get(1..3)?.parse().ok()?;
    let minutes: i32 = zone.get(3..5)?.parse().ok()?;
    if minutes > 59 {
        return None;
    }
    let seconds = (hours * 60 + minutes) * 60;
    match bytes.first()? {
        b'+' => FixedOffset::east_opt(seconds),
        b'-' => FixedOffset::west_opt(seconds),
        _ => None,
    }
}

/// An RFC 5322 §3.3 date-time, leniently (comments and a missing weekday allowed).
fn parse_date(value: &str) -> Option<DateTime<FixedOffset>> {
    let cleaned: String = {
        let mut depth = 0usize;
        value
            .chars()
            .filter(|&c| match c {
                '(' => {
                    depth += 1;
                    false
                }
                ')' => {
                    depth = depth.saturating_sub(1);
                    false
                }
                _ => depth == 0,
            })
            .collect()
    };
    // The weekday is redundant and often wrong: RFC 5322 §3.3 leaves it optional.
    let trimmed = cleaned.trim();
    let without_day = match trimmed.split_once(',') {
        Some((day, rest)) if day.trim().chars().all(|c| c.is_ascii_alphabetic()) => rest.trim(),
        _ => trimmed,
    };
    DateTime::parse_from_rfc2822(without_day).ok()
}

/// RFC 5260 §4.2 date-part.
fn date_part(date: &DateTime<FixedOffset>, part: &str) -> Option<String> {
    let offset = date.offset().local_minus_utc();
    let zone = format!(
        "{}{:02}{:02}",
        if offset < 0 { '-' } else { '+' },
        offset.abs() / 3600,
        offset.abs() % 3600 / 60
    );
    Some(match part {
        "year" => format!("{:04}", date.year()),
        "month" => format!("{:02}", date.month()),
        "day" => format!("{:02}", date.day()),
        "date" => format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day()),
        // Modified Julian Day: days since 1858-11-17.
        "julian" => {
            let mjd = date.date_naive().num_days_from_ce() - 678_576;
            mjd.to_string()
        }
        "hour" => format!("{:02}", date.hour()),
        "minute" => format!("{:02}", date.minute()),
        "second" => format!("{:02}", date.second()),
        "time" => format!(
            "{:02}:{:02}:{:02}",
            date.hour(),
            date.minute(),
            date.second()
        ),
        "iso8601" => {
            let zone = if offset == 0 {
                "Z".to_string()
            } else {
                format!("{}:{}", &zone[..3], &zone[3..])
            };
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
                date.year(),
                date.month(),
                date.day(),
                date.hour(),
                date.minute(),
                date.second(),
                zone
            )
        }
        "std11" => date.format("%a, %d %b %Y %H:%M:%S ").to_string() + &zone,
        "zone" => zone,
        "weekday" => date.weekday().num_days_from_sunday().to_string(),
        _ => return None,
    })
}
