//! A small reader for DNS master files (RFC 1035 §5), so `mailward trace --verify` can answer
//! DKIM, ARC, DMARC and SPF look-ups offline with `--dns-zone FILE`.
//!
//! What is understood:
//! - entries `owner [ttl] [class] type rdata` (TTL and class in either order, RFC 1035 §5.1),
//!   an owner left blank (line starting with white space) repeating the previous owner, `@`
//!   for the origin, relative names completed with `$ORIGIN`;
//! - `$ORIGIN` (RFC 1035 §5.1) and `$TTL` (RFC 2308 §4); `$INCLUDE` is refused, since a zone
//!   given on the command line should not read other files;
//! - `;` comments, `( ... )` continuation over several lines, quoted character-strings with
//!   `\"`, `\\` and `\DDD` escapes (RFC 1035 §5.1);
//! - record types TXT (the character-strings of one record are concatenated, as DKIM
//!   RFC 6376 §3.6.2.2 and SPF RFC 7208 §3.3 read them), A, AAAA, MX and PTR. Other
//!   well-known types (SOA, NS, CNAME, ...) are skipped, so an exported zone loads; an
//!   unknown type word is an error.
//!
//! Lenient where it is harmless: without `$ORIGIN`, a name without a final dot is taken as
//! absolute, and a character-string longer than 255 octets is accepted (it never goes on the
//! wire). Not supported: wildcards (RFC 4592) and CNAME chasing.
//!
//! Every error names the file and the line.

use mailward_auth::verify::StaticDns;
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// A zone file larger than this is refused (a zone for forensics is a handful of records).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// A physical line longer than this is an error.
pub const MAX_LINE_BYTES: usize = 16 * 1024;
/// An entry continued over several lines with parentheses may be at most this long.
pub const MAX_ENTRY_BYTES: usize = 64 * 1024;
/// At most this many records are read.
pub const MAX_RECORDS: usize = 100_000;
/// RFC 1035 §3.3 / §4.1.3: RDATA is at most 65535 octets, so a TXT record's text is too.
pub const MAX_TXT_BYTES: usize = 65_535;

/// Why a zone file could not be read. Every variant names the file; syntax errors its line.
#[derive(Debug, thiserror::Error)]
pub enum ZoneError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: the zone file is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge { file: String },
    #[error("{file}:{line}: {reason}")]
    Syntax {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("{file}:{line}: more than {MAX_RECORDS} records")]
    TooManyRecords { file: String, line: usize },
}

/// The data of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    /// The character-strings of one TXT record, concatenated.
    Txt(Vec<u8>),
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// RFC 1035 §3.3.9: preference and exchange (a lower-case absolute name).
    Mx {
        preference: u16,
        exchange: String,
    },
    /// RFC 1035 §3.3.12: the target (a lower-case absolute name).
    Ptr(String),
}

/// One resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub ttl: u32,
    pub data: RecordData,
}

/// The records of a zone file, by owner name (lower-case, absolute, with the final dot).
#[derive(Debug, Clone, Default)]
pub struct Zone {
    records: HashMap<String, Vec<Record>>,
    count: usize,
}

impl Zone {
    /// Reads and parses a zone file.
    pub fn load(path: &Path) -> Result<Zone, ZoneError> {
        let file = path.display().to_string();
        let io = |source| ZoneError::Io {
            file: file.clone(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_FILE_BYTES {
            return Err(ZoneError::TooLarge { file });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let line = e
                .as_bytes()
                .get(..e.utf8_error().valid_up_to())
                .map_or(1, |ok| ok.iter().filter(|&&b| b == b'\n').count() + 1);
            ZoneError::Syntax {
                file: file.clone(),
                line,
                reason: "not UTF-8 text".into(),
            }
        })?;
        Zone::parse(&text, &file)
    }

    /// Parses zone-file text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Zone, ZoneError> {
        Parser::new(file).run(text)
    }

