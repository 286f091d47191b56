//! The keys SORT and THREAD order messages by (RFC 5256, RFC 5957): the base subject
//! (§2.1), the sent date (§2.2), the first address of a field, the display name, and the
//! message ids of Message-ID, References and In-Reply-To (§2.2 REFERENCES). Strings are
//! compared with `i;ascii-casemap` (RFC 4790 §9.2: ASCII letters upper-cased, every other
//! octet as is), so each key is kept already mapped and compares as plain octets.

use super::decode::decode_header_text;
use super::search::date_timestamp;
use imap_codec::imap_types::core::NString;
use imap_codec::imap_types::envelope::{Address, Envelope};

/// RFC 4790 §9.2 `i;ascii-casemap`: the form two strings are compared in.
pub fn casemap(s: &[u8]) -> Vec<u8> {
    s.to_ascii_uppercase()
}

/// A base subject (RFC 5256 §2.1) and whether extracting it removed a reply or forward
/// marker (§2.1: a `subj-refwd`, a `(fwd)` trailer, or `[fwd: ... ]`), which REFERENCES
/// threading needs (§2.2 step 5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaseSubject {
    /// The base subject in UTF-8, not case-mapped.
    pub text: String,
    pub reply_or_forward: bool,
}

/// The octets of `s` from `start` to `end`, or nothing.
fn span(s: &[u8], start: usize, end: usize) -> &[u8] {
    s.get(start..end).unwrap_or_default()
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// RFC 5256 §5 `subj-blob = "[" *BLOBCHAR "]" *WSP` at the start of `s`: its length.
/// (BLOBCHAR is any octet but `[` and `]`; white space is a single space after step 1.)
fn blob(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'[') {
        return None;
    }
    let close = s.iter().skip(1).position(|&c| c == b'[' || c == b']')? + 1;
    if s.get(close) != Some(&b']') {
        return None;
    }
    let mut n = close + 1;
    while s.get(n) == Some(&b' ') {
        n += 1;
    }
    Some(n)
}

/// RFC 5256 §5 `subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"` at the start of
/// `s`: its length.
fn refwd(s: &[u8]) -> Option<usize> {
    let mut n = if starts_with_ci(s, b"re") {
        2
    } else if starts_with_ci(s, b"fwd") {
        3
    } else if starts_with_ci(s, b"fw") {
        2
    } else {
        return None;
    };
    while s.get(n) == Some(&b' ') {
        n += 1;
    }
    if let Some(b) = s.get(n..).and_then(blob) {
        n += b;
    }
    (s.get(n) == Some(&b':')).then_some(n + 1)
}

/// RFC 5256 §5 `subj-leader = (*subj-blob subj-refwd) / WSP` at the start of `s`: its
/// length and whether it was a `subj-refwd`.
fn leader(s: &[u8]) -> Option<(usize, bool)> {
    if s.first() == Some(&b' ') {
        return Some((1, false));
    }
    let mut n = 0;
    loop {
        let rest = s.get(n..).unwrap_or_default();
        if let Some(r) = refwd(rest) {
            return Some((n + r, true));
        }
        n += blob(rest)?;
    }
}

