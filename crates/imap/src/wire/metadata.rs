//! RFC 5464 METADATA command syntax (§5): GETMETADATA and SETMETADATA, read whole here
//! (imap-codec is built without its METADATA support), with the entry name rules of §3.2.
//!
//! ```text
//! getmetadata  = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries
//! setmetadata  = "SETMETADATA" SP mailbox SP entry-values
//! getmetadata-options = "(" getmetadata-option *(SP getmetadata-option) ")"
//!                       ; MAXSIZE number / DEPTH ("0" / "1" / "infinity")
//! entries      = entry / "(" entry *(SP entry) ")"        ; entry = astring
//! entry-values = "(" entry SP value *(SP entry SP value) ")"
//! value        = nstring / literal8
//! ```
//!
//! Also taken, as real clients and the RFC's own examples (§4.2.1, §4.4.1) write them: the
//! options after the mailbox, and several entries without parentheses.
//!
//! Everything wrong here is `BAD` (§3.2: "Invalid entry names result in a BAD response"):
//! syntax, an unknown option, an invalid entry name, more than [`MAX_ENTRIES`] entries.
//! Whether the mailbox exists, limits of the store and read-only entries are the session's
//! (`NO`). Entry names come out in lower case (§3.2: they are case-insensitive).

use super::framer::{command_name, recover_tag};

/// Most entries one command may name (GETMETADATA) or set (SETMETADATA).
pub const MAX_ENTRIES: usize = 1000;
/// Longest entry name, in octets.
pub const MAX_ENTRY_NAME: usize = 1024;

/// RFC 5464 §4.2.2 DEPTH.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Depth {
    #[default]
    Zero,
    One,
    Infinity,
}

/// GETMETADATA's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetMetadata {
    /// As sent (empty: the server's entries).
    pub mailbox: Vec<u8>,
    /// §4.2.1 MAXSIZE.
    pub max_size: Option<u32>,
    pub depth: Depth,
    /// Lower case; `/private` and `/shared` alone, and vendor prefixes, are taken here as
    /// roots to read below (with DEPTH), though no entry has such a name.
    pub entries: Vec<String>,
}

/// SETMETADATA's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetMetadata {
    /// As sent (empty: the server's entries).
    pub mailbox: Vec<u8>,
    /// Lower-case names with their values; `None` (NIL) removes the entry.
    pub values: Vec<(String, Option<Vec<u8>>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataCommand {
    Get(GetMetadata),
    Set(SetMetadata),
}

/// A GETMETADATA or SETMETADATA command as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The tag, when the command starts with a valid one.
    pub tag: Option<Vec<u8>>,
    /// `GETMETADATA` or `SETMETADATA`.
    pub name: &'static str,
    /// The arguments, or why they are invalid (the text of the `BAD`).
    pub result: Result<MetadataCommand, String>,
}

/// Reads a framed command (lines and literals, CRLF line ends, as the framer gives them)
/// if it is GETMETADATA or SETMETADATA; `None` for any other command.
pub fn parse(cmd: &[u8]) -> Option<Parsed> {
    let name = match command_name(cmd).as_deref() {
        Some("GETMETADATA") => "GETMETADATA",
        Some("SETMETADATA") => "SETMETADATA",
        _ => return None,
    };
    let tag = recover_tag(cmd);
    let result = match &tag {
        None => Err("Invalid tag".to_string()),
        Some(t) => after_name(cmd, t.len() + 1, name)
            .and_then(arguments)
            .and_then(|items| match name {
                "GETMETADATA" => get(items).map(MetadataCommand::Get),
                _ => set(items).map(MetadataCommand::Set),
            })
            .map_err(|why| format!("{name}: {why}")),
    };
    Some(Parsed { tag, name, result })
}

/// What follows the command name, which must be right after the tag and its space.
fn after_name<'c>(cmd: &'c [u8], at: usize, name: &str) -> Result<&'c [u8], String> {
    match cmd.get(at..at + name.len()) {
        Some(n) if n.eq_ignore_ascii_case(name.as_bytes()) => {
            Ok(cmd.get(at + name.len()..).unwrap_or_default())
        }
        _ => Err("expected the command name after the tag".into()),
    }
}

/// One argument.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Atom(Vec<u8>),
    Quoted(Vec<u8>),
    Literal(Vec<u8>),
    Literal8(Vec<u8>),
    List(Vec<Item>),
}