    /// The owner names that have records, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.records.keys().map(String::as_str)
    }

    /// All records of `name` (any case, with or without the final dot).
    pub fn records(&self, name: &str) -> &[Record] {
        self.records
            .get(&absolute(name))
            .map_or(&[][..], Vec::as_slice)
    }

    /// The TXT records of `name`, each with its strings concatenated.
    pub fn txt(&self, name: &str) -> Vec<&[u8]> {
        self.records(name)
            .iter()
            .filter_map(|r| match &r.data {
                RecordData::Txt(t) => Some(t.as_slice()),
                _ => None,
            })
            .collect()
    }

    /// How many records were read.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the file held no records.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The zone as the shared checks' fixed answers (`mailward_auth::verify::StaticDns`):
    /// every owner name exists (a type it lacks is NODATA), TXT/A/AAAA/MX records as read,
    /// PTR records under `in-addr.arpa`/`ip6.arpa` as the address they name. Host (A, AAAA,
    /// MX) and PTR questions about what the zone does not hold go unanswered, so they fail
    /// as a DNS error rather than as a confident "no such host".
    pub fn to_static_dns(&self) -> StaticDns {
        let mut dns = StaticDns::new();
        dns.unknown_hosts_time_out();
        for (name, record) in self.iter() {
            dns.add_name(name);
            match &record.data {
                RecordData::Txt(text) => {
                    dns.add_txt(name, text.clone());
                }
                RecordData::A(ip) => {
                    dns.add_a(name, *ip);
                }
                RecordData::Aaaa(ip) => {
                    dns.add_aaaa(name, *ip);
                }
                RecordData::Mx {
                    preference,
                    exchange,
                } => {
                    dns.add_mx(name, *preference, exchange);
                }
                RecordData::Ptr(target) => {
                    if let Some(ip) = reverse_name_address(name) {
                        dns.add_ptr(ip, target);
                    }
                }
            }
        }
        dns
    }

    /// Every record with its owner name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Record)> {
        self.records
            .iter()
            .flat_map(|(name, rs)| rs.iter().map(move |r| (name.as_str(), r)))
    }
}

/// Lower-case with the final dot.
fn absolute(name: &str) -> String {
    let mut n = name.trim().to_ascii_lowercase();
    if !n.ends_with('.') {
        n.push('.');
    }
    n
}

/// The address a reverse-lookup name (`4.3.2.1.in-addr.arpa.`, RFC 1035 §3.5; nibbles under
/// `ip6.arpa.`, RFC 3596 §2.5) stands for.
pub fn reverse_name_address(name: &str) -> Option<IpAddr> {
    let name = absolute(name);
    if let Some(rest) = name.strip_suffix(".in-addr.arpa.") {
        let mut octets = [0u8; 4];
        let labels: Vec<&str> = rest.split('.').collect();
        if labels.len() != 4 {
            return None;
        }
        for (slot, label) in octets.iter_mut().zip(labels.iter().rev()) {
            *slot = label.parse().ok()?;
        }
        return Some(IpAddr::V4(Ipv4Addr::from(octets)));
    }
    let rest = name.strip_suffix(".ip6.arpa.")?;
    let nibbles: Vec<&str> = rest.split('.').collect();
    if nibbles.len() != 32 {
        return None;
    }
    let mut value: u128 = 0;
    for nibble in nibbles.iter().rev() {
        if nibble.len() != 1 {
            return None;
        }
        value = (value << 4) | u128::from_str_radix(nibble, 16).ok()?;
    }
    Some(IpAddr::V6(Ipv6Addr::from(value)))
}

/// One token of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// Unquoted text, escapes kept as written.
    Word(String),
    /// A quoted character-string, escapes resolved.
    Quoted(Vec<u8>),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(w) => format!("`{w}`"),
            Token::Quoted(q) => format!("\"{}\"", String::from_utf8_lossy(q)),
        }
    }
}

/// Record types that may appear in an exported zone and that look-ups for mail
/// authentication never need: skipped rather than refused.
const SKIPPED_TYPES: &[&str] = &[
    "SOA",
    "NS",
    "CNAME",
    "DNAME",
    "SRV",
    "CAA",
    "HINFO",
    "RP",
    "DS",
    "DNSKEY",
    "RRSIG",
    "NSEC",
    "NSEC3",
    "NSEC3PARAM",
    "TLSA",
    "SSHFP",
    "HTTPS",
    "SVCB",
    "NAPTR",
    "LOC",
    "SPF",
    "URI",
    "OPENPGPKEY",
    "SMIMEA",
    "CDS",
    "CDNSKEY",
    "ZONEMD",
];

struct Parser<'f> {
    file: &'f str,
    zone: Zone,
    origin: Option<String>,
    default_ttl: u32,
    last_owner: Option<String>,
}

impl<'f> Parser<'f> {
    fn new(file: &'f str) -> Self {
        Parser {
            file,
            zone: Zone::default(),
            origin: None,
            default_ttl: 3600,
            last_owner: None,
        }
    }

