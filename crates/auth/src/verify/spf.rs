//! SPF (RFC 7208): may this client IP send mail for the MAIL FROM domain (§2.4), or for the
//! HELO/EHLO domain (§2.3)?
//!
//! `mail-auth` 0.13 evaluates the records; [`spf_audit`](super::spf_audit) then checks what
//! it leaves out (two records, §12 syntax, void lookups) on the records it reached, and the
//! client address and sender are normalised first (§5: IPv4-mapped IPv6; §4.3: no
//! local-part). What is still `mail-auth`'s own behaviour is listed in
//! `tests/spf_suite.rs` (`KNOWN_DEVIATIONS`).

use super::lookups::Lookups;
use super::spf_audit::{Kind, Recorder, audit};
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
    } else if !mail_from.contains('@') || mail_from.starts_with('@') {
        // RFC 7208 §4.3: a sender without a local-part is taken as postmaster@domain.
        format!("postmaster@{}", mail_from.trim_start_matches('@'))
    } else {
        mail_from.to_string()
    };
    let client_ip = unmapped(client_ip);
    let params = SpfParameters::verify_mail_from(client_ip, helo, receiver, &sender);
    let (output, audit) = evaluate(lookups, params).await;
    check(
        output,
        audit,
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
    let client_ip = unmapped(client_ip);
    let params = SpfParameters::verify_ehlo(client_ip, helo, receiver);
    let (output, audit) = evaluate(lookups, params).await;
    check(
        output,
        audit,
        SpfIdentity::Helo,
        helo.to_string(),
        client_ip,
        helo,
    )
}

/// RFC 7208 §5: "an IPv4-mapped IPv6 address ... MUST be evaluated using the IPv4
/// mechanisms" (§5.6): `::ffff:192.0.2.1` is checked as 192.0.2.1.
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// `mail-auth`'s evaluation, with the questions it asked audited for what it does not
/// check itself ([`spf_audit`]): the reason for a permerror it missed, or the best guess
/// at the cause of one it returned.
async fn evaluate(lookups: &Lookups<'_>, params: SpfParameters<'_>) -> (SpfOutput, Audit) {
    let recorder = Recorder::new(lookups);
    let output = lookups
        .authenticator()
        .verify_spf(recorder.params(params))
        .await;
    let questions = recorder.into_questions();
    // A temperror ends the evaluation at the question that failed (the last one): asking it
    // again would only wait for the same time-out.
    let answered = match output.result() {
        SpfResult::TempError => questions.split_last().map_or(&[][..], |(_, rest)| rest),
        _ => &questions[..],
    };
    let audit = Audit {
        problem: audit(lookups, answered).await,
        repeated: repeated_policy(&questions),
        questions: questions.len(),
    };
    (output, audit)
}

/// What the audit of one evaluation found.
struct Audit {
    /// A permerror `mail-auth` did not see.
    problem: Option<String>,
    /// A policy name asked three times or more: an include or redirect loop.
    repeated: Option<String>,
    /// How many DNS questions the evaluation asked.
    questions: usize,
}

fn repeated_policy(questions: &[(Kind, Box<str>)]) -> Option<String> {
    questions.iter().find_map(|(kind, name)| {
        let n = questions
            .iter()
            .filter(|(k, m)| *k == Kind::Txt && m == name)
            .count();
        (*kind == Kind::Txt && n >= 3).then(|| name.trim_end_matches('.').to_string())
    })
}

fn check(
    output: SpfOutput,
    audit: Audit,
    identity: SpfIdentity,
    sender: String,
    client_ip: IpAddr,
    helo: &str,
) -> SpfCheck {
    let domain = output.domain().to_ascii_lowercase();
    if let Some(problem) = audit.problem {
        return SpfCheck {
            verdict: Verdict::because(Status::PermError, problem),
            identity,
            domain,
            sender,
            client_ip,
            helo: helo.to_string(),
            explanation: None,
        };
    }
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
            match (audit.repeated, audit.questions) {
                (Some(name), _) => format!(
                    "the SPF record of {domain} includes {name} again and again: an include or redirect loop (RFC 7208 section 5.2, section 4.6.4)"
                ),
                (None, n) if n > 10 => format!(
                    "the SPF record of {domain} needs more than 10 DNS-querying terms (RFC 7208 section 4.6.4)"
                ),
                (None, _) => format!(
                    "the SPF record of {domain}, or one it includes or redirects to, is broken or missing (RFC 7208 section 4.6, section 5.2, section 6.1)"
                ),
            },
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
