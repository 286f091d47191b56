//! Renderers for trace reports: terminal text, JSON lines, a self-contained HTML page, and
//! the totals over many messages.
//!
//! Every string in a report may come from an attacker-written header, so each renderer
//! neutralises it for its medium: control and bidirectional-override characters for the
//! terminal ([`clean`]), markup for HTML (`html::escape`), and JSON escaping ([`json`], the
//! same text serde_json writes).

pub mod html;
pub mod json;
pub mod summary;
pub mod text;

use crate::report::Report;
use std::borrow::Cow;

pub use summary::Summary;

/// Appends `report` as one line of JSON (the `--json` format), newline included: the text
/// `serde_json::to_writer` makes of the report, written by the faster [`json`] module.
/// Never fails; the `Result` is kept for callers written against serde_json.
pub fn json_line(report: &Report, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    json::write_report(report, out);
    out.push(b'\n');
    Ok(())
}

/// True for characters that must never reach a terminal or page verbatim: C0/C1 controls
/// (ANSI escape sequences could rewrite the screen) and the Unicode bidirectional overrides
/// and isolates (they can make text read differently from what it is, CVE-2021-42574).
fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// `s` with unsafe characters replaced by U+FFFD, so header text prints as inert text.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if is_unsafe_char(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// `s` cut to at most `max` characters, ending in `…` when cut.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if s.chars().count() <= max {
        return Cow::Borrowed(s);
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    Cow::Owned(cut)
}

/// A delay in seconds as people read it: `4s`, `2m05s`, `1h02m`, `3d04h`; negative
/// delays (clock skew or forgery) keep their sign.
pub fn human_delay(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let body = match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86400, s % 86400 / 3600),
    };
    format!("{sign}{body}")
}

/// `Country, City · AS123 Org` for a geolocation, or None when it says nothing.
pub fn geo_line(geo: &crate::report::Geo) -> Option<String> {
    let mut parts = Vec::new();
    let place: Vec<&str> = [
        geo.country.as_deref(),
        geo.country_name.as_deref(),
        geo.city.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !place.is_empty() {
        parts.push(place.join(" "));
    }
    match (geo.asn, geo.as_org.as_deref()) {
        (Some(asn), Some(org)) => parts.push(format!("AS{asn} {org}")),
        (Some(asn), None) => parts.push(format!("AS{asn}")),
        (None, Some(org)) => parts.push(org.to_string()),
        (None, None) => {}
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_neutralises_escape_sequences_and_bidi_overrides() {
        assert_eq!(clean("ok"), "ok");
        assert_eq!(clean("a\x1b[2Jb"), "a\u{FFFD}[2Jb");
        assert_eq!(clean("evil\u{202E}txt.exe"), "evil\u{FFFD}txt.exe");
    }

    #[test]
    fn delays_read_like_a_person_writes_them() {
        assert_eq!(human_delay(4), "4s");
        assert_eq!(human_delay(125), "2m05s");
        assert_eq!(human_delay(3720), "1h02m");
        assert_eq!(human_delay(-30), "-30s");
        assert_eq!(human_delay(90000), "1d01h");
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
