//! SPF (RFC 7208): exactly one `v=spf1` record (§4.5), its terms known and well formed
//! (§4.6.1, §5, §6), the DNS-querying terms counted through `include:` and `redirect=` (at
//! most 10, §4.6.4) with their void lookups (at most 2), include loops, and the policy of
//! `all` (§5.1): `+all` lets anyone send as the domain.

use super::report::Item;
use super::txt_with_prefix;
use crate::dns::{DnsError, MxAnswer, Resolver};
use crate::spf_syntax::{Term, parse};

const CHECK: &str = "spf";
/// RFC 7208 §4.6.4.
const LOOKUP_LIMIT: usize = 10;
const VOID_LIMIT: usize = 2;
/// Records fetched while walking includes, at most: the walk stops well past the limit.
const WALK_LIMIT: usize = 40;

/// What walking the include tree found.
#[derive(Debug, Default)]
struct Walk {
    lookups: usize,
    /// Names whose lookup gave nothing (NXDOMAIN/NODATA).
    voids: Vec<String>,
    /// Problems in included records, each one item.
    failures: Vec<(String, String)>,
    /// `a → b → a` chains.
    loops: Vec<String>,
}

pub(crate) async fn check(resolver: &Resolver, domain: &str) -> Vec<Item> {
    let records = match txt_with_prefix(resolver, domain, "v=spf1").await {
        Ok(r) => r,
        Err(e) => {
            return vec![Item::lookup_failed(CHECK, domain, &e)];
        }
    };
    let record = match records.as_slice() {
        [] => {
            return vec![Item::fail(
                CHECK,
                domain,
                "no SPF record: anyone may send as this domain",
                format!(
                    "publish `{domain}. IN TXT \"v=spf1 mx -all\"` (listing every host that sends for it)"
                ),
            )];
        }
        [one] => one.clone(),
        many => {
            return vec![Item::fail(
                CHECK,
                domain,
                format!(
                    "{} SPF records; receivers return permerror (RFC 7208 §4.5): {}",
                    many.len(),
                    many.join(" | ")
                ),
                "merge them into one v=spf1 record",
            )];
        }
    };
    let terms = match parse(&record) {
        Ok(t) => t,
        Err(why) => {
            return vec![Item::fail(
                CHECK,
                domain,
                format!("syntax error, receivers return permerror: {why}"),
                "correct the record (RFC 7208 §4.6.1: mechanisms all, include, a, mx, ptr, ip4, ip6, exists; modifiers redirect=, exp=)",
            )];
        }
    };
    let mut items = vec![Item::pass(CHECK, domain, format!("one record: {record}"))];
    items.push(all_policy(domain, &terms));
    let walk = walk(resolver, domain, &terms).await;
    for (subject, why) in walk.failures {
        items.push(Item::fail(
            CHECK,
            subject,
            why,
            "fix or remove the include/redirect: receivers return permerror",
        ));
    }
    for chain in &walk.loops {
        items.push(Item::fail(
            CHECK,
            domain,
            format!("include loop: {chain}"),
            "remove the include that points back: receivers return permerror",
        ));
    }
    if walk.lookups > LOOKUP_LIMIT {
        items.push(Item::fail(
            CHECK,
            domain,
            format!(
                "{}{} DNS-querying terms (include, a, mx, ptr, exists, redirect) counted through includes; over the limit of {LOOKUP_LIMIT}, receivers return permerror (RFC 7208 §4.6.4)",
                if walk.lookups >= WALK_LIMIT { "at least " } else { "" },
                walk.lookups
            ),
            "replace includes and a/mx terms with ip4:/ip6: ranges, drop unused includes",
        ));
    } else {
        items.push(Item::pass(
            CHECK,
            domain,
            format!(
                "{} DNS-querying terms counted through includes (limit {LOOKUP_LIMIT})",
                walk.lookups
            ),
        ));
    }
    if walk.voids.len() > VOID_LIMIT {
        items.push(Item::fail(
            CHECK,
            domain,
            format!(
                "{} void lookups (names without records: {}); over the limit of {VOID_LIMIT} (RFC 7208 §4.6.4)",
                walk.voids.len(),
                grouped(&walk.voids)
            ),
            "remove terms naming domains that do not exist",
        ));
    } else if !walk.voids.is_empty() {
        items.push(Item::warn(
            CHECK,
            domain,
            format!(
                "void lookups (names without records): {}",
                grouped(&walk.voids)
            ),
            "remove terms naming domains that do not exist",
        ));
    }
    items
}

