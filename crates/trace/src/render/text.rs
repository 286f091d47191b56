//! The terminal report: message identity, a hop table with delays, trust, origin,
//! provider, geolocation, authentication and findings. Colour is optional (plain ANSI SGR
//! codes, no crate), and every header-derived string goes through [`super::clean`].

use super::{clean, geo_line, human_delay, truncate};
use crate::report::{DsnReport, Hop, Report, Severity};
use std::fmt::Write;

/// ANSI SGR styles; all empty when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub bold: &'static str,
    pub dim: &'static str,
    pub red: &'static str,
    pub yellow: &'static str,
    pub green: &'static str,
    pub cyan: &'static str,
    pub reset: &'static str,
}

impl Palette {
    pub const COLOR: Palette = Palette {
        bold: "\x1b[1m",
        dim: "\x1b[2m",
        red: "\x1b[1;31m",
        yellow: "\x1b[33m",
        green: "\x1b[32m",
        cyan: "\x1b[36m",
        reset: "\x1b[0m",
    };
    pub const PLAIN: Palette = Palette {
        bold: "",
        dim: "",
        red: "",
        yellow: "",
        green: "",
        cyan: "",
        reset: "",
    };

    pub fn new(color: bool) -> Palette {
        if color {
            Palette::COLOR
        } else {
            Palette::PLAIN
        }
    }

    /// The style for a finding's severity.
    pub fn severity(&self, severity: Severity) -> &'static str {
        match severity {
            Severity::Critical => self.red,
            Severity::Warning => self.yellow,
            Severity::Info => self.cyan,
        }
    }

    /// The style for an authentication verdict (`pass`, `fail`, ...).
    pub fn verdict(&self, verdict: &str) -> &'static str {
        match verdict.to_ascii_lowercase().as_str() {
            "pass" => self.green,
            "fail" | "permerror" => self.red,
            "softfail" | "temperror" | "policy" => self.yellow,
            _ => self.dim,
        }
    }
}

/// Widest host cell in the hop table, in characters.
const HOST_WIDTH: usize = 46;
/// Width of the label column.
const LABEL: usize = 12;

/// Appends the report for one message.
pub fn render(report: &Report, color: bool, out: &mut String) {
    let p = Palette::new(color);
    let source = clean(&report.source);
    let _ = writeln!(out, "{}━━ {source}{}", p.bold, p.reset);
    message_info(report, &p, out);
    hops(report, &p, out);
    trust_origin_provider(report, &p, out);
    authentication(report, &p, out);
    if let Some(dsn) = &report.dsn {
        delivery_report(dsn, &p, out);
    }
    findings(report, &p, out);
    out.push('\n');
}

fn field(out: &mut String, p: &Palette, label: &str, value: &str) {
    let _ = writeln!(out, "{}{label:<LABEL$}{} {}", p.bold, p.reset, clean(value));
}

fn message_info(report: &Report, p: &Palette, out: &mut String) {
    let m = &report.message;
    let rows: [(&str, Option<&str>); 7] = [
        ("Subject", m.subject.as_deref()),
        ("From", m.from.as_deref()),
        ("Sender", m.sender.as_deref()),
        ("Reply-To", m.reply_to.as_deref()),
        ("Return-Path", m.return_path.as_deref()),
        ("Date", m.date.as_deref()),
        ("Message-ID", m.message_id.as_deref()),
    ];
    for (label, value) in rows {
        if let Some(value) = value {
            field(out, p, label, value);
        }
    }
    if !m.to.is_empty() {
        field(out, p, "To", &m.to.join(", "));
    }
}

/// `host [ip] rdns=... CC` for a hop's sending side.
fn from_cell(hop: &Hop) -> String {
    let mut cell = hop.from_host.clone().unwrap_or_default();
    if let Some(rdns) = hop.from_rdns.as_deref()
        && Some(rdns) != hop.from_host.as_deref()
    {
        if !cell.is_empty() {
            cell.push(' ');
        }
        let _ = write!(cell, "({rdns})");
    }
    if let Some(ip) = hop.from_ip {
        if !cell.is_empty() {
            cell.push(' ');
        }
        let _ = write!(cell, "[{ip}]");
    }
    if let Some(country) = hop.geo.as_ref().and_then(|g| g.country.as_deref()) {
        let _ = write!(cell, " {country}");
    }
    if cell.is_empty() {
        cell.push('?');
    }
    cell
}

