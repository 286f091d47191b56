//! Domain helpers: organisational domains (RFC 7489 §3.2 via the Public Suffix List),
//! host-name comparison for the trust walk, and look-alike detection.

use std::borrow::Cow;
use std::sync::LazyLock;
use unicode_security::skeleton;

/// The organisational domain of a host name (RFC 7489 §3.2): the public suffix plus one
/// label, lower-cased, without a trailing dot. Returns the name itself when the PSL has no
/// answer (a bare label, an IP literal).
pub fn organizational_domain(host: &str) -> String {
    org_domain(host).into_owned()
}

/// [`organizational_domain`] without allocating when the name is already lower-case.
pub fn org_domain(host: &str) -> Cow<'_, str> {
    match normalize_host(host) {
        Cow::Borrowed(h) => Cow::Borrowed(psl::domain_str(h).unwrap_or(h)),
        Cow::Owned(h) => Cow::Owned(psl::domain_str(&h).unwrap_or(&h).to_string()),
    }
}

/// Lower-cases and drops a trailing dot and surrounding brackets; borrows when the name is
/// already in that form (the common case).
pub fn normalize_host(host: &str) -> Cow<'_, str> {
    let trimmed = host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.');
    if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(trimmed.to_ascii_lowercase())
    } else {
        Cow::Borrowed(trimmed)
    }
}

/// The domain part of an address (`a@b.example` → `b.example`), lower-cased.
pub fn address_domain(address: &str) -> Option<String> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (_, domain) = address.rsplit_once('@')?;
    let domain = normalize_host(domain);
    (!domain.is_empty()).then(|| domain.into_owned())
}

/// True when two host names name the same organisation: equal, or equal organisational
/// domains (`mx1.mail.example.com` and `relay.example.com`).
pub fn same_organization(a: &str, b: &str) -> bool {
    let (a, b) = (normalize_host(a), normalize_host(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    a == b || org_domain(&a) == org_domain(&b)
}

/// The first label of a host name (`BN9PR03CA0001` of `BN9PR03CA0001.outlook.office365.com`).
pub fn first_label(host: &str) -> Cow<'_, str> {
    match normalize_host(host) {
        Cow::Borrowed(h) => Cow::Borrowed(h.split('.').next().unwrap_or_default()),
        Cow::Owned(h) => Cow::Owned(h.split('.').next().unwrap_or_default().to_string()),
    }
}

/// Brands whose domains phishing imitates most (a short list; the recipient's own domain is
/// always compared too).
pub const WELL_KNOWN_BRANDS: &[&str] = &[
    "paypal.com",
    "apple.com",
    "icloud.com",
    "microsoft.com",
    "office.com",
    "office365.com",
    "outlook.com",
    "live.com",
    "hotmail.com",
    "google.com",
    "gmail.com",
    "youtube.com",
    "amazon.com",
    "facebook.com",
    "instagram.com",
    "whatsapp.com",
    "netflix.com",
    "linkedin.com",
    "dropbox.com",
    "docusign.com",
    "adobe.com",
    "github.com",
    "chase.com",
    "wellsfargo.com",
    "bankofamerica.com",
    "citibank.com",
    "americanexpress.com",
    "coinbase.com",
    "binance.com",
    "dhl.com",
    "fedex.com",
    "usps.com",
    "yahoo.com",
    "ebay.com",
    "booking.com",
    "salesforce.com",
    "zoom.us",
    "spotify.com",
];

/// Why a domain looks like another one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookalike {
    /// The domain it imitates.
    pub target: String,
    /// `confusable` (same Unicode skeleton, UTS #39), `near-miss` (one or two edits away),
    /// or `punycode` (an IDN label with no imitation found).
    pub kind: &'static str,
}

