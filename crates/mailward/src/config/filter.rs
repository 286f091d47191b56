//! `[filter]`: the security gateway (issue 17), run on every message before it is queued.
//! Everything is on by default except the antivirus (it needs a clamd) and the sandbox (it
//! needs a command or an endpoint).

use super::{d_true, de_duration, de_size};
use mailward_filter::Action;
use mailward_filter::antivirus::{AntivirusSettings, ClamdAddress};
use mailward_filter::attachments::{ArchiveLimits, AttachmentSettings, DomainRules};
use mailward_filter::cdr::DisarmSettings;
use mailward_filter::gateway::GatewaySettings;
use mailward_filter::sandbox::{Hook, SandboxSettings};
use mailward_filter::spam::SpamSettings;
use mailward_filter::spam::rspamd::RspamdSettings;
use serde::{Deserialize, Deserializer};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSection {
    /// Run the gateway at all.
    #[serde(default = "d_true")]
    pub enabled: bool,
    #[serde(default)]
    pub attachments: AttachmentsSection,
    pub antivirus: Option<AntivirusSection>,
    pub sandbox: Option<SandboxSection>,
    #[serde(default)]
    pub disarm: DisarmSection,
    #[serde(default)]
    pub spam: SpamSection,
}

impl Default for FilterSection {
    fn default() -> Self {
        FilterSection {
            enabled: true,
            attachments: AttachmentsSection::default(),
            antivirus: None,
            sandbox: None,
            disarm: DisarmSection::default(),
            spam: SpamSection::default(),
        }
    }
}

/// `[filter.attachments]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentsSection {
    #[serde(default = "d_true")]
    pub enabled: bool,
    /// Extensions (`"js"`) and type names (`"executable"`) blocked besides the defaults.
    #[serde(default)]
    pub block: Vec<String>,
    /// Extensions and type names let through although a default blocks them.
    #[serde(default)]
    pub allow: Vec<String>,
    /// What a blocked file does: `reject` (554) or `quarantine`.
    #[serde(default = "d_reject", deserialize_with = "de_action")]
    pub action: Action,
    /// What a password-protected archive does: `quarantine`, `reject` or `accept`.
    #[serde(default = "d_quarantine", deserialize_with = "de_action")]
    pub encrypted: Action,
    /// What a message whose archives go past the bounds below does: `quarantine`, `reject`
    /// or `accept`.
    #[serde(default = "d_quarantine", deserialize_with = "de_action")]
    pub limits_action: Action,
    /// Archives inside archives followed.
    #[serde(default = "d_archive_depth")]
    pub archive_depth: usize,
    /// Entries listed over all archives of one message.
    #[serde(default = "d_archive_entries")]
    pub archive_entries: usize,
    /// Bytes expanded over all archives of one message.
    #[serde(default = "d_archive_expanded", deserialize_with = "de_size")]
    pub archive_expanded: u64,
    /// Expansion ratio past which one archived file is a bomb (checked past 4 MiB).
    #[serde(default = "d_archive_ratio")]
    pub archive_ratio: u64,
    /// `[filter.attachments.domains."example.com"]`: rules for mail to one domain.
    #[serde(default)]
    pub domains: HashMap<String, DomainSection>,
}

/// Per-domain additions to the block list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSection {
    #[serde(default)]
    pub block: Vec<String>,
    #[serde(default)]
    pub allow: Vec<String>,
}

impl Default for AttachmentsSection {
    fn default() -> Self {
        AttachmentsSection {
            enabled: true,
            block: Vec::new(),
            allow: Vec::new(),
            action: Action::Reject,
            encrypted: Action::Quarantine,
            limits_action: Action::Quarantine,
            archive_depth: d_archive_depth(),
            archive_entries: d_archive_entries(),
            archive_expanded: d_archive_expanded(),
            archive_ratio: d_archive_ratio(),
            domains: HashMap::new(),
        }
    }
}

/// `[filter.antivirus]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AntivirusSection {
    /// `host:port` of clamd's TCPSocket, or the path of its LocalSocket.
    pub clamd: String,
    /// clamd down or failing: `tempfail` (451, the default: fail closed) or `accept`.
    #[serde(default = "d_tempfail", deserialize_with = "de_action")]
    pub on_failure: Action,
    #[serde(default = "d_av_timeout", deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// Largest message sent to clamd (keep it at or under clamd's StreamMaxLength).
    #[serde(default = "d_av_max_size", deserialize_with = "de_size")]
    pub max_size: u64,
    /// A message over `max_size` (or over clamd's limit): `accept` (delivered with
    /// `X-Mailward-Antivirus: unscanned`), `quarantine`, `tempfail` or `reject`.
    #[serde(default = "d_accept", deserialize_with = "de_action")]
    pub on_oversize: Action,
}

