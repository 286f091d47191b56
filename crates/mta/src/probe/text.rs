//! The probe report as text for a terminal: one section per step, the server's own lines
//! shown as it sent them, the findings last. Every string from the server was made
//! printable when it was read.

use super::lines::ReplyLines;
use super::mta_sts::StsRecord;
use super::report::{
    DaneReport, DomainReport, HelloReport, ProbeReport, RelayReport, RelayVerdict, Severity,
    TlsReport, TlsState,
};
use std::fmt::Write;

const WIDTH: usize = 12;

/// The whole report.
pub fn render(r: &ProbeReport) -> String {
    let mut out = String::new();
    if let Some(d) = &r.domain {
        domain(&mut out, d);
    }
    if !r.host.is_empty() {
        let _ = writeln!(
            out,
            "Probe {} port {}{}",
            r.host,
            r.port,
            if r.implicit_tls {
                " (implicit TLS)"
            } else {
                ""
            }
        );
        for a in &r.connect.attempts {
            if let Some(e) = &a.error {
                field(&mut out, "failed", &format!("{}: {e}", a.address));
            }
        }
        if let Some(addr) = &r.connect.address {
            let mut s = format!("{addr} in {} ms", r.connect.connect_ms.unwrap_or(0));
            if let Some(ms) = r.connect.banner_ms {
                let _ = write!(s, ", greeting after {ms} ms");
            }
            field(&mut out, "connected", &s);
        }
        if let Some(b) = &r.banner {
            reply(&mut out, "banner", b);
        }
    }
    if r.implicit_tls && r.tls.state != TlsState::NotReached {
        tls(&mut out, &r.tls);
    }
    if let Some(h) = &r.ehlo {
        hello(
            &mut out,
            if r.implicit_tls {
                "EHLO (over TLS)"
            } else {
                "EHLO (before TLS)"
            },
            h,
        );
    }
    if !r.implicit_tls && r.tls.state != TlsState::NotReached {
        tls(&mut out, &r.tls);
    }
    if let Some(h) = &r.ehlo_after_tls {
        hello(&mut out, "EHLO (after TLS)", h);
    }
    if let Some(t) = &r.relay_test {
        relay(&mut out, t);
    }
    if let Some(d) = &r.dane {
        dane(&mut out, d);
    }
    if !r.findings.is_empty() {
        out.push_str("Findings\n");
        for f in &r.findings {
            let tag = match f.severity {
                Severity::Problem => "problem",
                Severity::Warning => "warning",
                Severity::Note => "note",
            };
            let _ = writeln!(out, "  {tag:<8}  {}", f.text);
        }
    }
    out
}

fn field(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "  {label:<WIDTH$} {value}");
}

fn reply(out: &mut String, label: &str, r: &ReplyLines) {
    let mut first = true;
    for l in &r.lines {
        field(
            out,
            if first { label } else { "" },
            &format!("{} {l}", r.code),
        );
        first = false;
    }
    if r.lines.is_empty() {
        field(out, label, &r.code.to_string());
    }
}

fn domain(out: &mut String, d: &DomainReport) {
    let _ = writeln!(out, "Domain {}", d.domain);
    if d.mx.is_empty() {
        let what = if d.implicit_mx {
            format!("none: the domain itself receives mail ({})", d.domain)
        } else {
            "none".to_string()
        };
        field(out, "MX", &what);
    }
    for (i, mx) in d.mx.iter().enumerate() {
        let probed = if d.chosen.as_deref() == Some(mx.exchange.as_str()) {
            "  (probed)"
        } else {
            ""
        };
        field(
            out,
            if i == 0 { "MX" } else { "" },
            &format!("{:>5} {}{probed}", mx.preference, mx.exchange),
        );
    }
    if let Some(e) = &d.mx_error {
        field(out, "", e);
    }
    let s = &d.mta_sts;
    let state = match (&s.record, &s.lookup_error) {
        (_, Some(e)) => format!("lookup failed: {e}"),
        (StsRecord::Absent, None) => "no record".to_string(),
        (StsRecord::Published { id }, None) => {
            format!(
                "published, id={id} (policy at {}, not fetched)",
                s.policy_url
            )
        }
        (StsRecord::Invalid { reason }, None) => format!("invalid record: {reason}"),
    };
    field(out, "MTA-STS", &format!("{}: {state}", s.name));
}