/// Checks `domain` against the recipient's domains and the brand list.
///
/// Rules: an IDN (`xn--` label) is decoded (RFC 5891 via `idna`) and its UTS #39 skeleton
/// compared to each target's; an ASCII name whose organisational label is one edit (labels of
/// 5–8 characters) or two edits (longer labels) from a target's label, on any suffix, is a
/// near-miss. Identical organisational domains are never look-alikes.
pub fn lookalike(domain: &str, recipient_domains: &[String]) -> Option<Lookalike> {
    let domain = normalize_host(domain);
    if domain.is_empty() {
        return None;
    }
    let org = organizational_domain(&domain);
    let recipients: Vec<Target> = recipient_domains
        .iter()
        .map(|d| Target::new(organizational_domain(d)))
        .collect();
    let targets = || recipients.iter().chain(BRAND_TARGETS.iter());
    if targets().any(|t| t.org == org) {
        return None;
    }
    let (unicode, _) = idna::domain_to_unicode(&org);
    let is_idn = org.split('.').any(|label| label.starts_with("xn--"));
    let label = org_label(&unicode);
    let label_skeleton: String = skeleton(&label).collect();
    for target in targets() {
        if target.label.is_empty() || target.label == label {
            continue;
        }
        if target.skeleton == label_skeleton {
            return Some(Lookalike {
                target: target.org.clone(),
                kind: "confusable",
            });
        }
        if !is_idn && label.is_ascii() {
            let allowed = match target.label.len() {
                0..=4 => 0,
                5..=8 => 1,
                _ => 2,
            };
            if allowed > 0 && edit_distance_at_most(&label, &target.label, allowed) {
                return Some(Lookalike {
                    target: target.org.clone(),
                    kind: "near-miss",
                });
            }
        }
    }
    if is_idn {
        return Some(Lookalike {
            target: unicode,
            kind: "punycode",
        });
    }
    None
}

/// A domain to compare against, with its label's skeleton computed once.
struct Target {
    org: String,
    label: String,
    skeleton: String,
}

impl Target {
    fn new(org: String) -> Target {
        let label = org_label(&org);
        let skeleton = skeleton(&label).collect();
        Target {
            org,
            label,
            skeleton,
        }
    }
}

static BRAND_TARGETS: LazyLock<Vec<Target>> = LazyLock::new(|| {
    WELL_KNOWN_BRANDS
        .iter()
        .map(|b| Target::new(b.to_string()))
        .collect()
});

/// The registrable label of an organisational domain (`paypal` of `paypal.co.uk`).
fn org_label(org: &str) -> String {
    org.split('.').next().unwrap_or_default().to_string()
}

/// Levenshtein distance ≤ `max`, computed over chars with an early exit.
fn edit_distance_at_most(a: &str, b: &str, max: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return false;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organizational_domain_uses_the_public_suffix_list() {
        assert_eq!(
            organizational_domain("mx1.mail.example.co.uk."),
            "example.co.uk"
        );
        assert_eq!(
            organizational_domain("mail-sor-f41.google.com"),
            "google.com"
        );
        assert!(same_organization("a.outlook.com", "B.OUTLOOK.COM"));
        assert!(!same_organization("outlook.com", "office365.com"));
    }

    #[test]
    fn paypa1_is_a_near_miss_of_paypal() {
        let hit = lookalike("service.paypa1.com", &[]).expect("flagged");
        assert_eq!(hit.target, "paypal.com");
    }

    #[test]
    fn cyrillic_a_in_apple_is_a_confusable() {
        // "аpple.com" with U+0430, in its punycode form.
        let (ascii, _) =
            idna::domain_to_ascii_cow("\u{0430}pple.com".as_bytes(), idna::AsciiDenyList::URL)
                .map(|c| (c.to_string(), ()))
                .unwrap_or_default();
        let hit = lookalike(&ascii, &[]).expect("flagged");
        assert_eq!(hit.kind, "confusable");
        assert_eq!(hit.target, "apple.com");
    }

    #[test]
    fn near_miss_of_the_recipients_domain() {
        let hit = lookalike("examp1e-corp.com", &["example-corp.com".into()]).expect("flagged");
        assert_eq!(hit.target, "example-corp.com");
    }

    #[test]
    fn ordinary_domains_are_not_lookalikes() {
        for d in [
            "gmail.com",
            "mail.google.com",
            "github.com",
            "lists.debian.org",
            "example.org",
            "ups.com",
            "x.com",
        ] {
            assert_eq!(lookalike(d, &["example.org".into()]), None, "{d}");
        }
    }
}
