//! What `mail-auth` 0.13 does not check in the DMARC record it uses: a tag given twice.
//! DMARC records use DKIM's tag=value syntax (RFC 7489 §6.3, RFC 9989 keeps it), and in
//! that syntax "if a tag name does occur more than once, the entire tag-list is invalid"
//! (RFC 6376 §3.2); `mail-auth` keeps the last value instead. An invalid record is a
//! `permerror` (RFC 7489 §11.2, RFC 8601 §2.7.5) and no policy applies (RFC 7489 §6.6.3).
//!
//! The record checked is the one `mail-auth` used: the first `_dmarc.` name its tree walk
//! asked (RFC 9989 §4.10) that holds a `v=DMARC1` record.

use super::lookups::Lookups;
use super::spf_audit::{Answer, Kind, ask};
use crate::dnscheck::tags;

/// Why the DMARC record the evaluation used is invalid, when it is for a reason
/// `mail-auth` does not see.
pub(crate) async fn broken_record(
    lookups: &Lookups<'_>,
    questions: &[(Kind, Box<str>)],
) -> Option<String> {
    for (kind, name) in questions {
        if *kind != Kind::Txt || !name.to_ascii_lowercase().starts_with("_dmarc.") {
            continue;
        }
        let Answer::Records(records) = ask(lookups, *kind, name).await else {
            continue;
        };
        let Some(record) = records.iter().find(|r| is_dmarc(r)) else {
            continue;
        };
        let text = String::from_utf8_lossy(record);
        let shown = name.trim_end_matches('.');
        let dup = tags::parse(&text)
            .map(|t| tags::duplicates(&t))
            .unwrap_or_default();
        return (!dup.is_empty()).then(|| {
            format!(
                "the DMARC record at {shown} gives {} more than once, which makes it invalid (RFC 7489 section 6.3, RFC 6376 section 3.2)",
                dup.join(", ")
            )
        });
    }
    None
}

/// RFC 7489 §6.3: the record starts with `v=DMARC1` (then `;`, space or its end).
fn is_dmarc(record: &[u8]) -> bool {
    let text = String::from_utf8_lossy(record);
    let text = text.trim_start();
    let Some(head) = text.get(..8) else {
        return false;
    };
    head.eq_ignore_ascii_case("v=DMARC1")
        && text
            .get(8..)
            .and_then(|rest| rest.trim_start().chars().next())
            .is_none_or(|c| c == ';')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dmarc_version_prefix() {
        assert!(is_dmarc(b"v=DMARC1; p=none"));
        assert!(is_dmarc(b"v=dmarc1 ;p=none"));
        assert!(is_dmarc(b"v=DMARC1"));
        assert!(!is_dmarc(b"v=DMARC10; p=none"));
        assert!(!is_dmarc(b"v=spf1 -all"));
        assert!(!is_dmarc(b"v=DMA"));
    }
}
