//! Selecting flows for `mailward logs flows`.

use crate::flow::Flow;
use crate::time::Timestamp;

/// All given criteria must hold (an unset one always holds).
#[derive(Debug, Clone, Default)]
pub struct FlowFilter {
    /// Envelope sender contains this (case-insensitive); `@domain` matches a domain suffix.
    pub from: Option<String>,
    /// Some recipient (final or original address) contains this (case-insensitive).
    pub to: Option<String>,
    /// The client IP or some recipient's relay IP equals this.
    pub ip: Option<String>,
    /// The Message-ID equals this (angle brackets optional).
    pub message_id: Option<String>,
    /// Some recipient has this final status (`sent`, `deferred`, `bounced`, `expired`,
    /// `pending`), or `rejected` for a refused message.
    pub status: Option<String>,
    /// The flow was seen at or after this time.
    pub since: Option<Timestamp>,
    /// The flow was first seen before this time.
    pub until: Option<Timestamp>,
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

impl FlowFilter {
    pub fn matches(&self, f: &Flow) -> bool {
        if let Some(from) = &self.from
            && !f.from.as_deref().is_some_and(|x| contains_ci(x, from))
        {
            return false;
        }
        if let Some(to) = &self.to {
            let hit = f.recipients.iter().any(|r| {
                contains_ci(&r.to, to) || r.orig_to.as_deref().is_some_and(|o| contains_ci(o, to))
            });
            if !hit {
                return false;
            }
        }
        if let Some(ip) = &self.ip {
            let hit = f.client_ip.as_deref() == Some(ip.as_str())
                || f.recipients
                    .iter()
                    .any(|r| r.relay_ip.as_deref() == Some(ip.as_str()));
            if !hit {
                return false;
            }
        }
        if let Some(id) = &self.message_id {
            let want = crate::scan::unbracket(id.trim());
            if f.message_id.as_deref() != Some(want) {
                return false;
            }
        }
        if let Some(s) = &self.status
            && !f.has_status(&s.to_ascii_lowercase())
        {
            return false;
        }
        if let Some(since) = self.since
            && f.last_seen.or(f.first_seen).is_none_or(|t| t < since)
        {
            return false;
        }
        if let Some(until) = self.until
            && f.first_seen.is_none_or(|t| t >= until)
        {
            return false;
        }
        true
    }
}
