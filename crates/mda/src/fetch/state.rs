//! What one `[[fetch]]` entry has taken from its remote mailbox, kept durably in
//! `<data>/fetch/<name>.state` so that nothing is fetched twice or lost across restarts.
//!
//! An append-only text file, one record a line, each line written and fsynced before the
//! step it guards:
//! ```text
//! mailward-fetch-state 1
//! pending <key> <queue-id> <arrival-ms>   before the message is queued
//! done <key> <size> <message-id or ->     after it is durably queued; before any remote delete
//! ```
//! A key is the POP3 UIDL (RFC 1939 §7), or `<uidvalidity>.<uid>` for IMAP (RFC 9051
//! §2.3.1.1). A `pending` without `done` (killed in between) is queued again under the
//! same queue ID and arrival time: when the first copy was delivered already, the store
//! recognises that delivery (its key is queue ID, recipient and account), so the retry
//! makes no duplicate. A line cut short by a crash is ignored.

use super::error::FetchError;
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

const HEADER: &str = "mailward-fetch-state 1";

/// A message queued but not yet recorded as done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub queue_id: String,
    pub arrival_ms: i64,
}

/// The loaded state and its file, open for appending.
pub struct State {
    path: PathBuf,
    file: File,
    done: HashSet<String>,
    pending: HashMap<String, Pending>,
    /// (size, Message-ID) of every message done, to recognise messages again after an
    /// IMAP UIDVALIDITY change.
    contents: HashSet<(u64, String)>,
}

/// A Message-ID as stored: printable ASCII without spaces, at most 250 characters.
pub fn clean_message_id(id: &str) -> String {
    id.chars()
        .take(250)
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect()
}

fn is_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 80 && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