/// RFC 5256 §2.1: the base subject of a Subject field value as written (RFC 2047 encoded
/// words not yet decoded).
pub fn base_subject(raw: &[u8]) -> BaseSubject {
    // (1) Encoded words to UTF-8; tabs and line breaks to spaces; runs of spaces to one.
    let decoded = decode_header_text(raw);
    let mut s: Vec<u8> = Vec::with_capacity(decoded.len());
    for b in decoded.bytes() {
        let b = if matches!(b, b'\t' | b'\r' | b'\n') {
            b' '
        } else {
            b
        };
        if b == b' ' && s.last() == Some(&b' ') {
            continue;
        }
        s.push(b);
    }
    let mut reply = false;
    let (mut start, mut end) = (0usize, s.len());
    loop {
        // (2) Trailers, `(fwd)` / WSP, repeatedly.
        loop {
            let cur = span(&s, start, end);
            if cur.last() == Some(&b' ') {
                end -= 1;
            } else if cur.len() >= 5
                && cur
                    .get(cur.len() - 5..)
                    .is_some_and(|t| t.eq_ignore_ascii_case(b"(fwd)"))
            {
                end -= 5;
                reply = true;
            } else {
                break;
            }
        }
        // (3) Leaders and (4) a leading blob that leaves a non-empty base, until (5) neither
        // applies.
        loop {
            let cur = span(&s, start, end);
            if let Some((n, is_refwd)) = leader(cur) {
                start += n;
                reply |= is_refwd;
                continue;
            }
            if let Some(n) = blob(cur)
                && cur.get(n..).is_some_and(|rest| !rest.is_empty())
            {
                start += n;
                continue;
            }
            break;
        }
        // (6) `[fwd:` ... `]` around the whole: remove both and go again from (2).
        let cur = span(&s, start, end);
        if cur.len() >= 6 && starts_with_ci(cur, b"[fwd:") && cur.last() == Some(&b']') {
            start += 5;
            end -= 1;
            reply = true;
            continue;
        }
        break;
    }
    BaseSubject {
        text: String::from_utf8_lossy(span(&s, start, end)).into_owned(),
        reply_or_forward: reply,
    }
}

