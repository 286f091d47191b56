//! Which files a `dmarc read` argument names: a file, a Maildir folder (its `cur` and
//! `new`), or a directory walked for files.

use std::io;
use std::path::{Path, PathBuf};

/// How deep a directory argument is walked (directory symlinks are never followed).
const MAX_DEPTH: usize = 8;

/// The report files under `path`, sorted; hidden files (Maildir's `.` folders, editors'
/// swap files) are skipped.
pub fn report_files(path: &Path) -> io::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    if path.join("cur").is_dir() || path.join("new").is_dir() {
        for sub in ["cur", "new"] {
            let dir = path.join(sub);
            if dir.is_dir() {
                walk(&dir, 0, &mut files)?;
            }
        }
    } else {
        walk(path, 0, &mut files)?;
    }
    files.sort();
    Ok(files)
}

fn walk(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            if depth < MAX_DEPTH {
                walk(&path, depth + 1, files)?;
            }
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            files.push(path);
        }
    }
    Ok(())
}
