//! Parsing a script into a syntax tree (RFC 5228 §8), with the size and nesting limits of
//! [`crate::Limits`].

pub mod ast;
pub mod lexer;

use crate::{CompileError, Limits};
use ast::{Argument, CommandNode, Located, TestNode};
use lexer::{Token, TokenKind};

/// Parses `source` into its commands.
pub fn parse(source: &str, limits: &Limits) -> Result<Vec<CommandNode>, CompileError> {
    if source.len() > limits.max_script_size {
        return Err(CompileError {
            line: 1,
            column: 1,
            message: format!(
                "script is {} bytes, more than the limit of {}",
                source.len(),
                limits.max_script_size
            ),
        });
    }
    let tokens = lexer::tokenize(source)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        max_nesting: limits.max_nesting,
    };
    let commands = parser.commands(0)?;
    if let Some(token) = parser.peek() {
        return Err(parser.error_at(token, "unexpected '}'"));
    }
    Ok(commands)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    max_nesting: usize,
}

fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Identifier(name) => format!("identifier '{name}'"),
        TokenKind::Tag(name) => format!("tag ':{name}'"),
        TokenKind::Number(n) => format!("number {n}"),
        TokenKind::String(_) => "string".into(),
        TokenKind::LeftBracket => "'['".into(),
        TokenKind::RightBracket => "']'".into(),
        TokenKind::LeftParen => "'('".into(),
        TokenKind::RightParen => "')'".into(),
        TokenKind::LeftBrace => "'{'".into(),
        TokenKind::RightBrace => "'}'".into(),
        TokenKind::Comma => "','".into(),
        TokenKind::Semicolon => "';'".into(),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        if token.is_some() {
            self.pos += 1;
        }
        token
    }

    fn error_at(&self, token: &Token, message: impl Into<String>) -> CompileError {
        CompileError {
            line: token.line,
            column: token.column,
            message: message.into(),
        }
    }

    fn error_at_end(&self, message: impl Into<String>) -> CompileError {
        let (line, column) = self
            .tokens
            .last()
            .map(|t| (t.line, t.column))
            .unwrap_or((1, 1));
        CompileError {
            line,
            column,
            message: message.into(),
        }
    }

    fn nesting(&self, depth: usize) -> Result<(), CompileError> {
        if depth > self.max_nesting {
            let err = match self.peek() {
                Some(token) => self.error_at(token, "nesting too deep"),
                None => self.error_at_end("nesting too deep"),
            };
            return Err(err);
        }
        Ok(())
    }

    /// commands = *command, up to a `}` or the end.
    fn commands(&mut self, depth: usize) -> Result<Vec<CommandNode>, CompileError> {
        self.nesting(depth)?;
        let mut commands = Vec::new();
        while let Some(token) = self.peek() {
            if token.kind == TokenKind::RightBrace {
                break;
            }
            commands.push(self.command(depth)?);
        }
        Ok(commands)
    }

    /// command = identifier arguments (";" / block).
    fn command(&mut self, depth: usize) -> Result<CommandNode, CompileError> {
        let Some(token) = self.next() else {
            return Err(self.error_at_end("expected a command"));
        };
        let TokenKind::Identifier(name) = &token.kind else {
            return Err(self.error_at(
                &token,
                format!("expected a command, found {}", describe(&token.kind)),
            ));
        };
        let (arguments, tests) = self.arguments(depth)?;
        let Some(end) = self.next() else {
            return Err(self.error_at_end(format!("missing ';' after command '{name}'")));
        };
        let block = match end.kind {
            TokenKind::Semicolon => None,
            TokenKind::LeftBrace => {
                let block = self.commands(depth + 1)?;
                match self.next() {
                    Some(Token {
                        kind: TokenKind::RightBrace,
                        ..
                    }) => {}
                    _ => return Err(self.error_at(&end, "block is not closed with '}'")),
                }
                Some(block)
            }
            ref other => {
                return Err(self.error_at(
                    &end,
                    format!(
                        "expected ';' or a block after command '{name}', found {}",
                        describe(other)
                    ),
                ));
            }
        };
        Ok(CommandNode {
            name: name.to_ascii_lowercase(),
            arguments,
            tests,
            block,
            line: token.line,
            column: token.column,
        })
    }

    /// arguments = *argument [ test / test-list ].
    fn arguments(
        &mut self,
        depth: usize,
    ) -> Result<(Vec<Located<Argument>>, Vec<TestNode>), CompileError> {
        let mut arguments = Vec::new();
        loop {
            let Some(token) = self.peek().cloned() else {
                return Ok((arguments, Vec::new()));
            };
            let value = match token.kind {
                TokenKind::Tag(name) => {
                    self.pos += 1;
                    Argument::Tag(name.to_ascii_lowercase())
                }
                TokenKind::Number(n) => {
                    self.pos += 1;
                    Argument::Number(n)
                }
                TokenKind::String(s) => {
                    self.pos += 1;
                    Argument::Strings {
                        values: vec![s],
                        list: false,
                    }
                }
                TokenKind::LeftBracket => {
                    self.pos += 1;
                    Argument::Strings {
                        values: self.string_list(&token)?,
                        list: true,
                    }
                }
                TokenKind::LeftParen => {
                    let tests = self.test_list(depth + 1)?;
                    return Ok((arguments, tests));
                }
                TokenKind::Identifier(_) => {
                    let test = self.test(depth + 1)?;
                    return Ok((arguments, vec![test]));
                }
                _ => return Ok((arguments, Vec::new())),
            };
            arguments.push(Located {
                value,
                line: token.line,
                column: token.column,
            });
        }
    }

    /// string-list = "[" string *("," string) "]".
    fn string_list(&mut self, open: &Token) -> Result<Vec<String>, CompileError> {
        let mut values = Vec::new();
        loop {
            match self.next() {
                Some(Token {
                    kind: TokenKind::String(s),
                    ..
                }) => values.push(s),
                Some(other) => {
                    return Err(self.error_at(
                        &other,
                        format!(
                            "expected a string in a list, found {}",
                            describe(&other.kind)
                        ),
                    ));
                }
                None => return Err(self.error_at(open, "string list is not closed with ']'")),
            }
            match self.next() {
                Some(Token {
                    kind: TokenKind::Comma,
                    ..
                }) => {}
                Some(Token {
                    kind: TokenKind::RightBracket,
                    ..
                }) => return Ok(values),
                Some(other) => {
                    return Err(self.error_at(
                        &other,
                        format!(
                            "expected ',' or ']' in a string list, found {}",
                            describe(&other.kind)
                        ),
                    ));
                }
                None => return Err(self.error_at(open, "string list is not closed with ']'")),
            }
        }
    }

    /// test-list = "(" test *("," test) ")".
    fn test_list(&mut self, depth: usize) -> Result<Vec<TestNode>, CompileError> {
        self.nesting(depth)?;
        let Some(open) = self.next() else {
            return Err(self.error_at_end("expected '('"));
        };
        let mut tests = Vec::new();
        loop {
            tests.push(self.test(depth)?);
            match self.next() {
                Some(Token {
                    kind: TokenKind::Comma,
                    ..
                }) => {}
                Some(Token {
                    kind: TokenKind::RightParen,
                    ..
                }) => return Ok(tests),
                Some(other) => {
                    return Err(self.error_at(
                        &other,
                        format!(
                            "expected ',' or ')' in a test list, found {}",
                            describe(&other.kind)
                        ),
                    ));
                }
                None => return Err(self.error_at(&open, "test list is not closed with ')'")),
            }
        }
    }

    /// test = identifier arguments.
    fn test(&mut self, depth: usize) -> Result<TestNode, CompileError> {
        self.nesting(depth)?;
        let Some(token) = self.next() else {
            return Err(self.error_at_end("expected a test"));
        };
        let TokenKind::Identifier(name) = &token.kind else {
            return Err(self.error_at(
                &token,
                format!("expected a test, found {}", describe(&token.kind)),
            ));
        };
        let (arguments, tests) = self.arguments(depth)?;
        Ok(TestNode {
            name: name.to_ascii_lowercase(),
            arguments,
            tests,
            line: token.line,
            column: token.column,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_if_with_test_list_and_block() {
        let commands = parse(
            "if anyof (header :is \"x\" \"y\", true) { keep; } else { discard; }",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(commands.len(), 2);
        assert_eq!(commands[0].tests[0].name, "anyof");
        assert_eq!(commands[0].tests[0].tests.len(), 2);
        assert_eq!(commands[1].name, "else");
    }

    #[test]
    fn nesting_limit_is_an_error() {
        let limits = Limits {
            max_nesting: 3,
            ..Limits::default()
        };
        let source = "if true { if true { if true { if true { keep; } } } }";
        assert!(parse(source, &limits).is_err());
    }

    #[test]
    fn missing_semicolon_names_the_command() {
        let err = parse("keep\n", &Limits::default()).unwrap_err();
        assert!(err.message.contains("keep"), "{err}");
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text parses or is refused with a position inside it; never a panic.
        #[test]
        fn never_panics(source in "\\PC{0,200}") {
            if let Err(e) = parse(&source, &Limits::default()) {
                prop_assert!(e.line >= 1 && e.column >= 1);
            }
        }

        /// Scripts made of Sieve's own tokens, nested at random, compile or fail cleanly.
        #[test]
        fn token_soup_compiles_or_fails_cleanly(parts in proptest::collection::vec(
            prop_oneof![
                Just("if"), Just("anyof"), Just("("), Just(")"), Just("{"), Just("}"),
                Just("["), Just("]"), Just(","), Just(";"), Just(":is"), Just("\"x\""),
                Just("header"), Just("keep"), Just("text:\n.\n"), Just("10K"), Just("not"),
            ], 0..60)) {
            let source = parts.join(" ");
            let _ = crate::compile(&source, &crate::CompileOptions::default());
        }
    }
}
