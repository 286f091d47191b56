//! Readers of the containers we look into, within one budget per message.
//!
//! Every reader hands each entry to a visitor as it goes, with the entry's first bytes (or
//! all of them when the entry is itself a container to open), and stops at the budget:
//! entries counted over the whole message, bytes expanded over the whole message, and the
//! expansion ratio of one entry. Declared sizes are never trusted for an allocation; they
//! only serve to refuse early. A reader that meets a corrupt archive stops and reports what
//! it listed so far.

pub mod gzip;
pub mod ole;
pub mod rar;
pub mod sevenz;
pub mod tar;
pub mod zip;

use super::ArchiveLimits;
use super::kind::Kind;
use super::sniff::{SNIFF_BYTES, sniff};
use std::borrow::Cow;
use std::io::Read;

/// One entry of a container.
#[derive(Debug)]
pub struct Entry<'a> {
    /// Its path inside the container, as the container names it.
    pub name: String,
    /// Its first bytes, or all of it when `complete`; empty when it could not be read
    /// (encrypted, or a listing-only format).
    pub data: Cow<'a, [u8]>,
    pub complete: bool,
    /// The entry is password-protected.
    pub encrypted: bool,
}

impl Entry<'_> {
    /// An entry known by its name only.
    pub fn named(name: String, encrypted: bool) -> Entry<'static> {
        Entry {
            name,
            data: Cow::Borrowed(&[]),
            complete: false,
            encrypted,
        }
    }
}

/// Why the look into a message's containers ended early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Expands or nests like a decompression bomb (what it did, for the finding).
    Bomb(String),
    /// More entries than we list.
    Limits(String),
}

/// What a reader learned about the container as a whole.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Listing {
    /// The container is a file of a blocked-list kind (a JAR, an APK, an MSI, ...).
    pub kind: Option<(Kind, &'static str)>,
    /// Its names or contents are password-protected.
    pub encrypted: bool,
}

/// The visitor each reader hands its entries to.
pub type Visit<'v> = dyn FnMut(Entry<'_>, &mut Budget) -> Result<(), Stop> + 'v;

/// What the look into one message's containers may still spend.
#[derive(Debug, Clone)]
pub struct Budget {
    pub limits: ArchiveLimits,
    entries: usize,
    expanded: u64,
}

/// An entry's ratio is judged once it has expanded this much (small files compress well
/// legitimately).
const RATIO_FLOOR: u64 = 4 << 20;

impl Budget {
    pub fn new(limits: ArchiveLimits) -> Self {
        Budget {
            limits,
            entries: 0,
            expanded: 0,
        }
    }

    /// Counts one entry.
    pub fn entry(&mut self) -> Result<(), Stop> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(Stop::Limits(format!(
                "more than {} files in its archives",
                self.limits.max_entries
            )));
        }
        Ok(())
    }

    /// Counts `n` bytes expanded.
    pub fn expand(&mut self, n: u64) -> Result<(), Stop> {
        self.expanded = self.expanded.saturating_add(n);
        if self.expanded > self.limits.max_expanded {
            return Err(self.too_big());
        }
        Ok(())
    }

    /// Bytes that may still be expanded.
    pub fn remaining(&self) -> u64 {
        self.limits.max_expanded.saturating_sub(self.expanded)
    }

    fn too_big(&self) -> Stop {
        Stop::Bomb(format!(
            "expands to more than {} MiB",
            self.limits.max_expanded >> 20
        ))
    }

    /// Refuses an entry whose declared sizes already say bomb (a declared size is a claim:
    /// it can refuse, never allow or size a buffer).
    pub fn check_declared(&self, size: u64, compressed: u64) -> Result<(), Stop> {
        if size > self.remaining() {
            return Err(self.too_big());
        }
        self.check_ratio(size, compressed)
    }

    fn check_ratio(&self, size: u64, compressed: u64) -> Result<(), Stop> {
        let ratio = size / compressed.max(1);
        if size > RATIO_FLOOR && ratio > self.limits.max_ratio {
            return Err(Stop::Bomb(format!(
                "one file expands {ratio}:1 (more than {}:1)",
                self.limits.max_ratio
            )));
        }
        Ok(())
    }
}

/// Reads a decompressing `reader` to its end within `budget`: every byte is counted, the
/// first [`SNIFF_BYTES`] kept, and the rest kept only when those show a container to open.
/// Returns the bytes kept and whether they are the whole entry. A read error (corrupt data)
/// ends the entry where it is.
pub fn read_bounded(
    mut reader: impl Read,
    compressed: u64,
    budget: &mut Budget,
) -> Result<(Vec<u8>, bool), Stop> {
    let mut kept: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    let mut total: u64 = 0;
    let mut keep_all: Option<bool> = None;
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok((kept, keep_all != Some(false))),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Ok((kept, false)),
        };
        total += n as u64;
        budget.expand(n as u64)?;
        budget.check_ratio(total, compressed)?;
        let got = chunk.get(..n).unwrap_or_default();
        match keep_all {
            Some(true) => kept.extend_from_slice(got),
            Some(false) => {}
            None => {
                let room = SNIFF_BYTES.saturating_sub(kept.len());
                kept.extend_from_slice(got.get(..room.min(n)).unwrap_or(got));
                if kept.len() >= SNIFF_BYTES {
                    keep_all = Some(sniff(&kept, false).container.is_some());
                    if keep_all == Some(true) {
                        kept.extend_from_slice(got.get(room..).unwrap_or_default());
                    }
                }
            }
        }
    }
}

/// Runs a third-party parser over untrusted bytes; should it panic after all, the archive
/// counts as unreadable rather than taking the gateway down.
pub fn guarded<T: Default>(f: impl FnOnce() -> Result<T, Stop>) -> Result<T, Stop> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| Ok(T::default()))
}

/// Little-endian integers at an offset, `None` past the end.
pub(crate) fn le_u16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(b.try_into().ok()?))
}

pub(crate) fn le_u32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

pub(crate) fn le_u64(data: &[u8], at: usize) -> Option<u64> {
    let b = data.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_expanded: u64) -> ArchiveLimits {
        ArchiveLimits {
            max_expanded,
            ..ArchiveLimits::default()
        }
    }

    #[test]
    fn reading_stops_at_the_budget() {
        let mut budget = Budget::new(limits(1 << 20));
        let zeros = std::io::repeat(0).take(10 << 20);
        let got = read_bounded(zeros, 10 << 20, &mut budget);
        assert!(matches!(got, Err(Stop::Bomb(_))), "{got:?}");
    }

    #[test]
    fn only_the_first_bytes_of_a_plain_file_are_kept() {
        let mut budget = Budget::new(limits(64 << 20));
        let data = vec![b'a'; 1 << 20];
        let (kept, complete) = read_bounded(&data[..], 1 << 20, &mut budget).unwrap();
        assert_eq!(kept.len(), SNIFF_BYTES);
        assert!(!complete);
    }

    #[test]
    fn a_container_is_kept_whole() {
        let mut budget = Budget::new(limits(64 << 20));
        let mut data = b"PK\x03\x04".to_vec();
        data.resize(200 << 10, 7);
        let (kept, complete) = read_bounded(&data[..], 200 << 10, &mut budget).unwrap();
        assert_eq!(kept, data);
        assert!(complete);
    }

    #[test]
    fn a_high_ratio_is_a_bomb() {
        let mut budget = Budget::new(limits(64 << 20));
        let zeros = std::io::repeat(0).take(8 << 20);
        let got = read_bounded(zeros, 1000, &mut budget);
        assert!(matches!(got, Err(Stop::Bomb(m)) if m.contains(":1")));
    }
}
