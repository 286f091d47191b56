//! The entry point: raw message bytes in, [`Report`] out. Pure and I/O-free.

use crate::report::Report;

/// Knobs for one analysis run.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// "Now" as Unix seconds, for the `future-date` finding (the caller reads the clock).
    pub now: i64,
}

/// Analyses one message (or bare header text). Never panics; problems become `warnings`.
pub fn analyze(raw: &[u8], source: &str, _opts: &AnalyzeOptions) -> Report {
    Report {
        source: source.to_string(),
        message: crate::report::MessageInfo {
            header_bytes: raw.len(),
            ..Default::default()
        },
        ..Default::default()
    }
}