/// `[filter.sandbox]`: `command = [...]` or `url = "http://..."`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSection {
    /// A program and its arguments; the file on its standard input.
    #[serde(default)]
    pub command: Vec<String>,
    /// An `http://` endpoint the file is POSTed to.
    pub url: Option<String>,
    /// Extensions and type names handed over.
    #[serde(default = "d_sandbox_types")]
    pub types: Vec<String>,
    #[serde(default = "d_sandbox_timeout", deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// What a timeout or a failing hook does: `accept`, `quarantine` or `tempfail`.
    #[serde(default = "d_accept", deserialize_with = "de_action")]
    pub on_timeout: Action,
    /// What a `suspicious` verdict does (`quarantine`).
    #[serde(default = "d_quarantine", deserialize_with = "de_action")]
    pub on_suspicious: Action,
    /// What a `malicious` verdict does (`reject`).
    #[serde(default = "d_reject", deserialize_with = "de_action")]
    pub on_malicious: Action,
    /// Verdicts remembered by SHA-256.
    #[serde(default = "d_sandbox_cache")]
    pub cache_entries: usize,
    /// Files handed over per message at most.
    #[serde(default = "d_sandbox_files")]
    pub max_files: usize,
    /// All the hook runs of one message together (the client waits for the reply to DATA).
    #[serde(
        default = "d_sandbox_message_timeout",
        deserialize_with = "de_duration"
    )]
    pub message_timeout: Duration,
}

/// `[filter.disarm]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisarmSection {
    #[serde(default = "d_true")]
    pub enabled: bool,
    /// Macros out of Office documents.
    #[serde(default = "d_true")]
    pub office: bool,
    /// JavaScript, actions, embedded files out of PDFs.
    #[serde(default = "d_true")]
    pub pdf: bool,
    /// Scripts, handlers, forms, remote resources out of HTML.
    #[serde(default = "d_true")]
    pub html: bool,
}

impl Default for DisarmSection {
    fn default() -> Self {
        DisarmSection {
            enabled: true,
            office: true,
            pdf: true,
            html: true,
        }
    }
}

/// `[filter.spam]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpamSection {
    #[serde(default = "d_true")]
    pub enabled: bool,
    /// Score from which a message is marked `X-Mailward-Spam: yes`.
    #[serde(default = "d_tag")]
    pub tag: f64,
    /// Score from which it goes into Junk.
    #[serde(default = "d_junk")]
    pub junk: f64,
    /// Score from which it is refused (554).
    #[serde(default = "d_reject_score")]
    pub reject: f64,
    /// DNS block lists of client addresses.
    #[serde(default)]
    pub dnsbl: Vec<String>,
    /// DNS block lists of the domains in links.
    #[serde(default)]
    pub uribl: Vec<String>,
    /// What a listing in a `dnsbl` zone adds to the score.
    #[serde(default = "d_dnsbl_score")]
    pub dnsbl_score: f64,
    /// What a listing in a `uribl` zone adds.
    #[serde(default = "d_uribl_score")]
    pub uribl_score: f64,
    /// A zone's own score instead (`{ "zen.example" = 4.0 }`).
    #[serde(default)]
    pub zone_scores: BTreeMap<String, f64>,
    /// Every DNS list lookup of one message together; what has not answered adds nothing.
    #[serde(default = "d_spam_timeout", deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// Link domains looked up per message at most.
    #[serde(default = "d_uribl_domains")]
    pub max_uribl_domains: usize,
    /// A real rspamd (`http://127.0.0.1:11333`): its score stands for ours; our rules
    /// score when it cannot answer.
    pub rspamd: Option<String>,
    #[serde(default = "d_rspamd_timeout", deserialize_with = "de_duration")]
    pub rspamd_timeout: Duration,
}

impl Default for SpamSection {
    fn default() -> Self {
        SpamSection {
            enabled: true,
            tag: d_tag(),
            junk: d_junk(),
            reject: d_reject_score(),
            dnsbl: Vec::new(),
            uribl: Vec::new(),
            dnsbl_score: d_dnsbl_score(),
            uribl_score: d_uribl_score(),
            zone_scores: BTreeMap::new(),
            timeout: d_spam_timeout(),
            max_uribl_domains: d_uribl_domains(),
            rspamd: None,
            rspamd_timeout: d_rspamd_timeout(),
        }
    }
}

