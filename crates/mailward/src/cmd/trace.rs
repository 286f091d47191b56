//! `mailward trace`: forensic analysis of message headers and content.
//!
//! Reading runs on its own thread and hands bounded batches of messages over a channel;
//! each batch is analysed and rendered in parallel (rayon), in chunks of consecutive
//! messages, and written in input order. Batches and output buffers go back to be reused,
//! so a long run does not keep allocating (and page-faulting) fresh megabytes.
//! Exit codes: 0 analysed, 1 a `--fail-on` threshold was reached, 2 usage or I/O error.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mailward_trace::geo::GeoDb;
use mailward_trace::render::{self, Summary, html, text};
use mailward_trace::source::{self, Batch, Mode, SourceError};
use mailward_trace::verify::Verifier;
use mailward_trace::{AnalyzeOptions, Report, Severity};
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Mutex, mpsc};
use std::time::{SystemTime, UNIX_EPOCH};

/// Arguments of `mailward trace`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit status: 0 analysed, 1 --fail-on level reached, 2 usage or I/O error.")]
pub struct TraceArgs {
    /// Messages to analyse: a message (.eml or bare header text), an mbox, a Maildir, a
    /// directory of .eml files, or - for standard input (the default).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// One JSON object per message per line instead of the text report.
    #[arg(long)]
    pub json: bool,

    /// Also write one self-contained HTML report with hop diagrams to FILE (- for stdout).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Print totals: origins by country, AS and provider; findings by code. In text mode
    /// this replaces the per-message reports; with --json it is a final JSON line.
    #[arg(long)]
    pub summary: bool,

    /// Location database (MaxMind format: GeoLite2/GeoIP2 City or Country, DB-IP,
    /// ip-location-db) for the country and city of public IPs. Read offline.
    #[arg(long, value_name = "FILE.mmdb")]
    pub geoip: Option<PathBuf>,

    /// ASN database (GeoLite2-ASN, GeoIP2-ISP, ip-location-db ASN) for the AS number and
    /// organisation of public IPs.
    #[arg(long, value_name = "FILE.mmdb")]
    pub asn: Option<PathBuf>,

    /// Re-verify DKIM, ARC, SPF and DMARC with the server's own checks through DNS
    /// (`[dns] resolver` of --config, else the system's; reads whole messages).
    #[arg(long)]
    pub verify: bool,

    /// Read only each message's header block: no content analysis (links, brands,
    /// attachments), so no verdict beyond what headers show; fastest on large mailboxes.
    #[arg(long, conflicts_with_all = ["verify", "dns_zone"])]
    pub headers_only: bool,

    /// Answer --verify's DNS queries from a zone file instead of the network (implies --verify).
    #[arg(long, value_name = "FILE")]
    pub dns_zone: Option<PathBuf>,

    /// Exit with status 1 when any message has a finding at this level or above.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,

    /// Never colour the text report (colour is also off when stdout is not a terminal or
    /// NO_COLOR is set).
    #[arg(long)]
    pub no_color: bool,

    /// Worker threads for analysis (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<NonZeroUsize>,
}

/// The `--fail-on` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Warning,
    Critical,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Warning => Severity::Warning,
            FailOn::Critical => Severity::Critical,
        }
    }
}

/// The progress bar appears once this many messages have been read.
const PROGRESS_AFTER: u64 = 5_000;

/// Messages analysed and rendered as one unit of parallel work. A chunk's output is one
/// buffer, usually larger than the output buffer, so it is written without a copy; a
/// batch of 2,048 messages still makes 32 chunks to spread over the cores.
const CHUNK_MESSAGES: usize = 64;

/// What each worker needs, shared read-only.
struct Ctx {
    opts: AnalyzeOptions,
    verifier: Option<Verifier>,
    geo: Option<GeoDb>,
    json: bool,
    text: bool,
    color: bool,
    html: bool,
    summary: bool,
    /// Emptied output buffers, back from the writer for the next chunks.
    buffers: Mutex<Vec<Vec<u8>>>,
}

/// A chunk of consecutive messages analysed and rendered. The reports themselves are kept
/// only for `--summary`: freeing them on the worker that built them is much cheaper than
/// on the writer thread.
struct Done {
    messages: usize,
    reports: Vec<Report>,
    worst: Option<Severity>,
    stdout: Vec<u8>,
    html: String,
}

impl Ctx {
    /// Analyses and renders messages `range` of `batch`; `first_number` is the run-wide
    /// number of the batch's first message.
    fn process_chunk(
        &self,
        batch: &Batch,
        range: std::ops::Range<usize>,
        first_number: usize,
    ) -> Done {
        let mut done = Done {
            messages: 0,
            reports: Vec::new(),
            worst: None,
            stdout: self.take_buffer(),
            html: String::new(),
        };
        for i in range {
            if let Some(msg) = batch.get(i) {
                self.process(msg, first_number + i, &mut done);
            }
        }
        done
    }

