//! Errors of the store.

use std::path::PathBuf;

/// Everything that can go wrong in the data directory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database schema version {found} is newer than this mailward understands ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("invalid address {0:?}")]
    InvalidAddress(String),
    #[error(
        "domain {0:?} is not served here (add it as [[domains]] name = ... in the configuration)"
    )]
    UnknownDomain(String),
    #[error("account {0} already exists")]
    AccountExists(String),
    #[error("no such account {0}")]
    NoSuchAccount(String),
    #[error("no such queue entry {0}")]
    NoSuchQueueEntry(String),
    #[error("mailbox over quota ({used} + {size} > {quota} bytes)")]
    OverQuota { used: u64, size: u64, quota: u64 },
    #[error("password hashing: {0}")]
    Password(String),
    #[error("queue record: {0}")]
    Record(#[from] serde_json::Error),
    #[error("the store's writer has stopped")]
    WriterGone,
    /// A cache file (the full-text index) is not what this build writes; it is rebuilt.
    #[error("{0}")]
    Corrupt(String),
}

impl StoreError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }

    /// True when retrying later may succeed (disk full, lock contention, quota).
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            StoreError::Io { .. }
                | StoreError::Db(_)
                | StoreError::OverQuota { .. }
                | StoreError::WriterGone
        )
    }
}
