//! `mailward trace --verify`: re-verify a message's DKIM signatures (RFC 6376) and ARC chain
//! (RFC 8617) through DNS, re-evaluate SPF (RFC 7208) and DMARC (RFC 7489), and put our own
//! verdicts in the report next to the ones the message's headers claim.
//!
//! This is a re-evaluation *today*, against today's DNS (or the `--dns-zone FILE` given for
//! offline work) and today's clock, not a replay of what the receiving server saw:
//! - DKIM keys are rotated and withdrawn, so an old message may fail or error although it was
//!   genuine when delivered. A signature whose `x=` expiry (RFC 6376 §3.5) has passed is
//!   checked once more without the expiry: if it verifies otherwise, its result is `policy`
//!   (RFC 8601 §2.7.1: signed, but not acceptable), with the expiry as the reason.
//! - SPF cannot be re-checked from the headers alone: it needs the connecting IP and the
//!   envelope sender. We take the origin IP the trace found (`report.origin`) and the
//!   `Return-Path:` domain (RFC 5321 §4.4), and ask today's SPF record whether that IP may
//!   send for it. When either is missing, SPF is not re-evaluated and the header's claim
//!   stays in `authentication.spf`.
//! - DMARC (RFC 7489 §6.6) is evaluated from our DKIM and SPF results, never from the
//!   headers' claims. `mail-auth` follows the DMARCbis tree walk to find the policy record.
//!
//! With a zone file, no network is used at all: every TXT question is answered from the
//! zone (a name the zone does not hold is NXDOMAIN), A/AAAA/MX/PTR questions from its records,
//! and anything else reaches a resolver that has no servers and fails at once (an SPF check
//! that needs such a name yields `temperror`, never a guess).
//!
//! Line endings: a message saved to a file often lost its CRLFs (RFC 5322 §2.1); bare LFs are
//! turned back into CRLF before hashing, as the signer saw them.

use crate::domains::{address_domain, organizational_domain};
use crate::report::{Alignment, AuthResult, Report};
use crate::zone::{RecordData, Zone, ZoneError, reverse_name_address};
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dkim::DkimError;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::dmarc::{self, Dmarc};
use mail_auth::hickory_resolver::config::{ResolveHosts, ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::spf::Spf;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, DkimOutput, DkimResult, DmarcResult, DnsError, DnssecStatus, Error, MX,
    MessageAuthenticator, Parameters, RecordSet, ResolverCache, SpfOutput, SpfResult, Txt,
};
use std::borrow::{Borrow, Cow};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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
    #[error("cannot use the system DNS resolver ({0}); give --dns-zone FILE to verify offline")]
    Resolver(String),
}

/// Re-verifies messages. Owns a current-thread tokio runtime for `mail-auth`'s async API;
/// build one per run and call [`Verifier::verify`] for each message.
pub struct Verifier {
    runtime: tokio::runtime::Runtime,
    authenticator: MessageAuthenticator,
    answers: Answers,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("offline", &self.answers.offline)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// With `zone_file`, answers come from that master file (RFC 1035 §5) and no network is
    /// used; without, from the system resolver (`/etc/resolv.conf`).
    pub fn new(zone_file: Option<&Path>) -> Result<Verifier, VerifyError> {
        match zone_file {
            Some(path) => Verifier::with_zone(Zone::load(path)?),
            None => {
                let runtime = runtime()?;
                let authenticator = {
                    let _guard = runtime.enter();
                    MessageAuthenticator::new_system_conf()
                        .map_err(|e| VerifyError::Resolver(e.to_string()))?
                };
                Ok(Verifier {
                    runtime,
                    authenticator,
                    answers: Answers::online(),
                })
            }
        }
    }

    /// Offline verification against an already parsed zone.
    pub fn with_zone(zone: Zone) -> Result<Verifier, VerifyError> {
        let runtime = runtime()?;
        let authenticator = {
            let _guard = runtime.enter();
            // A resolver with no servers: whatever the zone does not answer fails at once.
            let mut options = ResolverOpts::default();
            options.use_hosts_file = ResolveHosts::Never;
            options.attempts = 0;
            MessageAuthenticator::new(ResolverConfig::from_parts(None, vec![], vec![]), options)
                .map_err(|e| VerifyError::Resolver(e.to_string()))?
        };
        Ok(Verifier {
            runtime,
            authenticator,
            answers: Answers::from_zone(&zone),
        })
    }

