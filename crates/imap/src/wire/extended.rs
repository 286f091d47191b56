//! Command syntax imap-codec does not parse yet, read here and taken off the command so
//! imap-codec decodes the rest:
//! - RFC 5258 LIST-EXTENDED: `LIST (selection) ref (pattern ...) RETURN (options)`, with
//!   RFC 5819 LIST-STATUS `RETURN (STATUS (items))` and RFC 6154 `SPECIAL-USE`;
//! - RFC 4731 ESEARCH: `SEARCH RETURN (MIN MAX COUNT ALL) ...`, and RFC 5267 §3 ESORT:
//!   `SORT RETURN (...) (criteria) charset ...`;
//! - RFC 6154 §3: `CREATE name (USE (\Sent))`;
//! - RFC 3502 MULTIAPPEND, RFC 4469 CATENATE and RFC 6855 UTF8 APPEND (see
//!   [`super::append`]).
//! - RFC 5267 §4.3.5: `CANCELUPDATE "tag" ...`, a command imap-codec does not know;
//! - RFC 9394 §3.3: the `PARTIAL` modifier of UID FETCH (`UID FETCH set items (PARTIAL -1:-3)`).
//!
//! Only the outer structure is read (atoms, quoted strings, literals, parentheses); the
//! mailbox names and search keys are left to imap-codec.

/// What was taken off a command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Extension {
    #[default]
    None,
    /// RFC 4731 §3.1 result options (upper case), of SEARCH or (RFC 5267 §3) SORT; empty
    /// means ALL.
    SearchReturn(Vec<String>),
    /// RFC 6154 §3 CREATE USE attributes (`\Sent`, ...).
    CreateUse(Vec<String>),
    /// RFC 5267 §4.3.5 `CANCELUPDATE` with the tags it names; the command bytes returned
    /// with it are only its tag (there is nothing left for imap-codec).
    CancelUpdate(Vec<String>),
    /// RFC 9394 §3.3 UID FETCH `PARTIAL` modifier (taken off the modifier list; the other
    /// modifiers, such as CHANGEDSINCE, stay for imap-codec).
    FetchPartial(PartialRange),
    /// RFC 5258 LIST-EXTENDED.
    List(ListExtended),
    /// An APPEND's messages (every APPEND is read by [`super::append`]).
    Append(super::append::AppendCommand),
    /// An APPEND over a limit of [`super::append`] (answer `NO [LIMIT]`).
    AppendRefused(super::append::AppendSyntaxError),
}

use super::search_return::PartialRange;

/// The parts of an extended LIST (RFC 5258 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListExtended {
    /// Selection options, upper case (`SUBSCRIBED`, `REMOTE`, `RECURSIVEMATCH`,
    /// `SPECIAL-USE`).
    pub selection: Vec<String>,
    /// Patterns after the first (the first stays in the command imap-codec decodes).
    pub more_patterns: Vec<Vec<u8>>,
    /// Return options, upper case (`SUBSCRIBED`, `CHILDREN`, `SPECIAL-USE`).
    pub returns: Vec<String>,
    /// RFC 5819 `RETURN (STATUS (items))`: the item names, upper case.
    pub status: Option<Vec<String>>,
}

