//! A lexer for structured header values: RFC 5322 §3.2 (comments, atoms, quoted strings,
//! phrases, domains) and RFC 2045 §5.1 (MIME tokens, content types and parameters).
//!
//! The edge cases follow Dovecot's `rfc822-parser`, so that ENVELOPE and BODYSTRUCTURE come
//! out the same as the reference server's for malformed input too: LWSP may stand around
//! the dots of a dot-atom (RFC 822 style), a quoted string may be folded, an unbalanced
//! comment or quote is an error.

/// Outcome of one lexing step, as Dovecot's parser reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The input is malformed here.
    Err,
    /// The value ended (nothing but the step's result is left).
    End,
    /// More input follows.
    More,
}

impl Step {
    fn from_more(more: bool) -> Step {
        if more { Step::More } else { Step::End }
    }
    /// `> 0` in Dovecot's terms.
    pub fn is_more(self) -> bool {
        self == Step::More
    }
    /// `< 0` in Dovecot's terms.
    pub fn is_err(self) -> bool {
        self == Step::Err
    }
}

/// RFC 5322 §3.2.3 `atext`: any printable ASCII except specials; 8-bit octets are accepted
/// (RFC 6532 §3.2 extends atext with UTF-8).
pub fn is_atext(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'#'..=b'\''
            | b'*'
            | b'+'
            | b'-'
            | b'/'
            | b'='
            | b'?'
            | b'^'..=b'~'
            | b'0'..=b'9'
            | b'A'..=b'Z'
            | 0x80..=0xff
    )
}

/// RFC 2045 §5.1 `token` characters: atext without the tspecials `/`, `=` and `?`.
pub fn is_token_char(b: u8) -> bool {
    is_atext(b) && !matches!(b, b'/' | b'=' | b'?')
}

/// An `attribute=value` pair as read (octets).
pub type RawParam = (Vec<u8>, Vec<u8>);

/// A malformed MIME parameter (the caller skips it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadParam;

/// A cursor over one unfolded header value.
#[derive(Debug)]
pub struct Lexer<'a> {
    data: &'a [u8],
    pub pos: usize,
    /// When kept, the text of the last comment skipped (used for `addr (Name)`).
    pub last_comment: Option<Vec<u8>>,
}

