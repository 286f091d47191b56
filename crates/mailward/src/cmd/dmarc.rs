//! `mailward dmarc read FILE|DIR|MAILDIR... [--json]`: the DMARC aggregate reports
//! (RFC 9990) and SMTP TLS reports (RFC 8460) others sent about our domains, per reporter
//! and source IP. Each file is read on its own: a broken one is named on stderr and the
//! rest are still shown (exit 1 if any was refused). Each source IP is shown with its
//! reverse DNS name (unless `--no-dns`) and, given `--geoip`/`--asn` databases (the ones
//! `trace` reads), its country and AS (`sources`).
//!
//! `mailward dmarc report`: the reports we would send ([`super::dmarc_report`]).

mod sources;

use crate::config;
use mailward_auth::report::{
    AggregateSummary, Limits, ReadReport, TlsSummary, read_report_file, report_files,
};
use mailward_message::datetime::format_rfc3339_utc;
use mailward_trace::geo::GeoDb;
use sources::{Enrich, SourceInfo, info_of};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DmarcArgs {
    #[command(subcommand)]
    command: DmarcCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DmarcCommand {
    /// Read DMARC aggregate reports (.xml, .xml.gz, .zip, or e-mails carrying them: .eml
    /// files, directories, Maildir folders) and SMTP TLS reports (.json, .json.gz, e-mails).
    Read {
        /// Report files, directories (walked) or Maildir folders (cur/ and new/).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
        /// Do not look up the source IPs' reverse DNS names.
        #[arg(long)]
        no_dns: bool,
        /// Ask this name server (IP or IP:PORT) instead of `[dns] resolver` or the system's.
        #[arg(long, value_name = "IP[:PORT]", conflicts_with = "no_dns")]
        dns_server: Option<String>,
        /// Location database (MaxMind format, as `trace --geoip`) for the sources' country.
        #[arg(long, value_name = "FILE.mmdb")]
        geoip: Option<PathBuf>,
        /// ASN database (as `trace --asn`) for the sources' AS number and organisation.
        #[arg(long, value_name = "FILE.mmdb")]
        asn: Option<PathBuf>,
    },
    /// Show the aggregate reports mailward would send (RFC 9990) for a period: per policy
    /// domain its rows and `rua` destinations (which the external check refuses), or the XML.
    Report {
        /// Only this policy domain.
        #[arg(long)]
        domain: Option<String>,
        /// `YYYY-MM-DD` (UTC), `today` or `yesterday`.
        #[arg(long, default_value = "today")]
        period: String,
        /// Print the XML documents instead of tables.
        #[arg(long, conflicts_with = "json")]
        xml: bool,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(config_path: Option<PathBuf>, args: DmarcArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DmarcCommand::Read {
            paths,
            json,
            no_dns,
            dns_server,
            geoip,
            asn,
        } => {
            let dns_servers = if no_dns {
                None
            } else {
                Some(match dns_server {
                    Some(s) => vec![config::parse_resolver(&s).ok_or_else(|| {
                        anyhow::anyhow!("invalid --dns-server {s:?} (expected IP or IP:PORT)")
                    })?],
                    None => match &config_path {
                        Some(p) => config::load(Some(p))?.config.dns.resolver.clone(),
                        None => Vec::new(),
                    },
                })
            };
            let geo = if geoip.is_some() || asn.is_some() {
                Some(GeoDb::open(geoip.as_deref(), asn.as_deref())?)
            } else {
                None
            };
            read(&paths, json, &Enrich { dns_servers, geo })
        }
        DmarcCommand::Report {
            domain,
            period,
            xml,
            json,
        } => super::dmarc_report::run(config_path, domain.as_deref(), &period, xml, json),
    }
}

/// One file's outcome.
struct Outcome {
    file: PathBuf,
    result: Result<ReadReport, String>,
}

fn read(paths: &[PathBuf], json: bool, enrich: &Enrich) -> anyhow::Result<ExitCode> {
    let limits = Limits::default();
    let mut outcomes = Vec::new();
    for path in paths {
        match report_files(path) {
            Ok(files) => outcomes.extend(files.into_iter().map(|file| Outcome {
                result: read_report_file(&file, &limits).map_err(|e| e.to_string()),
                file,
            })),
            Err(e) => outcomes.push(Outcome {
                file: path.clone(),
                result: Err(format!("cannot read: {e}")),
            }),
        }
    }
    for o in &outcomes {
        if let Err(e) = &o.result {
            eprintln!("mailward: {}: {e}", o.file.display());
        }
    }
    let read_ok: Vec<&ReadReport> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .collect();
    let sources = sources::look_up(&read_ok, enrich)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json_output(&outcomes, &sources))?
        );
    } else {
        print_text(&outcomes, &sources);
    }
    let failed = outcomes.iter().any(|o| o.result.is_err());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Default)]
struct Totals {
    aggregate_reports: u64,
    tls_reports: u64,
    messages: u64,
    dmarc_pass: u64,
    dmarc_fail: u64,
    tls_success: u64,
    tls_failure: u64,
    refused: u64,
}

fn totals(outcomes: &[Outcome]) -> Totals {
    let mut t = Totals::default();
    for o in outcomes {
        match &o.result {
            Ok(ReadReport::Aggregate(a)) => {
                t.aggregate_reports += 1;
                t.messages += a.total_messages;
                t.dmarc_pass += a.dmarc_pass_messages;
                t.dmarc_fail += a.dmarc_fail_messages;
            }
            Ok(ReadReport::Tls(r)) => {
                t.tls_reports += 1;
                t.tls_success += r.total_success;
                t.tls_failure += r.total_failure;
            }
            Err(_) => t.refused += 1,
        }
    }
    t
}

