//! Typed ManageSieve commands (RFC 5804 §2) from the tokens of a line.

use super::wire::Token;

/// One client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// §2.1: mechanism and optional initial response.
    Authenticate {
        mechanism: String,
        initial: Option<Vec<u8>>,
    },
    /// §2.2.
    StartTls,
    /// §2.3.
    Logout,
    /// §2.4.
    Capability,
    /// §2.5.
    HaveSpace { name: String, size: u64 },
    /// §2.6.
    PutScript { name: String, script: Vec<u8> },
    /// §2.7.
    ListScripts,
    /// §2.8: an empty name deactivates.
    SetActive { name: String },
    /// §2.9.
    GetScript { name: String },
    /// §2.10.
    DeleteScript { name: String },
    /// §2.11.1.
    RenameScript { old: String, new: String },
    /// §2.12.
    CheckScript { script: Vec<u8> },
    /// §2.13.
    Noop { tag: Option<Vec<u8>> },
    /// §2.14.1.
    Unauthenticate,
}

impl Command {
    /// The command's name for events.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Authenticate { .. } => "AUTHENTICATE",
            Command::StartTls => "STARTTLS",
            Command::Logout => "LOGOUT",
            Command::Capability => "CAPABILITY",
            Command::HaveSpace { .. } => "HAVESPACE",
            Command::PutScript { .. } => "PUTSCRIPT",
            Command::ListScripts => "LISTSCRIPTS",
            Command::SetActive { .. } => "SETACTIVE",
            Command::GetScript { .. } => "GETSCRIPT",
            Command::DeleteScript { .. } => "DELETESCRIPT",
            Command::RenameScript { .. } => "RENAMESCRIPT",
            Command::CheckScript { .. } => "CHECKSCRIPT",
            Command::Noop { .. } => "NOOP",
            Command::Unauthenticate => "UNAUTHENTICATE",
        }
    }
}

/// Why a line is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command")]
    Unknown,
    #[error("wrong arguments for {0}")]
    Arguments(&'static str),
    /// RFC 5804 §1.6: script names are UTF-8.
    #[error("a name is not UTF-8")]
    NotUtf8,
}

/// Reads a command from its tokens (the first is the name, any case: RFC 5804 §4).
pub fn parse(tokens: Vec<Token>) -> Result<Command, CommandError> {
    let mut it = tokens.into_iter();
    let Some(Token::Atom(name)) = it.next() else {
        return Err(CommandError::Unknown);
    };
    let args: Vec<Token> = it.collect();
    let name = name.to_ascii_uppercase();
    let cmd = match (name.as_str(), args.as_slice()) {
        ("AUTHENTICATE", [Token::String(m)]) => Command::Authenticate {
            mechanism: utf8(m)?.to_ascii_uppercase(),
            initial: None,
        },
        ("AUTHENTICATE", [Token::String(m), Token::String(ir)]) => Command::Authenticate {
            mechanism: utf8(m)?.to_ascii_uppercase(),
            initial: Some(ir.clone()),
        },
        ("STARTTLS", []) => Command::StartTls,
        ("LOGOUT", []) => Command::Logout,
        ("CAPABILITY", []) => Command::Capability,
        ("HAVESPACE", [Token::String(n), Token::Number(size)]) => Command::HaveSpace {
            name: utf8(n)?,
            size: *size,
        },
        ("PUTSCRIPT", [Token::String(n), Token::String(s)]) => Command::PutScript {
            name: utf8(n)?,
            script: s.clone(),
        },
        ("LISTSCRIPTS", []) => Command::ListScripts,
        ("SETACTIVE", [Token::String(n)]) => Command::SetActive { name: utf8(n)? },
        ("GETSCRIPT", [Token::String(n)]) => Command::GetScript { name: utf8(n)? },
        ("DELETESCRIPT", [Token::String(n)]) => Command::DeleteScript { name: utf8(n)? },
        ("RENAMESCRIPT", [Token::String(o), Token::String(n)]) => Command::RenameScript {
            old: utf8(o)?,
            new: utf8(n)?,
        },
        ("CHECKSCRIPT", [Token::String(s)]) => Command::CheckScript { script: s.clone() },
        ("NOOP", []) => Command::Noop { tag: None },
        ("NOOP", [Token::String(t)]) => Command::Noop {
            tag: Some(t.clone()),
        },
        ("UNAUTHENTICATE", []) => Command::Unauthenticate,
        (
            "AUTHENTICATE" | "STARTTLS" | "LOGOUT" | "CAPABILITY" | "HAVESPACE" | "PUTSCRIPT"
            | "LISTSCRIPTS" | "SETACTIVE" | "GETSCRIPT" | "DELETESCRIPT" | "RENAMESCRIPT"
            | "CHECKSCRIPT" | "NOOP" | "UNAUTHENTICATE",
            _,
        ) => return Err(CommandError::Arguments(static_name(&name))),
        _ => return Err(CommandError::Unknown),
    };
    Ok(cmd)
}

fn static_name(name: &str) -> &'static str {
    const NAMES: [&str; 14] = [
        "AUTHENTICATE",
        "STARTTLS",
        "LOGOUT",
        "CAPABILITY",
        "HAVESPACE",
        "PUTSCRIPT",
        "LISTSCRIPTS",
        "SETACTIVE",
        "GETSCRIPT",
        "DELETESCRIPT",
        "RENAMESCRIPT",
        "CHECKSCRIPT",
        "NOOP",
        "UNAUTHENTICATE",
    ];
    NAMES.into_iter().find(|n| *n == name).unwrap_or("?")
}

fn utf8(b: &[u8]) -> Result<String, CommandError> {
    String::from_utf8(b.to_vec()).map_err(|_| CommandError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Token {
        Token::String(v.as_bytes().to_vec())
    }

    #[test]
    fn names_are_case_insensitive_and_arguments_checked() {
        assert_eq!(
            parse(vec![Token::Atom("putScript".into()), s("a"), s("keep;")]),
            Ok(Command::PutScript {
                name: "a".into(),
                script: b"keep;".to_vec()
            })
        );
        assert_eq!(
            parse(vec![Token::Atom("SETACTIVE".into()), s("")]),
            Ok(Command::SetActive {
                name: String::new()
            })
        );
        assert_eq!(
            parse(vec![Token::Atom("PUTSCRIPT".into()), s("a")]),
            Err(CommandError::Arguments("PUTSCRIPT"))
        );
        assert_eq!(
            parse(vec![Token::Atom("HAVESPACE".into()), s("a"), s("1")]),
            Err(CommandError::Arguments("HAVESPACE"))
        );
        assert_eq!(
            parse(vec![Token::Atom("FOO".into())]),
            Err(CommandError::Unknown)
        );
        assert_eq!(
            parse(vec![
                Token::Atom("GETSCRIPT".into()),
                Token::String(vec![0xff])
            ]),
            Err(CommandError::NotUtf8)
        );
    }
}
