//! The trust boundary and the origin.
//!
//! Walk from the newest hop (added by the receiving system, which we trust) towards older
//! ones. An older hop stays trusted while its `by` side names the host that the newer hop
//! says it received the message from, and time does not run backwards beyond
//! [`TIME_TOLERANCE_SECONDS`]. Everything past the first break may have been written by the
//! sender and is untrusted.

use crate::domains::{first_label, normalize_host, org_domain};
use crate::report::{Hop, Origin, TrustBoundary};
use mailward_message::IpClass;
use std::net::IpAddr;

/// How far a hop's clock may run behind the hop before it without breaking trust.
pub const TIME_TOLERANCE_SECONDS: i64 = 300;

/// Marks hops trusted (newest first) and returns where the trust ends.
pub fn mark_trust(hops: &mut [Hop]) -> TrustBoundary {
    let n = hops.len();
    if n == 0 {
        return TrustBoundary {
            trusted_hops: 0,
            oldest_trusted_hop: None,
            reason: "no Received headers".into(),
        };
    }
    let mut trusted = 1;
    let mut reason = String::from("every hop links to the next");
    if let Some(last) = hops.last_mut() {
        last.trusted = true;
    }
    let mut newer = n - 1;
    while newer > 0 {
        let older = newer - 1;
        let (Some(o), Some(w)) = (hops.get(older), hops.get(newer)) else {
            break;
        };
        if let Some(why) = link_break(o, w) {
            reason = why;
            break;
        }
        if let Some(hop) = hops.get_mut(older) {
            hop.trusted = true;
        }
        trusted += 1;
        newer = older;
    }
    TrustBoundary {
        trusted_hops: trusted,
        oldest_trusted_hop: hops.get(n - trusted).map(|h| h.index),
        reason,
    }
}

/// Why the older hop `o` is not vouched for by the newer hop `w`, or None when it is.
fn link_break(o: &Hop, w: &Hop) -> Option<String> {
    if let (Some(delay), true) = (w.delay_seconds, w.timestamp_unix.is_some())
        && delay < -TIME_TOLERANCE_SECONDS
        && o.timestamp_unix.is_some()
    {
        return Some(format!(
            "hop {} is dated {} s before hop {} that it supposedly preceded",
            w.index, -delay, o.index
        ));
    }
    let newer_from = [w.from_host.as_deref(), w.from_rdns.as_deref()];
    let newer_has_from = newer_from.iter().any(Option::is_some) || w.from_ip.is_some();
    // A hop that names no sender at all (`by host with SMTP id ...`, `(qmail invoked by
    // uid 0)`) is an internal hand-off inside one system: it does not contradict the link.
    if !newer_has_from {
        return None;
    }
    if let (Some(a), Some(b)) = (o.by_ip, w.from_ip)
        && same_ip(a, b)
    {
        return None;
    }
    let Some(by) = o.by_host.as_deref() else {
        // An older hop that names no receiving host cannot be checked; accept it when the
        // newer hop received from a private or loopback address (same site).
        return match w.ip_class {
            Some(IpClass::Loopback | IpClass::Private) => None,
            _ => Some(format!(
                "hop {} does not name the host that received it",
                o.index
            )),
        };
    };
    if by_parses_as_ip(by, w.from_ip) {
        return None;
    }
    for from in newer_from.into_iter().flatten() {
        if hosts_match(by, from) {
            return None;
        }
    }
    // A step inside one host (a content filter re-injecting on localhost, a local
    // submission `from me by host`): both hops were received by the same host and the newer
    // one names no public source. A sender on the Internet cannot produce this pattern,
    // since the newer hop would then show its public IP.
    let internal_source = matches!(
        w.ip_class,
        None | Some(IpClass::Loopback | IpClass::Private | IpClass::LinkLocal)
    );
    if let (Some(wb), true) = (w.by_host.as_deref(), internal_source)
        && normalize_host(by) == normalize_host(wb)
    {
        return None;
    }
    Some(format!(
        "hop {} was received by {} but hop {} says it came from {}",
        o.index,
        by,
        w.index,
        describe_from(w)
    ))
}

fn describe_from(h: &Hop) -> String {
    let mut parts = Vec::new();
    if let Some(x) = &h.from_host {
        parts.push(x.clone());
    }
    if let Some(x) = &h.from_rdns {
        parts.push(x.clone());
    }
    if let Some(ip) = h.from_ip {
        parts.push(format!("[{ip}]"));
    }
    if parts.is_empty() {
        "an unnamed host".into()
    } else {
        parts.join(" ")
    }
}

fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    canonical(a) == canonical(b)
}

/// RFC 4291 §2.5.5.2: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4 host.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

fn by_parses_as_ip(by: &str, from_ip: Option<IpAddr>) -> bool {
    let by = normalize_host(by);
    let by = by.strip_prefix("ipv6:").unwrap_or(&by);
    match (by.parse::<IpAddr>(), from_ip) {
        (Ok(a), Some(b)) => same_ip(a, b),
        _ => false,
    }
}

