//! The hop chain: one hop per `Received:` header, oldest first, with signed delays.

use crate::report::Hop;
use mailward_message::{IpClass, Received, datetime};

/// Builds hops from `Received:` values in header order (newest first, RFC 5321 §4.4: each
/// relay prepends its header). The result is chronological: index 1 is the oldest.
pub fn build_hops(received_newest_first: &[&str]) -> Vec<Hop> {
    let mut hops: Vec<Hop> = received_newest_first
        .iter()
        .rev()
        .enumerate()
        .map(|(i, raw)| hop_from(i + 1, Received::parse(raw)))
        .collect();
    fill_delays(&mut hops);
    hops
}

fn hop_from(index: usize, r: Received) -> Hop {
    Hop {
        index,
        ip_class: r.from_ip.map(IpClass::of),
        from_host: r.from_host,
        from_rdns: r.from_rdns,
        from_ip: r.from_ip,
        by_host: r.by_host,
        by_ip: r.by_ip,
        via: r.via,
        protocol: r.protocol,
        id: r.id,
        for_addr: r.for_addr,
        tls: r.tls.and_then(|t| match (t.version, t.cipher) {
            (Some(v), Some(c)) => Some(format!("{v} {c}")),
            (Some(x), None) | (None, Some(x)) => Some(x),
            (None, None) => None,
        }),
        authenticated: r.authenticated.map(|a| match a.user {
            Some(user) => format!("{} ({user})", a.evidence),
            None => a.evidence,
        }),
        timestamp: r.timestamp.map(datetime::format_rfc3339_utc),
        timestamp_unix: r.timestamp,
        delay_seconds: None,
        trusted: false,
        geo: None,
        raw: r.raw,
        parse_error: r.parse_error,
    }
}

/// Delay of each hop = its timestamp minus that of the nearest older hop with a timestamp.
/// Signed: a negative delay is clock skew or forgery, and is reported as it is.
fn fill_delays(hops: &mut [Hop]) {
    let mut previous: Option<i64> = None;
    for hop in hops.iter_mut() {
        if let Some(ts) = hop.timestamp_unix {
            hop.delay_seconds = previous.map(|p| ts.saturating_sub(p));
            previous = Some(ts);
        }
    }
}
