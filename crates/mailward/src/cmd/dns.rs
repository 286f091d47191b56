//! `mailward dns check DOMAIN [--json] [--dns-server IP:PORT] [--selector S]...`: audit a
//! domain's mail records (MX, reverse DNS, SPF, DMARC, DKIM, MTA-STS, TLS-RPT), each item
//! pass/warn/fail with the reason and the fix. Exit 1 when something fails, 0 otherwise,
//! 2 when the check could not run.

use crate::config;
use anyhow::Context;
use mailward_auth::Resolver;
use mailward_auth::dnscheck::{self, Options};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DnsArgs {
    #[command(subcommand)]
    command: DnsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DnsCommand {
    /// Audit a domain's mail records: MX (addresses, forward-confirmed reverse DNS), SPF
    /// (syntax, lookup limits, all), DMARC, DKIM keys, MTA-STS and TLS-RPT records.
    Check {
        /// The domain to audit.
        domain: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Ask this name server (IP or IP:PORT) instead of `[dns] resolver` or the system's.
        #[arg(long, value_name = "IP:PORT")]
        dns_server: Option<String>,
        /// A DKIM selector to check (repeatable); without it, common selectors are tried.
        #[arg(long = "selector", value_name = "S")]
        selectors: Vec<String>,
    },
}

pub fn run(config_path: Option<PathBuf>, args: DnsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DnsCommand::Check {
            domain,
            json,
            dns_server,
            selectors,
        } => check(config_path, &domain, json, dns_server.as_deref(), selectors),
    }
}

fn check(
    config_path: Option<PathBuf>,
    domain: &str,
    json: bool,
    dns_server: Option<&str>,
    selectors: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let servers = match dns_server {
        Some(s) => vec![config::parse_resolver(s).ok_or_else(|| {
            anyhow::anyhow!("invalid --dns-server {s:?} (expected IP or IP:PORT)")
        })?],
        None => match &config_path {
            Some(p) => config::load(Some(p))?.config.dns.resolver.clone(),
            None => Vec::new(),
        },
    };
    let domain = domain.trim().trim_end_matches('.');
    if domain.is_empty() || !domain.contains('.') || domain.contains(char::is_whitespace) {
        anyhow::bail!("{domain:?} is not a domain name");
    }
    let options = if selectors.is_empty() {
        let days = mailward_store::ids::unix_now().div_euclid(86_400);
        let (year, month, _) = mailward_message::datetime::civil_from_days(days);
        Options {
            selectors: dnscheck::common_selectors(year, u32::try_from(month).unwrap_or(1)),
            selectors_guessed: true,
        }
    } else {
        Options {
            selectors,
            selectors_guessed: false,
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = rt.block_on(async {
        let resolver = Resolver::from_config(&servers).context("cannot set up the DNS resolver")?;
        anyhow::Ok(dnscheck::check(&resolver, domain, &options).await)
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", dnscheck::render_text(&report));
    }
    Ok(if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
