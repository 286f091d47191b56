//! Parsers for the authentication headers a message carries: `Authentication-Results`
//! (RFC 8601), `ARC-Authentication-Results` (RFC 8617 §4.1.1), `Received-SPF`
//! (RFC 7208 §9.1) and the tags of `DKIM-Signature` (RFC 6376 §3.5).

use crate::report::{AuthResult, DkimSignature};

/// Longest header value these parsers look at; the rest is ignored (a forged header of
/// megabytes must not cost more than this).
const MAX_VALUE: usize = 16 * 1024;

/// Parses one `Authentication-Results` value (RFC 8601 §2.2) into its method results.
/// `header` names the header for the report. Returns an empty list for `none` or garbage.
pub fn parse_authentication_results(value: &str, header: &str) -> Vec<AuthResult> {
    let text = strip_comments(truncate(value));
    let mut segments = split_outside_quotes(&text, b';').into_iter();
    let mut authserv_id = segments.next().unwrap_or_default();
    // RFC 8617 §4.1.1: ARC-Authentication-Results starts with the instance tag `i=N`.
    if authserv_id.trim_start().starts_with("i=") {
        authserv_id = segments.next().unwrap_or_default();
    }
    // RFC 8601 §2.2: authserv-id [ CFWS authres-version ]
    let authserv_id = authserv_id
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut results = Vec::new();
    for segment in segments {
        let mut words = words(segment).into_iter();
        let Some(first) = words.next() else { continue };
        let Some((method, result)) = first.split_once('=') else {
            continue;
        };
        // RFC 8601 §2.2: method may carry a version (`dkim/1`).
        let method = method
            .split('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if method.is_empty() || method == "none" {
            continue;
        }
        let mut properties = Vec::new();
        for word in words {
            if let Some((key, val)) = word.split_once('=') {
                if key.eq_ignore_ascii_case("reason") {
                    properties.push(("reason".to_string(), unquote(val)));
                } else if key.contains('.') {
                    properties.push((key.to_ascii_lowercase(), unquote(val)));
                }
            }
        }
        results.push(AuthResult {
            authserv_id: authserv_id.clone(),
            method,
            result: result.trim().to_ascii_lowercase(),
            properties,
            header: header.to_string(),
            ours: false,
        });
    }
    results
}

/// The verdict word of a `Received-SPF` value (RFC 7208 §9.1): `pass`, `fail`, `softfail`,
/// `neutral`, `none`, `temperror` or `permerror`.
pub fn parse_received_spf(value: &str) -> Option<String> {
    let word = truncate(value)
        .split_whitespace()
        .next()?
        .to_ascii_lowercase();
    const RESULTS: &[&str] = &[
        "pass",
        "fail",
        "softfail",
        "neutral",
        "none",
        "temperror",
        "permerror",
    ];
    RESULTS.contains(&word.as_str()).then_some(word)
}

/// The `envelope-from` key of a `Received-SPF` value, if present (RFC 7208 §9.1).
pub fn received_spf_envelope_from(value: &str) -> Option<String> {
    let lower = truncate(value).to_ascii_lowercase();
    let start = lower.find("envelope-from=")? + "envelope-from=".len();
    let rest = lower.get(start..)?;
    let end = rest
        .find([';', ' ', '\t', '\r', '\n'])
        .unwrap_or(rest.len());
    let v = unquote(rest.get(..end)?);
    (!v.is_empty()).then_some(v)
}

/// The forensic tags of a `DKIM-Signature` value (RFC 6376 §3.5 tag-list).
pub fn parse_dkim_signature(value: &str) -> DkimSignature {
    let mut sig = DkimSignature::default();
    let value = truncate(value);
    let mut start = 0;
    // `;` and `=` are ASCII, so byte positions are char boundaries.
    let ends = memchr::memchr_iter(b';', value.as_bytes()).chain(std::iter::once(value.len()));
    for end in ends {
        let tag = value.get(start..end).unwrap_or_default();
        start = end + 1;
        let Some(eq) = memchr::memchr(b'=', tag.as_bytes()) else {
            continue;
        };
        let name = tag.get(..eq).unwrap_or_default().trim();
        if !matches!(name, "d" | "s" | "a" | "t" | "h") {
            continue;
        }
        // RFC 6376 §3.2: whitespace around tags and values is ignored.
        let val = tag.get(eq + 1..).unwrap_or_default();
        let mut val: String = if val.is_ascii() {
            val.bytes()
                .filter(|&b| !is_ascii_space(b))
                .map(char::from)
                .collect()
        } else {
            val.chars().filter(|c| !c.is_whitespace()).collect()
        };
        match name {
            "d" => {
                val.make_ascii_lowercase();
                sig.domain = Some(val);
            }
            "s" => sig.selector = Some(val),
            "a" => {
                val.make_ascii_lowercase();
                sig.algorithm = Some(val);
            }
            "t" => {
                sig.timestamp = val
                    .parse::<i64>()
                    .ok()
                    .map(mailward_message::datetime::format_rfc3339_utc)
            }
            "h" => {
                sig.headers = val
                    .split(':')
                    .filter(|h| !h.is_empty())
                    .map(|h| h.to_ascii_lowercase())
                    .collect()
            }
            _ => {}
        }
    }
    sig
}

