//! Domain helpers: organisational domains (RFC 7489 §3.2 via the Public Suffix List),
//! host-name comparison for the trust walk, and look-alike detection.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
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
    // The common case, checked on bytes: nothing to trim at either end (no white space,
    // bracket, dot or non-ASCII byte that could start or end Unicode white space) and no
    // upper case.
    let plain_end =
        |b: u8| b.is_ascii() && !b.is_ascii_whitespace() && !matches!(b, b'[' | b']' | b'.' | 0x0B);
    let bytes = host.as_bytes();
    if bytes.first().is_some_and(|&b| plain_end(b))
        && bytes.last().is_some_and(|&b| plain_end(b))
        // A fold without early exit, so the compiler can test 16 bytes at a time.
        && !bytes.iter().fold(false, |upper, b| upper | b.is_ascii_uppercase())
    {
        return Cow::Borrowed(host);
    }
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
    LOOKALIKES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.recipient_domains != recipient_domains {
            cache.recipient_domains = recipient_domains.to_vec();
            cache.targets = recipient_domains
                .iter()
                .map(|d| Target::new(organizational_domain(d)))
                .collect();
            cache.verdicts.clear();
        }
        if let Some(verdict) = cache.verdicts.get(&org) {
            return verdict.clone();
        }
        let verdict = compare(&org, &cache.targets);
        if cache.verdicts.len() >= MAX_CACHED_VERDICTS {
            cache.verdicts.clear();
        }
        cache.verdicts.insert(org, verdict.clone());
        verdict
    })
}

/// Verdicts remembered per thread before the memory starts over.
const MAX_CACHED_VERDICTS: usize = 4096;

/// What this thread has worked out for recent messages. The verdict depends only on the
/// organisational domain and the recipient domains, and in a mailbox both repeat from one
/// message to the next, while working it out (IDNA decoding, UTS #39 skeletons, a
/// near-miss test against every brand) costs far more than a lookup.
#[derive(Default)]
struct LookalikeCache {
    /// The recipient domains the targets and verdicts are for.
    recipient_domains: Vec<String>,
    targets: Vec<Target>,
    /// Verdict per organisational domain.
    verdicts: HashMap<String, Option<Lookalike>>,
}

thread_local! {
    static LOOKALIKES: RefCell<LookalikeCache> = RefCell::default();
}

/// [`lookalike`] for a domain whose organisational domain is `org`.
fn compare(org: &str, recipients: &[Target]) -> Option<Lookalike> {
    let targets = || recipients.iter().chain(BRAND_TARGETS.iter());
    if targets().any(|t| t.org == org) {
        return None;
    }
    let (unicode, _) = idna::domain_to_unicode(org);
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
///
/// This runs for every brand and recipient domain of every message, so it does not
/// allocate for ordinary names: ASCII names are compared byte by byte (a byte is a char
/// there), and names that differ in length by more than `max` are rejected first.
fn edit_distance_at_most(a: &str, b: &str, max: usize) -> bool {
    if a.is_ascii() && b.is_ascii() {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        return a.len().abs_diff(b.len()) <= max && bag_distance(a, b) <= max && within(a, b, max);
    }
    if a.chars().count().abs_diff(b.chars().count()) > max {
        return false;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    within(&a, &b, max)
}

/// The bag distance of two ASCII strings: how many characters one has that the other
/// lacks, counted with repeats, whichever side has more. It never exceeds the Levenshtein
/// distance (each edit changes either count by at most one), so it rejects most of the
/// brand list for the cost of one pass instead of the full table.
fn bag_distance(a: &[u8], b: &[u8]) -> usize {
    let mut counts = [0u32; 128];
    for &c in a {
        if let Some(n) = counts.get_mut(usize::from(c & 0x7f)) {
            *n += 1;
        }
    }
    // Characters both have, with repeats (the multiset intersection).
    let mut common = 0usize;
    for &c in b {
        if let Some(n) = counts.get_mut(usize::from(c & 0x7f))
            && *n > 0
        {
            *n -= 1;
            common += 1;
        }
    }
    (a.len() - common).max(b.len() - common)
}

/// Rows up to this length live on the stack.
const STACK_ROW: usize = 64;

/// Levenshtein distance between two sequences ≤ `max`, row by row with an early exit.
fn within<T: PartialEq>(a: &[T], b: &[T], max: usize) -> bool {
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let n = b.len() + 1;
    let mut stack = [[0usize; STACK_ROW]; 2];
    let mut heap: Vec<usize> = Vec::new();
    let (prev, cur) = if n <= STACK_ROW {
        let [p, c] = &mut stack;
        (&mut p[..n], &mut c[..n])
    } else {
        heap.resize(2 * n, 0);
        heap.split_at_mut(n)
    };
    let (mut prev, mut cur) = (prev, cur);
    for (j, slot) in prev.iter_mut().enumerate() {
        *slot = j;
    }
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

    /// `normalize_host` without its fast path.
    fn normalize_host_slowly(host: &str) -> String {
        host.trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase()
    }

    proptest::proptest! {
        #[test]
        fn normalize_host_fast_path_changes_nothing(host in "[ \t\x0b\u{a0}\u{3000}\\[\\].aZ-]{0,8}") {
            proptest::prop_assert_eq!(normalize_host(&host).into_owned(), normalize_host_slowly(&host));
        }
    }

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
    fn edit_distance_counts_chars_and_stops_early() {
        assert!(edit_distance_at_most("paypa1", "paypal", 1));
        assert!(!edit_distance_at_most("paypa11", "paypal", 0));
        assert!(edit_distance_at_most("examp1e-corp", "example-corp", 2));
        assert!(!edit_distance_at_most("kitten", "sitting", 2));
        assert!(edit_distance_at_most("kitten", "sitting", 3));
        // One char, two bytes: a single substitution.
        assert!(edit_distance_at_most("p\u{e4}ypal", "paypal", 1));
        assert!(edit_distance_at_most("", "ab", 2));
        assert!(!edit_distance_at_most("", "abc", 2));
        assert_eq!(bag_distance(b"paypal", b"paypa1"), 1);
        assert_eq!(bag_distance(b"example", b"paypal"), 4);
        assert_eq!(bag_distance(b"ab", b"ba"), 0);
        let long = "a".repeat(100);
        let long_b = format!("{}b", "a".repeat(99));
        assert!(edit_distance_at_most(&long, &long_b, 1));
        assert!(!edit_distance_at_most(&long, &"b".repeat(100), 2));
    }

    /// Plain Levenshtein distance over chars, for checking the fast version.
    fn levenshtein(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }

    proptest::proptest! {
        #[test]
        fn edit_distance_agrees_with_levenshtein(
            a in "[a-e1ä]{0,12}",
            b in "[a-e1ä]{0,12}",
            max in 0usize..4,
        ) {
            proptest::prop_assert_eq!(
                edit_distance_at_most(&a, &b, max),
                levenshtein(&a, &b) <= max
            );
        }
    }

    #[test]
    fn remembered_verdicts_follow_the_recipients() {
        let recipients = ["example-corp.com".to_string()];
        for _ in 0..2 {
            assert!(lookalike("mail.examp1e-corp.com", &recipients).is_some());
            assert_eq!(lookalike("examp1e-corp.com", &[]), None);
        }
        assert_eq!(
            lookalike("x.paypa1.com", &recipients).map(|h| h.target),
            Some("paypal.com".to_string())
        );
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
