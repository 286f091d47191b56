//! `mailward logs`: message flows and summaries from Postfix, Exim and mailward logs.
//!
//! Reading, decompression, merging and following live in `mailward_logs::input`; this module
//! only parses options and prints. Exit codes: 0 success, 2 usage or I/O error (the message
//! names the file).

use mailward_logs::input::{Follower, Input};
use mailward_logs::{Analyzer, Flow, FlowFilter, Summary, Timestamp, YearRef};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Arguments of `mailward logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    #[command(subcommand)]
    command: LogsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum LogsCommand {
    /// Print the matching messages with their whole story (queue IDs, sender, each
    /// recipient's fate, relays, delays, client, SASL user, log lines).
    Flows(FlowsArgs),
    /// Print counts: received, delivered, forwarded, deferred, bounced, rejected by reason,
    /// top senders/recipients/domains/clients, traffic per hour, delays, SASL failures.
    Summary(SummaryArgs),
    /// Follow a growing log and print each message flow as it completes.
    Follow(FollowArgs),
}

#[derive(Debug, clap::Args)]
struct InputArgs {
    /// Log files (plain, .gz or .xz, detected from content); `-` or none reads stdin. Several
    /// files are merged in time order.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Show the lines no parser understood (they are always counted).
    #[arg(long)]
    unparsed: bool,
    /// Never show a progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Threads to read a single input with (default: the cores available; 1 reads on one
    /// thread). The result is the same for any number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

#[derive(Debug, clap::Args)]
struct FlowsArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Envelope sender contains ADDR (case-insensitive).
    #[arg(long, value_name = "ADDR")]
    from: Option<String>,
    /// Some recipient contains ADDR (case-insensitive).
    #[arg(long, value_name = "ADDR")]
    to: Option<String>,
    /// Client IP or a relay IP equals IP.
    #[arg(long, value_name = "IP")]
    ip: Option<String>,
    /// Message-ID equals ID (angle brackets optional).
    #[arg(long, value_name = "ID")]
    message_id: Option<String>,
    /// A recipient has final status S (sent, deferred, bounced, expired, pending) or the
    /// message was rejected (rejected).
    #[arg(long, value_name = "S", value_parser = ["sent", "deferred", "bounced", "expired", "pending", "rejected"])]
    status: Option<String>,
    /// Only flows seen at or after T (RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`, UTC).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    since: Option<Timestamp>,
    /// Only flows that started before T.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    until: Option<Timestamp>,
    /// Leave out the raw log lines of each flow.
    #[arg(long)]
    no_lines: bool,
}

#[derive(Debug, clap::Args)]
struct SummaryArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Entries in each top list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
}

#[derive(Debug, clap::Args)]
struct FollowArgs {
    /// The log file to follow (rotation and truncation are handled).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Print JSON lines.
    #[arg(long)]
    json: bool,
    /// Read the file from its start instead of its end.
    #[arg(long)]
    from_start: bool,
    /// Stop after the log has been idle this many seconds (for scripts and tests).
    #[arg(long, value_name = "SECS", hide = true)]
    exit_when_idle: Option<u64>,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    mailward_logs::time::parse_user_time(s)
        .ok_or_else(|| format!("not a time: {s:?} (use RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]])"))
}

pub fn run(args: LogsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        LogsCommand::Flows(a) => flows(a),
        LogsCommand::Summary(a) => summary(a),
        LogsCommand::Follow(a) => follow(a),
    }
}

/// Big enough to deserve a progress bar (bytes on disk).
const PROGRESS_MIN_BYTES: u64 = 32 * 1024 * 1024;

