//! Sending DMARC aggregate reports (RFC 9990; issue 16): after each UTC day, the day's
//! recorded evaluations are counted per policy domain, and the report goes through the
//! outbound queue to every `rua` address that passes the external destination check
//! (RFC 9990 §4) and whose `!size` limit the report fits (RFC 9989 §4.7), one message per
//! address. A day is remembered as sent per policy domain *before* its messages are queued
//! (`<data>/dmarc/sent/<day>/<domain>`), so a restart catches up on days not yet sent and
//! never sends one twice (a crash in between loses that domain's report instead).
//! `mailward dmarc report` shows the same reports without sending them.

use crate::config::{Config, Loaded};
use anyhow::Context;
use mailward_auth::Resolver;
use mailward_auth::aggregate::{
    Destination, DomainAggregate, Period, Report, Submitter, aggregate, build_report,
    evaluations_dir, read_period, report_file_name, report_gzip, report_message,
    verify_destinations,
};
use mailward_auth::verify::Lookups;
use mailward_event::{Event, Reason, ReportQueued, Scope};
use mailward_store::queue::{Envelope, QueueRcpt};
use mailward_store::{Store, ids};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Days older than this are not sent any more after a long stop (the receiving side
/// expects reports within a day or two; RFC 9990 §5.1 leaves it to us).
const CATCH_UP_DAYS: i64 = 7;
/// Wait this long after midnight UTC before sending, so late evaluations are written.
const AFTER_PERIOD_END: i64 = 300;

/// `<data>/dmarc`: where evaluations are recorded (the SMTP server's `Recorder`).
pub fn dmarc_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("dmarc")
}

/// Who we are in the reports (`[dmarc] org_name`, `report_from`, `[server] hostname`).
pub fn submitter(cfg: &Config) -> Submitter {
    let hostname = &cfg.server.hostname;
    Submitter {
        org_name: cfg.dmarc.org_name(hostname),
        email: cfg.dmarc.report_from(hostname),
        domain: hostname.clone(),
    }
}

/// One policy domain's report for a period, ready to send or show.
pub struct Prepared {
    pub aggregate: DomainAggregate,
    pub report: Report,
    pub file_name: String,
    pub gzip: Vec<u8>,
    pub destinations: Vec<Destination>,
}

/// The reports of `period` (only `domain`'s when given), with their destinations checked
/// through `resolver`; also how many recorded lines were unreadable.
pub async fn prepare(
    dmarc_dir: &Path,
    period: Period,
    domain: Option<&str>,
    resolver: &Resolver,
    submitter: &Submitter,
) -> anyhow::Result<(Vec<Prepared>, usize)> {
    let (evaluations, skipped) = read_period(dmarc_dir, period)?;
    let lookups = Lookups::live(resolver);
    let mut out = Vec::new();
    for aggregate in aggregate(evaluations, domain) {
        let report = build_report(&aggregate, period, submitter);
        let gzip = report_gzip(&report)?;
        let file_name = report_file_name(&report, submitter);
        let destinations =
            verify_destinations(&lookups, &aggregate.policy.domain, &aggregate.policy.rua).await;
        out.push(Prepared {
            aggregate,
            report,
            file_name,
            gzip,
            destinations,
        });
    }
    Ok((out, skipped))
}

/// Starts the sender when `[dmarc] send_reports` is on; it stops with `stop`.
pub fn start(
    loaded: &Loaded,
    store: Arc<Store>,
    stop: watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let cfg = loaded.config.clone();
    if !cfg.dmarc.send_reports {
        return None;
    }
    let dir = dmarc_dir(&loaded.data_dir());
    Some(tokio::spawn(run(cfg, dir, store, stop)))
}