    /// True when answers come from a zone file only.
    pub fn is_offline(&self) -> bool {
        self.answers.offline
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

    fn params<P>(
        &self,
        params: P,
    ) -> Parameters<'_, P, Answers, Answers, Answers, Answers, Answers> {
        Parameters::new(params)
            .with_txt_cache(&self.answers)
            .with_mx_cache(&self.answers)
            .with_ptr_cache(&self.answers)
            .with_ipv4_cache(&self.answers)
            .with_ipv6_cache(&self.answers)
    }

    async fn check(&self, raw: &[u8], inputs: &Inputs) -> Outcome {
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            return Outcome::default();
        };
        let auth = &self.authenticator;
        let dkim = auth.verify_dkim(self.params(&message)).await;
        let mut signatures: Vec<SignatureOutcome> = dkim.iter().map(SignatureOutcome::of).collect();

        // RFC 6376 §3.5: past `x=` a signature may be taken as invalid. For forensics we still
        // want to know whether it was genuine, so check expired ones again without `x=`.
        if signatures.iter().any(|s| s.expired.is_some()) {
            let mut unexpired = message.clone();
            for header in &mut unexpired.dkim_headers {
                header.header.x = 0;
            }
            let again = auth.verify_dkim(self.params(&unexpired)).await;
            for (signature, second) in signatures.iter_mut().zip(again.iter()) {
                let Some(expiry) = signature.expired else {
                    continue;
                };
                let (result, reason) = dkim_keyword(second.result(), true);
                signature.result = if result == "pass" { "policy" } else { result };
                signature.reason = Some(match reason {
                    None => {
                        format!("signature expired at {expiry} (Unix time); it verifies otherwise")
                    }
                    Some(r) => format!("signature expired at {expiry} (Unix time); {r}"),
                });
            }
        }

        let arc_output = auth.verify_arc(self.params(&message)).await;
        let structure = arc_structure_problem(&message);
        let arc = ArcOutcome {
            result: if structure.is_some() {
                "fail"
            } else {
                arc_keyword(arc_output.result())
            },
            reason: structure.or_else(|| error_of(arc_output.result()).map(|e| e.to_string())),
            chain: arc_output
                .sets()
                .iter()
                .map(|set| set.seal.header.d.to_ascii_lowercase())
                .collect(),
        };

        let spf = match (
            inputs.ip,
            inputs.mail_from.as_deref(),
            inputs.helo.as_deref(),
        ) {
            (Some(ip), Some(sender), helo) => {
                let helo = helo.unwrap_or(RECEIVING_HOST);
                let params = SpfParameters::verify_mail_from(ip, helo, RECEIVING_HOST, sender);
                Some(auth.verify_spf(self.params(params)).await)
            }
            // RFC 7208 §2.4: with a null reverse-path, the HELO identity is checked.
            (Some(ip), None, Some(helo)) if inputs.null_sender => {
                let params = SpfParameters::verify_ehlo(ip, helo, RECEIVING_HOST);
                Some(auth.verify_spf(self.params(params)).await)
            }
            _ => None,
        };

        let none = SpfOutput::default();
        let spf_output = spf.as_ref().unwrap_or(&none);
        let mail_from_domain = spf
            .as_ref()
            .map(|s| s.domain().to_string())
            .unwrap_or_default();
        let dmarc_params = DmarcParameters::new(&message, &dkim, &mail_from_domain, spf_output);
        let dmarc = auth.verify_dmarc(self.params(dmarc_params)).await;

