//! `[[fetch]]`: remote mailboxes polled into local accounts (issue 18, remote retrieval).

use super::{Loaded, de_duration};
use anyhow::{Context, bail};
use mailward_mda::fetch::{FetchAccount, Protocol, TlsMode};
use serde::Deserialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One remote mailbox.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchSection {
    /// Names the state file and the log lines; default `<protocol>-<user>-<host>`.
    pub name: Option<String>,
    pub protocol: FetchProtocol,
    pub host: String,
    /// Default: 995/993 with implicit TLS, 110/143 otherwise.
    pub port: Option<u16>,
    /// `implicit` (default), `starttls`, or `none` (loopback hosts only).
    #[serde(default)]
    pub tls: FetchTls,
    pub user: String,
    pub password: Option<String>,
    /// A file whose first line is the password (relative to the config file).
    pub password_file: Option<PathBuf>,
    /// IMAP folder (default INBOX).
    #[serde(default = "d_folder")]
    pub folder: String,
    /// The local account the messages are delivered to.
    pub deliver_to: String,
    /// How often to poll (default 5m).
    #[serde(default = "d_interval", deserialize_with = "de_duration")]
    pub interval: Duration,
    /// Leave the messages on the server (default false: deleted once queued here).
    #[serde(default)]
    pub keep: bool,
    /// Messages taken per poll; 0 (default): all.
    #[serde(default)]
    pub max_messages_per_poll: usize,
    /// Verify the server's certificate and name (default true).
    #[serde(default = "d_true")]
    pub tls_verify: bool,
    /// Extra trusted certificates (PEM).
    pub ca_file: Option<PathBuf>,
    /// How long each read waits (default 60s).
    #[serde(default = "d_timeout", deserialize_with = "de_duration")]
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FetchProtocol {
    Pop3,
    Imap,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FetchTls {
    #[default]
    Implicit,
    Starttls,
    None,
}

fn d_folder() -> String {
    "INBOX".into()
}
fn d_interval() -> Duration {
    Duration::from_secs(300)
}
fn d_timeout() -> Duration {
    Duration::from_secs(60)
}
fn d_true() -> bool {
    true
}

/// A host that is this machine: `localhost` or a loopback address.
fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl FetchSection {
    /// The entry's name: given, or made from protocol, user and host.
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let proto = match self.protocol {
                FetchProtocol::Pop3 => "pop3",
                FetchProtocol::Imap => "imap",
            };
            format!("{proto}-{}-{}", self.user, self.host)
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        })
    }

    /// Checks that need no file access; errors name the entry.
    pub fn validate(&self, file: &Path) -> anyhow::Result<()> {
        let f = file.display();
        let n = self.name();
        if n.is_empty()
            || n.len() > 200
            || n.starts_with('.')
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
        {
            bail!("{f}: [[fetch]] name {n:?}: letters, digits, '.', '-', '_', '@' only");
        }
        if self.host.is_empty() || self.host.contains(char::is_whitespace) {
            bail!("{f}: [[fetch]] {n}: key `host` must be a host name");
        }
        if self.tls == FetchTls::None && !is_loopback_host(&self.host) {
            bail!(
                "{f}: [[fetch]] {n}: tls = \"none\" sends the password in plain text; it is allowed only to a loopback host"
            );
        }
        if self.password.is_some() == self.password_file.is_some() {
            bail!("{f}: [[fetch]] {n}: give exactly one of `password` and `password_file`");
        }
        if !self.deliver_to.contains('@') {
            bail!("{f}: [[fetch]] {n}: key `deliver_to` must be a local address");
        }
        if self.interval < Duration::from_secs(1) || self.timeout < Duration::from_millis(100) {
            bail!("{f}: [[fetch]] {n}: `interval` and `timeout` are too short");
        }
        Ok(())
    }

    /// The entry as the poller takes it: password read, port defaulted.
    pub fn account(&self, loaded: &Loaded) -> anyhow::Result<FetchAccount> {
        let name = self.name();
        let password = match (&self.password, &self.password_file) {
            (Some(p), _) => p.clone(),
            (None, Some(file)) => {
                let path = loaded.resolve(file);
                let text = std::fs::read_to_string(&path).with_context(|| {
                    format!("[[fetch]] {name}: {}: cannot read", path.display())
                })?;
                text.lines().next().unwrap_or("").to_string()
            }
            (None, None) => bail!("[[fetch]] {name}: no password"),
        };
        let protocol = match self.protocol {
            FetchProtocol::Pop3 => Protocol::Pop3,
            FetchProtocol::Imap => Protocol::Imap,
        };
        let tls = match self.tls {
            FetchTls::Implicit => TlsMode::Implicit,
            FetchTls::Starttls => TlsMode::StartTls,
            FetchTls::None => TlsMode::None,
        };
        Ok(FetchAccount {
            name,
            protocol,
            host: self.host.trim_matches(|c| c == '[' || c == ']').to_string(),
            port: self.port.unwrap_or(protocol.default_port(tls)),
            tls,
            user: self.user.clone(),
            password,
            folder: self.folder.clone(),
            deliver_to: self.deliver_to.to_ascii_lowercase(),
            interval: self.interval,
            keep: self.keep,
            max_messages_per_poll: self.max_messages_per_poll,
            tls_verify: self.tls_verify,
            ca_file: self.ca_file.as_ref().map(|p| loaded.resolve(p)),
            max_message_size: loaded.config.limits.message_size,
            timeout: self.timeout,
            state_dir: loaded.data_dir().join("fetch"),
        })
    }
}