impl State {
    /// Opens (or creates) the state file at `path`.
    pub fn open(path: &Path) -> Result<State, FetchError> {
        let err = |e: std::io::Error| FetchError::State(path.display().to_string(), e.to_string());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let text = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(err(e)),
        };
        let mut state = State {
            path: path.to_path_buf(),
            file: OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(err)?,
            done: HashSet::new(),
            pending: HashMap::new(),
            contents: HashSet::new(),
        };
        if text.is_empty() {
            state.append(HEADER)?;
            if let Some(dir) = path.parent() {
                File::open(dir).and_then(|d| d.sync_all()).map_err(err)?;
            }
        } else {
            state.load(&text)?;
            // A last line cut short by a crash is dropped, so the next record starts on a
            // line of its own.
            if !text.ends_with(b"\n") {
                let keep = text.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                state
                    .file
                    .set_len(keep as u64)
                    .and_then(|()| state.file.sync_data())
                    .map_err(err)?;
            }
        }
        Ok(state)
    }

    fn load(&mut self, text: &[u8]) -> Result<(), FetchError> {
        let mut lines = text.split(|&b| b == b'\n');
        if lines.next() != Some(HEADER.as_bytes()) {
            return Err(FetchError::State(
                self.path.display().to_string(),
                "not a mailward fetch state file (version 1)".into(),
            ));
        }
        let complete = text.ends_with(b"\n");
        let all: Vec<&[u8]> = lines.collect();
        let count = all.len();
        for (i, line) in all.into_iter().enumerate() {
            // The last piece has no newline after it: cut short by a crash (or empty).
            if i + 1 == count && !complete {
                break;
            }
            let Ok(line) = std::str::from_utf8(line) else {
                continue;
            };
            let fields: Vec<&str> = line.split(' ').collect();
            match fields.as_slice() {
                ["pending", key, queue_id, arrival] if is_key(key) => {
                    if let Ok(arrival_ms) = arrival.parse() {
                        self.pending.insert(
                            key.to_string(),
                            Pending {
                                queue_id: queue_id.to_string(),
                                arrival_ms,
                            },
                        );
                    }
                }
                ["done", key, size, mid] if is_key(key) => {
                    self.pending.remove(*key);
                    self.done.insert(key.to_string());
                    if let (Ok(size), false) = (size.parse(), *mid == "-") {
                        self.contents.insert((size, mid.to_string()));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn append(&mut self, line: &str) -> Result<(), FetchError> {
        let err =
            |e: std::io::Error| FetchError::State(self.path.display().to_string(), e.to_string());
        self.file
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(err)
    }

    pub fn is_done(&self, key: &str) -> bool {
        self.done.contains(key)
    }

    pub fn pending(&self, key: &str) -> Option<&Pending> {
        self.pending.get(key)
    }

    /// True when a message of this size and Message-ID was taken before (under any key).
    pub fn has_content(&self, size: u64, message_id: &str) -> bool {
        self.contents
            .contains(&(size, clean_message_id(message_id)))
    }

    /// True when a message taken before has a key not starting with `prefix` (an IMAP
    /// mailbox whose UIDVALIDITY changed since).
    pub fn has_keys_outside(&self, prefix: &str) -> bool {
        self.done.iter().any(|k| !k.starts_with(prefix))
    }

    /// Records, durably, that `key` is about to be queued as `queue_id`.
    pub fn begin(&mut self, key: &str, pending: Pending) -> Result<(), FetchError> {
        if !is_key(key) || !pending.queue_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(FetchError::Protocol(format!(
                "unusable message key {key:?}"
            )));
        }
        self.append(&format!(
            "pending {key} {} {}",
            pending.queue_id, pending.arrival_ms
        ))?;
        self.pending.insert(key.to_string(), pending);
        Ok(())
    }

    /// Records, durably, that `key` is queued (or was recognised as taken already).
    pub fn finish(
        &mut self,
        key: &str,
        size: u64,
        message_id: Option<&str>,
    ) -> Result<(), FetchError> {
        if !is_key(key) {
            return Err(FetchError::Protocol(format!(
                "unusable message key {key:?}"
            )));
        }
        let mid = message_id
            .map(clean_message_id)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "-".into());
        self.append(&format!("done {key} {size} {mid}"))?;
        self.pending.remove(key);
        self.done.insert(key.to_string());
        if mid != "-" {
            self.contents.insert((size, mid));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(q: &str) -> Pending {
        Pending {
            queue_id: q.into(),
            arrival_ms: 1000,
        }
    }

    #[test]
    fn records_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fetch/a.state");
        let mut s = State::open(&path).unwrap();
        s.begin("u1", pending("Q1")).unwrap();
        s.finish("u1", 10, Some("<a@b>")).unwrap();
        s.begin("u2", pending("Q2")).unwrap();
        drop(s);
        let s = State::open(&path).unwrap();
        assert!(s.is_done("u1"));
        assert!(!s.is_done("u2"));
        assert_eq!(s.pending("u2"), Some(&pending("Q2")));
        assert!(s.has_content(10, "<a@b>"));
        assert!(!s.has_content(11, "<a@b>"));
    }

    #[test]
    fn regress_a_line_cut_short_by_a_crash_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.state");
        std::fs::write(&path, format!("{HEADER}\ndone u1 5 -\ndone u2 5")).unwrap();
        let mut s = State::open(&path).unwrap();
        assert!(s.is_done("u1"));
        assert!(!s.is_done("u2"));
        s.finish("u3", 7, None).unwrap();
        drop(s);
        let s = State::open(&path).unwrap();
        assert!(s.is_done("u3"));
        assert!(!s.is_done("u2"));
    }

    #[test]
    fn another_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.state");
        std::fs::write(&path, "something else\n").unwrap();
        assert!(State::open(&path).is_err());
    }

    #[test]
    fn keys_with_spaces_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = State::open(&dir.path().join("a.state")).unwrap();
        assert!(s.begin("a b", pending("Q")).is_err());
        assert!(s.finish("", 1, None).is_err());
    }
}
