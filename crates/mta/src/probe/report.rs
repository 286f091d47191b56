//! What `mailward probe` found, as one value: the text report, `--json` and (later) the web
//! console all show this. Every part that could not be reached is `None` or says why, and
//! [`ProbeReport::findings`] turns the facts into the sentences an administrator acts on.

use super::cert::CertSummary;
use super::dane::TlsaView;
use super::lines::ReplyLines;
use super::mta_sts::StsRecord;
use serde::Serialize;

/// Days before expiry from which a certificate is flagged.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// The whole probe.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProbeReport {
    /// The host probed (an MX name, a host name or an address literal).
    pub host: String,
    pub port: u16,
    /// TLS from the first byte (RFC 8314, port 465) instead of STARTTLS.
    pub implicit_tls: bool,
    /// MX, MTA-STS and DANE, when a domain was given.
    pub domain: Option<DomainReport>,
    pub connect: ConnectReport,
    /// The greeting (RFC 5321 §4.3.1: `220` when the server will talk).
    pub banner: Option<ReplyLines>,
    /// EHLO (or HELO) before TLS; over TLS for implicit TLS.
    pub ehlo: Option<HelloReport>,
    pub tls: TlsReport,
    /// EHLO again after STARTTLS (RFC 3207 §4.2: the capabilities may differ).
    pub ehlo_after_tls: Option<HelloReport>,
    pub relay_test: Option<RelayReport>,
    /// TLSA records of the probed host, when a domain was given.
    pub dane: Option<DaneReport>,
    /// Where and why the conversation stopped early.
    pub error: Option<String>,
    /// What to act on, worst first.
    pub findings: Vec<Finding>,
}

/// The TCP connection.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConnectReport {
    /// Every address tried, in order, with its error when it failed.
    pub attempts: Vec<ConnectAttempt>,
    /// The address that answered.
    pub address: Option<String>,
    /// Milliseconds until the TCP connection was established.
    pub connect_ms: Option<u64>,
    /// Milliseconds from connecting until the greeting arrived.
    pub banner_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConnectAttempt {
    pub address: String,
    pub error: Option<String>,
}

/// One EHLO (or HELO) exchange.
#[derive(Debug, Clone, Serialize)]
pub struct HelloReport {
    /// EHLO was accepted (false: the server took only HELO, RFC 5321 §3.2).
    pub esmtp: bool,
    /// The reply as sent, one entry a line.
    pub reply: ReplyLines,
    /// The extensions mailward's client understands (`PIPELINING`, `STARTTLS`, ...).
    pub extensions: Vec<String>,
    /// Every keyword the server listed.
    pub keywords: Vec<String>,
    /// AUTH mechanisms offered (RFC 4954 §3).
    pub auth: Vec<String>,
    /// RFC 1870 SIZE limit in octets, when given.
    pub size: Option<usize>,
}

/// How TLS went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsState {
    /// The probe did not get that far.
    #[default]
    NotReached,
    /// The server did not list STARTTLS.
    NotOffered,
    /// STARTTLS was offered and not tried (`--no-tls`).
    NotTried,
    /// The server answered STARTTLS with something other than 220.
    Refused,
    /// The handshake failed.
    Failed,
    Established,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TlsReport {
    pub state: TlsState,
    /// The reply to STARTTLS when it was not 220.
    pub refusal: Option<ReplyLines>,
    /// Why the handshake failed.
    pub error: Option<String>,
    /// `TLSv1_3`.
    pub version: Option<String>,
    /// `TLS13_AES_256_GCM_SHA384`.
    pub cipher: Option<String>,
    /// The name the chain was checked for.
    pub verify_name: Option<String>,
    /// The chain verifies for `verify_name` against the system's trusted roots.
    pub verified: Option<bool>,
    /// Why it does not.
    pub verify_error: Option<String>,
    /// The certificates as presented, the server's own first.
    pub chain: Vec<CertSummary>,
    /// Certificates that could not be read.
    pub chain_errors: Vec<String>,
}

