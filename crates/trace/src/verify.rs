//! `mailward trace --verify`: re-verify a message's DKIM signatures (RFC 6376) and ARC chain
//! (RFC 8617) through DNS, re-evaluate SPF (RFC 7208) and DMARC (RFC 7489), and put our own
//! verdicts in the report next to the ones the message's headers claim.
//!
//! Every check is the SMTP server's own, from `mailward_auth::verify` (one implementation
//! of each); this module only chooses its inputs and writes its outcome into the report.
//!
//! This is a re-evaluation *today*, against today's DNS (or the `--dns-zone FILE` given for
//! offline work) and today's clock, not a replay of what the receiving server saw:
//! - DKIM keys are rotated and withdrawn, so an old message may fail or error although it was
//!   genuine when delivered. A signature whose `x=` expiry (RFC 6376 §3.5) has passed is
//!   checked once more without the expiry (`verify_dkim_past_expiry`): if it verifies
//!   otherwise, its result is `policy` (RFC 8601 §2.7.1: signed, but not acceptable), with
//!   the expiry as the reason.
//! - SPF cannot be re-checked from the headers alone: it needs the connecting IP and the
//!   envelope sender. We take the origin IP the trace found (`report.origin`) and the
//!   `Return-Path:` domain (RFC 5321 §4.4), and ask today's SPF record whether that IP may
//!   send for it. When either is missing, SPF is not re-evaluated and the header's claim
//!   stays in `authentication.spf`.
//! - DMARC (RFC 7489 §6.6) is evaluated from our DKIM and SPF results, never from the
//!   headers' claims, with the DMARCbis tree walk to find the policy record.
//!
//! With a zone file, no network is used at all: the zone becomes a
//! `mailward_auth::verify::StaticDns` in front of a resolver that has no servers. A TXT
//! question about a name the zone does not hold is NXDOMAIN; an A/AAAA/MX/PTR question about
//! one fails at once (an SPF check that needs such a name yields `temperror`, never a guess).
//! Without a zone file, questions go to `mailward_auth::Resolver` (the system's name
//! servers, or the ones given).
//!
//! Line endings: a message saved to a file often lost its CRLFs (RFC 5322 §2.1); bare LFs are
//! turned back into CRLF before hashing, as the signer saw them.

use crate::domains::{address_domain, organizational_domain};
use crate::report::{Alignment, AuthResult, Report};
use crate::zone::{Zone, ZoneError};
use mailward_auth::Resolver;
use mailward_auth::verify::{
    ArcCheck, DkimCheck, DmarcCheck, Lookups, PastExpiry, SpfCheck, SpfIdentity, StaticDns, Status,
    Verdict, check_dmarc, check_spf_helo, check_spf_mail_from, verify_arc, verify_dkim_past_expiry,
};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

/// The authserv-id (RFC 8601 §2.5) on the results we add.
pub const AUTHSERV_ID: &str = "mailward";
/// The host name SPF macros see as the receiving host (`%{r}`, RFC 7208 §7.3).
const RECEIVING_HOST: &str = "mailward.invalid";

/// Why re-verification could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The zone file could not be read; the message names the file and line.
    #[error("DNS zone {0}")]
    Zone(#[from] ZoneError),
    #[error("cannot start the DNS runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot use the DNS resolver ({0}); give --dns-zone FILE to verify offline")]
    Resolver(String),
}

/// Where the checks' DNS answers come from.
enum Dns {
    /// The network, through the shared resolver.
    Live(Resolver),
    /// A zone file only.
    Zone(Box<Offline>),
}

/// A zone's answers, in front of an authenticator that has no name servers.
struct Offline {
    authenticator: mail_auth::MessageAuthenticator,
    zone: StaticDns,
}

/// Re-verifies messages. Owns a current-thread tokio runtime for the async checks; build
/// one per run and call [`Verifier::verify`] for each message.
pub struct Verifier {
    runtime: tokio::runtime::Runtime,
    dns: Dns,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("offline", &self.is_offline())
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// With `zone_file`, answers come from that master file (RFC 1035 §5) and no network is
    /// used; without, from the system resolver (`/etc/resolv.conf`).
    pub fn new(zone_file: Option<&Path>) -> Result<Verifier, VerifyError> {
        match zone_file {
            Some(path) => Verifier::with_zone(Zone::load(path)?),
            None => Verifier::online(&[]),
        }
    }