impl Item {
    /// RFC 9051 §9 astring (atom, quoted or literal).
    fn astring(&self) -> Option<&[u8]> {
        match self {
            Item::Atom(b) | Item::Quoted(b) | Item::Literal(b) => Some(b),
            _ => None,
        }
    }
}

/// Most items read in one command: [`MAX_ENTRIES`] names and values, and a few more.
const MAX_ITEMS: usize = 2 * MAX_ENTRIES + 16;

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    items: usize,
}

/// RFC 9051 §9 ATOM-CHAR and `]` (ASTRING-CHAR); 8-bit octets are let through for UTF-8
/// mailbox names (checked later).
fn is_astring_char(c: u8) -> bool {
    c > 0x20 && c != 0x7f && !matches!(c, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\')
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn count(&mut self) -> Result<(), String> {
        self.items += 1;
        if self.items > MAX_ITEMS {
            return Err(format!("more than {MAX_ENTRIES} entries"));
        }
        Ok(())
    }

    /// Items up to `)` (in a list) or the end of the command, each after one SP.
    fn items(&mut self, in_list: bool) -> Result<Vec<Item>, String> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(b')') if in_list => {
                    self.i += 1;
                    if out.is_empty() {
                        return Err("empty list".into());
                    }
                    return Ok(out);
                }
                Some(b'\r') if !in_list => {
                    return if self.b.get(self.i..) == Some(b"\r\n") {
                        Ok(out)
                    } else {
                        Err("garbage at the end of the command".into())
                    };
                }
                None => return Err("unexpected end of command".into()),
                _ => {}
            }
            let needs_space = !out.is_empty() || !in_list;
            if needs_space {
                if self.peek() != Some(b' ') {
                    return Err("expected a space between arguments".into());
                }
                self.i += 1;
            }
            self.count()?;
            out.push(self.item(in_list)?);
        }
    }

    fn item(&mut self, in_list: bool) -> Result<Item, String> {
        match self.peek() {
            Some(b'(') if in_list => Err("nested lists are not allowed here".into()),
            Some(b'(') => {
                self.i += 1;
                Ok(Item::List(self.items(true)?))
            }
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal().map(Item::Literal),
            Some(b'~') if self.b.get(self.i + 1) == Some(&b'{') => {
                self.i += 1;
                self.literal().map(Item::Literal8)
            }
            Some(c) if is_astring_char(c) => {
                let start = self.i;
                while self.peek().is_some_and(is_astring_char) {
                    self.i += 1;
                }
                if matches!(self.peek(), Some(b'*' | b'%')) {
                    return Err("invalid character '*' or '%' (not allowed in entry names, RFC 5464 section 3.2)".into());
                }
                Ok(Item::Atom(
                    self.b.get(start..self.i).unwrap_or_default().to_vec(),
                ))
            }
            _ => Err("invalid character in the arguments".into()),
        }
    }

    /// RFC 9051 §9 quoted: `\` escapes only `"` and `\`; no CR or LF.
    fn quoted(&mut self) -> Result<Item, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(Item::Quoted(out));
                }
                Some(b'\\') => match self.b.get(self.i + 1) {
                    Some(&c @ (b'"' | b'\\')) => {
                        out.push(c);
                        self.i += 2;
                    }
                    _ => return Err("invalid escape in a quoted string".into()),
                },
                Some(b'\r' | b'\n' | 0) | None => {
                    return Err("unterminated quoted string".into());
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// `{n}` or `{n+}`, CRLF, then n octets (the framer has checked the length).
    fn literal(&mut self) -> Result<Vec<u8>, String> {
        let rest = self.b.get(self.i..).unwrap_or_default();
        let close = rest
            .iter()
            .position(|&c| c == b'}')
            .ok_or("invalid literal")?;
        let inner = rest.get(1..close).unwrap_or_default();
        let digits = inner.strip_suffix(b"+").unwrap_or(inner);
        if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
            return Err("invalid literal".into());
        }
        let n: usize = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or("invalid literal")?;
        let start = self.i + close + 1;
        if self.b.get(start..start + 2) != Some(b"\r\n") {
            return Err("invalid literal".into());
        }
        let data = self
            .b
            .get(start + 2..start + 2 + n)
            .ok_or("literal shorter than announced")?;
        self.i = start + 2 + n;
        Ok(data.to_vec())
    }
}

/// The arguments after the command name, as items.
fn arguments(after_name: &[u8]) -> Result<Vec<Item>, String> {
    let mut r = Reader {
        b: after_name,
        i: 0,
        items: 0,
    };
    let items = r.items(false)?;
    if items.is_empty() {
        return Err("missing arguments".into());
    }
    Ok(items)
}

