//! Rules on the bodies: how the text is sent (HTML alone, a text alternative that says
//! something else, base64 for plain ASCII) and what it says.

use super::table;
use super::words;
use crate::mime::{Part, Walk};
use crate::verdict::Finding;
use std::collections::HashSet;

/// Words compared between the text and the HTML alternatives.
const MAX_WORDS: usize = 2000;
/// HTML with fewer words than this is too short to compare.
const MIN_HTML_WORDS: usize = 30;
/// Share of the HTML's words the text alternative must also hold.
const MIN_SHARED: f64 = 0.3;

/// Runs the body rules. `html_text` is the visible text of the HTML bodies (empty when
/// there are none), `text` what the reader sees (HTML text, else the plain text).
pub fn check(walk: &Walk<'_>, html_text: &str, text: &str, out: &mut Vec<Finding>) {
    let bodies: Vec<&Part<'_>> = walk
        .parts
        .iter()
        .filter(|p| p.is_text() && !p.is_attachment && p.depth == 0)
        .collect();
    let plain: Vec<&Part<'_>> = bodies
        .iter()
        .copied()
        .filter(|p| p.content_type == "text/plain")
        .collect();
    let has_html = bodies.iter().any(|p| p.content_type == "text/html");
    if has_html && plain.is_empty() {
        out.push(table::HTML_ONLY.hit("HTML without a text alternative"));
    }
    if has_html && !plain.is_empty() {
        check_mismatch(&plain, html_text, out);
    }
    check_base64(&bodies, out);
    let found = words::spam_phrases(text, 8);
    if found.len() >= 5 {
        out.push(
            table::BODY_MANY_SPAM_WORDS.hit(format!("the text says \"{}\"", found.join("\", \""))),
        );
    } else if found.len() >= 2 {
        out.push(table::BODY_SPAM_WORDS.hit(format!("the text says \"{}\"", found.join("\", \""))));
    }
}

/// RFC 2046 §5.1.4: the parts of `multipart/alternative` are the same content. A text
/// part that shares few words with the HTML the reader sees is a decoy for filters.
fn check_mismatch(plain: &[&Part<'_>], html_text: &str, out: &mut Vec<Finding>) {
    let html_words = word_set(html_text);
    if html_words.len() < MIN_HTML_WORDS {
        return;
    }
    let mut plain_words: HashSet<String> = HashSet::new();
    for p in plain {
        plain_words.extend(word_set(&String::from_utf8_lossy(&p.body)));
    }
    let shared = html_words.intersection(&plain_words).count();
    #[allow(clippy::cast_precision_loss)] // word counts, far below 2^52
    let ratio = shared as f64 / html_words.len() as f64;
    if ratio < MIN_SHARED {
        out.push(table::TEXT_HTML_MISMATCH.hit(format!(
            "the text alternative shares {:.0}% of the HTML's words",
            ratio * 100.0
        )));
    }
}

/// Lower-case words of four letters or more, at most [`MAX_WORDS`].
fn word_set(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4)
        .take(MAX_WORDS)
        .map(str::to_lowercase)
        .collect()
}

/// RFC 2045 §6.8: base64 is for data that is not text. A text body of plain ASCII sent in
/// base64 hides its words from simple filters.
fn check_base64(bodies: &[&Part<'_>], out: &mut Vec<Finding>) {
    let hit = bodies.iter().find(|p| {
        p.encoding == "base64"
            && p.body.len() >= 64
            && p.body
                .iter()
                .all(|b| b.is_ascii() && (*b >= 0x20 || b.is_ascii_whitespace()))
    });
    if let Some(p) = hit {
        out.push(table::BASE64_TEXT.hit(format!(
            "the {} body is ASCII sent in base64",
            p.content_type
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mime;
    use crate::spam::tests::codes_of;

    fn run(raw: &str, html_text: &str) -> Vec<&'static str> {
        let m = mime::parse(raw.as_bytes()).expect("parses");
        let walk = mime::walk(&m, raw.as_bytes(), &mime::MimeLimits::default());
        let text = if html_text.is_empty() {
            String::from_utf8_lossy(&walk.parts[0].body).into_owned()
        } else {
            html_text.to_owned()
        };
        let mut out = Vec::new();
        check(&walk, html_text, &text, &mut out);
        codes_of(&out)
    }

    const ALT: &str = "From: a@example.com\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nPLAIN\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>HTML</p>\r\n--b--\r\n";

    fn long_text(seed: &str) -> String {
        (0..40).map(|i| format!("{seed}{i} ")).collect()
    }

    #[test]
    fn plain_text_alone_is_fine() {
        let raw = "From: a@example.com\r\n\r\nhello there, see you at lunch\r\n";
        assert_eq!(run(raw, ""), Vec::<&str>::new());
    }

    #[test]
    fn html_alone_is_noted() {
        let raw = "From: a@example.com\r\nContent-Type: text/html\r\n\r\n<p>hello</p>\r\n";
        assert_eq!(run(raw, "hello"), vec!["html_only"]);
    }

    #[test]
    fn alternatives_that_say_different_things() {
        let html = long_text("offer");
        let raw = ALT.replace("PLAIN", &long_text("weather"));
        assert_eq!(run(&raw, &html), vec!["text_html_mismatch"]);
        let same = ALT.replace("PLAIN", &html);
        assert_eq!(run(&same, &html), Vec::<&str>::new());
    }

    #[test]
    fn ascii_in_base64() {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD
            .encode("plain words that need no encoding at all, sent in base64 anyway.");
        let raw = format!(
            "From: a@example.com\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n"
        );
        assert_eq!(run(&raw, ""), vec!["base64_text"]);
    }

    #[test]
    fn spam_wording_in_the_text() {
        let raw = "From: a@example.com\r\n\r\nDear friend, you have won the lottery. Wire transfer \
the fee. Act now! Claim your prize.\r\n";
        assert_eq!(run(raw, ""), vec!["body_many_spam_words"]);
        let two = "From: a@example.com\r\n\r\nDear friend, buy now.\r\n";
        assert_eq!(run(two, ""), vec!["body_spam_words"]);
    }
}