    /// An empty output buffer, reused when the writer has returned one. New ones have room
    /// for a chunk of typical JSON reports, so they rarely grow (growing copies).
    fn take_buffer(&self) -> Vec<u8> {
        self.buffers
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_else(|| Vec::with_capacity(CHUNK_MESSAGES * 4096))
    }

    /// Hands a written output buffer back for reuse.
    fn return_buffer(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        if let Ok(mut pool) = self.buffers.lock() {
            pool.push(buffer);
        }
    }

    /// Analyses one message and appends its rendering to `done`.
    fn process(&self, msg: source::Message<'_>, number: usize, done: &mut Done) {
        // With --verify, `msg.raw` is the whole message (see `Mode::Full`) and the findings
        // rest on our own DKIM/ARC/DMARC verdicts.
        let mut report =
            mailward_trace::analyze_with(msg.raw, msg.source, &self.opts, self.verifier.as_ref());
        if let Some(geo) = &self.geo {
            geo.enrich(&mut report);
        }
        if self.json {
            done.stdout.reserve(2 * report.message.header_bytes + 1024);
            // Serialising a Report (strings, numbers, IPs) cannot fail; keep going if it did.
            let _ = render::json_line(&report, &mut done.stdout);
        } else if self.text {
            let mut out = String::new();
            text::render(&report, self.color, &mut out);
            done.stdout.extend_from_slice(out.as_bytes());
        }
        if self.html {
            html::message(&report, number, &mut done.html);
        }
        done.messages += 1;
        done.worst = done
            .worst
            .max(report.findings.iter().map(|f| f.severity).max());
        if self.summary {
            done.reports.push(report);
        }
    }
}

/// Where the HTML page goes.
enum HtmlOut {
    None,
    Stdout,
    File(PathBuf, BufWriter<File>),
}