    fn error(&self, line: usize, reason: impl Into<String>) -> ZoneError {
        ZoneError::Syntax {
            file: self.file.to_string(),
            line,
            reason: reason.into(),
        }
    }

    fn run(mut self, text: &str) -> Result<Zone, ZoneError> {
        // The entry being gathered: its first line, whether that line began with white
        // space (owner omitted), its tokens, and its size so far.
        let mut entry: Vec<Token> = Vec::new();
        let mut entry_line = 0;
        let mut entry_blank_owner = false;
        let mut entry_bytes = 0;
        let mut depth = 0usize;
        for (index, raw) in text.split('\n').enumerate() {
            let number = index + 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.len() > MAX_LINE_BYTES {
                return Err(self.error(number, format!("line longer than {MAX_LINE_BYTES} bytes")));
            }
            if depth == 0 {
                entry_line = number;
                entry_blank_owner = line.starts_with([' ', '\t']);
                entry_bytes = 0;
            }
            entry_bytes += line.len();
            if entry_bytes > MAX_ENTRY_BYTES {
                return Err(self.error(
                    entry_line,
                    format!("entry longer than {MAX_ENTRY_BYTES} bytes"),
                ));
            }
            tokenize(line, &mut entry, &mut depth).map_err(|reason| self.error(number, reason))?;
            if depth == 0 && !entry.is_empty() {
                let tokens = std::mem::take(&mut entry);
                self.entry(tokens, entry_line, entry_blank_owner)?;
            }
        }
        if depth > 0 {
            return Err(self.error(entry_line, "`(` is never closed"));
        }
        Ok(self.zone)
    }

    /// Completes a name: `@` is the origin, a name with a final dot is absolute, others are
    /// relative to `$ORIGIN` (or taken as absolute when there is none).
    fn name(&self, word: &str, line: usize) -> Result<String, ZoneError> {
        if word.contains('\\') {
            return Err(self.error(
                line,
                format!("escapes in names are not supported: `{word}`"),
            ));
        }
        let name = if word == "@" {
            self.origin
                .clone()
                .ok_or_else(|| self.error(line, "`@` used before any $ORIGIN"))?
        } else if word.ends_with('.') {
            word.to_ascii_lowercase()
        } else {
            match &self.origin {
                Some(origin) if origin == "." => format!("{}.", word.to_ascii_lowercase()),
                Some(origin) => format!("{}.{origin}", word.to_ascii_lowercase()),
                None => format!("{}.", word.to_ascii_lowercase()),
            }
        };
        // RFC 1035 §2.3.4: labels of at most 63 octets, names of at most 255.
        if name.len() > 255 {
            return Err(self.error(line, format!("name longer than 255 octets: `{word}`")));
        }
        if name != "." {
            let body = name.strip_suffix('.').unwrap_or(&name);
            if body.split('.').any(|l| l.is_empty() || l.len() > 63) {
                return Err(self.error(line, format!("not a valid domain name: `{word}`")));
            }
        }
        Ok(name)
    }

