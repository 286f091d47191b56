//! POP3 command parsing (RFC 1939 §3, §5-§7; RFC 2449 §5; RFC 2595 §4; RFC 5034 §4):
//! one line in, a [`Command`] or a [`ParseError`] out. Pure; the session decides what a
//! command means in its state.

/// A message number as the client wrote it (RFC 1939 §3: message numbers start at 1).
/// Digits too many for a `usize` saturate, so they simply name no message.
pub type MsgNumber = usize;

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// RFC 1939 §7: `USER name`.
    User(String),
    /// RFC 1939 §7: `PASS string`.
    Pass(String),
    /// RFC 1939 §7: `APOP name digest` (not offered: no plaintext secrets are kept).
    Apop,
    /// RFC 5034 §4: `AUTH [mechanism [initial-response]]`.
    Auth {
        mechanism: Option<String>,
        initial: Option<String>,
    },
    /// RFC 2449 §5.
    Capa,
    /// RFC 2595 §4.
    Stls,
    /// RFC 1939 §5.
    Stat,
    List(Option<MsgNumber>),
    Retr(MsgNumber),
    Dele(MsgNumber),
    Noop,
    Rset,
    /// RFC 1939 §7: `TOP msg n`.
    Top(MsgNumber, u64),
    /// RFC 1939 §7: `UIDL [msg]`.
    Uidl(Option<MsgNumber>),
    /// RFC 1939 §5, §6.
    Quit,
}

/// Why a line is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown command")]
    Unknown,
    #[error("empty command")]
    Empty,
    /// RFC 1939 §3: keywords and arguments are printable ASCII (UTF-8 is let through for
    /// user names and passwords); control characters such as NUL or a stray CR are not.
    #[error("invalid characters in command")]
    BadCharacters,
    #[error("syntax: {0}")]
    Syntax(&'static str),
    #[error("invalid message number")]
    BadNumber,
}

/// A decimal number of digits only (RFC 1939 §3 `msg` and `n` arguments): no sign, no
/// spaces. Too large saturates.
fn number(arg: &str) -> Result<u64, ParseError> {
    if arg.is_empty() || !arg.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::BadNumber);
    }
    Ok(arg.parse::<u64>().unwrap_or(u64::MAX))
}

