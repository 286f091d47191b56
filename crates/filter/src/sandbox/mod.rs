//! The sandbox hook: attachments of configured types handed to an external command or HTTP
//! endpoint that returns a verdict.
//!
//! Which files go: [`select::wanted`]. How: [`command`] (file on standard input, verdict
//! from the exit status) or [`http_hook`] (file POSTed, JSON verdict). Each run is bounded
//! by `timeout`; verdicts are cached by SHA-256 ([`cache`]), so a file seen before is not
//! sent again (failures are not cached: the next message tries again). What a verdict leads
//! to: malicious → `on_malicious` (Reject), suspicious → `on_suspicious` (Quarantine),
//! timeout or failure → `on_timeout` (Accept).

pub mod cache;
pub mod command;
pub mod http_hook;
pub mod select;

use crate::http::HttpError;
use crate::mime::Walk;
use crate::verdict::{Action, Check, Finding};
use cache::{Digest, VerdictCache};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How the sandbox is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hook {
    /// A program and its arguments; the file on standard input.
    Command(Vec<String>),
    /// An `http://` URL the file is POSTed to.
    Http(String),
}

/// `[filter.sandbox]`.
#[derive(Debug, Clone)]
pub struct SandboxSettings {
    pub hook: Hook,
    /// Type names (`"pdf"`, `"office"`, `"archive"`, `"executable"`), extensions (`"js"`)
    /// and media types handed over (default: the four type names).
    pub types: Vec<String>,
    /// One file's run (default 60 s).
    pub timeout: Duration,
    /// What a timeout or a failing hook leads to (`accept` by default).
    pub on_timeout: Action,
    /// What a `suspicious` verdict leads to (`quarantine` by default).
    pub on_suspicious: Action,
    /// What a `malicious` verdict leads to (`reject` by default).
    pub on_malicious: Action,
    /// Verdicts remembered by SHA-256 (default 10,000; 0 turns the cache off).
    pub cache_entries: usize,
    /// Hook runs per message (default 20; files already judged do not count); the files
    /// past it are treated as a timeout.
    pub max_files: usize,
    /// All of one message's runs together (default 180 s, well within the 10 minutes a
    /// client waits for the reply to DATA, RFC 5321 §4.5.3.2.6); files left when it is
    /// spent are treated as a timeout.
    pub message_timeout: Duration,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings {
            hook: Hook::Command(Vec::new()),
            types: ["pdf", "office", "archive", "executable"]
                .map(str::to_owned)
                .to_vec(),
            timeout: Duration::from_secs(60),
            on_timeout: Action::Accept,
            on_suspicious: Action::Quarantine,
            on_malicious: Action::Reject,
            cache_entries: 10_000,
            max_files: 20,
            message_timeout: Duration::from_secs(180),
        }
    }
}

impl SandboxSettings {
    /// Checks the hook as configured (a command to run, an `http://` URL), for the
    /// configuration to refuse at start what would otherwise fail on every file.
    pub fn validate(&self) -> Result<(), HookError> {
        match &self.hook {
            Hook::Command(argv) if argv.first().is_none_or(|p| p.is_empty()) => {
                Err(HookError::NoCommand)
            }
            Hook::Command(_) => Ok(()),
            Hook::Http(url) => crate::http::HttpUrl::parse(url)
                .map(|_| ())
                .map_err(Into::into),
        }
    }
}

/// The sandbox's judgement of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    Clean,
    Suspicious,
    Malicious,
}

/// A judgement with the hook's one-line explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookVerdict {
    pub judgement: Judgement,
    pub detail: String,
}