/// The `cv=` value of an `ARC-Seal` header (RFC 8617 §4.1.3) and its instance.
pub fn parse_arc_seal(value: &str) -> (Option<u32>, Option<String>) {
    let mut instance = None;
    let mut cv = None;
    for tag in truncate(value).split(';') {
        if let Some((name, val)) = tag.split_once('=') {
            match name.trim() {
                "i" => instance = val.trim().parse().ok(),
                "cv" => cv = Some(val.trim().to_ascii_lowercase()),
                _ => {}
            }
        }
    }
    (instance, cv)
}

fn truncate(value: &str) -> &str {
    if value.len() <= MAX_VALUE {
        return value;
    }
    let mut end = MAX_VALUE;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value.get(..end).unwrap_or_default()
}

/// Removes RFC 5322 §3.2.2 comments (nested parentheses, quoted-pairs), keeping quoted
/// strings intact, and drops whitespace around `=` outside quotes (RFC 8601 §2.2 allows
/// CFWS there).
///
/// Headers are almost always ASCII, and then a byte at a time gives the same text as a
/// char at a time, only faster; other text takes the char-wise path ([`strip_comments_chars`]),
/// where Unicode white space counts as white space.
fn strip_comments(value: &str) -> String {
    if !value.is_ascii() {
        return strip_comments_chars(value);
    }
    let bytes = value.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(value.len());
    let mut depth = 0usize;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut after_equals = false;
    let mut i = 0;
    while let Some(rest) = bytes.get(i..) {
        if depth == 0 && !escaped && !after_equals {
            // Outside comments, bytes up to the next structural one are copied as they are.
            let run = rest
                .iter()
                .position(|&b| matches!(b, b'\\' | b'"' | b'(' | b')' | b'='))
                .unwrap_or(rest.len());
            out.extend_from_slice(rest.get(..run).unwrap_or_default());
            i += run;
        } else if depth > 0 && !escaped {
            // Inside a comment (never inside quotes), only nesting and quoted-pairs matter.
            i += rest
                .iter()
                .position(|&b| matches!(b, b'\\' | b'(' | b')'))
                .unwrap_or(rest.len());
        }
        let Some(&c) = bytes.get(i) else { break };
        i += 1;
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            b'\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            b'"' if depth == 0 => {
                in_quotes = !in_quotes;
                out.push(c);
            }
            b'(' if !in_quotes => depth += 1,
            b')' if !in_quotes && depth > 0 => {
                depth -= 1;
                if depth == 0 && !after_equals {
                    out.push(b' ');
                }
            }
            b'=' if depth == 0 && !in_quotes => {
                while out.last().is_some_and(|&b| is_ascii_space(b)) {
                    out.pop();
                }
                out.push(b'=');
                after_equals = true;
                continue;
            }
            c if depth == 0 && is_ascii_space(c) && after_equals && !in_quotes => continue,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
        if depth == 0 {
            after_equals = false;
        }
    }
    // Only ASCII bytes of an ASCII string were copied, so this is valid UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// The ASCII characters `char::is_whitespace` accepts: space, tab, LF, VT, FF, CR.
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// [`strip_comments`] a char at a time, for text that is not ASCII.
fn strip_comments_chars(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut after_equals = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                in_quotes = !in_quotes;
                out.push(c);
            }
            '(' if !in_quotes => depth += 1,
            ')' if !in_quotes && depth > 0 => {
                depth -= 1;
                if depth == 0 && !after_equals {
                    out.push(' ');
                }
            }
            '=' if depth == 0 && !in_quotes => {
                let trimmed = out.trim_end().len();
                out.truncate(trimmed);
                out.push('=');
                after_equals = true;
                continue;
            }
            c if depth == 0 && c.is_whitespace() && after_equals && !in_quotes => continue,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
        if depth == 0 {
            after_equals = false;
        }
    }
    out
}

/// Splits on `sep` (an ASCII byte) outside quotes. Both bytes are ASCII, which never
/// occurs inside a multi-byte UTF-8 sequence, so scanning bytes finds exactly the chars.
fn split_outside_quotes(value: &str, sep: u8) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut start = 0;
    for i in memchr::memchr2_iter(b'"', sep, value.as_bytes()) {
        if value.as_bytes().get(i) == Some(&b'"') {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            parts.push(value.get(start..i).unwrap_or_default());
            start = i + 1;
        }
    }
    parts.push(value.get(start..).unwrap_or_default());
    parts
}

