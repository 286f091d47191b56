//! Wording of unsolicited bulk mail: the phrases of advance-fee fraud, pills, prizes and
//! get-rich offers. Our own list; matched as whole words, case-insensitively.

use aho_corasick::AhoCorasick;
use std::sync::LazyLock;

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

/// The phrases as one automaton: the text is read once, whatever the list's length.
static MATCHER: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(PHRASES)
        .ok()
});

/// The distinct phrases of the list found in `text` as whole words (no letter or digit
/// right before or after), at most `max`, in the order they first appear.
pub fn spam_phrases(text: &str, max: usize) -> Vec<&'static str> {
    let Some(matcher) = MATCHER.as_ref() else {
        return Vec::new();
    };
    let bytes = text.as_bytes();
    // A non-ASCII byte is part of a letter as far as word edges go (`ÉVIAGRA`).
    let word_byte = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b >= 0x80);
    let mut found: Vec<&'static str> = Vec::new();
    for m in matcher.find_overlapping_iter(text) {
        if found.len() >= max {
            break;
        }
        let before = m.start().checked_sub(1).and_then(|i| bytes.get(i));
        if word_byte(before) || word_byte(bytes.get(m.end())) {
            continue;
        }
        if let Some(phrase) = PHRASES.get(m.pattern().as_usize())
            && !found.contains(phrase)
        {
            found.push(phrase);
        }
    }
    found
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
