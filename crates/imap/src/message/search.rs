//! The content keys of SEARCH (RFC 9051 §6.4.4) over one message: header fields, BODY and
//! TEXT substring search over decoded, charset-converted text, the sent date and the size.
//!
//! Matching is case-insensitive (RFC 9051 §6.4.4: "In all search keys that use strings, a
//! message matches the key if the string is a substring of the associated text. The
//! matching SHOULD be case insensitive for characters within ASCII"; we fold Unicode case
//! as well). Text is compared as UTF-8: RFC 2047 words in headers are decoded, bodies are
//! transfer-decoded and converted from their charset (RFC 9051 §6.4.4: the server MUST
//! support UTF-8 search strings).

use super::Message;
use super::address::{self, Address};
use super::decode::{self, TransferEncoding};
use super::lexer::{self, Lexer};
use super::mime::{Kind, Part};
use super::structure;

/// Largest decoded text searched in one part; longer content is searched up to here.
pub const MAX_SEARCH_PART: usize = 32 * 1024 * 1024;

/// A search string, case-folded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needle(String);

impl Needle {
    /// From the search key's octets (UTF-8 per RFC 9051 §6.4.4; other octets taken as
    /// Latin-1).
    pub fn new(s: &[u8]) -> Needle {
        Needle(decode::fold_case(&decode::utf8_or_latin1(s)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The needle as compared: case-folded.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `haystack` (not yet folded) contains the needle.
    pub fn found_in(&self, haystack: &str) -> bool {
        if self.0.is_empty() {
            return true;
        }
        decode::fold_case(haystack).contains(&self.0)
    }
}

/// RFC 9051 §6.4.4 HEADER <field-name> <string>: some field with that name contains the
/// string in its (decoded) value; an empty string matches any message that has the field.
pub fn header_contains(msg: &Message<'_>, field: &str, needle: &Needle) -> bool {
    let data = msg.data();
    msg.root()
        .header
        .fields
        .iter()
        .filter(|f| f.is(data, field))
        .any(|f| {
            needle.is_empty() || needle.found_in(&decode::decode_header_text(&f.unfolded(data)))
        })
}

/// RFC 9051 §6.4.4 SUBJECT <string>: like HEADER Subject, with runs of white space in the
/// subject taken as one space (as Dovecot compares them; the string is used as given).
pub fn subject_contains(msg: &Message<'_>, needle: &Needle) -> bool {
    let data = msg.data();
    let n = needle;
    msg.root()
        .header
        .fields
        .iter()
        .filter(|f| f.is(data, "Subject"))
        .any(|f| {
            n.is_empty()
                || n.found_in(&compress_lwsp(&decode::decode_header_text(
                    &f.unfolded(data),
                )))
        })
}

fn compress_lwsp(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut ws = false;
    for c in s.chars() {
        if c == ' ' || c == '\t' {
            if !ws {
                out.push(' ');
            }
            ws = true;
        } else {
            out.push(c);
            ws = false;
        }
    }
    out
}

/// RFC 9051 §6.4.4 FROM, TO, CC, BCC <string>: the string is in the address field. The
/// field is matched in its normalised form (`Name <user@host>, ...`, missing parts filled
/// in), RFC 2047 words decoded, as Dovecot does.
pub fn address_contains(msg: &Message<'_>, field: &str, needle: &Needle) -> bool {
    let data = msg.data();
    msg.root()
        .header
        .fields
        .iter()
        .filter(|f| f.is(data, field))
        .any(|f| {
            if needle.is_empty() {
                return true;
            }
            let list = address::parse_address_list(&f.unfolded(data));
            needle.found_in(&decode::decode_header_text(&write_addresses(&list)))
        })
}

fn needs_quoting(s: &[u8], escape_dot: bool) -> bool {
    s.iter()
        .any(|&b| !lexer::is_atext(b) && (escape_dot || b != b'.'))
}

fn append_maybe_escaped(out: &mut Vec<u8>, s: &[u8], escape_dot: bool) {
    if !needs_quoting(s, escape_dot) {
        out.extend_from_slice(s);
        return;
    }
    out.push(b'"');
    for &b in s {
        if matches!(b, b'"' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// An address list written back as RFC 5322 text (`"Name" <user@host>, group: ...;`).
pub fn write_addresses(list: &[Address]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut first = true;
    let mut in_group = false;
    for a in list {
        if !first {
            out.extend_from_slice(b", ");
        }
        first = false;
        if a.host.is_none() {
            if !in_group {
                match a.mailbox.as_deref() {
                    Some(m) if !m.is_empty() => {
                        if memchr::memmem::find(m, b"=?").is_some() {
                            out.extend_from_slice(m);
                        } else {
                            append_maybe_escaped(&mut out, m, true);
                        }
                    }
                    _ => out.extend_from_slice(b"\"\""),
                }
                out.extend_from_slice(b": ");
                first = true;
            } else {
                if out.ends_with(b", ") {
                    out.truncate(out.len() - 2);
                } else if out.ends_with(b": ") {
                    out.truncate(out.len() - 1);
                }
                out.push(b';');
            }
            in_group = !in_group;
            continue;
        }
        let mailbox = a.mailbox.as_deref().unwrap_or(&[]);
        let host = a.host.as_deref().unwrap_or(&[]);
        if let Some(name) = a.name.as_deref() {
            if memchr::memmem::find(name, b"=?").is_some() {
                out.extend_from_slice(name);
            } else {
                append_maybe_escaped(&mut out, name, true);
            }
        }
        if a.route.is_some() || !mailbox.is_empty() || !host.is_empty() {
            if a.name.as_ref().is_some_and(|n| !n.is_empty()) {
                out.push(b' ');
            }
            out.push(b'<');
            if let Some(r) = a.route.as_deref() {
                out.extend_from_slice(r);
                out.push(b':');
            }
            if mailbox.is_empty() {
                out.extend_from_slice(b"\"\"");
            } else {
                append_maybe_escaped(&mut out, mailbox, false);
            }
            if !host.is_empty() {
                out.push(b'@');
                out.extend_from_slice(host);
            }
            out.push(b'>');
        }
    }
    out
}

fn is_text(data: &[u8], part: &Part) -> bool {
    match part.kind {
        Kind::Text => true,
        Kind::Basic => {
            let ci = structure::content_info(data, part);
            // Mail readers show these as text too.
            ci.ctype
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(b"message"))
        }
        _ => false,
    }
}

/// The decoded text of one text part.
fn part_text(data: &[u8], part: &Part) -> Option<String> {
    let body = data.get(part.body.clone()).unwrap_or(&[]);
    let body = body.get(..body.len().min(MAX_SEARCH_PART)).unwrap_or(body);
    let ci = structure::content_info(data, part);
    let enc = TransferEncoding::from_token(ci.transfer_encoding.as_deref());
    let raw = decode::decode_transfer(body, enc)?;
    let charset = ci.charset().unwrap_or(b"us-ascii");
    Some(decode::charset_to_utf8(charset, &raw))
}

/// Walks the parts; `headers` also visits the header of each embedded message.
fn walk(
    data: &[u8],
    part: &Part,
    headers: bool,
    depth: usize,
    f: &mut dyn FnMut(&str) -> bool,
) -> bool {
    if depth > super::mime::MAX_DEPTH {
        return false;
    }
    match &part.kind {
        Kind::Multipart(children) => children
            .iter()
            .any(|c| walk(data, c, headers, depth + 1, f)),
        Kind::Message(inner) => {
            if headers && header_text(data, inner).is_some_and(|h| f(&h)) {
                return true;
            }
            walk(data, inner, headers, depth + 1, f)
        }
        _ if is_text(data, part) => part_text(data, part).is_some_and(|t| f(&t)),
        _ => false,
    }
}

fn header_text(data: &[u8], part: &Part) -> Option<String> {
    let mut out = String::new();
    for field in &part.header.fields {
        out.push_str(&decode::utf8_or_latin1(field.name(data)));
        out.push_str(": ");
        out.push_str(&decode::decode_header_text(&field.unfolded(data)));
        out.push('\n');
    }
    Some(out)
}

/// Charsets whose decoding of ASCII octets is those same characters.
fn ascii_compatible(cs: &[u8]) -> bool {
    matches!(cs, b"" | b"us-ascii" | b"ascii" | b"utf-8" | b"utf8")
        || cs
            .strip_prefix(b"iso-8859-")
            .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
        || cs
            .strip_prefix(b"windows-125")
            .is_some_and(|n| n.len() == 1 && n[0].is_ascii_digit())
}

/// A cheap test on the raw octets, before any decoding: true when BODY or TEXT `needle`
/// cannot match the message. That is so when the needle (ASCII, no white space, no `:`,
/// so it cannot straddle what unfolding and the `name: value` header form join) is not in
/// the octets ignoring ASCII case, and decoding cannot produce text that is not in them:
/// every octet is ASCII, there is no RFC 2047 encoded word (`=?`), no base64 or
/// quoted-printable, and every charset named maps ASCII to itself. False means "decode
/// and look".
pub fn absent_from_raw(raw: &[u8], needle: &Needle) -> bool {
    let n = needle.0.as_bytes();
    if n.is_empty() || !n.iter().all(|&b| b.is_ascii_graphic() && b != b':') {
        return false;
    }
    if !raw.is_ascii() {
        return false;
    }
    let low = raw.to_ascii_lowercase();
    use memchr::memmem;
    if memmem::find(&low, n).is_some()
        || memmem::find(&low, b"=?").is_some()
        || memmem::find(&low, b"base64").is_some()
        || memmem::find(&low, b"quoted-printable").is_some()
    {
        return false;
    }
    for at in memmem::find_iter(&low, b"charset") {
        let rest = low.get(at + 7..).unwrap_or(&[]);
        let rest = rest.trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b"=") else {
            // `charset*=` (RFC 2231) or prose: be careful.
            if rest.first().is_some_and(|&b| b == b'*') {
                return false;
            }
            continue;
        };
        let rest = rest.trim_ascii_start();
        let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
        let end = rest
            .iter()
            .position(|&b| b == b'"' || b == b';' || b.is_ascii_whitespace())
            .unwrap_or(rest.len());
        if !ascii_compatible(rest.get(..end).unwrap_or(&[])) {
            return false;
        }
    }
    true
}

/// RFC 9051 §6.4.4 BODY <string>: the string is in the body of the message (its text
/// parts, decoded).
pub fn body_contains(msg: &Message<'_>, needle: &Needle) -> bool {
    if needle.is_empty() {
        return true;
    }
    let data = msg.data();
    if absent_from_raw(data, needle) {
        return false;
    }
    walk(data, msg.root(), false, 0, &mut |t| needle.found_in(t))
}

/// RFC 9051 §6.4.4 TEXT <string>: the string is in the header or the body.
pub fn text_contains(msg: &Message<'_>, needle: &Needle) -> bool {
    if needle.is_empty() {
        return true;
    }
    let data = msg.data();
    if absent_from_raw(data, needle) {
        return false;
    }
    if header_text(data, msg.root()).is_some_and(|h| needle.found_in(&h)) {
        return true;
    }
    walk(data, msg.root(), true, 0, &mut |t| needle.found_in(t))
}

/// The text every content key compares against, for the full-text index: the decoded
/// header fields (HEADER, SUBJECT and TEXT), the address fields in the form FROM, TO, CC
/// and BCC match (see [`address_contains`]), and the decoded text parts with the headers
/// of embedded messages (BODY and TEXT), case-folded as [`Needle::found_in`] folds. Each
/// piece is the very string a key searches, so a needle found by a key is in here.
pub fn index_text(raw: &[u8]) -> Option<String> {
    let msg = Message::parse(raw);
    let data = msg.data();
    let root = msg.root();
    let mut out = header_text(data, root).unwrap_or_default();
    for f in &root.header.fields {
        if ["From", "To", "Cc", "Bcc"].iter().any(|n| f.is(data, n)) {
            let list = address::parse_address_list(&f.unfolded(data));
            out.push_str(&decode::decode_header_text(&write_addresses(&list)));
            out.push('\n');
        }
    }
    walk(data, root, true, 0, &mut |t| {
        out.push_str(t);
        out.push('\n');
        false
    });
    Some(decode::fold_case(&out))
}

/// A calendar date, as the SEARCH date keys compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

const MONTHS: [&[u8]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// The epoch, the sent date of a message whose Date is missing or broken (as in Dovecot,
/// which uses time 0 for them).
pub const EPOCH: Date = Date {
    year: 1970,
    month: 1,
    day: 1,
};

fn token(lex: &mut Lexer<'_>) -> Option<Vec<u8>> {
    let mut t = Vec::new();
    if lex.at_end() {
        return Some(t);
    }
    if lex.parse_atom(&mut t).is_err() {
        return None;
    }
    Some(t)
}

fn digits(t: &[u8]) -> Option<u32> {
    if t.is_empty() || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    t.iter().try_fold(0u32, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// RFC 5322 §3.3 zone (and the obsolete names of §4.3); unknown zones are UTC.
fn zone_minutes(t: &[u8]) -> i64 {
    match t {
        [s @ (b'+' | b'-'), d @ ..] if d.len() == 4 && d.iter().all(u8::is_ascii_digit) => {
            let v = |i: usize| i64::from(d.get(i).copied().unwrap_or(b'0') - b'0');
            let m = (v(0) * 10 + v(1)) * 60 + v(2) * 10 + v(3);
            if *s == b'+' { m } else { -m }
        }
        [c] => {
            let c = c.to_ascii_uppercase();
            match c {
                b'A'..=b'I' => (i64::from(c - b'A') + 1) * 60,
                b'K'..=b'M' => i64::from(c - b'A') * 60,
                b'N'..=b'Y' => (i64::from(b'M') - i64::from(c)) * 60,
                _ => 0,
            }
        }
        [a, b, b'T'] => {
            let base = match a.to_ascii_uppercase() {
                b'E' => -5 * 60,
                b'C' => -6 * 60,
                b'M' => -7 * 60,
                b'P' => -8 * 60,
                _ => return 0,
            };
            match b.to_ascii_uppercase() {
                b'D' => base + 60,
                b'S' => base,
                _ => 0,
            }
        }
        _ => 0,
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 5322 §3.3 date-time (`[day-of-week ","] day month year hour ":" minute
/// [":" second] [zone]`, with the obsolete two-digit years of §4.3 and `.` also allowed
/// between time fields). Returns the date as written (the SENT* keys disregard time and
/// zone, RFC 9051 §6.4.4). Like Dovecot, the whole date-time must be valid and fall
/// between 1970 and 2106 (Dovecot keeps sent dates as unsigned 32-bit times), else `None`.
pub fn parse_date(value: &[u8]) -> Option<Date> {
    let (date, ts) = parse_date_time(value)?;
    if !(0..=i64::from(u32::MAX)).contains(&ts) {
        return None;
    }
    Some(date)
}

/// Seconds since the epoch (UTC) of an RFC 5322 date-time, without the range check of
/// [`parse_date`]; `None` when it does not parse.
pub fn date_timestamp(value: &[u8]) -> Option<i64> {
    parse_date_time(value).map(|(_, ts)| ts)
}

fn parse_date_time(value: &[u8]) -> Option<(Date, i64)> {
    let mut lex = Lexer::new(value);
    lex.skip_lwsp();
    let mut t = token(&mut lex)?;
    if t.is_empty() {
        return None;
    }
    if t.len() == 3 {
        // The day of the week.
        if !lex.peek_is(b',') {
            return None;
        }
        lex.pos += 1;
        lex.skip_lwsp();
        t = token(&mut lex)?;
    }
    if t.is_empty() || t.len() > 2 {
        return None;
    }
    let day = digits(&t)?;
    let t = token(&mut lex)?;
    if t.len() < 3 {
        return None;
    }
    let month = MONTHS
        .iter()
        .position(|m| t.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(m)))?;
    let month = u32::try_from(month).ok()? + 1;
    let t = token(&mut lex)?;
    if t.len() != 2 && t.len() != 4 {
        return None;
    }
    let mut year = i64::from(digits(&t)?);
    if t.len() == 2 {
        year += if year < 70 { 2000 } else { 1900 };
    } else if year < 1900 {
        return None;
    }
    let t = token(&mut lex)?;
    if t.is_empty() || t.len() > 2 {
        return None;
    }
    let hour = digits(&t)?;
    if !matches!(lex.peek(), Some(b':' | b'.')) {
        return None;
    }
    lex.pos += 1;
    lex.skip_lwsp();
    let t = token(&mut lex)?;
    if t.len() != 2 {
        return None;
    }
    let minute = digits(&t)?;
    let mut second = 0;
    if matches!(lex.peek(), Some(b':' | b'.')) {
        lex.pos += 1;
        lex.skip_lwsp();
        let t = token(&mut lex)?;
        if t.len() != 2 {
            return None;
        }
        second = digits(&t)?;
    }
    let zone = token(&mut lex)?;
    let tz = if zone.is_empty() {
        0
    } else {
        zone_minutes(&zone)
    };
    if day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let ts = days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second.min(59))
        - tz * 60;
    let date = Date {
        year: i32::try_from(year).ok()?,
        month: u8::try_from(month).ok()?,
        day: u8::try_from(day).ok()?,
    };
    Some((date, ts))
}

/// The date of the message's first Date field, if it parses.
pub fn sent_date(msg: &Message<'_>) -> Option<Date> {
    let data = msg.data();
    let f = msg.root().header.first(data, "Date")?;
    parse_date(&f.unfolded(data))
}

/// The date SENTBEFORE, SENTON and SENTSINCE compare: the Date field's, or [`EPOCH`]
/// when it is missing or broken.
pub fn sent_date_or_epoch(msg: &Message<'_>) -> Date {
    sent_date(msg).unwrap_or(EPOCH)
}

/// RFC 9051 §6.4.4 LARGER <n>: RFC822.SIZE larger than n.
pub fn larger(msg: &Message<'_>, n: u32) -> bool {
    msg.size() > n
}

/// RFC 9051 §6.4.4 SMALLER <n>: RFC822.SIZE smaller than n.
pub fn smaller(msg: &Message<'_>, n: u32) -> bool {
    msg.size() < n
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &[u8] = b"From: =?ISO-8859-1?Q?J=F6rg?= <j@x>\r\nSubject: Hello\r\nDate: Tue, 5 Mar 2024 10:00:00 +0100\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe aus K=F6ln\r\n--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\naGlkZGVu\r\n--b--\r\n";

    #[test]
    fn headers_are_decoded_and_case_folded() {
        let m = Message::parse(M);
        assert!(header_contains(&m, "From", &Needle::new("jörg".as_bytes())));
        assert!(address_contains(
            &m,
            "From",
            &Needle::new("jörg <j@x>".as_bytes())
        ));
        assert!(subject_contains(&m, &Needle::new(b"hello")));
        assert!(header_contains(&m, "subject", &Needle::new(b"")));
        assert!(!header_contains(&m, "Cc", &Needle::new(b"")));
    }

    #[test]
    fn body_search_decodes_text_parts_only() {
        let m = Message::parse(M);
        assert!(
            body_contains(&m, &Needle::new("GRÜSSE".as_bytes()))
                || body_contains(&m, &Needle::new("grüße".as_bytes()))
        );
        assert!(body_contains(&m, &Needle::new("köln".as_bytes())));
        assert!(!body_contains(&m, &Needle::new(b"hidden")));
        assert!(!body_contains(&m, &Needle::new(b"Hello")));
        assert!(text_contains(&m, &Needle::new(b"Hello")));
    }

    #[test]
    fn raw_prefilter_skips_only_what_cannot_match() {
        let plain =
            b"Subject: status\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nweekly report\r\n";
        assert!(absent_from_raw(plain, &Needle::new(b"needle")));
        assert!(!absent_from_raw(plain, &Needle::new(b"REPORT")));
        // Encoded words, base64, QP, 8-bit text, other charsets and needles with white
        // space or `:` go to the decoder.
        let ew = b"Subject: =?UTF-8?B?bmVlZGxl?=\r\n\r\nx\r\n";
        assert!(!absent_from_raw(ew, &Needle::new(b"needle")));
        assert!(text_contains(&Message::parse(ew), &Needle::new(b"needle")));
        let b64 = b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nbmVlZGxl\r\n";
        assert!(!absent_from_raw(b64, &Needle::new(b"needle")));
        assert!(body_contains(&Message::parse(b64), &Needle::new(b"needle")));
        let utf16 = b"Content-Type: text/plain; charset=\"utf-16\"\r\n\r\nx\r\n";
        assert!(!absent_from_raw(utf16, &Needle::new(b"needle")));
        assert!(!absent_from_raw(
            "Subject: n\u{e9}\r\n\r\n".as_bytes(),
            &Needle::new(b"needle")
        ));
        assert!(!absent_from_raw(plain, &Needle::new(b"status weekly")));
        assert!(!absent_from_raw(plain, &Needle::new(b"subject:")));
    }

    #[test]
    fn dates_and_sizes() {
        let m = Message::parse(M);
        assert_eq!(
            sent_date(&m),
            Some(Date {
                year: 2024,
                month: 3,
                day: 5
            })
        );
        assert_eq!(
            parse_date(b"5 Mar 99 10:00"),
            Some(Date {
                year: 1999,
                month: 3,
                day: 5
            })
        );
        assert_eq!(parse_date(b"garbage"), None);
        assert_eq!(parse_date(b"Tue, 7 Apr 2026 10:00:t"), None);
        assert_eq!(parse_date(b"30 Feb 2024 10:00"), None);
        assert_eq!(parse_date(b"Thu, 13 Feb 1969 23:32:54 -0330"), None);
        assert!(larger(&m, 10));
        assert!(smaller(&m, 100_000));
    }
}
