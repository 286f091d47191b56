//! SPF (RFC 7208): may this client IP send mail for the MAIL FROM domain (§2.4), or for the
//! HELO/EHLO domain (§2.3)?

use super::lookups::Lookups;
use super::verdict::{Status, Verdict};
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{SpfOutput, SpfResult};
use std::net::IpAddr;

/// Which identity was checked (RFC 7208 §2.3-2.4; `identity=` in `Received-SPF:`, §9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpfIdentity {
    MailFrom,
    Helo,
}

impl SpfIdentity {
    /// The `identity=` value of RFC 7208 §9.1.
    pub fn as_str(self) -> &'static str {
        match self {
            SpfIdentity::MailFrom => "mailfrom",
            SpfIdentity::Helo => "helo",
        }
    }
}

/// The outcome of one SPF check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfCheck {
    pub verdict: Verdict,
    pub identity: SpfIdentity,
    /// The domain whose policy was evaluated (lower-case).
    pub domain: String,
    /// The full identity: `local@domain` for MAIL FROM (`postmaster@helo` for a null
    /// reverse-path, RFC 7208 §2.4), the HELO domain for HELO.
    pub sender: String,
    pub client_ip: IpAddr,
    pub helo: String,
    /// The text of the domain's `exp=` (RFC 7208 §6.2), on `fail` only.
    pub explanation: Option<String>,
}

impl SpfCheck {
    /// What DMARC needs from this check (`mail-auth`'s own type).
    pub(crate) fn to_output(&self) -> SpfOutput {
        SpfOutput::new(self.domain.clone()).with_result(match self.verdict.status {
            Status::Pass => SpfResult::Pass,
            Status::Fail => SpfResult::Fail,
            Status::SoftFail => SpfResult::SoftFail,
            Status::Neutral => SpfResult::Neutral,
            Status::None => SpfResult::None,
            Status::TempError => SpfResult::TempError,
            Status::PermError => SpfResult::PermError,
        })
    }
}

/// RFC 7208 §2.4: checks the MAIL FROM identity. An empty `mail_from` (the null
/// reverse-path) is checked as `postmaster@<helo>`; `receiver` is our own host name, for
/// the `%{r}` macro (§7.3).
pub async fn check_spf_mail_from(
    lookups: &Lookups<'_>,
    client_ip: IpAddr,
    helo: &str,
    mail_from: &str,
    receiver: &str,
) -> SpfCheck {
    let mail_from = mail_from.trim_start_matches('<').trim_end_matches('>');
    let sender = if mail_from.is_empty() {
        format!("postmaster@{helo}")
    } else if !mail_from.contains('@') {
        // RFC 7208 §4.3: a sender without a local-part is taken as postmaster@domain.
        format!("postmaster@{mail_from}")
    } else {
        mail_from.to_string()
    };
    let params = SpfParameters::verify_mail_from(client_ip, helo, receiver, &sender);
    let output = lookups
        .authenticator()
        .verify_spf(lookups.params(params))
        .await;
    check(
        output,
        SpfIdentity::MailFrom,
        sender.clone(),
        client_ip,
        helo,
    )
}

/// RFC 7208 §2.3: checks the HELO/EHLO identity (recommended on its own; needed when the
/// reverse-path is null).
pub async fn check_spf_helo(
    lookups: &Lookups<'_>,
    client_ip: IpAddr,
    helo: &str,
    receiver: &str,
) -> SpfCheck {
    let params = SpfParameters::verify_ehlo(client_ip, helo, receiver);
    let output = lookups
        .authenticator()
        .verify_spf(lookups.params(params))
        .await;
    check(output, SpfIdentity::Helo, helo.to_string(), client_ip, helo)
}

fn check(
    output: SpfOutput,
    identity: SpfIdentity,
    sender: String,
    client_ip: IpAddr,
    helo: &str,
) -> SpfCheck {
    let domain = output.domain().to_ascii_lowercase();
    let verdict = match output.result() {
        SpfResult::Pass => Verdict::new(Status::Pass),
        SpfResult::Fail => Verdict::because(
            Status::Fail,
            format!("{domain} does not designate {client_ip} as a permitted sender"),
        ),
        SpfResult::SoftFail => Verdict::because(
            Status::SoftFail,
            format!("{domain} says {client_ip} is probably not a permitted sender"),
        ),
        SpfResult::Neutral => Verdict::because(
            Status::Neutral,
            format!("{domain} neither permits nor denies {client_ip}"),
        ),
        SpfResult::None => Verdict::because(Status::None, format!("{domain} has no SPF record")),
        SpfResult::TempError => Verdict::because(
            Status::TempError,
            format!("DNS lookup failed while evaluating the SPF record of {domain}"),
        ),
        SpfResult::PermError => Verdict::because(
            Status::PermError,
            format!("the SPF record of {domain} could not be evaluated"),
        ),
    };
    SpfCheck {
        verdict,
        identity,
        domain,
        sender,
        client_ip,
        helo: helo.to_string(),
        explanation: output.explanation().map(str::to_string),
    }
}