/// `--relay-test FROM TO`: would the server take mail for another domain from us?
#[derive(Debug, Clone, Serialize)]
pub struct RelayReport {
    pub from: String,
    pub to: String,
    /// The test ran over TLS.
    pub over_tls: bool,
    pub mail: Option<ReplyLines>,
    pub rcpt: Option<ReplyLines>,
    pub verdict: RelayVerdict,
    /// Why it could not finish.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayVerdict {
    /// RCPT was accepted: an open relay, unless TO is a domain the server serves.
    Accepted,
    /// RCPT was refused.
    Refused,
    /// MAIL FROM was refused, so RCPT was not tried.
    SenderRefused,
    /// The test did not finish (see `error`).
    Incomplete,
}

/// What DNS says about the domain.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DomainReport {
    pub domain: String,
    /// The MX records in preference order.
    pub mx: Vec<MxView>,
    /// No MX: the domain itself is the mail host (RFC 5321 §5.1).
    pub implicit_mx: bool,
    /// Why there is no host to probe (null MX, NXDOMAIN) or the lookup failed.
    pub mx_error: Option<String>,
    /// The MX probed (the best one).
    pub chosen: Option<String>,
    pub mta_sts: MtaStsReport,
}

#[derive(Debug, Clone, Serialize)]
pub struct MxView {
    pub preference: u16,
    pub exchange: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MtaStsReport {
    /// `_mta-sts.DOMAIN`.
    pub name: String,
    /// The TXT strings found there.
    pub txt: Vec<String>,
    pub record: StsRecord,
    /// The lookup failed (the record's state is then unknown).
    pub lookup_error: Option<String>,
    /// Where the policy would be fetched (not fetched by the probe).
    pub policy_url: String,
}

impl Default for MtaStsReport {
    fn default() -> Self {
        MtaStsReport {
            name: String::new(),
            txt: Vec::new(),
            record: StsRecord::Absent,
            lookup_error: None,
            policy_url: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DaneReport {
    /// `_25._tcp.mx.example.com`.
    pub name: String,
    pub records: Vec<TlsaView>,
    /// The lookup failed, or found nothing (`no TLSA records`).
    pub lookup: Option<String>,
    /// Always said: whether the answer was DNSSEC-validated.
    pub dnssec: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Problem,
    Warning,
    Note,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub text: String,
}

impl ProbeReport {
    /// The server answered: a greeting arrived.
    pub fn answered(&self) -> bool {
        self.banner.is_some()
    }

    /// The relay test's recipient was accepted.
    pub fn open_relay(&self) -> bool {
        self.relay_test
            .as_ref()
            .is_some_and(|r| r.verdict == RelayVerdict::Accepted)
    }

    /// Computes [`ProbeReport::findings`] from the facts.
    pub fn judge(&mut self) {
        let mut out = Vec::new();
        let mut add = |severity, text: String| out.push(Finding { severity, text });
        if let Some(e) = &self.error {
            add(Severity::Problem, e.clone());
        }
        if let Some(b) = &self.banner
            && b.code != 220
        {
            add(
                Severity::Problem,
                format!("the server refused the session: {}", b.one_line()),
            );
        }
        if let Some(r) = &self.relay_test {
            match r.verdict {
                RelayVerdict::Accepted => add(
                    Severity::Problem,
                    format!(
                        "open relay: RCPT TO:<{}> was accepted from an unauthenticated client \
                         (unless the server is meant to receive mail for that domain)",
                        r.to
                    ),
                ),
                RelayVerdict::Refused => add(
                    Severity::Note,
                    format!(
                        "relay refused: RCPT TO:<{}> answered {}",
                        r.to,
                        r.rcpt
                            .as_ref()
                            .map(ReplyLines::one_line)
                            .unwrap_or_default()
                    ),
                ),
                RelayVerdict::SenderRefused | RelayVerdict::Incomplete => add(
                    Severity::Note,
                    "the relay test did not reach RCPT TO".to_string(),
                ),
            }
        }
        match self.tls.state {
            TlsState::NotOffered => add(
                Severity::Warning,
                "no STARTTLS: mail to this server travels unencrypted (RFC 3207)".into(),
            ),
            TlsState::Refused => add(
                Severity::Warning,
                format!(
                    "STARTTLS is offered but refused: {}",
                    self.tls
                        .refusal
                        .as_ref()
                        .map(ReplyLines::one_line)
                        .unwrap_or_default()
                ),
            ),
            TlsState::Failed => add(
                Severity::Problem,
                format!(
                    "the TLS handshake failed: {}",
                    self.tls.error.as_deref().unwrap_or("unknown error")
                ),
            ),
            _ => {}
        }
        if self.tls.verified == Some(false) {
            add(
                Severity::Warning,
                format!(
                    "the certificate does not verify for {}: {} (enough for opportunistic \
                     TLS; MTA-STS enforce and verifying senders refuse it)",
                    self.tls.verify_name.as_deref().unwrap_or("the host"),
                    self.tls.verify_error.as_deref().unwrap_or("not trusted")
                ),
            );
        }
        if let Some(leaf) = self.tls.chain.first() {
            if leaf.expired_or_not_yet_valid {
                add(
                    Severity::Problem,
                    format!(
                        "the certificate is not valid now (valid {} to {})",
                        leaf.not_before, leaf.not_after
                    ),
                );
            } else if leaf.days_to_expiry < EXPIRY_WARNING_DAYS {
                add(
                    Severity::Warning,
                    format!(
                        "the certificate expires in {} days ({})",
                        leaf.days_to_expiry, leaf.not_after
                    ),
                );
            }
        }
        if let Some(h) = &self.ehlo
            && !self.implicit_tls
            && !h.auth.is_empty()
        {
            // RFC 4954 §4: plaintext password mechanisms only after STARTTLS (or another
            // protection of the session).
            add(
                Severity::Warning,
                format!(
                    "AUTH {} is offered before TLS: passwords may cross the network in clear \
                     (RFC 4954 §4)",
                    h.auth.join(" ")
                ),
            );
        }
        if let Some(d) = &self.domain {
            if let Some(e) = &d.mx_error {
                add(Severity::Note, e.clone());
            }
            match (&d.mta_sts.record, &d.mta_sts.lookup_error) {
                (_, Some(e)) => add(Severity::Warning, format!("MTA-STS lookup failed: {e}")),
                (StsRecord::Invalid { reason }, None) => add(
                    Severity::Warning,
                    format!(
                        "the {} record is invalid ({reason}): senders act as if there were \
                         no MTA-STS policy (RFC 8461 §3.1)",
                        d.mta_sts.name
                    ),
                ),
                (StsRecord::Absent, None) => add(
                    Severity::Note,
                    format!("no MTA-STS record at {}", d.mta_sts.name),
                ),
                (StsRecord::Published { .. }, None) => {}
            }
        }
        if let Some(dane) = &self.dane
            && !dane.records.is_empty()
        {
            let usable: Vec<&TlsaView> = dane.records.iter().filter(|r| r.usable).collect();
            if usable.is_empty() {
                add(
                    Severity::Warning,
                    format!(
                        "the TLSA records at {} are all unusable for SMTP (RFC 7672 §3.1.3)",
                        dane.name
                    ),
                );
            } else if self.tls.state == TlsState::Established
                && !usable.iter().any(|r| r.matches_certificate.is_some())
            {
                add(
                    Severity::Problem,
                    format!(
                        "no usable TLSA record at {} matches the certificate presented: DANE \
                         senders would not deliver (RFC 7672 §2.2)",
                        dane.name
                    ),
                );
            }
            add(Severity::Note, dane.dnssec.clone());
        }
        out.sort_by_key(|f| f.severity);
        self.findings = out;
    }
}
