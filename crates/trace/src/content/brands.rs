//! Brands phishing impersonates, from `data/brands.txt`, and where a message names one.

use crate::domains::org_domain;
use std::collections::HashMap;
use std::sync::LazyLock;
use unicode_security::skeleton;

/// One brand of the list.
#[derive(Debug)]
pub struct Brand {
    pub name: String,
    /// Its own domains (a sender under one of them is the brand).
    pub domains: Vec<String>,
    /// Lower-case phrases matched as whole words.
    pub phrases: Vec<String>,
}

impl Brand {
    /// True when `domain` (a From domain) belongs to the brand: one of its domains or under
    /// one, or the same first label of the organisational domain on another suffix.
    pub fn owns(&self, domain: &str) -> bool {
        let org = org_domain(domain);
        self.owns_with_label(domain, org.split('.').next().unwrap_or_default())
    }

    /// [`Brand::owns`] with the first label of `domain`'s organisational domain given.
    fn owns_with_label(&self, domain: &str, label: &str) -> bool {
        self.domains.iter().any(|d| {
            domain == d
                || domain
                    .strip_suffix(d.as_str())
                    .is_some_and(|p| p.ends_with('.'))
                || d.split('.').next() == Some(label) && !label.is_empty()
        })
    }
}

/// The brand that owns `domain`, if any.
pub fn owner_of(domain: &str) -> Option<&'static Brand> {
    // Runs for every message (the From domain) and every link host: hash lookups of the
    // domain and each of its parents, then of its organisational label, instead of a walk
    // over every brand's domains.
    let (by_domain, by_label) = &*OWNERS;
    let mut rest = domain;
    loop {
        if let Some(&i) = by_domain.get(rest) {
            return BRANDS.get(i);
        }
        match rest.split_once('.') {
            Some((_, parent)) if parent.contains('.') => rest = parent,
            _ => break,
        }
    }
    let org = org_domain(domain);
    let label = org.split('.').next().unwrap_or_default();
    by_label.get(label).and_then(|&i| BRANDS.get(i))
}

/// Brand index by each brand domain, and by each brand domain's first label (the first
/// brand listed wins).
type OwnerMaps = (HashMap<String, usize>, HashMap<String, usize>);

static OWNERS: LazyLock<OwnerMaps> = LazyLock::new(|| {
    let (mut by_domain, mut by_label) = (HashMap::new(), HashMap::new());
    for (i, b) in BRANDS.iter().enumerate() {
        for d in &b.domains {
            by_domain.entry(d.clone()).or_insert(i);
            if let Some(label) = d.split('.').next().filter(|l| !l.is_empty()) {
                by_label.entry(label.to_string()).or_insert(i);
            }
        }
    }
    (by_domain, by_label)
});

/// The brand list (parsed once).
pub static BRANDS: LazyLock<Vec<Brand>> =
    LazyLock::new(|| parse(include_str!("../../data/brands.txt")));

fn parse(text: &str) -> Vec<Brand> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let mut cols = line.split('|').map(str::trim);
            let name = cols.next()?.to_string();
            let domains = cols
                .next()?
                .split_whitespace()
                .map(str::to_ascii_lowercase)
                .collect();
            let mut phrases: Vec<String> = cols
                .next()
                .unwrap_or_default()
                .split(',')
                .map(|p| p.trim().to_lowercase())
                .filter(|p| !p.is_empty())
                .collect();
            if phrases.is_empty() {
                phrases.push(name.to_lowercase());
            }
            Some(Brand {
                name,
                domains,
                phrases,
            })
        })
        .collect()
}

/// The first brand `text` names: the whole text equal to the brand's name (when
/// `whole_name`), or one of its phrases as whole words.
pub fn named_in(text: &str, whole_name: bool) -> Option<&'static Brand> {
    if text.is_empty() {
        return None;
    }
    let lower = text.to_lowercase();
    let trimmed = lower.trim_matches(|c: char| !c.is_alphanumeric() && c != '+');
    BRANDS.iter().find(|b| {
        whole_name && trimmed == b.name.to_lowercase()
            || b.phrases.iter().any(|p| contains_words(&lower, p))
    })
}

