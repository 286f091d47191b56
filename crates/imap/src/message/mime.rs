//! The MIME part tree of a message (RFC 2045, RFC 2046 §5.1 multipart, §5.2.1
//! message/rfc822), with offsets into the message.
//!
//! Boundary rules follow RFC 2046 §5.1.1 as Dovecot reads them, so part numbers and sizes
//! agree with the reference server on damaged mail too:
//! - a delimiter line is `--` + boundary at a line start; only the prefix must match, and
//!   when several open boundaries match, the longest wins;
//! - the line break before a delimiter belongs to the delimiter, not to the part;
//! - a delimiter of an enclosing multipart ends the inner parts (and their boundaries);
//! - `--boundary--` closes the multipart; what follows is its epilogue;
//! - a part header is cut short by a delimiter line;
//! - Content-* fields count only in a MIME part: one with MIME-Version or Content-Type, or
//!   any part of a multipart; a part without Content-Type is text/plain, or message/rfc822
//!   inside multipart/digest (RFC 2046 §5.1.5).
//!
//! Limits: at most [`MAX_DEPTH`] nested levels and [`MAX_PARTS`] parts; deeper or further
//! parts are leaves.

use super::header::{self, Header};
use super::lexer::Lexer;
use super::params;
use std::ops::Range;

/// Deepest nesting of multiparts and message/rfc822 parts.
pub const MAX_DEPTH: usize = 100;
/// Most parts in one message.
pub const MAX_PARTS: usize = 10_000;

/// What a part holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// text/* (or no Content-Type): BODYSTRUCTURE carries a line count.
    Text,
    /// Any other single part.
    Basic,
    /// message/rfc822 with its embedded message.
    Message(Box<Part>),
    /// multipart/*, with its parts (empty when the boundary is missing or never found).
    Multipart(Vec<Part>),
}

/// One MIME part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub header: Header,
    /// The body: from after the header to before the next delimiter's line break.
    pub body: Range<usize>,
    pub kind: Kind,
    /// Content-* fields apply (see the module documentation).
    pub is_mime: bool,
}

impl Part {
    /// The whole part: header and body.
    pub fn range(&self) -> Range<usize> {
        self.header.start..self.body.end.max(self.header.start)
    }

    pub fn children(&self) -> &[Part] {
        match &self.kind {
            Kind::Multipart(parts) => parts,
            Kind::Message(m) => std::slice::from_ref(m.as_ref()),
            _ => &[],
        }
    }
}

#[derive(Debug)]
struct Boundary {
    text: Vec<u8>,
}

/// A delimiter line found while scanning.
#[derive(Debug, Clone, Copy)]
struct Hit {
    /// Start of the `--boundary` line.
    line: usize,
    /// End of the content before it (the line break excluded).
    content_end: usize,
    /// Index of the boundary in the stack.
    idx: usize,
    /// `--boundary--`.
    close: bool,
}

struct Parser<'a> {
    data: &'a [u8],
    boundaries: Vec<Boundary>,
    parts: usize,
}

/// Parses the part tree of `data` (the whole message).
pub fn parse(data: &[u8]) -> Part {
    let mut p = Parser {
        data,
        boundaries: Vec::new(),
        parts: 0,
    };
    p.part(0, false, false, 0).0
}

/// RFC 2046 §5.1.1 limits a boundary to 70 characters; like Dovecot we keep the first
/// [`MAX_BOUNDARY`] of longer ones (so over-long boundaries that share that prefix match
/// each other, as they do in Dovecot).
pub const MAX_BOUNDARY: usize = 80;

/// Which open boundary a `--...` line is a delimiter of: the longest boundary that is a
/// prefix of the rest of the line, the innermost among equals.
fn find_boundary(boundaries: &[Boundary], line: &[u8]) -> Option<(usize, bool)> {
    let texts: Vec<&[u8]> = boundaries.iter().map(|b| b.text.as_slice()).collect();
    find_boundary_in(&texts, line)
}

