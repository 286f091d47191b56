//! Wording of unsolicited bulk mail: the phrases of advance-fee fraud, pills, prizes and
//! get-rich offers. Our own list; matched as whole words, case-insensitively.

/// Phrases, lower-case.
const PHRASES: &[&str] = &[
    "act now",
    "apply now",
    "as seen on",
    "bank transfer details",
    "beneficiary",
    "best price",
    "bitcoin investment",
    "buy now",
    "casino",
    "cheap meds",
    "cialis",
    "claim your prize",
    "claim your reward",
    "congratulations you",
    "crypto investment",
    "dear beneficiary",
    "dear friend",
    "double your",
    "earn extra cash",
    "earn money",
    "exclusive deal",
    "free gift",
    "get rich",
    "guaranteed income",
    "hot singles",
    "inheritance",
    "limited time offer",
    "lose weight",
    "lottery",
    "make money fast",
    "miracle cure",
    "million dollars",
    "no credit check",
    "no prescription",
    "once in a lifetime",
    "online pharmacy",
    "order now",
    "risk-free",
    "risk free",
    "special promotion",
    "unclaimed funds",
    "urgent business",
    "viagra",
    "weight loss",
    "wire transfer",
    "work from home",
    "you have been selected",
    "you have won",
    "you've won",
    "100% free",
];

/// The distinct phrases of the list found in `text`, at most `max` (the first ones).
pub fn spam_phrases(text: &str, max: usize) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    let mut found = Vec::new();
    for phrase in PHRASES {
        if found.len() >= max {
            break;
        }
        if contains_word(&lower, phrase) {
            found.push(*phrase);
        }
    }
    found
}

/// `needle` in `hay` with no letter or digit right before or after it.
fn contains_word(hay: &str, needle: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = hay.get(from..).and_then(|h| h.find(needle)) {
        let start = from + pos;
        let end = start + needle.len();
        let before = hay.get(..start).and_then(|h| h.chars().next_back());
        let after = hay.get(end..).and_then(|h| h.chars().next());
        let edge = |c: Option<char>| !c.is_some_and(char::is_alphanumeric);
        if edge(before) && edge(after) {
            return true;
        }
        // Next char boundary after `start`.
        from = start
            + hay
                .get(start..)
                .and_then(|h| h.chars().next())
                .map_or(1, char::len_utf8);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_only() {
        assert_eq!(spam_phrases("Buy Now and save", 5), vec!["buy now"]);
        assert!(spam_phrases("the casinos of old", 5).is_empty());
        assert!(spam_phrases("Viagraville is a town", 5).is_empty());
        assert_eq!(spam_phrases("ÉVIAGRA; viagra!", 5), vec!["viagra"]);
    }

    #[test]
    fn the_count_is_bounded() {
        let all = PHRASES.join(" . ");
        assert_eq!(spam_phrases(&all, 4).len(), 4);
    }
}
