//! The quarantine: messages held by the gateway (and the originals of disarmed ones), each
//! with its reason, under `<data>/quarantine/`, until an administrator releases or deletes
//! them (`mailward quarantine list|show|release|delete`).
//!
//! One message is two files named by its queue ID: `<id>.eml`, the message as it arrived
//! (our `Received:` on top), and `<id>.json`, its [`Held`] record. Both are written to a
//! temporary name, synced and renamed, the record last: a record always has its message,
//! and a message held is durable before the sender is told `250`.

use crate::error::FilterError;
use crate::verdict::{Action, Check};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a message is in the quarantine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldKind {
    /// Held instead of delivered.
    Held,
    /// The original of a message delivered disarmed.
    DisarmedOriginal,
}

/// The record of one quarantined message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Held {
    /// The queue ID the message was given at arrival.
    pub id: String,
    pub kind: HeldKind,
    /// Seconds since 1970 when it arrived.
    pub arrived: i64,
    /// The reverse path (empty for `<>`).
    pub sender: String,
    pub rcpts: Vec<String>,
    pub check: Check,
    pub action: Action,
    /// The finding's code (`encrypted_archive`, `sandbox_suspicious`, `vba_macro`, ...).
    pub code: String,
    pub reason: String,
    pub client_ip: String,
    #[serde(default)]
    pub helo: String,
    #[serde(default)]
    pub auth_user: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    pub size: u64,
    /// Set when the message was released (the queue ID it was delivered under).
    #[serde(default)]
    pub released: Option<String>,
}

/// The quarantine directory.
#[derive(Debug, Clone)]
pub struct Quarantine {
    dir: PathBuf,
}

impl Quarantine {
    /// The quarantine in `dir` (created when missing).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Quarantine, FilterError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| FilterError::io(&dir, e))?;
        Ok(Quarantine { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps `message` with its record, durably (blocking I/O: call it off the async
    /// threads).
    pub fn put(&self, held: &Held, message: &[u8]) -> Result<(), FilterError> {
        check_id(&held.id)?;
        let record = serde_json::to_vec_pretty(held).map_err(|e| FilterError::Corrupt {
            path: self.record_path(&held.id),
            message: e.to_string(),
        })?;
        write_durably(&self.message_path(&held.id), message)?;
        write_durably(&self.record_path(&held.id), &record)?;
        sync_dir(&self.dir)
    }

    /// Every record, oldest first. A record that cannot be read is reported, not skipped.
    pub fn list(&self) -> Result<Vec<Held>, FilterError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| FilterError::io(&self.dir, e))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| FilterError::io(&self.dir, e))?;
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if check_id(id).is_err() {
                continue;
            }
            out.push(self.record(id)?);
        }
        out.sort_by(|a, b| a.arrived.cmp(&b.arrived).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The record of `id`.
    pub fn record(&self, id: &str) -> Result<Held, FilterError> {
        check_id(id)?;
        let path = self.record_path(id);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FilterError::NotQuarantined(id.to_owned()));
            }
            Err(e) => return Err(FilterError::io(&path, e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| FilterError::Corrupt {
            path,
            message: e.to_string(),
        })
    }

    /// The message of `id`, as it arrived.
    pub fn message(&self, id: &str) -> Result<Vec<u8>, FilterError> {
        check_id(id)?;
        let path = self.message_path(id);
        std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => FilterError::NotQuarantined(id.to_owned()),
            _ => FilterError::io(&path, e),
        })
    }

    /// Marks `id` released as `queue_id` (the record stays until it is deleted).
    pub fn mark_released(&self, id: &str, queue_id: &str) -> Result<(), FilterError> {
        let mut held = self.record(id)?;
        held.released = Some(queue_id.to_owned());
        let record = serde_json::to_vec_pretty(&held).map_err(|e| FilterError::Corrupt {
            path: self.record_path(id),
            message: e.to_string(),
        })?;
        write_durably(&self.record_path(id), &record)?;
        sync_dir(&self.dir)
    }

    /// Removes `id`: its record first, so a crash leaves at most an orphan message that
    /// [`Quarantine::list`] does not show.
    pub fn delete(&self, id: &str) -> Result<(), FilterError> {
        check_id(id)?;
        let record = self.record_path(id);
        match std::fs::remove_file(&record) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FilterError::NotQuarantined(id.to_owned()));
            }
            Err(e) => return Err(FilterError::io(&record, e)),
        }
        let message = self.message_path(id);
        match std::fs::remove_file(&message) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(FilterError::io(&message, e)),
        }
        sync_dir(&self.dir)
    }

    fn message_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.eml"))
    }

    fn record_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }
}

/// IDs are queue IDs: letters and digits only, so one never names a path outside the
/// directory.
fn check_id(id: &str) -> Result<(), FilterError> {
    if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(FilterError::BadId(id.to_owned()))
    }
}

fn write_durably(path: &Path, data: &[u8]) -> Result<(), FilterError> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(|e| FilterError::io(&tmp, e))?;
    f.write_all(data).map_err(|e| FilterError::io(&tmp, e))?;
    f.sync_all().map_err(|e| FilterError::io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| FilterError::io(path, e))
}

fn sync_dir(dir: &Path) -> Result<(), FilterError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| FilterError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(id: &str, arrived: i64) -> Held {
        Held {
            id: id.to_owned(),
            kind: HeldKind::Held,
            arrived,
            sender: "a@example.org".into(),
            rcpts: vec!["b@example.net".into()],
            check: Check::Attachments,
            action: Action::Quarantine,
            code: "encrypted_archive".into(),
            reason: "secret.zip: a password-protected archive".into(),
            client_ip: "192.0.2.1".into(),
            helo: "mx.example.org".into(),
            auth_user: None,
            subject: Some("invoice".into()),
            size: 10,
            released: None,
        }
    }

    #[test]
    fn held_messages_are_listed_read_released_and_deleted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = Quarantine::open(dir.path().join("quarantine")).expect("open");
        q.put(&held("B2", 20), b"second").expect("put");
        q.put(&held("A1", 10), b"first").expect("put");
        let ids: Vec<_> = q.list().expect("list").into_iter().map(|h| h.id).collect();
        assert_eq!(ids, ["A1", "B2"]);
        assert_eq!(q.message("A1").expect("message"), b"first");
        q.mark_released("A1", "Q9").expect("release");
        assert_eq!(
            q.record("A1").expect("record").released.as_deref(),
            Some("Q9")
        );
        q.delete("A1").expect("delete");
        assert!(matches!(
            q.record("A1"),
            Err(FilterError::NotQuarantined(_))
        ));
        assert!(matches!(
            q.delete("A1"),
            Err(FilterError::NotQuarantined(_))
        ));
        assert_eq!(q.list().expect("list").len(), 1);
    }

    #[test]
    fn an_id_never_names_a_path_outside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = Quarantine::open(dir.path()).expect("open");
        for bad in ["../x", "a/b", "", "a.json"] {
            assert!(
                matches!(q.message(bad), Err(FilterError::BadId(_))),
                "{bad}"
            );
        }
    }
}