/// Splits on whitespace outside quotes. `strip_comments` has already removed the
/// whitespace around `=`, so `a = b` arrives as `a=b`.
fn words(segment: &str) -> Vec<&str> {
    if !segment.is_ascii() {
        return words_chars(segment);
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut in_quotes = false;
    let mut start: Option<usize> = None;
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        if c == b'"' {
            in_quotes = !in_quotes;
        }
        if is_ascii_space(c) && !in_quotes {
            if let Some(st) = start.take() {
                out.push(segment.get(st..i).unwrap_or_default());
            }
        } else {
            if start.is_none() {
                start = Some(i);
            }
            // Inside a word, jump to the next byte that can end it or toggle quoting.
            let rest = bytes.get(i + 1..).unwrap_or_default();
            i += rest
                .iter()
                .position(|&b| b == b'"' || (!in_quotes && is_ascii_space(b)))
                .unwrap_or(rest.len());
        }
        i += 1;
    }
    if let Some(st) = start {
        out.push(segment.get(st..).unwrap_or_default());
    }
    out
}

/// [`words`] a char at a time, for text that is not ASCII (Unicode white space splits).
fn words_chars(segment: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut in_quotes = false;
    let mut start: Option<usize> = None;
    for (i, c) in segment.char_indices() {
        if c == '"' {
            in_quotes = !in_quotes;
        }
        if c.is_whitespace() && !in_quotes {
            if let Some(st) = start.take() {
                out.push(segment.get(st..i).unwrap_or_default());
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push(segment.get(st..).unwrap_or_default());
    }
    out
}

fn unquote(value: &str) -> String {
    value.trim().trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop<'a>(r: &'a AuthResult, key: &str) -> Option<&'a str> {
        r.properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    proptest::proptest! {
        #[test]
        fn ascii_fast_paths_match_the_char_wise_ones(s in "[a-c =()\"\\\\;\t\r\n\x0b\x0c]{0,40}") {
            proptest::prop_assert_eq!(strip_comments(&s), strip_comments_chars(&s));
            proptest::prop_assert_eq!(words(&s), words_chars(&s));
        }
    }

    #[test]
    fn gmail_authentication_results() {
        let v = "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=s1 header.b=abc;\r\n       spf=pass (google.com: domain of bounce@example.com designates 192.0.2.1 as permitted sender) smtp.mailfrom=bounce@example.com;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com";
        let r = parse_authentication_results(v, "Authentication-Results");
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].authserv_id, "mx.google.com");
        assert_eq!(
            (r[0].method.as_str(), r[0].result.as_str()),
            ("dkim", "pass")
        );
        assert_eq!(prop(&r[0], "header.i"), Some("@example.com"));
        assert_eq!(prop(&r[1], "smtp.mailfrom"), Some("bounce@example.com"));
        assert_eq!(prop(&r[2], "header.from"), Some("example.com"));
    }

    #[test]
    fn version_reason_and_spaces_around_equals() {
        let v = "example.net 1; dkim = fail reason=\"signature; verification failed\" header.d=example.com; none";
        let r = parse_authentication_results(v, "Authentication-Results");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].result, "fail");
        assert_eq!(
            prop(&r[0], "reason"),
            Some("signature; verification failed")
        );
    }

    #[test]
    fn arc_authentication_results_skip_the_instance() {
        let v = "i=2; lists.example.org; arc=pass (i=1); spf=fail smtp.mailfrom=x.test";
        let r = parse_authentication_results(v, "ARC-Authentication-Results");
        assert_eq!(r[0].authserv_id, "lists.example.org");
        assert_eq!(r[0].method, "arc");
        assert_eq!(r[1].result, "fail");
    }

    #[test]
    fn received_spf_and_dkim_signature_tags() {
        assert_eq!(
            parse_received_spf("Softfail (mailfrom) identity=mailfrom; envelope-from=\"a@b.test\"")
                .as_deref(),
            Some("softfail")
        );
        assert_eq!(
            received_spf_envelope_from(
                "pass identity=mailfrom; envelope-from=\"a@b.test\"; helo=x"
            )
            .as_deref(),
            Some("a@b.test")
        );
        let s = parse_dkim_signature(
            "v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n d=Example.COM; s=sel;\r\n h=From:To:Sub\r\n ject; t=1700000000; bh=x; b=y",
        );
        assert_eq!(s.domain.as_deref(), Some("example.com"));
        assert_eq!(s.selector.as_deref(), Some("sel"));
        assert_eq!(s.headers, ["from", "to", "subject"]);
        assert_eq!(s.timestamp.as_deref(), Some("2023-11-14T22:13:20Z"));
    }
}