fn msg(arg: &str) -> Result<MsgNumber, ParseError> {
    number(arg).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// Parses a command line (without its line end).
pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
    let text = std::str::from_utf8(line).map_err(|_| ParseError::BadCharacters)?;
    if text.chars().any(|c| c.is_control()) {
        return Err(ParseError::BadCharacters);
    }
    let (keyword, rest) = match text.split_once(' ') {
        Some((k, r)) => (k, r),
        None => (text, ""),
    };
    if keyword.is_empty() {
        return Err(if text.trim().is_empty() {
            ParseError::Empty
        } else {
            ParseError::Unknown
        });
    }
    // RFC 1939 §3: arguments are separated by a single space; extra spaces are tolerated.
    let args: Vec<&str> = rest.split(' ').filter(|a| !a.is_empty()).collect();
    let none = |cmd: Command, syntax: &'static str| {
        if args.is_empty() {
            Ok(cmd)
        } else {
            Err(ParseError::Syntax(syntax))
        }
    };
    let one_msg = |syntax: &'static str| match args.as_slice() {
        [m] => msg(m),
        _ => Err(ParseError::Syntax(syntax)),
    };
    let optional_msg = |syntax: &'static str| match args.as_slice() {
        [] => Ok(None),
        [m] => msg(m).map(Some),
        _ => Err(ParseError::Syntax(syntax)),
    };
    // RFC 1939 §3: keywords are case-insensitive.
    match keyword.to_ascii_uppercase().as_str() {
        "USER" => {
            // User names are addresses; the whole rest of the line is the name.
            let name = rest.trim();
            if name.is_empty() {
                return Err(ParseError::Syntax("USER name"));
            }
            Ok(Command::User(name.to_string()))
        }
        "PASS" => {
            // RFC 1939 §7 (PASS, discussion): PASS has a single argument, so a server may
            // take the rest of the line, spaces included, as the password.
            if rest.is_empty() {
                return Err(ParseError::Syntax("PASS password"));
            }
            Ok(Command::Pass(rest.to_string()))
        }
        "APOP" => Ok(Command::Apop),
        "AUTH" => match args.as_slice() {
            [] => Ok(Command::Auth {
                mechanism: None,
                initial: None,
            }),
            [m] => Ok(Command::Auth {
                mechanism: Some(m.to_ascii_uppercase()),
                initial: None,
            }),
            [m, ir] => Ok(Command::Auth {
                mechanism: Some(m.to_ascii_uppercase()),
                initial: Some((*ir).to_string()),
            }),
            _ => Err(ParseError::Syntax("AUTH mechanism [initial-response]")),
        },
        "CAPA" => none(Command::Capa, "CAPA"),
        "STLS" => none(Command::Stls, "STLS"),
        "STAT" => none(Command::Stat, "STAT"),
        "NOOP" => none(Command::Noop, "NOOP"),
        "RSET" => none(Command::Rset, "RSET"),
        "QUIT" => none(Command::Quit, "QUIT"),
        "LIST" => optional_msg("LIST [msg]").map(Command::List),
        "UIDL" => optional_msg("UIDL [msg]").map(Command::Uidl),
        "RETR" => one_msg("RETR msg").map(Command::Retr),
        "DELE" => one_msg("DELE msg").map(Command::Dele),
        "TOP" => match args.as_slice() {
            [m, n] => Ok(Command::Top(msg(m)?, number(n)?)),
            _ => Err(ParseError::Syntax("TOP msg n")),
        },
        _ => Err(ParseError::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_case_insensitive_and_arguments_parsed() {
        assert_eq!(parse(b"stat"), Ok(Command::Stat));
        assert_eq!(parse(b"List 3"), Ok(Command::List(Some(3))));
        assert_eq!(parse(b"LIST"), Ok(Command::List(None)));
        assert_eq!(parse(b"TOP 1 10"), Ok(Command::Top(1, 10)));
        assert_eq!(parse(b"uidl  2"), Ok(Command::Uidl(Some(2))));
        assert_eq!(
            parse(b"USER bob@example.test"),
            Ok(Command::User("bob@example.test".into()))
        );
        assert_eq!(
            parse(b"PASS two words "),
            Ok(Command::Pass("two words ".into()))
        );
        assert_eq!(
            parse(b"AUTH plain AGJvYgBz"),
            Ok(Command::Auth {
                mechanism: Some("PLAIN".into()),
                initial: Some("AGJvYgBz".into())
            })
        );
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert_eq!(parse(b"RETR"), Err(ParseError::Syntax("RETR msg")));
        assert_eq!(parse(b"RETR x"), Err(ParseError::BadNumber));
        assert_eq!(parse(b"RETR -1"), Err(ParseError::BadNumber));
        assert_eq!(parse(b"RETR +1"), Err(ParseError::BadNumber));
        assert_eq!(parse(b"DELE 1 2"), Err(ParseError::Syntax("DELE msg")));
        assert_eq!(parse(b"TOP 1"), Err(ParseError::Syntax("TOP msg n")));
        assert_eq!(parse(b"TOP 1 x"), Err(ParseError::BadNumber));
        assert_eq!(parse(b"STAT 1"), Err(ParseError::Syntax("STAT")));
        assert_eq!(parse(b"PASS"), Err(ParseError::Syntax("PASS password")));
        assert_eq!(parse(b"USER  "), Err(ParseError::Syntax("USER name")));
        assert_eq!(parse(b"LAST"), Err(ParseError::Unknown));
        assert_eq!(parse(b""), Err(ParseError::Empty));
        assert_eq!(parse(b" STAT"), Err(ParseError::Unknown));
        assert_eq!(parse(b"ST\0AT"), Err(ParseError::BadCharacters));
        assert_eq!(parse(b"STAT\r"), Err(ParseError::BadCharacters));
        assert_eq!(parse(b"\xff\xfe"), Err(ParseError::BadCharacters));
    }

    #[test]
    fn huge_numbers_saturate_instead_of_failing() {
        assert_eq!(
            parse(b"RETR 99999999999999999999999"),
            Ok(Command::Retr(usize::MAX))
        );
        assert_eq!(
            parse(b"TOP 1 99999999999999999999999"),
            Ok(Command::Top(1, u64::MAX))
        );
    }
}
