//! What happens to a message after the checks: the sender domain's DMARC policy (RFC 9989
//! §5.8), lowered by local overrides (RFC 9989 §5.8 lets a receiver depart from the policy,
//! and RFC 9990 names why: `trusted_forwarder`, `mailing_list`, `local_policy`).

use super::settings::{InboundSettings, RejectAs};
use crate::verify::{ArcCheck, DmarcCheck, Status};

/// Where the message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Into the inbox as usual.
    Deliver,
    /// Accepted, delivered into the Junk folder (`p=quarantine`, RFC 9989 §5.8).
    Junk { reason: String },
    /// Refused at the end of DATA with `550 5.7.1` (`p=reject`).
    Reject { reason: String },
}

impl Decision {
    /// The RFC 9990 disposition word: `none`, `quarantine` or `reject`.
    pub fn disposition(&self) -> &'static str {
        match self {
            Decision::Deliver => "none",
            Decision::Junk { .. } => "quarantine",
            Decision::Reject { .. } => "reject",
        }
    }
}

/// Why the policy was not applied (RFC 9990 `PolicyOverrideType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyOverride {
    /// The connecting host is one we trust to forward (`[relay] networks`,
    /// `[verify] trusted_forwarders`).
    TrustedForwarder(String),
    /// A passing ARC chain sealed last by a trusted sealer (`[verify] trusted_arc_sealers`).
    MailingList(String),
    /// The From domain is exempt (`[verify] dmarc_exempt`).
    LocalPolicy(String),
}

impl PolicyOverride {
    /// The RFC 9990 `type` word.
    pub fn kind(&self) -> &'static str {
        match self {
            PolicyOverride::TrustedForwarder(_) => "trusted_forwarder",
            PolicyOverride::MailingList(_) => "mailing_list",
            PolicyOverride::LocalPolicy(_) => "local_policy",
        }
    }

    /// The `comment` a person reads.
    pub fn comment(&self) -> &str {
        match self {
            PolicyOverride::TrustedForwarder(c)
            | PolicyOverride::MailingList(c)
            | PolicyOverride::LocalPolicy(c) => c,
        }
    }
}

