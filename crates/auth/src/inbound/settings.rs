//! What the server's configuration (`[verify]`) says about inbound checks.

use std::time::Duration;

/// What a DMARC `p=reject` failure turns into (`[verify] dmarc_reject`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RejectAs {
    /// `550 5.7.1` at the end of DATA (RFC 9989 §5.8).
    #[default]
    Reject,
    /// Accepted and delivered into Junk, as `p=quarantine` is (for sites that would rather
    /// lose no mail to a sender's wrong records).
    Quarantine,
}

/// Settings for [`super::assess`] and [`super::decide`].
#[derive(Debug, Clone)]
pub struct InboundSettings {
    /// Our authserv-id (RFC 8601 §2.5): the host name unless configured.
    pub authserv_id: String,
    /// Our host name, for SPF's `%{r}` macro (RFC 7208 §7.3) and `Received-SPF: receiver=`.
    pub receiver: String,
    pub reject_as: RejectAs,
    /// RFC 5322.From domains whose DMARC failures are not enforced (a domain listed here
    /// covers its subdomains too): senders known to publish wrong records.
    pub exempt_domains: Vec<String>,
    /// ARC sealers (RFC 8617) trusted to have authenticated the message before they changed
    /// it: a DMARC failure on a message with a passing chain whose newest seal is one of
    /// these is not enforced (a mailing list, RFC 9989 §7.3).
    pub trusted_arc_sealers: Vec<String>,
    /// Every DNS answer the checks need must arrive within this; what is still missing is
    /// a `temperror`.
    pub timeout: Duration,
}

impl InboundSettings {
    /// Settings with the defaults for host `hostname`.
    pub fn new(hostname: &str) -> InboundSettings {
        InboundSettings {
            authserv_id: hostname.to_string(),
            receiver: hostname.to_string(),
            reject_as: RejectAs::Reject,
            exempt_domains: Vec::new(),
            trusted_arc_sealers: Vec::new(),
            timeout: Duration::from_secs(20),
        }
    }

    /// `domain` is listed in `list`, or is a subdomain of a listed one.
    pub(crate) fn listed(list: &[String], domain: &str) -> bool {
        let domain = domain.trim_end_matches('.');
        list.iter().any(|entry| {
            let entry = entry.trim_end_matches('.');
            domain.eq_ignore_ascii_case(entry)
                || (domain.len() > entry.len()
                    && domain
                        .get(domain.len() - entry.len()..)
                        .is_some_and(|tail| tail.eq_ignore_ascii_case(entry))
                    && domain.as_bytes().get(domain.len() - entry.len() - 1) == Some(&b'.'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_domain_covers_its_subdomains_only() {
        let list = vec!["example.com".to_string()];
        assert!(InboundSettings::listed(&list, "example.com"));
        assert!(InboundSettings::listed(&list, "News.Example.COM"));
        assert!(!InboundSettings::listed(&list, "badexample.com"));
        assert!(!InboundSettings::listed(&list, "example.com.evil.test"));
    }
}
