//! Counting a period's evaluations into report rows: one report per policy domain
//! (RFC 9990 §2: a report covers one policy domain), one row per distinct source IP,
//! disposition, results and identifiers, with its message count (RFC 9990 §3.1.1.5).

use super::evaluation::{Evaluation, Row};
use crate::verify::PublishedPolicy;
use std::collections::BTreeMap;

/// What one report would hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainAggregate {
    /// The policy as last seen in the period (a record changed during the day is reported
    /// as it stood at the end, RFC 9990 §3.1.1.4 allows one `policy_published`).
    pub policy: PublishedPolicy,
    /// Rows in a stable order with their counts.
    pub rows: Vec<(Row, u32)>,
}

impl DomainAggregate {
    /// Messages in the report.
    pub fn messages(&self) -> u64 {
        self.rows.iter().map(|(_, n)| u64::from(*n)).sum()
    }
}

/// Groups `evaluations` per policy domain (only `domain` when given), sorted by domain.
pub fn aggregate(
    evaluations: impl IntoIterator<Item = Evaluation>,
    domain: Option<&str>,
) -> Vec<DomainAggregate> {
    let wanted = domain.map(|d| d.trim_end_matches('.').to_ascii_lowercase());
    let mut domains: BTreeMap<String, (i64, PublishedPolicy, BTreeMap<Row, u32>)> = BTreeMap::new();
    for e in evaluations {
        if wanted.as_ref().is_some_and(|w| *w != e.policy.domain) {
            continue;
        }
        let entry = domains
            .entry(e.policy.domain.clone())
            .or_insert_with(|| (e.at, e.policy.clone(), BTreeMap::new()));
        if e.at >= entry.0 {
            entry.0 = e.at;
            entry.1 = e.policy;
        }
        let count = entry.2.entry(e.row).or_insert(0);
        *count = count.saturating_add(1);
    }
    domains
        .into_values()
        .map(|(_, policy, rows)| DomainAggregate {
            policy,
            rows: rows.into_iter().collect(),
        })
        .collect()
}
