//! tar archives: the POSIX ustar header (POSIX.1-2017, `pax` utility, "ustar Interchange
//! Format"), GNU long names (`L` entries) and pax extended headers' `path` (`x` entries).
//!
//! The entries are slices of the archive itself: nothing is expanded or copied.

use super::{Budget, Entry, Listing, Stop, Visit};
use std::borrow::Cow;

const BLOCK: usize = 512;

/// A header block whose checksum is right (ustar: "chksum" is the sum of the header's bytes
/// with the checksum field taken as spaces).
pub fn looks_like_tar(data: &[u8]) -> bool {
    data.get(..BLOCK).is_some_and(|h| {
        h.iter().any(|b| *b != 0) && checksum_ok(h) && h.first().is_some_and(|b| *b != 0)
    })
}

fn checksum_ok(header: &[u8]) -> bool {
    let Some(stored) = header.get(148..156).and_then(octal) else {
        return false;
    };
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(*b)
            }
        })
        .sum();
    sum == stored
}

/// An octal field (NUL- or space-terminated), or GNU's base-256 form (high bit set).
fn octal(field: &[u8]) -> Option<u64> {
    let first = *field.first()?;
    if first & 0x80 != 0 {
        let tail = field.get(field.len().saturating_sub(8)..)?;
        return Some(
            tail.iter()
                .fold(0u64, |n, b| n.wrapping_shl(8) | u64::from(*b)),
        );
    }
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// A NUL-terminated string field.
fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(field.get(..end).unwrap_or_default()).into_owned()
}

/// The `path` record of a pax extended header ("length keyword=value\n" records).
fn pax_path(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    text.lines().find_map(|line| {
        let (_, record) = line.split_once(' ')?;
        record.strip_prefix("path=").map(str::to_owned)
    })
}

/// Lists `data`'s files to `visit`.
pub fn list(data: &[u8], budget: &mut Budget, visit: &mut Visit<'_>) -> Result<Listing, Stop> {
    let mut offset = 0usize;
    let mut long_name: Option<String> = None;
    while let Some(header) = data.get(offset..offset.saturating_add(BLOCK)) {
        if header.iter().all(|b| *b == 0) || !checksum_ok(header) {
            break;
        }
        budget.entry()?;
        let size = header.get(124..136).and_then(octal).unwrap_or(0);
        let kind = header.get(156).copied().unwrap_or(0);
        let start = offset + BLOCK;
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let end = start.saturating_add(size);
        let body = data.get(start..end.min(data.len())).unwrap_or_default();
        let complete = end <= data.len();
        match kind {
            // GNU long name for the next entry.
            b'L' => long_name = Some(cstr(body)),
            // pax extended header for the next entry.
            b'x' => long_name = pax_path(body).or(long_name.take()),
            // Regular files ('0', NUL in old archives, '7' contiguous).
            b'0' | 0 | b'7' => {
                let name = long_name.take().unwrap_or_else(|| {
                    let name = cstr(header.get(..100).unwrap_or_default());
                    let ustar = header.get(257..262) == Some(b"ustar".as_slice());
                    let prefix = if ustar {
                        cstr(header.get(345..500).unwrap_or_default())
                    } else {
                        String::new()
                    };
                    if prefix.is_empty() {
                        name
                    } else {
                        format!("{prefix}/{name}")
                    }
                });
                visit(
                    Entry {
                        name,
                        data: Cow::Borrowed(body),
                        complete,
                        encrypted: false,
                    },
                    budget,
                )?;
            }
            _ => long_name = None,
        }
        // Data is padded to whole blocks.
        let padded = size.div_ceil(BLOCK).saturating_mul(BLOCK);
        offset = start.saturating_add(padded);
    }
    Ok(Listing::default())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::attachments::ArchiveLimits;

    /// A ustar archive of `files`, written as the format says.
    pub(crate) fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, body) in files {
            let mut h = [0u8; BLOCK];
            h[..name.len()].copy_from_slice(name.as_bytes());
            h[100..107].copy_from_slice(b"0000644");
            h[124..135].copy_from_slice(format!("{:011o}", body.len()).as_bytes());
            h[156] = b'0';
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"00");
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
            h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
            out.extend_from_slice(&h);
            out.extend_from_slice(body);
            out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        }
        out.resize(out.len() + 2 * BLOCK, 0);
        out
    }

    #[test]
    fn files_are_listed_with_their_content() {
        let tar = tar_of(&[("docs/a.txt", b"hello"), ("bin/run.exe", b"MZ\x90\0")]);
        assert!(looks_like_tar(&tar));
        let mut names = Vec::new();
        let mut budget = Budget::new(ArchiveLimits::default());
        list(&tar, &mut budget, &mut |e, _| {
            names.push((e.name.clone(), e.data.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            names,
            vec![
                ("docs/a.txt".to_owned(), b"hello".to_vec()),
                ("bin/run.exe".to_owned(), b"MZ\x90\0".to_vec())
            ]
        );
    }

    #[test]
    fn text_is_not_tar() {
        assert!(!looks_like_tar(&[b'a'; 1024]));
        assert!(!looks_like_tar(&[0; 1024]));
    }
}
