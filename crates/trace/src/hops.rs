//! The hop chain: one hop per `Received:` header, oldest first, with signed delays.

use crate::report::Hop;
use mailward_message::{IpClass, Received, datetime};

/// Builds hops from `Received:` values in header order (newest first, RFC 5321 §4.4: each
/// relay prepends its header). The result is chronological: index 1 is the oldest.
pub fn build_hops(received_newest_first: &[&str]) -> Vec<(Hop, Received)> {
    let mut hops: Vec<(Hop, Received)> = received_newest_first
        .iter()
        .rev()
        .enumerate()
        .map(|(i, raw)| {
            let parsed = Received::parse(raw);
            (hop_from(i + 1, &parsed), parsed)
        })
        .collect();
    fill_delays(&mut hops);
    hops
}

fn hop_from(index: usize, r: &Received) -> Hop {
    Hop {
        index,
        from_host: r.from_host.clone(),
        from_rdns: r.from_rdns.clone(),
        from_ip: r.from_ip,
        ip_class: r.from_ip.map(IpClass::of),
        by_host: r.by_host.clone(),
        by_ip: r.by_ip,
        via: r.via.clone(),
        protocol: r.protocol.clone(),
        id: r.id.clone(),
        for_addr: r.for_addr.clone(),
        tls: r.tls.as_ref().and_then(|t| {
            let parts: Vec<&str> = [t.version.as_deref(), t.cipher.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }),
        authenticated: r.authenticated.as_ref().map(|a| match &a.user {
            Some(user) => format!("{} ({user})", a.evidence),
            None => a.evidence.clone(),
        }),
        timestamp: r.timestamp.map(datetime::format_rfc3339_utc),
        timestamp_unix: r.timestamp,
        delay_seconds: None,
        trusted: false,
        geo: None,
        raw: r.raw.clone(),
        parse_error: r.parse_error.clone(),
    }
}

/// Delay of each hop = its timestamp minus that of the nearest older hop with a timestamp.
/// Signed: a negative delay is clock skew or forgery, and is reported as it is.
fn fill_delays(hops: &mut [(Hop, Received)]) {
    let mut previous: Option<i64> = None;
    for (hop, _) in hops.iter_mut() {
        if let Some(ts) = hop.timestamp_unix {
            hop.delay_seconds = previous.map(|p| ts.saturating_sub(p));
            previous = Some(ts);
        }
    }
}
