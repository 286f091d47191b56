//! The configuration file (`mailward serve --config FILE`) and the embedded default
//! (DESIGN.md, "Configuration"). Unknown keys and bad values are errors that name the file,
//! the line and the key: every section denies unknown fields and every value is parsed
//! while the TOML is read, so toml's span points at the culprit.

mod dmarc;
mod fetch;
mod filter;
mod outbound;
mod sieve;
mod verify;

pub use dmarc::DmarcSection;
pub use fetch::{FetchSection, accounts as fetch_accounts};
pub use filter::FilterSection;
pub use outbound::{DnsSection, OutboundSection, RouteSection, parse_resolver, split_host_port};
pub use sieve::SieveSection;
pub use verify::VerifySection;

use anyhow::{Context, bail};
use mailward_mta::Cidr;
use serde::{Deserialize, Deserializer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub listen: ListenSection,
    pub tls: Option<TlsSection>,
    #[serde(default)]
    pub domains: Vec<DomainSection>,
    #[serde(default)]
    pub relay: RelaySection,
    #[serde(default)]
    pub limits: LimitsSection,
    #[serde(default)]
    pub queue: QueueSection,
    #[serde(default)]
    pub logging: LoggingSection,
    #[serde(default)]
    pub submission: SubmissionSection,
    #[serde(default)]
    pub search: SearchSection,
    #[serde(default)]
    pub dns: DnsSection,
    #[serde(default)]
    pub outbound: OutboundSection,
    #[serde(default)]
    pub dmarc: DmarcSection,
    /// `[[route]]` tables: fixed next hops per domain.
    #[serde(default)]
    pub route: Vec<RouteSection>,
    /// SPF, DKIM, ARC and DMARC on port 25 mail.
    #[serde(default)]
    pub verify: VerifySection,
    /// The security gateway: attachments, antivirus, sandbox, disarm, spam score.
    #[serde(default)]
    pub filter: FilterSection,
    /// Sieve: users' script quotas (ManageSieve), global scripts, triggered programs,
    /// vacation periods.
    #[serde(default)]
    pub sieve: SieveSection,
    /// `[[fetch]]`: remote POP3/IMAP mailboxes polled into local accounts.
    #[serde(default)]
    pub fetch: Vec<FetchSection>,
}

/// `[search]`: how IMAP SEARCH finds text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSection {
    /// Keep a full-text (trigram) index in `<data_dir>/fulltext.db` so SEARCH TEXT, BODY,
    /// SUBJECT, FROM, ... check only the messages that can match (default true); `false`
    /// scans every message.
    #[serde(default = "d_true")]
    pub full_text_index: bool,
}

impl Default for SearchSection {
    fn default() -> Self {
        SearchSection {
            full_text_index: true,
        }
    }
}

pub(crate) fn d_true() -> bool {
    true
}

/// `[submission]`: what authenticated users may send.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmissionSection {
    /// `reject` (default): an authenticated user's `From:` and MAIL FROM must be its own
    /// address, sub-address or alias, unless its own `Sender:` names who sent it (RFC 5322
    /// §3.6.2); `allow`: anything (a smarthost for other servers).
    #[serde(default)]
    pub header_from_policy: HeaderFromPolicy,
}

/// `[submission] header_from_policy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeaderFromPolicy {
    #[default]
    Reject,
    Allow,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// The name in the greeting, `Received: by`, and the self-signed certificate.
    #[serde(default = "default_hostname")]
    pub hostname: String,
    /// Where accounts, queue and mail live; relative paths are relative to the config file.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            hostname: default_hostname(),
            data_dir: default_data_dir(),
        }
    }
}

fn default_hostname() -> String {
    "localhost".into()
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("mailward-data")
}

