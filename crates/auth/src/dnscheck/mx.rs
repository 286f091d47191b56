//! MX: the domain's mail exchangers (RFC 5321 §5.1), a null MX (RFC 7505), each host's
//! addresses, and forward-confirmed reverse DNS of each address (a PTR whose name resolves
//! back to it), which many receivers want of a sending host (RFC 8601 §3 `iprev`).

use super::report::Item;
use crate::dns::{DnsError, MxAnswer, Resolver};
use std::net::IpAddr;

const CHECK: &str = "mx";

pub(crate) async fn check(resolver: &Resolver, domain: &str) -> Vec<Item> {
    let records = match resolver.mx(domain).await {
        Ok(MxAnswer::Records(r)) => r,
        Ok(MxAnswer::NoRecords) => {
            return vec![Item::fail(
                CHECK,
                domain,
                "no MX records: senders fall back to the domain's own address (RFC 5321 §5.1)",
                format!(
                    "publish `{domain}. IN MX 10 mx.{domain}.` (or a null MX `0 .` if the domain takes no mail)"
                ),
            )];
        }
        Ok(MxAnswer::NoSuchDomain) => {
            return vec![Item::fail(
                CHECK,
                domain,
                "the domain does not exist (NXDOMAIN)",
                "check the spelling, or that the zone is delegated and published",
            )];
        }
        Err(e) => return vec![lookup_failed(domain, &e)],
    };
    let hosts: Vec<(u16, String)> = records
        .iter()
        .map(|r| {
            (
                r.preference,
                r.exchange.trim_end_matches('.').to_ascii_lowercase(),
            )
        })
        .collect();
    if hosts.iter().any(|(_, h)| h.is_empty()) {
        // RFC 7505 §3: a null MX is the only record when present.
        return if hosts.len() == 1 {
            vec![Item::pass(
                CHECK,
                domain,
                "null MX (RFC 7505): the domain accepts no mail",
            )]
        } else {
            vec![Item::fail(
                CHECK,
                domain,
                "a null MX `0 .` next to other MX records (RFC 7505 §3 forbids the mix)",
                "keep either the null MX or the real MX records",
            )]
        };
    }
    let mut items = vec![Item::pass(
        CHECK,
        domain,
        format!(
            "{} MX record(s): {}",
            hosts.len(),
            hosts
                .iter()
                .map(|(p, h)| format!("{p} {h}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )];
    for (_, host) in &hosts {
        items.extend(check_host(resolver, host).await);
    }
    items
}

async fn check_host(resolver: &Resolver, host: &str) -> Vec<Item> {
    let addrs = match resolver.addresses(host).await {
        Ok(a) => a,
        Err(e) if e.is_temporary() => return vec![lookup_failed(host, &e)],
        Err(e) => {
            return vec![Item::fail(
                CHECK,
                host,
                format!("the MX host has no address: {e}"),
                format!(
                    "publish A/AAAA records for {host}, or point the MX at a host that has them"
                ),
            )];
        }
    };
    let mut items = vec![Item::pass(
        CHECK,
        host,
        format!(
            "resolves to {}",
            addrs
                .iter()
                .map(IpAddr::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )];
    for ip in addrs {
        items.push(check_reverse(resolver, host, ip).await);
    }
    items
}

/// Forward-confirmed reverse DNS: one of the PTR names resolves back to `ip`.
async fn check_reverse(resolver: &Resolver, host: &str, ip: IpAddr) -> Item {
    let subject = format!("{host} {ip}");
    let names = match resolver.ptr(ip).await {
        Ok(n) if !n.is_empty() => n,
        Ok(_) | Err(DnsError::NoSuchDomain(_) | DnsError::NoRecords(..)) => {
            return Item::warn(
                CHECK,
                subject,
                "no reverse DNS (PTR) for the address",
                format!(
                    "ask the address's owner (hosting provider) for a PTR record naming {host}"
                ),
            );
        }
        Err(e) => return lookup_failed(&subject, &e),
    };
    for name in &names {
        if let Ok(back) = resolver.addresses(name).await
            && back.contains(&ip)
        {
            let note = if name.eq_ignore_ascii_case(host) {
                String::new()
            } else {
                format!(" (not the MX name {host})")
            };
            return Item::pass(
                CHECK,
                subject,
                format!("reverse DNS {name} resolves back to {ip}{note}"),
            );
        }
    }
    Item::warn(
        CHECK,
        subject,
        format!(
            "reverse DNS {} does not resolve back to {ip}",
            names.join(", ")
        ),
        format!("make the PTR name have an A/AAAA record for {ip} (forward-confirmed reverse DNS)"),
    )
}

fn lookup_failed(subject: &str, e: &DnsError) -> Item {
    Item::fail(
        CHECK,
        subject,
        format!("DNS lookup failed: {e}"),
        "check that the domain's name servers answer, then run the check again",
    )
}
