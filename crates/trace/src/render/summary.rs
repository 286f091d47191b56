//! Totals over many messages (`--summary`): where they came from (country, AS, provider)
//! and what was found (by finding code and by worst severity).

use super::clean;
use super::text::Palette;
use crate::report::{Report, Severity};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The name counted when a message's origin is not known to the databases or headers.
pub const UNKNOWN: &str = "unknown";

/// How often one finding code occurred.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CodeCount {
    pub severity: Severity,
    /// Messages with at least one finding of this code.
    pub messages: u64,
}

/// Totals over the messages of one run. Maps are sorted by key in JSON.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Messages analysed.
    pub messages: u64,
    /// Inputs that could not be read.
    pub errors: u64,
    /// Messages whose origin has a public IP address.
    pub public_origins: u64,
    /// Public origins by ISO country code (`unknown` without geolocation data).
    pub origin_countries: BTreeMap<String, u64>,
    /// Public origins by `AS<number> <organisation>` (`unknown` without ASN data).
    pub origin_asns: BTreeMap<String, u64>,
    /// Messages by provider name (`unknown` when none was identified).
    pub providers: BTreeMap<String, u64>,
    /// Finding codes with their severity and how many messages had them.
    pub findings: BTreeMap<String, CodeCount>,
    /// Messages by their most severe finding (`none` when without findings).
    pub worst_severity: BTreeMap<String, u64>,
    /// Messages by verdict (`phishing-likely`, `suspicious`, `clean-so-far`).
    pub verdicts: BTreeMap<String, u64>,
    /// Finding codes by the number of messages whose verdict they helped decide.
    pub verdict_findings: BTreeMap<String, u64>,
}

impl Summary {
    /// Counts one report.
    pub fn add(&mut self, report: &Report) {
        self.messages += 1;
        if let Some(origin) = &report.origin
            && origin.ip_class.is_some_and(|c| c.is_public())
        {
            self.public_origins += 1;
            let geo = origin.geo.as_ref();
            let country = geo
                .and_then(|g| g.country.clone())
                .unwrap_or_else(|| UNKNOWN.into());
            *self.origin_countries.entry(country).or_default() += 1;
            let asn = match geo.and_then(|g| g.asn) {
                Some(asn) => match geo.and_then(|g| g.as_org.as_deref()) {
                    Some(org) => format!("AS{asn} {org}"),
                    None => format!("AS{asn}"),
                },
                None => UNKNOWN.into(),
            };
            *self.origin_asns.entry(asn).or_default() += 1;
        }
        let provider = report
            .provider
            .as_ref()
            .map_or_else(|| UNKNOWN.to_string(), |p| p.name.clone());
        *self.providers.entry(provider).or_default() += 1;

        let mut seen: Vec<&str> = Vec::with_capacity(report.findings.len());
        for f in &report.findings {
            if seen.contains(&f.code) {
                continue;
            }
            seen.push(f.code);
            let entry = self
                .findings
                .entry(f.code.to_string())
                .or_insert(CodeCount {
                    severity: f.severity,
                    messages: 0,
                });
            entry.messages += 1;
            entry.severity = entry.severity.max(f.severity);
        }
        let worst = report
            .findings
            .iter()
            .map(|f| f.severity)
            .max()
            .map_or("none", Severity::as_str);
        *self.worst_severity.entry(worst.into()).or_default() += 1;
        *self
            .verdicts
            .entry(report.verdict.as_str().into())
            .or_default() += 1;
        for code in &report.verdict_findings {
            *self.verdict_findings.entry((*code).into()).or_default() += 1;
        }
    }

