//! The errors of mail access a client can cause (the servers answer them with `NO`/`-ERR`).

use crate::error::StoreError;
use crate::flags::FlagError;
use crate::folder_name::NameError;

/// Errors of mailbox operations that a client caused (the server turns them into `NO`).
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("no such folder {0:?}")]
    NoSuchFolder(String),
    #[error("folder {0:?} already exists")]
    FolderExists(String),
    #[error("{0}")]
    BadName(#[from] NameError),
    #[error("{0}")]
    BadFlag(#[from] FlagError),
    #[error("folder {0:?} has subfolders; delete them first")]
    HasChildren(String),
    #[error("INBOX cannot be deleted")]
    InboxUndeletable,
    #[error("the message has been expunged")]
    Expunged,
    #[error("over quota ({used} + {size} > {quota} bytes)")]
    OverQuota { used: u64, size: u64, quota: u64 },
    /// RFC 5464 §4.3 `NO [METADATA MAXSIZE n]`.
    #[error("annotation value larger than {max} octets")]
    MetadataTooBig { max: u64 },
    /// RFC 5464 §4.3 `NO [METADATA TOOMANY]`.
    #[error("too many annotations (at most {max} per account)")]
    MetadataTooMany { max: u64 },
    /// An entry name or a `/private/specialuse` value the store cannot keep.
    #[error("invalid annotation: {0}")]
    MetadataInvalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for AccessError {
    fn from(e: rusqlite::Error) -> Self {
        AccessError::Store(StoreError::Db(e))
    }
}