/// What an entry name is used for: reading allows the roots of entries (`/private`,
/// `/shared/vendor/<token>`) as well as entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Read,
    Write,
}

/// RFC 5464 §3.2 entry name rules; the name in lower case, or why it is invalid.
///
/// - at most [`MAX_ENTRY_NAME`] octets of ASCII, no control characters (the RFC says
///   0x00-0x19; all of them and 0x7f here), no `*` or `%`;
/// - starts with `/`, no two `/` in a row, does not end with `/`;
/// - the first component is `private` or `shared` (§3.2, §6);
/// - to be set, at least 2 components, and at least 4 under `vendor` (`/shared/vendor/
///   <vendor-token>/...`).
pub fn entry_name(raw: &[u8], purpose: Use) -> Result<String, String> {
    let shown = String::from_utf8_lossy(raw.get(..64).unwrap_or(raw)).into_owned();
    let bad = |why: &str| Err(format!("invalid entry name {shown:?}: {why}"));
    if raw.len() > MAX_ENTRY_NAME {
        return bad("too long");
    }
    if raw.iter().any(|&c| !(0x20..0x7f).contains(&c)) {
        return bad("only printable ASCII is allowed");
    }
    if raw.iter().any(|&c| c == b'*' || c == b'%') {
        return bad("'*' and '%' are not allowed");
    }
    let name = String::from_utf8_lossy(raw).to_ascii_lowercase();
    let Some(path) = name.strip_prefix('/') else {
        return bad("it must start with '/'");
    };
    let parts: Vec<&str> = path.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return bad("empty component ('//' or a trailing '/')");
    }
    if !matches!(parts.first(), Some(&"private") | Some(&"shared")) {
        return bad("it must start with /private or /shared");
    }
    if purpose == Use::Write {
        if parts.len() < 2 {
            return bad("it needs a name below /private or /shared");
        }
        if parts.get(1) == Some(&"vendor") && parts.len() < 4 {
            return bad("vendor entries are /private/vendor/<vendor-token>/...");
        }
    }
    Ok(name)
}

/// GETMETADATA options (§4.2.1, §4.2.2); unknown or repeated ones are refused.
fn options(list: &[Item], into: &mut GetMetadata) -> Result<(), String> {
    let mut seen_size = false;
    let mut seen_depth = false;
    let mut it = list.iter();
    while let Some(label) = it.next() {
        let Item::Atom(label) = label else {
            return Err("invalid option".into());
        };
        let value = match it.next() {
            Some(Item::Atom(v)) => v.as_slice(),
            _ => return Err("option without a value".into()),
        };
        if label.eq_ignore_ascii_case(b"MAXSIZE") && !seen_size {
            seen_size = true;
            let n = std::str::from_utf8(value)
                .ok()
                .filter(|v| v.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|v| v.parse::<u32>().ok())
                .ok_or("MAXSIZE needs a 32-bit number")?;
            into.max_size = Some(n);
        } else if label.eq_ignore_ascii_case(b"DEPTH") && !seen_depth {
            seen_depth = true;
            into.depth = match value {
                b"0" => Depth::Zero,
                b"1" => Depth::One,
                v if v.eq_ignore_ascii_case(b"infinity") => Depth::Infinity,
                _ => return Err("DEPTH is 0, 1 or infinity".into()),
            };
        } else {
            return Err(format!(
                "unknown or repeated option {}",
                String::from_utf8_lossy(label)
            ));
        }
    }
    Ok(())
}

fn mailbox(item: Option<&Item>) -> Result<Vec<u8>, String> {
    item.and_then(Item::astring)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| "expected a mailbox name".into())
}

fn get(items: Vec<Item>) -> Result<GetMetadata, String> {
    let mut cmd = GetMetadata::default();
    let mut rest = items.as_slice();
    let mut had_options = false;
    if let [Item::List(opts), tail @ ..] = rest {
        options(opts, &mut cmd)?;
        had_options = true;
        rest = tail;
    }
    let (first, tail) = rest.split_first().ok_or("expected a mailbox name")?;
    cmd.mailbox = mailbox(Some(first))?;
    rest = tail;
    // The RFC's examples put the options after the mailbox.
    if let [Item::List(opts), tail @ ..] = rest
        && !tail.is_empty()
    {
        if had_options {
            return Err("options given twice".into());
        }
        options(opts, &mut cmd)?;
        rest = tail;
    }
    let names: Vec<&Item> = match rest {
        [] => return Err("expected entry names".into()),
        [Item::List(list)] => list.iter().collect(),
        several => several.iter().collect(),
    };
    for n in names {
        let raw = n.astring().ok_or("expected an entry name")?;
        cmd.entries.push(entry_name(raw, Use::Read)?);
    }
    if cmd.entries.len() > MAX_ENTRIES {
        return Err(format!("more than {MAX_ENTRIES} entries"));
    }
    Ok(cmd)
}