/// Opens the inputs, runs every line through `an`, and shows progress on a terminal.
fn read_all(
    input: &InputArgs,
    an: &mut Analyzer,
    sink: &mut impl FnMut(Flow),
) -> anyhow::Result<()> {
    let files = if input.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        input.files.clone()
    };
    let counter = Arc::new(AtomicU64::new(0));
    let mut inputs = Vec::with_capacity(files.len());
    for f in &files {
        inputs.push(Input::open(f, Some(counter.clone()))?);
    }
    let total: u64 = inputs.iter().filter_map(|i| i.size).sum();
    let bar =
        (!input.no_progress && std::io::stderr().is_terminal() && total >= PROGRESS_MIN_BYTES)
            .then(|| {
                let pb = indicatif::ProgressBar::new(total);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                ) {
                    pb.set_style(style);
                }
                pb
            });
    let threads = input.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    an.read(inputs, threads, sink, &mut || {
        if let Some(pb) = &bar {
            pb.set_position(counter.load(Ordering::Relaxed));
        }
    })?;
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    Ok(())
}

fn flows(a: FlowsArgs) -> anyhow::Result<ExitCode> {
    let filter = FlowFilter {
        from: a.from,
        to: a.to,
        ip: a.ip,
        message_id: a.message_id,
        status: a.status,
        since: a.since,
        until: a.until,
    };
    let mut an = Analyzer::new(!a.no_lines, false, a.input.unparsed);
    let mut out: Vec<Flow> = Vec::new();
    let mut keep = |f: Flow| {
        if filter.matches(&f) {
            out.push(f);
        }
    };
    read_all(&a.input, &mut an, &mut keep)?;
    let (summary, unparsed) = an.finish(0, &mut keep);
    out.sort_by(|x, y| {
        x.first_seen
            .cmp(&y.first_seen)
            .then_with(|| x.queue_ids.cmp(&y.queue_ids))
    });
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    for f in &out {
        if a.input.json {
            serde_json::to_writer(&mut w, f)?;
            writeln!(w)?;
        } else {
            write_flow(&mut w, f)?;
        }
    }
    w.flush()?;
    report_unparsed(&summary, &unparsed, a.input.unparsed);
    Ok(ExitCode::SUCCESS)
}

