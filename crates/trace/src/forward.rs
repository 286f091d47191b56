//! DMARC failures explained by forwarding inside the recipient's own organisation.
//!
//! DMARC (RFC 7489 §4.2) passes when SPF or DKIM passes for a domain aligned with the From
//! domain. When the recipient's organisation relays a message on after its first receiving
//! host checked it — an on-premises Exchange relaying into Microsoft 365, a gateway handing
//! mail to a hosted mailbox — the last receiver sees SPF for the relay's IP (not the
//! sender's) and, when the relay changed the message, a broken DKIM signature. Its DMARC
//! verdict is `fail` although the sender was authenticated on arrival (RFC 7489 §B.2.3,
//! RFC 8617 §1 describe this intermediary problem). That is not spoofing, and the
//! investigator is told so when the headers hold both halves of the evidence:
//!
//! 1. an earlier receiving host recorded a pass for the From domain — DMARC `pass`, or SPF
//!    or DKIM `pass` for a domain aligned with From's organisational domain (RFC 7489
//!    §3.1, relaxed) — in `Authentication-Results-Original` (what Exchange Online renames an
//!    on-premises server's `Authentication-Results` to), `ARC-Authentication-Results`
//!    (RFC 8617 §4.1.1) or an older `Authentication-Results`, and that host (the
//!    authserv-id) is the receiving host of a trusted hop (RFC 8601 §5: claims from outside
//!    the trust boundary are not believed);
//! 2. a newer trusted hop was received from a host of the recipient's own organisational
//!    domain: the organisation relayed the message after the pass was recorded.
//!
//! Both rest on the trust walk ([`crate::trust`]), which accepts HELO names; a sender who
//! forges a whole plausible chain can meet them, so the finding stays a warning.

use crate::domains::{address_domain, organizational_domain, same_organization};
use crate::report::{AuthResult, Authentication, Hop};

/// Headers whose results can record a pass made before the message was forwarded.
const EARLIER_HEADERS: [&str; 3] = [
    "Authentication-Results-Original",
    "ARC-Authentication-Results",
    "Authentication-Results",
];

/// The evidence that a DMARC failure came from forwarding inside the recipient's
/// organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalForward {
    /// The earlier receiving host that recorded the pass (its authserv-id).
    pub authserv_id: String,
    /// The header the pass was read from.
    pub header: String,
    /// What passed, e.g. `spf=pass smtp.mailfrom=noreply@google.com`.
    pub passed: String,
    /// The hop on which that host received the message.
    pub pass_hop: usize,
    /// The newer hop received from the recipient's organisation, and that host.
    pub relay_hop: usize,
    pub relay_host: String,
}

/// Finds the evidence (see the module documentation), or `None` when the headers do not
/// hold it. `recipient_domains` are the To domains and the newest hop's `for` domain.
pub fn internal_forward(
    auth: &Authentication,
    hops: &[Hop],
    recipient_domains: &[String],
) -> Option<InternalForward> {
    let from_org = &auth.alignment.as_ref()?.organizational_domain;
    let recipient_orgs: Vec<String> = recipient_domains
        .iter()
        .map(|d| organizational_domain(d))
        .collect();
    if recipient_orgs.is_empty() {
        return None;
    }
    auth.results
        .iter()
        .filter(|r| !r.ours && EARLIER_HEADERS.contains(&r.header.as_str()))
        .filter_map(|r| Some((r, aligned_pass(r, from_org)?)))
        .find_map(|(r, passed)| {
            // The oldest trusted hop received by the host that made the claim.
            let pass_hop = hops.iter().find(|h| {
                h.trusted
                    && h.by_host
                        .as_deref()
                        .is_some_and(|by| same_organization(by, &r.authserv_id))
            })?;
            // The newest trusted hop after it that came from the recipient's organisation.
            let (relay_hop, relay_host) = hops
                .iter()
                .rev()
                .filter(|h| h.trusted && h.index > pass_hop.index)
                .find_map(|h| Some((h.index, relay_host(h, &recipient_orgs)?)))?;
            Some(InternalForward {
                authserv_id: r.authserv_id.clone(),
                header: r.header.clone(),
                passed,
                pass_hop: pass_hop.index,
                relay_hop,
                relay_host,
            })
        })
}