fn hello(out: &mut String, title: &str, h: &HelloReport) {
    let _ = writeln!(out, "{title}{}", if h.esmtp { "" } else { ": HELO only" });
    reply(out, "reply", &h.reply);
    if let Some(size) = h.size {
        field(out, "size limit", &format!("{size} octets"));
    }
    field(
        out,
        "AUTH",
        &if h.auth.is_empty() {
            "not offered".to_string()
        } else {
            h.auth.join(" ")
        },
    );
}

fn tls(out: &mut String, t: &TlsReport) {
    let _ = write!(out, "TLS");
    match t.state {
        TlsState::NotReached => out.push_str(": not reached\n"),
        TlsState::NotOffered => out.push_str(": STARTTLS not offered\n"),
        TlsState::NotTried => out.push_str(": STARTTLS offered, not tried (--no-tls)\n"),
        TlsState::Refused => {
            out.push_str(": STARTTLS refused\n");
            if let Some(r) = &t.refusal {
                reply(out, "reply", r);
            }
        }
        TlsState::Failed => {
            let _ = writeln!(
                out,
                ": handshake failed: {}",
                t.error.as_deref().unwrap_or("unknown error")
            );
        }
        TlsState::Established => {
            let _ = writeln!(
                out,
                " {} {}",
                t.version.as_deref().unwrap_or("?"),
                t.cipher.as_deref().unwrap_or("?")
            );
            let name = t.verify_name.as_deref().unwrap_or("?");
            let verdict = match (t.verified, &t.verify_error) {
                (Some(true), _) => format!("yes, for {name} (system roots)"),
                (_, Some(e)) => format!("no, for {name}: {e}"),
                _ => "no".to_string(),
            };
            field(out, "verified", &verdict);
            for (i, c) in t.chain.iter().enumerate() {
                field(out, &format!("cert {i}"), &c.subject);
                field(out, "  issuer", &c.issuer);
                let mut names = c.dns_names.clone();
                names.extend(c.ip_addresses.iter().cloned());
                if c.names_truncated {
                    names.push("...".into());
                }
                if !names.is_empty() {
                    field(out, "  names", &names.join(", "));
                }
                let left = if c.expired_or_not_yet_valid {
                    "NOT VALID NOW".to_string()
                } else {
                    format!("{} days left", c.days_to_expiry)
                };
                field(
                    out,
                    "  valid",
                    &format!("{} to {} ({left})", c.not_before, c.not_after),
                );
                field(out, "  key", &format!("{}, sha256 {}", c.key, c.sha256));
            }
            for e in &t.chain_errors {
                field(out, "cert", e);
            }
        }
    }
}

fn relay(out: &mut String, t: &RelayReport) {
    let verdict = match t.verdict {
        RelayVerdict::Accepted => "ACCEPTED: open relay",
        RelayVerdict::Refused => "refused",
        RelayVerdict::SenderRefused => "sender refused",
        RelayVerdict::Incomplete => "incomplete",
    };
    let _ = writeln!(
        out,
        "Relay test: {verdict}{}",
        if t.over_tls { " (over TLS)" } else { "" }
    );
    if let Some(m) = &t.mail {
        field(out, "MAIL FROM", &format!("<{}>: {}", t.from, m.one_line()));
    }
    if let Some(r) = &t.rcpt {
        field(out, "RCPT TO", &format!("<{}>: {}", t.to, r.one_line()));
    }
    if let Some(e) = &t.error {
        field(out, "error", e);
    }
}

fn dane(out: &mut String, d: &DaneReport) {
    let _ = writeln!(out, "DANE {}", d.name);
    if let Some(l) = &d.lookup {
        field(out, "TLSA", l);
    }
    for r in &d.records {
        let data = if r.data.len() > 24 {
            format!("{}...", r.data.get(..24).unwrap_or_default())
        } else {
            r.data.clone()
        };
        let matched = match r.matches_certificate {
            Some(i) => format!("matches cert {i}"),
            None => "matches nothing presented".to_string(),
        };
        let usable = if r.usable { "" } else { ", unusable for SMTP" };
        field(
            out,
            "TLSA",
            &format!(
                "{} {} {} {data} ({}{usable}; {matched})",
                r.usage, r.selector, r.matching, r.usage_name
            ),
        );
    }
    field(out, "DNSSEC", &d.dnssec);
}