/// Why the hook gave no verdict.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("no sandbox command configured")]
    NoCommand,
    #[error("cannot run {0}: {1}")]
    Spawn(String, #[source] std::io::Error),
    #[error("sandbox hook: {0}")]
    Io(#[from] std::io::Error),
    #[error("sandbox hook: {0}")]
    Http(#[from] HttpError),
    #[error("the sandbox did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the sandbox failed: {0}")]
    Status(String),
    #[error("the sandbox's answer is not understood: {0}")]
    Answer(String),
}

/// One file as the hook receives it.
#[derive(Debug, Clone)]
pub struct FileToCheck<'a> {
    /// The decoded file name, or `part <section>` when it has none.
    pub name: String,
    /// Lower-case hex SHA-256 of `bytes`.
    pub sha256: String,
    pub content_type: String,
    pub bytes: &'a [u8],
}

/// The sandbox client with its verdict cache.
#[derive(Debug)]
pub struct Sandbox {
    pub settings: SandboxSettings,
    cache: VerdictCache,
}

impl Sandbox {
    pub fn new(settings: SandboxSettings) -> Self {
        Sandbox {
            cache: VerdictCache::new(settings.cache_entries),
            settings,
        }
    }

    /// The findings of the files of `walk` the sandbox is configured for (none for clean
    /// files). A file is handed over once per message and, once judged, once per
    /// `cache_entries`; at most `max_files` runs per message, all within
    /// `message_timeout`.
    pub async fn check(&self, walk: &Walk<'_>) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut this_message: HashMap<Digest, Outcome> = HashMap::new();
        let mut runs = 0usize;
        let mut skipped = 0usize;
        // A configured bound too far to represent is no bound.
        let deadline = Instant::now().checked_add(self.settings.message_timeout);
        for part in walk
            .parts
            .iter()
            .filter(|p| select::wanted(p, &self.settings.types))
        {
            let digest: Digest = Sha256::digest(&part.body).into();
            let file = FileToCheck {
                name: part
                    .filename
                    .clone()
                    .unwrap_or_else(|| format!("part {}", part.section)),
                sha256: hex(&digest),
                content_type: part.content_type.clone(),
                bytes: &part.body,
            };
            let outcome = if let Some(o) = this_message.get(&digest) {
                o.clone()
            } else if let Some(v) = self.cache.get(&digest) {
                Outcome::Judged(v)
            } else if runs >= self.settings.max_files
                || deadline.is_some_and(|d| Instant::now() >= d)
            {
                skipped += 1;
                continue;
            } else {
                runs += 1;
                let left = deadline.map_or(self.settings.timeout, |d| {
                    d.saturating_duration_since(Instant::now())
                });
                let outcome = match self
                    .run_within(&file, self.settings.timeout.min(left))
                    .await
                {
                    Ok(v) => {
                        self.cache.insert(digest, v.clone());
                        Outcome::Judged(v)
                    }
                    Err(HookError::Timeout(_)) => Outcome::TimedOut,
                    Err(_) => Outcome::Failed,
                };
                this_message.insert(digest, outcome.clone());
                outcome
            };
            findings.extend(self.finding(&file.name, outcome));
        }
        if skipped > 0 {
            findings.push(Finding::new(
                Check::Sandbox,
                self.settings.on_timeout,
                "sandbox_unavailable",
                format!(
                    "{skipped} more files not checked by the sandbox (the limit of one message reached)"
                ),
            ));
        }
        findings
    }

    /// Hands one file to the hook (no cache).
    pub async fn run(&self, file: &FileToCheck<'_>) -> Result<HookVerdict, HookError> {
        self.run_within(file, self.settings.timeout).await
    }

    async fn run_within(
        &self,
        file: &FileToCheck<'_>,
        timeout: Duration,
    ) -> Result<HookVerdict, HookError> {
        match &self.settings.hook {
            Hook::Command(argv) => command::run(argv, file, timeout).await,
            Hook::Http(url) => http_hook::run(url, file, timeout).await,
        }
    }

    /// Verdicts cached now.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    fn finding(&self, name: &str, outcome: Outcome) -> Option<Finding> {
        let with = |what: &str, detail: &str| {
            if detail.is_empty() {
                format!("{name}: {what}")
            } else {
                format!("{name}: {what} ({detail})")
            }
        };
        let (action, code, detail) = match outcome {
            Outcome::Judged(HookVerdict {
                judgement: Judgement::Clean,
                ..
            }) => return None,
            Outcome::Judged(HookVerdict {
                judgement: Judgement::Suspicious,
                detail,
            }) => (
                self.settings.on_suspicious,
                "sandbox_suspicious",
                with("suspicious by the sandbox's analysis", &detail),
            ),
            Outcome::Judged(HookVerdict {
                judgement: Judgement::Malicious,
                detail,
            }) => (
                self.settings.on_malicious,
                "sandbox_malicious",
                with("malicious by the sandbox's analysis", &detail),
            ),
            // The error's text may name our command or URL: it stays out of the detail.
            Outcome::TimedOut => (
                self.settings.on_timeout,
                "sandbox_unavailable",
                with("not checked by the sandbox", "it did not answer in time"),
            ),
            Outcome::Failed => (
                self.settings.on_timeout,
                "sandbox_unavailable",
                with("not checked by the sandbox", "it failed"),
            ),
        };
        Some(Finding::new(Check::Sandbox, action, code, detail))
    }
}

/// What became of one file.
#[derive(Debug, Clone)]
enum Outcome {
    Judged(HookVerdict),
    TimedOut,
    Failed,
}

/// The first line of a hook's output, without control characters, at most 200 characters.
pub(crate) fn detail_line(out: &[u8]) -> String {
    let text = String::from_utf8_lossy(out);
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hook_that_cannot_work_is_refused_at_start() {
        let with = |hook| SandboxSettings {
            hook,
            ..SandboxSettings::default()
        };
        assert!(with(Hook::Command(vec![])).validate().is_err());
        assert!(with(Hook::Command(vec![String::new()])).validate().is_err());
        assert!(
            with(Hook::Http("https://sandbox.example/".into()))
                .validate()
                .is_err()
        );
        assert!(
            with(Hook::Command(vec!["/usr/bin/true".into()]))
                .validate()
                .is_ok()
        );
        assert!(
            with(Hook::Http("http://127.0.0.1:8080/scan".into()))
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn the_detail_is_one_clean_line() {
        assert_eq!(detail_line(b"  Trojan.X\x1b[31m\nmore\n"), "Trojan.X[31m");
        assert_eq!(detail_line(b""), "");
        assert_eq!(detail_line(&[b'a'; 500]).len(), 200);
    }

    #[test]
    fn verdicts_map_to_the_configured_actions() {
        let s = Sandbox::new(SandboxSettings::default());
        let v = |judgement| {
            Outcome::Judged(HookVerdict {
                judgement,
                detail: "why".into(),
            })
        };
        assert!(s.finding("a.pdf", v(Judgement::Clean)).is_none());
        let f = s.finding("a.pdf", v(Judgement::Suspicious)).unwrap();
        assert_eq!(
            (f.action, f.code.as_str()),
            (Action::Quarantine, "sandbox_suspicious")
        );
        let f = s.finding("a.pdf", v(Judgement::Malicious)).unwrap();
        assert_eq!(
            (f.action, f.code.as_str()),
            (Action::Reject, "sandbox_malicious")
        );
        assert_eq!(f.detail, "a.pdf: malicious by the sandbox's analysis (why)");
        let f = s.finding("a.pdf", Outcome::TimedOut).unwrap();
        assert_eq!(
            (f.action, f.code.as_str()),
            (Action::Accept, "sandbox_unavailable")
        );
    }
}