/// `method=pass property=value` when `r` is a pass that counts for DMARC for a From domain
/// in `from_org`.
fn aligned_pass(r: &AuthResult, from_org: &str) -> Option<String> {
    if r.result != "pass" {
        return None;
    }
    let keys: &[&str] = match r.method.as_str() {
        "dmarc" => &["header.from"],
        "spf" => &["smtp.mailfrom"],
        "dkim" => &["header.d", "header.i"],
        _ => return None,
    };
    let (key, value) = r
        .properties
        .iter()
        .find(|(k, _)| keys.contains(&k.as_str()))?;
    let domain =
        address_domain(value).unwrap_or_else(|| value.trim_start_matches('@').to_ascii_lowercase());
    (organizational_domain(&domain) == from_org).then(|| format!("{}=pass {key}={value}", r.method))
}

/// The host the hop was received from when it is in one of `orgs`: its reverse-DNS name,
/// else its HELO name.
fn relay_host(hop: &Hop, orgs: &[String]) -> Option<String> {
    [hop.from_rdns.as_deref(), hop.from_host.as_deref()]
        .into_iter()
        .flatten()
        .find(|host| {
            let org = organizational_domain(host.trim_end_matches('.'));
            orgs.contains(&org)
        })
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Alignment;

    fn hop(index: usize, from: &str, by: &str) -> Hop {
        Hop {
            index,
            from_host: Some(from.into()),
            by_host: Some(by.into()),
            trusted: true,
            ..Default::default()
        }
    }

    fn result(header: &str, id: &str, method: &str, key: &str, value: &str) -> AuthResult {
        AuthResult {
            authserv_id: id.into(),
            method: method.into(),
            result: "pass".into(),
            properties: vec![(key.into(), value.into())],
            header: header.into(),
            ours: false,
        }
    }

    fn auth(results: Vec<AuthResult>) -> Authentication {
        Authentication {
            results,
            dmarc: Some("fail".into()),
            alignment: Some(Alignment {
                from_domain: "news.sender.example".into(),
                organizational_domain: "sender.example".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn chain() -> Vec<Hop> {
        vec![
            hop(1, "out.sender.example", "gw.corp.example"),
            hop(2, "gw.corp.example", "exch.corp.example"),
            hop(3, "exch.corp.example", "mx.hosted.example"),
        ]
    }

    #[test]
    fn an_earlier_aligned_pass_and_a_relay_of_the_recipient_are_found() {
        let a = auth(vec![result(
            "Authentication-Results-Original",
            "gw.corp.example",
            "spf",
            "smtp.mailfrom",
            "bounce@mail.sender.example",
        )]);
        let f = internal_forward(&a, &chain(), &["corp.example".into()]).expect("found");
        assert_eq!(f.pass_hop, 1);
        assert_eq!(
            (f.relay_hop, f.relay_host.as_str()),
            (3, "exch.corp.example")
        );
        assert_eq!(
            f.passed,
            "spf=pass smtp.mailfrom=bounce@mail.sender.example"
        );
    }

    #[test]
    fn no_evidence_no_finding() {
        let recipients = ["corp.example".to_string()];
        // A pass for another domain is not a pass for From.
        let other = auth(vec![result(
            "Authentication-Results-Original",
            "gw.corp.example",
            "spf",
            "smtp.mailfrom",
            "x@other.example",
        )]);
        assert_eq!(internal_forward(&other, &chain(), &recipients), None);
        // A claim by a host that is not on the trusted chain.
        let outside = auth(vec![result(
            "Authentication-Results-Original",
            "mx.elsewhere.example",
            "dkim",
            "header.d",
            "sender.example",
        )]);
        assert_eq!(internal_forward(&outside, &chain(), &recipients), None);
        // The pass is there, but no later hop came from the recipient's organisation.
        let pass = auth(vec![result(
            "ARC-Authentication-Results",
            "gw.corp.example",
            "dmarc",
            "header.from",
            "news.sender.example",
        )]);
        assert!(internal_forward(&pass, &chain(), &recipients).is_some());
        assert_eq!(
            internal_forward(&pass, &chain(), &["victim.example".into()]),
            None
        );
        // Untrusted hops vouch for nothing.
        let mut untrusted = chain();
        untrusted.iter_mut().for_each(|h| h.trusted = h.index == 3);
        assert_eq!(internal_forward(&pass, &untrusted, &recipients), None);
    }
}
