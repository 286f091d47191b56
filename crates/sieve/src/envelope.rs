//! What a script is evaluated against besides the message: the SMTP envelope (RFC 5228
//! §5.4) and the environment (RFC 5183, RFC 5235 scores, the time).

/// The envelope of the message being delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// MAIL FROM; empty for the null sender `<>`.
    pub from: String,
    /// The RCPT TO address this delivery is for.
    pub to: String,
    /// RFC 3461 ORCPT, when known (Pigeonhole's `envelope.orig_to`).
    pub orig_to: Option<String>,
    /// The authenticated submitter (RFC 5228 §5.4 `auth` envelope part), if any.
    pub auth: Option<String>,
}

/// The gateway's verdict as RFC 5235 sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// RFC 5235 §3.1: 0 = not tested, 1..=10 from clean to certain.
    pub level: u8,
    /// spamtestplus's percentage, 0..=100.
    pub percent: u8,
}

/// The environment of one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// RFC 5183 §4 `domain`, `host`, `name`, `version`, `location`, `phase`,
    /// `remote-host`, `remote-ip`.
    pub domain: String,
    pub host: String,
    pub name: String,
    pub version: String,
    pub location: String,
    pub phase: String,
    pub remote_host: Option<String>,
    pub remote_ip: Option<String>,
    /// RFC 5235 spamtest/spamtestplus; `None`: not tested.
    pub spam: Option<Score>,
    /// RFC 5235 virustest; `None`: not tested.
    pub virus: Option<Score>,
    /// Now, in seconds since the Unix epoch, and the local offset in minutes (RFC 5260
    /// `currentdate`, RFC 5230 periods).
    pub now: i64,
    pub utc_offset_minutes: i32,
}

impl Default for Environment {
    fn default() -> Self {
        Environment {
            domain: "localhost".into(),
            host: "localhost".into(),
            name: "mailward".into(),
            version: String::new(),
            location: "MDA".into(),
            phase: "during".into(),
            remote_host: None,
            remote_ip: None,
            spam: None,
            virus: None,
            now: 0,
            utc_offset_minutes: 0,
        }
    }
}
