//! Tag=value lists, the syntax DMARC (RFC 7489 §6.4), DKIM key records (RFC 6376 §3.2),
//! MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3) records share: `;`-separated,
//! whitespace around tags and values ignored, an empty last tag allowed.

/// The tags in order, names as written (compare case-insensitively where the RFC says so).
/// `Err` names the first piece that is not `name=value`.
pub(crate) fn parse(record: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for piece in record.split(';') {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        let Some((name, value)) = piece.split_once('=') else {
            return Err(format!("{piece:?} is not a tag=value pair"));
        };
        let name = name.trim();
        if name.is_empty()
            || !name.starts_with(|c: char| c.is_ascii_alphabetic())
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(format!("{name:?} is not a tag name"));
        }
        out.push((name.to_string(), value.trim().to_string()));
    }
    Ok(out)
}

/// The names given more than once (case-insensitive), each named once.
pub(crate) fn duplicates(tags: &[(String, String)]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut dup: Vec<String> = Vec::new();
    for (name, _) in tags {
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            if !dup.contains(&lower) {
                dup.push(lower);
            }
        } else {
            seen.push(lower);
        }
    }
    dup
}

/// The value of `name` (case-insensitive), the first when repeated.
pub(crate) fn get<'a>(tags: &'a [(String, String)], name: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_duplicates() {
        let t = parse(" v=DMARC1 ; p = reject; p=none;").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(get(&t, "P"), Some("reject"));
        assert_eq!(duplicates(&t), vec!["p".to_string()]);
        assert!(parse("v=DMARC1; garbage").is_err());
        assert!(parse("=x").is_err());
    }
}
