//! `mailward queue list|show|retry|hold|release|bounce|flush|delete`: the durable queue,
//! per recipient (state, attempts, the last error: the remote reply when there was one).

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
    /// Retry a message now, or every message with --all (held ones stay held); the running
    /// server picks it up within its scan interval.
    Retry {
        /// The queue ID.
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Hold a message: no delivery attempt until it is released.
    Hold { id: String },
    /// Release a held message and make it due now.
    Release { id: String },
    /// Give up on a message now: its pending recipients fail and the sender gets a failure
    /// report (DSN).
    Bounce { id: String },
    /// Retry everything now (as `retry --all`).
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
                let next = if e.next_attempt == queue::HELD {
                    "held".to_string()
                } else {
                    format!("next in {}s", (e.next_attempt - now).max(0))
                };
                println!(
                    "{}  {:>6}s  {:>8}  <{}>  attempts {}  {}",
                    env.id,
                    now - env.created,
                    env.size,
                    env.sender,
                    e.attempts,
                    next
                );
                for r in &env.rcpts {
                    let why = r
                        .last_error
                        .as_deref()
                        .map(|w| format!(": {w}"))
                        .unwrap_or_default();
                    println!(
                        "    <{}> {:?}, {} attempt(s){}",
                        r.address, r.state, r.attempts, why
                    );
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
        QueueCommand::Retry {
            id: None,
            all: true,
        } => {
            let n = queue::flush(&store.conn(), ids::unix_now())?;
            println!("{n} message(s) due now");
        }
        QueueCommand::Retry { id: Some(id), .. } => {
            if !queue::retry(&store.conn(), &id, ids::unix_now())? {
                bail!("no queued message {id} that is not held (release a held one)");
            }
            println!("{id} due now");
        }
        QueueCommand::Retry {
            id: None,
            all: false,
        } => {
            bail!("give a queue ID or --all");
        }
        QueueCommand::Hold { id } => {
            if !queue::hold(&store.conn(), &id)? {
                bail!("no queued message {id}");
            }
            println!("{id} held");
        }
        QueueCommand::Release { id } => {
            if !queue::release(&store.conn(), &id, ids::unix_now())? {
                bail!("no queued message {id}");
            }
            println!("{id} released, due now");
        }
        QueueCommand::Bounce { id } => {
            let reason = "bounced by the postmaster (mailward queue bounce)";
            if !queue::bounce(&store.conn(), &id, ids::unix_now(), reason)? {
                bail!("no queued message {id}");
            }
            println!("{id}: pending recipients failed; the sender gets a report");
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