/// UTS #39 skeletons of the one-word brand names (4 characters or more), lower-cased.
/// Each name is keyed twice, as written and lower-cased: UTS #39 maps `I` to `l` and
/// `m` to `rn`, so the case of the input decides which form a look-alike meets.
static NAME_SKELETONS: LazyLock<Vec<(String, usize)>> = LazyLock::new(|| {
    BRANDS
        .iter()
        .enumerate()
        .filter(|(_, b)| b.name.chars().count() >= 4 && !b.name.contains(' '))
        .flat_map(|(i, b)| skeletons_of(&b.name).map(move |s| (s, i)))
        .collect()
});

/// The lower-cased skeletons of `word` as written and of `word` lower-cased.
fn skeletons_of(word: &str) -> impl Iterator<Item = String> {
    let written = skeleton(word).collect::<String>().to_lowercase();
    let lower = skeleton(&word.to_lowercase())
        .collect::<String>()
        .to_lowercase();
    [written, lower].into_iter()
}

/// A word of `text` that is not a brand's name but looks the same (UTS #39 confusable
/// skeleton: `PayPaI` with a capital I, `Micr0soft`, Cyrillic `Аpple`), and the brand.
pub fn confusable_in(text: &str) -> Option<(&'static Brand, String)> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '(' | ')' | ',' | ':'))
        .filter(|w| w.chars().count() >= 4 && w.len() <= 40)
        .find_map(|word| {
            let lower = word.to_lowercase();
            let keys: Vec<String> = skeletons_of(word).collect();
            NAME_SKELETONS.iter().find_map(|(s, i)| {
                let brand = BRANDS.get(*i)?;
                (keys.contains(s) && lower != brand.name.to_lowercase())
                    .then(|| (brand, word.to_string()))
            })
        })
}

/// A name written as single letters with spaces or dots between them (`N e t f l i x`,
/// `P.a.y.P.a.l`), joined; None for ordinary names.
pub fn spaced_out(name: &str) -> Option<String> {
    let tokens: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || matches!(c, '.' | '_' | '-' | '*'))
        .filter(|t| !t.is_empty())
        .collect();
    let singles = tokens.iter().take_while(|t| t.chars().count() == 1).count();
    (singles >= 4).then(|| tokens.iter().take(singles).copied().collect())
}