/// Each a list of `ip:port`; absent = not served.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenSection {
    #[serde(default)]
    pub smtp: Vec<SocketAddr>,
    #[serde(default)]
    pub submission: Vec<SocketAddr>,
    #[serde(default)]
    pub submissions: Vec<SocketAddr>,
    /// POP3 with STLS (RFC 1939, RFC 2595): `"ip:port"` or a list; `""` or absent = off.
    #[serde(default, deserialize_with = "de_addrs")]
    pub pop3: Vec<SocketAddr>,
    /// POP3 over TLS from the first byte (RFC 8314): as `pop3`.
    #[serde(default, deserialize_with = "de_addrs")]
    pub pop3s: Vec<SocketAddr>,
    /// IMAP with STARTTLS (RFC 9051 §6.2.1): `"ip:port"` or a list; `""`, `[]` or
    /// absent = off.
    #[serde(default, deserialize_with = "de_addrs")]
    pub imap: Vec<SocketAddr>,
    /// IMAP over TLS from the first byte (RFC 8314): as `imap`.
    #[serde(default, deserialize_with = "de_addrs")]
    pub imaps: Vec<SocketAddr>,
    /// ManageSieve with STARTTLS (RFC 5804, port 4190): as `imap`.
    #[serde(default, deserialize_with = "de_addrs")]
    pub managesieve: Vec<SocketAddr>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// A string (`""` = none) or a list of strings.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) if s.trim().is_empty() => Vec::new(),
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// `"ip:port"`, `""` (not served) or a list of `"ip:port"`.
fn de_addrs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SocketAddr>, D::Error> {
    one_or_many(d)?
        .iter()
        .map(|s| {
            s.trim().parse::<SocketAddr>().map_err(|_| {
                serde::de::Error::custom(format!(
                    "invalid socket address {s:?} (expected \"ip:port\", e.g. \"0.0.0.0:110\")"
                ))
            })
        })
        .collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSection {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaySection {
    /// Clients that may relay without authentication.
    #[serde(default = "default_networks", deserialize_with = "de_cidrs")]
    pub networks: Vec<Cidr>,
    /// Offer AUTH without TLS to loopback clients on the smtp listener.
    #[serde(default = "yes")]
    pub plaintext_auth_on_loopback: bool,
    /// A smarthost (`smtp.isp.test:587`): every message leaves through it; absent =
    /// deliver by MX.
    pub host: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// A file holding the smarthost password (first line), instead of `password`.
    pub password_file: Option<PathBuf>,
    /// TLS to the smarthost: `encrypt` when credentials are set, else `may`.
    #[serde(default, deserialize_with = "outbound::de_tls_opt")]
    pub tls: Option<mailward_mta::outbound::TlsPolicy>,
    /// TLS from the first byte (port 465, RFC 8314) instead of STARTTLS.
    #[serde(default)]
    pub implicit_tls: bool,
}

impl Default for RelaySection {
    fn default() -> Self {
        RelaySection {
            networks: default_networks(),
            plaintext_auth_on_loopback: true,
            host: None,
            username: None,
            password: None,
            password_file: None,
            tls: None,
            implicit_tls: false,
        }
    }
}

fn yes() -> bool {
    true
}

fn default_networks() -> Vec<Cidr> {
    ["127.0.0.0/8", "::1/128"]
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    #[serde(default = "d_size", deserialize_with = "de_size")]
    pub message_size: u64,
    /// A message body larger than this goes to its spool file as it arrives instead of
    /// being held in memory: each SMTP session holds about this much of a message.
    #[serde(default = "d_spool_threshold", deserialize_with = "de_size")]
    pub spool_threshold: u64,
    #[serde(default = "d_rcpts")]
    pub recipients: usize,
    #[serde(default = "d_conns")]
    pub connections_per_ip: usize,
    /// New connections per IP per minute (0 = unlimited); trusted networks are exempt.
    #[serde(default = "d_rate")]
    pub connection_rate_per_minute: usize,
    #[serde(default = "d_errors")]
    pub errors: u32,
    #[serde(default = "d_auth_failures")]
    pub auth_failures: u32,
    #[serde(default = "d_auth_block", deserialize_with = "de_duration")]
    pub auth_block: Duration,
    #[serde(default = "d_auth_delay", deserialize_with = "de_duration")]
    pub auth_fail_delay: Duration,
    /// Password checks from one IP running at once, over all protocols.
    #[serde(default = "d_auth_checks")]
    pub auth_checks_per_ip: u32,
    #[serde(default = "d_cmd_timeout", deserialize_with = "de_duration")]
    pub command_timeout: Duration,
    #[serde(default = "d_data_timeout", deserialize_with = "de_duration")]
    pub data_timeout: Duration,
    /// SMTP: a client that has neither authenticated nor sent MAIL this long after it
    /// connected is dropped (absolute, however slowly it keeps sending).
    #[serde(default = "d_cmd_timeout", deserialize_with = "de_duration")]
    pub start_timeout: Duration,
}

impl Default for LimitsSection {
    fn default() -> Self {
        LimitsSection {
            message_size: d_size(),
            spool_threshold: d_spool_threshold(),
            recipients: d_rcpts(),
            connections_per_ip: d_conns(),
            connection_rate_per_minute: d_rate(),
            errors: d_errors(),
            auth_failures: d_auth_failures(),
            auth_block: d_auth_block(),
            auth_fail_delay: d_auth_delay(),
            auth_checks_per_ip: d_auth_checks(),
            command_timeout: d_cmd_timeout(),
            data_timeout: d_data_timeout(),
            start_timeout: d_cmd_timeout(),
        }
    }
}

fn d_size() -> u64 {
    50 * 1024 * 1024
}
fn d_spool_threshold() -> u64 {
    mailward_mta::DEFAULT_SPOOL_THRESHOLD as u64
}
fn d_rcpts() -> usize {
    100
}
fn d_conns() -> usize {
    20
}
fn d_rate() -> usize {
    120
}
fn d_errors() -> u32 {
    20
}
fn d_auth_failures() -> u32 {
    5
}
fn d_auth_block() -> Duration {
    Duration::from_secs(600)
}
fn d_auth_delay() -> Duration {
    Duration::from_secs(1)
}
fn d_auth_checks() -> u32 {
    2
}
fn d_cmd_timeout() -> Duration {
    Duration::from_secs(300)
}
fn d_data_timeout() -> Duration {
    Duration::from_secs(600)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSection {
    #[serde(default = "d_retry_initial", deserialize_with = "de_duration")]
    pub retry_initial: Duration,
    #[serde(default = "d_retry_max", deserialize_with = "de_duration")]
    pub retry_max: Duration,
    #[serde(default = "d_max_age", deserialize_with = "de_duration")]
    pub max_age: Duration,
    #[serde(default = "d_scan", deserialize_with = "de_duration")]
    pub scan_interval: Duration,
    #[serde(default = "d_concurrency")]
    pub concurrency: usize,
    /// A recipient still waiting this long gets a delay notice (RFC 3464), once.
    #[serde(
        default = "outbound::d_delay_warning",
        deserialize_with = "de_duration"
    )]
    pub delay_warning: Duration,
}

impl Default for QueueSection {
    fn default() -> Self {
        QueueSection {
            retry_initial: d_retry_initial(),
            retry_max: d_retry_max(),
            max_age: d_max_age(),
            scan_interval: d_scan(),
            concurrency: d_concurrency(),
            delay_warning: outbound::d_delay_warning(),
        }
    }
}

fn d_retry_initial() -> Duration {
    Duration::from_secs(300)
}
fn d_retry_max() -> Duration {
    Duration::from_secs(4 * 3600)
}
fn d_max_age() -> Duration {
    Duration::from_secs(5 * 86400)
}
fn d_scan() -> Duration {
    Duration::from_secs(5)
}
fn d_concurrency() -> usize {
    64
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingSection {
    /// `error`, `warn`, `info`, `debug`, `trace`.
    #[serde(default = "d_level", deserialize_with = "de_level")]
    pub level: String,
    /// JSON lines go here (appended); absent = standard output.
    pub file: Option<PathBuf>,
    /// `auto` (readable lines on a terminal, JSON lines otherwise), `json`, `text`.
    #[serde(default)]
    pub format: LogFormat,
}

/// The shape of log lines on standard output (a log file is always JSON lines).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines when standard output is a terminal, JSON lines otherwise.
    #[default]
    Auto,
    Json,
    Text,
}

impl Default for LoggingSection {
    fn default() -> Self {
        LoggingSection {
            level: d_level(),
            file: None,
            format: LogFormat::Auto,
        }
    }
}

fn d_level() -> String {
    "info".into()
}

fn de_level<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    match s.to_ascii_lowercase().as_str() {
        "error" | "warn" | "info" | "debug" | "trace" => Ok(s.to_ascii_lowercase()),
        _ => Err(serde::de::Error::custom(format!(
            "invalid level {s:?}: expected error, warn, info, debug or trace"
        ))),
    }
}