fn report_unparsed(s: &Summary, lines: &[String], show: bool) {
    if show {
        for l in lines {
            eprintln!("unparsed: {l}");
        }
    }
    if s.lines.unparsed > 0 && !show {
        eprintln!(
            "mailward: {} line(s) not understood (see --unparsed)",
            s.lines.unparsed
        );
    }
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

fn write_flow(w: &mut impl Write, f: &Flow) -> std::io::Result<()> {
    let when = f
        .first_seen
        .map(|t| t.to_string())
        .unwrap_or_else(|| "-".into());
    let state = if f.complete { "" } else { "  (incomplete)" };
    writeln!(w, "== {when}  {}{state}", f.queue_ids.join(" -> "))?;
    let from = match f.from.as_deref() {
        Some("") => "<>".to_owned(),
        Some(x) => format!("<{x}>"),
        None => "-".to_owned(),
    };
    write!(w, "   from {from}")?;
    if let Some(sz) = f.size {
        write!(w, "  size {sz}")?;
    }
    writeln!(
        w,
        "  message-id {}",
        f.message_id
            .as_deref()
            .map(|m| format!("<{m}>"))
            .unwrap_or_else(|| "-".into())
    )?;
    if f.client_ip.is_some() || f.sasl_user.is_some() {
        writeln!(
            w,
            "   client {}[{}]  sasl {}",
            opt(&f.client_host),
            opt(&f.client_ip),
            opt(&f.sasl_user)
        )?;
    } else if f.local_submission {
        writeln!(w, "   client local submission")?;
    }
    if let Some(n) = &f.notification_of {
        writeln!(w, "   delivery status notification for {n}")?;
    }
    if let Some(r) = &f.rejected {
        writeln!(w, "   REJECTED: {r}")?;
    }
    for r in &f.recipients {
        write!(w, "   to <{}>", r.to)?;
        if let Some(o) = &r.orig_to {
            write!(w, " (orig <{o}>)")?;
        }
        write!(w, "  {}", r.status.as_str())?;
        if r.deferrals > 0 {
            write!(w, " after {} deferral(s)", r.deferrals)?;
        }
        if let Some(relay) = &r.relay {
            write!(w, "  relay {relay}")?;
        }
        if let Some(d) = r.delay {
            write!(w, "  delay {d:.2}s")?;
        }
        if let Some(ds) = r.delays {
            write!(w, " ({}/{}/{}/{})", ds[0], ds[1], ds[2], ds[3])?;
        }
        if let Some(dsn) = &r.dsn {
            write!(w, "  dsn {dsn}")?;
        }
        if let Some(resp) = &r.response {
            write!(w, "  ({resp})")?;
        }
        writeln!(w)?;
    }
    for l in &f.lines {
        writeln!(w, "   | {l}")?;
    }
    writeln!(w)
}

fn summary(a: SummaryArgs) -> anyhow::Result<ExitCode> {
    let mut an = Analyzer::new(false, true, a.input.unparsed).summary_only();
    read_all(&a.input, &mut an, &mut |_| {})?;
    let (s, unparsed) = an.finish(a.top, &mut |_| {});
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    if a.input.json {
        let mut v = serde_json::to_value(&s)?;
        if a.input.unparsed
            && let Some(obj) = v.as_object_mut()
        {
            obj.insert("unparsed_lines".into(), serde_json::json!(unparsed));
        }
        serde_json::to_writer_pretty(&mut w, &v)?;
        writeln!(w)?;
    } else {
        write_summary(&mut w, &s)?;
        if a.input.unparsed && !unparsed.is_empty() {
            writeln!(w, "\nUnparsed lines ({}):", s.lines.unparsed)?;
            for l in &unparsed {
                writeln!(w, "  {l}")?;
            }
        }
    }
    w.flush()?;
    if !a.input.unparsed && s.lines.unparsed > 0 && !a.input.json {
        eprintln!(
            "mailward: {} line(s) not understood (see --unparsed)",
            s.lines.unparsed
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn write_summary(w: &mut impl Write, s: &Summary) -> std::io::Result<()> {
    let span = match (s.first, s.last) {
        (Some(a), Some(b)) => format!("{a} .. {b}"),
        _ => "-".into(),
    };
    writeln!(
        w,
        "Log: {} lines ({} parsed, {} other programs, {} not understood), {span}",
        s.lines.total, s.lines.parsed, s.lines.other_programs, s.lines.unparsed
    )?;
    writeln!(w)?;
    writeln!(w, "Messages")?;
    for (label, n) in [
        ("received", s.received),
        ("delivered", s.delivered),
        ("  forwarded (to another host)", s.forwarded),
        ("  delivered locally", s.delivered_locally),
        ("deferred (recipients)", s.deferred),
        ("  deferrals (attempts)", s.deferrals),
        ("bounced", s.bounced),
        ("expired", s.expired),
        ("still pending", s.pending),
        ("rejected", s.rejected),
        ("reject warnings", s.reject_warnings),
        ("notifications (DSNs sent)", s.notifications),
        ("hand-offs (content filter, forward)", s.handoffs),
        ("bytes received", s.bytes_received),
    ] {
        writeln!(w, "  {n:>12}  {label}")?;
    }
    let d = &s.delay;
    if d.count > 0 {
        writeln!(
            w,
            "\nDelivery delay (s) over {} deliveries: avg {:.2}  p50 {:.2}  p90 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}",
            d.count, d.avg, d.p50, d.p90, d.p95, d.p99, d.max
        )?;
        let st = &s.delay_stages;
        for (label, p) in [
            ("before queue manager", &st.before_queue_manager),
            ("in queue manager", &st.in_queue_manager),
            ("connection setup", &st.connection_setup),
            ("transmission", &st.transmission),
        ] {
            if p.count > 0 {
                writeln!(
                    w,
                    "  {label:<22} p50 {:.2}  p95 {:.2}  max {:.2}",
                    p.p50, p.p95, p.max
                )?;
            }
        }
    }
    let list = |w: &mut dyn Write,
                title: &str,
                v: &[mailward_logs::summary::Count]|
     -> std::io::Result<()> {
        if v.is_empty() {
            return Ok(());
        }
        writeln!(w, "\n{title}")?;
        for c in v {
            writeln!(w, "  {:>10}  {}", c.count, c.name)?;
        }
        Ok(())
    };
    list(w, "Rejected, by reason", &s.rejected_by_reason)?;
    if !s.errors_by_code.is_empty() {
        writeln!(w, "\nDeferrals and failures by SMTP reply")?;
        for (k, n) in &s.errors_by_code {
            writeln!(w, "  {n:>10}  {k}")?;
        }
    }
    list(w, "Top senders", &s.top_senders)?;
    list(w, "Top sender domains", &s.top_sender_domains)?;
    list(w, "Top recipients", &s.top_recipients)?;
    list(w, "Top recipient domains", &s.top_recipient_domains)?;
    list(w, "Top client hosts", &s.top_client_hosts)?;
    if !s.traffic_per_hour.is_empty() {
        writeln!(w, "\nTraffic per hour (UTC)      received  delivered")?;
        for h in &s.traffic_per_hour {
            writeln!(w, "  {}  {:>10} {:>10}", h.hour, h.received, h.delivered)?;
        }
    }
    if !s.sasl_failures.is_empty() {
        let mut v: Vec<_> = s.sasl_failures.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        writeln!(w, "\nSASL authentication failures per client IP")?;
        for (ip, n) in v {
            writeln!(w, "  {n:>10}  {ip}")?;
        }
        let per_protocol: Vec<String> = s
            .auth_failures_by_protocol
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        writeln!(w, "  by protocol: {}", per_protocol.join(", "))?;
    }
    if !s.brute_force.is_empty() {
        writeln!(
            w,
            "\nBrute-force bursts (>= {} failures from one IP within {} s)",
            mailward_logs::summary::BURST_THRESHOLD,
            mailward_logs::summary::BURST_WINDOW_SECS
        )?;
        for b in &s.brute_force {
            writeln!(
                w,
                "  {}  {} .. {}  {} failures",
                b.ip, b.start, b.end, b.failures
            )?;
        }
    }
    Ok(())
}

fn follow(a: FollowArgs) -> anyhow::Result<ExitCode> {
    let mut follower = Follower::new(&a.file, a.from_start)?;
    let mut an = Analyzer::new(!a.json, false, false);
    let json = a.json;
    let mut print = move |f: Flow| {
        let stdout = std::io::stdout();
        let mut w = stdout.lock();
        let r = if json {
            serde_json::to_writer(&mut w, &f)
                .map_err(std::io::Error::from)
                .and_then(|_| writeln!(w))
        } else {
            write_flow(&mut w, &f)
        };
        let _ = r.and_then(|_| w.flush());
    };
    let mut last_time: Option<Timestamp> = None;
    let mut idle = std::time::Instant::now();
    loop {
        let year = YearRef::current();
        let n = follower.poll(|line| {
            if let Some(t) = mailward_logs::parse::line_time(line, &year) {
                last_time = Some(t);
            }
            an.line(line, &year, &mut print);
        })?;
        if n > 0 {
            idle = std::time::Instant::now();
        } else if let Some(t) = last_time {
            // The log is quiet: advance the log clock by the idle time so held flows go out.
            let waited = idle.elapsed().as_micros() as i64;
            an.tick(Timestamp(t.0 + waited), &mut print);
        }
        if let Some(limit) = a.exit_when_idle
            && idle.elapsed().as_secs() >= limit
        {
            an.finish(0, &mut print);
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}
