//! `mailward probe`: connect to a mail server and report what a sending MTA would meet
//! there (issue 15), beyond what telnet shows: connect time, banner, EHLO capabilities and
//! AUTH mechanisms before and after TLS, STARTTLS (or implicit TLS) with version, cipher and
//! the certificate chain (names, expiry, whether it verifies for the host), an optional
//! open-relay test, and for a domain its MX, MTA-STS and DANE records.
//!
//! The probe uses mailward's own outbound client ([`crate::outbound`]), so it meets a server
//! exactly as delivery does. The result is one [`ProbeReport`] (serde `Serialize`), shown as
//! text by [`text::render`] or as JSON.

pub mod cert;
pub mod conversation;
pub mod dane;
pub mod domain;
pub mod lines;
pub mod mta_sts;
pub mod relay;
pub mod report;
pub mod target;
pub mod text;

pub use report::{ProbeReport, RelayVerdict, Severity, TlsState};

use crate::outbound::ClientTls;
use mailward_auth::Resolver;
use std::net::IpAddr;
use std::time::Duration;

/// What to probe and how.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The host; `None` with `domain`: the domain's best MX.
    pub host: Option<String>,
    pub port: u16,
    /// Look up this domain's MX, MTA-STS and the probed host's TLSA records.
    pub domain: Option<String>,
    /// TLS from the first byte (port 465, RFC 8314 §3) instead of STARTTLS.
    pub implicit_tls: bool,
    /// Say STARTTLS when the server offers it.
    pub starttls: bool,
    /// The name said in EHLO.
    pub helo_name: String,
    /// Each step's time-out (connect, every reply, the handshake, every DNS lookup).
    pub timeout: Duration,
    /// `(FROM, TO)`: MAIL FROM and RCPT TO, then RSET.
    pub relay_test: Option<(String, String)>,
}

/// Runs the probe. `resolver` answers every DNS question when given (`--resolver`,
/// `[dns] resolver`); without it host names go through the system's lookup and domain
/// questions through the system's name servers.
pub async fn run(opts: &ProbeOptions, resolver: Option<&Resolver>, tls: &ClientTls) -> ProbeReport {
    let mut report = ProbeReport {
        port: opts.port,
        implicit_tls: opts.implicit_tls,
        ..ProbeReport::default()
    };
    let system;
    let dns = match resolver {
        Some(r) => Ok(r),
        None if opts.domain.is_some() => {
            system = Resolver::system();
            system.as_ref().map_err(ToString::to_string)
        }
        None => Err(String::new()),
    };
    if let Some(d) = &opts.domain {
        report.domain = Some(match &dns {
            Ok(r) => domain::lookup(r, d, opts.timeout).await,
            Err(e) => report::DomainReport {
                domain: d.clone(),
                mx_error: Some(format!("cannot set up the DNS resolver: {e}")),
                ..report::DomainReport::default()
            },
        });
    }
    let chosen = report.domain.as_ref().and_then(|d| d.chosen.clone());
    let Some(host) = opts.host.clone().or(chosen) else {
        report.error = Some(
            report
                .domain
                .as_ref()
                .and_then(|d| d.mx_error.clone())
                .unwrap_or_else(|| "no host to probe".into()),
        );
        report.judge();
        return report;
    };
    report.host = host.clone();
    let chain = match target::addresses(&host, opts.port, resolver, opts.timeout).await {
        Ok(addresses) => conversation::run(&mut report, opts, &host, &addresses, tls).await,
        Err(e) => {
            report.error = Some(e);
            Vec::new()
        }
    };
    if opts.domain.is_some()
        && host.parse::<IpAddr>().is_err()
        && let Ok(r) = &dns
    {
        report.dane = Some(domain::dane(r, &host, opts.port, &chain, opts.timeout).await);
    }
    report.judge();
    report
}
