//! Where mail for a domain goes (RFC 5321 §5.1): the MX records in preference order,
//! random among equal preferences, the domain itself when it has no MX (the implicit MX),
//! nowhere for a null MX (RFC 7505) or a domain that does not exist, and never back to this
//! server: a list that names ourselves is cut there (§5.1), and a domain whose best MX is
//! ourselves is a loop.
//!
//! Pure logic over what DNS answered: the resolver that asks is separate, so this is tested
//! without one.

pub use mailward_auth::{MxAnswer, MxRecord};

/// One host to try, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Lower case, no trailing dot.
    pub host: String,
    pub preference: u16,
    /// True for the domain itself when it has no MX (RFC 5321 §5.1 implicit MX).
    pub implicit: bool,
}

/// Why there is nowhere to send: each is a permanent failure of every recipient at the
/// domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoRoute {
    /// RFC 7505 §3: a single MX of preference 0 and exchange "." (`556 5.1.10`).
    #[error("{0} does not accept mail (null MX, RFC 7505)")]
    NullMx(String),
    /// NXDOMAIN (`550 5.1.2`).
    #[error("{0}: no such domain")]
    NoSuchDomain(String),
    /// Our own name is the best MX (Postfix: "mail for ... loops back to myself").
    #[error("mail for {0} loops back to myself")]
    LoopsBack(String),
}

/// An exchange name compared as DNS compares names: ASCII case ignored, the trailing dot
/// dropped.
fn canonical(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The hosts to try for `domain`, in order. `ourselves` holds the names this server answers
/// to (its hostname and any alias); `shuffle` reorders each run of equal preference (RFC
/// 5321 §5.1: "randomize" them to spread the load; tests pass a fixed order).
pub fn plan(
    domain: &str,
    answer: &MxAnswer,
    ourselves: &[String],
    mut shuffle: impl FnMut(&mut [Hop]),
) -> Result<Vec<Hop>, NoRoute> {
    let domain = canonical(domain);
    let records = match answer {
        MxAnswer::NoSuchDomain => return Err(NoRoute::NoSuchDomain(domain)),
        MxAnswer::NoRecords => {
            return Ok(vec![Hop {
                host: domain,
                preference: 0,
                implicit: true,
            }]);
        }
        MxAnswer::Records(r) => r,
    };
    // RFC 7505 §3: a null MX is the only record; with others beside it the "." entry is
    // ignored as an invalid exchange (§4.3 says such mixes must not be published).
    if records.len() == 1
        && records
            .first()
            .is_some_and(|r| r.preference == 0 && canonical(&r.exchange).is_empty())
    {
        return Err(NoRoute::NullMx(domain));
    }
    let mut hops: Vec<Hop> = records
        .iter()
        .map(|r| Hop {
            host: canonical(&r.exchange),
            preference: r.preference,
            implicit: false,
        })
        .filter(|h| !h.host.is_empty())
        .collect();
    hops.sort_by_key(|h| h.preference);
    // A host named twice is tried once, at its best preference.
    let mut seen = std::collections::HashSet::new();
    hops.retain(|h| seen.insert(h.host.clone()));
    // RFC 5321 §5.1: if this server is in the list, only hosts more preferred than it may
    // be tried.
    let ours: Vec<String> = ourselves.iter().map(|n| canonical(n)).collect();
    if let Some(own) = hops
        .iter()
        .filter(|h| ours.contains(&h.host))
        .map(|h| h.preference)
        .min()
    {
        hops.retain(|h| h.preference < own);
        if hops.is_empty() {
            return Err(NoRoute::LoopsBack(domain));
        }
    }
    let mut start = 0;
    while start < hops.len() {
        let pref = hops.get(start).map(|h| h.preference);
        let end = hops
            .iter()
            .skip(start)
            .position(|h| Some(h.preference) != pref)
            .map_or(hops.len(), |n| start + n);
        if let Some(run) = hops.get_mut(start..end) {
            shuffle(run);
        }
        start = end;
    }
    if hops.is_empty() {
        // Only unusable exchanges: as if there were no MX at all.
        return Ok(vec![Hop {
            host: domain,
            preference: 0,
            implicit: true,
        }]);
    }
    Ok(hops)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mx(preference: u16, exchange: &str) -> MxRecord {
        MxRecord {
            preference,
            exchange: exchange.into(),
        }
    }

    fn hosts(r: &Result<Vec<Hop>, NoRoute>) -> Vec<&str> {
        r.as_ref()
            .map(|v| v.iter().map(|h| h.host.as_str()).collect())
            .unwrap_or_default()
    }

    fn keep(_: &mut [Hop]) {}

    #[test]
    fn records_go_in_preference_order_and_names_are_canonical() {
        let answer = MxAnswer::Records(vec![
            mx(20, "Backup.B.test."),
            mx(10, "mx1.b.test."),
            mx(10, "MX1.b.test"),
            mx(30, "mx3.b.test"),
            mx(40, "mx1.b.test"),
        ]);
        let r = plan("B.test", &answer, &[], keep);
        assert_eq!(hosts(&r), ["mx1.b.test", "backup.b.test", "mx3.b.test"]);
    }

    #[test]
    fn equal_preferences_are_shuffled_together_and_only_together() {
        let answer = MxAnswer::Records(vec![
            mx(10, "a.test"),
            mx(10, "b.test"),
            mx(20, "c.test"),
            mx(20, "d.test"),
            mx(5, "first.test"),
        ]);
        let mut runs = Vec::new();
        let r = plan("x.test", &answer, &[], |run: &mut [Hop]| {
            runs.push(run.len());
            run.reverse();
        });
        assert_eq!(runs, [1, 2, 2]);
        assert_eq!(
            hosts(&r),
            ["first.test", "b.test", "a.test", "d.test", "c.test"]
        );
    }

    #[test]
    fn no_mx_means_the_domain_itself() {
        let r = plan("c.test.", &MxAnswer::NoRecords, &[], keep);
        assert_eq!(
            r,
            Ok(vec![Hop {
                host: "c.test".into(),
                preference: 0,
                implicit: true
            }])
        );
    }

    #[test]
    fn null_mx_and_missing_domains_fail_permanently() {
        let null = MxAnswer::Records(vec![mx(0, ".")]);
        assert_eq!(
            plan("n.test", &null, &[], keep),
            Err(NoRoute::NullMx("n.test".into()))
        );
        assert_eq!(
            plan("gone.test", &MxAnswer::NoSuchDomain, &[], keep),
            Err(NoRoute::NoSuchDomain("gone.test".into()))
        );
        // A "." beside real records is just an unusable entry.
        let mixed = MxAnswer::Records(vec![mx(0, "."), mx(10, "mx.n.test")]);
        assert_eq!(hosts(&plan("n.test", &mixed, &[], keep)), ["mx.n.test"]);
    }

    #[test]
    fn the_list_is_cut_where_we_appear_and_our_own_best_mx_is_a_loop() {
        let ours = vec!["mx2.d.test".to_string()];
        let answer = MxAnswer::Records(vec![
            mx(10, "mx1.d.test"),
            mx(20, "MX2.d.test."),
            mx(20, "other20.d.test"),
            mx(30, "mx3.d.test"),
        ]);
        assert_eq!(hosts(&plan("d.test", &answer, &ours, keep)), ["mx1.d.test"]);
        let best = MxAnswer::Records(vec![mx(10, "mx2.d.test"), mx(20, "mx3.d.test")]);
        assert_eq!(
            plan("d.test", &best, &ours, keep),
            Err(NoRoute::LoopsBack("d.test".into()))
        );
    }
}