        Outcome {
            parsed: true,
            dkim: signatures,
            arc,
            spf: spf.map(|s| SpfOutcome {
                result: spf_keyword(s.result()),
                domain: s.domain().to_ascii_lowercase(),
            }),
            dmarc: DmarcOutcome {
                result: dmarc_keyword(&dmarc.result()),
                domain: dmarc.domain().to_ascii_lowercase(),
                policy: dmarc.dmarc_record().map(|_| policy_name(dmarc.policy())),
                dkim_aligned_pass: *dmarc.dkim_result() == DmarcResult::Pass,
                spf_aligned_pass: *dmarc.spf_result() == DmarcResult::Pass,
                strict_dkim: dmarc
                    .dmarc_record()
                    .is_some_and(|r| r.adkim == dmarc::Alignment::Strict),
                strict_spf: dmarc
                    .dmarc_record()
                    .is_some_and(|r| r.aspf == dmarc::Alignment::Strict),
            },
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, VerifyError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(VerifyError::Runtime)
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

/// Everything re-verification found, owned (free of the parsed message's borrows).
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
    /// `x=` when the signature was refused as expired.
    expired: Option<u64>,
}

impl SignatureOutcome {
    fn of(output: &DkimOutput<'_>) -> SignatureOutcome {
        let signature = output.signature();
        let expired = match output.result() {
            DkimResult::Neutral(Error::Dkim(DkimError::SignatureExpired)) => signature.map(|s| s.x),
            _ => None,
        };
        let (result, reason) = dkim_keyword(output.result(), signature.is_some());
        SignatureOutcome {
            tags: signature.map(|s| {
                (
                    s.d.to_ascii_lowercase(),
                    s.s.clone(),
                    algorithm_name(s.a),
                    s.i.clone(),
                )
            }),
            result,
            reason,
            expired,
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

/// RFC 8601 §2.7.1 result keyword and a reason for one DKIM result. `has_signature` is false
/// for a `DKIM-Signature` that could not be parsed (RFC 6376 §6.1.1: PERMFAIL).
fn dkim_keyword(result: &DkimResult, has_signature: bool) -> (&'static str, Option<String>) {
    match result {
        DkimResult::Pass => ("pass", None),
        DkimResult::None => ("none", None),
        DkimResult::Fail(e) => ("fail", Some(e.to_string())),
        // RFC 6376 §6.1.3: a body hash that does not match is a failed signature.
        DkimResult::Neutral(Error::Dkim(DkimError::FailedBodyHashMatch)) => (
            "fail",
            Some("body hash did not verify: the body changed after signing".into()),
        ),
        DkimResult::Neutral(e) if !has_signature => ("permerror", Some(e.to_string())),
        DkimResult::Neutral(e) => ("neutral", Some(e.to_string())),
        DkimResult::TempError(e) => ("temperror", Some(e.to_string())),
        DkimResult::PermError(e) => ("permerror", Some(e.to_string())),
    }
}

/// What makes the ARC headers invalid before any signature is checked (RFC 8617 §5.2 steps
/// 1-2), beyond what `mail-auth` checks itself: an incomplete set, a tag-list that breaks
/// RFC 6376 §3.2, a required tag missing (RFC 8617 §4.1.2-4.1.3), an algorithm other than
/// rsa-sha256 (RFC 8301 §3.1 forbids rsa-sha1), or an AMS that signs an ARC-Seal (§4.1.2).
fn arc_structure_problem(message: &AuthenticatedMessage<'_>) -> Option<String> {
    if message.ams_headers.is_empty()
        && !(message.as_headers.is_empty() && message.aar_headers.is_empty())
    {
        return Some("incomplete ARC set: no ARC-Message-Signature".into());
    }
    for seal in &message.as_headers {
        if let Some(problem) = tag_list_problem(seal.value, &["i", "a", "b", "d", "s", "cv"]) {
            return Some(format!("ARC-Seal: {problem}"));
        }
    }
    for ams in &message.ams_headers {
        if let Some(problem) = tag_list_problem(ams.value, &["i", "a", "b", "bh", "d", "h", "s"]) {
            return Some(format!("ARC-Message-Signature: {problem}"));
        }
        if ams
            .header
            .h
            .iter()
            .any(|h| h.eq_ignore_ascii_case("arc-seal"))
        {
            return Some("ARC-Message-Signature: h= includes ARC-Seal".into());
        }
    }
    None
}

/// RFC 6376 §3.2: `tag-spec *(";" tag-spec) [";"]`, `tag-name = ALPHA *ALNUMPUNC`, names are
/// case-sensitive and may not repeat. Also checks the `required` tags and `a=rsa-sha256`.
fn tag_list_problem(value: &[u8], required: &[&str]) -> Option<String> {
    let value = String::from_utf8_lossy(value);
    let specs: Vec<&str> = value.split(';').collect();
    let mut names: Vec<&str> = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        if spec.trim().is_empty() {
            if index + 1 == specs.len() {
                break; // a trailing ";" is allowed
            }
            return Some("empty tag (\";;\")".into());
        }
        let Some((name, tag_value)) = spec.split_once('=') else {
            return Some(format!("tag without `=`: `{}`", spec.trim()));
        };
        let name = name.trim();
        let mut chars = name.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Some(format!("invalid tag name `{name}`"));
        }
        if names.contains(&name) {
            return Some(format!("tag `{name}` appears twice"));
        }
        names.push(name);
        if name == "a" && tag_value.trim() != "rsa-sha256" {
            return Some(format!(
                "algorithm `{}` is not rsa-sha256",
                tag_value.trim()
            ));
        }
    }
    required
        .iter()
        .find(|r| !names.contains(r))
        .map(|r| format!("required tag `{r}` is missing"))
}

/// RFC 8617 §4.4 chain validation status: `none`, `pass` or `fail` (and `temperror` when DNS
/// did not answer).
fn arc_keyword(result: &DkimResult) -> &'static str {
    match result {
        DkimResult::Pass => "pass",
        DkimResult::None => "none",
        DkimResult::TempError(_) => "temperror",
        DkimResult::Fail(_) | DkimResult::Neutral(_) | DkimResult::PermError(_) => "fail",
    }
}

fn error_of(result: &DkimResult) -> Option<&Error> {
    match result {
        DkimResult::Pass | DkimResult::None => None,
        DkimResult::Fail(e)
        | DkimResult::Neutral(e)
        | DkimResult::TempError(e)
        | DkimResult::PermError(e) => Some(e),
    }
}

/// RFC 7208 §2.6 result names.
fn spf_keyword(result: SpfResult) -> &'static str {
    match result {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

fn dmarc_keyword(result: &DmarcResult) -> &'static str {
    match result {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None => "none",
    }
}

/// RFC 7489 §6.3 `p=` values.
fn policy_name(policy: dmarc::Policy) -> &'static str {
    match policy {
        dmarc::Policy::None | dmarc::Policy::Unspecified => "none",
        dmarc::Policy::Quarantine => "quarantine",
        dmarc::Policy::Reject => "reject",
    }
}

