//! The ManageSieve wire format from the client (RFC 5804 §4): a command is an atom
//! followed by strings (quoted, or literal `{N+}`/`{N}` CRLF octets) and numbers, ended by
//! CRLF. Pure and bounded: a line, a quoted string, a literal and the number of arguments
//! each have a limit, and any bytes give a command, "need more" or an error, never a panic.

/// Limits of one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireLimits {
    /// Octets of a command outside its literals.
    pub max_line: usize,
    /// Octets of the literals of one command together (the script of PUTSCRIPT).
    pub max_literal: usize,
    /// Arguments after the command name.
    pub max_args: usize,
}

impl Default for WireLimits {
    fn default() -> Self {
        WireLimits {
            max_line: 8 * 1024,
            max_literal: 1024 * 1024 + 64 * 1024,
            max_args: 8,
        }
    }
}

/// RFC 5804 §4: quoted strings are at most 1024 octets (longer ones are literals).
pub const MAX_QUOTED: usize = 1024;

/// One element of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A bare word: the command name, or `*` cancelling a SASL exchange.
    Atom(String),
    /// A quoted string or a literal (the bytes as sent).
    String(Vec<u8>),
    /// RFC 5804 §4 `number`: 0 to 4294967295.
    Number(u64),
}

/// A framing error. [`WireError::fatal`] ones end the connection (the rest of the input
/// cannot be framed); the others are answered `NO` and the line skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("line too long")]
    LineTooLong,
    #[error("literal too big ({0} octets)")]
    LiteralTooBig(u64),
    #[error("quoted string too long")]
    QuotedTooLong,
    #[error("too many arguments")]
    TooManyArguments,
    #[error("syntax error: {0}")]
    Syntax(&'static str),
}

impl WireError {
    /// True when the rest of the input cannot be trusted to be framed (a literal's octets
    /// would be read as commands, or a line has no end in sight).
    pub fn fatal(&self) -> bool {
        matches!(self, WireError::LineTooLong | WireError::LiteralTooBig(_))
    }
}

/// The result of looking at buffered input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A whole command and the octets it took (its CRLF included).
    Command(Vec<Token>, usize),
    /// A bad line and the octets to skip (through its CRLF).
    Bad(WireError, usize),
    /// Not a whole command yet.
    Incomplete,
}

/// Parses the first command in `buf`. A fatal error is returned as `Err`.
pub fn parse(buf: &[u8], limits: &WireLimits) -> Result<Parsed, WireError> {
    let mut p = Parser {
        buf,
        pos: 0,
        line_octets: 0,
        literal_octets: 0,
        limits,
    };
    match p.command() {
        Ok(Some(tokens)) => Ok(Parsed::Command(tokens, p.pos)),
        Ok(None) => {
            if p.line_octets > limits.max_line {
                return Err(WireError::LineTooLong);
            }
            Ok(Parsed::Incomplete)
        }
        Err(e) if e.fatal() => Err(e),
        Err(e) => match skip_line(buf, p.pos, limits)? {
            Some(end) => Ok(Parsed::Bad(e, end)),
            None => Ok(Parsed::Incomplete),
        },
    }
}

/// The offset after the CRLF that ends the line at or after `from`, if buffered. A bad
/// line is skipped only once it is whole, so its tail is not read as a command; literals
/// on it are not honoured (their octets would be taken for commands, which the parser
/// then refuses one by one).
fn skip_line(buf: &[u8], from: usize, limits: &WireLimits) -> Result<Option<usize>, WireError> {
    let rest = buf.get(from..).unwrap_or_default();
    match memchr_crlf(rest) {
        Some(i) => Ok(Some(from + i + 2)),
        None if buf.len() > limits.max_line => Err(WireError::LineTooLong),
        None => Ok(None),
    }
}

fn memchr_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Octets of the line outside literals.
    line_octets: usize,
    /// Octets of the literals so far.
    literal_octets: u64,
    limits: &'a WireLimits,
}

