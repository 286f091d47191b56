//! `mailward probe HOST[:PORT]`: connect to a mail server and report what it offers
//! (banner, EHLO, AUTH, STARTTLS and its certificates, an optional open-relay test, and for
//! a domain its MX, MTA-STS and DANE records). The work is `mailward_mta::probe`; this file
//! reads the command line, runs it and prints the report.
//!
//! Exit codes: 0 the server answered, 2 it could not be reached (or did not greet),
//! 1 with `--fail-on open-relay` when the relay test's recipient was accepted.

use crate::config;
use anyhow::{Context, bail};
use mailward_auth::Resolver;
use mailward_mta::outbound::ClientTls;
use mailward_mta::probe::{self, ProbeOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mailward probe mx.example.com
  mailward probe smtp.example.com:465 --implicit-tls
  mailward probe example.com --mx --json
  mailward probe mx.example.com --relay-test me@example.org you@example.net --fail-on open-relay

Exit status: 0 the server answered, 2 it could not be reached or did not greet, 1 with
--fail-on open-relay when the relay test's recipient was accepted.")]
pub struct ProbeArgs {
    /// HOST[:PORT] to probe (port 25, or 465 with --implicit-tls); with --mx, a domain whose
    /// best MX is probed.
    #[arg(value_name = "HOST[:PORT]", required_unless_present = "domain")]
    target: Option<String>,
    /// Look up this domain's MX records (probing the best MX unless HOST is given), its
    /// MTA-STS record and the probed host's DANE (TLSA) records.
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,
    /// HOST is a mail domain: probe its best MX (as --domain HOST).
    #[arg(long)]
    mx: bool,
    /// The port when HOST has none.
    #[arg(long)]
    port: Option<u16>,
    /// TLS from the first byte (SMTPS, port 465) instead of STARTTLS.
    #[arg(long)]
    implicit_tls: bool,
    /// Do not say STARTTLS even when it is offered.
    #[arg(long, conflicts_with = "implicit_tls")]
    no_tls: bool,
    /// The name to say in EHLO (default: `[server] hostname` with --config, else this
    /// machine's host name).
    #[arg(long, value_name = "NAME")]
    helo: Option<String>,
    /// How long each step may take (connect, each reply, the TLS handshake, each DNS
    /// lookup): 10s, 500ms, 1m.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    timeout: Duration,
    /// After EHLO (and TLS when offered): MAIL FROM:<FROM>, RCPT TO:<TO>, then RSET (never
    /// DATA). An accepted recipient in a domain the server does not serve is an open relay.
    #[arg(long, num_args = 2, value_names = ["FROM", "TO"])]
    relay_test: Option<Vec<String>>,
    /// DNS server to ask (IP or IP:PORT; repeatable), instead of `[dns] resolver` or the
    /// system's.
    #[arg(long, value_name = "IP:PORT")]
    resolver: Vec<String>,
    /// Extra trusted CA certificates (PEM) for the verification check, besides the system's.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Exit with 1 when this is found.
    #[arg(long, value_enum, value_name = "WHAT")]
    fail_on: Option<FailOn>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    /// The relay test's recipient was accepted.
    OpenRelay,
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = config::parse_duration(s)?;
    if d.is_zero() {
        return Err("the time-out must be more than 0".into());
    }
    Ok(d)
}

pub fn run(config_path: Option<PathBuf>, args: ProbeArgs) -> anyhow::Result<ExitCode> {
    let loaded = match &config_path {
        Some(p) => Some(config::load(Some(p))?),
        None => None,
    };
    let (host, port) = match &args.target {
        Some(t) => {
            let (h, p) = probe::target::parse(t).map_err(anyhow::Error::msg)?;
            (Some(h), p)
        }
        None => (None, None),
    };
    let domain = match (&args.domain, args.mx) {
        (Some(d), _) => Some(d.clone()),
        (None, true) => match &host {
            Some(h) if port.is_none() => Some(h.clone()),
            _ => bail!("--mx takes a bare domain (no port); use --port for the MX port"),
        },
        (None, false) => None,
    };
    // With --mx the argument names the domain, not the host.
    let host = if args.mx && args.domain.is_none() {
        None
    } else {
        host
    };
    let port = port
        .or(args.port)
        .unwrap_or(if args.implicit_tls { 465 } else { 25 });
    let relay_test = match args.relay_test.as_deref() {
        Some([from, to]) => {
            if !probe::relay::valid_path(from) || !probe::relay::valid_path(to) || to.is_empty() {
                bail!("--relay-test takes two plain addresses (FROM may be empty)");
            }
            Some((from.clone(), to.clone()))
        }
        _ => None,
    };
    let helo_name = args.helo.clone().unwrap_or_else(|| match &loaded {
        Some(l) => l.config.server.hostname.clone(),
        None => this_host_name(),
    });
    let servers = resolver_servers(&args.resolver, loaded.as_ref())?;
    let opts = ProbeOptions {
        host,
        port,
        domain,
        implicit_tls: args.implicit_tls,
        starttls: !args.no_tls,
        helo_name,
        timeout: args.timeout,
        relay_test,
    };
    let tls = ClientTls::new(args.ca_file.as_deref()).context("cannot set up TLS")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = rt.block_on(async {
        let resolver = if servers.is_empty() {
            None
        } else {
            Some(Resolver::with_servers(&servers).context("cannot set up the DNS resolver")?)
        };
        anyhow::Ok(probe::run(&opts, resolver.as_ref(), &tls).await)
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", probe::text::render(&report));
    }
    Ok(if !report.answered() {
        ExitCode::from(2)
    } else if args.fail_on == Some(FailOn::OpenRelay) && report.open_relay() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--resolver` when given, else `[dns] resolver` from `--config`; empty = the system's.
fn resolver_servers(
    given: &[String],
    loaded: Option<&config::Loaded>,
) -> anyhow::Result<Vec<SocketAddr>> {
    if given.is_empty() {
        return Ok(loaded
            .map(|l| l.config.dns.resolver.clone())
            .unwrap_or_default());
    }
    given
        .iter()
        .map(|s| {
            crate::config::parse_resolver(s)
                .ok_or_else(|| anyhow::anyhow!("invalid --resolver {s:?} (expected IP or IP:PORT)"))
        })
        .collect()
}

/// This machine's host name (Linux), `localhost` when it cannot be read.
fn this_host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_else(|| "localhost".into())
}
