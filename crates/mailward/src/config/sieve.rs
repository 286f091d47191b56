//! `[sieve]`: Sieve in local delivery (issue 18): global scripts, triggered programs,
//! vacation periods, limits.

use super::{de_duration, de_size};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[sieve]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SieveSection {
    /// Run Sieve in delivery (default true): the accounts' active scripts and the global
    /// ones. `false`: every message goes to INBOX (Junk for junk).
    #[serde(default = "super::d_true")]
    pub enabled: bool,
    /// Global scripts run before each account's own, in order (Pigeonhole's
    /// `sieve_before`); read at start.
    #[serde(default)]
    pub before: Vec<PathBuf>,
    /// Global scripts run after it (`sieve_after`).
    #[serde(default)]
    pub after: Vec<PathBuf>,
    /// The directory of programs scripts may run (vnd.dovecot.pipe/filter/execute);
    /// absolute. Unset (default): no program runs.
    #[serde(default)]
    pub program_dir: Option<PathBuf>,
    /// Whether accounts' own scripts may run programs too (default false: only global
    /// scripts).
    #[serde(default)]
    pub user_programs: bool,
    /// A program still running after this is killed (default 10s).
    #[serde(default = "d_program_timeout", deserialize_with = "de_duration")]
    pub program_timeout: Duration,
    /// Output read from a program at most (default 1M); more is a failure.
    #[serde(default = "d_program_output", deserialize_with = "de_size")]
    pub program_output_limit: u64,
    /// Shortest vacation period (RFC 5230 §4.1; default 1d). `:days`/`:seconds` below it
    /// are raised to it.
    #[serde(default = "d_vacation_min", deserialize_with = "de_duration")]
    pub vacation_min_period: Duration,
    /// Longest vacation period (default 60d).
    #[serde(default = "d_vacation_max", deserialize_with = "de_duration")]
    pub vacation_max_period: Duration,
    /// Redirects one message may cause per account (RFC 5228 §4.2; default 4).
    #[serde(default = "d_max_redirects")]
    pub max_redirects: usize,
    /// Answer a single-recipient message its script rejects with `550 5.7.1` at SMTP time
    /// (RFC 5429 §2.1; default true); otherwise, and with several recipients, the refusal
    /// goes to the sender as a delivery status notification.
    #[serde(default = "super::d_true")]
    pub reject_at_smtp: bool,
}

fn d_program_timeout() -> Duration {
    Duration::from_secs(10)
}
fn d_program_output() -> u64 {
    1024 * 1024
}
fn d_vacation_min() -> Duration {
    Duration::from_secs(86_400)
}
fn d_vacation_max() -> Duration {
    Duration::from_secs(60 * 86_400)
}
fn d_max_redirects() -> usize {
    4
}

impl Default for SieveSection {
    fn default() -> Self {
        SieveSection {
            enabled: true,
            before: Vec::new(),
            after: Vec::new(),
            program_dir: None,
            user_programs: false,
            program_timeout: d_program_timeout(),
            program_output_limit: d_program_output(),
            vacation_min_period: d_vacation_min(),
            vacation_max_period: d_vacation_max(),
            max_redirects: d_max_redirects(),
            reject_at_smtp: true,
        }
    }
}

impl SieveSection {
    /// What delivery needs; `Err` names the key that is wrong.
    pub fn settings(
        &self,
        hostname: &str,
        spam_certain: f64,
    ) -> Result<mailward_mda::sieve::SieveSettings, String> {
        if let Some(dir) = &self.program_dir
            && !dir.is_absolute()
        {
            return Err(format!(
                "key `sieve.program_dir`: {} must be an absolute path",
                dir.display()
            ));
        }
        let limits = mailward_sieve::Limits {
            max_redirects: self.max_redirects,
            ..mailward_sieve::Limits::default()
        };
        Ok(mailward_mda::sieve::SieveSettings {
            before: self.before.clone(),
            after: self.after.clone(),
            program_dir: self.program_dir.clone(),
            user_programs: self.user_programs,
            program_timeout: self.program_timeout,
            program_output_limit: usize::try_from(self.program_output_limit).unwrap_or(usize::MAX),
            vacation: mailward_sieve::execute::VacationPolicy {
                min_seconds: self.vacation_min_period.as_secs(),
                max_seconds: self.vacation_max_period.as_secs(),
            },
            limits,
            spam_certain,
            hostname: hostname.to_string(),
        })
    }
}
