//! DMARC (RFC 7489 §6.3, §6.6.3): one `v=DMARC1` record at `_dmarc.DOMAIN`, `v` first and
//! `p` present with a known policy, no tag twice, `rua`/`ruf` lists of `mailto:` URIs
//! (§6.2), `pct` 0 to 100; `p=none` and `pct<100` enforce nothing or only part.

use super::report::Item;
use super::{tags, txt_with_prefix};
use crate::dns::Resolver;

const CHECK: &str = "dmarc";
const POLICIES: [&str; 3] = ["none", "quarantine", "reject"];

pub(crate) async fn check(resolver: &Resolver, domain: &str) -> Vec<Item> {
    let name = format!("_dmarc.{domain}");
    let records = match txt_with_prefix(resolver, &name, "v=DMARC1").await {
        Ok(r) => r,
        Err(e) => {
            return vec![Item::lookup_failed(CHECK, name, &e)];
        }
    };
    match records.as_slice() {
        [] => vec![Item::fail(
            CHECK,
            name.clone(),
            "no DMARC record: receivers apply no policy to mail failing SPF and DKIM",
            format!(
                "publish `{name}. IN TXT \"v=DMARC1; p=none; rua=mailto:dmarc@{domain}\"`, read the reports, then move to p=quarantine or p=reject"
            ),
        )],
        [one] => check_record(domain, &name, one),
        many => vec![Item::fail(
            CHECK,
            name,
            format!(
                "{} DMARC records; receivers ignore them all (RFC 7489 §6.6.3): {}",
                many.len(),
                many.join(" | ")
            ),
            "keep exactly one v=DMARC1 record",
        )],
    }
}

fn check_record(domain: &str, name: &str, record: &str) -> Vec<Item> {
    let fail = |why: String, fix: &str| vec![Item::fail(CHECK, name, why, fix)];
    let t = match tags::parse(record) {
        Ok(t) => t,
        Err(why) => {
            return fail(
                format!("syntax error: {why}"),
                "write the record as tag=value pairs separated by ;",
            );
        }
    };
    let dup = tags::duplicates(&t);
    if !dup.is_empty() {
        return fail(
            format!("tag(s) given twice: {} in {record}", dup.join(", ")),
            "give each tag once",
        );
    }
    if !t.first().is_some_and(|(n, v)| n == "v" && v == "DMARC1") {
        return fail(
            "v=DMARC1 is not the first tag (RFC 7489 §6.4)".into(),
            "start the record with v=DMARC1;",
        );
    }
    let mut items = vec![Item::pass(CHECK, name, format!("one record: {record}"))];
    match tags::get(&t, "p") {
        None => items.push(Item::fail(
            CHECK,
            name,
            "no p= tag: the record is invalid (RFC 7489 §6.3)",
            "add p=quarantine or p=reject (p=none to only collect reports)",
        )),
        Some(p) if !POLICIES.contains(&p.to_ascii_lowercase().as_str()) => items.push(Item::fail(
            CHECK,
            name,
            format!("p={p} is not none, quarantine or reject"),
            "use p=quarantine or p=reject",
        )),
        Some(p) if p.eq_ignore_ascii_case("none") => items.push(Item::warn(
            CHECK,
            name,
            "p=none: mail failing DMARC is delivered as usual (monitoring only)",
            "once the rua reports show all legitimate mail passing, set p=quarantine, then p=reject",
        )),
        Some(p) => items.push(Item::pass(CHECK, name, format!("policy p={p}"))),
    }
    if let Some(sp) = tags::get(&t, "sp")
        && !POLICIES.contains(&sp.to_ascii_lowercase().as_str())
    {
        items.push(Item::fail(
            CHECK,
            name,
            format!("sp={sp} is not none, quarantine or reject"),
            "use sp=quarantine or sp=reject, or drop sp= to inherit p=",
        ));
    }
    if let Some(pct) = tags::get(&t, "pct") {
        match pct.parse::<u8>() {
            Ok(n) if n > 100 => items.push(Item::fail(
                CHECK,
                name,
                format!("pct={pct} is over 100"),
                "drop pct= (100 is the default)",
            )),
            Ok(100) => {}
            Ok(n) => items.push(Item::warn(
                CHECK,
                name,
                format!("pct={n}: the policy applies to {n}% of failing mail only"),
                "raise pct to 100 (or drop it) once reports look clean",
            )),
            Err(_) => items.push(Item::fail(
                CHECK,
                name,
                format!("pct={pct} is not a number 0-100"),
                "drop pct= or give a number 0-100",
            )),
        }
    }
    for tag in ["rua", "ruf"] {
        if let Some(list) = tags::get(&t, tag) {
            let bad: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|u| !valid_report_uri(u))
                .collect();
            if bad.is_empty() {
                items.push(Item::pass(CHECK, name, format!("{tag}={list}")));
            } else {
                items.push(Item::fail(
                    CHECK,
                    name,
                    format!("{tag}: not mailto: addresses: {}", bad.join(", ")),
                    format!("write {tag}=mailto:dmarc@{domain} (comma-separated for several)"),
                ));
            }
        } else if tag == "rua" {
            items.push(Item::warn(
                CHECK,
                name,
                "no rua=: no aggregate reports, so failures go unseen",
                format!("add rua=mailto:dmarc@{domain}"),
            ));
        }
    }
    items
}

/// `mailto:local@domain` with an optional `!size` suffix (RFC 7489 §6.2, §6.4).
fn valid_report_uri(uri: &str) -> bool {
    let Some(rest) = uri
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("mailto:"))
        .map(|_| &uri[7..])
    else {
        return false;
    };
    let addr = match rest.rsplit_once('!') {
        Some((a, size)) => {
            let digits = size.trim_end_matches(['k', 'm', 'g', 't', 'K', 'M', 'G', 'T']);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            a
        }
        None => rest,
    };
    matches!(addr.rsplit_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.contains(['@', ' ']))
}

#[cfg(test)]
mod tests {
    use super::super::report::Status;
    use super::*;

    fn worst(record: &str) -> Status {
        check_record("example.org", "_dmarc.example.org", record)
            .iter()
            .map(|i| i.status)
            .max()
            .unwrap()
    }

    #[test]
    fn verdicts() {
        assert_eq!(
            worst("v=DMARC1; p=reject; rua=mailto:d@example.org"),
            Status::Pass
        );
        assert_eq!(
            worst("v=DMARC1; p=none; rua=mailto:d@example.org"),
            Status::Warn
        );
        assert_eq!(
            worst("v=DMARC1; p=reject; pct=50; rua=mailto:d@example.org"),
            Status::Warn
        );
        assert_eq!(worst("v=DMARC1; p=reject; p=none"), Status::Fail);
        assert_eq!(worst("v=DMARC1; rua=mailto:d@example.org"), Status::Fail);
        assert_eq!(worst("v=DMARC1; p=reject; rua=d@example.org"), Status::Fail);
        assert_eq!(worst("p=reject; v=DMARC1"), Status::Fail);
        assert!(valid_report_uri("mailto:d@example.org!10m"));
        assert!(!valid_report_uri("https://example.org/"));
    }
}
