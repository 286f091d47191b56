//! [`SieveFiles`]: scripts as files under `<data>/sieve/<domain>/<local>/`.

use super::name::{file_name, name_of_file, validate_name};
use super::{ScriptInfo, SieveQuota, SieveScriptError};
use crate::backend::SieveScripts;
use crate::directory::validate_address;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The marker file holding the active script's name.
const ACTIVE_MARKER: &str = "active";

/// Scripts stored as files. One lock serialises changes (they are rare and quick), so a
/// quota check and the write it allows are not interleaved with another session's.
#[derive(Debug)]
pub struct SieveFiles {
    root: PathBuf,
    quota: SieveQuota,
    lock: Mutex<()>,
}

impl SieveFiles {
    /// Scripts under `root` (normally [`crate::DataDir::sieve_dir`]) with these limits.
    pub fn new(root: impl Into<PathBuf>, quota: SieveQuota) -> Self {
        SieveFiles {
            root: root.into(),
            quota,
            lock: Mutex::new(()),
        }
    }

    pub fn quota(&self) -> SieveQuota {
        self.quota
    }

    /// `<root>/<domain>/<local>`; the parts are validated as account creation does, so
    /// they are safe path components.
    fn account_dir(&self, account: &str) -> Result<PathBuf, SieveScriptError> {
        let (local, domain) = validate_address(account)
            .map_err(|_| SieveScriptError::InvalidAccount(account.to_string()))?;
        Ok(self.root.join(domain).join(local))
    }

    fn script_path(&self, account: &str, name: &str) -> Result<PathBuf, SieveScriptError> {
        validate_name(name)?;
        Ok(self.account_dir(account)?.join(file_name(name)))
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        crate::handle::lock(&self.lock)
    }