pub fn run(config_path: Option<PathBuf>, args: TraceArgs) -> anyhow::Result<ExitCode> {
    // "Now" is read once so every message of a run is judged against the same clock.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);

    let found = source::discover(&args.paths)?;
    for dir in &found.empty_dirs {
        eprintln!(
            "mailward: trace: {}: no messages found (looked for *.eml files and Maildir cur/new)",
            dir.display()
        );
    }
    let geo = if args.geoip.is_some() || args.asn.is_some() {
        Some(GeoDb::open(args.geoip.as_deref(), args.asn.as_deref())?)
    } else {
        None
    };
    let verify = args.verify || args.dns_zone.is_some();
    if let Some(zone) = &args.dns_zone
        && !zone.is_file()
    {
        bail!("{}: DNS zone file not found", zone.display());
    }
    let verifier = match (&args.dns_zone, verify) {
        (Some(zone), _) => Some(Verifier::new(Some(zone)).context("cannot set up --verify")?),
        (None, true) => {
            // Live DNS through `[dns] resolver` when a configuration is given.
            let servers = match &config_path {
                Some(p) => crate::config::load(Some(p))?.config.dns.resolver.clone(),
                None => Vec::new(),
            };
            Some(Verifier::online(&servers).context("cannot set up --verify")?)
        }
        (None, false) => None,
    };
    let mut html_out = match &args.html {
        None => HtmlOut::None,
        Some(path) if path.as_os_str() == "-" => HtmlOut::Stdout,
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("{}: cannot create HTML report", path.display()))?;
            HtmlOut::File(path.clone(), BufWriter::new(file))
        }
    };
    let html_to_stdout = matches!(html_out, HtmlOut::Stdout);

    let stdout_tty = io::stdout().is_terminal();
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ctx = Ctx {
        opts: AnalyzeOptions { now },
        verifier,
        geo,
        json: args.json && !html_to_stdout,
        text: !args.json && !args.summary && !html_to_stdout,
        color: stdout_tty && !args.no_color && !no_color_env,
        html: !matches!(html_out, HtmlOut::None),
        summary: args.summary,
        buffers: Mutex::new(Vec::new()),
    };

    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = args.threads {
        pool = pool.num_threads(n.get());
    }
    let pool = pool.build().context("cannot start worker threads")?;

    let total_bytes: Option<u64> = found.inputs.iter().map(|i| i.size()).sum();
    let progress = Progress::new(total_bytes);

    // Reading runs ahead of analysis by at most two batches.
    // The content pass (links, brands, attachments) needs whole messages too.
    let mode = if args.headers_only {
        Mode::Headers
    } else {
        Mode::Full
    };
    let (tx, rx) = mpsc::sync_channel::<Result<Batch, SourceError>>(2);
    // Finished batches go back to the reader to be refilled.
    let (recycle, returned) = mpsc::channel::<Batch>();
    let reader = source::Reader::new(found.inputs, mode).recycling(returned);
    let reader_thread = std::thread::spawn(move || {
        for item in reader {
            if tx.send(item).is_err() {
                break;
            }
        }
    });

    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut summary = Summary::default();
    let mut worst: Option<Severity> = None;
    let mut messages = 0usize;
    let mut io_errors = 0u64;
    let mut page = String::new();
    if ctx.html {
        let title = match args.paths.as_slice() {
            [one] => format!("mailward trace: {}", one.display()),
            _ => "mailward trace".to_string(),
        };
        html::begin(&mut page, &title);
    }
    let mut broken_pipe = false;

    'batches: for item in rx {
        let batch = match item {
            Ok(batch) => batch,
            Err(err) => {
                io_errors += 1;
                progress.suspend(|| eprintln!("mailward: trace: {err}"));
                continue;
            }
        };
        let first_number = messages + 1;
        let len = batch.len();
        let done: Vec<Done> = pool.install(|| {
            (0..len.div_ceil(CHUNK_MESSAGES))
                .into_par_iter()
                .map(|c| {
                    let start = c * CHUNK_MESSAGES;
                    let range = start..len.min(start + CHUNK_MESSAGES);
                    ctx.process_chunk(&batch, range, first_number)
                })
                .collect()
        });
        let bytes_read = batch.bytes_read;
        // The reader may have stopped already; then the batch is simply dropped.
        let _ = recycle.send(batch);
        let mut analysed = 0;
        for d in done {
            analysed += d.messages;
            for report in &d.reports {
                summary.add(report);
            }
            worst = worst.max(d.worst);
            if !d.stdout.is_empty()
                && let Err(err) = progress.suspend(|| out.write_all(&d.stdout))
            {
                if err.kind() == io::ErrorKind::BrokenPipe {
                    broken_pipe = true;
                    break 'batches;
                }
                return Err(err).context("cannot write to standard output");
            }
            ctx.return_buffer(d.stdout);
            if ctx.html {
                page.push_str(&d.html);
            }
        }
        messages += analysed;
        if !page.is_empty() {
            write_html(&mut html_out, &mut out, &page)?;
            page.clear();
        }
        progress.advance(analysed as u64, bytes_read);
    }
    progress.finish();
    // After a broken pipe the reader stops on its own at its next send (the channel is
    // gone); it may be blocked on input, so it is not waited for.
    if !broken_pipe {
        let _ = reader_thread.join();
    }

    summary.errors = io_errors;
    if !broken_pipe {
        if args.summary {
            let written = if args.json {
                let mut line = Vec::new();
                summary.json_line(&mut line)?;
                out.write_all(&line)
            } else if html_to_stdout {
                Ok(())
            } else {
                let mut text_out = String::new();
                summary.render_text(ctx.color, &mut text_out);
                out.write_all(text_out.as_bytes())
            };
            written.context("cannot write to standard output")?;
        }
        if ctx.html {
            if args.summary {
                html::summary(&summary, &mut page);
            }
            html::end(&mut page);
            write_html(&mut html_out, &mut out, &page)?;
        }
        match out.flush() {
            Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
                return Err(err).context("cannot write to standard output");
            }
            _ => {}
        }
        if let HtmlOut::File(path, file) = &mut html_out {
            file.flush()
                .with_context(|| format!("{}: cannot write HTML report", path.display()))?;
        }
    }

    if io_errors > 0 {
        return Ok(ExitCode::from(2));
    }
    if let (Some(level), Some(worst)) = (args.fail_on, worst)
        && worst >= level.severity()
    {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn write_html(target: &mut HtmlOut, stdout: &mut impl Write, chunk: &str) -> anyhow::Result<()> {
    match target {
        HtmlOut::None => Ok(()),
        HtmlOut::Stdout => match stdout.write_all(chunk.as_bytes()) {
            Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
                Err(err).context("cannot write to standard output")
            }
            _ => Ok(()),
        },
        HtmlOut::File(path, file) => file
            .write_all(chunk.as_bytes())
            .with_context(|| format!("{}: cannot write HTML report", path.display())),
    }
}

/// A progress bar on standard error, shown only on a terminal and only once a run has
/// read more than [`PROGRESS_AFTER`] messages (small runs finish before it would help).
struct Progress {
    bar: Option<ProgressBar>,
    messages: std::cell::Cell<u64>,
}

impl Progress {
    fn new(total_bytes: Option<u64>) -> Progress {
        if !io::stderr().is_terminal() {
            return Progress {
                bar: None,
                messages: 0.into(),
            };
        }
        let bar = match total_bytes {
            Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
                .with_style(
                    ProgressStyle::with_template(
                        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} ({eta})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()).with_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bytes} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        Progress {
            bar: Some(bar),
            messages: 0.into(),
        }
    }

    fn advance(&self, messages: u64, bytes: u64) {
        let Some(bar) = &self.bar else { return };
        let before = self.messages.get();
        let now = before + messages;
        self.messages.set(now);
        if before < PROGRESS_AFTER && now >= PROGRESS_AFTER {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.inc(bytes);
        bar.set_message(format!("{now} messages"));
    }

    /// Runs `f` with the bar hidden, so other terminal output does not tear it.
    fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.bar {
            Some(bar) if !bar.is_hidden() => bar.suspend(f),
            _ => f(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
