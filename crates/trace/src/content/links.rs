//! Links: URL parsing (enough to name the host), plain-text URL extraction, the data lists
//! of shorteners, hosting services and click trackers, and the per-link checks.

use crate::domains::{normalize_host, org_domain};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

/// Where a link was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkSource {
    /// An HTML anchor (`<a href>`): the reader clicks it.
    Anchor,
    /// An HTML form's `action`.
    Form,
    /// An image or frame source: loaded, not clicked.
    Source,
    /// A `<meta http-equiv=refresh>` target.
    Refresh,
    /// A URL written in plain text.
    Text,
    /// A link annotation (`/URI`) of an attached PDF.
    Document,
    /// The text of a QR code in an image.
    Qr,
}

impl LinkSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkSource::Anchor => "href",
            LinkSource::Form => "form-action",
            LinkSource::Source => "src",
            LinkSource::Refresh => "refresh",
            LinkSource::Text => "text",
            LinkSource::Document => "pdf",
            LinkSource::Qr => "qr",
        }
    }

    /// A link the reader follows (or that carries typed data), as opposed to an image.
    pub fn is_followed(self) -> bool {
        !matches!(self, LinkSource::Source)
    }
}

/// The parts of a URL the checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Lower-case scheme (`http`, `https`, `data`, `mailto`, ...).
    pub scheme: String,
    /// Lower-case host in ASCII (IDNs as `xn--` labels), without port or brackets.
    pub host: String,
    /// The host is an IP address (dotted, bracketed IPv6, or one decimal/hex number).
    pub ip: Option<IpAddr>,
    /// The authority had a user-info part (`https://paypal.com@evil.example/`).
    pub userinfo: bool,
    /// Path, query and fragment as written.
    pub rest: String,
}

/// Parses `http(s)://`, `ftp://`, protocol-relative `//host` and bare `www.` URLs. Other
/// schemes (`mailto:`, `data:`, `tel:`) return their scheme with an empty host.
pub fn parse_url(s: &str) -> Option<Url> {
    let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{200b}');
    let (scheme, rest) = match s.find(':') {
        Some(colon)
            if colon > 0
                && colon < 12
                && s.get(..colon).is_some_and(|p| {
                    p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
                }) =>
        {
            (
                s.get(..colon)?.to_ascii_lowercase(),
                s.get(colon + 1..).unwrap_or_default(),
            )
        }
        _ if s.starts_with("//") => ("https".to_string(), s),
        _ if s.len() > 4 && s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("www.")) => {
            ("http".to_string(), s)
        }
        _ => return None,
    };
    let rest = if matches!(scheme.as_str(), "http" | "https" | "ftp") {
        rest.trim_start_matches(['/', '\\'])
    } else if rest.starts_with("//") {
        rest.trim_start_matches('/')
    } else {
        return Some(Url {
            scheme,
            host: String::new(),
            ip: None,
            userinfo: false,
            rest: rest.chars().take(200).collect(),
        });
    };
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    let path = rest.get(end..).unwrap_or_default();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((_, h)) => (true, h),
        None => (false, authority),
    };
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        match hostport.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => hostport,
        }
    };
    let host = percent_decode(host);
    let host = normalize_host(&host).into_owned();
    let host = if host.is_ascii() {
        host
    } else {
        idna::domain_to_ascii(&host).unwrap_or(host)
    };
    if host.is_empty() {
        return None;
    }
    let ip = parse_ip(&host);
    Some(Url {
        scheme,
        host,
        ip,
        userinfo,
        rest: path.chars().take(400).collect(),
    })
}

/// An IP host in any form browsers accept: dotted quad, IPv6, or one 32-bit number in
/// decimal or hex (`http://3232235777/`).
fn parse_ip(host: &str) -> Option<IpAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return Some(IpAddr::V6(v6));
    }
    let n = if let Some(hex) = host.strip_prefix("0x") {
        u32::from_str_radix(hex, 16).ok()?
    } else if !host.is_empty() && host.len() <= 10 && host.bytes().all(|b| b.is_ascii_digit()) {
        host.parse::<u32>().ok()?
    } else {
        return None;
    };
    Some(IpAddr::V4(Ipv4Addr::from(n)))
}

/// `%41` → `A`, for hosts and wrapped URLs; invalid escapes stay as written.
pub fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The destination of a link-protection or redirect wrapper (Microsoft Safe Links
/// `?url=`, Google `/url?q=`, Proofpoint URL Defense v3 `__URL__`), when it says so.
pub fn unwrap_redirect(url: &Url) -> Option<String> {
    let param = |name: &str| -> Option<String> {
        let query = url.rest.split_once('?')?.1;
        query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            k.eq_ignore_ascii_case(name)
                .then(|| percent_decode(v).into_owned())
        })
    };
    let host = url.host.as_str();
    if host.ends_with("safelinks.protection.outlook.com") {
        return param("url");
    }
    if (host == "www.google.com" || host == "google.com") && url.rest.starts_with("/url?") {
        return param("q").or_else(|| param("url"));
    }
    if host == "urldefense.com" {
        let inner = url.rest.strip_prefix("/v3/__")?;
        return inner.split("__").next().map(str::to_string);
    }
    None
}