/// Every entry's poller settings; duplicate names are an error.
pub fn accounts(loaded: &Loaded) -> anyhow::Result<Vec<FetchAccount>> {
    let mut out: Vec<FetchAccount> = Vec::new();
    for entry in &loaded.config.fetch {
        let account = entry.account(loaded)?;
        if out.iter().any(|a| a.name == account.name) {
            bail!("[[fetch]] {}: two entries have this name", account.name);
        }
        out.push(account);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use std::path::Path;

    const BASE: &str = "[[domains]]\nname = \"a.test\"\n";

    fn err(text: &str) -> String {
        parse(&format!("{BASE}{text}"), Path::new("m.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn an_entry_parses_with_defaults() {
        let c = parse(
            &format!(
                "{BASE}[[fetch]]\nprotocol = \"imap\"\nhost = \"imap.example.test\"\nuser = \"u\"\npassword = \"p\"\ndeliver_to = \"bob@a.test\"\n"
            ),
            Path::new("m.toml"),
        )
        .unwrap();
        let f = &c.fetch[0];
        assert_eq!(f.folder, "INBOX");
        assert!(!f.keep && f.tls_verify);
        assert_eq!(f.interval.as_secs(), 300);
        assert_eq!(f.name(), "imap-u-imap.example.test");
    }

    #[test]
    fn plain_text_only_to_loopback() {
        let e = err(
            "[[fetch]]\nprotocol = \"pop3\"\nhost = \"pop.example.test\"\ntls = \"none\"\nuser = \"u\"\npassword = \"p\"\ndeliver_to = \"b@a.test\"\n",
        );
        assert!(e.contains("plain text"), "{e}");
        let ok = format!(
            "{BASE}[[fetch]]\nprotocol = \"pop3\"\nhost = \"127.0.0.1\"\ntls = \"none\"\nuser = \"u\"\npassword = \"p\"\ndeliver_to = \"b@a.test\"\n"
        );
        assert!(parse(&ok, Path::new("m.toml")).is_ok());
    }

    #[test]
    fn one_password_source() {
        let e = err(
            "[[fetch]]\nprotocol = \"pop3\"\nhost = \"h\"\nuser = \"u\"\ndeliver_to = \"b@a.test\"\n",
        );
        assert!(e.contains("exactly one"), "{e}");
        let e = err(
            "[[fetch]]\nprotocol = \"smtp\"\nhost = \"h\"\nuser = \"u\"\npassword = \"p\"\ndeliver_to = \"b@a.test\"\n",
        );
        assert!(e.contains("fetch.protocol"), "{e}");
    }
}