/// RFC 6376 §3.3 / RFC 8463 algorithm names.
fn algorithm_name(algorithm: mail_auth::common::crypto::Algorithm) -> String {
    use mail_auth::common::crypto::Algorithm;
    match algorithm {
        Algorithm::RsaSha256 => "rsa-sha256",
        Algorithm::RsaSha1 => "rsa-sha1",
        Algorithm::Ed25519Sha256 => "ed25519-sha256",
    }
    .to_string()
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

/// DNS answers for `mail-auth`'s look-ups, through its `ResolverCache` hook. Online it answers
/// nothing (every question goes to the resolver); offline it answers every TXT question and
/// the A/AAAA/MX/PTR questions the zone holds records for.
struct Answers {
    offline: bool,
    txt: HashMap<Box<str>, Txt>,
    mx: HashMap<Box<str>, RecordSet<MX>>,
    a: HashMap<Box<str>, RecordSet<Ipv4Addr>>,
    aaaa: HashMap<Box<str>, RecordSet<Ipv6Addr>>,
    ptr: HashMap<IpAddr, RecordSet<Box<str>>>,
}

fn record_set<T>(items: Vec<T>) -> RecordSet<T> {
    RecordSet {
        rrset: items.into(),
        dnssec_status: DnssecStatus::Indeterminate,
    }
}

impl Answers {
    fn online() -> Answers {
        Answers {
            offline: false,
            txt: HashMap::new(),
            mx: HashMap::new(),
            a: HashMap::new(),
            aaaa: HashMap::new(),
            ptr: HashMap::new(),
        }
    }

    fn from_zone(zone: &Zone) -> Answers {
        let mut answers = Answers {
            offline: true,
            ..Answers::online()
        };
        let mut ptr: HashMap<IpAddr, Vec<Box<str>>> = HashMap::new();
        for name in zone.names() {
            let records = zone.records(name);
            let key: Box<str> = name.into();
            answers
                .txt
                .insert(key.clone(), parse_txt(name, &zone.txt(name)));
            let a: Vec<Ipv4Addr> = records
                .iter()
                .filter_map(|r| match r.data {
                    RecordData::A(a) => Some(a),
                    _ => None,
                })
                .collect();
            if !a.is_empty() {
                answers.a.insert(key.clone(), record_set(a));
            }
            let aaaa: Vec<Ipv6Addr> = records
                .iter()
                .filter_map(|r| match r.data {
                    RecordData::Aaaa(a) => Some(a),
                    _ => None,
                })
                .collect();
            if !aaaa.is_empty() {
                answers.aaaa.insert(key.clone(), record_set(aaaa));
            }
            // Grouped by preference, lowest first, as mail-auth's own MX look-up does.
            let mut mx: Vec<MX> = Vec::new();
            for record in records {
                if let RecordData::Mx {
                    preference,
                    exchange,
                } = &record.data
                {
                    let exchange: Box<str> = exchange.as_str().into();
                    match mx.iter_mut().find(|m| m.preference == *preference) {
                        Some(group) => {
                            let mut all = group.exchanges.to_vec();
                            all.push(exchange);
                            group.exchanges = all.into_boxed_slice();
                        }
                        None => mx.push(MX {
                            exchanges: vec![exchange].into_boxed_slice(),
                            preference: *preference,
                        }),
                    }
                }
            }
            if !mx.is_empty() {
                mx.sort_by_key(|m| m.preference);
                answers.mx.insert(key, record_set(mx));
            }
            if let Some(ip) = reverse_name_address(name) {
                for record in records {
                    if let RecordData::Ptr(target) = &record.data {
                        ptr.entry(ip).or_default().push(target.as_str().into());
                    }
                }
            }
        }
        answers.ptr = ptr.into_iter().map(|(ip, v)| (ip, record_set(v))).collect();
        answers
    }
}

/// Parses the TXT records of `name` the way `mail-auth` would for the question asked there:
/// a DKIM key under `_domainkey` (RFC 6376 §3.6.2), a DMARC record under `_dmarc`
/// (RFC 7489 §6.1), else an SPF record (RFC 7208 §4.5). The first record that parses wins.
fn parse_txt(name: &str, records: &[&[u8]]) -> Txt {
    if records.is_empty() {
        // The name exists but holds no TXT record (NODATA).
        return Txt::Error(Error::Dns(DnsError::RecordNotFound(ResponseCode::NoError)));
    }
    if name.contains("._domainkey.") {
        first_parsed::<DomainKey>(records)
    } else if name.starts_with("_dmarc.") {
        first_parsed::<Dmarc>(records)
    } else {
        first_parsed::<Spf>(records)
    }
}

fn first_parsed<T: TxtRecordParser + Into<Txt>>(records: &[&[u8]]) -> Txt {
    let mut result: Result<T, Error> = Err(Error::Dns(DnsError::InvalidRecordType));
    for record in records {
        result = T::parse(record);
        if result.is_ok() {
            break;
        }
    }
    match result {
        Ok(value) => value.into(),
        Err(e) => Txt::Error(e),
    }
}

fn nxdomain() -> Txt {
    Txt::Error(Error::Dns(DnsError::RecordNotFound(ResponseCode::NXDomain)))
}

impl ResolverCache<Box<str>, Txt> for Answers {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if !self.offline {
            return None;
        }
        Some(self.txt.get(name).cloned().unwrap_or_else(nxdomain))
    }

    fn remove<Q>(&self, _: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: Box<str>, _: Txt, _: std::time::Instant) {}
}