/// Same host name, same first label (`BN9PR03CA0001.namprd03.prod.outlook.com` and
/// `BN9PR03CA0001.outlook.office365.com`), or same organisational domain.
pub fn hosts_match(a: &str, b: &str) -> bool {
    let (a, b) = (normalize_host(a), normalize_host(b));
    if a.is_empty() || b.is_empty() || a == "localhost" || b == "localhost" {
        return a == b && !a.is_empty();
    }
    if a == b {
        return true;
    }
    let (fa, fb) = (first_label(&a), first_label(&b));
    // A bare first label compared with a full name of the same host (`mx1` vs
    // `mx1.example.com`) or two names whose distinctive first labels agree.
    if fa == fb && fa.len() >= 4 && !is_generic_label(&fa) {
        return true;
    }
    if a.contains('.') && b.contains('.') {
        let (oa, ob) = (org_domain(&a), org_domain(&b));
        return oa == ob && oa.contains('.');
    }
    false
}

/// First labels too common to identify a host on their own.
fn is_generic_label(label: &str) -> bool {
    matches!(
        label,
        "mail"
            | "smtp"
            | "mx"
            | "mx1"
            | "mx2"
            | "relay"
            | "mta"
            | "out"
            | "outbound"
            | "inbound"
            | "gateway"
            | "unknown"
            | "server"
            | "host"
            | "email"
            | "localhost"
    )
}

/// Headers in which webmail front-ends record the client's IP (treated as one more, older
/// hop, as SpamAssassin does).
pub const ORIGINATING_IP_HEADERS: &[&str] = &[
    "x-originating-ip",
    "x-sender-ip",
    "x-source-ip",
    "x-client-ip",
    "x-aol-ip",
    "x-yahoo-post-ip",
    "x-ms-exchange-crosstenant-originalclientip",
];

/// Extracts an IP from an `X-Originating-IP`-style value (`[203.0.113.9]`, bare, or with
/// a port). An IPv4-mapped IPv6 address (`[::ffff:203.0.113.9]`) is returned as its IPv4
/// address, as `Received:` addresses are.
pub fn parse_originating_ip(value: &str) -> Option<IpAddr> {
    let v = value.trim().trim_start_matches('[').trim_end_matches(']');
    let v = v.split([',', ' ', ']']).next().unwrap_or_default();
    let ip = match v.parse::<IpAddr>() {
        Ok(ip) => ip,
        // `1.2.3.4:5678`
        Err(_) => v.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())?,
    };
    Some(canonical(ip))
}

/// An origin taken from a hop's source.
fn origin_from_hop(hop: &Hop, reason: String) -> Origin {
    Origin {
        ip: hop.from_ip,
        ip_class: hop.from_ip.map(IpClass::of),
        host: hop
            .from_rdns
            .clone()
            .or_else(|| hop.from_host.clone())
            .or_else(|| hop.by_host.clone().filter(|_| hop.from_ip.is_none())),
        hop: Some(hop.index),
        source: "Received".into(),
        reason,
        geo: None,
    }
}

/// Chooses the origin from the trusted hops and any originating-IP header.
pub fn find_origin(hops: &[Hop], originating: Option<(&str, IpAddr)>) -> Option<Origin> {
    let oldest = hops.iter().find(|h| h.trusted)?;
    let webmail = oldest.authenticated.is_some()
        || oldest
            .protocol
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("http") || p.eq_ignore_ascii_case("https"));
    let public_source = oldest.from_ip.filter(|ip| IpClass::of(*ip).is_public());
    if let (Some(ip), false) = (public_source, webmail) {
        return Some(origin_from_hop(
            oldest,
            format!(
                "hop {} is the oldest trusted hop and its source {ip} is public",
                oldest.index
            ),
        ));
    }
    if let Some((header, ip)) = originating
        && IpClass::of(ip).is_public()
    {
        let why = if webmail {
            format!(
                "hop {} is an authenticated or web submission, so the client IP its front-end recorded in {header} is the origin",
                oldest.index
            )
        } else {
            format!(
                "the oldest trusted hop {} has no public source, so the client IP in {header} is the origin",
                oldest.index
            )
        };
        return Some(Origin {
            ip: Some(ip),
            ip_class: Some(IpClass::Public),
            host: None,
            hop: None,
            source: header.to_string(),
            reason: why,
            geo: None,
        });
    }
    if let Some(ip) = public_source {
        return Some(origin_from_hop(
            oldest,
            format!(
                "hop {} is the oldest trusted hop (an authenticated submission) and its source {ip} is public",
                oldest.index
            ),
        ));
    }
    if let Some(h) = hops
        .iter()
        .find(|h| h.trusted && h.from_ip.is_some_and(|ip| IpClass::of(ip).is_public()))
    {
        let ip = h.from_ip?;
        return Some(origin_from_hop(
            h,
            format!(
                "the oldest trusted hop {} has no public source; hop {} is the oldest trusted hop with a public source {ip}",
                oldest.index, h.index
            ),
        ));
    }
    Some(origin_from_hop(
        oldest,
        format!(
            "no trusted hop has a public source; hop {} is the oldest trusted hop",
            oldest.index
        ),
    ))
}