async fn run(cfg: Config, dir: PathBuf, store: Arc<Store>, mut stop: watch::Receiver<bool>) {
    let resolver = match crate::outbound::resolver(&cfg) {
        Ok(r) => r,
        Err(e) => {
            failed(format!("DMARC reports not sent: {e:#}"));
            return;
        }
    };
    let submitter = submitter(&cfg);
    loop {
        let now = ids::unix_now();
        if let Err(e) = send_due(&dir, now, &resolver, &submitter, &store).await {
            failed(format!("DMARC reports: {e:#}"));
        }
        let next = Period::containing(now).end() + 1 + AFTER_PERIOD_END;
        let wait = Duration::from_secs(u64::try_from(next - now).unwrap_or(60).max(1));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Sends every finished day of the last [`CATCH_UP_DAYS`] not sent yet.
pub async fn send_due(
    dir: &Path,
    now: i64,
    resolver: &Resolver,
    submitter: &Submitter,
    store: &Store,
) -> anyhow::Result<usize> {
    let mut queued = 0;
    for period in recorded_periods(dir)? {
        if !period.is_over(now - AFTER_PERIOD_END) || period.end() < now - CATCH_UP_DAYS * 86_400 {
            continue;
        }
        let (prepared, _) = prepare(dir, period, None, resolver, submitter).await?;
        for p in prepared {
            if !mark_sent(dir, period, &p.aggregate.policy.domain)? {
                continue;
            }
            queued += enqueue(&p, submitter, store, now).await;
        }
    }
    prune_sent_marks(dir, now);
    Ok(queued)
}

/// Removes the sent marks of days too old to be sent anyway.
fn prune_sent_marks(dir: &Path, now: i64) {
    let Ok(entries) = std::fs::read_dir(dir.join("sent")) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Ok(period) = Period::parse(&name, 0)
            && period.end() < now - (CATCH_UP_DAYS + 1) * 86_400
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The days with a recorded evaluations file, oldest first.
fn recorded_periods(dir: &Path) -> anyhow::Result<Vec<Period>> {
    let evaluations = evaluations_dir(dir);
    let entries = match std::fs::read_dir(&evaluations) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| evaluations.display().to_string()),
    };
    let mut periods: Vec<Period> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let day = name.strip_suffix(".jsonl")?;
            Period::parse(day, 0).ok()
        })
        .collect();
    periods.sort();
    Ok(periods)
}

/// Records that `domain`'s report for `period` is being sent; false when it already was.
fn mark_sent(dir: &Path, period: Period, domain: &str) -> anyhow::Result<bool> {
    let folder = dir.join("sent").join(period.to_string());
    std::fs::create_dir_all(&folder).with_context(|| folder.display().to_string())?;
    // Domain names from DNS data: keep the file name to safe characters.
    let name: String = domain
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = folder.join(name);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => {
            file.sync_all()
                .with_context(|| path.display().to_string())?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| path.display().to_string()),
    }
}

/// Queues one message per allowed destination; returns how many were queued.
async fn enqueue(p: &Prepared, submitter: &Submitter, store: &Store, now: i64) -> usize {
    let mut queued = 0;
    for d in &p.destinations {
        if !d.verdict.allows() || !d.accepts(p.gzip.len() as u64) {
            continue;
        }
        let message =
            match report_message(&p.report, submitter, std::slice::from_ref(&d.address), now) {
                Ok(m) => m,
                Err(e) => {
                    failed(format!(
                        "DMARC report for {}: {e}",
                        p.aggregate.policy.domain
                    ));
                    continue;
                }
            };
        let now_ms = ids::unix_now_ms();
        let envelope = Envelope {
            id: ids::queue_id(),
            created: now_ms.div_euclid(1000),
            created_ms: now_ms,
            sender: submitter.email.clone(),
            rcpts: vec![QueueRcpt {
                address: d.address.clone(),
                ..Default::default()
            }],
            size: message.len() as u64,
            ..Default::default()
        };
        let id = envelope.id.clone();
        match store.enqueue(envelope, Arc::new(message)).await {
            Ok(()) => {
                queued += 1;
                Scope::message(&id).emit(Event::ReportQueued(ReportQueued {
                    report_id: id.as_str().into(),
                    to: d.address.as_str().into(),
                }));
            }
            Err(e) => failed(format!(
                "DMARC report for {} to {} not queued: {e}",
                p.aggregate.policy.domain, d.address
            )),
        }
    }
    queued
}

fn failed(text: String) {
    Scope::service().emit(Event::QueueUpdateFailed(Reason::new(text)));
}
