//! What the checks find and the one verdict the gateway reaches.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The checks of the pipeline, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Attachments,
    Antivirus,
    Sandbox,
    Disarm,
    Spam,
}

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Attachments => "attachments",
            Check::Antivirus => "antivirus",
            Check::Sandbox => "sandbox",
            Check::Disarm => "disarm",
            Check::Spam => "spam",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding asks for, from the mildest to the strictest: the verdict is the strictest
/// of the findings' (`Ord` follows the declaration order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing to do: a note in the headers at most.
    Accept,
    /// Delivered with a spam mark in its headers (`X-Mailward-Spam: yes`).
    Tag,
    /// Delivered into the recipients' Junk folder.
    Junk,
    /// Delivered with parts disarmed (the original is kept in quarantine).
    Modify,
    /// Held in quarantine, not delivered; the sender is told `250`.
    Quarantine,
    /// Refused for now (`451 4.7.1`): a check could not run (clamd down, `tempfail` set).
    TempFail,
    /// Refused (`554 5.7.1`) with a reason the sender can read.
    Reject,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Tag => "tag",
            Action::Junk => "junk",
            Action::Modify => "modify",
            Action::Quarantine => "quarantine",
            Action::TempFail => "tempfail",
            Action::Reject => "reject",
        }
    }

    /// Reads a configured action (`"reject"`, `"quarantine"`, ...).
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s.to_ascii_lowercase().as_str() {
            "accept" => Action::Accept,
            "tag" => Action::Tag,
            "junk" => Action::Junk,
            "modify" => Action::Modify,
            "quarantine" => Action::Quarantine,
            "tempfail" => Action::TempFail,
            "reject" => Action::Reject,
            _ => return None,
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub check: Check,
    pub action: Action,
    /// A short code for the log and the headers (`blocked_extension`, `virus`, `vba_macro`,
    /// `dnsbl`, ...).
    pub code: String,
    /// What a person reads: `invoice.pdf.exe: a Windows executable (PE) by its content`.
    /// It may reach the sender in a `554` reply: it names the file and the rule, never a
    /// path or a setting of ours.
    pub detail: String,
    /// The spam score this finding adds (spam rules; 0 for the others).
    #[serde(default)]
    pub score: f64,
}

impl Finding {
    pub fn new(check: Check, action: Action, code: &str, detail: impl Into<String>) -> Self {
        Finding {
            check,
            action,
            code: code.to_owned(),
            detail: detail.into(),
            score: 0.0,
        }
    }

    /// A spam rule that matched, worth `score`.
    pub fn rule(code: &str, score: f64, detail: impl Into<String>) -> Self {
        Finding {
            check: Check::Spam,
            action: Action::Accept,
            code: code.to_owned(),
            detail: detail.into(),
            score,
        }
    }
}

/// The gateway's verdict on one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The strictest action of the findings (and of the spam thresholds).
    pub action: Action,
    /// The finding that decided it, for the reply and the quarantine record.
    pub reason: Option<Finding>,
    /// The spam score (sum of the rules', or rspamd's).
    pub score: f64,
}

impl Verdict {
    /// The verdict of `findings` with `score` and the action its spam thresholds reached.
    pub fn of(findings: &[Finding], score: f64, spam_action: Action) -> Verdict {
        let mut verdict = Verdict {
            action: Action::Accept,
            reason: None,
            score,
        };
        for f in findings {
            if f.action > verdict.action {
                verdict.action = f.action;
                verdict.reason = Some(f.clone());
            }
        }
        if spam_action > verdict.action {
            verdict.action = spam_action;
            verdict.reason = Some(Finding::new(
                Check::Spam,
                spam_action,
                "spam_score",
                format!("spam score {score:.1}"),
            ));
        }
        verdict
    }

    /// The reason as one line for a reply or a log (`Accept` has none).
    pub fn reason_text(&self) -> String {
        self.reason
            .as_ref()
            .map(|f| f.detail.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strictest_finding_decides() {
        let findings = vec![
            Finding::new(Check::Disarm, Action::Modify, "vba_macro", "a.docm: macros"),
            Finding::new(Check::Antivirus, Action::Reject, "virus", "Eicar-Signature"),
            Finding::new(Check::Attachments, Action::Quarantine, "encrypted", "a.zip"),
        ];
        let v = Verdict::of(&findings, 0.0, Action::Accept);
        assert_eq!(v.action, Action::Reject);
        assert_eq!(v.reason_text(), "Eicar-Signature");
    }

    #[test]
    fn the_spam_threshold_counts_as_a_finding() {
        let findings = vec![Finding::rule("dnsbl", 6.0, "listed")];
        let v = Verdict::of(&findings, 9.0, Action::Junk);
        assert_eq!(v.action, Action::Junk);
        assert_eq!(v.reason.map(|r| r.code), Some("spam_score".to_owned()));
    }

    #[test]
    fn actions_parse_back() {
        for a in [
            Action::Accept,
            Action::Tag,
            Action::Junk,
            Action::Modify,
            Action::Quarantine,
            Action::TempFail,
            Action::Reject,
        ] {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("drop"), None);
    }
}
