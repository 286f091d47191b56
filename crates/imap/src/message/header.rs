//! Header blocks (RFC 5322 §2.2): fields, folding, the blank line that ends them.
//!
//! Offsets point into the message, so sections (RFC 9051 §6.4.5 `BODY[HEADER]`,
//! `HEADER.FIELDS`) are cut from the original octets.

use std::ops::Range;

/// Most fields recorded for one header block; later lines still belong to the block.
pub const MAX_FIELDS: usize = 10_000;

/// One header field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The whole field: name through the line end of its last line (CRLF included).
    pub whole: Range<usize>,
    /// The field name (trailing white space removed).
    pub name: Range<usize>,
    /// The value after the colon (leading white space skipped), up to but excluding the
    /// last line's CRLF; folding line breaks are still inside.
    pub value: Range<usize>,
}

/// A parsed header block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub fields: Vec<Field>,
    /// Where the header begins.
    pub start: usize,
    /// Where the header ends, blank line included (where the body starts).
    pub end: usize,
    /// The header was cut short by a MIME boundary line at this offset (the line break
    /// before the boundary belongs to the boundary, RFC 2046 §5.1.1).
    pub cut_by_boundary: Option<usize>,
}

impl Field {
    pub fn name<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        data.get(self.name.clone()).unwrap_or(&[])
    }

    pub fn raw_value<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        data.get(self.value.clone()).unwrap_or(&[])
    }

    /// The value unfolded (RFC 5322 §2.2.3): line breaks removed, the white space that
    /// followed them kept.
    pub fn unfolded(&self, data: &[u8]) -> Vec<u8> {
        let raw = self.raw_value(data);
        let mut out = Vec::with_capacity(raw.len());
        for &b in raw {
            if b != b'\r' && b != b'\n' {
                out.push(b);
            }
        }
        out
    }

    pub fn is(&self, data: &[u8], name: &str) -> bool {
        self.name(data).eq_ignore_ascii_case(name.as_bytes())
    }
}

impl Header {
    /// The first field named `name` (case-insensitive).
    pub fn first<'h>(&'h self, data: &[u8], name: &str) -> Option<&'h Field> {
        self.fields.iter().find(|f| f.is(data, name))
    }

    /// The last field named `name`.
    pub fn last<'h>(&'h self, data: &[u8], name: &str) -> Option<&'h Field> {
        self.fields.iter().rev().find(|f| f.is(data, name))
    }
}

/// Parses the header starting at `start` (a line start) and ending at the first empty
/// line, at `limit`, or before a line for which `is_boundary` is true.
pub fn parse(
    data: &[u8],
    start: usize,
    limit: usize,
    is_boundary: &dyn Fn(&[u8]) -> bool,
) -> Header {
    let limit = limit.min(data.len());
    let mut h = Header {
        fields: Vec::new(),
        start,
        end: limit,
        cut_by_boundary: None,
    };
    let mut pos = start;
    // The field being collected: (start of field, name range, value start).
    let mut current: Option<(usize, Range<usize>, usize)> = None;
    let mut last_line_end = start;
    while pos < limit {
        let rest = data.get(pos..limit).unwrap_or(&[]);
        let line_len = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let line = rest.get(..line_len).unwrap_or(&[]);
        if line.starts_with(b"--") && is_boundary(line) {
            // The line break before the boundary belongs to the boundary.
            let cut = if pos > start {
                let mut e = pos;
                if data.get(e - 1) == Some(&b'\n') {
                    e -= 1;
                    if e > start && data.get(e - 1) == Some(&b'\r') {
                        e -= 1;
                    }
                }
                e
            } else {
                pos
            };
            finish(&mut h, data, current.take(), cut);
            h.end = cut;
            h.cut_by_boundary = Some(pos);
            return h;
        }
        if line == b"\r\n" || line == b"\n" {
            finish(&mut h, data, current.take(), last_line_end);
            let next = pos + line_len;
            h.end = next;
            return h;
        }
        let continuation = matches!(line.first(), Some(b' ' | b'\t'));
        if !continuation {
            finish(&mut h, data, current.take(), last_line_end);
            let content = strip_eol(line);
            let (name, value_start) = match memchr::memchr(b':', content) {
                Some(colon) => {
                    let mut name_end = colon;
                    while name_end > 0 && matches!(content.get(name_end - 1), Some(b' ' | b'\t')) {
                        name_end -= 1;
                    }
                    let mut v = colon + 1;
                    while matches!(content.get(v), Some(b' ' | b'\t')) {
                        v += 1;
                    }
                    (pos..pos + name_end, pos + v)
                }
                // A line without a colon: all name, no value (as Dovecot reads it).
                None => (pos..pos + content.len(), pos + content.len()),
            };
            current = Some((pos, name, value_start));
        }
        last_line_end = pos + strip_eol(line).len();
        pos += line_len;
    }
    finish(&mut h, data, current.take(), last_line_end);
    h.end = limit;
    h
}

fn strip_eol(line: &[u8]) -> &[u8] {
    let l = line.strip_suffix(b"\n").unwrap_or(line);
    l.strip_suffix(b"\r").unwrap_or(l)
}

fn finish(h: &mut Header, data: &[u8], cur: Option<(usize, Range<usize>, usize)>, end: usize) {
    let Some((start, name, value_start)) = cur else {
        return;
    };
    if h.fields.len() >= MAX_FIELDS {
        return;
    }
    // `whole` runs to the end of the line break after the last line.
    let mut whole_end = end;
    if data.get(whole_end) == Some(&b'\r') {
        whole_end += 1;
    }
    if data.get(whole_end) == Some(&b'\n') {
        whole_end += 1;
    }
    let value_start = value_start.min(end);
    h.fields.push(Field {
        whole: start..whole_end,
        name,
        value: value_start..end,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_boundary(_: &[u8]) -> bool {
        false
    }

    #[test]
    fn fields_fold_and_end_at_blank_line() {
        let m = b"Subject: a\r\n b\r\nX-Y : z\r\n\r\nbody";
        let h = parse(m, 0, m.len(), &no_boundary);
        assert_eq!(h.end, 27);
        assert_eq!(h.fields.len(), 2);
        assert_eq!(h.fields[0].unfolded(m), b"a b");
        assert_eq!(h.fields[1].name(m), b"X-Y");
        assert_eq!(&m[h.fields[0].whole.clone()], b"Subject: a\r\n b\r\n");
    }

    #[test]
    fn header_without_blank_line_runs_to_the_end() {
        let m = b"A: 1\r\nB: 2";
        let h = parse(m, 0, m.len(), &no_boundary);
        assert_eq!(h.end, m.len());
        assert_eq!(h.fields[1].raw_value(m), b"2");
    }

    #[test]
    fn boundary_cuts_the_header() {
        let m = b"A: 1\r\n--b\r\n";
        let h = parse(m, 0, m.len(), &|l: &[u8]| l.starts_with(b"--b"));
        assert_eq!(h.end, 4);
        assert_eq!(h.cut_by_boundary, Some(6));
    }
}
