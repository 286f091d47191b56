//! Antivirus: a ClamAV daemon over its INSTREAM protocol.
//!
//! The whole message is sent ([`client::instream`]): clamd decodes MIME, archives and
//! packed executables itself. Its answer becomes findings ([`Clamd::check`]):
//! - a signature found: `Reject` (`virus`, `"<signature> found"`);
//! - too large for clamd (`StreamMaxLength`, clamd.conf(5)) or for our `max_size`:
//!   `on_oversize` (`unscanned`; `Accept` by default, as clamd's own `AlertExceedsMax no`);
//! - clamd down, failing or too slow: `on_failure` (`TempFail` by default, code
//!   `antivirus_unavailable`: fail closed, `451 4.7.1`; with `Accept` the message goes on
//!   marked `unscanned`).

pub mod client;
pub mod reply;

use crate::verdict::{Action, Check, Finding};
pub use client::ClamdError;
pub use reply::ScanReply;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddress {
    /// `host:port`.
    Tcp(String),
    Unix(PathBuf),
}

impl ClamdAddress {
    /// Reads a configured address: a path (starting with `/`, or `unix:`) is a unix socket,
    /// anything else `host:port`.
    pub fn parse(s: &str) -> ClamdAddress {
        if let Some(path) = s.strip_prefix("unix:") {
            ClamdAddress::Unix(PathBuf::from(path))
        } else if s.starts_with('/') {
            ClamdAddress::Unix(PathBuf::from(s))
        } else {
            ClamdAddress::Tcp(s.to_owned())
        }
    }
}

impl fmt::Display for ClamdAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClamdAddress::Tcp(a) => f.write_str(a),
            ClamdAddress::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// clamd's default `StreamMaxLength` (clamd.conf(5)): 25 MiB.
pub const CLAMD_STREAM_MAX: usize = 25 * 1024 * 1024;

/// `[filter.antivirus]`.
#[derive(Debug, Clone)]
pub struct AntivirusSettings {
    /// `clamd = "127.0.0.1:3310"` or a unix socket path.
    pub clamd: ClamdAddress,
    /// clamd down or failing: `TempFail` (fail closed, the default) or `Accept`.
    pub on_failure: Action,
    /// Connecting, sending and clamd's answer together (default 60 s).
    pub timeout: Duration,
    /// The most bytes sent (default 25 MiB, clamd's `StreamMaxLength` default): a larger
    /// message is not sent at all and is treated as clamd's "size limit exceeded".
    pub max_size: usize,
    /// A message too large to scan: `Accept` (default, marked `unscanned`), or stricter.
    pub on_oversize: Action,
}

impl Default for AntivirusSettings {
    fn default() -> Self {
        AntivirusSettings {
            clamd: ClamdAddress::Tcp("127.0.0.1:3310".to_owned()),
            on_failure: Action::TempFail,
            timeout: Duration::from_secs(60),
            max_size: CLAMD_STREAM_MAX,
            on_oversize: Action::Accept,
        }
    }
}

/// The detail of a failure the sender may read: no address, no error text of ours.
const UNAVAILABLE: &str = "antivirus unavailable, try again later";

/// A clamd client.
#[derive(Debug, Clone)]
pub struct Clamd {
    pub settings: AntivirusSettings,
}

impl Clamd {
    pub fn new(settings: AntivirusSettings) -> Self {
        Clamd { settings }
    }

    /// The findings of scanning `message` (the whole message: clamd decodes MIME and
    /// archives itself). None: clean.
    pub async fn check(&self, message: &[u8]) -> Vec<Finding> {
        if message.len() > self.settings.max_size {
            return vec![self.oversize()];
        }
        match self.scan(message).await {
            Ok(reply) => self.findings_of(reply),
            Err(_) => vec![self.unavailable()],
        }
    }

    /// Sends `data` to clamd and returns its answer (for callers that want the error).
    pub async fn scan(&self, data: &[u8]) -> Result<ScanReply, ClamdError> {
        client::instream(&self.settings.clamd, data, self.settings.timeout).await
    }

    /// `zPING`: clamd is up (for `mailward` at start and in health checks).
    pub async fn ping(&self) -> Result<(), ClamdError> {
        client::ping(&self.settings.clamd, self.settings.timeout).await
    }

    /// The findings of clamd's answer.
    pub fn findings_of(&self, reply: ScanReply) -> Vec<Finding> {
        match reply {
            ScanReply::Clean => Vec::new(),
            ScanReply::Found(signature) => vec![Finding::new(
                Check::Antivirus,
                Action::Reject,
                "virus",
                format!("{signature} found"),
            )],
            ScanReply::SizeLimitExceeded => vec![self.oversize()],
            ScanReply::Error(_) => vec![self.unavailable()],
        }
    }

    fn oversize(&self) -> Finding {
        Finding::new(
            Check::Antivirus,
            self.settings.on_oversize,
            "unscanned",
            "not scanned for viruses: the message is larger than the antivirus scans",
        )
    }

    fn unavailable(&self) -> Finding {
        match self.settings.on_failure {
            Action::Accept => Finding::new(
                Check::Antivirus,
                Action::Accept,
                "unscanned",
                "not scanned for viruses: the antivirus is unavailable",
            ),
            action => Finding::new(
                Check::Antivirus,
                action,
                "antivirus_unavailable",
                UNAVAILABLE,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clamd(on_failure: Action) -> Clamd {
        Clamd::new(AntivirusSettings {
            on_failure,
            ..AntivirusSettings::default()
        })
    }

    #[test]
    fn addresses_are_read_as_configured() {
        assert_eq!(
            ClamdAddress::parse("/run/clamav/clamd.ctl"),
            ClamdAddress::Unix("/run/clamav/clamd.ctl".into())
        );
        assert_eq!(
            ClamdAddress::parse("unix:clamd.sock"),
            ClamdAddress::Unix("clamd.sock".into())
        );
        assert_eq!(
            ClamdAddress::parse("127.0.0.1:3310"),
            ClamdAddress::Tcp("127.0.0.1:3310".into())
        );
    }

    #[test]
    fn a_signature_rejects_with_its_name() {
        let f = clamd(Action::TempFail).findings_of(ScanReply::Found("Eicar-Test".into()));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].action, Action::Reject);
        assert_eq!(f[0].code, "virus");
        assert_eq!(f[0].detail, "Eicar-Test found");
    }

    #[test]
    fn a_clamd_error_follows_on_failure() {
        let f = clamd(Action::TempFail).findings_of(ScanReply::Error("x ERROR".into()));
        assert_eq!(f[0].action, Action::TempFail);
        assert_eq!(f[0].code, "antivirus_unavailable");
        assert_eq!(f[0].detail, UNAVAILABLE);
        let f = clamd(Action::Accept).findings_of(ScanReply::Error("x ERROR".into()));
        assert_eq!(
            (f[0].action, f[0].code.as_str()),
            (Action::Accept, "unscanned")
        );
    }

    #[tokio::test]
    async fn a_message_over_max_size_is_not_sent() {
        // Nothing listens on the address: only the size decides.
        let c = Clamd::new(AntivirusSettings {
            clamd: ClamdAddress::Unix("/nonexistent/clamd.sock".into()),
            max_size: 10,
            ..AntivirusSettings::default()
        });
        let f = c.check(b"01234567890").await;
        assert_eq!(
            (f[0].action, f[0].code.as_str()),
            (Action::Accept, "unscanned")
        );
        let f = c.check(b"0123").await;
        assert_eq!(f[0].code, "antivirus_unavailable");
    }
}