fn hops(report: &Report, p: &Palette, out: &mut String) {
    if report.hops.is_empty() {
        let _ = writeln!(
            out,
            "{}{:<LABEL$}{} none (no Received headers)",
            p.bold, "Hops", p.reset
        );
        return;
    }
    let _ = writeln!(
        out,
        "\n{}Hops{} (oldest first; * = past the trust boundary)",
        p.bold, p.reset
    );
    hop_table(&report.hops, p, out);
}

/// The table of `hops`: number, time, delay, sender, receiver, protocol.
fn hop_table(hops: &[Hop], p: &Palette, out: &mut String) {
    struct Row {
        index: String,
        time: String,
        delay: String,
        delay_style: &'static str,
        from: String,
        by: String,
        with: String,
        trusted: bool,
    }
    let rows: Vec<Row> = hops
        .iter()
        .map(|hop| {
            let delay_style = match hop.delay_seconds {
                Some(d) if d < 0 => p.red,
                Some(d) if d >= 3600 => p.yellow,
                _ => "",
            };
            let mut with = hop.protocol.clone().unwrap_or_default();
            if let Some(tls) = hop.tls.as_deref() {
                let _ = write!(with, " {}", tls.split_whitespace().next().unwrap_or(tls));
            }
            if hop.authenticated.is_some() {
                with.push_str(" auth");
            }
            Row {
                index: format!("{}{}", hop.index, if hop.trusted { " " } else { "*" }),
                time: hop
                    .timestamp
                    .as_deref()
                    .map(|t| t.replacen('T', " ", 1).trim_end_matches('Z').to_string())
                    .unwrap_or_else(|| "-".into()),
                delay: hop.delay_seconds.map_or_else(|| "-".into(), human_delay),
                delay_style,
                from: truncate(&clean(&from_cell(hop)), HOST_WIDTH).into_owned(),
                by: truncate(
                    &clean(hop.by_host.as_deref().unwrap_or("?")),
                    HOST_WIDTH / 2 + 8,
                )
                .into_owned(),
                with: truncate(&clean(&with), 24).into_owned(),
                trusted: hop.trusted,
            }
        })
        .collect();
    let width = |f: fn(&Row) -> &str, title: &str| {
        rows.iter()
            .map(|r| f(r).chars().count())
            .chain([title.chars().count()])
            .max()
            .unwrap_or(0)
    };
    let w_index = width(|r| &r.index, "#");
    let w_time = width(|r| &r.time, "received (UTC)");
    let w_delay = width(|r| &r.delay, "delay");
    let w_from = width(|r| &r.from, "from");
    let w_by = width(|r| &r.by, "by");
    let _ = writeln!(
        out,
        "  {}{:>w_index$}  {:<w_time$}  {:>w_delay$}  {:<w_from$}  {:<w_by$}  with{}",
        p.dim, "#", "received (UTC)", "delay", "from", "by", p.reset
    );
    for r in &rows {
        let (start, end) = if r.trusted {
            ("", "")
        } else {
            (p.dim, p.reset)
        };
        let delay = format!("{:>w_delay$}", r.delay);
        let delay = if r.delay_style.is_empty() {
            delay
        } else {
            format!("{}{delay}{}{start}", r.delay_style, p.reset)
        };
        let _ = writeln!(
            out,
            "  {start}{:>w_index$}  {:<w_time$}  {delay}  {:<w_from$}  {:<w_by$}  {}{end}",
            r.index,
            r.time,
            r.from,
            r.by,
            r.with.trim(),
        );
    }
    out.push('\n');
}