    fn entry(
        &mut self,
        tokens: Vec<Token>,
        line: usize,
        blank_owner: bool,
    ) -> Result<(), ZoneError> {
        let mut tokens = tokens.into_iter().peekable();
        // Directives (RFC 1035 §5.1, RFC 2308 §4).
        if let Some(Token::Word(first)) = tokens.peek()
            && first.starts_with('$')
            && !blank_owner
        {
            let directive = first.to_ascii_uppercase();
            tokens.next();
            let argument = match tokens.next() {
                Some(Token::Word(w)) => w,
                _ => return Err(self.error(line, format!("{directive} needs an argument"))),
            };
            match directive.as_str() {
                "$ORIGIN" => {
                    if !argument.ends_with('.') && self.origin.is_none() {
                        return Err(
                            self.error(line, "$ORIGIN must be an absolute name (end with `.`)")
                        );
                    }
                    self.origin = Some(self.name(&argument, line)?);
                }
                "$TTL" => {
                    self.default_ttl = parse_ttl(&argument)
                        .ok_or_else(|| self.error(line, format!("not a TTL: `{argument}`")))?;
                }
                "$INCLUDE" => {
                    return Err(self.error(line, "$INCLUDE is not supported"));
                }
                _ => return Err(self.error(line, format!("unknown directive {directive}"))),
            }
            if let Some(extra) = tokens.next() {
                return Err(self.error(
                    line,
                    format!("unexpected {} after {directive}", extra.describe()),
                ));
            }
            return Ok(());
        }

        let owner = if blank_owner {
            self.last_owner
                .clone()
                .ok_or_else(|| self.error(line, "a record without an owner name comes first"))?
        } else {
            match tokens.next() {
                Some(Token::Word(w)) => self.name(&w, line)?,
                Some(other) => {
                    return Err(self.error(
                        line,
                        format!("expected an owner name, found {}", other.describe()),
                    ));
                }
                None => return Ok(()),
            }
        };
        self.last_owner = Some(owner.clone());

        // [ttl] [class] type, TTL and class in either order.
        let mut ttl = None;
        let mut class_seen = false;
        let rtype = loop {
            let word = match tokens.next() {
                Some(Token::Word(w)) => w,
                Some(other) => {
                    return Err(self.error(
                        line,
                        format!("expected a record type, found {}", other.describe()),
                    ));
                }
                None => return Err(self.error(line, format!("no record type for `{owner}`"))),
            };
            let upper = word.to_ascii_uppercase();
            if ttl.is_none() && word.starts_with(|c: char| c.is_ascii_digit()) {
                ttl = Some(
                    parse_ttl(&word)
                        .ok_or_else(|| self.error(line, format!("not a TTL: `{word}`")))?,
                );
                continue;
            }
            if !class_seen && matches!(upper.as_str(), "IN" | "CH" | "CS" | "HS") {
                if upper != "IN" {
                    return Err(
                        self.error(line, format!("class {upper} is not supported (only IN)"))
                    );
                }
                class_seen = true;
                continue;
            }
            break upper;
        };
        let ttl = ttl.unwrap_or(self.default_ttl);
        let rest: Vec<Token> = tokens.collect();

        let data = match rtype.as_str() {
            "TXT" => {
                if rest.is_empty() {
                    return Err(self.error(line, "TXT record without text"));
                }
                let mut text = Vec::new();
                for token in rest {
                    match token {
                        Token::Quoted(bytes) => text.extend_from_slice(&bytes),
                        Token::Word(word) => text.extend_from_slice(
                            &unescape(&word).map_err(|reason| self.error(line, reason))?,
                        ),
                    }
                }
                if text.len() > MAX_TXT_BYTES {
                    return Err(self.error(
                        line,
                        format!("TXT record longer than {MAX_TXT_BYTES} octets"),
                    ));
                }
                RecordData::Txt(text)
            }
            "A" => RecordData::A(self.single_word(&rest, "an IPv4 address", line)?),
            "AAAA" => RecordData::Aaaa(self.single_word(&rest, "an IPv6 address", line)?),
            "MX" => {
                let [Token::Word(preference), Token::Word(exchange)] = rest.as_slice() else {
                    return Err(self.error(line, "MX needs a preference and an exchange name"));
                };
                let preference = preference.parse().map_err(|_| {
                    self.error(line, format!("not an MX preference: `{preference}`"))
                })?;
                RecordData::Mx {
                    preference,
                    exchange: self.name(exchange, line)?,
                }
            }
            "PTR" => {
                let [Token::Word(target)] = rest.as_slice() else {
                    return Err(self.error(line, "PTR needs one name"));
                };
                RecordData::Ptr(self.name(target, line)?)
            }
            other if SKIPPED_TYPES.contains(&other) || is_generic_type(other) => return Ok(()),
            other => return Err(self.error(line, format!("unknown record type `{other}`"))),
        };
        if self.zone.count >= MAX_RECORDS {
            return Err(ZoneError::TooManyRecords {
                file: self.file.to_string(),
                line,
            });
        }
        self.zone.count += 1;
        self.zone
            .records
            .entry(owner)
            .or_default()
            .push(Record { ttl, data });
        Ok(())
    }

    fn single_word<T: std::str::FromStr>(
        &self,
        rest: &[Token],
        what: &str,
        line: usize,
    ) -> Result<T, ZoneError> {
        match rest {
            [Token::Word(w)] => w
                .parse()
                .map_err(|_| self.error(line, format!("not {what}: `{w}`"))),
            _ => Err(self.error(line, format!("expected {what}"))),
        }
    }
}

