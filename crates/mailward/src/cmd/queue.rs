//! `mailward queue list|show|flush|delete`: the durable queue.

use anyhow::bail;
use mailward_store::{ids, queue};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct QueueArgs {
    #[command(subcommand)]
    command: QueueCommand,
}

#[derive(Debug, clap::Subcommand)]
enum QueueCommand {
    /// List queued messages (ID, age, size, sender, recipients and their state).
    List {
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show one message: envelope, then the message itself.
    Show { id: String },
    /// Retry everything now (the running server picks it up within its scan interval).
    Flush,
    /// Remove a message from the queue.
    Delete { id: String },
}

pub fn run(config_path: Option<PathBuf>, args: QueueArgs) -> anyhow::Result<ExitCode> {
    let (_, store) = super::account::open_store(config_path.as_deref())?;
    match args.command {
        QueueCommand::List { json } => {
            let entries = queue::list(&store.conn())?;
            let now = ids::unix_now();
            for e in &entries {
                let env = &e.envelope;
                if json {
                    println!("{}", serde_json::to_string(e)?);
                    continue;
                }
                println!(
                    "{}  {:>6}s  {:>8}  <{}>  attempts {}  next in {}s",
                    env.id,
                    now - env.created,
                    env.size,
                    env.sender,
                    e.attempts,
                    (e.next_attempt - now).max(0)
                );
                for r in &env.rcpts {
                    let why = r
                        .last_error
                        .as_deref()
                        .map(|w| format!(" ({w})"))
                        .unwrap_or_default();
                    println!("    <{}> {:?}{}", r.address, r.state, why);
                }
            }
            if !json {
                println!("{} message(s) in the queue", entries.len());
            }
        }
        QueueCommand::Show { id } => {
            let Some(e) = queue::get(&store.conn(), &id)? else {
                bail!("no queued message {id}");
            };
            println!("{}", serde_json::to_string_pretty(&e)?);
            println!();
            let body = store.read_spool(&id)?;
            std::io::stdout().write_all(&body)?;
        }
        QueueCommand::Flush => {
            let n = queue::flush(&store.conn(), ids::unix_now())?;
            println!("{n} message(s) due now");
        }
        QueueCommand::Delete { id } => {
            if !store.delete_queued_now(&id)? {
                bail!("no queued message {id}");
            }
            println!("deleted {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