impl<'a> Lexer<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Lexer {
            data,
            pos: 0,
            last_comment: None,
        }
    }

    /// Like [`Lexer::new`], keeping the text of comments.
    pub fn with_comments(data: &'a [u8]) -> Self {
        Lexer {
            data,
            pos: 0,
            last_comment: Some(Vec::new()),
        }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The octet at the cursor, if any.
    pub fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    pub fn peek_is(&self, b: u8) -> bool {
        self.peek() == Some(b)
    }

    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        self.data.get(start..end).unwrap_or(&[])
    }

    /// RFC 5322 §3.2.2 comment: `(` ... `)`, nested, with quoted-pairs.
    pub fn skip_comment(&mut self) -> Step {
        if let Some(c) = self.last_comment.as_mut() {
            c.clear();
        }
        self.pos += 1;
        let mut start = self.pos;
        let mut level = 1u32;
        while let Some(b) = self.peek() {
            match b {
                b'(' => level += 1,
                b')' => {
                    level -= 1;
                    if level == 0 {
                        let text = self.slice(start, self.pos);
                        if let Some(c) = self.last_comment.as_mut() {
                            c.extend_from_slice(text);
                        }
                        self.pos += 1;
                        return Step::from_more(!self.at_end());
                    }
                }
                b'\\' => {
                    let text = self.slice(start, self.pos);
                    if let Some(c) = self.last_comment.as_mut() {
                        c.extend_from_slice(text);
                    }
                    start = self.pos + 1;
                    self.pos += 1;
                    if self.at_end() {
                        return Step::Err;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        Step::Err
    }

    /// Skips white space, line breaks and comments (RFC 5322 §3.2.2 CFWS).
    pub fn skip_lwsp(&mut self) -> Step {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'(' => {
                    if self.skip_comment().is_err() {
                        return Step::Err;
                    }
                }
                _ => break,
            }
        }
        Step::from_more(!self.at_end())
    }

    /// RFC 5322 §3.2.3 atom.
    pub fn parse_atom(&mut self, out: &mut Vec<u8>) -> Step {
        match self.peek() {
            Some(b) if is_atext(b) => {}
            _ => return Step::Err,
        }
        let start = self.pos;
        self.pos += 1;
        while let Some(b) = self.peek() {
            if !is_atext(b) {
                out.extend_from_slice(self.slice(start, self.pos));
                return self.skip_lwsp();
            }
            self.pos += 1;
        }
        out.extend_from_slice(self.slice(start, self.pos));
        Step::End
    }

    /// RFC 5322 §3.2.3 dot-atom, allowing LWSP around the dots as RFC 822 did.
    pub fn parse_dot_atom(&mut self, out: &mut Vec<u8>) -> Step {
        match self.peek() {
            Some(b) if is_atext(b) => {}
            _ => return Step::Err,
        }
        let mut start = self.pos;
        self.pos += 1;
        while let Some(b) = self.peek() {
            if is_atext(b) {
                self.pos += 1;
                continue;
            }
            out.extend_from_slice(self.slice(start, self.pos));
            let r = self.skip_lwsp();
            if !r.is_more() {
                return r;
            }
            if !self.peek_is(b'.') {
                return Step::More;
            }
            self.pos += 1;
            out.push(b'.');
            let r = self.skip_lwsp();
            if !r.is_more() {
                return r;
            }
            start = self.pos;
        }
        out.extend_from_slice(self.slice(start, self.pos));
        Step::End
    }

    /// RFC 2045 §5.1 token (dots allowed, as in Dovecot).
    pub fn parse_mime_token(&mut self, out: &mut Vec<u8>) -> Step {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_token_char(b) || b == b'.' {
                self.pos += 1;
                continue;
            }
            out.extend_from_slice(self.slice(start, self.pos));
            return self.skip_lwsp();
        }
        out.extend_from_slice(self.slice(start, self.pos));
        Step::End
    }

    /// RFC 5322 §3.2.4 quoted-string; folding inside is removed, quoted-pairs unescaped.
    pub fn parse_quoted_string(&mut self, out: &mut Vec<u8>) -> Step {
        self.pos += 1;
        let mut start = self.pos;
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    out.extend_from_slice(self.slice(start, self.pos));
                    self.pos += 1;
                    return self.skip_lwsp();
                }
                b'\n' => {
                    let mut end = self.pos;
                    if end > start && self.data.get(end - 1) == Some(&b'\r') {
                        end -= 1;
                    }
                    out.extend_from_slice(self.slice(start, end));
                    start = self.pos + 1;
                }
                b'\\' => {
                    self.pos += 1;
                    if self.at_end() {
                        return Step::Err;
                    }
                    out.extend_from_slice(self.slice(start, self.pos - 1));
                    start = self.pos;
                }
                _ => {}
            }
            self.pos += 1;
        }
        Step::Err
    }

    fn parse_atom_or_dot(&mut self, out: &mut Vec<u8>) -> Step {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_atext(b) || b == b'.' {
                self.pos += 1;
                continue;
            }
            out.extend_from_slice(self.slice(start, self.pos));
            return self.skip_lwsp();
        }
        out.extend_from_slice(self.slice(start, self.pos));
        Step::End
    }

    /// RFC 5322 §3.2.5 phrase (with obs-phrase's dots); words are joined by one space.
    pub fn parse_phrase(&mut self, out: &mut Vec<u8>) -> Step {
        if self.at_end() {
            return Step::End;
        }
        if self.peek_is(b'.') {
            return Step::Err;
        }
        loop {
            let r = if self.peek_is(b'"') {
                self.parse_quoted_string(out)
            } else {
                self.parse_atom_or_dot(out)
            };
            if !r.is_more() {
                return r;
            }
            match self.peek() {
                Some(b) if is_atext(b) || b == b'"' || b == b'.' => out.push(b' '),
                _ => break,
            }
        }
        self.skip_lwsp()
    }

    fn parse_domain_literal(&mut self, out: &mut Vec<u8>) -> Step {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b == b'\\' {
                self.pos += 1;
                if self.at_end() {
                    break;
                }
            } else if b == b']' {
                self.pos += 1;
                out.extend_from_slice(self.slice(start, self.pos));
                return self.skip_lwsp();
            }
            self.pos += 1;
        }
        Step::Err
    }

    /// RFC 5322 §3.4.1 domain after `@` (the cursor is on the `@`).
    pub fn parse_domain(&mut self, out: &mut Vec<u8>) -> Step {
        self.pos += 1;
        if !self.skip_lwsp().is_more() {
            return Step::Err;
        }
        if self.peek_is(b'[') {
            self.parse_domain_literal(out)
        } else {
            self.parse_dot_atom(out)
        }
    }

    /// RFC 2045 §5.1 `type "/" subtype` into `out` as `type/subtype`.
    pub fn parse_content_type(&mut self, out: &mut Vec<u8>) -> Step {
        if !self.skip_lwsp().is_more() {
            return Step::Err;
        }
        if !self.parse_mime_token(out).is_more() {
            return Step::Err;
        }
        if !self.peek_is(b'/') {
            return Step::Err;
        }
        self.pos += 1;
        if !self.skip_lwsp().is_more() {
            return Step::Err;
        }
        out.push(b'/');
        let r = self.parse_mime_token(out);
        // Dovecot 2.3 treats anything but a parameter after the subtype as a broken
        // Content-Type and drops the whole type (`text/plain junk` is `"" ""`).
        if r.is_more() && !self.peek_is(b';') {
            out.clear();
            return Step::Err;
        }
        r
    }

    /// RFC 2045 §5.1 `";" attribute "=" value`. `Ok(None)` at the end of the value.
    pub fn parse_content_param(&mut self) -> Result<Option<RawParam>, BadParam> {
        if self.at_end() {
            return Ok(None);
        }
        if !self.peek_is(b';') {
            return Err(BadParam);
        }
        self.pos += 1;
        if !self.skip_lwsp().is_more() {
            return Err(BadParam);
        }
        let mut key = Vec::new();
        if !self.parse_mime_token(&mut key).is_more() {
            return Err(BadParam);
        }
        if !self.peek_is(b'=') {
            return Err(BadParam);
        }
        self.pos += 1;
        let mut value = Vec::new();
        let r = self.skip_lwsp();
        let r = if !r.is_more() {
            // broken: no value
            r
        } else if self.peek_is(b'"') {
            self.parse_quoted_string(&mut value)
        } else if self.peek_is(b'=') {
            // Workaround for broken input: name==?utf-8?b?...?=
            while let Some(b) = self.peek() {
                if matches!(b, b';' | b' ' | b'\t' | b'\r' | b'\n') {
                    break;
                }
                value.push(b);
                self.pos += 1;
            }
            Step::More
        } else {
            self.parse_mime_token(&mut value)
        };
        if r.is_err() {
            return Err(BadParam);
        }
        Ok(Some((key, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrase_joins_words_and_unquotes() {
        let mut l = Lexer::new(b"\"Foo \\\"Q\\\" Bar\"  Baz <x@y>");
        let mut out = Vec::new();
        assert_eq!(l.parse_phrase(&mut out), Step::More);
        assert_eq!(out, b"Foo \"Q\" Bar Baz");
        assert_eq!(l.peek(), Some(b'<'));
    }

    #[test]
    fn dot_atom_allows_spaces_around_dots() {
        let mut l = Lexer::new(b"a . b.c rest");
        let mut out = Vec::new();
        assert_eq!(l.parse_dot_atom(&mut out), Step::More);
        assert_eq!(out, b"a.b.c");
    }

    #[test]
    fn content_type_and_params() {
        let mut l = Lexer::new(b"text/plain; charset=\"utf-8\"; format=flowed");
        let mut ct = Vec::new();
        assert_eq!(l.parse_content_type(&mut ct), Step::More);
        assert_eq!(ct, b"text/plain");
        let p = l.parse_content_param().unwrap().unwrap();
        assert_eq!(p, (b"charset".to_vec(), b"utf-8".to_vec()));
        let p = l.parse_content_param().unwrap().unwrap();
        assert_eq!(p, (b"format".to_vec(), b"flowed".to_vec()));
        assert_eq!(l.parse_content_param(), Ok(None));
        let mut l = Lexer::new(b"text/plain junk");
        let mut ct = Vec::new();
        assert_eq!(l.parse_content_type(&mut ct), Step::Err);
        assert!(ct.is_empty());
    }

    #[test]
    fn unbalanced_comment_is_an_error() {
        let mut l = Lexer::new(b"(abc");
        assert_eq!(l.skip_lwsp(), Step::Err);
    }
}
