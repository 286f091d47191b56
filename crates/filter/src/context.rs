//! What the gateway knows of a message besides its bytes: the SMTP envelope and the
//! mail-authentication verdicts.

use std::net::IpAddr;

/// The message's envelope and connection, as the SMTP server saw them.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub queue_id: &'a str,
    pub client_ip: IpAddr,
    /// The HELO/EHLO name.
    pub helo: &'a str,
    /// The reverse path (MAIL FROM), empty for `<>`.
    pub mail_from: &'a str,
    /// The forward paths (RCPT TO).
    pub rcpts: &'a [String],
    /// The SMTP AUTH identity: mail a user of ours submits. The spam score does not apply to
    /// it (as rspamd treats authenticated users); the file checks do.
    pub auth_user: Option<&'a str>,
    /// The mail-authentication results when the message was checked ([`AuthVerdicts`]).
    pub auth: Option<AuthVerdicts>,
}

/// The results of the SPF, DKIM, DMARC and ARC checks (RFC 8601 result words), as the
/// spam score reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthVerdicts {
    /// `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`.
    pub spf: String,
    /// One word per signature (`pass`, `fail`, ...), empty when unsigned.
    pub dkim: Vec<String>,
    /// `pass`, `fail`, `none`, ...
    pub dmarc: String,
    pub arc: String,
    /// The RFC 5322.From domain.
    pub from_domain: String,
}

impl Context<'_> {
    /// The recipients' domains, lower-case, without repeats (per-domain rules).
    pub fn rcpt_domains(&self) -> Vec<String> {
        let mut domains: Vec<String> = Vec::new();
        for r in self.rcpts {
            let domain = r.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            let domain = domain.to_ascii_lowercase();
            if !domains.contains(&domain) {
                domains.push(domain);
            }
        }
        domains
    }
}
