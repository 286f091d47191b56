//! Strings as the evaluator sees them: literal text, or (RFC 5229 §3) text with variable
//! and match-variable references resolved at run time; RFC 5228 §2.4.2.4
//! encoded characters are decoded at compile time.

/// One piece of a string with substitutions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    /// `${name}` (lower-cased: RFC 5229 §3 variable names are case-insensitive).
    Variable(String),
    /// `${N}`, a match variable (RFC 5229 §3.2).
    Match(usize),
}

/// A string argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The text after encoded-character decoding, before variable substitution.
    pub raw: String,
    /// `Some` when variables are on and the text references one.
    pub parts: Option<Vec<Part>>,
}

impl Template {
    /// A literal string.
    pub fn literal(raw: String) -> Self {
        Template { raw, parts: None }
    }

    /// RFC 5229 §3: splits `raw` into text and references; a `${` that does not start a
    /// valid reference is kept as text.
    pub fn with_variables(raw: String) -> Self {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = raw.as_str();
        while let Some(start) = rest.find("${") {
            text.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after
                .find('}')
                .and_then(|end| reference(&after[..end]).map(|r| (r, end)))
            {
                Some((part, end)) => {
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(part);
                    rest = &after[end + 1..];
                }
                None => {
                    text.push_str("${");
                    rest = after;
                }
            }
        }
        text.push_str(rest);
        if parts.is_empty() {
            return Template::literal(raw);
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Template {
            raw,
            parts: Some(parts),
        }
    }
}

/// RFC 5229 §3 variable-ref: `num-variable` or `identifier *("." identifier)`.
fn reference(inner: &str) -> Option<Part> {
    if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
        return inner.parse().ok().map(Part::Match);
    }
    if is_variable_name(inner, true) {
        return Some(Part::Variable(inner.to_ascii_lowercase()));
    }
    None
}

/// RFC 5229 §3: an identifier, or with `namespaces` dotted identifiers.
pub fn is_variable_name(name: &str, namespaces: bool) -> bool {
    let identifier = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if namespaces {
        name.split('.').all(identifier)
    } else {
        identifier(name)
    }
}

/// RFC 5228 §2.4.2.4 encoded-character: `${hex:41 42}` and `${unicode:263a}`; anything
/// malformed is left as it is.
pub fn decode_encoded_characters(raw: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let decoded = after.find('}').and_then(|end| {
            let inner = &after[..end];
            let (kind, values) = inner.split_once(':')?;
            let decoded = match kind.to_ascii_lowercase().as_str() {
                "hex" => decode_hex(values)?,
                "unicode" => decode_unicode(values)?,
                _ => return None,
            };
            Some((decoded, end))
        });
        match decoded {
            Some((Ok(text), end)) => {
                out.push_str(&text);
                rest = &after[end + 1..];
            }
            Some((Err(message), _)) => return Err(message),
            None => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn hex_pairs(values: &str) -> Option<Vec<&str>> {
    let items: Vec<&str> = values
        .split([' ', '\t', '\r', '\n'])
        .filter(|s| !s.is_empty())
        .collect();
    items
        .iter()
        .all(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(items)
}

fn decode_hex(values: &str) -> Option<Result<String, String>> {
    let mut bytes = Vec::new();
    let items = hex_pairs(values)?;
    if items.is_empty() {
        return None;
    }
    for item in items {
        if item.len() > 2 {
            return None;
        }
        bytes.push(u8::from_str_radix(item, 16).ok()?);
    }
    Some(String::from_utf8(bytes).map_err(|_| "encoded characters are not valid UTF-8".into()))
}

fn decode_unicode(values: &str) -> Option<Result<String, String>> {
    let mut out = String::new();
    let items = hex_pairs(values)?;
    if items.is_empty() {
        return None;
    }
    for item in items {
        let code = u32::from_str_radix(item, 16).ok();
        match code.and_then(char::from_u32) {
            Some(c) => out.push(c),
            None => return Some(Err(format!("invalid unicode character {item}"))),
        }
    }
    Some(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_references() {
        let t = Template::with_variables("a${x}b${1}${bad-}".into());
        assert_eq!(
            t.parts.unwrap(),
            vec![
                Part::Text("a".into()),
                Part::Variable("x".into()),
                Part::Text("b".into()),
                Part::Match(1),
                Part::Text("${bad-}".into())
            ]
        );
    }

    #[test]
    fn decodes_hex_and_unicode() {
        assert_eq!(
            decode_encoded_characters("${hex:53 65}${unicode:263a}${hex:zz}").unwrap(),
            "Se\u{263a}${hex:zz}"
        );
    }
}
