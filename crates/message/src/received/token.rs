//! Tokens of a `Received:` value: words, comments and commas.
//!
//! RFC 5322 §3.2.2 comments nest and may hold quoted-pairs; `[...]` address literals
//! (RFC 5321 §4.1.3) and `"..."` quoted strings are kept whole inside a word even when they
//! hold spaces, because real headers put `[IPv6:...]`, `[unix socket]` or
//! `[XMail 1.20 ESMTP Server]` there. Every split point is an ASCII byte, so every slice is
//! on a `char` boundary; slicing still goes through `str::get` so nothing can panic.

/// One token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    /// A run of text up to white space, `(`, `)` or `,`, with the byte offset it starts at.
    Word(&'a str, usize),
    /// The inside of a balanced `( ... )` comment (nested comments left in).
    Comment(&'a str),
    /// A `,` outside words and comments.
    Comma,
}

/// The bytes that end a word or open a literal inside one: white space, `(`, `)`, `,`,
/// `[` and `"`. A table, because this test runs for every byte of every word.
static STOPS_WORD: [bool; 256] = {
    let mut table = [false; 256];
    let stops = *b" \t\r\n(),[\"";
    let mut i = 0;
    while i < stops.len() {
        table[stops[i] as usize] = true;
        i += 1;
    }
    table
};

/// Iterator over the tokens of `s`.
#[derive(Clone)]
pub(crate) struct Tokens<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Tokens { s, pos: 0 }
    }

    fn byte(&self, i: usize) -> Option<u8> {
        self.s.as_bytes().get(i).copied()
    }

    /// From `open` (a `(`), returns the end of the comment's inside and the index after its
    /// closing `)` (or the end of input when it never closes).
    fn comment_end(&self, open: usize) -> (usize, usize) {
        let b = self.s.as_bytes();
        let mut depth = 0usize;
        let mut escaped_until = 0usize;
        for i in memchr::memchr3_iter(b'(', b')', b'\\', b.get(open..).unwrap_or_default()) {
            let i = open + i;
            if i < escaped_until {
                continue;
            }
            match b.get(i) {
                Some(b'\\') => escaped_until = i + 2,
                Some(b'(') => depth += 1,
                _ => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return (i, i + 1);
                    }
                }
            }
        }
        (b.len(), b.len())
    }

    /// From `open` (a `[`), the index after the matching `]`, if there is one.
    fn bracket_end(&self, open: usize) -> Option<usize> {
        let b = self.s.as_bytes();
        let mut depth = 0usize;
        for (i, &c) in b.iter().enumerate().skip(open) {
            match c {
                b'[' => depth += 1,
                b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                b'\r' | b'\n' => return None,
                _ => {}
            }
        }
        None
    }

    /// From `open` (a `"`), the index after the closing quote, if there is one.
    fn quote_end(&self, open: usize) -> Option<usize> {
        let b = self.s.as_bytes();
        let mut i = open + 1;
        while let Some(&c) = b.get(i) {
            match c {
                b'\\' => i += 1,
                b'"' => return Some(i + 1),
                b'\r' | b'\n' => return None,
                _ => {}
            }
            i += 1;
        }
        None
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Tok<'a>;

    fn next(&mut self) -> Option<Tok<'a>> {
        loop {
            let c = self.byte(self.pos)?;
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b')' => self.pos += 1,
                b',' => {
                    self.pos += 1;
                    return Some(Tok::Comma);
                }
                b'(' => {
                    let (inner_end, next) = self.comment_end(self.pos);
                    let inner = self.s.get(self.pos + 1..inner_end).unwrap_or("");
                    self.pos = next;
                    return Some(Tok::Comment(inner));
                }
                _ => {
                    let start = self.pos;
                    let b = self.s.as_bytes();
                    let mut i = start;
                    loop {
                        // Jump to the next byte that ends the word or opens a literal.
                        let rest = b.get(i..).unwrap_or_default();
                        i += rest
                            .iter()
                            .position(|&c| STOPS_WORD[usize::from(c)])
                            .unwrap_or(rest.len());
                        match self.byte(i) {
                            Some(b'[') => i = self.bracket_end(i).unwrap_or(i + 1),
                            Some(b'"') => i = self.quote_end(i).unwrap_or(i + 1),
                            _ => break,
                        }
                    }
                    self.pos = i;
                    return Some(Tok::Word(self.s.get(start..i).unwrap_or(""), start));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        Tokens::new(s)
            .map(|t| match t {
                Tok::Word(w, _) => w.to_string(),
                Tok::Comment(c) => format!("({c})"),
                Tok::Comma => ",".to_string(),
            })
            .collect()
    }

    #[test]
    fn splits_words_comments_and_keeps_literals_whole() {
        assert_eq!(
            words("from a.b(1.2.3.4) by [XMail 1.20 ESMTP] x, (c (d) e)"),
            [
                "from",
                "a.b",
                "(1.2.3.4)",
                "by",
                "[XMail 1.20 ESMTP]",
                "x",
                ",",
                "(c (d) e)"
            ]
        );
        assert_eq!(words("[1.2.3.4]:25 \"a b\"c"), ["[1.2.3.4]:25", "\"a b\"c"]);
    }

    #[test]
    fn unbalanced_input_ends_cleanly() {
        assert_eq!(words("(open (never"), ["(open (never)"]);
        assert_eq!(words("[x y"), ["[x", "y"]);
        assert_eq!(words("\"x y"), ["\"x", "y"]);
        assert_eq!(words(") ) a\\"), ["a\\"]);
    }
}
