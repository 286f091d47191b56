//! The lexer of RFC 5228 §8.1: identifiers, tags, numbers with quantifiers, quoted and
//! multi-line strings, comments and the special characters. Every token carries its
//! 1-based line and column; every failure is a [`CompileError`].

use crate::CompileError;

/// One lexical token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    Identifier(String),
    /// `:name`, without the colon (RFC 5228 §2.6.2).
    Tag(String),
    Number(u64),
    /// A quoted string or a `text:` multi-line string, escapes and dot-stuffing undone.
    String(String),
    LeftBracket,
    RightBracket,
    LeftParen,
    RightParen,
    LeftBrace,
    RightBrace,
    Comma,
    Semicolon,
}

/// A token and where it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub line: u32,
    pub column: u32,
}

/// Splits `source` into tokens.
pub fn tokenize(source: &str) -> Result<Vec<Token>, CompileError> {
    let mut lexer = Lexer {
        chars: source.chars().collect(),
        pos: 0,
        line: 1,
        column: 1,
    };
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next_token()? {
        tokens.push(token);
    }
    Ok(tokens)
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: u32,
    column: u32,
}

fn error(line: u32, column: u32, message: impl Into<String>) -> CompileError {
    CompileError {
        line,
        column,
        message: message.into(),
    }
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    /// Skips white space and comments (RFC 5228 §2.3: `#` to the end of the line,
    /// `/* ... */` bracketed, not nesting).
    fn skip_blanks(&mut self) -> Result<(), CompileError> {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r' | '\n') => {
                    self.bump();
                }
                Some('#') => {
                    while let Some(c) = self.bump() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                Some('/') if self.peek_at(1) == Some('*') => {
                    let (line, column) = (self.line, self.column);
                    self.bump();
                    self.bump();
                    loop {
                        match self.bump() {
                            None => return Err(error(line, column, "unterminated comment")),
                            Some('*') if self.peek() == Some('/') => {
                                self.bump();
                                break;
                            }
                            Some(_) => {}
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn next_token(&mut self) -> Result<Option<Token>, CompileError> {
        self.skip_blanks()?;
        let (line, column) = (self.line, self.column);
        let Some(c) = self.peek() else {
            return Ok(None);
        };
        let kind = match c {
            '[' => self.single(TokenKind::LeftBracket),
            ']' => self.single(TokenKind::RightBracket),
            '(' => self.single(TokenKind::LeftParen),
            ')' => self.single(TokenKind::RightParen),
            '{' => self.single(TokenKind::LeftBrace),
            '}' => self.single(TokenKind::RightBrace),
            ',' => self.single(TokenKind::Comma),
            ';' => self.single(TokenKind::Semicolon),
            '"' => TokenKind::String(self.quoted_string(line, column)?),
            ':' => {
                self.bump();
                let name = self.identifier();
                if name.is_empty() {
                    return Err(error(line, column, "expected a tag name after ':'"));
                }
                TokenKind::Tag(name)
            }
            '0'..='9' => TokenKind::Number(self.number(line, column)?),
            c if c.is_ascii_alphabetic() || c == '_' => {
                let name = self.identifier();
                if name.eq_ignore_ascii_case("text") && self.peek() == Some(':') {
                    self.bump();
                    TokenKind::String(self.multiline_string(line, column)?)
                } else {
                    TokenKind::Identifier(name)
                }
            }
            other => {
                return Err(error(
                    line,
                    column,
                    format!("unexpected character '{}'", other.escape_default()),
                ));
            }
        };
        Ok(Some(Token { kind, line, column }))
    }

    fn single(&mut self, kind: TokenKind) -> TokenKind {
        self.bump();
        kind
    }

    /// RFC 5228 §8.1 identifier = (ALPHA / "_") *(ALPHA / DIGIT / "_").
    fn identifier(&mut self) -> String {
        let mut name = String::new();
        if let Some(c) = self.peek()
            && (c.is_ascii_alphabetic() || c == '_')
        {
            while let Some(c) = self.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    name.push(c);
                    self.bump();
                } else {
                    break;
                }
            }
        }
        name
    }

    /// RFC 5228 §2.4.1: digits with an optional K, M or G quantifier (powers of 2^10).
    fn number(&mut self, line: u32, column: u32) -> Result<u64, CompileError> {
        let mut value: u64 = 0;
        while let Some(c) = self.peek() {
            let Some(digit) = c.to_digit(10) else { break };
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(digit)))
                .ok_or_else(|| error(line, column, "number too large"))?;
            self.bump();
        }
        let shift = match self.peek() {
            Some('K' | 'k') => 10,
            Some('M' | 'm') => 20,
            Some('G' | 'g') => 30,
            _ => 0,
        };
        if shift > 0 {
            self.bump();
            value = value
                .checked_mul(1 << shift)
                .ok_or_else(|| error(line, column, "number too large"))?;
        }
        if let Some(c) = self.peek()
            && (c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(error(
                line,
                column,
                format!("invalid character '{c}' after a number"),
            ));
        }
        Ok(value)
    }

    /// RFC 5228 §2.4.2: a quoted string; `\"` and `\\` are escapes, any other backslash
    /// is dropped and the character after it kept.
    fn quoted_string(&mut self, line: u32, column: u32) -> Result<String, CompileError> {
        self.bump();
        let mut value = String::new();
        loop {
            match self.bump() {
                None => return Err(error(line, column, "unterminated quoted string")),
                Some('"') => return Ok(value),
                Some('\\') => match self.bump() {
                    None => return Err(error(line, column, "unterminated quoted string")),
                    Some(c) => value.push(c),
                },
                Some('\r') if self.peek() == Some('\n') => {}
                Some('\n') => value.push_str("\r\n"),
                Some(c) => value.push(c),
            }
        }
    }

    /// RFC 5228 §2.4.2 multi-line string: `text:`, blanks and an optional comment to the
    /// end of the line, then lines up to one holding a single `.`; a leading `..` stands
    /// for `.`.
    fn multiline_string(&mut self, line: u32, column: u32) -> Result<String, CompileError> {
        loop {
            match self.peek() {
                Some(' ' | '\t') => {
                    self.bump();
                }
                Some('#') => {
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                Some('\r') if self.peek_at(1) == Some('\n') => {
                    self.bump();
                }
                Some('\n') => {
                    self.bump();
                    break;
                }
                _ => {
                    return Err(error(
                        line,
                        column,
                        "text: must be followed by the end of the line",
                    ));
                }
            }
        }
        let mut value = String::new();
        loop {
            let mut text_line = String::new();
            let mut ended = false;
            while let Some(c) = self.bump() {
                if c == '\n' {
                    ended = true;
                    break;
                }
                text_line.push(c);
            }
            if text_line.ends_with('\r') {
                text_line.pop();
            }
            if text_line == "." {
                return Ok(value);
            }
            if !ended {
                return Err(error(line, column, "unterminated multi-line string"));
            }
            let content = text_line
                .strip_prefix('.')
                .filter(|_| text_line.starts_with(".."));
            value.push_str(content.unwrap_or(&text_line));
            value.push_str("\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<TokenKind> {
        tokenize(source)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn numbers_take_quantifiers() {
        assert_eq!(
            kinds("1K 2M 3G 10"),
            vec![
                TokenKind::Number(1024),
                TokenKind::Number(2 << 20),
                TokenKind::Number(3 << 30),
                TokenKind::Number(10)
            ]
        );
    }

    #[test]
    fn multiline_undoes_dot_stuffing() {
        assert_eq!(
            kinds("text: # c\r\na\r\n..b\r\n.\r\n"),
            vec![TokenKind::String("a\r\n.b\r\n".into())]
        );
    }

    #[test]
    fn escapes_and_comments() {
        assert_eq!(
            kinds("/* x */ \"a\\\"\\\\\\q\" # y\n:is"),
            vec![
                TokenKind::String("a\"\\q".into()),
                TokenKind::Tag("is".into())
            ]
        );
    }

    #[test]
    fn unterminated_string_has_position() {
        let err = tokenize("\n  \"abc").unwrap_err();
        assert_eq!((err.line, err.column), (2, 3));
    }
}
