//! Small allocation-free scanners shared by the parsers.

use crate::event::Text;
use memchr::memmem;
use std::borrow::Cow;

/// Borrowed text.
#[inline]
pub fn b(s: &str) -> Text<'_> {
    Cow::Borrowed(s)
}

/// `s` without one pair of surrounding angle brackets (`<a@b>` -> `a@b`, `<>` -> ``).
#[inline]
pub fn unbracket(s: &str) -> &str {
    s.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(s)
}

/// Index of `needle` in `hay`. Needles here are short literals and lines are short, so a
/// `memchr` for the first byte and a compare beats building a substring searcher per call.
#[inline]
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = n.split_first() else {
        return Some(0);
    };
    if n.len() > 32 {
        return memmem::find(h, n);
    }
    let mut at = 0;
    while let Some(i) = h.get(at..).and_then(|s| memchr::memchr(first, s)) {
        let start = at + i;
        if h.get(start + 1..start + n.len()) == Some(rest) {
            return Some(start);
        }
        at = start + 1;
    }
    None
}

/// The pieces of `hay` between occurrences of `sep`, found with [`find`] (no substring
/// searcher is built, unlike `str::split` with a `&str`).
pub fn split_on<'a>(hay: &'a str, sep: &'a str) -> impl Iterator<Item = &'a str> {
    let mut rest = Some(hay);
    std::iter::from_fn(move || {
        let r = rest?;
        match find(r, sep) {
            Some(i) => {
                rest = r.get(i + sep.len()..);
                r.get(..i)
            }
            None => rest.take(),
        }
    })
}

/// Index of the first byte `c` in `s`. The fields searched this way are a few dozen bytes,
/// where a plain loop beats both `str::find(char)` and a vectorised `memchr`.
#[inline]
pub fn find_byte(s: &str, c: u8) -> Option<usize> {
    s.bytes().position(|x| x == c)
}

/// Index of the last byte `c` in `s` (see [`find_byte`]).
#[inline]
pub fn rfind_byte(s: &str, c: u8) -> Option<usize> {
    s.bytes().rposition(|x| x == c)
}

/// Index of the last `needle` in `hay`.
#[inline]
pub fn rfind(hay: &str, needle: &str) -> Option<usize> {
    memmem::rfind(hay.as_bytes(), needle.as_bytes())
}

/// A peer written `host[ip]`, `host[ip]:port` or `[ip]:port` (Postfix): (host, ip).
/// `host` is `None` for the bare form. IPv6 addresses stay intact (the port follows `]`).
pub fn host_ip(s: &str) -> Option<(Option<&str>, &str)> {
    let open = find_byte(s, b'[')?;
    let close = open + 1 + find_byte(s.get(open + 1..)?, b']')?;
    let host = s.get(..open)?;
    let ip = s.get(open + 1..close)?;
    Some(((!host.is_empty()).then_some(host), ip))
}

/// A Postfix queue ID: short form (≥ 5 upper-case hex digits) or long form (`enable_long_queue_ids`,
/// 10–20 characters of `[0-9A-Za-z]`, always with a digit). Words such as `warning` never qualify.
pub fn is_postfix_qid(s: &str) -> bool {
    let n = s.len();
    if !(5..=24).contains(&n) {
        return false;
    }
    let bytes = s.as_bytes();
    if bytes
        .iter()
        .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c))
    {
        return true;
    }
    n >= 10 && bytes.iter().all(u8::is_ascii_alphanumeric) && bytes.iter().any(u8::is_ascii_digit)
}

/// Splits `QID: rest` when the message starts with a Postfix queue ID.
#[inline]
pub fn split_qid(msg: &str) -> Option<(&str, &str)> {
    let colon = memchr::memchr(b':', msg.as_bytes().get(..26.min(msg.len()))?)?;
    let qid = msg.get(..colon)?;
    let rest = msg.get(colon + 1..)?.strip_prefix(' ').unwrap_or_default();
    is_postfix_qid(qid).then_some((qid, rest))
}