struct Tok<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Tok<'a> {
    fn sp(&mut self) -> bool {
        let start = self.i;
        while self.b.get(self.i) == Some(&b' ') {
            self.i += 1;
        }
        self.i > start
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn atom(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, b' ' | b'(' | b')' | b'\r' | b'\n' | b'"' | b'{') {
                break;
            }
            self.i += 1;
        }
        (self.i > start)
            .then(|| self.b.get(start..self.i))
            .flatten()
    }

    /// A quoted string, a literal or an atom-like word; returns its span.
    fn string_span(&mut self) -> Option<(usize, usize)> {
        let start = self.i;
        match self.peek()? {
            b'"' => {
                self.i += 1;
                loop {
                    match self.peek()? {
                        b'\\' => self.i += 2,
                        b'"' => {
                            self.i += 1;
                            break;
                        }
                        b'\r' | b'\n' => return None,
                        _ => self.i += 1,
                    }
                }
            }
            b'{' | b'~' => {
                if self.peek() == Some(b'~') {
                    self.i += 1;
                }
                let close = self.b.get(self.i..)?.iter().position(|&c| c == b'}')?;
                let inner = self.b.get(self.i + 1..self.i + close)?;
                let digits = inner.strip_suffix(b"+").unwrap_or(inner);
                let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
                self.i += close + 1;
                if self.b.get(self.i..self.i + 2) != Some(b"\r\n") {
                    return None;
                }
                self.i += 2 + n;
                if self.i > self.b.len() {
                    return None;
                }
            }
            _ => {
                self.atom()?;
            }
        }
        Some((start, self.i))
    }

    /// A parenthesized list (nested lists, strings and literals skipped whole); returns
    /// the span of its inside.
    fn paren_span(&mut self) -> Option<(usize, usize)> {
        if self.peek()? != b'(' {
            return None;
        }
        self.i += 1;
        let start = self.i;
        let mut depth = 1usize;
        loop {
            match self.peek()? {
                b'(' => {
                    depth += 1;
                    self.i += 1;
                }
                b')' => {
                    depth -= 1;
                    self.i += 1;
                    if depth == 0 {
                        return Some((start, self.i - 1));
                    }
                }
                b' ' => self.i += 1,
                b'\r' | b'\n' => return None,
                _ => {
                    self.string_span()?;
                }
            }
        }
    }

    /// A FETCH item outside a list, such as `BODY.PEEK[HEADER.FIELDS (From)]<0.10>`: up
    /// to a space outside brackets; returns its end.
    fn fetch_item(&mut self) -> Option<usize> {
        let start = self.i;
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'[' => depth += 1,
                b']' => depth = depth.checked_sub(1)?,
                b' ' if depth == 0 => break,
                b'\r' | b'\n' => break,
                _ => {}
            }
            self.i += 1;
        }
        (self.i > start && depth == 0).then_some(self.i)
    }

    fn at_line_end(&self) -> bool {
        matches!(
            self.b.get(self.i..),
            Some(b"\r\n") | Some(b"\n") | Some(b"")
        )
    }
}

fn upper(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_ascii_uppercase()
}

/// The words of a flat list's inside (`MIN MAX`), upper case.
fn words(inner: &[u8]) -> Vec<String> {
    inner
        .split(|&c| c == b' ')
        .filter(|w| !w.is_empty())
        .map(upper)
        .collect()
}

/// The value of a quoted string, literal or atom span.
pub fn string_value(raw: &[u8]) -> Vec<u8> {
    if let Some(q) = raw.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")) {
        let mut out = Vec::with_capacity(q.len());
        let mut esc = false;
        for &c in q {
            if !esc && c == b'\\' {
                esc = true;
                continue;
            }
            esc = false;
            out.push(c);
        }
        return out;
    }
    if matches!(raw.first(), Some(b'{') | Some(b'~'))
        && let Some(p) = memchr::memmem::find(raw, b"\r\n")
    {
        return raw.get(p + 2..).unwrap_or_default().to_vec();
    }
    raw.to_vec()
}

/// The most tags one CANCELUPDATE may name (more is refused as a syntax error).
const MAX_CANCELUPDATE_TAGS: usize = 100;