/// The A/AAAA/MX/PTR answers: the zone's records, or no answer (the question then reaches
/// the resolver, which offline has no servers).
macro_rules! record_cache {
    ($key:ty, $value:ty, $field:ident) => {
        impl ResolverCache<$key, RecordSet<$value>> for Answers {
            fn get<Q>(&self, name: &Q) -> Option<RecordSet<$value>>
            where
                $key: Borrow<Q>,
                Q: Hash + Eq + ?Sized,
            {
                self.$field.get(name).cloned()
            }

            fn remove<Q>(&self, _: &Q) -> Option<RecordSet<$value>>
            where
                $key: Borrow<Q>,
                Q: Hash + Eq + ?Sized,
            {
                None
            }

            fn insert(&self, _: $key, _: RecordSet<$value>, _: std::time::Instant) {}
        }
    };
}

record_cache!(Box<str>, MX, mx);
record_cache!(Box<str>, Ipv4Addr, a);
record_cache!(Box<str>, Ipv6Addr, aaaa);
record_cache!(IpAddr, Box<str>, ptr);

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
    fn zone_answers_nxdomain_for_missing_txt_offline_only() {
        let zone = Zone::parse("_dmarc.example.com. TXT \"v=DMARC1; p=reject\"\n", "z").unwrap();
        let answers = Answers::from_zone(&zone);
        let hit = ResolverCache::<Box<str>, Txt>::get(&answers, "_dmarc.example.com.");
        assert!(matches!(hit, Some(Txt::Dmarc(_))));
        let miss = ResolverCache::<Box<str>, Txt>::get(&answers, "_dmarc.example.net.");
        assert!(matches!(
            miss,
            Some(Txt::Error(Error::Dns(DnsError::RecordNotFound(
                ResponseCode::NXDomain
            ))))
        ));
        let online = Answers::online();
        assert!(ResolverCache::<Box<str>, Txt>::get(&online, "_dmarc.example.com.").is_none());
    }
}