/// A leading SMTP reply code and enhanced status code: `550 5.1.1 rest` -> (code, dsn, rest).
/// RFC 5321 §4.2: three digits, first 2–5; RFC 3463 §2: `class.subject.detail`.
pub fn reply_code(s: &str) -> (Option<&str>, Option<&str>, &str) {
    let bytes = s.as_bytes();
    let is_code = bytes.len() >= 3
        && matches!(bytes.first(), Some(b'2'..=b'5'))
        && bytes.get(1).is_some_and(u8::is_ascii_digit)
        && bytes.get(2).is_some_and(u8::is_ascii_digit)
        && matches!(bytes.get(3), None | Some(b' ') | Some(b'-'));
    if !is_code {
        return (None, None, s);
    }
    let code = s.get(..3);
    let rest = s.get(4..).unwrap_or("");
    let word_end = find_byte(rest, b' ').unwrap_or(rest.len());
    let word = rest.get(..word_end).unwrap_or("");
    if is_enhanced(word) {
        (
            code,
            Some(word),
            rest.get(word_end..).unwrap_or("").trim_start(),
        )
    } else {
        (code, None, rest)
    }
}

/// RFC 3463 §2 enhanced status code `class.subject.detail`, class 2, 4 or 5.
pub fn is_enhanced(w: &str) -> bool {
    let number = |p: &str| !p.is_empty() && p.len() <= 3 && p.bytes().all(|c| c.is_ascii_digit());
    let mut parts = w.split('.');
    matches!(parts.next(), Some("2" | "4" | "5"))
        && parts.next().is_some_and(number)
        && parts.next().is_some_and(number)
        && parts.next().is_none()
}

/// Finds an SMTP reply inside free text, after a `said: ` (Postfix) or after
/// `SMTP error from remote mail server after ...: ` (Exim): (code, enhanced code).
pub fn embedded_reply(s: &str) -> Option<(&str, Option<&str>)> {
    let after = if let Some(i) = find(s, " said: ") {
        s.get(i + 7..)?
    } else if let Some(i) = find(s, "SMTP error from remote mail server after ") {
        let tail = s.get(i..)?;
        let c = find(tail, ": ")?;
        tail.get(c + 2..)?
    } else {
        return None;
    };
    let (code, dsn, _) = reply_code(after);
    code.map(|c| (c, dsn))
}

/// The local part and domain of an address; the domain is lower-cased by the caller.
pub fn domain_of(addr: &str) -> Option<&str> {
    let at = rfind_byte(addr, b'@')?;
    addr.get(at + 1..).filter(|d| !d.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_in_all_three_shapes() {
        assert_eq!(
            host_ip("mx.example[192.0.2.1]:25"),
            Some((Some("mx.example"), "192.0.2.1"))
        );
        assert_eq!(host_ip("[2001:db8::1]:587"), Some((None, "2001:db8::1")));
        assert_eq!(
            host_ip("unknown[unknown]"),
            Some((Some("unknown"), "unknown"))
        );
        assert_eq!(host_ip("local"), None);
    }

    #[test]
    fn split_on_matches_str_split() {
        for hay in ["", "a", "a, b", "a, b, ", ", a,, b", "x, y, z"] {
            assert_eq!(
                split_on(hay, ", ").collect::<Vec<_>>(),
                hay.split(", ").collect::<Vec<_>>(),
                "{hay:?}"
            );
        }
    }

    #[test]
    fn queue_ids_and_words() {
        assert!(is_postfix_qid("0F5383D"));
        assert!(is_postfix_qid("48rT2v1hQrz1J0N"));
        for w in [
            "warning",
            "NOQUEUE",
            "statistics",
            "Deleted",
            "fatal",
            "ABC",
        ] {
            assert!(!is_postfix_qid(w), "{w}");
        }
        assert_eq!(split_qid("0F5383D: removed"), Some(("0F5383D", "removed")));
        assert_eq!(split_qid("warning: x"), None);
    }

    #[test]
    fn reply_codes() {
        assert_eq!(
            reply_code("550 5.1.1 <a@b>: no"),
            (Some("550"), Some("5.1.1"), "<a@b>: no")
        );
        assert_eq!(
            reply_code("554 Service unavailable"),
            (Some("554"), None, "Service unavailable")
        );
        for (w, ok) in [
            ("5.1.1", true),
            ("4.7.10", true),
            ("2.0.0", true),
            ("3.1.1", false),
            ("5.1", false),
            ("5.1.1.1", false),
            ("5..1", false),
            ("5.1234.1", false),
            ("5.a.1", false),
        ] {
            assert_eq!(is_enhanced(w), ok, "{w}");
        }
        assert_eq!(
            reply_code("too many connections"),
            (None, None, "too many connections")
        );
        assert_eq!(
            embedded_reply("host x[1.2.3.4] said: 450 4.7.1 greylisted"),
            Some(("450", Some("4.7.1")))
        );
        assert_eq!(
            embedded_reply(
                "SMTP error from remote mail server after end of data: 550 Message was not accepted"
            ),
            Some(("550", None))
        );
    }
}
