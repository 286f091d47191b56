//! Checking reconstructed flows against the traffic a test sent.
//!
//! Used by the real-Postfix integration test, the fixture test of mailward's log format
//! (`tests/mailward_log_e2e.rs`) and the end-to-end test of the binary
//! (`crates/mailward/tests/logs_from_serve.rs`: `mailward serve` writes the log, `mailward
//! logs flows --json` reads it back, [`flows_match_sent`] compares).

use crate::analyze::Analyzer;
use crate::error::LogsError;
use crate::event::Status;
use crate::flow::Flow;
use crate::input::Input;
use crate::summary::Summary;
use std::path::Path;

/// One message a test sent, and what it expects to have happened to each recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    /// Message-ID without angle brackets (how flows are matched to what was sent).
    pub message_id: String,
    pub from: String,
    pub client_ip: Option<String>,
    /// The SASL user it was submitted as (`None`: not authenticated).
    pub sasl_user: Option<String>,
    /// The queue IDs the server answered with, in order (empty: not known, not checked).
    pub queue_ids: Vec<String>,
    /// (recipient, expected final status, expected to leave for another host)
    pub recipients: Vec<(String, Status, bool)>,
}

/// Reads a log (any format, one file) into its flows, summary and unparsed lines, as
/// `mailward logs` does.
pub fn flows_from_log(path: &Path) -> Result<(Vec<Flow>, Summary, Vec<String>), LogsError> {
    let input = Input::open(path, None)?;
    let mut an = Analyzer::new(false, true, true);
    let mut flows = Vec::new();
    an.read(vec![input], 1, &mut |f| flows.push(f), &mut || {})?;
    let (summary, unparsed) = an.finish(10, &mut |f| flows.push(f));
    Ok((flows, summary, unparsed))
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
        if f.sasl_user != m.sasl_user {
            bad.push(format!(
                "<{}>: SASL user {:?}, sent as {:?}",
                m.message_id, f.sasl_user, m.sasl_user
            ));
        }
        if !m.queue_ids.is_empty() && f.queue_ids != m.queue_ids {
            bad.push(format!(
                "<{}>: queue IDs {:?}, the server answered {:?}",
                m.message_id, f.queue_ids, m.queue_ids
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