type Sources = BTreeMap<IpAddr, SourceInfo>;

/// Adds each record's `source` (reverse DNS, country, AS) next to its `source_ip`.
fn add_sources(report: &mut serde_json::Value, sources: &Sources) {
    let Some(records) = report.get_mut("records").and_then(|r| r.as_array_mut()) else {
        return;
    };
    for record in records {
        let info = record
            .get("source_ip")
            .and_then(|ip| ip.as_str())
            .and_then(|ip| info_of(sources, ip))
            .cloned()
            .unwrap_or_default();
        if let Some(obj) = record.as_object_mut() {
            obj.insert(
                "source".into(),
                serde_json::to_value(info).unwrap_or_default(),
            );
        }
    }
}

fn json_output(outcomes: &[Outcome], sources: &Sources) -> serde_json::Value {
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for o in outcomes {
        let file = o.file.display().to_string();
        match &o.result {
            Ok(report) => {
                let mut value = serde_json::to_value(report).unwrap_or_default();
                add_sources(&mut value, sources);
                if let Some(obj) = value.as_object_mut() {
                    obj.insert("file".into(), file.into());
                }
                reports.push(value);
            }
            Err(e) => errors.push(serde_json::json!({ "file": file, "error": e })),
        }
    }
    let t = totals(outcomes);
    serde_json::json!({
        "reports": reports,
        "errors": errors,
        "totals": {
            "aggregate_reports": t.aggregate_reports,
            "tls_reports": t.tls_reports,
            "messages": t.messages,
            "dmarc_pass": t.dmarc_pass,
            "dmarc_fail": t.dmarc_fail,
            "tls_sessions_success": t.tls_success,
            "tls_sessions_failure": t.tls_failure,
            "files_refused": t.refused,
        },
    })
}

fn print_text(outcomes: &[Outcome], sources: &Sources) {
    for o in outcomes {
        match &o.result {
            Ok(ReadReport::Aggregate(a)) => print_aggregate(&o.file, a, sources),
            Ok(ReadReport::Tls(r)) => print_tls(&o.file, r),
            Err(_) => {}
        }
    }
    let t = totals(outcomes);
    println!(
        "total: {} DMARC report(s), {} message(s): {} DMARC pass, {} fail; \
         {} TLS report(s): {} session(s) succeeded, {} failed; {} file(s) refused",
        t.aggregate_reports,
        t.messages,
        t.dmarc_pass,
        t.dmarc_fail,
        t.tls_reports,
        t.tls_success,
        t.tls_failure,
        t.refused
    );
}

fn date(unix: u64) -> String {
    format_rfc3339_utc(i64::try_from(unix).unwrap_or(i64::MAX))
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

fn print_aggregate(file: &Path, a: &AggregateSummary, sources: &Sources) {
    let p = &a.policy;
    println!("== {}", file.display());
    println!(
        "DMARC aggregate report from {} <{}>, id {}",
        or_dash(&a.org_name),
        or_dash(&a.email),
        or_dash(&a.report_id)
    );
    println!("  period: {} .. {}", date(a.begin), date(a.end));
    println!(
        "  policy: {} p={} sp={} adkim={} aspf={}{}",
        or_dash(&p.domain),
        p.p,
        p.sp,
        p.adkim,
        p.aspf,
        if p.testing { " (testing)" } else { "" }
    );
    println!(
        "  {:<39} {:>7}  {:<4}  {:<4}  {:<5}  {:<11}  {:<24}  AUTH RESULTS",
        "SOURCE IP", "COUNT", "SPF", "DKIM", "DMARC", "DISPOSITION", "HEADER FROM"
    );
    for r in &a.records {
        let mut auth: Vec<String> = r.dkim.iter().map(|d| format!("dkim {d}")).collect();
        auth.extend(r.spf.iter().map(|s| format!("spf {s}")));
        auth.extend(r.reasons.iter().map(|x| format!("override {x}")));
        println!(
            "  {:<39} {:>7}  {:<4}  {:<4}  {:<5}  {:<11}  {:<24}  {}",
            r.source_ip,
            r.count,
            r.spf_aligned,
            r.dkim_aligned,
            r.dmarc,
            r.disposition,
            or_dash(&r.header_from),
            auth.join(", ")
        );
        let about = info_of(sources, &r.source_ip).map(SourceInfo::describe);
        if let Some(about) = about.filter(|s| !s.is_empty()) {
            println!("    {about}");
        }
    }
    println!(
        "  {} message(s) from {} source(s): {} DMARC pass, {} fail",
        a.total_messages,
        a.records.len(),
        a.dmarc_pass_messages,
        a.dmarc_fail_messages
    );
    println!();
}

fn print_tls(file: &Path, r: &TlsSummary) {
    println!("== {}", file.display());
    println!(
        "SMTP TLS report from {}, id {}",
        or_dash(&r.org_name),
        or_dash(&r.report_id)
    );
    println!("  period: {} .. {}", r.begin, r.end);
    println!(
        "  {:<16} {:<32} {:>9} {:>9}  FAILURES",
        "POLICY", "DOMAIN", "SUCCESS", "FAILURE"
    );
    for p in &r.policies {
        println!(
            "  {:<16} {:<32} {:>9} {:>9}  {}",
            p.policy_type,
            or_dash(&p.policy_domain),
            p.success,
            p.failure,
            p.failures.join(", ")
        );
    }
    println!(
        "  {} session(s) succeeded, {} failed",
        r.total_success, r.total_failure
    );
    println!();
}