/// Looks at a framed command; when it uses syntax of the extensions above, returns the
/// command without it (for imap-codec) and what was taken off.
pub fn preprocess(bytes: &[u8]) -> Option<(Vec<u8>, Extension)> {
    let mut t = Tok { b: bytes, i: 0 };
    let tag = t.atom()?;
    if !t.sp() {
        return None;
    }
    let mut name = upper(t.atom()?);
    if name == "UID" {
        t.sp();
        name = format!("UID {}", upper(t.atom()?));
    }
    let head = bytes.get(..t.i)?;
    match name.as_str() {
        "LIST" => list(&mut t, bytes, head),
        "APPEND" => match super::append::parse(bytes)? {
            Ok(cmd) => Some((
                super::append::placeholder(bytes, &cmd),
                Extension::Append(cmd),
            )),
            // Left to imap-codec, which answers BAD.
            Err(super::append::AppendSyntaxError::Invalid) => None,
            Err(e) => Some((
                super::append::placeholder(bytes, &super::append::AppendCommand::refused()),
                Extension::AppendRefused(e),
            )),
        },
        "UID FETCH" => fetch_partial(&mut t, bytes),
        "CANCELUPDATE" => {
            // RFC 5267 §5: command-select =/ "CANCELUPDATE" 1*(SP quoted).
            let mut tags = Vec::new();
            while t.sp() {
                if t.at_line_end() {
                    break;
                }
                let (a, b) = t.string_span()?;
                let value = string_value(bytes.get(a..b)?);
                tags.push(String::from_utf8(value).ok()?);
                if tags.len() > MAX_CANCELUPDATE_TAGS {
                    return None;
                }
            }
            if tags.is_empty() || !t.at_line_end() {
                return None;
            }
            Some((tag.to_vec(), Extension::CancelUpdate(tags)))
        }
        "SEARCH" | "UID SEARCH" | "SORT" | "UID SORT" => {
            t.sp();
            if upper(t.atom().unwrap_or_default()) != "RETURN" {
                return None;
            }
            t.sp();
            let (a, b) = t.paren_span()?;
            let opts = words(bytes.get(a..b)?);
            let mut out = head.to_vec();
            out.extend_from_slice(bytes.get(t.i..)?);
            Some((out, Extension::SearchReturn(opts)))
        }
        "CREATE" => {
            t.sp();
            let (_, end) = t.string_span()?;
            t.sp();
            if t.peek() != Some(b'(') {
                return None;
            }
            let (a, b) = t.paren_span()?;
            if !t.at_line_end() {
                return None;
            }
            // RFC 6154 §3: create-param = "USE" SP "(" [use-attr *(SP use-attr)] ")".
            let inner = bytes.get(a..b)?;
            let mut it = Tok { b: inner, i: 0 };
            let mut uses = Vec::new();
            while it.i < inner.len() {
                it.sp();
                let Some(w) = it.atom() else { break };
                if upper(w) == "USE" {
                    it.sp();
                    let (ua, ub) = it.paren_span()?;
                    uses.extend(
                        inner
                            .get(ua..ub)?
                            .split(|&c| c == b' ')
                            .filter(|w| !w.is_empty())
                            .map(|w| String::from_utf8_lossy(w).into_owned()),
                    );
                } else {
                    return None;
                }
            }
            let mut out = bytes.get(..end)?.to_vec();
            out.extend_from_slice(b"\r\n");
            Some((out, Extension::CreateUse(uses)))
        }
        _ => None,
    }
}

/// RFC 9394 §4: `fetch-modifier =/ modifier-partial` (UID FETCH only, §3.3). The command
/// comes back without it (and without the modifier list when nothing else was in it). A
/// broken range is left in place, for imap-codec to answer BAD.
fn fetch_partial(t: &mut Tok<'_>, bytes: &[u8]) -> Option<(Vec<u8>, Extension)> {
    if !bytes.windows(7).any(|w| w.eq_ignore_ascii_case(b"PARTIAL")) {
        return None;
    }
    t.sp();
    t.atom()?;
    t.sp();
    let items_end = if t.peek()? == b'(' {
        t.paren_span()?;
        t.i
    } else {
        t.fetch_item()?
    };
    t.sp();
    let (a, b) = t.paren_span()?;
    if !t.at_line_end() {
        return None;
    }
    let words: Vec<&[u8]> = bytes
        .get(a..b)?
        .split(|&c| c == b' ')
        .filter(|w| !w.is_empty())
        .collect();
    let at = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case(b"PARTIAL"))?;
    let range = PartialRange::parse(std::str::from_utf8(words.get(at + 1)?).ok()?).ok()?;
    let rest: Vec<&[u8]> = words
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != at && i != at + 1)
        .map(|(_, w)| *w)
        .collect();
    let mut out = bytes.get(..items_end)?.to_vec();
    if !rest.is_empty() {
        out.extend_from_slice(b" (");
        out.extend_from_slice(&rest.join(&b' '));
        out.push(b')');
    }
    out.extend_from_slice(b"\r\n");
    Some((out, Extension::FetchPartial(range)))
}