/// The message ids in a Message-ID, References or In-Reply-To value (RFC 5322 §3.6.4
/// `msg-id`), in order: the text between `<` and `>`, white space, quoting and comments
/// removed (RFC 5256 §2.2 compares ids after removing them, then case-sensitively). Text
/// outside angle brackets (phrases some In-Reply-To fields carry) is skipped.
pub fn message_ids(value: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = value.get(i) {
        match c {
            b'(' => {
                // A comment, nested ones included.
                let mut depth = 0usize;
                while let Some(&c) = value.get(i) {
                    match c {
                        b'\\' => i += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                // A quoted string outside an id (a phrase): skipped.
                i += 1;
                while let Some(&c) = value.get(i) {
                    match c {
                        b'\\' => i += 1,
                        b'"' => break,
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            b'<' => {
                let mut id = Vec::new();
                i += 1;
                let mut closed = false;
                while let Some(&c) = value.get(i) {
                    i += 1;
                    match c {
                        b'>' => {
                            closed = true;
                            break;
                        }
                        b'\\' => {
                            if let Some(&q) = value.get(i) {
                                id.push(q);
                                i += 1;
                            }
                        }
                        b'"' | b' ' | b'\t' | b'\r' | b'\n' => {}
                        _ => id.push(c),
                    }
                }
                if closed && !id.is_empty() {
                    out.push(String::from_utf8_lossy(&id).into_owned());
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn nstring_bytes<'n>(n: &'n NString<'_>) -> &'n [u8] {
    n.0.as_ref().map(|s| s.as_ref()).unwrap_or_default()
}

/// The first entry of an address list that names something: an address, or the start of a
/// group (RFC 9051 §7.5.2: a group start has a NIL host and the group's name as mailbox; a
/// group end is all NIL). An address without a domain looks like a group start here too.
fn first_address<'e, 'a>(list: &'e [Address<'a>]) -> Option<&'e Address<'a>> {
    list.iter().find(|a| a.mailbox.0.is_some())
}

/// RFC 5256 §3 FROM, TO, CC: the `addr-mailbox` of the first address (a group's name when
/// the list starts with a group, as Dovecot sorts it), case-mapped; empty when there is
/// none.
pub fn mailbox_key(list: &[Address<'_>]) -> Vec<u8> {
    first_address(list)
        .map(|a| casemap(nstring_bytes(&a.mailbox)))
        .unwrap_or_default()
}

/// RFC 5957 §3 DISPLAYFROM, DISPLAYTO: the display name of the first address, RFC 2047
/// words decoded; when it is absent or empty, the address itself (`mailbox@host`), or the
/// group's name when the list starts with a group; case-mapped.
pub fn display_key(list: &[Address<'_>]) -> Vec<u8> {
    let Some(a) = first_address(list) else {
        return Vec::new();
    };
    if a.host.0.is_none() {
        return casemap(nstring_bytes(&a.mailbox));
    }
    let name = decode_header_text(nstring_bytes(&a.name));
    let name = name.trim();
    if !name.is_empty() {
        return casemap(name.as_bytes());
    }
    let mut addr = nstring_bytes(&a.mailbox).to_vec();
    addr.push(b'@');
    addr.extend_from_slice(nstring_bytes(&a.host));
    casemap(&addr)
}

/// RFC 5256 §2.2 sent date: the Date field in UTC seconds, `None` when it is missing or
/// does not parse (the caller then uses INTERNALDATE).
pub fn sent_date(env: &Envelope<'_>) -> Option<i64> {
    env.date.0.as_ref().and_then(|d| date_timestamp(d.as_ref()))
}

/// The base subject of an ENVELOPE's subject (empty when NIL).
pub fn envelope_subject(env: &Envelope<'_>) -> BaseSubject {
    base_subject(nstring_bytes(&env.subject))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> String {
        base_subject(s.as_bytes()).text
    }

    fn is_reply(s: &str) -> bool {
        base_subject(s.as_bytes()).reply_or_forward
    }

    #[test]
    fn rfc_5256_leaders_trailers_and_blobs_are_removed() {
        assert_eq!(base("Re: hello"), "hello");
        assert_eq!(base("RE:hello"), "hello");
        assert_eq!(base("Fwd: hello"), "hello");
        assert_eq!(base("fw: hello"), "hello");
        assert_eq!(base("Re[2]: hello"), "hello");
        assert_eq!(base("Re [2]: hello"), "hello");
        assert_eq!(base("hello (fwd)"), "hello");
        assert_eq!(base("hello (FWD) (fwd)  "), "hello");
        assert_eq!(base("[fwd: hello]"), "hello");
        assert_eq!(base("[Fwd: Re: hello (fwd)]"), "hello");
        assert_eq!(base("  hello   \t world  "), "hello world");
        assert_eq!(base(""), "");
        assert_eq!(base("Re:"), "");
    }

    #[test]
    fn nested_list_tags_and_replies() {
        assert_eq!(base("Re: [list] Fwd: Re: hello"), "hello");
        assert_eq!(base("[list] Re: [other] Re: hello"), "hello");
        assert_eq!(base("[list] hello"), "hello");
        // A blob alone is the subject (removing it would leave nothing).
        assert_eq!(base("[list]"), "[list]");
        assert_eq!(base("Re: [list]"), "[list]");
        // Not a leader: "Ré", "Reply", a colon later on.
        assert_eq!(base("Reply: hello"), "Reply: hello");
        assert_eq!(base("Remember: hello"), "Remember: hello");
        assert_eq!(base("Fwdx: hello"), "Fwdx: hello");
    }

    #[test]
    fn encoded_words_are_decoded_before_extraction() {
        assert_eq!(base("=?UTF-8?Q?Re=3A_Gr=C3=BC=C3=9Fe?="), "Grüße");
        assert_eq!(base("Re: =?ISO-8859-1?Q?caf=E9?= (fwd)"), "café");
        assert_eq!(base("=?utf-8?b?W2xpc3RdIFJlOiBoZWxsbw==?="), "hello");
    }

    #[test]
    fn reply_and_forward_markers_are_noticed() {
        assert!(is_reply("Re: hello"));
        assert!(is_reply("hello (fwd)"));
        assert!(is_reply("[fwd: hello]"));
        assert!(is_reply("[list] Fwd: hello"));
        assert!(!is_reply("[list] hello"));
        assert!(!is_reply("hello"));
        assert!(!is_reply(" hello "));
    }

    #[test]
    fn message_ids_are_taken_from_angle_brackets() {
        assert_eq!(
            message_ids(b"<a@b> (comment <x@y>)\r\n <c@d>"),
            vec!["a@b".to_string(), "c@d".to_string()]
        );
        assert_eq!(
            message_ids(b"\"Your message of <x@y>\" <\"q u\"@h>"),
            vec!["qu@h".to_string()]
        );
        assert_eq!(message_ids(b"<> <broken"), Vec::<String>::new());
        assert_eq!(message_ids(b"<A@B>"), vec!["A@B".to_string()]);
    }

    #[test]
    fn casemap_folds_ascii_only() {
        assert_eq!(casemap("aBc-ä".as_bytes()), "ABC-ä".as_bytes());
    }
}
