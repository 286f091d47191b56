//! The sandbox hook: attachments of configured types handed to an external command or HTTP
//! endpoint that returns a verdict.
//!
//! (Being built: see the settings and the entry point below for the contract.)

use crate::mime::Walk;
use crate::verdict::{Action, Finding};
use std::time::Duration;

/// How the sandbox is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hook {
    /// A program and its arguments; the file on standard input.
    Command(Vec<String>),
    /// An `http://` URL the file is POSTed to.
    Http(String),
}

/// `[filter.sandbox]`.
#[derive(Debug, Clone)]
pub struct SandboxSettings {
    pub hook: Hook,
    /// Extensions and type names handed over (`"pdf"`, `"office"`, `"archive"`).
    pub types: Vec<String>,
    pub timeout: Duration,
    /// What a timeout or a failing hook leads to (`accept` by default).
    pub on_timeout: Action,
}

/// The sandbox client with its verdict cache.
#[derive(Debug)]
pub struct Sandbox {
    pub settings: SandboxSettings,
}

impl Sandbox {
    pub fn new(settings: SandboxSettings) -> Self {
        Sandbox { settings }
    }

    /// The findings of the files of `walk` the sandbox is configured for.
    pub async fn check(&self, walk: &Walk<'_>) -> Vec<Finding> {
        let _ = walk;
        Vec::new()
    }
}
