//! Content disarm and reconstruction: Office macros, PDF actions and scripts, HTML scripts
//! removed, the MIME message rebuilt around the disarmed parts.
//!
//! (Being built: see the settings and the entry point below for the contract.)

use crate::mime::Walk;
use crate::verdict::Finding;

/// `[filter.disarm]`.
#[derive(Debug, Clone)]
pub struct DisarmSettings {
    pub enabled: bool,
    pub office: bool,
    pub pdf: bool,
    pub html: bool,
}

impl Default for DisarmSettings {
    fn default() -> Self {
        DisarmSettings {
            enabled: true,
            office: true,
            pdf: true,
            html: true,
        }
    }
}

/// A message with parts disarmed.
#[derive(Debug, Clone)]
pub struct Disarmed {
    /// The rebuilt message (header included).
    pub message: Vec<u8>,
    /// What was removed, one finding per part (`Action::Modify`), or held when a part
    /// could not be disarmed.
    pub findings: Vec<Finding>,
}

/// `raw` disarmed, or `None` when nothing in it needed it.
pub fn disarm(raw: &[u8], walk: &Walk<'_>, settings: &DisarmSettings) -> Option<Disarmed> {
    let _ = (raw, walk, settings);
    None
}