/// The decision for a message whose DMARC check is `dmarc` and ARC check `arc`;
/// `trusted_client` names the connecting host when it is a trusted forwarder.
///
/// Only a DMARC `fail` with a policy above `none` acts (RFC 9989 §5.8); `temperror`,
/// `permerror` and `none` deliver (the message is not known to be forged). The effective
/// policy already has `t=y` applied (one level lower, RFC 9989 §5.3). SPF alone never
/// refuses a message: a `-all` failure with an aligned DKIM pass is a DMARC pass.
pub fn decide(
    dmarc: &DmarcCheck,
    arc: &ArcCheck,
    trusted_client: Option<&str>,
    settings: &InboundSettings,
) -> (Decision, Option<PolicyOverride>) {
    if dmarc.verdict.status != Status::Fail {
        return (Decision::Deliver, None);
    }
    let policy = match dmarc.policy {
        Some("quarantine") => "quarantine",
        Some("reject") => "reject",
        _ => return (Decision::Deliver, None),
    };
    let domain = &dmarc.from_domain;
    if let Some(client) = trusted_client {
        return (
            Decision::Deliver,
            Some(PolicyOverride::TrustedForwarder(format!(
                "{client} is a trusted forwarder"
            ))),
        );
    }
    if InboundSettings::listed(&settings.exempt_domains, domain) {
        return (
            Decision::Deliver,
            Some(PolicyOverride::LocalPolicy(format!(
                "{domain} is exempt from DMARC enforcement"
            ))),
        );
    }
    if arc.verdict.status == Status::Pass
        && let Some(sealer) = arc.sealers.last()
        && InboundSettings::listed(&settings.trusted_arc_sealers, sealer)
    {
        return (
            Decision::Deliver,
            Some(PolicyOverride::MailingList(format!(
                "ARC chain sealed by trusted {sealer}"
            ))),
        );
    }
    let reason =
        format!("DMARC policy of {domain} is {policy}: no SPF or DKIM pass aligned with it");
    match (policy, settings.reject_as) {
        ("reject", RejectAs::Reject) => (Decision::Reject { reason }, None),
        // Quarantined where the domain asked for rejection: a local policy (RFC 9990).
        ("reject", RejectAs::Quarantine) => (
            Decision::Junk { reason },
            Some(PolicyOverride::LocalPolicy(
                "p=reject delivered into Junk ([verify] dmarc_reject)".into(),
            )),
        ),
        _ => (Decision::Junk { reason }, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Verdict;

    fn dmarc(status: Status, policy: Option<&'static str>) -> DmarcCheck {
        DmarcCheck {
            verdict: Verdict::new(status),
            from_domain: "example.com".into(),
            policy,
            dkim_aligned: false,
            spf_aligned: false,
            strict_dkim: false,
            strict_spf: false,
            published: None,
        }
    }

    fn arc(status: Status, sealers: &[&str]) -> ArcCheck {
        ArcCheck {
            verdict: Verdict::new(status),
            sealers: sealers.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn settings() -> InboundSettings {
        InboundSettings::new("mx.example.org")
    }

    #[test]
    fn only_a_failure_with_an_enforcing_policy_acts() {
        let none = arc(Status::None, &[]);
        let s = settings();
        assert!(matches!(
            decide(&dmarc(Status::Fail, Some("reject")), &none, None, &s).0,
            Decision::Reject { .. }
        ));
        assert!(matches!(
            decide(&dmarc(Status::Fail, Some("quarantine")), &none, None, &s).0,
            Decision::Junk { .. }
        ));
        for (status, policy) in [
            (Status::Fail, Some("none")),
            (Status::Fail, None),
            (Status::Pass, Some("reject")),
            (Status::TempError, Some("reject")),
            (Status::PermError, Some("reject")),
        ] {
            assert_eq!(
                decide(&dmarc(status, policy), &none, None, &s),
                (Decision::Deliver, None),
                "{status:?} {policy:?}"
            );
        }
    }

    #[test]
    fn reject_can_be_lowered_to_quarantine() {
        let mut s = settings();
        s.reject_as = RejectAs::Quarantine;
        let (d, o) = decide(
            &dmarc(Status::Fail, Some("reject")),
            &arc(Status::None, &[]),
            None,
            &s,
        );
        assert_eq!(d.disposition(), "quarantine");
        assert_eq!(o.map(|o| o.kind()), Some("local_policy"));
    }

    #[test]
    fn overrides_deliver_and_say_why() {
        let fail = dmarc(Status::Fail, Some("reject"));
        let mut s = settings();
        let (d, o) = decide(&fail, &arc(Status::None, &[]), Some("192.0.2.1"), &s);
        assert_eq!(d, Decision::Deliver);
        assert_eq!(o.map(|o| o.kind()), Some("trusted_forwarder"));

        s.exempt_domains = vec!["example.com".into()];
        let (_, o) = decide(&fail, &arc(Status::None, &[]), None, &s);
        assert_eq!(o.map(|o| o.kind()), Some("local_policy"));

        let mut s = settings();
        s.trusted_arc_sealers = vec!["lists.example.net".into()];
        let sealed = arc(Status::Pass, &["other.test", "lists.example.net"]);
        let (d, o) = decide(&fail, &sealed, None, &s);
        assert_eq!(d, Decision::Deliver);
        assert_eq!(o.map(|o| o.kind()), Some("mailing_list"));
        // A broken chain, or a trusted sealer that did not seal last, does not count.
        let broken = arc(Status::Fail, &["lists.example.net"]);
        assert!(matches!(
            decide(&fail, &broken, None, &s).0,
            Decision::Reject { .. }
        ));
        let earlier = arc(Status::Pass, &["lists.example.net", "other.test"]);
        assert!(matches!(
            decide(&fail, &earlier, None, &s).0,
            Decision::Reject { .. }
        ));
    }
}
