//! The file block list: by extension and by real type, inside archives too.
//!
//! (Being built: see the settings and the entry point below for the contract.)

use crate::context::Context;
use crate::mime::Walk;
use crate::verdict::{Action, Finding};
use std::collections::HashMap;

/// `[filter.attachments]`.
#[derive(Debug, Clone)]
pub struct AttachmentSettings {
    pub enabled: bool,
    /// Extensions (`"js"`) and type names (`"executable"`) blocked on top of the defaults.
    pub block: Vec<String>,
    /// Extensions and type names let through although a default blocks them.
    pub allow: Vec<String>,
    /// Rules for mail to one recipient domain, on top of the above.
    pub domains: HashMap<String, DomainRules>,
    /// What a blocked file leads to (`reject` by default).
    pub action: Action,
    /// What a password-protected archive leads to (`quarantine` by default).
    pub encrypted: Action,
    pub archives: ArchiveLimits,
}

/// Per-domain additions.
#[derive(Debug, Clone, Default)]
pub struct DomainRules {
    pub block: Vec<String>,
    pub allow: Vec<String>,
}

/// Bounds of the look into archives (zip-bomb safe).
#[derive(Debug, Clone, Copy)]
pub struct ArchiveLimits {
    /// Archives inside archives followed.
    pub max_depth: usize,
    /// Entries listed over all archives of one message.
    pub max_entries: usize,
    /// Bytes expanded over all archives of one message.
    pub max_expanded: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 3,
            max_entries: 10_000,
            max_expanded: 64 << 20,
        }
    }
}

impl Default for AttachmentSettings {
    fn default() -> Self {
        AttachmentSettings {
            enabled: true,
            block: Vec::new(),
            allow: Vec::new(),
            domains: HashMap::new(),
            action: Action::Reject,
            encrypted: Action::Quarantine,
            archives: ArchiveLimits::default(),
        }
    }
}

/// The findings on `walk`'s files for mail to `ctx`'s recipients.
pub fn check(walk: &Walk<'_>, ctx: &Context<'_>, settings: &AttachmentSettings) -> Vec<Finding> {
    let _ = (walk, ctx, settings);
    Vec::new()
}
