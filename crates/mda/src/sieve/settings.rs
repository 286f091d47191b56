//! `[sieve]` as delivery uses it.

use mailward_sieve::Limits;
use mailward_sieve::execute::VacationPolicy;
use std::path::PathBuf;
use std::time::Duration;

/// How delivery runs Sieve.
#[derive(Debug, Clone)]
pub struct SieveSettings {
    /// Global scripts run before the account's own (Pigeonhole's `sieve_before`).
    pub before: Vec<PathBuf>,
    /// Global scripts run after it (`sieve_after`).
    pub after: Vec<PathBuf>,
    /// The administrator's directory of programs scripts may run (absolute); `None`: no
    /// program runs.
    pub program_dir: Option<PathBuf>,
    /// Whether the accounts' own scripts may run programs (global scripts always may when
    /// `program_dir` is set).
    pub user_programs: bool,
    /// A program still running after this is killed.
    pub program_timeout: Duration,
    /// Bytes of output read from a program at most; more is a failure.
    pub program_output_limit: usize,
    /// Bounds of vacation periods.
    pub vacation: VacationPolicy,
    /// Interpreter limits.
    pub limits: Limits,
    /// The spam score counted as certain spam (RFC 5235 level 10, 100 %): the gateway's
    /// reject threshold.
    pub spam_certain: f64,
    /// This server's host name (RFC 5183 `host`, the domain of generated Message-IDs).
    pub hostname: String,
}

impl Default for SieveSettings {
    fn default() -> Self {
        SieveSettings {
            before: Vec::new(),
            after: Vec::new(),
            program_dir: None,
            user_programs: false,
            program_timeout: Duration::from_secs(10),
            program_output_limit: 1024 * 1024,
            vacation: VacationPolicy::default(),
            limits: Limits::default(),
            spam_certain: 15.0,
            hostname: "localhost".into(),
        }
    }
}