/// RFC 3597 §5: `TYPE123` names any type generically.
fn is_generic_type(word: &str) -> bool {
    word.strip_prefix("TYPE")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A TTL in seconds, or with BIND-style units (`1h30m`, `2d`, `1w`).
fn parse_ttl(word: &str) -> Option<u32> {
    if let Ok(seconds) = word.parse::<u32>() {
        return Some(seconds);
    }
    let mut total: u32 = 0;
    let mut number: Option<u32> = None;
    for c in word.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(number.unwrap_or(0).checked_mul(10)?.checked_add(d)?);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    if number.is_some() {
        return None;
    }
    Some(total)
}

/// Resolves `\X` and `\DDD` escapes of an unquoted word (RFC 1035 §5.1).
fn unescape(word: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(word.len());
    let mut bytes = word.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        push_escape(&mut bytes, &mut out)?;
    }
    Ok(out)
}

/// After a backslash: `\DDD` (a decimal octet) or `\X` (X itself).
fn push_escape(bytes: &mut impl Iterator<Item = u8>, out: &mut Vec<u8>) -> Result<(), String> {
    let first = bytes.next().ok_or("a backslash ends the text")?;
    if first.is_ascii_digit() {
        let (Some(second), Some(third)) = (bytes.next(), bytes.next()) else {
            return Err("`\\DDD` needs three digits".into());
        };
        if !second.is_ascii_digit() || !third.is_ascii_digit() {
            return Err("`\\DDD` needs three digits".into());
        }
        let value =
            u32::from(first - b'0') * 100 + u32::from(second - b'0') * 10 + u32::from(third - b'0');
        let octet = u8::try_from(value).map_err(|_| format!("`\\{value}` is not an octet"))?;
        out.push(octet);
    } else {
        out.push(first);
    }
    Ok(())
}

/// Splits one physical line into tokens, following parentheses (`depth`) and dropping the
/// `;` comment. A quoted string must close on its line.
fn tokenize(line: &str, tokens: &mut Vec<Token>, depth: &mut usize) -> Result<(), String> {
    let mut bytes = line.bytes().peekable();
    let mut word: Vec<u8> = Vec::new();
    let flush = |word: &mut Vec<u8>, tokens: &mut Vec<Token>| {
        if !word.is_empty() {
            tokens.push(Token::Word(String::from_utf8_lossy(word).into_owned()));
            word.clear();
        }
    };
    while let Some(b) = bytes.next() {
        match b {
            b';' => break,
            b' ' | b'\t' => flush(&mut word, tokens),
            b'(' => {
                flush(&mut word, tokens);
                if *depth > 0 {
                    return Err("nested `(`".into());
                }
                *depth += 1;
            }
            b')' => {
                flush(&mut word, tokens);
                if *depth == 0 {
                    return Err("`)` without `(`".into());
                }
                *depth -= 1;
            }
            b'"' => {
                flush(&mut word, tokens);
                let mut text = Vec::new();
                loop {
                    match bytes.next() {
                        None => return Err("a quoted string is not closed on its line".into()),
                        Some(b'"') => break,
                        Some(b'\\') => push_escape(&mut bytes, &mut text)?,
                        Some(c) => text.push(c),
                    }
                }
                tokens.push(Token::Quoted(text));
            }
            b'\\' => {
                // Keep the escape for `unescape`/`name`, but let it protect the next byte.
                word.push(b);
                if let Some(next) = bytes.next() {
                    word.push(next);
                }
            }
            _ => word.push(b),
        }
    }
    flush(&mut word, tokens);
    Ok(())
}