fn trust_origin_provider(report: &Report, p: &Palette, out: &mut String) {
    let trust = &report.trust;
    let mut line = format!(
        "{} of {} hops trusted",
        trust.trusted_hops,
        report.hops.len()
    );
    if !trust.reason.is_empty() {
        let _ = write!(line, ": {}", trust.reason);
    }
    field(out, p, "Trust", &line);
    match &report.origin {
        Some(origin) => {
            let mut line = origin
                .ip
                .map(|ip| ip.to_string())
                .unwrap_or_else(|| "?".into());
            if let Some(host) = origin.host.as_deref() {
                let _ = write!(line, " ({host})");
            }
            if let Some(class) = origin.ip_class.filter(|c| !c.is_public()) {
                let _ = write!(line, " [{}]", class.as_str());
            }
            let mut from = origin.source.clone();
            if let Some(hop) = origin.hop {
                let _ = write!(from, " hop {hop}");
            }
            if !from.is_empty() {
                let _ = write!(line, ", from {from}");
            }
            field(out, p, "Origin", &line);
            if !origin.reason.is_empty() {
                field(out, p, "", &origin.reason);
            }
            if let Some(geo) = origin.geo.as_ref().and_then(geo_line) {
                field(out, p, "Geo", &geo);
            }
        }
        None => field(out, p, "Origin", "unknown"),
    }
    match &report.provider {
        Some(provider) if provider.evidence.is_empty() => field(out, p, "Provider", &provider.name),
        Some(provider) => field(
            out,
            p,
            "Provider",
            &format!("{} ({})", provider.name, provider.evidence),
        ),
        None => field(out, p, "Provider", "unknown"),
    }
}

fn authentication(report: &Report, p: &Palette, out: &mut String) {
    let auth = &report.authentication;
    let mut line = String::new();
    for (method, verdict) in [
        ("spf", &auth.spf),
        ("dkim", &auth.dkim),
        ("dmarc", &auth.dmarc),
        ("arc", &auth.arc),
    ] {
        let verdict = clean(verdict.as_deref().unwrap_or("none"));
        let _ = write!(
            line,
            "{method}={}{verdict}{}  ",
            p.verdict(&verdict),
            p.reset
        );
    }
    if auth.verified {
        line.push_str("(re-verified)");
    }
    let _ = writeln!(
        out,
        "{}{:<LABEL$}{} {}",
        p.bold,
        "Auth",
        p.reset,
        line.trim_end()
    );
    if let Some(al) = &auth.alignment {
        let yes_no = |b: bool| if b { "aligned" } else { "not aligned" };
        let spf = al.spf_domain.as_deref().unwrap_or("-");
        let dkim = if al.dkim_domains.is_empty() {
            "-".to_string()
        } else {
            al.dkim_domains.join(",")
        };
        field(
            out,
            p,
            "Alignment",
            &format!(
                "From {}: SPF {spf} {}, DKIM {dkim} {}",
                al.from_domain,
                yes_no(al.spf_aligned),
                yes_no(al.dkim_aligned)
            ),
        );
    }
    for sig in &auth.dkim_signatures {
        let mut line = format!(
            "d={} s={}",
            sig.domain.as_deref().unwrap_or("?"),
            sig.selector.as_deref().unwrap_or("?")
        );
        if let Some(a) = sig.algorithm.as_deref() {
            let _ = write!(line, " a={a}");
        }
        if let Some(result) = sig.result.as_deref() {
            let _ = write!(line, " => {result}");
        }
        field(out, p, "DKIM-Sig", &line);
    }
}

