//! Errors of the I/O edge (the parsers themselves never fail: they return `None`).

use std::path::PathBuf;

/// Opening or reading a log failed. The message names the file and the cause in one line (the
/// cause is not exposed again as a `source`, so `anyhow`'s `{:#}` prints it once).
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    #[error("{}: {err}", path.display())]
    Open { path: PathBuf, err: std::io::Error },
    #[error("{}: read error: {err}", path.display())]
    Read { path: PathBuf, err: std::io::Error },
}
