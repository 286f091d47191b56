//! Antivirus: a ClamAV daemon over its INSTREAM protocol.
//!
//! (Being built: see the settings and the entry point below for the contract.)

use crate::verdict::{Action, Finding};
use std::path::PathBuf;
use std::time::Duration;

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddress {
    /// `host:port`.
    Tcp(String),
    Unix(PathBuf),
}

/// `[filter.antivirus]`.
#[derive(Debug, Clone)]
pub struct AntivirusSettings {
    pub clamd: ClamdAddress,
    /// clamd down or failing: `TempFail` (fail closed, the default) or `Accept`.
    pub on_failure: Action,
    pub timeout: Duration,
}

/// A clamd client.
#[derive(Debug, Clone)]
pub struct Clamd {
    pub settings: AntivirusSettings,
}

impl Clamd {
    pub fn new(settings: AntivirusSettings) -> Self {
        Clamd { settings }
    }

    /// The findings of scanning `message` (the whole message: clamd decodes MIME and
    /// archives itself).
    pub async fn check(&self, message: &[u8]) -> Vec<Finding> {
        let _ = message;
        Vec::new()
    }
}