/// A delivery status notification: the reporting server, each recipient's fate and the
/// returned message with its hops.
fn delivery_report(dsn: &DsnReport, p: &Palette, out: &mut String) {
    let mut line = dsn.kind.clone();
    if let Some(mta) = dsn.reporting_mta.as_deref() {
        let _ = write!(line, " from {mta}");
    }
    let _ = writeln!(
        out,
        "\n{}Delivery report{} {}",
        p.bold,
        p.reset,
        clean(&line)
    );
    if let Some(id) = dsn.queue_id.as_deref() {
        let mut line = id.to_string();
        if let Some(field) = dsn.queue_id_field.as_deref() {
            let _ = write!(line, " ({field})");
        }
        field(out, p, "Queue ID", &line);
    }
    for (label, value) in [
        ("Arrival", dsn.arrival_date.as_deref()),
        ("Envelope-ID", dsn.original_envelope_id.as_deref()),
        ("From MTA", dsn.received_from_mta.as_deref()),
        ("DSN gateway", dsn.dsn_gateway.as_deref()),
    ] {
        if let Some(value) = value {
            field(out, p, label, value);
        }
    }
    if dsn.recipients.is_empty() {
        field(out, p, "Recipients", "none named");
    }
    for r in &dsn.recipients {
        let action = r.action.as_deref().unwrap_or("?");
        let style = match action {
            "failed" => p.red,
            "delayed" => p.yellow,
            "delivered" | "relayed" | "expanded" => p.green,
            _ => "",
        };
        let mut status = String::new();
        if let Some(code) = r.status.as_deref() {
            let _ = write!(status, " {}", truncate(code, 40));
        }
        match (r.status_class.as_deref(), r.status_meaning.as_deref()) {
            (Some(class), Some(meaning)) => {
                let _ = write!(status, " {class}: {meaning}");
            }
            (Some(class), None) => {
                let _ = write!(status, " {class}");
            }
            _ => {}
        }
        let _ = writeln!(
            out,
            "{}{:<LABEL$}{} {} {style}{}{}{}",
            p.bold,
            "Recipient",
            p.reset,
            clean(r.final_recipient.as_deref().unwrap_or("?")),
            clean(action),
            if style.is_empty() { "" } else { p.reset },
            clean(&status),
        );
        // The original address only when it says something the final one does not.
        let original = r
            .original_recipient
            .as_deref()
            .filter(|o| Some(*o) != r.final_recipient.as_deref());
        for (label, value) in [
            ("original", original),
            ("remote MTA", r.remote_mta.as_deref()),
            ("diagnostic", r.diagnostic_code.as_deref()),
            ("last try", r.last_attempt_date.as_deref()),
            ("retry until", r.will_retry_until.as_deref()),
            ("log ID", r.final_log_id.as_deref()),
        ] {
            if let Some(value) = value {
                let _ = writeln!(
                    out,
                    "{:<LABEL$}   {}{label:<11}{} {}",
                    "",
                    p.dim,
                    p.reset,
                    clean(&truncate(value, 300))
                );
            }
        }
    }
    if dsn.recipients_omitted > 0 {
        field(
            out,
            p,
            "",
            &format!("{} more recipients not read", dsn.recipients_omitted),
        );
    }
    let Some(back) = &dsn.returned else {
        field(
            out,
            p,
            "Returned",
            "nothing (no original message or header)",
        );
        return;
    };
    let what = if back.content == "message" {
        "the whole message"
    } else {
        "its header"
    };
    field(out, p, "Returned", what);
    let m = &back.message;
    for (label, value) in [
        ("  Message-ID", m.message_id.as_deref()),
        ("  From", m.from.as_deref()),
        ("  Subject", m.subject.as_deref()),
        ("  Date", m.date.as_deref()),
    ] {
        if let Some(value) = value {
            field(out, p, label, value);
        }
    }
    if !m.to.is_empty() {
        field(out, p, "  To", &m.to.join(", "));
    }
    if back.hops.is_empty() {
        field(out, p, "  Hops", "none (no Received headers)");
    } else {
        let _ = writeln!(
            out,
            "  {}Hops of the returned message{} ({} of {} trusted)",
            p.bold,
            p.reset,
            back.trust.trusted_hops,
            back.hops.len()
        );
        hop_table(&back.hops, p, out);
    }
}