fn find_boundary_in(boundaries: &[&[u8]], line: &[u8]) -> Option<(usize, bool)> {
    let rest = line.strip_prefix(b"--")?;
    let mut best: Option<(usize, usize)> = None;
    for (i, b) in boundaries.iter().enumerate().rev() {
        let len = b.len();
        if rest.starts_with(b) && best.is_none_or(|(_, l)| l < len) {
            best = Some((i, len));
        }
    }
    let (i, len) = best?;
    let close = rest.get(len..len + 2) == Some(b"--");
    Some((i, close))
}

/// The content type of a part header as Dovecot's parser sees it: `type/subtype` text and
/// whether it parsed cleanly, plus the lexer positioned at the parameters.
pub(crate) fn content_type_of(value: &[u8]) -> (Vec<u8>, bool, Lexer<'_>) {
    let mut lex = Lexer::new(value);
    lex.skip_lwsp();
    let mut ct = Vec::new();
    let ok = !lex.parse_content_type(&mut ct).is_err();
    (ct, ok, lex)
}

impl<'a> Parser<'a> {
    fn line_at(&self, pos: usize) -> &'a [u8] {
        let rest = self.data.get(pos..).unwrap_or(&[]);
        let len = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        rest.get(..len).unwrap_or(&[])
    }

    fn hit_at(&self, line: usize, content_end: usize) -> Option<Hit> {
        let l = self.line_at(line);
        let (idx, close) = find_boundary(&self.boundaries, l)?;
        Some(Hit {
            line,
            content_end,
            idx,
            close,
        })
    }

    /// Scans from `pos` (a line start) to the next delimiter line of any open boundary.
    /// Returns where the content ends and the delimiter found, if any.
    fn scan(&self, pos: usize) -> (usize, Option<Hit>) {
        let len = self.data.len();
        if self.boundaries.is_empty() || pos >= len {
            return (len.max(pos), None);
        }
        if let Some(h) = self.hit_at(pos, pos) {
            return (pos, Some(h));
        }
        let mut cur = pos;
        while let Some(off) = memchr::memchr(b'\n', self.data.get(cur..).unwrap_or(&[])) {
            let lf = cur + off;
            let next = lf + 1;
            if self.data.get(next..next + 2) == Some(b"--") {
                let mut end = lf;
                if end > pos && self.data.get(end - 1) == Some(&b'\r') {
                    end -= 1;
                }
                if let Some(h) = self.hit_at(next, end) {
                    return (end, Some(h));
                }
            }
            cur = next;
        }
        (len, None)
    }

    /// The position after the delimiter line starting at `line`.
    fn after_line(&self, line: usize) -> usize {
        line + self.line_at(line).len()
    }

    fn part(
        &mut self,
        start: usize,
        in_multipart: bool,
        parent_digest: bool,
        depth: usize,
    ) -> (Part, Option<Hit>) {
        self.parts += 1;
        let data = self.data;
        let hdr = {
            let boundaries = &self.boundaries;
            let check = |line: &[u8]| find_boundary(boundaries, line).is_some();
            header::parse(data, start, data.len(), &check)
        };
        let body_start = hdr.end;

        // RFC 2045 §4 MIME-Version; like Dovecot, a Content-Type alone also makes it MIME.
        let ct_field = hdr.first(data, "Content-Type");
        let is_mime =
            in_multipart || ct_field.is_some() || hdr.first(data, "MIME-Version").is_some();
        let mut text = false;
        let mut rfc822 = false;
        let mut multipart = false;
        let mut digest = false;
        let mut boundary: Option<Vec<u8>> = None;
        if let Some(f) = ct_field
            && is_mime
        {
            let value = f.unfolded(data);
            let (ct, ok, mut lex) = content_type_of(&value);
            if ct.eq_ignore_ascii_case(b"message/rfc822") {
                rfc822 = true;
            } else if ct.len() >= 4
                && ct.get(..4).is_some_and(|t| t.eq_ignore_ascii_case(b"text"))
                && (ct.len() == 4 || ct.get(4) == Some(&b'/'))
            {
                text = true;
            } else if ct.len() >= 10
                && ct
                    .get(..10)
                    .is_some_and(|t| t.eq_ignore_ascii_case(b"multipart/"))
            {
                multipart = true;
                digest = ct
                    .get(10..)
                    .is_some_and(|s| s.eq_ignore_ascii_case(b"digest"));
            }
            if ok && multipart {
                boundary = params::parse_params(&mut lex)
                    .into_iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(b"boundary"))
                    .map(|(_, v)| v);
            }
        } else if parent_digest {
            rfc822 = true;
        } else {
            text = true;
        }

        let too_deep = depth >= MAX_DEPTH || self.parts >= MAX_PARTS;
        let mut hdr = hdr;
        let mut body_start = body_start;
        let own = boundary
            .as_ref()
            .filter(|b| multipart && !too_deep && !b.is_empty())
            .map(|b| b.get(..b.len().min(MAX_BOUNDARY)).unwrap_or(b).to_vec());
        if hdr.cut_by_boundary.is_none() && hdr.end > hdr.start && !self.boundaries.is_empty() {
            // A delimiter right after the blank line: the blank line is the line break
            // before the delimiter (RFC 2046 §5.1.1), so the header ends before it and the
            // body is empty (as Dovecot cuts it). The part's own boundary does not count.
            let line = self.line_at(body_start);
            if line.starts_with(b"--") {
                let mut with_own: Vec<&[u8]> =
                    self.boundaries.iter().map(|b| b.text.as_slice()).collect();
                if let Some(o) = own.as_deref() {
                    with_own.push(o);
                }
                let own_idx = own.as_ref().map(|_| with_own.len() - 1);
                if let Some((idx, _)) = find_boundary_in(&with_own, line)
                    && Some(idx) != own_idx
                {
                    let blank =
                        if data.get(body_start.saturating_sub(2)..body_start) == Some(b"\r\n") {
                            2
                        } else {
                            1
                        };
                    hdr.cut_by_boundary = Some(body_start);
                    hdr.end = body_start.saturating_sub(blank).max(hdr.start);
                    body_start = hdr.end;
                }
            }
        }
        // A header cut by a delimiter never reached its end: no boundary of its own.
        let header_complete = hdr.cut_by_boundary.is_none();

        if multipart {
            let own = own.filter(|_| header_complete);
            let Some(own) = own else {
                let (end, hit) = self.scan_or_cut(&hdr, body_start);
                return (
                    self.leaf(hdr, body_start, end, Kind::Multipart(Vec::new()), is_mime),
                    hit,
                );
            };
            return self.multipart(hdr, body_start, own, digest, is_mime, depth);
        }
        if rfc822 && !too_deep {
            let child_start = match hdr.cut_by_boundary {
                Some(_) => hdr.end,
                None => body_start,
            };
            if hdr.cut_by_boundary.is_some() {
                // The embedded message starts at the delimiter: it is empty.
                let line = hdr.cut_by_boundary.unwrap_or(body_start);
                let child = Part {
                    header: Header {
                        fields: Vec::new(),
                        start: child_start,
                        end: child_start,
                        cut_by_boundary: Some(line),
                    },
                    body: child_start..child_start,
                    kind: Kind::Text,
                    is_mime: false,
                };
                let hit = self.hit_at(line, line);
                let part = Part {
                    header: hdr,
                    body: child_start..child_start,
                    kind: Kind::Message(Box::new(child)),
                    is_mime,
                };
                return (part, hit);
            }
            let (child, hit) = self.part(body_start, false, false, depth + 1);
            let mut end = child.body.end.max(body_start);
            // Dovecot quirk kept for equal sizes: when the embedded message's header is cut
            // by a delimiter, the line break before the delimiter counts in this part's body.
            if let Some(line) = child.header.cut_by_boundary
                && line > child.header.start
            {
                end = end.max(line);
            }
            let part = Part {
                header: hdr,
                body: body_start..end,
                kind: Kind::Message(Box::new(child)),
                is_mime,
            };
            return (part, hit);
        }
        let kind = if text { Kind::Text } else { Kind::Basic };
        let (end, hit) = self.scan_or_cut(&hdr, body_start);
        (self.leaf(hdr, body_start, end, kind, is_mime), hit)
    }

    /// For a header cut by a delimiter the body is empty and the delimiter is the hit;
    /// otherwise scan the body.
    fn scan_or_cut(&self, hdr: &Header, body_start: usize) -> (usize, Option<Hit>) {
        match hdr.cut_by_boundary {
            // The parent's content runs to the delimiter line: the line break cut from
            // this header counts in the parent (Dovecot adds it to the parent's body).
            Some(line) => (body_start, self.hit_at(line, line)),
            None => self.scan(body_start),
        }
    }

    fn leaf(
        &self,
        header: Header,
        body_start: usize,
        end: usize,
        kind: Kind,
        is_mime: bool,
    ) -> Part {
        Part {
            header,
            body: body_start..end.max(body_start),
            kind,
            is_mime,
        }
    }

    fn multipart(
        &mut self,
        hdr: Header,
        body_start: usize,
        boundary: Vec<u8>,
        digest: bool,
        is_mime: bool,
        depth: usize,
    ) -> (Part, Option<Hit>) {
        let my = self.boundaries.len();
        let mut boundary = boundary;
        boundary.truncate(MAX_BOUNDARY);
        self.boundaries.push(Boundary { text: boundary });
        let mut children = Vec::new();
        let (_, mut hit) = self.scan(body_start);
        // Until the end of the message.
        while let Some(h) = hit {
            if h.idx != my {
                // An enclosing multipart's delimiter ends this one too.
                let end = h.content_end;
                self.boundaries.truncate(my);
                return (
                    Part {
                        header: hdr,
                        body: body_start..end.max(body_start),
                        kind: Kind::Multipart(children),
                        is_mime,
                    },
                    Some(h),
                );
            }
            if h.close {
                // The epilogue runs to an enclosing delimiter or the end.
                self.boundaries.truncate(my);
                let after = self.after_line(h.line);
                let (end, outer) = self.scan(after);
                hit = outer;
                let part = Part {
                    header: hdr,
                    body: body_start..end.max(body_start),
                    kind: Kind::Multipart(children),
                    is_mime,
                };
                return (part, hit);
            }
            self.boundaries.truncate(my + 1);
            let child_start = self.after_line(h.line);
            if self.parts >= MAX_PARTS {
                // Too many parts: the rest is one last leaf.
                let (e, next) = self.scan(child_start);
                let _ = e;
                hit = next;
                continue;
            }
            let (child, next) = self.part(child_start, true, digest, depth + 1);
            children.push(child);
            hit = next;
        }
        self.boundaries.truncate(my);
        let end = self.data.len();
        (
            Part {
                header: hdr,
                body: body_start..end.max(body_start),
                kind: Kind::Multipart(children),
                is_mime,
            },
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MP: &[u8] = b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\npre\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\n\r\nworld\r\n--b--\r\nepilogue\r\n";

    #[test]
    fn multipart_parts_and_ranges() {
        let p = parse(MP);
        let Kind::Multipart(children) = &p.kind else {
            panic!("not multipart: {:?}", p.kind)
        };
        assert_eq!(children.len(), 2);
        assert_eq!(&MP[children[0].body.clone()], b"hello");
        assert_eq!(&MP[children[1].body.clone()], b"world");
        assert_eq!(children[1].kind, Kind::Text);
        assert_eq!(p.body.end, MP.len());
    }

    #[test]
    fn nested_message_rfc822() {
        let m = b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n";
        let p = parse(m);
        let Kind::Message(inner) = &p.kind else {
            panic!()
        };
        assert_eq!(&m[inner.body.clone()], b"body\r\n");
        assert_eq!(inner.header.fields.len(), 1);
    }

    #[test]
    fn outer_boundary_ends_inner_multipart() {
        let m = b"Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n\r\na\r\n--outer\r\n\r\nb\r\n--outer--\r\n";
        let p = parse(m);
        let kids = p.children();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[0].children().len(), 1);
        assert_eq!(&m[kids[0].children()[0].body.clone()], b"a");
        assert_eq!(&m[kids[1].body.clone()], b"b");
    }

    #[test]
    fn multipart_without_boundary_has_no_parts() {
        let p = parse(b"Content-Type: multipart/mixed\r\n\r\nx\r\n");
        assert_eq!(p.kind, Kind::Multipart(Vec::new()));
    }
}