fn set(items: Vec<Item>) -> Result<SetMetadata, String> {
    let [mbox, Item::List(list)] = items.as_slice() else {
        return Err("expected a mailbox and a list of entries and values".into());
    };
    let mut cmd = SetMetadata {
        mailbox: mailbox(Some(mbox))?,
        values: Vec::new(),
    };
    if list.len() % 2 != 0 {
        return Err("each entry needs a value".into());
    }
    for pair in list.chunks_exact(2) {
        let [name, value] = pair else {
            return Err("each entry needs a value".into());
        };
        let raw = name.astring().ok_or("expected an entry name")?;
        let name = entry_name(raw, Use::Write)?;
        // value = nstring / literal8
        let value = match value {
            Item::Atom(a) if a.eq_ignore_ascii_case(b"NIL") => None,
            Item::Quoted(v) | Item::Literal(v) | Item::Literal8(v) => Some(v.clone()),
            _ => return Err("a value is a string, a literal or NIL".into()),
        };
        cmd.values.push((name, value));
    }
    if cmd.values.len() > MAX_ENTRIES {
        return Err(format!("more than {MAX_ENTRIES} entries"));
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(cmd: &[u8]) -> MetadataCommand {
        match parse(cmd) {
            Some(Parsed { result: Ok(c), .. }) => c,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(cmd)),
        }
    }

    fn bad(cmd: &[u8]) -> String {
        match parse(cmd) {
            Some(Parsed { result: Err(e), .. }) => e,
            other => panic!("{:?} accepted: {other:?}", String::from_utf8_lossy(cmd)),
        }
    }

    fn get_of(cmd: &[u8]) -> GetMetadata {
        match ok(cmd) {
            MetadataCommand::Get(g) => g,
            other => panic!("{other:?}"),
        }
    }

    fn set_of(cmd: &[u8]) -> SetMetadata {
        match ok(cmd) {
            MetadataCommand::Set(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_commands_are_not_taken() {
        assert_eq!(parse(b"a NOOP\r\n"), None);
        bad(b"a UID GETMETADATA \"\" /shared/x\r\n");
        bad(b"a  GETMETADATA \"\" /shared/x\r\n");
        assert_eq!(parse(b"a GETMETADATAX \"\" /shared/x\r\n"), None);
    }

    #[test]
    fn rfc_examples_parse() {
        let g = get_of(b"a GETMETADATA \"\" /shared/comment\r\n");
        assert_eq!(g.mailbox, b"");
        assert_eq!(g.entries, ["/shared/comment"]);
        assert_eq!((g.depth, g.max_size), (Depth::Zero, None));
        let g = get_of(b"a GETMETADATA \"INBOX\" (/shared/comment /private/comment)\r\n");
        assert_eq!(g.entries, ["/shared/comment", "/private/comment"]);
        // §4.2.1 example: options after the mailbox.
        let g = get_of(
            b"a GETMETADATA \"INBOX\" (MAXSIZE 1024) (/shared/comment /private/comment)\r\n",
        );
        assert_eq!(g.max_size, Some(1024));
        assert_eq!(g.entries.len(), 2);
        // The ABNF's order.
        let g = get_of(b"a getmetadata (DEPTH infinity MAXSIZE 5) INBOX /private\r\n");
        assert_eq!((g.depth, g.max_size), (Depth::Infinity, Some(5)));
        assert_eq!(g.mailbox, b"INBOX");
        // §4.4.1 example: several entries without parentheses.
        let g = get_of(b"a GETMETADATA \"INBOX\" /private/comment /shared/comment\r\n");
        assert_eq!(g.entries, ["/private/comment", "/shared/comment"]);
        let g = get_of(b"a GETMETADATA (DEPTH 1) \"INBOX\" (/private/filters/values)\r\n");
        assert_eq!(g.depth, Depth::One);

        let s = set_of(b"a SETMETADATA INBOX (/private/comment {33}\r\nMy new comment across\r\ntwo lines.)\r\n");
        assert_eq!(
            s.values,
            [(
                "/private/comment".to_string(),
                Some(b"My new comment across\r\ntwo lines.".to_vec())
            )]
        );
        let s = set_of(b"a SETMETADATA INBOX (/private/comment NIL)\r\n");
        assert_eq!(s.values, [("/private/comment".to_string(), None)]);
        let s = set_of(
            b"a SETMETADATA INBOX (/private/comment \"My new comment\" /shared/comment \"This one is for you!\")\r\n",
        );
        assert_eq!(s.values.len(), 2);
    }

    #[test]
    fn values_may_be_binary_literal8_and_names_are_lowered() {
        let s = set_of(b"a SETMETADATA \"\" (/Shared/Blob ~{4+}\r\nt\x00s\xff)\r\n");
        assert_eq!(
            s.values,
            [("/shared/blob".to_string(), Some(b"t\x00s\xff".to_vec()))]
        );
        let s = set_of(b"a SETMETADATA \"\" (/shared/q \"a \\\"b\\\" \\\\\")\r\n");
        assert_eq!(s.values[0].1.as_deref(), Some(&b"a \"b\" \\"[..]));
        let s = set_of(b"a SETMETADATA {5}\r\nINBOX ({16}\r\n/private/comment \"\")\r\n");
        assert_eq!(s.mailbox, b"INBOX");
        assert_eq!(s.values[0].1.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn invalid_entry_names_are_bad() {
        for cmd in [
            &b"a SETMETADATA INBOX (/private/a*b \"x\")\r\n"[..],
            b"a SETMETADATA INBOX (\"/private/a*b\" \"x\")\r\n",
            b"a SETMETADATA INBOX (\"/private/a%b\" \"x\")\r\n",
            b"a SETMETADATA INBOX (/private//b \"x\")\r\n",
            b"a SETMETADATA INBOX (/private/b/ \"x\")\r\n",
            b"a SETMETADATA INBOX (/other/b \"x\")\r\n",
            b"a SETMETADATA INBOX (private/b \"x\")\r\n",
            b"a SETMETADATA INBOX (/private \"x\")\r\n",
            b"a SETMETADATA INBOX (/shared/vendor/acme \"x\")\r\n",
            b"a SETMETADATA INBOX ({3}\r\n/\x01x \"x\")\r\n",
            b"a SETMETADATA INBOX (\"/private/\xc3\xa9\" \"x\")\r\n",
            b"a GETMETADATA INBOX /private/*\r\n",
            b"a GETMETADATA INBOX \"/private/a%\"\r\n",
            b"a GETMETADATA INBOX /comment\r\n",
            b"a GETMETADATA INBOX /\r\n",
        ] {
            let why = bad(cmd);
            assert!(
                why.contains("entry name") || why.contains("character"),
                "{:?}: {why}",
                String::from_utf8_lossy(cmd)
            );
        }
        let long = format!(
            "a GETMETADATA INBOX /private/{}\r\n",
            "x".repeat(MAX_ENTRY_NAME)
        );
        assert!(bad(long.as_bytes()).contains("too long"));
        // Vendor entries with their 4 components, and roots to read below, are fine.
        set_of(b"a SETMETADATA INBOX (/shared/vendor/acme/setting \"x\")\r\n");
        let g = get_of(b"a GETMETADATA (DEPTH infinity) INBOX (/private /shared/vendor/acme)\r\n");
        assert_eq!(g.entries, ["/private", "/shared/vendor/acme"]);
    }

    /// `SETMETADATA INBOX (/private/a*b "x")` was answered "expected a space between
    /// arguments": the atom ended at the `*`, and the answer did not say why.
    #[test]
    fn regress_wildcard_in_an_entry_atom_was_reported_as_a_missing_space() {
        let why = bad(b"a SETMETADATA INBOX (/private/a*b \"x\")\r\n");
        assert!(why.contains("'*' or '%'"), "{why}");
        assert!(!why.contains("space"), "{why}");
    }

    #[test]
    fn bad_syntax_is_bad() {
        for cmd in [
            &b"a GETMETADATA\r\n"[..],
            b"a GETMETADATA INBOX\r\n",
            b"a GETMETADATA INBOX ()\r\n",
            b"a GETMETADATA (MAXSIZE) INBOX /private/x\r\n",
            b"a GETMETADATA (MAXSIZE -1) INBOX /private/x\r\n",
            b"a GETMETADATA (MAXSIZE 4294967296) INBOX /private/x\r\n",
            b"a GETMETADATA (DEPTH 2) INBOX /private/x\r\n",
            b"a GETMETADATA (FOO 1) INBOX /private/x\r\n",
            b"a GETMETADATA (DEPTH 1 DEPTH 0) INBOX /private/x\r\n",
            b"a GETMETADATA (DEPTH 1) INBOX (MAXSIZE 1) /private/x\r\n",
            b"a GETMETADATA INBOX (/private/x (/nested))\r\n",
            b"a GETMETADATA INBOX /private/x \r\n",
            b"a GETMETADATA  INBOX /private/x\r\n",
            b"a GETMETADATA INBOX \"/private/x\r\n",
            b"a GETMETADATA INBOX \"/priv\\ate/x\"\r\n",
            b"a GETMETADATA INBOX (/private/x\r\n",
            b"a GETMETADATA INBOX /private/x)\r\n",
            b"a GETMETADATA INBOX {30}\r\n/private/x\r\n",
            b"a SETMETADATA INBOX\r\n",
            b"a SETMETADATA INBOX /private/x \"v\"\r\n",
            b"a SETMETADATA INBOX (/private/x)\r\n",
            b"a SETMETADATA INBOX (/private/x value)\r\n",
            b"a SETMETADATA INBOX (/private/x \"v\") extra\r\n",
            b"a SETMETADATA INBOX (/private/x (\"v\"))\r\n",
            b"a SETMETADATA (/private/x \"v\")\r\n",
        ] {
            bad(cmd);
        }
    }

    #[test]
    fn entry_counts_are_limited() {
        let mut cmd = b"a GETMETADATA INBOX (".to_vec();
        for i in 0..=MAX_ENTRIES {
            if i > 0 {
                cmd.push(b' ');
            }
            cmd.extend_from_slice(format!("/private/e{i}").as_bytes());
        }
        cmd.extend_from_slice(b")\r\n");
        assert!(bad(&cmd).contains("more than"), "limit");
        let mut cmd = b"a SETMETADATA INBOX (".to_vec();
        for i in 0..=MAX_ENTRIES {
            cmd.extend_from_slice(format!(" /private/e{i} NIL").as_bytes());
        }
        cmd.extend_from_slice(b")\r\n");
        bad(&cmd);
    }

    #[test]
    fn tag_is_recovered_for_the_bad_answer() {
        let p = parse(b"t1 SETMETADATA INBOX (/nope \"x\")\r\n").unwrap();
        assert_eq!(p.tag.as_deref(), Some(&b"t1"[..]));
        assert_eq!(p.name, "SETMETADATA");
        assert!(p.result.is_err());
    }

    proptest::proptest! {
        /// Any arguments, random octets or shuffled pieces of real ones: an answer, never
        /// a panic.
        #[test]
        fn random_arguments_never_panic(
            set in proptest::bool::ANY,
            noise in proptest::collection::vec(proptest::num::u8::ANY, 0..120),
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "(", ")", " ", "/private/x", "/shared/vendor/a/b", "\"q\\\"\"", "{3}\r\nabc",
                "~{2+}\r\n\u{0}\u{1}", "NIL", "MAXSIZE", "DEPTH", "1", "infinity", "\"\"",
                "{0}\r\n", "INBOX", "\r\n", "*", "%", "~", "{",
            ]), 0..40),
        ) {
            let name = if set { "SETMETADATA" } else { "GETMETADATA" };
            let mut cmd = format!("a {name} ").into_bytes();
            cmd.extend_from_slice(pieces.concat().as_bytes());
            cmd.extend_from_slice(b"\r\n");
            let _ = parse(&cmd);
            let mut cmd = format!("a {name} ").into_bytes();
            cmd.extend_from_slice(&noise);
            let _ = parse(&cmd);
        }
    }

    #[test]
    fn no_input_panics() {
        // Every prefix and a few corruptions of valid commands: an answer, never a panic.
        let base: &[u8] = b"a SETMETADATA \"INBOX\" (/private/comment ~{5+}\r\nab\x00cd /shared/x {3}\r\nxyz /shared/y NIL)\r\n";
        for end in 0..=base.len() {
            let _ = parse(base.get(..end).unwrap_or_default());
        }
        for i in 0..base.len() {
            let mut v = base.to_vec();
            v[i] = b'{';
            let _ = parse(&v);
            v[i] = b'"';
            let _ = parse(&v);
        }
    }
}
