//! MTA-STS (RFC 8461 §3.1): one `v=STSv1` TXT record at `_mta-sts.DOMAIN` with an `id=` of
//! 1 to 32 letters and digits. The policy file (`https://mta-sts.DOMAIN/.well-known/
//! mta-sts.txt`) is not fetched by this check.

use super::report::Item;
use super::{tags, txt_with_prefix};
use crate::dns::Resolver;

const CHECK: &str = "mta-sts";

pub(crate) async fn check(resolver: &Resolver, domain: &str) -> Vec<Item> {
    let name = format!("_mta-sts.{domain}");
    let records = match txt_with_prefix(resolver, &name, "v=STSv1").await {
        Ok(r) => r,
        Err(e) => {
            return vec![Item::lookup_failed(CHECK, name, &e)];
        }
    };
    let item = match records.as_slice() {
        [] => Item::warn(
            CHECK,
            name.clone(),
            "no MTA-STS record: senders may deliver without TLS when an attacker strips STARTTLS",
            format!(
                "serve a policy at https://mta-sts.{domain}/.well-known/mta-sts.txt and publish `{name}. IN TXT \"v=STSv1; id=20260101\"`"
            ),
        ),
        [one] => match tags::parse(one) {
            Err(why) => Item::fail(
                CHECK,
                name.clone(),
                format!("syntax error: {why}"),
                "write `v=STSv1; id=ID`",
            ),
            Ok(t) => match tags::get(&t, "id") {
                Some(id)
                    if (1..=32).contains(&id.len())
                        && id.bytes().all(|b| b.is_ascii_alphanumeric()) =>
                {
                    Item::pass(
                        CHECK,
                        name.clone(),
                        format!("id={id} (the policy file itself was not fetched)"),
                    )
                }
                Some(id) => Item::fail(
                    CHECK,
                    name.clone(),
                    format!("id={id} is not 1-32 letters and digits (RFC 8461 §3.1)"),
                    "use an id such as the date, 20260101",
                ),
                None => Item::fail(
                    CHECK,
                    name.clone(),
                    "no id= tag (RFC 8461 §3.1)",
                    "add id=20260101 (change it whenever the policy changes)",
                ),
            },
        },
        many => Item::fail(
            CHECK,
            name.clone(),
            format!(
                "{} records: senders treat the domain as having no MTA-STS (RFC 8461 §3.1)",
                many.len()
            ),
            "keep exactly one v=STSv1 record",
        ),
    };
    vec![item]
}