/// URLs written in plain text (`http://`, `https://`, `www.`), at most `max`.
pub fn text_urls(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while out.len() < max {
        let rest = bytes.get(from..).unwrap_or_default();
        let hit = [b"http://".as_slice(), b"https://", b"www."]
            .iter()
            .filter_map(|needle| {
                memchr::memmem::find_iter(rest, needle).find(|&at| {
                    // A word start: not in the middle of `xwww.` or `foohttp://`.
                    let abs = from + at;
                    abs == 0
                        || bytes
                            .get(abs - 1)
                            .is_some_and(|b| !b.is_ascii_alphanumeric() && *b != b'.')
                })
            })
            .min();
        let Some(at) = hit else { break };
        let start = from + at;
        let mut end = start;
        while bytes.get(end).is_some_and(|&b| {
            !b.is_ascii_whitespace() && !matches!(b, b'<' | b'>' | b'"' | b'\'' | b'`' | b'|')
        }) {
            end += 1;
        }
        // Trailing punctuation belongs to the sentence.
        while end > start
            && bytes
                .get(end - 1)
                .is_some_and(|b| matches!(b, b'.' | b',' | b';' | b':' | b'!' | b'?' | b')' | b']'))
        {
            end -= 1;
        }
        if let Some(url) = text.get(start..end)
            && url.len() > 4
        {
            out.push(url);
        }
        from = end.max(start + 1);
    }
    out
}

/// The domain a link's visible text shows, when the text is a URL or a bare domain
/// (`www.paypal.com`, `https://paypal.com/signin`, `paypal.com`), lower-case ASCII.
pub fn shown_domain(text: &str) -> Option<String> {
    let text = text
        .trim()
        .trim_matches(|c: char| matches!(c, '<' | '>' | '[' | ']' | '(' | ')'));
    if text.is_empty() || text.len() > 300 || text.contains(char::is_whitespace) {
        return None;
    }
    if text.contains('@') && !text.contains('/') {
        // An e-mail address, not a web address.
        return None;
    }
    let explicit = text.contains("://")
        || text
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("www."));
    let url = if explicit {
        parse_url(text)?
    } else {
        let host = text.split(['/', '?', '#']).next()?;
        if !host.contains('.') || host.starts_with('.') || host.ends_with('.') {
            return None;
        }
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        {
            return None;
        }
        // File names look like domains on these suffixes.
        let suffix = host
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if matches!(
            suffix.as_str(),
            "zip"
                | "mov"
                | "pdf"
                | "doc"
                | "docx"
                | "xls"
                | "xlsx"
                | "jpg"
                | "png"
                | "html"
                | "htm"
                | "php"
                | "aspx"
        ) {
            return None;
        }
        parse_url(&format!("http://{host}"))?
    };
    if url.host.is_empty() || url.ip.is_some() {
        return url.ip.map(|_| url.host);
    }
    // Only names under a public suffix the PSL knows are domains a reader recognises.
    let known = psl::suffix(url.host.as_bytes()).is_some_and(|s| s.is_known());
    (known && url.host.contains('.')).then_some(url.host)
}

/// A host list entry: a host (matching itself and its subdomains), an optional path prefix,
/// and owners for whom it is their own service.
#[derive(Debug)]
pub struct HostEntry {
    pub host: String,
    pub path: Option<String>,
    pub owners: Vec<String>,
}

fn parse_host_list(text: &str) -> Vec<HostEntry> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let first = words.next()?;
            let (host, path) = match first.split_once('/') {
                Some((h, p)) => (h.to_ascii_lowercase(), Some(format!("/{p}"))),
                None => (first.to_ascii_lowercase(), None),
            };
            let owners = words
                .filter_map(|w| w.strip_prefix("owner="))
                .flat_map(|o| o.split(','))
                .map(str::to_ascii_lowercase)
                .collect();
            Some(HostEntry { host, path, owners })
        })
        .collect()
}

static SHORTENERS: LazyLock<Vec<HostEntry>> =
    LazyLock::new(|| parse_host_list(include_str!("../../data/shorteners.txt")));
static FREE_HOSTING: LazyLock<Vec<HostEntry>> =
    LazyLock::new(|| parse_host_list(include_str!("../../data/free_hosting.txt")));