fn de_cidrs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Cidr>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    v.iter()
        .map(|s| s.parse::<Cidr>().map_err(serde::de::Error::custom))
        .collect()
}

/// `"30s"`, `"5m"`, `"2h"`, `"5d"`, `"250ms"`, or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (e.g. \"30s\", \"5m\")"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => return Ok(Duration::from_millis(n)),
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => {
            return Err(format!(
                "invalid duration {s:?}: unit must be ms, s, m, h or d"
            ));
        }
    };
    Ok(Duration::from_secs(secs))
}

/// `"50M"`, `"1G"`, `"512K"`, `"1000"` (octets; K/M/G are powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size {s:?} (e.g. \"50M\")"))?;
    let mult = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1024,
        "M" | "MB" | "MIB" => 1024 * 1024,
        "G" | "GB" | "GIB" => 1024 * 1024 * 1024,
        _ => return Err(format!("invalid size {s:?}: unit must be K, M or G")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrStr {
    Num(u64),
    Str(String),
}

pub(crate) fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    match NumOrStr::deserialize(d)? {
        NumOrStr::Num(n) => Ok(Duration::from_secs(n)),
        NumOrStr::Str(s) => parse_duration(&s).map_err(serde::de::Error::custom),
    }
}

pub(crate) fn de_size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match NumOrStr::deserialize(d)? {
        NumOrStr::Num(n) => Ok(n),
        NumOrStr::Str(s) => parse_size(&s).map_err(serde::de::Error::custom),
    }
}

