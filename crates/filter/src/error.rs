//! The gateway's errors.

use std::path::PathBuf;

/// What went wrong in the gateway's own I/O (a check's failure is a [`crate::Finding`]).
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("no quarantined message {0}")]
    NotQuarantined(String),
    #[error("invalid quarantine id {0:?}")]
    BadId(String),
}

impl FilterError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FilterError::Io {
            path: path.into(),
            source,
        }
    }
}