static TRACKING: LazyLock<Vec<HostEntry>> =
    LazyLock::new(|| parse_host_list(include_str!("../../data/tracking.txt")));

/// True when `host` is `entry` or one of its subdomains.
fn host_matches(host: &str, entry: &str) -> bool {
    host == entry
        || host
            .strip_suffix(entry)
            .is_some_and(|pre| pre.ends_with('.'))
}

fn find<'l>(list: &'l [HostEntry], url: &Url) -> Option<&'l HostEntry> {
    list.iter().find(|e| {
        host_matches(&url.host, &e.host)
            && e.path.as_deref().is_none_or(|p| {
                url.rest
                    .get(..p.len())
                    .is_some_and(|r| r.eq_ignore_ascii_case(p))
            })
    })
}

/// The shortener `url` goes through, unless the sender owns it.
pub fn shortener<'l>(url: &Url, sender_orgs: &[String]) -> Option<&'l HostEntry> {
    find(&SHORTENERS, url).filter(|e| !owned(e, sender_orgs))
}

/// The hosting, form or file-sharing service `url` is on, unless the sender owns it.
pub fn free_hosting<'l>(url: &Url, sender_orgs: &[String]) -> Option<&'l HostEntry> {
    find(&FREE_HOSTING, url).filter(|e| !owned(e, sender_orgs))
}

/// True when `url` goes through a click tracker or link-protection service.
pub fn is_tracking(url: &Url) -> bool {
    find(&TRACKING, url).is_some()
}

fn owned(entry: &HostEntry, sender_orgs: &[String]) -> bool {
    sender_orgs
        .iter()
        .any(|s| entry.owners.iter().any(|o| o == s) || org_domain(&entry.host) == s.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_to_hosts() {
        let u = parse_url("HTTPS://PayPal.com@evil.example:8443/a?b#c").expect("url");
        assert_eq!((u.host.as_str(), u.userinfo), ("evil.example", true));
        assert_eq!(u.rest, "/a?b#c");
        assert_eq!(
            parse_url("http://3232235777/").and_then(|u| u.ip),
            Some("192.168.1.1".parse().expect("ip"))
        );
        assert_eq!(
            parse_url("http://[2001:db8::1]/").and_then(|u| u.ip),
            Some("2001:db8::1".parse().expect("ip"))
        );
        assert_eq!(
            parse_url("www.example.com/x").map(|u| u.host),
            Some("www.example.com".into())
        );
        assert_eq!(
            parse_url("mailto:a@b.example").map(|u| u.host),
            Some(String::new())
        );
        assert_eq!(
            parse_url("http://xn--pple-43d.com/").map(|u| u.host),
            Some("xn--pple-43d.com".into())
        );
        assert_eq!(
            parse_url("http://\u{0430}pple.com/").map(|u| u.host),
            Some("xn--pple-43d.com".into())
        );
        assert_eq!(parse_url("just words"), None);
    }

    #[test]
    fn shown_domains_are_urls_or_known_domains() {
        assert_eq!(
            shown_domain("www.PayPal.com"),
            Some("www.paypal.com".into())
        );
        assert_eq!(
            shown_domain("https://example.com/login"),
            Some("example.com".into())
        );
        assert_eq!(shown_domain("paypal.com"), Some("paypal.com".into()));
        assert_eq!(shown_domain("Click here"), None);
        assert_eq!(shown_domain("invoice.pdf"), None);
        assert_eq!(shown_domain("user@example.com"), None);
        assert_eq!(shown_domain("v1.2"), None);
    }

    #[test]
    fn text_urls_stop_at_punctuation() {
        let t = "See https://a.example/x. Or (www.b.example), not xwww.c.example";
        assert_eq!(
            text_urls(t, 10),
            vec!["https://a.example/x", "www.b.example"]
        );
    }

    #[test]
    fn safelinks_unwrap() {
        let u = parse_url("https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.example.org%2F&data=x").expect("url");
        assert_eq!(
            unwrap_redirect(&u).as_deref(),
            Some("https://www.example.org/")
        );
    }

    #[test]
    fn lists_match_hosts_paths_and_owners() {
        let u = parse_url("https://docs.google.com/forms/d/e/1/viewform").expect("url");
        assert!(free_hosting(&u, &["example.org".into()]).is_some());
        assert!(free_hosting(&u, &["google.com".into()]).is_none());
        let d = parse_url("https://docs.google.com/document/d/1").expect("url");
        assert!(free_hosting(&d, &[]).is_none());
        let t = parse_url("https://t.co/abc").expect("url");
        assert!(shortener(&t, &["twitter.com".into()]).is_none());
        assert!(shortener(&t, &["example.org".into()]).is_some());
        assert!(is_tracking(
            &parse_url("https://u123.ct.sendgrid.net/ls/click?x").expect("url")
        ));
    }
}
