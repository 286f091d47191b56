//! Where things live under the data directory.

use crate::error::StoreError;
use std::path::{Path, PathBuf};

/// The data directory (`[server] data_dir`, default `./mailward-data`).
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<data>/mailward.db`: accounts, aliases, queue rows, the mailbox index.
    pub fn db_path(&self) -> PathBuf {
        self.root.join("mailward.db")
    }

    /// `<data>/fulltext.db`: the full-text index of the mailboxes (a cache, rebuilt when
    /// missing).
    pub fn fulltext_path(&self) -> PathBuf {
        self.root.join("fulltext.db")
    }

    /// `<data>/spool`: one file per queued message, named by its queue ID.
    pub fn spool_dir(&self) -> PathBuf {
        self.root.join("spool")
    }

    /// `<data>/spool/tmp`: bodies still being received, too big to hold in memory. Each is
    /// renamed to `spool/<queue-id>` in the commit of its queue row; what is left here at
    /// start belongs to no acknowledged message and is deleted ([`crate::Store::recover`]).
    pub fn spool_tmp_dir(&self) -> PathBuf {
        self.spool_dir().join("tmp")
    }

    /// `<data>/spool/<queue-id>`.
    pub fn spool_file(&self, queue_id: &str) -> PathBuf {
        self.spool_dir().join(queue_id)
    }

    /// `<data>/mail/<domain>/<user>/Maildir`. Both parts were validated when the account
    /// was created (see `directory::validate_address`), so they are safe path components.
    pub fn maildir(&self, domain: &str, local: &str) -> PathBuf {
        self.root
            .join("mail")
            .join(domain)
            .join(local)
            .join("Maildir")
    }

    /// `<data>/sieve`: Sieve scripts, `<domain>/<user>/<name>.sieve` and an `active`
    /// marker per account ([`crate::SieveFiles`]).
    pub fn sieve_dir(&self) -> PathBuf {
        self.root.join("sieve")
    }

    /// Creates the directory tree (mode 0700 for the root).
    pub fn create(&self) -> Result<(), StoreError> {
        for dir in [
            self.root.clone(),
            self.spool_dir(),
            self.spool_tmp_dir(),
            self.root.join("mail"),
        ] {
            std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700));
        }
        Ok(())
    }
}