/// `phrase` occurs in `haystack` with no letter or digit right before or after it.
pub fn contains_words(haystack: &str, phrase: &str) -> bool {
    let mut from = 0;
    while let Some(at) = haystack.get(from..).and_then(|h| h.find(phrase)) {
        let start = from + at;
        let end = start + phrase.len();
        let before = haystack.get(..start).and_then(|s| s.chars().next_back());
        let after = haystack.get(end..).and_then(|s| s.chars().next());
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        if boundary(before) && boundary(after) {
            return true;
        }
        from = start + phrase.len().max(1);
        while from < haystack.len() && !haystack.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// Brand labels that stand for the brand inside another domain name (`paypal` in
/// `paypal-secure-login.example`): the first labels of the brand's domains, 3 characters or
/// more, that the brand's phrases use on their own (so `apple`, `chase` and `target`,
/// ordinary words, are not among them).
static LABELS: LazyLock<Vec<(String, usize)>> = LazyLock::new(|| {
    let mut out: Vec<(String, usize)> = Vec::new();
    for (i, b) in BRANDS.iter().enumerate() {
        for d in &b.domains {
            let label = d.split('.').next().unwrap_or_default();
            if label.len() >= 3
                && b.phrases.iter().any(|p| p == label)
                && !out.iter().any(|(l, _)| l == label)
            {
                out.push((label.to_string(), i));
            }
        }
    }
    out
});

/// A brand named inside a host that is not the brand's: as a label in front of another
/// organisation's domain (`paypal.com.account-check.example`, `paypal.login.example`) or
/// as a hyphen-separated word of the organisational label (`netflix-billing.example`).
/// Returns the brand and the brand domain imitated.
pub fn named_in_host(host: &str) -> Option<(&'static Brand, String)> {
    if owner_of(host).is_some() {
        return None;
    }
    let org = org_domain(host);
    let prefix = host
        .strip_suffix(org.as_ref())
        .unwrap_or_default()
        .trim_end_matches('.');
    let org_label = org.split('.').next().unwrap_or_default();
    let words = prefix
        .split(['.', '-'])
        .chain(org_label.split('-').filter(|_| org_label.contains('-')));
    for word in words {
        if let Some((_, i)) = LABELS.iter().find(|(l, _)| l == word)
            && let Some(b) = BRANDS.get(*i)
        {
            let imitated = b.domains.first().cloned().unwrap_or_default();
            return Some((b, imitated));
        }
    }
    None
}

/// Words that make a display name generic ("Account Services", "Security Team"): a subject
/// or heading naming a brand counts against such a sender, not against a person or a
/// company that names itself.
const GENERIC: &[&str] = &[
    "support",
    "service",
    "services",
    "team",
    "security",
    "account",
    "accounts",
    "billing",
    "customer",
    "customers",
    "notification",
    "notifications",
    "alert",
    "alerts",
    "admin",
    "administrator",
    "help",
    "helpdesk",
    "desk",
    "info",
    "noreply",
    "no-reply",
    "center",
    "centre",
    "department",
    "online",
    "mail",
    "webmail",
    "email",
    "message",
    "messages",
    "verification",
    "update",
    "updates",
    "delivery",
    "shipping",
    "rewards",
    "reward",
    "prize",
    "atendimento",
    "suporte",
    "serviço",
    "servicos",
    "serviços",
    "cliente",
    "clientes",
    "segurança",
    "conta",
    "central",
    "aviso",
    "avisos",
    "notificação",
    "soporte",
    "servicio",
    "cuenta",
    "seguridad",
    "kundenservice",
    "sicherheit",
    // Small words between the generic ones.
    "de",
    "da",
    "do",
    "des",
    "du",
    "the",
    "of",
    "and",
    "e",
    "y",
    "et",
    "und",
    "your",
    "seu",
    "sua",
    "su",
    "votre",
    "ihr",
];

/// True when a display name is empty or made only of generic words (and punctuation).
pub fn generic_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty())
        .all(|w| GENERIC.contains(&w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brands_load_and_match_words() {
        assert!(BRANDS.len() > 100);
        assert_eq!(
            named_in("PayPal Service", false).map(|b| b.name.as_str()),
            Some("PayPal")
        );
        assert_eq!(
            named_in("Apple", true).map(|b| b.name.as_str()),
            Some("Apple")
        );
        assert!(named_in("John Appleseed", true).is_none());
        assert!(named_in("Chase Miller", true).is_none());
        assert!(named_in("upside", false).is_none());
        assert_eq!(
            confusable_in("PayPaI Service").map(|(b, _)| b.name.as_str()),
            Some("PayPal")
        );
        assert_eq!(
            confusable_in("Micr0soft Account Team").map(|(b, _)| b.name.as_str()),
            Some("Microsoft")
        );
        assert!(confusable_in("PayPal Service").is_none());
        assert!(confusable_in("Jane Doe").is_none());
        assert_eq!(
            spaced_out("N e t f l i x Support").as_deref(),
            Some("Netflix")
        );
        assert_eq!(spaced_out("J. R. R. Tolkien"), None);
        assert!(contains_words("your netflix account", "netflix"));
        assert!(!contains_words("netflixed", "netflix"));
    }

    #[test]
    fn brands_named_inside_other_hosts() {
        let hit = |h: &str| named_in_host(h).map(|(b, _)| b.name.as_str());
        assert_eq!(hit("www.paypal.com.account-check.example"), Some("PayPal"));
        assert_eq!(hit("paypal.secure-login-center.net"), Some("PayPal"));
        assert_eq!(hit("netflix-billing-update.com"), Some("Netflix"));
        assert_eq!(hit("dhl-express-track.com"), Some("DHL"));
        assert_eq!(hit("www.paypal.com"), None);
        assert_eq!(hit("big-apple-bagels.com"), None);
        assert_eq!(hit("chase-miller.example"), None);
        assert_eq!(hit("googleusercontent.com"), None);
        assert_eq!(hit("ad.amazon-adsystem.com"), None);
        assert_eq!(hit("mail.example.org"), None);
    }

    #[test]
    fn brands_own_their_domains() {
        let amazon = BRANDS.iter().find(|b| b.name == "Amazon").expect("amazon");
        assert!(amazon.owns("amazon.de"));
        assert!(amazon.owns("marketplace.amazon.co.uk"));
        assert!(!amazon.owns("amazon-support.example"));
        let rf = BRANDS
            .iter()
            .find(|b| b.name == "Receita Federal")
            .expect("rf");
        assert!(rf.owns("receita.fazenda.gov.br"));
    }

    #[test]
    fn generic_names() {
        assert!(generic_name("Account Services"));
        assert!(generic_name(""));
        assert!(!generic_name("Jane Doe"));
    }
}
