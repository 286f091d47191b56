//! Response pieces the session writes itself (RFC 9051 §7, §9 grammar) where imap-types
//! has no value for them or where speed matters (FETCH of many messages): quoted mailbox
//! names, FETCH items, response codes with sets, INTERNALDATE.

use imap_codec::imap_types::core::{Tag, Vec1};
use imap_codec::imap_types::fetch::MessageDataItem;
use imap_codec::imap_types::response::Data;
use std::fmt::Write as _;
use std::num::NonZeroU32;

/// RFC 9051 §9 `string`: a quoted string when the value allows it (no CR, LF, NUL, and
/// ASCII unless `utf8`), else a literal.
pub fn string(out: &mut Vec<u8>, value: &[u8], utf8: bool) {
    let quotable = value.len() < 1024
        && value
            .iter()
            .all(|&c| c != b'\r' && c != b'\n' && c != 0 && (utf8 || c < 0x80));
    if quotable {
        out.push(b'"');
        for &c in value {
            if c == b'"' || c == b'\\' {
                out.push(b'\\');
            }
            out.push(c);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(format!("{{{}}}\r\n", value.len()).as_bytes());
        out.extend_from_slice(value);
    }
}

/// A mailbox name in the form the client reads (RFC 9051 §5.1: UTF-8 for IMAP4rev2 and
/// UTF8=ACCEPT clients, modified UTF-7 for IMAP4rev1, RFC 3501 §5.1.3).
pub fn mailbox(out: &mut Vec<u8>, name: &str, utf8: bool) {
    let wire = crate::mailbox_name::to_wire(name, utf8);
    string(out, wire.as_bytes(), utf8);
}

/// A tagged status line with a raw response code (`<tag> OK [<code>] <text>`).
pub fn tagged(out: &mut Vec<u8>, tag: &Tag<'_>, kind: &str, code: Option<&str>, text: &str) {
    out.extend_from_slice(tag.as_ref().as_bytes());
    out.push(b' ');
    out.extend_from_slice(kind.as_bytes());
    out.push(b' ');
    if let Some(c) = code {
        out.push(b'[');
        out.extend_from_slice(c.as_bytes());
        out.extend_from_slice(b"] ");
    }
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// An untagged `* OK [<code>] <text>` line.
pub fn untagged_ok(out: &mut Vec<u8>, code: &str, text: &str) {
    out.extend_from_slice(b"* OK [");
    out.extend_from_slice(code.as_bytes());
    out.extend_from_slice(b"] ");
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// RFC 9051 §9 sequence-set from sorted or unsorted numbers, ranges compressed
/// (`1:3,7,9:10`). Empty input gives an empty string.
pub fn set(nums: &[u32]) -> String {
    let mut v = nums.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut s = String::new();
    let mut i = 0;
    while let Some(&start) = v.get(i) {
        let mut end = start;
        let mut j = i + 1;
        while let Some(&n) = v.get(j) {
            if n == end.saturating_add(1) {
                end = n;
                j += 1;
            } else {
                break;
            }
        }
        if !s.is_empty() {
            s.push(',');
        }
        if end == start {
            let _ = write!(s, "{start}");
        } else {
            let _ = write!(s, "{start}:{end}");
        }
        i = j;
    }
    s
}

/// RFC 4315 uid-set as COPYUID wants it: the numbers in the given order (source and
/// destination must correspond one to one), runs of consecutive numbers compressed.
pub fn ordered_set(nums: &[u32]) -> String {
    let mut s = String::new();
    let mut i = 0;
    while let Some(&start) = nums.get(i) {
        let mut end = start;
        let mut j = i + 1;
        while let Some(&n) = nums.get(j) {
            if n == end.saturating_add(1) {
                end = n;
                j += 1;
            } else {
                break;
            }
        }
        if !s.is_empty() {
            s.push(',');
        }
        if end == start {
            let _ = write!(s, "{start}");
        } else {
            let _ = write!(s, "{start}:{end}");
        }
        i = j;
    }
    s
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// RFC 9051 §9 date-time: `"dd-Mon-yyyy hh:mm:ss +zzzz"` for seconds since the epoch
/// shown in the zone `offset_minutes` east of UTC.
pub fn internal_date(secs: i64, offset_minutes: i32) -> String {
    let local = secs.saturating_add(i64::from(offset_minutes) * 60);
    let days = local.div_euclid(86_400);
    let rem = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "\"{:02}-{}-{:04} {:02}:{:02}:{:02} {}{:02}{:02}\"",
        d,
        MONTHS.get(m.saturating_sub(1) as usize).unwrap_or(&"Jan"),
        y.clamp(0, 9999),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        sign,
        off / 60,
        off % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's civil_from_days).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One FETCH item in wire form, written by imap-codec: the item is encoded inside a
/// one-item FETCH response whose frame (`* 1 FETCH (` ... `)\r\n`) is cut off.
pub fn fetch_item(item: MessageDataItem<'_>) -> Vec<u8> {
    let mut buf = Vec::new();
    let Ok(d) = Data::fetch(1u32, Vec1::from(item)) else {
        return buf;
    };
    crate::wire::encode::data(&mut buf, d);
    const HEAD: &[u8] = b"* 1 FETCH (";
    const TAIL: &[u8] = b")\r\n";
    if buf.starts_with(HEAD) && buf.ends_with(TAIL) && buf.len() >= HEAD.len() + TAIL.len() {
        buf.get(HEAD.len()..buf.len() - TAIL.len())
            .unwrap_or_default()
            .to_vec()
    } else {
        Vec::new()
    }
}

/// `* <seq> FETCH (<items>)\r\n` from items already in wire form.
pub fn fetch_line(out: &mut Vec<u8>, seq: u32, items: &[Vec<u8>]) {
    let _ = NonZeroU32::new(seq);
    out.extend_from_slice(format!("* {seq} FETCH (").as_bytes());
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(it);
    }
    out.extend_from_slice(b")\r\n");
}

/// A FLAGS list `(\Seen $Label)` (RFC 9051 §7.5.2).
pub fn flag_list(flags: &[crate::backend::Flag]) -> String {
    let mut s = String::from("(");
    for (i, f) in flags.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&flag_name(f));
    }
    s.push(')');
    s
}

/// A FLAGS list with `\Recent` (RFC 3501 §2.3.2) when the message is recent to the
/// session and the session speaks IMAP4rev1.
pub fn flags_shown(flags: &[crate::backend::Flag], recent: bool) -> String {
    let list = flag_list(flags);
    if !recent {
        return list;
    }
    match list.as_str() {
        "()" => "(\\Recent)".to_string(),
        _ => format!("{} \\Recent)", list.trim_end_matches(')')),
    }
}

/// A flag as IMAP writes it.
pub fn flag_name(f: &crate::backend::Flag) -> String {
    use crate::backend::Flag as F;
    match f {
        F::Seen => "\\Seen".into(),
        F::Answered => "\\Answered".into(),
        F::Flagged => "\\Flagged".into(),
        F::Deleted => "\\Deleted".into(),
        F::Draft => "\\Draft".into(),
        F::Keyword(k) => k.clone(),
    }
}

/// `* FLAGS (...)` and `* OK [PERMANENTFLAGS (...)]` for a mailbox whose keywords are
/// `keywords` (RFC 9051 §7.3.5, §7.1: PERMANENTFLAGS is empty when read-only).
pub fn flags_and_permanentflags(out: &mut Vec<u8>, keywords: &[String], read_only: bool) {
    let mut flags = String::from("\\Answered \\Flagged \\Deleted \\Seen \\Draft");
    for k in keywords {
        flags.push(' ');
        flags.push_str(k);
    }
    out.extend_from_slice(format!("* FLAGS ({flags})\r\n").as_bytes());
    if read_only {
        untagged_ok(out, "PERMANENTFLAGS ()", "Read-only mailbox.");
    } else {
        untagged_ok(
            out,
            &format!("PERMANENTFLAGS ({flags} \\*)"),
            "Flags permitted.",
        );
    }
}

/// RFC 3501 §7.2.6: a keyword must be in the FLAGS the client was told before a FETCH
/// shows it. Adds the keywords of `flags` the client has not been told of to `announced`
/// and, when there are any, writes the new FLAGS and PERMANENTFLAGS.
pub fn announce_keywords<'f>(
    out: &mut Vec<u8>,
    announced: &mut Vec<String>,
    read_only: bool,
    flags: impl IntoIterator<Item = &'f crate::backend::Flag>,
) {
    let before = announced.len();
    for f in flags {
        if let crate::backend::Flag::Keyword(k) = f
            && !announced.iter().any(|a| a.eq_ignore_ascii_case(k))
        {
            announced.push(k.clone());
        }
    }
    if announced.len() > before {
        flags_and_permanentflags(out, announced, read_only);
    }
}

/// `BINARY[1.2]<origin> data` (RFC 3516 §4.2, §5): the origin of a partial fetch is
/// given back, as for BODY[]; the data is a literal8 (`~{n}`) when it holds NUL, else a
/// literal, or a quoted string when every octet may be quoted. (imap-codec's BINARY item
/// has no origin, so this one is written here.)
pub fn binary_item(path: &[std::num::NonZeroU32], origin: Option<u32>, data: &[u8]) -> Vec<u8> {
    let section: Vec<String> = path.iter().map(|n| n.to_string()).collect();
    let mut out = format!("BINARY[{}]", section.join(".")).into_bytes();
    if let Some(o) = origin {
        out.extend_from_slice(format!("<{o}>").as_bytes());
    }
    out.push(b' ');
    let quotable = data.len() < 1024
        && data
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    if quotable {
        out.push(b'"');
        out.extend_from_slice(data);
        out.push(b'"');
    } else {
        let tilde = if data.contains(&0) { "~" } else { "" };
        out.extend_from_slice(format!("{tilde}{{{}}}\r\n", data.len()).as_bytes());
        out.extend_from_slice(data);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_dates() {
        assert_eq!(set(&[5, 1, 2, 3, 9, 10]), "1:3,5,9:10");
        assert_eq!(ordered_set(&[3, 4, 1]), "3:4,1");
        assert_eq!(
            internal_date(1_700_000_000, 60),
            "\"14-Nov-2023 23:13:20 +0100\""
        );
        assert_eq!(internal_date(0, -330), "\"31-Dec-1969 18:30:00 -0530\"");
        assert_eq!(days_from_civil(2023, 11, 14), 19675);
        let mut out = Vec::new();
        string(&mut out, b"a\"b", false);
        string(&mut out, "é".as_bytes(), false);
        assert_eq!(out, b"\"a\\\"b\"{2}\r\n\xc3\xa9");
    }

    #[test]
    fn fetch_items_lose_their_frame() {
        let it = fetch_item(MessageDataItem::Rfc822Size(42));
        assert_eq!(it, b"RFC822.SIZE 42");
    }
}
