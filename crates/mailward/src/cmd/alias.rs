//! `mailward alias add|list|del`: aliases (`alias@domain -> targets`) and domain catch-alls
//! (`@domain -> targets`).

use anyhow::bail;
use mailward_store::directory;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct AliasArgs {
    #[command(subcommand)]
    command: AliasCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AliasCommand {
    /// Add an alias; `@domain` as ALIAS makes a catch-all for the domain.
    Add {
        alias: String,
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// List aliases.
    List,
    /// Delete an alias (all its targets).
    Del { alias: String },
}

pub fn run(config_path: Option<PathBuf>, args: AliasArgs) -> anyhow::Result<ExitCode> {
    let (_, store) = super::account::open_store(config_path.as_deref())?;
    let conn = store.conn();
    match args.command {
        AliasCommand::Add { alias, targets } => {
            directory::add_alias(&conn, &alias, &targets)?;
            println!("{} -> {}", alias.to_ascii_lowercase(), targets.join(", "));
        }
        AliasCommand::List => {
            for a in directory::list_aliases(&conn)? {
                println!("{} -> {}", a.alias, a.target);
            }
        }
        AliasCommand::Del { alias } => {
            if directory::delete_alias(&conn, &alias)? == 0 {
                bail!("no alias {alias}");
            }
            println!("deleted {alias}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