/// Where the configuration came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// `None` for the embedded default.
    pub path: Option<PathBuf>,
}

impl Loaded {
    /// The data directory, relative paths taken from the config file's directory.
    pub fn data_dir(&self) -> PathBuf {
        self.resolve(&self.config.server.data_dir)
    }

    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            return p.to_path_buf();
        }
        match self.path.as_ref().and_then(|f| f.parent()) {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(p),
            _ => p.to_path_buf(),
        }
    }

    pub fn domains(&self) -> Vec<String> {
        self.config
            .domains
            .iter()
            .map(|d| d.name.to_ascii_lowercase())
            .collect()
    }
}

/// The embedded default (DESIGN.md): data in `./mailward-data`, SMTP 2525, submission
/// 2587, SMTPS 2465, POP3 2110, POP3S 2995, IMAP 2143, IMAPS 2993, ManageSieve 2190 on loopback, self-signed certificate, domain
/// `localhost`.
pub fn embedded_default() -> Config {
    let addr = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
    Config {
        server: ServerSection::default(),
        listen: ListenSection {
            smtp: vec![addr(2525)],
            submission: vec![addr(2587)],
            submissions: vec![addr(2465)],
            pop3: vec![addr(2110)],
            pop3s: vec![addr(2995)],
            imap: vec![addr(2143)],
            imaps: vec![addr(2993)],
            managesieve: vec![addr(2190)],
        },
        tls: None,
        domains: vec![DomainSection {
            name: "localhost".into(),
        }],
        relay: RelaySection::default(),
        limits: LimitsSection::default(),
        queue: QueueSection::default(),
        logging: LoggingSection::default(),
        submission: SubmissionSection::default(),
        search: SearchSection::default(),
        dns: DnsSection::default(),
        dmarc: DmarcSection::default(),
        outbound: OutboundSection::default(),
        route: Vec::new(),
        verify: VerifySection::default(),
        filter: FilterSection::default(),
        sieve: SieveSection::default(),
        fetch: Vec::new(),
    }
}

/// Parses configuration text; errors name `file`, the line and the key.
pub fn parse(text: &str, file: &Path) -> anyhow::Result<Config> {
    match toml::from_str::<Config>(text) {
        Ok(c) => {
            validate(&c, file)?;
            Ok(c)
        }
        Err(e) => {
            let line = e
                .span()
                .map(|s| text.get(..s.start).map_or(0, |t| t.matches('\n').count()) + 1);
            let msg = e.message().trim().to_string();
            let key = e.span().and_then(|s| key_at(text, s.start));
            let mut out = format!("{}", file.display());
            if let Some(l) = line {
                out.push_str(&format!(":{l}"));
            }
            if let Some(k) = key {
                out.push_str(&format!(": key `{k}`"));
            }
            bail!("{out}: {msg}")
        }
    }
}

/// The key written on the line of `offset` (`name = ...`), with its `[section]`.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.lines().next()?;
    let section = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').to_string());
    let key = line.split_once('=').map(|(k, _)| k.trim().to_string());
    match (section, key) {
        (Some(s), Some(k)) => Some(format!("{s}.{k}")),
        (None, Some(k)) => Some(k),
        (Some(s), None) => Some(s),
        (None, None) => None,
    }
}

