//! `mailward fetch --once`: polls every `[[fetch]]` entry once, delivers what it took into
//! the local accounts, and exits (non-zero when a poll failed). `mailward serve` runs the
//! same pollers on their intervals ([`start_pollers`]).

use crate::config::{self, Loaded};
use anyhow::{Context as _, bail};
use mailward_mda::fetch::{FetchAccount, FetchContext, poll_once, run_poller};
use mailward_mda::{QueueRunner, RetrySettings};
use mailward_store::queue::{NOTICE_CAPACITY, NoticeSender, notice_channel};
use mailward_store::{QueueStore, Store};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long `--once` waits for the fetched messages' first delivery attempt.
const DELIVERY_WAIT: Duration = Duration::from_secs(120);

#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// Poll every entry once, deliver, and exit (the server polls on each entry's interval).
    #[arg(long)]
    once: bool,
    /// Only the entry with this name.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
}

pub fn run(config_path: Option<PathBuf>, args: FetchArgs) -> anyhow::Result<ExitCode> {
    if !args.once {
        bail!("`mailward fetch` needs --once (mailward serve polls the [[fetch]] entries itself)");
    }
    let (loaded, store) = super::account::open_store(config_path.as_deref())?;
    let mut accounts = config::fetch_accounts(&loaded)?;
    if let Some(name) = &args.name {
        accounts.retain(|a| &a.name == name);
        if accounts.is_empty() {
            bail!("no [[fetch]] entry is named {name:?}");
        }
    }
    if accounts.is_empty() {
        println!("no [[fetch]] entries in the configuration");
        return Ok(ExitCode::SUCCESS);
    }
    super::serve::init_logging(&loaded)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let failed = runtime.block_on(fetch_once(&loaded, store, accounts))?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Polls each entry, then runs a local-delivery queue runner until every message taken
/// had its first delivery attempt. True when a poll failed.
async fn fetch_once(
    loaded: &Loaded,
    store: Arc<Store>,
    accounts: Vec<FetchAccount>,
) -> anyhow::Result<bool> {
    let cfg = &loaded.config;
    let (notify_tx, notify_rx) = notice_channel(NOTICE_CAPACITY);
    let (stop_tx, stop_rx) = watch::channel(false);
    let runner = QueueRunner::new(store.clone(), retry_settings(cfg));
    let runner_task = tokio::spawn(runner.run(notify_rx, stop_rx));
    let ctx = FetchContext {
        store: store.clone(),
        notices: Some(notify_tx),
        hostname: cfg.server.hostname.clone(),
    };
    let mut failed = false;
    let mut queued = Vec::new();
    for account in &accounts {
        let report = poll_once(&ctx, account).await;
        match &report.failed {
            None => println!(
                "{}: {} message(s) fetched, {} skipped",
                account.name, report.fetched, report.errors
            ),
            Some(why) => {
                failed = true;
                println!(
                    "{}: failed after {} message(s): {why}",
                    account.name, report.fetched
                );
            }
        }
        queued.extend(report.queued);
    }
    let deadline = Instant::now() + DELIVERY_WAIT;
    while Instant::now() < deadline {
        let waiting = queued
            .iter()
            .any(|id| matches!(store.queued(id), Ok(Some(entry)) if entry.attempts == 0));
        if !waiting {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop_tx.send(true);
    let _ = runner_task.await;
    Ok(failed)
}

fn retry_settings(cfg: &config::Config) -> RetrySettings {
    RetrySettings {
        initial_delay: cfg.queue.retry_initial,
        max_delay: cfg.queue.retry_max,
        max_age: cfg.queue.max_age,
        scan_interval: cfg.queue.scan_interval,
        concurrency: cfg.queue.concurrency,
        delay_warning: cfg.queue.delay_warning,
        hostname: cfg.server.hostname.clone(),
    }
}

/// `mailward serve`: one poller task per `[[fetch]]` entry, handing what it queues to the
/// server's queue runner; each stops when `shutdown` turns true.
pub fn start_pollers(
    loaded: &Loaded,
    store: Arc<Store>,
    notices: NoticeSender,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let ctx = FetchContext {
        store,
        notices: Some(notices),
        hostname: loaded.config.server.hostname.clone(),
    };
    Ok(config::fetch_accounts(loaded)?
        .into_iter()
        .map(|account| tokio::spawn(run_poller(ctx.clone(), account, shutdown.clone())))
        .collect())
}
