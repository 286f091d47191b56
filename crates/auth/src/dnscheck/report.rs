//! The audit's findings: one [`Item`] per thing checked, pass/warn/fail with the reason and
//! the fix, serialisable for `--json`, and the text rendering for a terminal.

use serde::Serialize;
use std::fmt::Write as _;

/// How one item came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// Works, but is weaker than it should be or may break.
    Warn,
    /// Broken, missing or unsafe: mail is refused, spoofable or unprotected.
    Fail,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// The family: `mx`, `spf`, `dmarc`, `dkim`, `mta-sts`, `tls-rpt`.
    pub check: &'static str,
    /// What was looked at: a DNS name, a host, an address.
    pub subject: String,
    pub status: Status,
    /// What was found.
    pub reason: String,
    /// What to change (none for a pass).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Item {
    pub fn pass(
        check: &'static str,
        subject: impl Into<String>,
        reason: impl Into<String>,
    ) -> Item {
        Item {
            check,
            subject: subject.into(),
            status: Status::Pass,
            reason: reason.into(),
            fix: None,
        }
    }

    pub fn warn(
        check: &'static str,
        subject: impl Into<String>,
        reason: impl Into<String>,
        fix: impl Into<String>,
    ) -> Item {
        Item {
            check,
            subject: subject.into(),
            status: Status::Warn,
            reason: reason.into(),
            fix: Some(fix.into()),
        }
    }

    /// A DNS lookup that failed: the item cannot be judged, so it fails.
    pub fn lookup_failed(
        check: &'static str,
        subject: impl Into<String>,
        e: &impl std::fmt::Display,
    ) -> Item {
        Item::fail(
            check,
            subject,
            format!("DNS lookup failed: {e}"),
            "check that the domain's name servers answer",
        )
    }

    pub fn fail(
        check: &'static str,
        subject: impl Into<String>,
        reason: impl Into<String>,
        fix: impl Into<String>,
    ) -> Item {
        Item {
            check,
            subject: subject.into(),
            status: Status::Fail,
            reason: reason.into(),
            fix: Some(fix.into()),
        }
    }
}

/// The whole audit of one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub domain: String,
    pub items: Vec<Item>,
    /// Counts per status, for a quick look at `--json`.
    pub summary: Summary,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
}

impl Report {
    pub fn new(domain: String, items: Vec<Item>) -> Report {
        let mut summary = Summary::default();
        for i in &items {
            match i.status {
                Status::Pass => summary.pass += 1,
                Status::Warn => summary.warn += 1,
                Status::Fail => summary.fail += 1,
            }
        }
        Report {
            domain,
            items,
            summary,
        }
    }

    /// True when any item failed (the command exits 1).
    pub fn failed(&self) -> bool {
        self.summary.fail > 0
    }
}

/// The report as lines for a terminal: one line per item, the fix indented under it.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "DNS mail records of {}", report.domain);
    let mut last = "";
    for item in &report.items {
        if item.check != last {
            let _ = writeln!(out, "\n{}:", item.check.to_ascii_uppercase());
            last = item.check;
        }
        let _ = writeln!(
            out,
            "  {}  {}: {}",
            item.status.label(),
            item.subject,
            item.reason
        );
        if let Some(fix) = &item.fix {
            let _ = writeln!(out, "        fix: {fix}");
        }
    }
    let s = report.summary;
    let _ = writeln!(
        out,
        "\n{} passed, {} warnings, {} failed",
        s.pass, s.warn, s.fail
    );
    out
}