/// Names once each, with how many times when more than once: `a.example ×3, b.example`.
fn grouped(names: &[String]) -> String {
    let mut out: Vec<(String, usize)> = Vec::new();
    for n in names {
        match out.iter_mut().find(|(m, _)| m == n) {
            Some((_, c)) => *c += 1,
            None => out.push((n.clone(), 1)),
        }
    }
    out.iter()
        .map(|(n, c)| {
            if *c > 1 {
                format!("{n} ×{c}")
            } else {
                n.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The verdict on the record's `all` (§5.1) or its absence (§4.7: neutral by default).
fn all_policy(domain: &str, terms: &[Term]) -> Item {
    let all = terms.iter().find_map(|t| match t {
        Term::Mechanism {
            qualifier, name, ..
        } if name == "all" => Some(*qualifier),
        _ => None,
    });
    let redirect = terms
        .iter()
        .any(|t| matches!(t, Term::Modifier { name, .. } if name == "redirect"));
    match all {
        Some('+') => Item::fail(
            CHECK,
            domain,
            "+all: every host on the Internet passes SPF for this domain",
            "end the record with -all (or ~all while testing)",
        ),
        Some('?') => Item::warn(
            CHECK,
            domain,
            "?all: hosts not listed get neutral, as if there were no SPF",
            "end the record with -all (or ~all)",
        ),
        Some('~') => Item::pass(CHECK, domain, "~all: hosts not listed soft-fail"),
        Some(_) => Item::pass(CHECK, domain, "-all: hosts not listed fail"),
        None if redirect => Item::pass(CHECK, domain, "no all: the redirect= target decides"),
        None => Item::warn(
            CHECK,
            domain,
            "no all mechanism: hosts not listed get neutral (RFC 7208 §4.7)",
            "end the record with -all (or ~all)",
        ),
    }
}

/// Count the DNS-querying terms of `terms` and of every record included or redirected to,
/// breadth first, noting void lookups, loops and broken included records.
async fn walk(resolver: &Resolver, domain: &str, terms: &[Term]) -> Walk {
    let mut w = Walk::default();
    // (the record's domain, its terms, the chain of domains that led to it)
    let mut queue = vec![(domain.to_string(), terms.to_vec(), vec![domain.to_string()])];
    let mut fetched = 0usize;
    while !queue.is_empty() {
        let (here, terms, chain) = queue.remove(0);
        for term in &terms {
            let (name, target) = match term {
                Term::Mechanism { name, arg, .. } => (name.as_str(), arg.clone()),
                Term::Modifier { name, value } => (name.as_str(), Some(value.clone())),
            };
            if !matches!(name, "include" | "a" | "mx" | "ptr" | "exists" | "redirect") {
                continue;
            }
            w.lookups += 1;
            let target = target.unwrap_or_else(|| here.clone()).to_ascii_lowercase();
            let target = target.trim_end_matches('.').to_string();
            if target.contains('%') || w.lookups > WALK_LIMIT {
                // A macro is expanded per message: its target cannot be known here.
                continue;
            }
            match name {
                "include" | "redirect" => {
                    if chain.contains(&target) {
                        w.loops.push(format!("{} → {target}", chain.join(" → ")));
                        continue;
                    }
                    fetched += 1;
                    if fetched > WALK_LIMIT {
                        continue;
                    }
                    let subject = format!("{name}:{target} (from {here})");
                    match txt_with_prefix(resolver, &target, "v=spf1").await {
                        Ok(records) => match records.as_slice() {
                            [] => {
                                w.voids.push(target.clone());
                                w.failures
                                    .push((subject, "the target has no SPF record".into()));
                            }
                            [one] => match parse(one) {
                                Ok(t) => {
                                    let mut next = chain.clone();
                                    next.push(target.clone());
                                    queue.push((target, t, next));
                                }
                                Err(why) => w
                                    .failures
                                    .push((subject, format!("the target's record: {why}"))),
                            },
                            _ => w
                                .failures
                                .push((subject, "the target has more than one SPF record".into())),
                        },
                        Err(e) => w
                            .failures
                            .push((subject, format!("DNS lookup failed: {e}"))),
                    }
                }
                "a" => {
                    if let Err(DnsError::NoSuchDomain(_) | DnsError::NoRecords(..)) =
                        resolver.addresses(&target).await
                    {
                        w.voids.push(target);
                    }
                }
                "mx" => {
                    if let Ok(MxAnswer::NoRecords | MxAnswer::NoSuchDomain) =
                        resolver.mx(&target).await
                    {
                        w.voids.push(target);
                    }
                }
                _ => {}
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_qualifiers() {
        let status = |r: &str| all_policy("d", &parse(r).unwrap()).status;
        use super::super::report::Status;
        assert_eq!(status("v=spf1 +all"), Status::Fail);
        assert_eq!(status("v=spf1 all"), Status::Fail);
        assert_eq!(status("v=spf1 mx ?all"), Status::Warn);
        assert_eq!(status("v=spf1 mx"), Status::Warn);
        assert_eq!(status("v=spf1 mx -all"), Status::Pass);
        assert_eq!(status("v=spf1 redirect=x.example"), Status::Pass);
    }
}
