//! SMTP TLS Reporting (RFC 8460 §3): one `v=TLSRPTv1` TXT record at `_smtp._tls.DOMAIN`
//! with `rua=` a comma-separated list of `mailto:` or `https:` URIs.

use super::report::Item;
use super::{tags, txt_with_prefix};
use crate::dns::Resolver;

const CHECK: &str = "tls-rpt";

pub(crate) async fn check(resolver: &Resolver, domain: &str) -> Vec<Item> {
    let name = format!("_smtp._tls.{domain}");
    let records = match txt_with_prefix(resolver, &name, "v=TLSRPTv1").await {
        Ok(r) => r,
        Err(e) => {
            return vec![Item::lookup_failed(CHECK, name, &e)];
        }
    };
    let item = match records.as_slice() {
        [] => Item::warn(
            CHECK,
            name.clone(),
            "no TLS-RPT record: senders do not report TLS failures delivering to you",
            format!("publish `{name}. IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@{domain}\"`"),
        ),
        [one] => match tags::parse(one) {
            Err(why) => Item::fail(
                CHECK,
                name.clone(),
                format!("syntax error: {why}"),
                "write `v=TLSRPTv1; rua=mailto:ADDRESS`",
            ),
            Ok(t) => match tags::get(&t, "rua") {
                None => Item::fail(
                    CHECK,
                    name.clone(),
                    "no rua= tag (RFC 8460 §3)",
                    format!("add rua=mailto:tlsrpt@{domain}"),
                ),
                Some(rua) => {
                    let bad: Vec<&str> = rua
                        .split(',')
                        .map(str::trim)
                        .filter(|u| !valid_uri(u))
                        .collect();
                    if bad.is_empty() {
                        Item::pass(CHECK, name.clone(), format!("rua={rua}"))
                    } else {
                        Item::fail(
                            CHECK,
                            name.clone(),
                            format!("rua: not mailto:/https: URIs: {}", bad.join(", ")),
                            format!("write rua=mailto:tlsrpt@{domain}"),
                        )
                    }
                }
            },
        },
        many => Item::fail(
            CHECK,
            name.clone(),
            format!("{} records: senders ignore them (RFC 8460 §3)", many.len()),
            "keep exactly one v=TLSRPTv1 record",
        ),
    };
    vec![item]
}

fn valid_uri(uri: &str) -> bool {
    let lower = uri.to_ascii_lowercase();
    if let Some(addr) = lower.strip_prefix("mailto:") {
        matches!(addr.rsplit_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.'))
    } else if let Some(rest) = lower.strip_prefix("https://") {
        !rest.is_empty() && !rest.contains(' ')
    } else {
        false
    }
}
