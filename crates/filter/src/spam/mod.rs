//! The spam score: header and body rules, DNS block lists, links and senders, the
//! mail-authentication verdicts.
//!
//! (Being built: see the settings and the entry point below for the contract.)

use crate::context::Context;
use crate::mime::Walk;
use crate::verdict::{Action, Finding};
use mailward_auth::Resolver;

/// `[filter.spam]`.
#[derive(Debug, Clone)]
pub struct SpamSettings {
    pub enabled: bool,
    /// Score from which the message is marked `X-Mailward-Spam: yes`.
    pub tag: f64,
    /// Score from which it goes into Junk.
    pub junk: f64,
    /// Score from which it is refused.
    pub reject: f64,
    /// DNS block lists of client IPs (`zen.example`).
    pub dnsbl: Vec<String>,
    /// DNS block lists of domains in links (`uribl.example`).
    pub uribl: Vec<String>,
}

impl Default for SpamSettings {
    fn default() -> Self {
        SpamSettings {
            enabled: true,
            tag: 5.0,
            junk: 8.0,
            reject: 15.0,
            dnsbl: Vec::new(),
            uribl: Vec::new(),
        }
    }
}

/// The rules that matched and their sum.
#[derive(Debug, Clone, Default)]
pub struct SpamReport {
    pub findings: Vec<Finding>,
    pub score: f64,
}

impl SpamSettings {
    /// What `score` leads to.
    pub fn action(&self, score: f64) -> Action {
        if score >= self.reject {
            Action::Reject
        } else if score >= self.junk {
            Action::Junk
        } else if score >= self.tag {
            Action::Tag
        } else {
            Action::Accept
        }
    }
}

/// Scores the message.
pub async fn score(
    raw: &[u8],
    walk: &Walk<'_>,
    ctx: &Context<'_>,
    settings: &SpamSettings,
    resolver: Option<&Resolver>,
) -> SpamReport {
    let _ = (raw, walk, ctx, settings, resolver);
    SpamReport::default()
}