impl FilterSection {
    /// The gateway's settings.
    pub fn settings(&self) -> Result<GatewaySettings, String> {
        let a = &self.attachments;
        let attachments = AttachmentSettings {
            enabled: a.enabled,
            block: a.block.clone(),
            allow: a.allow.clone(),
            domains: a
                .domains
                .iter()
                .map(|(d, r)| {
                    (
                        d.to_ascii_lowercase(),
                        DomainRules {
                            block: r.block.clone(),
                            allow: r.allow.clone(),
                        },
                    )
                })
                .collect(),
            action: a.action,
            encrypted: a.encrypted,
            limits_action: a.limits_action,
            archives: ArchiveLimits {
                max_depth: a.archive_depth,
                max_entries: a.archive_entries,
                max_expanded: a.archive_expanded,
                max_ratio: a.archive_ratio,
            },
        };
        let antivirus = self.antivirus.as_ref().map(|av| AntivirusSettings {
            clamd: ClamdAddress::parse(&av.clamd),
            on_failure: av.on_failure,
            timeout: av.timeout,
            max_size: usize::try_from(av.max_size).unwrap_or(usize::MAX),
            on_oversize: av.on_oversize,
        });
        let sandbox = match &self.sandbox {
            None => None,
            Some(sb) => {
                let hook = match (&sb.url, sb.command.is_empty()) {
                    (Some(url), true) => Hook::Http(url.clone()),
                    (None, false) => Hook::Command(sb.command.clone()),
                    _ => {
                        return Err("[filter.sandbox] needs one of `command` or `url`".to_owned());
                    }
                };
                let settings = SandboxSettings {
                    hook,
                    types: sb.types.clone(),
                    timeout: sb.timeout,
                    on_timeout: sb.on_timeout,
                    on_suspicious: sb.on_suspicious,
                    on_malicious: sb.on_malicious,
                    cache_entries: sb.cache_entries,
                    max_files: sb.max_files,
                    message_timeout: sb.message_timeout,
                };
                settings
                    .validate()
                    .map_err(|e| format!("[filter.sandbox]: {e}"))?;
                Some(settings)
            }
        };
        let s = &self.spam;
        if !(s.tag <= s.junk && s.junk <= s.reject) {
            return Err("[filter.spam] needs tag <= junk <= reject".to_owned());
        }
        Ok(GatewaySettings {
            enabled: self.enabled,
            attachments,
            antivirus,
            sandbox,
            disarm: DisarmSettings {
                enabled: self.disarm.enabled,
                office: self.disarm.office,
                pdf: self.disarm.pdf,
                html: self.disarm.html,
                ..DisarmSettings::default()
            },
            spam: SpamSettings {
                enabled: s.enabled,
                tag: s.tag,
                junk: s.junk,
                reject: s.reject,
                dnsbl: s.dnsbl.clone(),
                uribl: s.uribl.clone(),
                dnsbl_score: s.dnsbl_score,
                uribl_score: s.uribl_score,
                zone_scores: s.zone_scores.clone(),
                timeout: s.timeout,
                max_uribl_domains: s.max_uribl_domains,
                rspamd: s.rspamd.as_ref().map(|url| RspamdSettings {
                    url: url.clone(),
                    timeout: s.rspamd_timeout,
                    ..RspamdSettings::default()
                }),
            },
            ..GatewaySettings::default()
        })
    }
}

fn de_action<'de, D: Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
    let s = String::deserialize(d)?;
    Action::parse(&s).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown action {s:?} (accept, tag, junk, quarantine, tempfail, reject)"
        ))
    })
}

fn d_reject() -> Action {
    Action::Reject
}
fn d_quarantine() -> Action {
    Action::Quarantine
}
fn d_tempfail() -> Action {
    Action::TempFail
}
fn d_accept() -> Action {
    Action::Accept
}
fn d_archive_depth() -> usize {
    ArchiveLimits::default().max_depth
}
fn d_archive_entries() -> usize {
    ArchiveLimits::default().max_entries
}
fn d_archive_expanded() -> u64 {
    ArchiveLimits::default().max_expanded
}
fn d_av_timeout() -> Duration {
    Duration::from_secs(60)
}
fn d_sandbox_types() -> Vec<String> {
    SandboxSettings::default().types
}
fn d_sandbox_timeout() -> Duration {
    SandboxSettings::default().timeout
}
fn d_sandbox_cache() -> usize {
    SandboxSettings::default().cache_entries
}
fn d_sandbox_files() -> usize {
    SandboxSettings::default().max_files
}
fn d_sandbox_message_timeout() -> Duration {
    SandboxSettings::default().message_timeout
}
fn d_archive_ratio() -> u64 {
    ArchiveLimits::default().max_ratio
}
fn d_av_max_size() -> u64 {
    25 << 20
}
fn d_tag() -> f64 {
    SpamSettings::default().tag
}
fn d_junk() -> f64 {
    SpamSettings::default().junk
}
fn d_reject_score() -> f64 {
    SpamSettings::default().reject
}
fn d_dnsbl_score() -> f64 {
    SpamSettings::default().dnsbl_score
}
fn d_uribl_score() -> f64 {
    SpamSettings::default().uribl_score
}
fn d_spam_timeout() -> Duration {
    SpamSettings::default().timeout
}
fn d_uribl_domains() -> usize {
    SpamSettings::default().max_uribl_domains
}
fn d_rspamd_timeout() -> Duration {
    Duration::from_secs(20)
}
