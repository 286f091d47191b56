//! One line of mailward's log read back into the catalogue's types.

use crate::catalogue::{Event, Text};
use crate::scope::Scope;
use crate::sink::Level;
use serde::Deserialize;

/// A line of mailward's JSON log: the common fields, the scope and the event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LogLine<'a> {
    /// RFC 3339, UTC.
    #[serde(default)]
    pub timestamp: Option<Text<'a>>,
    #[serde(default)]
    pub level: Option<Level>,
    #[serde(flatten)]
    pub scope: Scope<'a>,
    #[serde(flatten)]
    pub event: Event<'a>,
}

impl<'a> LogLine<'a> {
    /// Reads one line; `None` when it is not a JSON object with an `event` field of the
    /// right shape.
    pub fn parse(line: &'a str) -> Option<LogLine<'a>> {
        serde_json::from_str(line.trim_end()).ok()
    }
}
