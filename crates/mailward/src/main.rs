//! `mailward`: a complete mail system and the forensic tools to investigate it.
//!
//! This file only parses the command line and dispatches; each subcommand lives in
//! `cmd/<name>.rs`. Exit codes: 0 success, 1 a `--fail-on` threshold was reached,
//! 2 usage or I/O error.

mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mailward: an MTA, MDA, IMAP/POP3 server and mail forensics toolkit in one binary.
#[derive(Debug, Parser)]
#[command(name = "mailward", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Trace messages through their headers: hops, delays, origin, provider, geolocation,
    /// authentication and spoofing signs.
    Trace(cmd::trace::TraceArgs),
    /// Reconstruct message flows and summaries from Postfix, Exim and mailward logs.
    Logs(cmd::logs::LogsArgs),
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
        Command::Trace(args) => cmd::trace::run(args),
        Command::Logs(args) => cmd::logs::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("mailward: {err:#}");
            ExitCode::from(2)
        }
    }
}
