//! Trigrams: how text is cut for the full-text index, the same way for what is indexed and
//! for what is looked up, so that a needle found in a message's text always has every one
//! of its trigrams in that message's index entry.
//!
//! Both sides are case-folded by the caller (the IMAP search folds needles and haystacks
//! alike, RFC 9051 §6.4.4) and then have each run of white space made one space here: if
//! a needle is a substring of a text, the needle so normalized is a substring of the text
//! so normalized (a run inside the needle lies inside a run of the text), so SUBJECT's
//! white-space compression and header unfolding cannot hide a match from the index.

/// The fewest characters a needle needs for the index to narrow a search: one trigram.
pub const MIN_NEEDLE_CHARS: usize = 3;

/// The most trigrams a lookup asks for: more narrow the candidates little and cost more
/// posting lists; fewer only let more candidates through to the exact check.
pub const MAX_QUERY_GRAMS: usize = 12;

/// `text` with every run of white space made a single space.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// The trigrams to look up for a (case-folded) needle: distinct, at most
/// [`MAX_QUERY_GRAMS`] spread over the needle, none holding a NUL (the index tokenizer
/// stops there). `None` when the needle is too short to use the index.
pub fn of_needle(needle: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = normalize(needle).chars().collect();
    if chars.len() < MIN_NEEDLE_CHARS {
        return None;
    }
    let mut all: Vec<String> = chars
        .windows(3)
        .filter(|w| !w.contains(&'\0'))
        .map(|w| w.iter().collect())
        .collect();
    let mut seen = std::collections::HashSet::new();
    all.retain(|g| seen.insert(g.clone()));
    if all.is_empty() {
        return None;
    }
    if all.len() > MAX_QUERY_GRAMS {
        let step = all.len() as f64 / MAX_QUERY_GRAMS as f64;
        all = (0..MAX_QUERY_GRAMS)
            .filter_map(|i| all.get((i as f64 * step) as usize).cloned())
            .collect();
    }
    Some(all)
}

/// An FTS5 MATCH expression requiring every gram: each one a quoted string (`"` doubled,
/// FTS5 §3.1), joined by AND.
pub fn match_expression(grams: &[String]) -> String {
    grams
        .iter()
        .map(|g| format!("\"{}\"", g.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_space_runs_become_one_space() {
        assert_eq!(normalize("a \t\r\n b  c"), "a b c");
        assert_eq!(normalize("  x"), " x");
    }

    #[test]
    fn short_needles_do_not_use_the_index() {
        assert_eq!(of_needle("ab"), None);
        assert_eq!(of_needle("a  "), None);
        assert_eq!(of_needle("abc"), Some(vec!["abc".to_string()]));
    }

    #[test]
    fn grams_are_distinct_and_capped() {
        let g = of_needle("aaaa").unwrap_or_default();
        assert_eq!(g, vec!["aaa".to_string()]);
        let long = "the quick brown fox jumps over the lazy dog";
        let g = of_needle(long).unwrap_or_default();
        assert_eq!(g.len(), MAX_QUERY_GRAMS);
        assert!(g.iter().all(|x| normalize(long).contains(x.as_str())));
    }

    #[test]
    fn grams_of_a_substring_are_grams_of_the_text() {
        let text = normalize("Subject:  Hello,\r\n\tWorld ünïcode");
        for needle in ["hello, world", "o,  \t w", "ünï", "ject:"] {
            let needle = needle.to_lowercase();
            for g in of_needle(&needle).unwrap_or_default() {
                assert!(text.to_lowercase().contains(&g), "{g:?} of {needle:?}");
            }
        }
    }

    #[test]
    fn quotes_are_escaped_in_the_match_expression() {
        assert_eq!(
            match_expression(&["a\"b".into(), "xyz".into()]),
            "\"a\"\"b\" AND \"xyz\""
        );
    }
}
