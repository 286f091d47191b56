//! `[sieve]`: users' Sieve scripts, as ManageSieve and `mailward sieve put` store them
//! (quotas), and Sieve in local delivery: global scripts, triggered programs, vacation
//! periods, limits.

use super::{de_duration, de_size};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[sieve]`. Quotas: RFC 5804 §1.3 (exceeding them is `NO (QUOTA/...)`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SieveSection {
    /// Scripts one account may keep (default 32).
    #[serde(default = "d_max_scripts")]
    pub max_scripts: usize,
    /// Bytes of one script (default 1M; at most the compiler's own limit).
    #[serde(default = "d_max_script_size", deserialize_with = "de_size")]
    pub max_script_size: u64,
    /// Bytes of all of an account's scripts together (default 8M).
    #[serde(default = "d_max_total_size", deserialize_with = "de_size")]
    pub max_total_size: u64,
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
            max_scripts: d_max_scripts(),
            max_script_size: d_max_script_size(),
            max_total_size: d_max_total_size(),
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
    /// The store's quota.
    pub fn quota(&self) -> mailward_store::SieveQuota {
        mailward_store::SieveQuota {
            max_scripts: self.max_scripts,
            max_script_size: self.max_script_size,
            max_total_size: self.max_total_size,
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

fn d_max_scripts() -> usize {
    mailward_store::SieveQuota::default().max_scripts
}
fn d_max_script_size() -> u64 {
    mailward_store::SieveQuota::default().max_script_size
}
fn d_max_total_size() -> u64 {
    mailward_store::SieveQuota::default().max_total_size
}

impl SieveSection {
    /// At least one script of at least one byte, and no script the compiler would refuse
    /// for its size.
    pub fn validate(&self, file: &std::path::Path) -> anyhow::Result<()> {
        let f = file.display();
        let compiler_max = mailward_sieve::Limits::default().max_script_size as u64;
        if self.max_scripts == 0 || self.max_script_size == 0 || self.max_total_size == 0 {
            anyhow::bail!(
                "{f}: [sieve] max_scripts, max_script_size and max_total_size must be at least 1"
            );
        }
        if self.max_script_size > compiler_max {
            anyhow::bail!(
                "{f}: key `sieve.max_script_size`: at most {compiler_max} bytes (the Sieve compiler's limit)"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    const BASE: &str = "[[domains]]\nname = \"example.test\"\n";

    #[test]
    fn quotas_are_read_with_sizes_and_defaults() {
        let c = super::super::parse(
            &format!("{BASE}[sieve]\nmax_scripts = 3\nmax_script_size = \"64K\"\n"),
            Path::new("m.toml"),
        )
        .unwrap();
        let q = c.sieve.quota();
        assert_eq!((q.max_scripts, q.max_script_size), (3, 64 * 1024));
        assert_eq!(q.max_total_size, 8 * 1024 * 1024);
        let e = super::super::parse(
            &format!("{BASE}[sieve]\nmax_script_size = \"2G\"\n"),
            Path::new("m.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("sieve.max_script_size"), "{e}");
        let e = super::super::parse(&format!("{BASE}[sieve]\nmax = 1\n"), Path::new("m.toml"))
            .unwrap_err();
        assert!(e.to_string().contains("m.toml:4"), "{e}");
    }

    #[test]
    fn the_embedded_default_serves_managesieve_on_2190() {
        let d = super::super::embedded_default();
        assert_eq!(d.listen.managesieve, ["127.0.0.1:2190".parse().unwrap()]);
    }
}