fn list(t: &mut Tok<'_>, bytes: &[u8], head: &[u8]) -> Option<(Vec<u8>, Extension)> {
    let mut ext = ListExtended::default();
    let mut extended = false;
    t.sp();
    if t.peek() == Some(b'(') {
        let (a, b) = t.paren_span()?;
        ext.selection = words(bytes.get(a..b)?);
        extended = true;
        t.sp();
    }
    let (ra, rb) = t.string_span()?;
    t.sp();
    let first: (usize, usize);
    if t.peek() == Some(b'(') {
        let (a, b) = t.paren_span()?;
        extended = true;
        let mut inner = Tok {
            b: bytes.get(..b)?,
            i: a,
        };
        let mut spans = Vec::new();
        while inner.i < b {
            inner.sp();
            if inner.i >= b {
                break;
            }
            spans.push(inner.string_span()?);
        }
        let mut it = spans.into_iter();
        first = it.next()?;
        ext.more_patterns = it
            .filter_map(|(x, y)| bytes.get(x..y).map(string_value))
            .collect();
    } else {
        first = t.string_span()?;
    }
    t.sp();
    if !t.at_line_end() {
        if upper(t.atom()?) != "RETURN" {
            return None;
        }
        extended = true;
        t.sp();
        let (a, b) = t.paren_span()?;
        let inner = bytes.get(..b)?;
        let mut it = Tok { b: inner, i: a };
        while it.i < b {
            it.sp();
            if it.i >= b {
                break;
            }
            let w = upper(it.atom()?);
            if w == "STATUS" {
                it.sp();
                let (sa, sb) = it.paren_span()?;
                ext.status = Some(words(inner.get(sa..sb)?));
            } else {
                ext.returns.push(w);
            }
        }
        if !t.at_line_end() {
            return None;
        }
    }
    if !extended {
        return None;
    }
    let mut out = head.to_vec();
    out.push(b' ');
    out.extend_from_slice(bytes.get(ra..rb)?);
    out.push(b' ');
    out.extend_from_slice(bytes.get(first.0..first.1)?);
    out.extend_from_slice(b"\r\n");
    Some((out, Extension::List(ext)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_commands_are_left_alone() {
        assert_eq!(preprocess(b"a LIST \"\" *\r\n"), None);
        assert_eq!(preprocess(b"a SEARCH ALL\r\n"), None);
        assert_eq!(preprocess(b"a CREATE foo\r\n"), None);
    }

    #[test]
    fn list_extended_is_split() {
        let (cmd, ext) = preprocess(
            b"a LIST (SUBSCRIBED) \"\" (\"INBOX\" Sent) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\r\n",
        )
        .unwrap();
        assert_eq!(cmd, b"a LIST \"\" \"INBOX\"\r\n");
        let Extension::List(l) = ext else { panic!() };
        assert_eq!(l.selection, ["SUBSCRIBED"]);
        assert_eq!(l.more_patterns, [b"Sent".to_vec()]);
        assert_eq!(l.returns, ["CHILDREN"]);
        assert_eq!(l.status.unwrap(), ["MESSAGES", "UNSEEN"]);
        let (cmd, _) = preprocess(b"a LIST \"\" % RETURN (SPECIAL-USE)\r\n").unwrap();
        assert_eq!(cmd, b"a LIST \"\" %\r\n");
    }

    #[test]
    fn search_return_and_create_use() {
        let (cmd, ext) =
            preprocess(b"a UID SEARCH RETURN (MIN COUNT) TEXT {3}\r\nabc\r\n").unwrap();
        assert_eq!(cmd, b"a UID SEARCH TEXT {3}\r\nabc\r\n");
        assert_eq!(
            ext,
            Extension::SearchReturn(vec!["MIN".into(), "COUNT".into()])
        );
        let (cmd, ext) =
            preprocess(b"s UID SORT RETURN (MIN MAX) (REVERSE DATE) UTF-8 ALL\r\n").unwrap();
        assert_eq!(cmd, b"s UID SORT (REVERSE DATE) UTF-8 ALL\r\n");
        assert_eq!(
            ext,
            Extension::SearchReturn(vec!["MIN".into(), "MAX".into()])
        );
        assert_eq!(preprocess(b"s SORT (DATE) UTF-8 ALL\r\n"), None);
        let (cmd, ext) = preprocess(b"a CREATE \"My Sent\" (USE (\\Sent))\r\n").unwrap();
        assert_eq!(cmd, b"a CREATE \"My Sent\"\r\n");
        assert_eq!(ext, Extension::CreateUse(vec!["\\Sent".into()]));
        assert_eq!(preprocess(b"a CREATE x (FOO)\r\n"), None);
    }

    #[test]
    fn uid_fetch_partial_modifier_is_taken_off() {
        let (cmd, ext) =
            preprocess(b"10 UID FETCH 25900:26600 (UID FLAGS) (PARTIAL -1:-3)\r\n").unwrap();
        assert_eq!(cmd, b"10 UID FETCH 25900:26600 (UID FLAGS)\r\n");
        assert_eq!(
            ext,
            Extension::FetchPartial(PartialRange::parse("-1:-3").unwrap())
        );
        let (cmd, _) = preprocess(
            b"11 uid fetch 1:* BODY.PEEK[HEADER.FIELDS (Partial)] (changedsince 5 partial 5:1)\r\n",
        )
        .unwrap();
        assert_eq!(
            cmd,
            b"11 uid fetch 1:* BODY.PEEK[HEADER.FIELDS (Partial)] (changedsince 5)\r\n"
        );
        // Not a modifier, broken, or not UID FETCH: left to imap-codec.
        assert_eq!(
            preprocess(b"12 UID FETCH 1:* (BODY[HEADER.FIELDS (PARTIAL)])\r\n"),
            None
        );
        assert_eq!(
            preprocess(b"13 UID FETCH 1:* FLAGS (PARTIAL 1:*)\r\n"),
            None
        );
        assert_eq!(preprocess(b"14 FETCH 1:* FLAGS (PARTIAL 1:2)\r\n"), None);
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #[test]
        fn preprocess_never_panics(words in proptest::collection::vec(proptest::prop_oneof![
            proptest::sample::select(vec![
                "a UID FETCH 1:* ", "b CANCELUPDATE ", "c SEARCH RETURN ", "(PARTIAL ", "-1:-3",
                "BODY[HEADER.FIELDS (", "]", ")", "\"", "{3}\r\nabc", " ", "\r\n",
            ]).prop_map(str::to_string),
            "[ -~]{0,6}",
        ], 0..12)) {
            let _ = preprocess(words.concat().as_bytes());
        }
    }

    #[test]
    fn cancelupdate_names_tags() {
        let (cmd, ext) = preprocess(b"c1 CANCELUPDATE \"B01\" \"x\\\"y\"\r\n").unwrap();
        assert_eq!(cmd, b"c1");
        assert_eq!(
            ext,
            Extension::CancelUpdate(vec!["B01".into(), "x\"y".into()])
        );
        assert_eq!(preprocess(b"c2 cancelupdate B01\r\n").unwrap().0, b"c2");
        assert_eq!(preprocess(b"c3 CANCELUPDATE\r\n"), None);
        assert_eq!(preprocess(b"c4 CANCELUPDATE \r\n"), None);
        assert_eq!(preprocess(b"c5 CANCELUPDATE \"a\" (x)\r\n"), None);
    }
}
