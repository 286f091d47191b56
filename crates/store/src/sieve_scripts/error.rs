//! What a script operation can refuse, each mapped to its RFC 5804 response code by the
//! ManageSieve server.

use std::path::PathBuf;

/// Errors of [`crate::backend::SieveScripts`].
#[derive(Debug, thiserror::Error)]
pub enum SieveScriptError {
    /// RFC 5804 §1.6: the name has a control character, a `/`, is empty or too long.
    #[error("invalid script name {0:?}")]
    InvalidName(String),
    #[error("invalid account {0:?}")]
    InvalidAccount(String),
    /// RFC 5804 §1.3 `NONEXISTENT`.
    #[error("no script named {0:?}")]
    NoSuchScript(String),
    /// RFC 5804 §2.10: the active script is not deleted (`ACTIVE`).
    #[error("script {0:?} is active")]
    Active(String),
    /// RFC 5804 §2.11.1 `ALREADYEXISTS`.
    #[error("a script named {0:?} already exists")]
    AlreadyExists(String),
    /// RFC 5804 §1.3 `QUOTA/MAXSCRIPTS`.
    #[error("too many scripts (at most {max})")]
    TooManyScripts { max: usize },
    /// RFC 5804 §1.3 `QUOTA/MAXSIZE`.
    #[error("script too big ({size} bytes, at most {max})")]
    TooBig { size: u64, max: u64 },
    /// RFC 5804 §1.3 `QUOTA`: all scripts together.
    #[error("over the scripts' quota ({total} bytes, at most {max})")]
    OverQuota { total: u64, max: u64 },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SieveScriptError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SieveScriptError::Io {
            path: path.into(),
            source,
        }
    }

    /// True when trying again later may succeed (`TRYLATER`): the disk, not the request.
    pub fn is_temporary(&self) -> bool {
        matches!(self, SieveScriptError::Io { .. })
    }
}