    /// Appends the `--json --summary` line: `{"summary": {...}}`.
    pub fn json_line(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        #[derive(Serialize)]
        struct Wrapped<'a> {
            summary: &'a Summary,
        }
        serde_json::to_writer(&mut *out, &Wrapped { summary: self })?;
        out.push(b'\n');
        Ok(())
    }

    /// Appends the text summary: each table sorted by count, largest first.
    pub fn render_text(&self, color: bool, out: &mut String) {
        let p = Palette::new(color);
        let _ = writeln!(out, "{}━━ Summary{}", p.bold, p.reset);
        let _ = writeln!(out, "{:<16}{}", "Messages", self.messages);
        if self.errors > 0 {
            let _ = writeln!(out, "{:<16}{}", "Unreadable", self.errors);
        }
        let _ = writeln!(out, "{:<16}{}", "Public origins", self.public_origins);
        table(out, &p, "Origin country", &self.origin_countries);
        table(out, &p, "Origin AS", &self.origin_asns);
        table(out, &p, "Provider", &self.providers);
        let _ = writeln!(out, "\n{}Findings{} (messages)", p.bold, p.reset);
        if self.findings.is_empty() {
            let _ = writeln!(out, "  none");
        }
        let mut codes: Vec<_> = self.findings.iter().collect();
        codes.sort_by(|a, b| {
            (b.1.severity, b.1.messages)
                .cmp(&(a.1.severity, a.1.messages))
                .then(a.0.cmp(b.0))
        });
        for (code, count) in codes {
            let sev = count.severity.as_str().to_ascii_uppercase();
            let _ = writeln!(
                out,
                "  {}{sev:<8}{} {:<28} {:>8}",
                p.severity(count.severity),
                p.reset,
                clean(code),
                count.messages
            );
        }
        table(out, &p, "Worst severity", &self.worst_severity);
        table(out, &p, "Verdict", &self.verdicts);
        table(out, &p, "Deciding findings", &self.verdict_findings);
    }
}

/// Rows with the largest count first; ties in name order.
fn table(out: &mut String, p: &Palette, title: &str, counts: &BTreeMap<String, u64>) {
    let _ = writeln!(out, "\n{}{title}{}", p.bold, p.reset);
    if counts.is_empty() {
        let _ = writeln!(out, "  none");
        return;
    }
    let mut rows: Vec<_> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (name, count) in rows {
        let _ = writeln!(
            out,
            "  {:<40} {count:>8}",
            super::truncate(&clean(name), 40)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Finding, Geo, Origin, Provider};
    use mailward_message::IpClass;

    fn report(
        country: Option<&str>,
        provider: Option<&str>,
        findings: &[(&'static str, Severity)],
    ) -> Report {
        Report {
            origin: Some(Origin {
                ip: Some("81.2.69.142".parse().expect("ip")),
                ip_class: Some(IpClass::Public),
                geo: country.map(|c| Geo {
                    country: Some(c.into()),
                    asn: Some(1221),
                    as_org: Some("Telstra".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            provider: provider.map(|name| Provider {
                name: name.into(),
                evidence: String::new(),
            }),
            findings: findings
                .iter()
                .map(|(code, severity)| Finding {
                    code,
                    severity: *severity,
                    message: String::new(),
                    evidence: Vec::new(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn totals_count_origins_providers_and_findings_per_message() {
        let mut s = Summary::default();
        s.add(&report(
            Some("GB"),
            Some("Gmail"),
            &[
                ("missing-date", Severity::Warning),
                ("missing-date", Severity::Warning),
            ],
        ));
        s.add(&report(
            Some("GB"),
            None,
            &[("spoofed-from", Severity::Critical)],
        ));
        s.add(&report(None, Some("Gmail"), &[]));
        assert_eq!(s.messages, 3);
        assert_eq!(s.origin_countries.get("GB"), Some(&2));
        assert_eq!(s.origin_countries.get(UNKNOWN), Some(&1));
        assert_eq!(s.origin_asns.get("AS1221 Telstra"), Some(&2));
        assert_eq!(s.providers.get("Gmail"), Some(&2));
        assert_eq!(s.findings.get("missing-date").map(|c| c.messages), Some(1));
        assert_eq!(s.worst_severity.get("critical"), Some(&1));
        assert_eq!(s.worst_severity.get("none"), Some(&1));

        let mut json = Vec::new();
        s.json_line(&mut json).expect("json");
        let value: serde_json::Value = serde_json::from_slice(&json).expect("parse");
        assert_eq!(
            value["summary"]["findings"]["spoofed-from"]["severity"],
            "critical"
        );

        let mut text = String::new();
        s.render_text(false, &mut text);
        assert!(text.contains("CRITICAL spoofed-from"), "{text}");
        assert!(text.contains("AS1221 Telstra"), "{text}");
    }
}