type Step<T> = Result<Option<T>, WireError>;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn bump(&mut self) {
        self.pos += 1;
        self.line_octets += 1;
    }

    fn check_line(&self) -> Result<(), WireError> {
        if self.line_octets > self.limits.max_line {
            return Err(WireError::LineTooLong);
        }
        Ok(())
    }

    fn command(&mut self) -> Step<Vec<Token>> {
        let mut tokens = Vec::new();
        loop {
            self.check_line()?;
            let Some(b) = self.peek() else {
                return Ok(None);
            };
            match b {
                b'\r' => {
                    let Some(next) = self.buf.get(self.pos + 1) else {
                        return Ok(None);
                    };
                    if *next != b'\n' {
                        return Err(WireError::Syntax("CR without LF"));
                    }
                    if tokens.is_empty() {
                        return Err(WireError::Syntax("empty line"));
                    }
                    self.pos += 2;
                    return Ok(Some(tokens));
                }
                b'\n' => return Err(WireError::Syntax("LF without CR")),
                b' ' if !tokens.is_empty() => {
                    self.bump();
                    // RFC 5804 §4: one SP between arguments; a trailing or doubled space is
                    // tolerated (some clients send one before CRLF).
                    continue;
                }
                _ => {}
            }
            if tokens.len() > self.limits.max_args {
                return Err(WireError::TooManyArguments);
            }
            let token = match b {
                b'"' => self.quoted()?,
                b'{' => self.literal()?,
                b'0'..=b'9' if !tokens.is_empty() => self.number()?,
                _ => self.atom()?,
            };
            match token {
                Some(t) => tokens.push(t),
                None => return Ok(None),
            }
            // A token ends at SP or CRLF.
            match self.peek() {
                None => return Ok(None),
                Some(b' ' | b'\r') => {}
                Some(_) => return Err(WireError::Syntax("expected a space")),
            }
        }
    }

    fn atom(&mut self) -> Step<Token> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b == b' ' || b == b'\r' || b == b'\n' {
                break;
            }
            // An atom is printable ASCII other than the string delimiters.
            if !b.is_ascii_graphic() || b == b'"' || b == b'{' || b == b'}' {
                return Err(WireError::Syntax("invalid character in a command name"));
            }
            self.bump();
            self.check_line()?;
        }
        if self.peek().is_none() {
            return Ok(None);
        }
        let atom = self.buf.get(start..self.pos).unwrap_or_default();
        Ok(Some(Token::Atom(
            String::from_utf8_lossy(atom).into_owned(),
        )))
    }

    fn number(&mut self) -> Step<Token> {
        let mut n: u64 = 0;
        while let Some(b) = self.peek() {
            if !b.is_ascii_digit() {
                break;
            }
            n = n * 10 + u64::from(b - b'0');
            // RFC 5804 §4: number < 4,294,967,296.
            if n > u64::from(u32::MAX) {
                return Err(WireError::Syntax("number too big"));
            }
            self.bump();
        }
        if self.peek().is_none() {
            return Ok(None);
        }
        Ok(Some(Token::Number(n)))
    }

    /// RFC 5804 §4: `quoted = DQUOTE *QUOTED-CHAR DQUOTE`, `\` escapes only `"` and `\`;
    /// no CR, LF or NUL inside.
    fn quoted(&mut self) -> Step<Token> {
        self.bump();
        let mut out = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Ok(None);
            };
            self.bump();
            self.check_line()?;
            match b {
                b'"' => return Ok(Some(Token::String(out))),
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Ok(None);
                    };
                    if e != b'"' && e != b'\\' {
                        return Err(WireError::Syntax("invalid escape in a quoted string"));
                    }
                    self.bump();
                    out.push(e);
                }
                b'\r' | b'\n' | 0 => {
                    return Err(WireError::Syntax("CR, LF or NUL in a quoted string"));
                }
                _ => out.push(b),
            }
            if out.len() > MAX_QUOTED {
                return Err(WireError::QuotedTooLong);
            }
        }
    }

    /// RFC 5804 §4: `literal-c2s = "{" number "+}" CRLF *OCTET`; the synchronizing form
    /// `{N}` is accepted too (ManageSieve has no continuation, so both are read at once).
    fn literal(&mut self) -> Step<Token> {
        self.bump();
        let mut n: u64 = 0;
        let mut digits = 0;
        while let Some(b) = self.peek() {
            if !b.is_ascii_digit() {
                break;
            }
            n = n.saturating_mul(10).saturating_add(u64::from(b - b'0'));
            digits += 1;
            if digits > 10 {
                return Err(WireError::Syntax("literal length too long"));
            }
            self.bump();
        }
        if self.peek().is_none() {
            return Ok(None);
        }
        if digits == 0 {
            return Err(WireError::Syntax("literal without a length"));
        }
        if self.peek() == Some(b'+') {
            self.bump();
        }
        match (
            self.peek(),
            self.buf.get(self.pos + 1),
            self.buf.get(self.pos + 2),
        ) {
            (None, _, _) | (Some(b'}'), None, _) | (Some(b'}'), Some(b'\r'), None) => {
                return Ok(None);
            }
            (Some(b'}'), Some(b'\r'), Some(b'\n')) => {}
            _ => return Err(WireError::Syntax("literal length must end in } CRLF")),
        }
        self.literal_octets = self.literal_octets.saturating_add(n);
        if self.literal_octets > self.limits.max_literal as u64 {
            return Err(WireError::LiteralTooBig(n));
        }
        self.pos += 3;
        self.line_octets += 3;
        let len = usize::try_from(n).map_err(|_| WireError::LiteralTooBig(n))?;
        let Some(bytes) = self.buf.get(self.pos..self.pos + len) else {
            return Ok(None);
        };
        self.pos += len;
        Ok(Some(Token::String(bytes.to_vec())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(input: &[u8]) -> Vec<Token> {
        match parse(input, &WireLimits::default()) {
            Ok(Parsed::Command(t, n)) => {
                assert_eq!(n, input.len());
                t
            }
            other => panic!("{other:?}"),
        }
    }

    fn s(v: &str) -> Token {
        Token::String(v.as_bytes().to_vec())
    }

    #[test]
    fn commands_with_quoted_literal_and_number_arguments() {
        assert_eq!(cmd(b"LOGOUT\r\n"), [Token::Atom("LOGOUT".into())]);
        assert_eq!(
            cmd(b"PUTSCRIPT \"my \\\"s\\\\\" {5+}\r\nkeep;\r\n"),
            [Token::Atom("PUTSCRIPT".into()), s("my \"s\\"), s("keep;")]
        );
        assert_eq!(
            cmd(b"HAVESPACE \"x\" 12345\r\n"),
            [
                Token::Atom("HAVESPACE".into()),
                s("x"),
                Token::Number(12345)
            ]
        );
        assert_eq!(
            cmd(b"PUTSCRIPT {1}\r\na {0+}\r\n\r\n"),
            [Token::Atom("PUTSCRIPT".into()), s("a"), s("")]
        );
    }

    #[test]
    fn partial_input_asks_for_more() {
        let full = b"PUTSCRIPT \"a\" {5+}\r\nkeep;\r\n";
        for cut in 0..full.len() {
            assert_eq!(
                parse(&full[..cut], &WireLimits::default()),
                Ok(Parsed::Incomplete),
                "{cut}"
            );
        }
    }

    #[test]
    fn an_oversized_literal_is_fatal_before_its_octets_arrive() {
        let limits = WireLimits {
            max_literal: 10,
            ..WireLimits::default()
        };
        assert_eq!(
            parse(b"PUTSCRIPT \"a\" {11+}\r\n", &limits),
            Err(WireError::LiteralTooBig(11))
        );
        let huge = b"PUTSCRIPT \"a\" {99999999999999999999+}\r\n";
        assert_eq!(
            parse(huge, &limits),
            Ok(Parsed::Bad(
                WireError::Syntax("literal length too long"),
                huge.len()
            ))
        );
    }

    #[test]
    fn a_line_without_end_is_refused_at_the_limit() {
        let limits = WireLimits {
            max_line: 100,
            ..WireLimits::default()
        };
        let long = vec![b'A'; 200];
        assert_eq!(parse(&long, &limits), Err(WireError::LineTooLong));
        let mut quoted = b"X \"".to_vec();
        quoted.extend(vec![b'a'; 200]);
        assert_eq!(parse(&quoted, &limits), Err(WireError::LineTooLong));
    }

    #[test]
    fn bad_lines_are_skipped_whole() {
        let limits = WireLimits::default();
        assert_eq!(
            parse(b"X \"a\nb\"\r\nNOOP\r\n", &limits),
            Ok(Parsed::Bad(
                WireError::Syntax("CR, LF or NUL in a quoted string"),
                9
            ))
        );
        assert_eq!(
            parse(b"\r\n", &limits),
            Ok(Parsed::Bad(WireError::Syntax("empty line"), 2))
        );
        let many = b"X 1 2 3 4 5 6 7 8 9 10\r\n";
        assert_eq!(
            parse(many, &limits),
            Ok(Parsed::Bad(WireError::TooManyArguments, many.len()))
        );
        let mut long_quoted = b"X \"".to_vec();
        long_quoted.extend(vec![b'a'; 1100]);
        long_quoted.extend(b"\"\r\n");
        assert!(matches!(
            parse(&long_quoted, &limits),
            Ok(Parsed::Bad(WireError::QuotedTooLong, _))
        ));
    }

    proptest::proptest! {
        /// Any input is a command, a bad line, "more", or a fatal error: never a panic,
        /// and what is consumed is within the input.
        #[test]
        fn any_bytes_are_framed_or_refused(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let limits = WireLimits { max_line: 200, max_literal: 50, max_args: 4 };
            match parse(&raw, &limits) {
                Ok(Parsed::Command(_, n)) | Ok(Parsed::Bad(_, n)) => {
                    proptest::prop_assert!(n > 0 && n <= raw.len());
                }
                Ok(Parsed::Incomplete) => proptest::prop_assert!(raw.len() <= 200 + 50 * 5 + 16),
                Err(e) => proptest::prop_assert!(e.fatal()),
            }
        }
    }
}
