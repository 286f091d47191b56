//! `[verify]`: checking the mail that arrives on port 25 (SPF, DKIM, ARC, DMARC; issue 16).

use super::{d_true, de_cidrs, de_duration};
use mailward_auth::inbound::{InboundSettings, RejectAs};
use mailward_mta::Cidr;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySection {
    /// Check mail from unauthenticated clients on the `smtp` listener.
    #[serde(default = "d_true")]
    pub inbound: bool,
    /// The authserv-id in `Authentication-Results:` (RFC 8601 §2.5); default: the host name.
    pub authserv_id: Option<String>,
    /// What a DMARC `p=reject` failure does: refuse with 550, or deliver into Junk.
    #[serde(default)]
    pub dmarc_reject: DmarcReject,
    /// From domains (and their subdomains) whose DMARC failures are not enforced.
    #[serde(default)]
    pub dmarc_exempt: Vec<String>,
    /// Hosts that forward mail here: their DMARC failures are not enforced (`[relay]
    /// networks` are trusted too).
    #[serde(default, deserialize_with = "de_cidrs")]
    pub trusted_forwarders: Vec<Cidr>,
    /// ARC sealers (mailing lists) whose passing chains lift a DMARC failure.
    #[serde(default)]
    pub trusted_arc_sealers: Vec<String>,
    /// Longest the checks may wait for DNS; what is missing then is `temperror`.
    #[serde(default = "d_timeout", deserialize_with = "de_duration")]
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmarcReject {
    #[default]
    Reject,
    Quarantine,
}

fn d_timeout() -> Duration {
    Duration::from_secs(20)
}

impl Default for VerifySection {
    fn default() -> Self {
        VerifySection {
            inbound: true,
            authserv_id: None,
            dmarc_reject: DmarcReject::Reject,
            dmarc_exempt: Vec::new(),
            trusted_forwarders: Vec::new(),
            trusted_arc_sealers: Vec::new(),
            timeout: d_timeout(),
        }
    }
}

impl VerifySection {
    /// The settings for the checks, for host `hostname`.
    pub fn settings(&self, hostname: &str) -> InboundSettings {
        let mut s = InboundSettings::new(hostname);
        if let Some(id) = &self.authserv_id {
            s.authserv_id = id.clone();
        }
        s.reject_as = match self.dmarc_reject {
            DmarcReject::Reject => RejectAs::Reject,
            DmarcReject::Quarantine => RejectAs::Quarantine,
        };
        s.exempt_domains = self.dmarc_exempt.clone();
        s.trusted_arc_sealers = self.trusted_arc_sealers.clone();
        s.timeout = self.timeout;
        s
    }
}
