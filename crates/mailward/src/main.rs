//! `mailward`: a complete mail system and the forensic tools to investigate it.
//!
//! This file only parses the command line and dispatches; each subcommand lives in
//! `cmd/<name>.rs`. Exit codes: 0 success, 1 a `--fail-on` threshold was reached,
//! 2 usage or I/O error.

mod cmd;
mod config;
mod dmarc_reports;
mod outbound;
mod sieve_delivery;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mailward: an MTA, MDA, IMAP/POP3 server and mail forensics toolkit in one binary.
#[derive(Debug, Parser)]
#[command(name = "mailward", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Configuration file (TOML); without it the embedded default is used.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Trace messages: hops, delays, origin, provider, geolocation, authentication,
    /// spoofing signs, and phishing signs in links and attachments, with a verdict.
    Trace(cmd::trace::TraceArgs),
    /// Reconstruct message flows and summaries from Postfix, Exim and mailward logs.
    Logs(cmd::logs::LogsArgs),
    /// Run the mail server: SMTP (25), submission (587), SMTPS (465), queue, local delivery,
    /// outbound delivery by MX (STARTTLS, MTA-STS, DKIM signing, DSNs),
    /// IMAP (143, 993), POP3 (110, 995), Sieve in delivery, ManageSieve (4190) and the
    /// `[[fetch]]` pollers.
    Serve(cmd::serve::ServeArgs),
    /// Manage mail accounts.
    Account(cmd::account::AccountArgs),
    /// Manage aliases and domain catch-alls.
    Alias(cmd::alias::AliasArgs),
    /// Inspect and manage the mail queue.
    Queue(cmd::queue::QueueArgs),
    /// What the security gateway held, and the originals of disarmed messages: list, show,
    /// release (deliver to the recipients), delete.
    Quarantine(cmd::quarantine::QuarantineArgs),
    /// DKIM signing keys for outbound mail.
    Dkim(cmd::dkim::DkimArgs),
    /// DMARC aggregate and SMTP TLS reports: `read` shows the ones other servers sent,
    /// `report` the aggregate reports mailward sends.
    Dmarc(cmd::dmarc::DmarcArgs),
    /// Audit a domain's mail DNS records (MX, SPF, DMARC, DKIM, MTA-STS, TLS-RPT): `check`.
    Dns(cmd::dns::DnsArgs),
    /// Remote mailboxes (`[[fetch]]`): `--once` polls each POP3/IMAP entry once and
    /// delivers what it took into the local accounts.
    Fetch(cmd::fetch::FetchArgs),
    /// Connect to a mail server and test it: banner, EHLO, AUTH before and after TLS,
    /// STARTTLS with the certificate chain and its expiry, an open-relay test, and for a
    /// domain its MX, MTA-STS and DANE records.
    Probe(cmd::probe::ProbeArgs),
    /// Sieve scripts: `check` a script, `test` what it would do with a message; an
    /// account's scripts: `put`, `list`, `get`, `activate`, `del`, `rename`.
    Sieve(cmd::sieve::SieveArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Trace(args) => cmd::trace::run(cli.config, args),
        Command::Logs(args) => cmd::logs::run(args),
        Command::Serve(args) => cmd::serve::run(cli.config, args),
        Command::Account(args) => cmd::account::run(cli.config, args),
        Command::Alias(args) => cmd::alias::run(cli.config, args),
        Command::Queue(args) => cmd::queue::run(cli.config, args),
        Command::Quarantine(args) => cmd::quarantine::run(cli.config, args),
        Command::Dkim(args) => cmd::dkim::run(cli.config, args),
        Command::Dmarc(args) => cmd::dmarc::run(cli.config, args),
        Command::Dns(args) => cmd::dns::run(cli.config, args),
        Command::Probe(args) => cmd::probe::run(cli.config, args),
        Command::Sieve(args) => cmd::sieve::run(cli.config, args),
        Command::Fetch(args) => cmd::fetch::run(cli.config, args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("mailward: {err:#}");
            ExitCode::from(2)
        }
    }
}