fn validate(c: &Config, file: &Path) -> anyhow::Result<()> {
    let f = file.display();
    if c.server.hostname.is_empty() || c.server.hostname.contains(char::is_whitespace) {
        bail!("{f}: key `server.hostname`: must be a host name");
    }
    if c.domains.is_empty() {
        bail!("{f}: no [[domains]]: at least one domain must be served");
    }
    for d in &c.domains {
        if d.name.is_empty()
            || d.name
                .contains(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '-'))
        {
            bail!("{f}: key `domains.name`: {:?} is not a domain name", d.name);
        }
    }
    if c.limits.recipients == 0 || c.limits.errors == 0 || c.queue.concurrency == 0 {
        bail!("{f}: [limits] recipients and errors, and [queue] concurrency, must be at least 1");
    }
    c.sieve.validate(file)?;
    for entry in &c.fetch {
        entry.validate(file)?;
    }
    Ok(())
}

/// Loads `--config FILE`, or the embedded default without one.
pub fn load(path: Option<&Path>) -> anyhow::Result<Loaded> {
    match path {
        None => Ok(Loaded {
            config: embedded_default(),
            path: None,
        }),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read", p.display()))?;
            Ok(Loaded {
                config: parse(&text, p)?,
                path: Some(p.to_path_buf()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, Path::new("m.toml")).unwrap_err().to_string()
    }

    #[test]
    fn issue_example_parses() {
        let c = parse(
            r#"
[server]
hostname = "mx.example.test"
data_dir = "/var/lib/mailward"
[listen]
smtp = ["0.0.0.0:25"]
submission = ["0.0.0.0:587"]
submissions = ["0.0.0.0:465"]
[tls]
cert = "/etc/mailward/fullchain.pem"
key = "/etc/mailward/privkey.pem"
[[domains]]
name = "example.test"
[limits]
message_size = "10M"
spool_threshold = "1M"
command_timeout = "5m"
"#,
            Path::new("m.toml"),
        )
        .unwrap();
        assert_eq!(c.listen.smtp.len(), 1);
        assert_eq!(c.limits.message_size, 10 * 1024 * 1024);
        assert_eq!(c.limits.spool_threshold, 1024 * 1024);
        assert_eq!(c.limits.command_timeout, Duration::from_secs(300));
    }

    #[test]
    fn sample_config_documents_valid_keys() {
        let text = include_str!("../../../../mailward.sample.toml");
        let c = parse(text, Path::new("mailward.sample.toml")).unwrap();
        assert_eq!(c.listen.submissions.len(), 1);
        assert_eq!(c.limits.auth_block, Duration::from_secs(600));
    }

    #[test]
    fn pop3_listeners_take_a_string_a_list_or_nothing() {
        let base = "[[domains]]\nname = \"a.test\"\n[listen]\n";
        let c = parse(
            &format!(
                "{base}pop3 = \"127.0.0.1:2110\"\npop3s = [\"127.0.0.1:2995\", \"[::1]:2995\"]\n"
            ),
            Path::new("m.toml"),
        )
        .unwrap();
        assert_eq!(c.listen.pop3, ["127.0.0.1:2110".parse().unwrap()]);
        assert_eq!(c.listen.pop3s.len(), 2);
        let c = parse(&format!("{base}pop3 = \"\"\n"), Path::new("m.toml")).unwrap();
        assert!(c.listen.pop3.is_empty() && c.listen.pop3s.is_empty());
        let e = err(&format!("{base}pop3 = \"localhost\"\n"));
        assert!(e.starts_with("m.toml:4: key `listen.pop3`"), "{e}");
        let d = embedded_default();
        assert_eq!(d.listen.pop3, ["127.0.0.1:2110".parse().unwrap()]);
        assert_eq!(d.listen.pop3s, ["127.0.0.1:2995".parse().unwrap()]);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = err("[[domains]]\nname = \"a.test\"\n[server]\nhostnme = \"x\"\n");
        assert!(e.starts_with("m.toml:4: key `server.hostnme`"), "{e}");
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn bad_values_name_line_and_key() {
        let e = err("[[domains]]\nname = \"a.test\"\n[listen]\nsmtp = [\"nonsense\"]\n");
        assert!(e.starts_with("m.toml:4: key `listen.smtp`"), "{e}");
        let e = err("[[domains]]\nname = \"a.test\"\n[limits]\nmessage_size = \"12Q\"\n");
        assert!(
            e.starts_with("m.toml:4: key `limits.message_size`") && e.contains("unit"),
            "{e}"
        );
        let e = err("[[domains]]\nname = \"a.test\"\n[relay]\nnetworks = [\"10.0.0.0/99\"]\n");
        assert!(e.starts_with("m.toml:4: key `relay.networks`"), "{e}");
    }
}
