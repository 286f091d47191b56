//! IP addresses as `Received:` headers write them.
//!
//! RFC 5321 §4.1.3 address literals (`[192.0.2.1]`, `[IPv6:2001:db8::1]`), and the forms
//! real MTAs use beside them: bare addresses (`(192.0.2.1)`, Exchange's `(2603:...)`), a
//! port after the literal (`[192.0.2.1]:5678`, `192.0.2.1:5678`), Exim 3's port as a fifth
//! dotted number (`[192.0.2.1.5678]`), zone ids (`[fe80::1%6]`).
//!
//! An IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2, `[::ffff:198.51.100.7]`, what a
//! dual-stack listener reports for an IPv4 client) is read as the IPv4 address it maps:
//! it is the same client, and every other tool (and every log line) names it that way.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The IP in a word, bracketed or bare, or `None`. Never guesses from partial numbers.
pub(crate) fn ip_in_word(w: &str) -> Option<IpAddr> {
    let w = w.trim_end_matches([',', ';']);
    if let Some(rest) = w.strip_prefix('[') {
        let close = rest.find(']')?;
        let inner = rest.get(..close)?;
        let after = rest.get(close + 1..)?;
        if !(after.is_empty() || is_port_suffix(after)) {
            return None;
        }
        parse_inner(inner, true)
    } else {
        parse_inner(w, false)
    }
}

/// `:digits`.
fn is_port_suffix(s: &str) -> bool {
    s.strip_prefix(':')
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_inner(s: &str, bracketed: bool) -> Option<IpAddr> {
    let mut s = s.trim();
    if let Some(p) = s.strip_prefix('(').and_then(|p| p.strip_suffix(')')) {
        s = p.trim();
    }
    if s.len() > 5 && s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("ipv6:")) {
        s = s.get(5..)?;
    }
    // Fast refusal for host names: an address has only these characters.
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'%'))
    {
        return None;
    }
    if s.contains(':')
        && let Some(pct) = s.find('%')
    {
        s = s.get(..pct)?;
    }
    // Pick the family by shape rather than letting `IpAddr` try both.
    if !s.contains(':') {
        let v4 = s.parse::<Ipv4Addr>().ok().map(IpAddr::V4);
        // Exim 3 wrote the port as a fifth number: `[192.0.2.1.5678]`.
        return v4.or_else(|| exim3_port(s).filter(|_| bracketed));
    }
    if let Ok(v6) = s.parse::<Ipv6Addr>() {
        // RFC 4291 §2.5.5.2: `::ffff:a.b.c.d` is the IPv4 client a.b.c.d.
        return Some(IpAddr::V6(v6).to_canonical());
    }
    // IPv4 with a port: `192.0.2.1:5678`.
    let (left, right) = s.split_once(':')?;
    if !right.is_empty() && right.bytes().all(|b| b.is_ascii_digit()) {
        return left.parse::<Ipv4Addr>().ok().map(IpAddr::V4);
    }
    None
}

/// `192.0.2.1.5678` → `192.0.2.1`.
fn exim3_port(s: &str) -> Option<IpAddr> {
    if s.matches('.').count() != 4 || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let cut = s.rfind('.')?;
    s.get(..cut)?.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// True when the word is an address literal or a bare IP (so it is not a host name).
pub(crate) fn is_ip_word(w: &str) -> bool {
    ip_in_word(w).is_some()
}

/// A word that ends in an address literal glued to a name: `unknown[192.0.2.1]`,
/// `<unknown.domain>[192.0.2.1]`. Returns the name part and the IP.
pub(crate) fn glued_literal(w: &str) -> Option<(&str, IpAddr)> {
    if !w.ends_with(']') {
        return None;
    }
    let open = w.find('[').filter(|&i| i > 0)?;
    let ip = ip_in_word(w.get(open..)?)?;
    Some((w.get(..open)?, ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(w: &str) -> Option<String> {
        ip_in_word(w).map(|i| i.to_string())
    }

    #[test]
    fn literal_forms() {
        assert_eq!(ip("[192.0.2.1]").as_deref(), Some("192.0.2.1"));
        assert_eq!(ip("[IPv6:2001:db8::1]").as_deref(), Some("2001:db8::1"));
        assert_eq!(ip("[ipv6:::1]").as_deref(), Some("::1"));
        assert_eq!(ip("[2001:db8::1]").as_deref(), Some("2001:db8::1"));
        assert_eq!(ip("2001:db8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(ip("[192.0.2.1]:5678").as_deref(), Some("192.0.2.1"));
        assert_eq!(ip("192.0.2.1:5678").as_deref(), Some("192.0.2.1"));
        assert_eq!(ip("[192.0.2.1:5678]").as_deref(), Some("192.0.2.1"));
        assert_eq!(ip("[192.0.2.1.5678]").as_deref(), Some("192.0.2.1"));
        assert_eq!(ip("[fe80::1%6]").as_deref(), Some("fe80::1"));
        assert_eq!(ip("[(134.97.4.21)]").as_deref(), Some("134.97.4.21"));
    }

    #[test]
    fn ipv4_mapped_addresses_are_read_as_ipv4() {
        assert_eq!(ip("[::ffff:127.0.0.1]").as_deref(), Some("127.0.0.1"));
        assert_eq!(
            ip("[IPv6:::ffff:198.51.100.7]").as_deref(),
            Some("198.51.100.7")
        );
        assert_eq!(
            ip("::ffff:218.11.152.141").as_deref(),
            Some("218.11.152.141")
        );
        assert_eq!(
            ip("(::FFFF:218.11.152.141)").as_deref(),
            Some("218.11.152.141")
        );
        assert_eq!(ip("[::ffff:c633:6407]").as_deref(), Some("198.51.100.7"));
        // Only the mapped prefix converts: other IPv6 addresses stay IPv6.
        assert_eq!(ip("[::1]").as_deref(), Some("::1"));
        assert_eq!(
            ip("[64:ff9b::c633:6407]").as_deref(),
            Some("64:ff9b::c633:6407")
        );
    }

    #[test]
    fn versions_and_ids_are_not_addresses() {
        for w in [
            "15.20.5438.12",
            "5.0.2195.6624",
            "8.12.11.20060308",
            "1.2.3",
            "192.0.2.1.5678",
            "[?.?.?.?]",
            "[unix socket]",
            "[192.0.2.1]x",
            "abc.123.2023.08.29.09.20.10",
            "[1.2.3.4.5.6]",
        ] {
            assert_eq!(ip(w), None, "{w}");
        }
    }

    #[test]
    fn glued_literals() {
        let (name, addr) = glued_literal("unknown[211.94.164.65]").expect("glued");
        assert_eq!(
            (name, addr.to_string().as_str()),
            ("unknown", "211.94.164.65")
        );
        assert!(glued_literal("[1.2.3.4]").is_none());
    }
}