impl fmt::Display for RecordData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordData::Txt(t) => write!(f, "TXT \"{}\"", String::from_utf8_lossy(t)),
            RecordData::A(a) => write!(f, "A {a}"),
            RecordData::Aaaa(a) => write!(f, "AAAA {a}"),
            RecordData::Mx {
                preference,
                exchange,
            } => write!(f, "MX {preference} {exchange}"),
            RecordData::Ptr(p) => write!(f, "PTR {p}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt(zone: &Zone, name: &str) -> Vec<String> {
        zone.txt(name)
            .into_iter()
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .collect()
    }

    fn syntax_line(err: ZoneError) -> (usize, String) {
        match err {
            ZoneError::Syntax { line, reason, .. } => (line, reason),
            other => panic!("expected a syntax error, got {other}"),
        }
    }

    #[test]
    fn multi_string_txt_is_concatenated() {
        let zone = Zone::parse(
            "sel._domainkey.example.com. 300 IN TXT \"v=DKIM1; k=rsa; \" \"p=MIGf\" \"MA0G\"\n",
            "z",
        )
        .unwrap();
        assert_eq!(
            txt(&zone, "sel._domainkey.example.com"),
            ["v=DKIM1; k=rsa; p=MIGfMA0G"]
        );
        assert_eq!(zone.records("SEL._domainkey.Example.COM.")[0].ttl, 300);
    }

    #[test]
    fn parentheses_continue_an_entry_over_lines_and_comments_are_dropped() {
        let text = "; a comment line\n\
                    $ORIGIN example.org.\n\
                    $TTL 1h\n\
                    dummy._domainkey IN TXT ( \"v=DKIM1; \" ; the version\n\
                    \t\"p=AAAA\"   ; the key\n\
                    )\n\
                    @ TXT \"v=spf1 ip4:192.0.2.0/24 -all\" ; semicolon \"inside\" a comment\n\
                    \tMX 10 mx\n\
                    mx A 192.0.2.25\n\
                    mx 60 IN AAAA 2001:db8::25\n\
                    @ SOA ns hostmaster 1 2 3 4 5\n";
        let zone = Zone::parse(text, "z").unwrap();
        assert_eq!(
            txt(&zone, "dummy._domainkey.example.org."),
            ["v=DKIM1; p=AAAA"]
        );
        assert_eq!(zone.records("dummy._domainkey.example.org")[0].ttl, 3600);
        assert_eq!(txt(&zone, "example.org"), ["v=spf1 ip4:192.0.2.0/24 -all"]);
        assert!(zone.records("example.org").iter().any(|r| r.data
            == RecordData::Mx {
                preference: 10,
                exchange: "mx.example.org.".into()
            }));
        assert_eq!(
            zone.records("mx.example.org")[0].data,
            RecordData::A(Ipv4Addr::new(192, 0, 2, 25))
        );
        assert_eq!(zone.records("mx.example.org")[1].ttl, 60);
        assert_eq!(zone.len(), 5, "the SOA record is skipped");
    }

    #[test]
    fn escapes_in_quoted_strings() {
        let zone = Zone::parse(r#"a.example. TXT "say \"hi\"; \059 \\ done""#, "z").unwrap();
        assert_eq!(txt(&zone, "a.example"), [r#"say "hi"; ; \ done"#]);
    }

    #[test]
    fn a_bad_line_is_an_error_naming_the_file_and_line() {
        let text = "a.example. TXT \"ok\"\n\n; fine\nb.example. A not-an-address\n";
        let err = Zone::parse(text, "keys.zone").unwrap_err();
        assert_eq!(
            err.to_string(),
            "keys.zone:4: not an IPv4 address: `not-an-address`"
        );

        let (line, reason) = syntax_line(Zone::parse("a.example. TXT \"open\n", "z").unwrap_err());
        assert_eq!(line, 1);
        assert!(reason.contains("not closed"), "{reason}");

        let (line, _) = syntax_line(Zone::parse("x. TXT \"a\"\ny. BOGUS 1\n", "z").unwrap_err());
        assert_eq!(line, 2);

        let (line, reason) = syntax_line(Zone::parse("x. TXT ( \"a\"\n\"b\"\n", "z").unwrap_err());
        assert_eq!(line, 1);
        assert!(reason.contains("never closed"), "{reason}");

        let (line, _) = syntax_line(Zone::parse("$INCLUDE other.zone\n", "z").unwrap_err());
        assert_eq!(line, 1);
    }

    #[test]
    fn limits_are_enforced() {
        let long = format!("a.example. TXT \"{}\"\n", "x".repeat(MAX_LINE_BYTES));
        let (line, reason) = syntax_line(Zone::parse(&long, "z").unwrap_err());
        assert_eq!(line, 1);
        assert!(reason.contains("longer than"), "{reason}");
    }

    #[test]
    fn relative_names_without_origin_are_absolute_and_blank_owner_repeats() {
        let zone = Zone::parse("host.example A 192.0.2.1\n  A 192.0.2.2\n", "z").unwrap();
        assert_eq!(zone.records("host.example.").len(), 2);
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name_address("25.2.0.192.in-addr.arpa."),
            Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 25)))
        );
        let v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
        assert_eq!(reverse_name_address(v6), "2001:db8::1".parse().ok());
        assert_eq!(reverse_name_address("example.com."), None);
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("3600"), Some(3600));
        assert_eq!(parse_ttl("1h30m"), Some(5400));
        assert_eq!(parse_ttl("1w"), Some(604_800));
        assert_eq!(parse_ttl("h"), None);
        assert_eq!(parse_ttl("10x"), None);
    }
}
