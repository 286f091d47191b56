//! The evaluations on disk: `<dmarc dir>/evaluations/YYYY-MM-DD.jsonl`, one JSON object
//! per line, appended. A crash can leave the last line torn: a reader skips lines that do
//! not parse, and the next append first ends the torn line so the new ones stay whole.

use super::error::AggregateError;
use super::evaluation::Evaluation;
use super::period::Period;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A line longer than this is not one of ours: it is skipped unread.
const MAX_LINE: usize = 64 * 1024;

/// `<dmarc dir>/evaluations`.
pub fn evaluations_dir(dmarc_dir: &Path) -> PathBuf {
    dmarc_dir.join("evaluations")
}

fn day_file(dmarc_dir: &Path, period: Period) -> PathBuf {
    evaluations_dir(dmarc_dir).join(format!("{period}.jsonl"))
}

/// Deletes the day files of days before `oldest_kept` (evaluations are kept a few weeks,
/// long enough to send and to look at with `mailward dmarc report`); returns how many.
pub fn prune_before(dmarc_dir: &Path, oldest_kept: Period) -> Result<usize, AggregateError> {
    let dir = evaluations_dir(dmarc_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(AggregateError::io(&dir, e)),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(day) = name.strip_suffix(".jsonl") else {
            continue;
        };
        let Ok(period) = Period::parse(day, 0) else {
            continue;
        };
        if period < oldest_kept {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| AggregateError::io(&path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Appends `evaluations` to the files of their days.
pub fn append_evaluations(
    dmarc_dir: &Path,
    evaluations: &[Evaluation],
) -> Result<(), AggregateError> {
    let mut by_day: BTreeMap<Period, Vec<u8>> = BTreeMap::new();
    for e in evaluations {
        let buf = by_day.entry(Period::containing(e.at)).or_default();
        // Serialising our own plain structs cannot fail; skip rather than panic if it did.
        if serde_json::to_writer(&mut *buf, e).is_ok() {
            buf.push(b'\n');
        }
    }
    let dir = evaluations_dir(dmarc_dir);
    std::fs::create_dir_all(&dir).map_err(|e| AggregateError::io(&dir, e))?;
    for (day, lines) in by_day {
        let path = day_file(dmarc_dir, day);
        let mut file = open_for_append(&path).map_err(|e| AggregateError::io(&path, e))?;
        file.write_all(&lines)
            .map_err(|e| AggregateError::io(&path, e))?;
    }
    Ok(())
}

/// Opens `path` for appending, first ending a line a crash left torn.
fn open_for_append(path: &Path) -> std::io::Result<File> {
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    let len = file.metadata()?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            file.write_all(b"\n")?;
        }
    }
    Ok(file)
}

/// The evaluations recorded for `period`, and how many lines were skipped as unreadable
/// (torn by a crash, or not ours). No file: nothing was recorded.
pub fn read_period(
    dmarc_dir: &Path,
    period: Period,
) -> Result<(Vec<Evaluation>, usize), AggregateError> {
    let path = day_file(dmarc_dir, period);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(AggregateError::io(&path, e)),
    };
    let mut reader = BufReader::new(file);
    let mut evaluations = Vec::new();
    let mut skipped = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| AggregateError::io(&path, e))?;
        if n == 0 {
            break;
        }
        if line.len() > MAX_LINE && !line.ends_with(b"\n") {
            // Too long: skip the rest of it.
            skipped += 1;
            let mut rest = Vec::new();
            reader
                .read_until(b'\n', &mut rest)
                .map_err(|e| AggregateError::io(&path, e))?;
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Evaluation>(&line) {
            Ok(e) if Period::containing(e.at) == period => evaluations.push(e),
            _ => skipped += 1,
        }
    }
    Ok((evaluations, skipped))
}
