//! `mailward sieve check|test`: compile a Sieve script and report where it is wrong, or
//! show what it would do with a message (like Pigeonhole's `sieve-test`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use mailward_sieve::{Action, CompileOptions, Envelope, Environment, Host};

#[derive(Debug, clap::Args)]
pub struct SieveArgs {
    #[command(subcommand)]
    command: SieveCommand,
}

/// One variant per subcommand; the account-side ones (put, list, ...) join here.
#[derive(Debug, clap::Subcommand)]
enum SieveCommand {
    /// Compile a script: silent and exit 0 when it is valid, `FILE:LINE:COL: reason` on
    /// stderr and exit 1 when not.
    Check {
        file: PathBuf,
        /// Allow Pigeonhole's vnd.dovecot.pipe/filter/execute.
        #[arg(long)]
        extprograms: bool,
    },
    /// What a script would do with a message: one line per final action, or with
    /// `--json` `{"actions": [...]}`.
    Test {
        script: PathBuf,
        message: PathBuf,
        /// Envelope sender (MAIL FROM); `<>` is the null sender.
        #[arg(long, default_value = "sender@example.com")]
        from: String,
        /// Envelope recipient (RCPT TO).
        #[arg(long, default_value = "recipient@example.com")]
        to: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Allow Pigeonhole's vnd.dovecot.pipe/filter/execute.
        #[arg(long)]
        extprograms: bool,
    },
}

pub fn run(_config: Option<PathBuf>, args: SieveArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        SieveCommand::Check { file, extprograms } => check(&file, extprograms),
        SieveCommand::Test {
            script,
            message,
            from,
            to,
            json,
            extprograms,
        } => test(&script, &message, &from, &to, json, extprograms),
    }
}

fn options(extprograms: bool) -> CompileOptions {
    CompileOptions {
        extprograms,
        ..CompileOptions::default()
    }
}

fn check(file: &Path, extprograms: bool) -> anyhow::Result<ExitCode> {
    let source = std::fs::read_to_string(file)
        .with_context(|| format!("{}: cannot read", file.display()))?;
    match mailward_sieve::compile(&source, &options(extprograms)) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("{}:{e}", file.display());
            Ok(ExitCode::from(1))
        }
    }
}

/// `mailward sieve test`'s host: includes come from the script's directory; nothing else
/// exists.
struct FileHost {
    dir: PathBuf,
}

impl Host for FileHost {
    fn include_source(&self, name: &str, _global: bool) -> Option<String> {
        if name.contains('/') || name.starts_with('.') {
            return None;
        }
        std::fs::read_to_string(self.dir.join(format!("{name}.sieve"))).ok()
    }
}

fn bare(address: &str) -> String {
    let address = address.trim();
    address
        .strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(address)
        .to_string()
}

fn test(
    script: &Path,
    message: &Path,
    from: &str,
    to: &str,
    json: bool,
    extprograms: bool,
) -> anyhow::Result<ExitCode> {
    let source = std::fs::read_to_string(script)
        .with_context(|| format!("{}: cannot read", script.display()))?;
    let compiled = match mailward_sieve::compile(&source, &options(extprograms)) {
        Ok(compiled) => compiled,
        Err(e) => {
            eprintln!("{}:{e}", script.display());
            return Ok(ExitCode::from(1));
        }
    };
    let raw =
        std::fs::read(message).with_context(|| format!("{}: cannot read", message.display()))?;
    let envelope = Envelope {
        from: bare(from),
        to: bare(to),
        ..Envelope::default()
    };
    let env = Environment {
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
        ..Environment::default()
    };
    let mut host = FileHost {
        dir: script.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let outcome = mailward_sieve::evaluate(&compiled, &raw, &envelope, &env, &mut host);
    for error in &outcome.errors {
        eprintln!("{}: {error}", script.display());
    }
    if json {
        println!("{}", serde_json::json!({ "actions": outcome.actions }));
    } else {
        for action in &outcome.actions {
            println!("{}", describe(action));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(action: &Action) -> String {
    let flags = |flags: &[String]| {
        if flags.is_empty() {
            String::new()
        } else {
            format!(" flags {}", flags.join(" "))
        }
    };
    match action {
        Action::Keep { flags: f, implicit } => format!(
            "keep{}{}",
            if *implicit { " (implicit)" } else { "" },
            flags(f)
        ),
        Action::FileInto {
            mailbox,
            flags: f,
            copy,
            ..
        } => format!(
            "fileinto {mailbox}{}{}",
            if *copy { " :copy" } else { "" },
            flags(f)
        ),
        Action::Redirect { address, copy } => {
            format!("redirect {address}{}", if *copy { " :copy" } else { "" })
        }
        Action::Discard => "discard".into(),
        Action::Reject { reason, extended } => format!(
            "{} {}",
            if *extended { "ereject" } else { "reject" },
            reason.lines().next().unwrap_or("")
        ),
        Action::Vacation { to, seconds, .. } => format!("vacation to {to} every {seconds}s"),
        Action::Notify { method, .. } => format!("notify {method}"),
        Action::Pipe { program, args, .. } => format!("pipe {program} {}", args.join(" ")),
    }
}