    /// Live DNS through these name servers (`[dns] resolver`), or the system's when empty.
    pub fn online(servers: &[SocketAddr]) -> Result<Verifier, VerifyError> {
        let runtime = runtime()?;
        let resolver = {
            let _guard = runtime.enter();
            Resolver::from_config(servers).map_err(|e| VerifyError::Resolver(e.to_string()))?
        };
        Ok(Verifier {
            runtime,
            dns: Dns::Live(resolver),
        })
    }

    /// Offline verification against an already parsed zone.
    pub fn with_zone(zone: Zone) -> Result<Verifier, VerifyError> {
        let runtime = runtime()?;
        let authenticator = {
            let _guard = runtime.enter();
            StaticDns::offline_authenticator().map_err(|e| VerifyError::Resolver(e.to_string()))?
        };
        Ok(Verifier {
            runtime,
            dns: Dns::Zone(Box::new(Offline {
                authenticator,
                zone: zone.to_static_dns(),
            })),
        })
    }

    /// True when answers come from a zone file only.
    pub fn is_offline(&self) -> bool {
        matches!(self.dns, Dns::Zone(_))
    }

    /// Re-verifies `raw` (the whole message) and records the outcome in `report`: each
    /// `DkimSignature.result`, our own `AuthResult`s (`ours: true`, authserv-id
    /// [`AUTHSERV_ID`]), the `dkim`, `arc`, `dmarc` (and, when it could be re-evaluated,
    /// `spf`) verdicts, the DMARC `alignment`, and `verified = true`.
    ///
    /// Findings are not recomputed here: the caller refreshes them afterwards.
    pub fn verify(&self, raw: &[u8], report: &mut Report) {
        let raw = crlf(raw);
        let inputs = Inputs::from_report(report);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.runtime.block_on(self.check(&raw, &inputs))
        }));
        match run {
            Ok(outcome) => apply(outcome, &inputs, report),
            Err(_) => report.warnings.push(
                "re-verification stopped on an internal error; the verdicts are the headers' claims"
                    .into(),
            ),
        }
    }

    fn lookups(&self) -> Lookups<'_> {
        match &self.dns {
            Dns::Live(resolver) => Lookups::live(resolver),
            Dns::Zone(offline) => Lookups::fixed(&offline.authenticator, &offline.zone),
        }
    }

    async fn check(&self, raw: &[u8], inputs: &Inputs) -> Outcome {
        if !has_header_field(raw) {
            return Outcome::default();
        }
        let lookups = self.lookups();
        let checked = verify_dkim_past_expiry(&lookups, raw).await;
        let arc = verify_arc(&lookups, raw).await;

        let spf = match (
            inputs.ip,
            inputs.mail_from.as_deref(),
            inputs.helo.as_deref(),
        ) {
            (Some(ip), Some(sender), helo) => {
                let helo = helo.unwrap_or(RECEIVING_HOST);
                Some(check_spf_mail_from(&lookups, ip, helo, sender, RECEIVING_HOST).await)
            }
            // RFC 7208 §2.4: with a null reverse-path, the HELO identity is checked.
            (Some(ip), None, Some(helo)) if inputs.null_sender => {
                Some(check_spf_helo(&lookups, ip, helo, RECEIVING_HOST).await)
            }
            _ => None,
        };
        let dkim: Vec<DkimCheck> = checked.iter().map(|(c, _)| c.clone()).collect();
        let dmarc = check_dmarc(&lookups, raw, &dkim, spf.as_ref().unwrap_or(&no_spf())).await;

        Outcome {
            parsed: true,
            dkim: checked
                .iter()
                .map(|(c, past)| SignatureOutcome::of(c, past.as_ref()))
                .collect(),
            arc: ArcOutcome::of(&arc),
            spf: spf.map(|s| SpfOutcome {
                result: s.verdict.status.as_str(),
                domain: s.domain,
            }),
            dmarc: DmarcOutcome::of(&dmarc),
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, VerifyError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(VerifyError::Runtime)
}

/// An SPF result that was not re-evaluated: DMARC then rests on DKIM alone (RFC 7489 §4.2).
fn no_spf() -> SpfCheck {
    SpfCheck {
        verdict: Verdict::new(Status::None),
        identity: SpfIdentity::MailFrom,
        domain: String::new(),
        sender: String::new(),
        client_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        helo: String::new(),
        explanation: None,
    }
}

/// RFC 5322 §2.2: a message starts with a header field (`name:`), else there is nothing to
/// verify.
fn has_header_field(raw: &[u8]) -> bool {
    let first = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    first
        .iter()
        .position(|&b| b == b':')
        .and_then(|colon| first.get(..colon))
        .is_some_and(|name| !name.is_empty() && name.iter().all(u8::is_ascii_graphic))
}

/// Bare LF → CRLF (RFC 5322 §2.1), leaving existing CRLFs alone.
fn crlf(raw: &[u8]) -> Cow<'_, [u8]> {
    let bare = raw
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || raw.get(i - 1) != Some(&b'\r')));
    if !bare {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    let mut previous = 0u8;
    for &b in raw {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    Cow::Owned(out)
}

/// What the report tells us about the SMTP transaction.
#[derive(Debug, Default)]
struct Inputs {
    ip: Option<IpAddr>,
    helo: Option<String>,
    /// The `Return-Path:` address, when it is not null.
    mail_from: Option<String>,
    null_sender: bool,
    from_domain: Option<String>,
}

impl Inputs {
    fn from_report(report: &Report) -> Inputs {
        let origin = report.origin.as_ref();
        let helo = origin
            .and_then(|o| o.host.clone())
            .or_else(|| {
                let hop = origin?.hop?;
                report
                    .hops
                    .iter()
                    .find(|h| h.index == hop)?
                    .from_host
                    .clone()
            })
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
            .filter(|h| h.contains('.') && !h.starts_with('['));
        let path = report.message.return_path.as_deref().map(str::trim);
        let mail_from = path
            .filter(|p| address_domain(p).is_some())
            .map(|p| p.trim_start_matches('<').trim_end_matches('>').to_string());
        Inputs {
            ip: origin.and_then(|o| o.ip),
            helo,
            null_sender: path.is_some_and(|p| p.trim_matches(['<', '>', ' ']).is_empty()),
            mail_from,
            from_domain: report
                .message
                .from_address
                .as_deref()
                .and_then(address_domain),
        }
    }
}

/// Everything re-verification found, owned, in the report's words.
#[derive(Debug, Default)]
struct Outcome {
    parsed: bool,
    dkim: Vec<SignatureOutcome>,
    arc: ArcOutcome,
    spf: Option<SpfOutcome>,
    dmarc: DmarcOutcome,
}

#[derive(Debug)]
struct SignatureOutcome {
    /// `d=`, `s=`, `a=`, `i=` when the signature could be parsed.
    tags: Option<(String, String, String, String)>,
    result: &'static str,
    reason: Option<String>,
}

impl SignatureOutcome {
    fn of(check: &DkimCheck, past: Option<&PastExpiry>) -> SignatureOutcome {
        let tags = (!check.domain.is_empty()).then(|| {
            (
                check.domain.clone(),
                check.selector.clone(),
                check.algorithm.to_string(),
                check.identity.clone().unwrap_or_default(),
            )
        });
        let (result, reason) = match past {
            None => (check.verdict.status.as_str(), check.verdict.reason.clone()),
            // RFC 8601 §2.7.1: `policy` for a signature that verifies but is not
            // acceptable; here, only because its x= has passed.
            Some(past) => {
                let expired = format!("signature expired at {} (Unix time)", past.expired_at);
                match (past.otherwise.status, &past.otherwise.reason) {
                    (Status::Pass, _) => {
                        ("policy", Some(format!("{expired}; it verifies otherwise")))
                    }
                    (status, Some(r)) => (status.as_str(), Some(format!("{expired}; {r}"))),
                    (status, None) => (status.as_str(), Some(expired)),
                }
            }
        };
        SignatureOutcome {
            tags,
            result,
            reason,
        }
    }
}

#[derive(Debug)]
struct ArcOutcome {
    result: &'static str,
    reason: Option<String>,
    /// The sealers' `d=`, instance 1 first.
    chain: Vec<String>,
}

impl ArcOutcome {
    fn of(check: &ArcCheck) -> ArcOutcome {
        ArcOutcome {
            result: check.verdict.status.as_str(),
            reason: check.verdict.reason.clone(),
            chain: check.sealers.clone(),
        }
    }
}

impl Default for ArcOutcome {
    fn default() -> Self {
        ArcOutcome {
            result: "none",
            reason: None,
            chain: Vec::new(),
        }
    }
}

#[derive(Debug)]
struct SpfOutcome {
    result: &'static str,
    domain: String,
}

#[derive(Debug)]
struct DmarcOutcome {
    result: &'static str,
    domain: String,
    policy: Option<&'static str>,
    dkim_aligned_pass: bool,
    spf_aligned_pass: bool,
    strict_dkim: bool,
    strict_spf: bool,
}

impl DmarcOutcome {
    fn of(check: &DmarcCheck) -> DmarcOutcome {
        DmarcOutcome {
            result: check.verdict.status.as_str(),
            domain: check.from_domain.clone(),
            policy: check.policy,
            dkim_aligned_pass: check.dkim_aligned,
            spf_aligned_pass: check.spf_aligned,
            strict_dkim: check.strict_dkim,
            strict_spf: check.strict_spf,
        }
    }
}

impl Default for DmarcOutcome {
    fn default() -> Self {
        DmarcOutcome {
            result: "none",
            domain: String::new(),
            policy: None,
            dkim_aligned_pass: false,
            spf_aligned_pass: false,
            strict_dkim: false,
            strict_spf: false,
        }
    }
}

/// The summary of several DKIM results: any pass wins (RFC 7489 §4.2 needs one); otherwise
/// the most telling failure.
fn summary(results: impl Iterator<Item = &'static str>) -> &'static str {
    const ORDER: [&str; 7] = [
        "pass",
        "fail",
        "policy",
        "temperror",
        "permerror",
        "neutral",
        "none",
    ];
    results
        .min_by_key(|r| ORDER.iter().position(|o| o == r).unwrap_or(ORDER.len()))
        .unwrap_or("none")
}

fn ours(method: &str, result: &str, properties: Vec<(String, String)>) -> AuthResult {
    AuthResult {
        authserv_id: AUTHSERV_ID.into(),
        method: method.into(),
        result: result.into(),
        properties,
        header: "Authentication-Results".into(),
        ours: true,
    }
}

fn prop(key: &str, value: impl Into<String>) -> (String, String) {
    (key.to_string(), value.into())
}

/// RFC 7489 §3.1.1-3.1.2: strict alignment needs the same domain, relaxed the same
/// organisational domain.
fn aligned(domain: &str, from_domain: &str, strict: bool) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    domain == from_domain
        || (!strict && organizational_domain(&domain) == organizational_domain(from_domain))
}

fn apply(outcome: Outcome, inputs: &Inputs, report: &mut Report) {
    let auth = &mut report.authentication;
    auth.verified = true;
    if !outcome.parsed {
        report
            .warnings
            .push("re-verification found no header block to verify".into());
    }

    // DKIM, per signature (RFC 6376 §6.1), matched to the report's signatures by d= and s=.
    for signature in &outcome.dkim {
        if let Some((d, s, _, _)) = &signature.tags
            && let Some(slot) = auth.dkim_signatures.iter_mut().find(|r| {
                r.result.is_none()
                    && r.domain
                        .as_deref()
                        .is_some_and(|rd| rd.eq_ignore_ascii_case(d))
                    && r.selector.as_deref() == Some(s.as_str())
            })
        {
            slot.result = Some(signature.result.to_string());
        }
    }
    for slot in auth
        .dkim_signatures
        .iter_mut()
        .filter(|r| r.result.is_none())
    {
        // A signature mail-auth could not parse (its outcome carries no tags).
        slot.result = Some("permerror".into());
    }
    for signature in &outcome.dkim {
        let mut properties = Vec::new();
        if let Some((d, s, a, i)) = &signature.tags {
            properties.push(prop("header.d", d.clone()));
            properties.push(prop("header.s", s.clone()));
            properties.push(prop("header.a", a.clone()));
            if !i.is_empty() {
                properties.push(prop("header.i", i.clone()));
            }
        }
        if let Some(reason) = &signature.reason {
            properties.push(prop("reason", reason.clone()));
        }
        auth.results
            .push(ours("dkim", signature.result, properties));
    }
    if outcome.dkim.is_empty() {
        auth.results.push(ours("dkim", "none", Vec::new()));
    }
    auth.dkim = Some(summary(outcome.dkim.iter().map(|s| s.result)).to_string());

    // ARC (RFC 8617 §5.2).
    let mut properties = Vec::new();
    if !outcome.arc.chain.is_empty() {
        properties.push(prop("arc.chain", outcome.arc.chain.join(":")));
    }
    if let Some(reason) = &outcome.arc.reason {
        properties.push(prop("reason", reason.clone()));
    }
    auth.results
        .push(ours("arc", outcome.arc.result, properties));
    auth.arc = Some(outcome.arc.result.to_string());

    // SPF (RFC 7208 §9.1), only when it could be re-evaluated.
    if let Some(spf) = &outcome.spf {
        let mut properties = vec![prop("smtp.mailfrom", spf.domain.clone())];
        if let Some(ip) = inputs.ip {
            properties.push(prop("smtp.remote-ip", ip.to_string()));
        }
        auth.results.push(ours("spf", spf.result, properties));
        auth.spf = Some(spf.result.to_string());
    }

    // DMARC (RFC 7489 §11.2).
    let dmarc = &outcome.dmarc;
    let mut properties = Vec::new();
    if !dmarc.domain.is_empty() {
        properties.push(prop("header.from", dmarc.domain.clone()));
    }
    if let Some(policy) = dmarc.policy {
        properties.push(prop("policy.dmarc", policy));
    }
    auth.results.push(ours("dmarc", dmarc.result, properties));
    auth.dmarc = Some(dmarc.result.to_string());

    // Alignment of the From domain (RFC 7489 §3.1), under the record's adkim/aspf modes.
    let from_domain = inputs
        .from_domain
        .clone()
        .or_else(|| (!dmarc.domain.is_empty()).then(|| dmarc.domain.clone()));
    auth.alignment = from_domain.map(|from_domain| {
        let mut dkim_domains: Vec<String> = outcome
            .dkim
            .iter()
            .filter(|s| s.result == "pass")
            .filter_map(|s| s.tags.as_ref().map(|t| t.0.clone()))
            .collect();
        dkim_domains.dedup();
        let spf_domain = outcome
            .spf
            .as_ref()
            .map(|s| s.domain.clone())
            .or_else(|| inputs.mail_from.as_deref().and_then(address_domain));
        let spf_pass = outcome.spf.as_ref().is_some_and(|s| s.result == "pass");
        Alignment {
            spf_aligned: dmarc.spf_aligned_pass
                || (spf_pass
                    && spf_domain
                        .as_deref()
                        .is_some_and(|d| aligned(d, &from_domain, dmarc.strict_spf))),
            dkim_aligned: dmarc.dkim_aligned_pass
                || dkim_domains
                    .iter()
                    .any(|d| aligned(d, &from_domain, dmarc.strict_dkim)),
            spf_domain,
            dkim_domains,
            organizational_domain: organizational_domain(&from_domain),
            from_domain,
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_lf_becomes_crlf_and_crlf_stays() {
        assert_eq!(&*crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert!(matches!(crlf(b"a\r\nb\r\n"), Cow::Borrowed(_)));
        assert_eq!(&*crlf(b"\n"), b"\r\n");
    }

    #[test]
    fn summary_prefers_pass_then_fail() {
        assert_eq!(summary(["fail", "pass"].into_iter()), "pass");
        assert_eq!(summary(["temperror", "fail"].into_iter()), "fail");
        assert_eq!(summary(std::iter::empty()), "none");
    }

    #[test]
    fn relaxed_and_strict_alignment() {
        assert!(aligned("mail.example.com", "example.com", false));
        assert!(!aligned("mail.example.com", "example.com", true));
        assert!(aligned("Example.com.", "example.com", true));
        assert!(!aligned("example.net", "example.com", false));
    }

    #[test]
    fn a_message_without_header_fields_is_not_verified() {
        assert!(has_header_field(b"From: a@example.com\r\n\r\nbody"));
        assert!(!has_header_field(b"\r\nbody only"));
        assert!(!has_header_field(b"no colon here\r\n"));
        assert!(!has_header_field(b""));
    }
}
