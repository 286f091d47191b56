//! The script commands of an authenticated session (RFC 5804 §2.5-§2.12) run against the
//! store: blocking, called by the server on a blocking thread. Each returns the bytes of
//! its answer and writes its event.

use super::checker::ScriptChecker;
use super::response::{self, Code, Status};
use super::session::Op;
use mailward_event::{
    CommandFailed, Event, Scope, SieveScriptInvalid, SieveScriptName, SieveScriptPut,
    SieveScriptRenamed,
};
use mailward_store::{SieveScriptError, SieveScripts};

/// Runs `op` for `user` and answers it.
pub fn run(
    op: Op,
    user: &str,
    scripts: &dyn SieveScripts,
    checker: &dyn ScriptChecker,
    scope: &Scope<'_>,
) -> Vec<u8> {
    let mut out = Vec::new();
    let command = command_name(&op);
    let result = execute(op, user, scripts, checker, scope, &mut out);
    match result {
        Ok(warnings) if warnings.is_empty() => response::status(&mut out, Status::Ok, None, ""),
        // RFC 5804 §1.3 WARNINGS: done, and the warnings say what may not work.
        Ok(warnings) => response::status(
            &mut out,
            Status::Ok,
            Some(&Code::Warnings),
            &warnings.join("\n"),
        ),
        Err((code, text)) => {
            scope.emit(Event::CommandFailed(CommandFailed {
                command: command.into(),
                code: match &code {
                    Some(c) => format!("NO ({})", c.text()).into(),
                    None => "NO".into(),
                },
                reason: text.clone().into(),
            }));
            out.clear();
            response::status(&mut out, Status::No, code.as_ref(), &text);
        }
    }
    out
}

type Refusal = (Option<Code>, String);

fn execute(
    op: Op,
    user: &str,
    scripts: &dyn SieveScripts,
    checker: &dyn ScriptChecker,
    scope: &Scope<'_>,
    out: &mut Vec<u8>,
) -> Result<Vec<String>, Refusal> {
    match op {
        Op::HaveSpace { name, size } => {
            scripts.check_space(user, &name, size).map_err(refusal)?;
            Ok(Vec::new())
        }
        Op::Put { name, script } => {
            mailward_store::sieve_scripts::validate_name(&name).map_err(refusal)?;
            // The quota first: a script that cannot be stored is not compiled.
            scripts
                .check_space(user, &name, script.len() as u64)
                .map_err(refusal)?;
            let warnings = compile(checker, &script, user, &name, scope)?;
            scripts.put(user, &name, &script).map_err(refusal)?;
            scope.emit(Event::SieveScriptPut(SieveScriptPut {
                user: user.into(),
                name: name.as_str().into(),
                size: script.len() as u64,
            }));
            Ok(warnings)
        }
        Op::Check { script } => {
            let warnings = compile(checker, &script, user, "", scope)?;
            Ok(warnings)
        }
        Op::List => {
            for info in scripts.list(user).map_err(refusal)? {
                // RFC 5804 §2.7: one line per script, `ACTIVE` after the active one.
                response::string(out, info.name.as_bytes());
                if info.active {
                    out.extend_from_slice(b" ACTIVE");
                }
                out.extend_from_slice(b"\r\n");
            }
            Ok(Vec::new())
        }
        Op::SetActive { name } => {
            scripts.set_active(user, name.as_deref()).map_err(refusal)?;
            scope.emit(Event::SieveScriptActivated(SieveScriptName {
                user: user.into(),
                name: name.unwrap_or_default().into(),
            }));
            Ok(Vec::new())
        }
        Op::Get { name } => {
            let bytes = scripts.get(user, &name).map_err(refusal)?;
            // RFC 5804 §2.9: the script as a string, then CRLF, then OK.
            response::literal(out, &bytes);
            out.extend_from_slice(b"\r\n");
            Ok(Vec::new())
        }
        Op::Delete { name } => {
            scripts.delete(user, &name).map_err(refusal)?;
            scope.emit(Event::SieveScriptDeleted(SieveScriptName {
                user: user.into(),
                name: name.into(),
            }));
            Ok(Vec::new())
        }
        Op::Rename { old, new } => {
            scripts.rename(user, &old, &new).map_err(refusal)?;
            scope.emit(Event::SieveScriptRenamed(SieveScriptRenamed {
                user: user.into(),
                name: old.into(),
                new_name: new.into(),
            }));
            Ok(Vec::new())
        }
    }
}

/// RFC 5804 §2.6: a script that does not compile is refused with the reason; a script
/// must be UTF-8 (RFC 5228 §2.1).
fn compile(
    checker: &dyn ScriptChecker,
    script: &[u8],
    user: &str,
    name: &str,
    scope: &Scope<'_>,
) -> Result<Vec<String>, Refusal> {
    let result = match std::str::from_utf8(script) {
        Ok(text) => checker.check(text),
        Err(e) => Err(format!(
            "the script is not UTF-8 (at byte {})",
            e.valid_up_to()
        )),
    };
    result.map_err(|reason| {
        scope.emit(Event::SieveScriptInvalid(SieveScriptInvalid {
            user: user.into(),
            name: name.into(),
            reason: reason.as_str().into(),
        }));
        (None, reason)
    })
}

fn refusal(e: SieveScriptError) -> Refusal {
    let code = match &e {
        SieveScriptError::NoSuchScript(_) => Some(Code::Nonexistent),
        SieveScriptError::Active(_) => Some(Code::Active),
        SieveScriptError::AlreadyExists(_) => Some(Code::AlreadyExists),
        SieveScriptError::TooManyScripts { .. } => Some(Code::QuotaMaxScripts),
        SieveScriptError::TooBig { .. } => Some(Code::QuotaMaxSize),
        SieveScriptError::OverQuota { .. } => Some(Code::Quota),
        SieveScriptError::Io { .. } => Some(Code::TryLater),
        SieveScriptError::InvalidName(_) | SieveScriptError::InvalidAccount(_) => None,
    };
    // An I/O error's path is the server's business, not the client's.
    let text = if e.is_temporary() {
        Scope::protocol(mailward_event::Protocol::ManageSieve).emit(Event::MailboxError(
            mailward_event::Reason::new(e.to_string()),
        ));
        "the script store is unavailable, try again later".to_string()
    } else {
        e.to_string()
    };
    (code, text)
}

fn command_name(op: &Op) -> &'static str {
    match op {
        Op::HaveSpace { .. } => "HAVESPACE",
        Op::Put { .. } => "PUTSCRIPT",
        Op::List => "LISTSCRIPTS",
        Op::SetActive { .. } => "SETACTIVE",
        Op::Get { .. } => "GETSCRIPT",
        Op::Delete { .. } => "DELETESCRIPT",
        Op::Rename { .. } => "RENAMESCRIPT",
        Op::Check { .. } => "CHECKSCRIPT",
    }
}
