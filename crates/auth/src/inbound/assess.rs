//! Running the checks on one message: SPF on the envelope, DKIM on every signature, the
//! ARC chain, then DMARC from those results, within one time bound.

use super::decision::{Decision, PolicyOverride, decide};
use super::settings::InboundSettings;
use crate::verify::{
    ArcCheck, AuthenticationResults, DkimCheck, DmarcCheck, Lookups, SpfCheck, SpfIdentity, Status,
    Verdict, check_dmarc, check_spf_helo, check_spf_mail_from, received_spf, verify_arc,
    verify_dkim,
};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The SMTP session's side of a message: who connected and what they said.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub ip: IpAddr,
    /// The HELO/EHLO argument.
    pub helo: &'a str,
    /// The reverse-path without its angle brackets; empty for the null reverse-path.
    pub mail_from: &'a str,
    /// Set (to how the log names it) when the client is a trusted forwarder: DMARC
    /// failures are then recorded but not enforced.
    pub trusted: Option<&'a str>,
}

/// Every result, and what follows from them.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// SPF on MAIL FROM, or on HELO for the null reverse-path (RFC 7208 §2.4).
    pub spf: SpfCheck,
    /// SPF on the HELO identity as well (RFC 7208 §2.3 recommends it), when MAIL FROM was
    /// not null and HELO named a domain; informational (DMARC uses MAIL FROM's).
    pub spf_helo: Option<SpfCheck>,
    pub dkim: Vec<DkimCheck>,
    pub arc: ArcCheck,
    pub dmarc: DmarcCheck,
    pub decision: Decision,
    pub policy_override: Option<PolicyOverride>,
    /// How long the checks took (DNS included).
    pub elapsed: Duration,
}

impl Assessment {
    /// The fields to add to the message, each ending in CRLF: `Received-SPF:` (RFC 7208
    /// §9.1) then `Authentication-Results:` (RFC 8601 §2) with every result.
    pub fn header_fields(&self, settings: &InboundSettings) -> String {
        let mut fields = received_spf(&self.spf, &settings.receiver);
        let mut ar = AuthenticationResults::new(&settings.authserv_id);
        ar.spf(&self.spf);
        if let Some(helo) = &self.spf_helo {
            ar.spf(helo);
        }
        ar.dkim(&self.dkim).dmarc(&self.dmarc).arc(&self.arc);
        fields.push_str(&ar.to_field());
        fields
    }
}

/// Checks `message` (its header section and body as received, without our `Received:`)
/// from `client`. DNS answers that have not arrived within `settings.timeout` make the
/// checks still waiting for them `temperror`.
pub async fn assess(
    lookups: &Lookups<'_>,
    client: &Client<'_>,
    message: &[u8],
    settings: &InboundSettings,
) -> Assessment {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + settings.timeout;
    let spf = async {
        if client.mail_from.is_empty() {
            check_spf_helo(lookups, client.ip, client.helo, &settings.receiver).await
        } else {
            check_spf_mail_from(
                lookups,
                client.ip,
                client.helo,
                client.mail_from,
                &settings.receiver,
            )
            .await
        }
    };
    let helo_is_domain = !client.mail_from.is_empty()
        && client.helo.contains('.')
        && !client.helo.starts_with('[')
        && client.helo.parse::<IpAddr>().is_err();
    let spf_helo = async {
        if helo_is_domain {
            Some(check_spf_helo(lookups, client.ip, client.helo, &settings.receiver).await)
        } else {
            None
        }
    };
    let first = tokio::time::timeout_at(deadline, async {
        tokio::join!(
            spf,
            spf_helo,
            verify_dkim(lookups, message),
            verify_arc(lookups, message)
        )
    })
    .await;
    let late = || format!("DNS answers took longer than {}", seconds(settings.timeout));
    let (spf, spf_helo, dkim, arc) = match first {
        Ok(done) => done,
        Err(_) => (
            timed_out_spf(client, late()),
            None,
            vec![DkimCheck {
                verdict: Verdict::because(Status::TempError, late()),
                domain: String::new(),
                selector: String::new(),
                algorithm: "",
                identity: None,
            }],
            ArcCheck {
                verdict: Verdict::because(Status::TempError, late()),
                sealers: Vec::new(),
            },
        ),
    };
    let dmarc =
        match tokio::time::timeout_at(deadline, check_dmarc(lookups, message, &dkim, &spf)).await {
            Ok(dmarc) => dmarc,
            Err(_) => DmarcCheck::without_record(Verdict::because(Status::TempError, late())),
        };
    let (decision, policy_override) = decide(&dmarc, &arc, client.trusted, settings);
    Assessment {
        spf,
        spf_helo,
        dkim,
        arc,
        dmarc,
        decision,
        policy_override,
        elapsed: started.elapsed(),
    }
}

fn timed_out_spf(client: &Client<'_>, reason: String) -> SpfCheck {
    let (identity, sender) = if client.mail_from.is_empty() {
        (SpfIdentity::Helo, client.helo.to_string())
    } else {
        (SpfIdentity::MailFrom, client.mail_from.to_string())
    };
    let domain = sender
        .rsplit_once('@')
        .map_or(sender.as_str(), |(_, d)| d)
        .to_ascii_lowercase();
    SpfCheck {
        verdict: Verdict::because(Status::TempError, reason),
        identity,
        domain,
        sender,
        client_ip: client.ip,
        helo: client.helo.to_string(),
        explanation: None,
    }
}

/// `20 s`, or `300 ms` below a second.
fn seconds(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}
