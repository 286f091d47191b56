//! Inbound mail authentication at the SMTP server (issue 16): the message that ends its
//! DATA on the `smtp` listener (port 25) from a client that did not authenticate is checked
//! ([`mailward_auth::inbound::assess`]: SPF, DKIM, ARC, DMARC) before it is queued; the
//! results go into `Received-SPF:` and `Authentication-Results:` (RFC 8601 §5: below our
//! `Received:`, where fields claiming our authserv-id were removed first), the log gets a
//! `mail_auth` event, and the DMARC policy decides: queue it, queue it for Junk, or refuse
//! it with `550 5.7.1`.
//!
//! Mail from authenticated clients (submission) is ours and is not checked (RFC 6409 §4:
//! it is not inbound); mail from `[relay] networks` and `[verify] trusted_forwarders` is
//! checked and recorded, but its DMARC failures are not enforced.

use crate::policy::{Cidr, in_networks};
use crate::session::{ListenerKind, Submission};
use mailward_auth::Resolver;
use mailward_auth::aggregate::{Evaluation, Recorder};
use mailward_auth::inbound::{Assessment, Client, InboundSettings, assess};
use mailward_auth::verify::{Lookups, remove_our_authentication_results};
use mailward_event::{Event, MailAuth, Scope};
use std::borrow::Cow;

/// The checks as the server runs them.
#[derive(Debug)]
pub struct InboundChecks {
    resolver: Resolver,
    settings: InboundSettings,
    /// Clients whose DMARC failures are not enforced (`[relay] networks` and
    /// `[verify] trusted_forwarders`).
    trusted: Vec<Cidr>,
    /// Where each DMARC evaluation goes for the aggregate reports (RFC 9990).
    recorder: Option<Recorder>,
}

/// A checked message.
#[derive(Debug)]
pub struct Checked<'m> {
    pub assessment: Assessment,
    /// The fields to add below our `Received:`.
    pub fields: String,
    /// The message without forged `Authentication-Results:`.
    pub message: Cow<'m, [u8]>,
}

impl InboundChecks {
    pub fn new(resolver: Resolver, settings: InboundSettings, trusted: Vec<Cidr>) -> InboundChecks {
        InboundChecks {
            resolver,
            settings,
            trusted,
            recorder: None,
        }
    }

    /// Records every DMARC evaluation with `recorder` (for `[dmarc]` reports).
    pub fn with_recorder(mut self, recorder: Recorder) -> InboundChecks {
        self.recorder = Some(recorder);
        self
    }

    pub fn settings(&self) -> &InboundSettings {
        &self.settings
    }

    /// Whether `sub` is inbound mail to check: it came in on port 25 without AUTH.
    pub fn applies(sub: &Submission) -> bool {
        sub.listener == ListenerKind::Smtp && sub.auth_user.is_none()
    }

    /// Checks `message` (as received, without our `Received:`) and logs the result in
    /// `scope`.
    pub async fn check<'m>(
        &self,
        sub: &Submission,
        message: &'m [u8],
        scope: &Scope<'_>,
    ) -> Checked<'m> {
        let ip = sub.remote_ip.to_canonical();
        // Named only when trusted: no string built for every message.
        let trusted = in_networks(&self.trusted, ip).then(|| ip.to_string());
        let client = Client {
            ip,
            helo: &sub.helo,
            mail_from: &sub.from,
            trusted: trusted.as_deref(),
        };
        let assessment = assess(
            &Lookups::live(&self.resolver),
            &client,
            message,
            &self.settings,
        )
        .await;
        scope.emit(Event::MailAuth(event(&assessment)));
        if let Some(recorder) = &self.recorder {
            let to_domain = sub
                .rcpts
                .first()
                .and_then(|r| r.address.rsplit_once('@'))
                .map_or("", |(_, d)| d);
            if let Some(evaluation) = Evaluation::from_assessment(
                mailward_store::ids::unix_now(),
                ip,
                &sub.from,
                to_domain,
                &assessment,
            ) {
                recorder.record(evaluation);
            }
        }
        let fields = assessment.header_fields(&self.settings);
        let message = remove_our_authentication_results(message, &self.settings.authserv_id);
        Checked {
            assessment,
            fields,
            message,
        }
    }
}

/// The `mail_auth` event for `a`.
fn event(a: &Assessment) -> MailAuth<'static> {
    let dkim: Vec<String> = a
        .dkim
        .iter()
        .map(|d| {
            if d.domain.is_empty() {
                d.verdict.status.to_string()
            } else {
                format!("{}:{}", d.domain, d.verdict.status)
            }
        })
        .collect();
    MailAuth {
        spf: a.spf.verdict.status.as_str().into(),
        spf_domain: a.spf.domain.clone().into(),
        dkim: if dkim.is_empty() {
            "none".into()
        } else {
            dkim.join(",").into()
        },
        arc: a.arc.verdict.status.as_str().into(),
        dmarc: a.dmarc.verdict.status.as_str().into(),
        from_domain: a.dmarc.from_domain.clone().into(),
        policy: a.dmarc.policy.map(Into::into),
        action: a.decision.disposition().into(),
        policy_override: a
            .policy_override
            .as_ref()
            .map(|o| format!("{}: {}", o.kind(), o.comment()).into()),
        us: u64::try_from(a.elapsed.as_micros()).unwrap_or(u64::MAX),
    }
}

/// The results as the security gateway's spam score reads them.
pub fn auth_verdicts(a: &Assessment) -> mailward_filter::context::AuthVerdicts {
    mailward_filter::context::AuthVerdicts {
        spf: a.spf.verdict.status.as_str().to_owned(),
        dkim: a
            .dkim
            .iter()
            .map(|d| d.verdict.status.to_string())
            .collect(),
        dmarc: a.dmarc.verdict.status.as_str().to_owned(),
        arc: a.arc.verdict.status.as_str().to_owned(),
        from_domain: a.dmarc.from_domain.clone(),
    }
}

/// `domain` fit for a reply line: a host name, or a neutral phrase when it is not one.
pub fn reply_domain(domain: &str) -> &str {
    let plain = !domain.is_empty()
        && domain.len() <= 253
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if plain { domain } else { "the sender's domain" }
}
