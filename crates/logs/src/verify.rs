//! Checking reconstructed flows against the traffic a test sent.
//!
//! Used by the real-Postfix integration test, and meant for the mailward end-to-end test: run
//! `mailward serve`, send known messages, read its JSON log back with `mailward logs`, and call
//! [`flows_match_sent`] (see `tests/mailward_log_e2e.rs`).

use crate::event::Status;
use crate::flow::Flow;

/// One message a test sent, and what it expects to have happened to each recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    /// Message-ID without angle brackets (how flows are matched to what was sent).
    pub message_id: String,
    pub from: String,
    pub client_ip: Option<String>,
    /// (recipient, expected final status, expected to leave for another host)
    pub recipients: Vec<(String, Status, bool)>,
}

/// Every sent message must be exactly one flow (never split, never counted twice) with the
/// sender, client and each recipient's status and destination expected. Returns the mismatches
/// (empty when all is well).
pub fn flows_match_sent(flows: &[Flow], sent: &[SentMessage]) -> Vec<String> {
    let mut bad = Vec::new();
    for m in sent {
        let matching: Vec<&Flow> = flows
            .iter()
            .filter(|f| {
                f.message_id.as_deref() == Some(m.message_id.as_str())
                    && f.notification_of.is_none()
            })
            .collect();
        let f = match matching.as_slice() {
            [f] => *f,
            [] => {
                bad.push(format!("<{}>: no flow", m.message_id));
                continue;
            }
            many => {
                bad.push(format!(
                    "<{}>: {} flows (counted more than once): {:?}",
                    m.message_id,
                    many.len(),
                    many.iter().map(|f| &f.queue_ids).collect::<Vec<_>>()
                ));
                continue;
            }
        };
        if f.from.as_deref() != Some(m.from.as_str()) {
            bad.push(format!(
                "<{}>: from {:?}, sent {:?}",
                m.message_id, f.from, m.from
            ));
        }
        if m.client_ip.is_some() && f.client_ip != m.client_ip {
            bad.push(format!(
                "<{}>: client {:?}, sent from {:?}",
                m.message_id, f.client_ip, m.client_ip
            ));
        }
        if f.recipients.len() != m.recipients.len() {
            bad.push(format!(
                "<{}>: {} recipients in the flow, {} sent",
                m.message_id,
                f.recipients.len(),
                m.recipients.len()
            ));
        }
        for (to, status, remote) in &m.recipients {
            match f.recipients.iter().find(|r| r.to.eq_ignore_ascii_case(to)) {
                None => bad.push(format!("<{}>: recipient {to} missing", m.message_id)),
                Some(r) => {
                    if r.status != *status {
                        bad.push(format!(
                            "<{}>: {to} is {:?}, expected {status:?}",
                            m.message_id, r.status
                        ));
                    }
                    if r.status == Status::Sent && r.remote != *remote {
                        bad.push(format!(
                            "<{}>: {to} remote={} expected {remote}",
                            m.message_id, r.remote
                        ));
                    }
                }
            }
        }
    }
    bad
}
