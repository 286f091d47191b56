//! `mailward sieve put|list|get|activate|del|rename`: an administrator manages an
//! account's Sieve scripts in the data directory, as the user would over ManageSieve
//! (the same store, the same quotas and the same compiler check).

use crate::cmd::account::open_store;
use anyhow::{Context, bail};
use mailward_event::{Event, Scope, SieveScriptName, SieveScriptPut, SieveScriptRenamed};
use mailward_store::{DirectoryStore, SieveScriptError, SieveScripts};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The account-side subcommands of `mailward sieve`.
#[derive(Debug, clap::Subcommand)]
pub enum SieveAdminCommand {
    /// Store a script for an account (`-` reads standard input); it must compile. It
    /// replaces a script of that name, and stays active if it was.
    Put {
        account: String,
        name: String,
        file: PathBuf,
        /// Also make it the active script.
        #[arg(long)]
        activate: bool,
    },
    /// An account's scripts: name, size, and `active` for the active one.
    List {
        account: String,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print a script.
    Get { account: String, name: String },
    /// Make a script the active one; `--none` (or an empty name) deactivates.
    Activate {
        account: String,
        #[arg(required_unless_present = "none")]
        name: Option<String>,
        #[arg(long, conflicts_with = "name")]
        none: bool,
    },
    /// Delete a script (not the active one: deactivate it first).
    Del { account: String, name: String },
    /// Rename a script (the active one stays active).
    Rename {
        account: String,
        old: String,
        new: String,
    },
}

pub fn run(config: Option<PathBuf>, cmd: SieveAdminCommand) -> anyhow::Result<ExitCode> {
    let (loaded, store) = open_store(config.as_deref())?;
    let scripts = store.sieve_scripts(loaded.config.sieve.quota());
    let account = |address: &str| -> anyhow::Result<String> {
        match store.account(address)? {
            Some(a) => Ok(a.address),
            None => bail!("no such account {address}"),
        }
    };
    let scope = Scope::service();
    match cmd {
        SieveAdminCommand::Put {
            account: a,
            name,
            file,
            activate,
        } => {
            let user = account(&a)?;
            let bytes = read_script(&file)?;
            let text = std::str::from_utf8(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{}: not UTF-8 (at byte {})",
                    file.display(),
                    e.valid_up_to()
                )
            })?;
            if let Err(e) =
                mailward_sieve::compile(text, &mailward_sieve::CompileOptions::default())
            {
                bail!("{}:{e}", file.display());
            }
            scripts.put(&user, &name, &bytes).map_err(explain)?;
            scope.emit(Event::SieveScriptPut(SieveScriptPut {
                user: user.as_str().into(),
                name: name.as_str().into(),
                size: bytes.len() as u64,
            }));
            if activate {
                scripts.set_active(&user, Some(&name)).map_err(explain)?;
                activated(&scope, &user, &name);
            }
        }
        SieveAdminCommand::List { account: a, json } => {
            let user = account(&a)?;
            let mut out = std::io::stdout().lock();
            for info in scripts.list(&user).map_err(explain)? {
                if json {
                    let line = serde_json::json!({
                        "name": info.name, "size": info.size, "active": info.active,
                    });
                    writeln!(out, "{line}")?;
                } else {
                    let mark = if info.active { "  active" } else { "" };
                    writeln!(out, "{}\t{}{mark}", info.name, info.size)?;
                }
            }
        }
        SieveAdminCommand::Get { account: a, name } => {
            let user = account(&a)?;
            let bytes = scripts.get(&user, &name).map_err(explain)?;
            std::io::stdout().lock().write_all(&bytes)?;
        }
        SieveAdminCommand::Activate {
            account: a,
            name,
            none,
        } => {
            let user = account(&a)?;
            let name = name.filter(|n| !n.is_empty() && !none);
            scripts
                .set_active(&user, name.as_deref())
                .map_err(explain)?;
            activated(&scope, &user, name.as_deref().unwrap_or(""));
        }
        SieveAdminCommand::Del { account: a, name } => {
            let user = account(&a)?;
            scripts.delete(&user, &name).map_err(explain)?;
            scope.emit(Event::SieveScriptDeleted(SieveScriptName {
                user: user.as_str().into(),
                name: name.as_str().into(),
            }));
        }
        SieveAdminCommand::Rename {
            account: a,
            old,
            new,
        } => {
            let user = account(&a)?;
            scripts.rename(&user, &old, &new).map_err(explain)?;
            scope.emit(Event::SieveScriptRenamed(SieveScriptRenamed {
                user: user.as_str().into(),
                name: old.as_str().into(),
                new_name: new.as_str().into(),
            }));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn activated(scope: &Scope<'_>, user: &str, name: &str) {
    scope.emit(Event::SieveScriptActivated(SieveScriptName {
        user: user.into(),
        name: name.into(),
    }));
}

fn read_script(file: &Path) -> anyhow::Result<Vec<u8>> {
    if file == Path::new("-") {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .context("cannot read the script from stdin")?;
        return Ok(buf);
    }
    std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))
}

/// The store's refusal, said for an administrator (the delete of an active script says
/// what to do instead).
fn explain(e: SieveScriptError) -> anyhow::Error {
    match e {
        SieveScriptError::Active(name) => anyhow::anyhow!(
            "script {name:?} is active: deactivate it first (mailward sieve activate ACCOUNT --none)"
        ),
        e => e.into(),
    }
}