fn findings(report: &Report, p: &Palette, out: &mut String) {
    if report.findings.is_empty() {
        field(out, p, "Findings", "none");
    } else {
        let _ = writeln!(out, "{}Findings{}", p.bold, p.reset);
        for f in &report.findings {
            let sev = f.severity.as_str().to_ascii_uppercase();
            let _ = writeln!(
                out,
                "  {}{sev:<8}{} {:<24} {}",
                p.severity(f.severity),
                p.reset,
                f.code,
                clean(&f.message)
            );
            for e in &f.evidence {
                let mut line = String::new();
                if let Some(t) = &e.text {
                    let _ = write!(line, "\"{}\"", super::truncate(t, 80));
                }
                if let Some(t) = &e.target {
                    let _ = write!(line, " → {}", super::truncate(t, 100));
                }
                if let Some(d) = &e.domain {
                    let _ = write!(line, " ({d})");
                }
                let _ = writeln!(
                    out,
                    "  {}{:<8} {:<24} {}:{} {}",
                    p.dim,
                    "",
                    "",
                    e.kind,
                    p.reset,
                    clean(line.trim())
                );
            }
        }
    }
    let style = match report.verdict {
        crate::report::Verdict::PhishingLikely => p.red,
        crate::report::Verdict::Suspicious => p.yellow,
        crate::report::Verdict::CleanSoFar => p.green,
    };
    let deciding = if report.verdict_findings.is_empty() {
        String::new()
    } else {
        format!(" ({})", report.verdict_findings.join(", "))
    };
    let _ = writeln!(
        out,
        "{}{:<LABEL$}{} {style}{}{}{deciding}",
        p.bold,
        "Verdict",
        p.reset,
        report.verdict.as_str(),
        p.reset
    );
    for warning in &report.warnings {
        let _ = writeln!(out, "  {}note{}     {}", p.dim, p.reset, clean(warning));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Finding, Geo, Hop, Origin, Provider};

    fn sample() -> Report {
        Report {
            source: "msg.eml".into(),
            message: crate::report::MessageInfo {
                subject: Some("Hello\x1b[31m".into()),
                from: Some("Alice <alice@example.com>".into()),
                ..Default::default()
            },
            hops: vec![
                Hop {
                    index: 1,
                    from_host: Some("laptop".into()),
                    from_ip: Some("81.2.69.142".parse().expect("ip")),
                    by_host: Some("smtp.example.com".into()),
                    protocol: Some("ESMTPSA".into()),
                    timestamp: Some("2024-01-01T10:00:00Z".into()),
                    geo: Some(Geo {
                        country: Some("GB".into()),
                        ..Default::default()
                    }),
                    trusted: false,
                    ..Default::default()
                },
                Hop {
                    index: 2,
                    from_host: Some("smtp.example.com".into()),
                    by_host: Some("mx.example.net".into()),
                    protocol: Some("ESMTPS".into()),
                    tls: Some("TLSv1.3 TLS_AES_256_GCM_SHA384".into()),
                    timestamp: Some("2024-01-01T10:00:05Z".into()),
                    delay_seconds: Some(5),
                    trusted: true,
                    ..Default::default()
                },
            ],
            origin: Some(Origin {
                ip: Some("81.2.69.142".parse().expect("ip")),
                hop: Some(1),
                source: "Received".into(),
                reason: "oldest trusted hop".into(),
                geo: Some(Geo {
                    country: Some("GB".into()),
                    city: Some("London".into()),
                    asn: Some(1221),
                    as_org: Some("Telstra".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            provider: Some(Provider {
                name: "Example Mail".into(),
                evidence: "by host".into(),
            }),
            findings: vec![Finding {
                code: "missing-date",
                severity: Severity::Warning,
                message: "no Date header".into(),
                evidence: Vec::new(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn plain_report_shows_hops_delays_origin_and_findings() {
        let mut out = String::new();
        render(&sample(), false, &mut out);
        assert!(out.contains("msg.eml"), "{out}");
        assert!(out.contains("laptop [81.2.69.142] GB"), "{out}");
        assert!(out.contains("5s"), "{out}");
        assert!(out.contains("ESMTPS TLSv1.3"), "{out}");
        assert!(out.contains("GB London · AS1221 Telstra"), "{out}");
        assert!(out.contains("Example Mail (by host)"), "{out}");
        assert!(out.contains("WARNING  missing-date"), "{out}");
        assert!(out.contains("1*"), "untrusted hop marked: {out}");
        assert!(!out.contains('\x1b'), "no escape codes when plain: {out:?}");
    }

    #[test]
    fn colour_report_styles_severity_but_never_passes_header_escapes() {
        let mut out = String::new();
        render(&sample(), true, &mut out);
        assert!(out.contains("\x1b[33mWARNING"), "{out:?}");
        assert!(
            !out.contains("Hello\x1b[31m"),
            "header escape passed through: {out:?}"
        );
    }
}
