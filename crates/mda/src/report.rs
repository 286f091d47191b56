//! Which delivery status notifications an attempt owes the sender (RFC 3461 §6.2), and
//! queuing them: failures (unless NOTIFY excludes FAILURE), delays after the warning time
//! (once, when NOTIFY allows DELAY), successes when NOTIFY=SUCCESS asked (`relayed` when the
//! next server could not pass the request on). Never to the null sender (§6.2: a report
//! about a report would loop).

use mailward_message::dsn::{self, Action, RecipientReport};
use mailward_store::queue::{Envelope, QueueRcpt};

/// RFC 3461 §4.1: NOTIFY absent means FAILURE (and DELAY at our discretion, which we
/// take); NEVER means nothing.
pub fn wants(rcpt: &QueueRcpt, what: &str) -> bool {
    if rcpt.notify.is_empty() {
        return what != "SUCCESS";
    }
    rcpt.notify.iter().any(|n| n.eq_ignore_ascii_case(what))
}

/// What the report says about one recipient, gathered during the attempt.
#[derive(Debug, Clone)]
pub struct Line {
    pub index: usize,
    pub action: Action,
    pub status: String,
    pub remote_mta: Option<String>,
    pub reply: Option<String>,
    /// Why, when no server replied.
    pub note: Option<String>,
}

/// The report for `lines`, a whole message for the null-sender envelope to `env.sender`;
/// `None` when there is nothing to report or nobody to report to.
pub fn build(
    env: &Envelope,
    lines: &[Line],
    reporting_mta: &str,
    original: &[u8],
    now: i64,
    retry_until: i64,
) -> Option<Vec<u8>> {
    if env.sender.is_empty() || lines.is_empty() {
        return None;
    }
    let recipients: Vec<RecipientReport> = lines
        .iter()
        .filter_map(|l| {
            let r = env.rcpts.get(l.index)?;
            Some(RecipientReport {
                final_recipient: r.address.clone(),
                original_recipient: r.orcpt.clone(),
                action: l.action,
                status: l.status.clone(),
                remote_mta: l.remote_mta.as_ref().map(|m| host_of_relay(m)),
                smtp_reply: l.reply.clone(),
                last_attempt: Some(now),
                will_retry_until: (l.action == Action::Delayed).then_some(retry_until),
                note: l.note.clone().or_else(|| r.last_error.clone()),
            })
        })
        .collect();
    let boundary = format!("{}/{}/{}", env.id, now, lines.len());
    Some(dsn::build(&dsn::Report {
        reporting_mta,
        queue_id: &env.id,
        arrival: env.created,
        envid: env.envid.as_deref(),
        sender: &env.sender,
        recipients: &recipients,
        ret_full: env.ret.as_deref().map(|r| r.eq_ignore_ascii_case("FULL")),
        original,
        now,
        boundary: &boundary,
    }))
}

/// `mx.b.test` out of `mx.b.test[192.0.2.1]:25` (RFC 3464 §2.3.5 wants a host name).
fn host_of_relay(relay: &str) -> String {
    relay.split('[').next().unwrap_or(relay).to_string()
}
