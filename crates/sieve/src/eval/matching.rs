//! Match types (RFC 5228 §2.7.1 `:is :contains :matches`, RFC 5231 `:count :value`, the
//! regex draft's `:regex`) under a comparator, with the match variables RFC 5229 §3.2
//! asks for.

use std::cmp::Ordering;

use crate::comparator::Comparator;

/// Compiled regexes may not be larger than this (bytes of the compiled program).
const MAX_REGEX_SIZE: usize = 1 << 20;

/// A match type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchType {
    Is,
    Contains,
    Matches,
    /// RFC 5231 `:count` with its operator.
    Count(Relation),
    /// RFC 5231 `:value` with its operator.
    Value(Relation),
    Regex,
}

/// RFC 5231 §4 relational operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Relation {
    /// By name; the checker refused other names.
    pub fn from_name(name: &str) -> Relation {
        match name.to_ascii_lowercase().as_str() {
            "gt" => Relation::Gt,
            "ge" => Relation::Ge,
            "lt" => Relation::Lt,
            "le" => Relation::Le,
            "ne" => Relation::Ne,
            _ => Relation::Eq,
        }
    }

    /// Whether `ordering` (value against key) satisfies the operator.
    pub fn holds(self, ordering: Ordering) -> bool {
        match self {
            Relation::Gt => ordering == Ordering::Greater,
            Relation::Ge => ordering != Ordering::Less,
            Relation::Lt => ordering == Ordering::Less,
            Relation::Le => ordering != Ordering::Greater,
            Relation::Eq => ordering == Ordering::Equal,
            Relation::Ne => ordering != Ordering::Equal,
        }
    }
}

/// Builds a regex for the `:regex` match type (POSIX extended syntax is close enough to
/// the `regex` crate's for the draft's uses), case-insensitive for the casemap comparators.
pub fn build_regex(pattern: &str, case_insensitive: bool) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(MAX_REGEX_SIZE)
        .dfa_size_limit(MAX_REGEX_SIZE)
        .build()
}

/// The `:regex` keys of one script, compiled on first use and kept for its later runs
/// (delivery evaluates one compiled script for many messages: compiling a regex costs far
/// more than matching it). Keys built from variables differ from run to run, so the cache
/// holds at most [`RegexCache::MAX_ENTRIES`]; past that, new keys are compiled for the run
/// and not kept.
#[derive(Debug, Default)]
pub struct RegexCache {
    compiled:
        std::sync::Mutex<std::collections::HashMap<(String, bool), std::sync::Arc<regex::Regex>>>,
}

impl RegexCache {
    pub const MAX_ENTRIES: usize = 256;

    /// The compiled regex for `pattern`, from the cache or built now.
    pub fn get_or_build(
        &self,
        pattern: &str,
        case_insensitive: bool,
    ) -> Result<std::sync::Arc<regex::Regex>, regex::Error> {
        let key = (pattern.to_string(), case_insensitive);
        if let Some(found) = self.lock().get(&key) {
            return Ok(found.clone());
        }
        let built = std::sync::Arc::new(build_regex(pattern, case_insensitive)?);
        let mut map = self.lock();
        if map.len() < Self::MAX_ENTRIES {
            map.insert(key, built.clone());
        }
        Ok(built)
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<(String, bool), std::sync::Arc<regex::Regex>>,
    > {
        self.compiled.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One piece of a `:matches` pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Glob {
    Char(char),
    /// `?`
    One,
    /// `*`
    Any,
}

fn glob_tokens(pattern: &str) -> Vec<Glob> {
    let mut out = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '\\' => match chars.next() {
                Some(next) => Glob::Char(next),
                None => Glob::Char('\\'),
            },
            '?' => Glob::One,
            '*' => Glob::Any,
            other => Glob::Char(other),
        });
    }
    out
}

/// RFC 5228 §2.7.1 `:matches`: `*` any run of characters, `?` one character, `\`
/// quotes. On a match returns what each wildcard took (RFC 5229 §3.2: `${1}`...), each
/// `*` as short as it can be. `steps` counts work against the run's limit.
pub fn glob_match(
    comparator: Comparator,
    value: &str,
    pattern: &str,
    steps: &mut u64,
) -> Option<Vec<String>> {
    let tokens = glob_tokens(pattern);
    let text: Vec<char> = value.chars().collect();
    // Each wildcard's (start, end) in `text`, in pattern order.
    let mut captures: Vec<(usize, usize)> = Vec::new();
    let (mut t, mut p) = (0usize, 0usize);
    // The last `*`: its pattern index, the text index after it, its capture slot.
    let mut star: Option<(usize, usize, usize)> = None;
    loop {
        *steps += 1;
        match tokens.get(p) {
            Some(Glob::Any) => {
                captures.push((t, t));
                star = Some((p, t, captures.len() - 1));
                p += 1;
                continue;
            }
            Some(Glob::One) if t < text.len() => {
                captures.push((t, t + 1));
                t += 1;
                p += 1;
                continue;
            }
            Some(Glob::Char(c)) if text.get(t).is_some_and(|x| comparator.chars_equal(*x, *c)) => {
                t += 1;
                p += 1;
                continue;
            }
            None if t == text.len() => break,
            _ => {}
        }
        let (sp, st, slot) = star?;
        if st >= text.len() {
            return None;
        }
        captures.truncate(slot + 1);
        if let Some(capture) = captures.get_mut(slot) {
            capture.1 = st + 1;
        }
        star = Some((sp, st + 1, slot));
        t = st + 1;
        p = sp + 1;
    }
    let slice = |(a, b): (usize, usize)| {
        text.get(a..b)
            .map(|s| s.iter().collect())
            .unwrap_or_default()
    };
    Some(captures.into_iter().map(slice).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_captures_shortest_first() {
        let mut steps = 0;
        assert_eq!(
            glob_match(Comparator::Octet, "a.b.c", "*.*", &mut steps).unwrap(),
            vec!["a", "b.c"]
        );
        assert_eq!(
            glob_match(
                Comparator::AsciiCasemap,
                "Hello World",
                "h?llo *",
                &mut steps
            )
            .unwrap(),
            vec!["e", "World"]
        );
        assert!(glob_match(Comparator::Octet, "abc", "a\\*c", &mut steps).is_none());
        assert!(glob_match(Comparator::Octet, "a*c", "a\\*c", &mut steps).is_some());
    }

    #[test]
    fn ascii_numeric_orders_non_numbers_last() {
        assert_eq!(
            Comparator::AsciiNumeric.compare("10", "9"),
            Ordering::Greater
        );
        assert_eq!(
            Comparator::AsciiNumeric.compare("x", "9"),
            Ordering::Greater
        );
        assert!(Comparator::AsciiNumeric.equals("007", "7"));
    }
}