    /// Every script file of the account with its size (none when the directory is absent).
    fn scripts(&self, dir: &Path) -> Result<Vec<(String, u64)>, SieveScriptError> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(SieveScriptError::io(dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| SieveScriptError::io(dir, e))?;
            let Some(name) = entry.file_name().to_str().and_then(name_of_file) else {
                continue;
            };
            let meta = entry
                .metadata()
                .map_err(|e| SieveScriptError::io(entry.path(), e))?;
            if meta.is_file() {
                out.push((name, meta.len()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The active script's name, when the marker names a script that exists.
    fn active_name(&self, dir: &Path) -> Result<Option<String>, SieveScriptError> {
        let marker = dir.join(ACTIVE_MARKER);
        let text = match fs::read_to_string(&marker) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SieveScriptError::io(marker, e)),
        };
        let name = text.trim_end_matches('\n');
        if validate_name(name).is_err() || !dir.join(file_name(name)).is_file() {
            return Ok(None);
        }
        Ok(Some(name.to_string()))
    }

    /// RFC 5804 §2.6 and §1.3: may `name` be (re)written with `size` bytes?
    fn check_quota(&self, dir: &Path, name: &str, size: u64) -> Result<(), SieveScriptError> {
        if size > self.quota.max_script_size {
            return Err(SieveScriptError::TooBig {
                size,
                max: self.quota.max_script_size,
            });
        }
        let scripts = self.scripts(dir)?;
        let replaces = scripts.iter().any(|(n, _)| n == name);
        if !replaces && scripts.len() >= self.quota.max_scripts {
            return Err(SieveScriptError::TooManyScripts {
                max: self.quota.max_scripts,
            });
        }
        let others: u64 = scripts
            .iter()
            .filter(|(n, _)| n != name)
            .map(|(_, s)| *s)
            .sum();
        let total = others.saturating_add(size);
        if total > self.quota.max_total_size {
            return Err(SieveScriptError::OverQuota {
                total,
                max: self.quota.max_total_size,
            });
        }
        Ok(())
    }
}

impl SieveScripts for SieveFiles {
    fn put(&self, account: &str, name: &str, script: &[u8]) -> Result<(), SieveScriptError> {
        let path = self.script_path(account, name)?;
        let dir = self.account_dir(account)?;
        let _g = self.guard();
        self.check_quota(&dir, name, script.len() as u64)?;
        fs::create_dir_all(&dir).map_err(|e| SieveScriptError::io(&dir, e))?;
        write_atomically(&dir, &path, script)
    }

    fn check_space(&self, account: &str, name: &str, size: u64) -> Result<(), SieveScriptError> {
        validate_name(name)?;
        let dir = self.account_dir(account)?;
        let _g = self.guard();
        self.check_quota(&dir, name, size)
    }

    fn list(&self, account: &str) -> Result<Vec<ScriptInfo>, SieveScriptError> {
        let dir = self.account_dir(account)?;
        let _g = self.guard();
        let active = self.active_name(&dir)?;
        Ok(self
            .scripts(&dir)?
            .into_iter()
            .map(|(name, size)| ScriptInfo {
                active: active.as_deref() == Some(name.as_str()),
                name,
                size,
            })
            .collect())
    }

    fn get(&self, account: &str, name: &str) -> Result<Vec<u8>, SieveScriptError> {
        let path = self.script_path(account, name)?;
        read_script(&path, name)
    }

    fn set_active(&self, account: &str, name: Option<&str>) -> Result<(), SieveScriptError> {
        let dir = self.account_dir(account)?;
        let _g = self.guard();
        let marker = dir.join(ACTIVE_MARKER);
        match name {
            // RFC 5804 §2.8: SETACTIVE "" deactivates; no script active is not an error.
            None => match fs::remove_file(&marker) {
                Ok(()) => sync_dir(&dir),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(SieveScriptError::io(marker, e)),
            },
            Some(name) => {
                let path = self.script_path(account, name)?;
                if !path.is_file() {
                    return Err(SieveScriptError::NoSuchScript(name.to_string()));
                }
                write_atomically(&dir, &marker, format!("{name}\n").as_bytes())
            }
        }
    }

    fn delete(&self, account: &str, name: &str) -> Result<(), SieveScriptError> {
        let path = self.script_path(account, name)?;
        let dir = self.account_dir(account)?;
        let _g = self.guard();
        // RFC 5804 §2.10: the active script is not deleted.
        if self.active_name(&dir)?.as_deref() == Some(name) {
            return Err(SieveScriptError::Active(name.to_string()));
        }
        match fs::remove_file(&path) {
            Ok(()) => sync_dir(&dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(SieveScriptError::NoSuchScript(name.to_string()))
            }
            Err(e) => Err(SieveScriptError::io(path, e)),
        }
    }

    fn rename(&self, account: &str, old: &str, new: &str) -> Result<(), SieveScriptError> {
        let from = self.script_path(account, old)?;
        let to = self.script_path(account, new)?;
        let dir = self.account_dir(account)?;
        let _g = self.guard();
        if !from.is_file() {
            return Err(SieveScriptError::NoSuchScript(old.to_string()));
        }
        if old == new {
            return Ok(());
        }
        // RFC 5804 §2.11.1: an existing target is ALREADYEXISTS. A hard link does not
        // replace what is there, so two sessions cannot both win.
        match fs::hard_link(&from, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(SieveScriptError::AlreadyExists(new.to_string()));
            }
            Err(e) => return Err(SieveScriptError::io(&to, e)),
        }
        // RFC 5804 §2.11.1: renaming the active script keeps it active.
        if self.active_name(&dir)?.as_deref() == Some(old) {
            let marker = dir.join(ACTIVE_MARKER);
            write_atomically(&dir, &marker, format!("{new}\n").as_bytes())?;
        }
        fs::remove_file(&from).map_err(|e| SieveScriptError::io(&from, e))?;
        sync_dir(&dir)
    }

    fn active(&self, account: &str) -> Result<Option<(String, Vec<u8>)>, SieveScriptError> {
        let dir = self.account_dir(account)?;
        let Some(name) = self.active_name(&dir)? else {
            return Ok(None);
        };
        match read_script(&dir.join(file_name(&name)), &name) {
            Ok(bytes) => Ok(Some((name, bytes))),
            // Deleted or renamed between the two reads: as if none were active.
            Err(SieveScriptError::NoSuchScript(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn read_script(path: &Path, name: &str) -> Result<Vec<u8>, SieveScriptError> {
    match fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(SieveScriptError::NoSuchScript(name.to_string()))
        }
        Err(e) => Err(SieveScriptError::io(path, e)),
    }
}

/// Writes `path` whole or not at all: a temp file in the same directory, fsynced, renamed
/// over the target, and the directory fsynced.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), SieveScriptError> {
    let mut rnd = [0u8; 8];
    let _ = getrandom::getrandom(&mut rnd);
    let tmp = dir.join(format!(
        ".tmp-{}-{:016x}",
        std::process::id(),
        u64::from_le_bytes(rnd)
    ));
    let result = (|| {
        let mut f = fs::File::create(&tmp).map_err(|e| SieveScriptError::io(&tmp, e))?;
        f.write_all(bytes)
            .map_err(|e| SieveScriptError::io(&tmp, e))?;
        f.sync_all().map_err(|e| SieveScriptError::io(&tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| SieveScriptError::io(path, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), SieveScriptError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| SieveScriptError::io(dir, e))
}
