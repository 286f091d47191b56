//! `mailward quarantine list|show|release|delete`: what the security gateway held (and the
//! originals of the messages it delivered disarmed), under `<data>/quarantine/`.

use anyhow::Context as _;
use mailward_event::{Event, QuarantineReleased, Scope};
use mailward_filter::quarantine::{Held, HeldKind, Quarantine};
use mailward_store::ids;
use mailward_store::queue::{Envelope, QueueRcpt};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct QuarantineArgs {
    #[command(subcommand)]
    command: QuarantineCommand,
}

#[derive(Debug, clap::Subcommand)]
enum QuarantineCommand {
    /// List quarantined messages: ID, age, size, why, sender, recipients.
    List {
        /// JSON lines (each message's record) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show one message: its record, then the message as it arrived.
    Show {
        id: String,
        /// Only the record.
        #[arg(long)]
        record: bool,
    },
    /// Deliver a message to its recipients (it is queued as it arrived, without another
    /// pass through the gateway); the running server picks it up within its scan interval.
    Release { id: String },
    /// Remove a message from the quarantine.
    Delete { id: String },
}

pub fn run(config_path: Option<PathBuf>, args: QuarantineArgs) -> anyhow::Result<ExitCode> {
    let loaded = crate::config::load(config_path.as_deref())?;
    let dir = loaded.data_dir().join("quarantine");
    let quarantine = Quarantine::open(&dir)
        .with_context(|| format!("{}: cannot open the quarantine", dir.display()))?;
    match args.command {
        QuarantineCommand::List { json } => {
            let held = quarantine.list()?;
            let now = ids::unix_now();
            for h in &held {
                if json {
                    println!("{}", serde_json::to_string(h)?);
                } else {
                    print_line(h, now);
                }
            }
            if !json {
                println!("{} message(s) in the quarantine", held.len());
            }
        }
        QuarantineCommand::Show { id, record } => {
            let held = quarantine.record(&id)?;
            println!("{}", serde_json::to_string_pretty(&held)?);
            if !record {
                println!();
                let message = quarantine.message(&id)?;
                use std::io::Write;
                std::io::stdout().write_all(&message)?;
            }
        }
        QuarantineCommand::Release { id } => {
            let held = quarantine.record(&id)?;
            if let Some(q) = &held.released {
                anyhow::bail!("{id} was released already (as {q})");
            }
            let message = quarantine.message(&id)?;
            let (_, store) = super::account::open_store(config_path.as_deref())?;
            let queue_id = release(&store, &held, message)?;
            quarantine.mark_released(&id, &queue_id)?;
            Scope::message(&id).emit(Event::QuarantineReleased(QuarantineReleased {
                released_as: queue_id.as_str().into(),
                to: held.rcpts.join(",").into(),
            }));
            println!("{id} released as {queue_id} to {}", held.rcpts.join(", "));
        }
        QuarantineCommand::Delete { id } => {
            quarantine.delete(&id)?;
            println!("{id} deleted");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_line(h: &Held, now: i64) {
    let kind = match h.kind {
        HeldKind::Held => "held",
        HeldKind::DisarmedOriginal => "original",
    };
    let released = h
        .released
        .as_deref()
        .map(|q| format!(" released as {q}"))
        .unwrap_or_default();
    println!(
        "{}  {:>6}s  {:>8}  {kind:<8}  <{}> -> {}{released}",
        h.id,
        (now - h.arrived).max(0),
        h.size,
        h.sender,
        h.rcpts.join(", ")
    );
    println!("    {}: {}", h.check, h.reason);
    if let Some(s) = &h.subject {
        println!("    Subject: {s}");
    }
}

/// Queues `message` for `held`'s recipients under a new queue ID, with a field saying who
/// let it through and when.
fn release(
    store: &Arc<mailward_store::Store>,
    held: &Held,
    message: Vec<u8>,
) -> anyhow::Result<String> {
    let now_ms = ids::unix_now_ms();
    let date = mailward_message::datetime::format_rfc5322(now_ms.div_euclid(1000), 0);
    let field = format!(
        "X-Mailward-Released: from quarantine ({}) {date}\r\n",
        held.id
    );
    let mut data = Vec::with_capacity(field.len() + message.len());
    data.extend_from_slice(field.as_bytes());
    data.extend_from_slice(&message);
    let envelope = Envelope {
        id: ids::queue_id(),
        created: now_ms.div_euclid(1000),
        created_ms: now_ms,
        sender: held.sender.clone(),
        rcpts: held
            .rcpts
            .iter()
            .map(|r| QueueRcpt {
                address: r.clone(),
                ..Default::default()
            })
            .collect(),
        size: data.len() as u64,
        remote_ip: held.client_ip.clone(),
        helo: held.helo.clone(),
        auth_user: held.auth_user.clone(),
        ..Default::default()
    };
    let queue_id = envelope.id.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime
        .block_on(store.enqueue(envelope, Arc::new(data)))
        .context("cannot queue the released message")?;
    // A message queued by the server is handed to its runner at once; this one is found by
    // the runner's next scan, so it is due now rather than after the grace it gives fresh
    // messages.
    mailward_store::queue::retry(&store.conn(), &queue_id, ids::unix_now())
        .context("cannot make the released message due")?;
    Ok(queue_id)
}
