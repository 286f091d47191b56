//! What can go wrong recording evaluations or writing a report.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("compressing the report: {0}")]
    Compress(std::io::Error),
    #[error("writing the report message: {0}")]
    Message(std::io::Error),
    #[error("not a period (YYYY-MM-DD, today or yesterday): {0:?}")]
    BadPeriod(String),
}

impl AggregateError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> AggregateError {
        AggregateError::Io {
            path: path.into(),
            source,
        }
    }
}
