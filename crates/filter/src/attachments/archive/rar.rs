//! RAR archives: the entry names of the file headers, nothing decompressed.
//!
//! RAR 5.0 (the "RAR 5.0 archive format" technote of RARLAB): blocks of a CRC32, a vint header
//! size, a vint type (2 file, 4 archive encryption), vint flags (0x1 extra area, 0x2 data
//! area) and, for a file, its flags, sizes, name and extra records (type 1: encryption).
//! RAR 1.5–4.x (RARLAB's `technote.txt`): blocks of HEAD_CRC (u16), HEAD_TYPE (u8, 0x73 main,
//! 0x74 file), HEAD_FLAGS (u16), HEAD_SIZE (u16) and, for files, PACK_SIZE first.

use super::{Budget, Entry, Listing, Stop, Visit, le_u16, le_u32};

const RAR4: &[u8] = b"Rar!\x1A\x07\x00";
const RAR5: &[u8] = b"Rar!\x1A\x07\x01\x00";

/// Lists `data`'s entry names to `visit`.
pub fn list(data: &[u8], budget: &mut Budget, visit: &mut Visit<'_>) -> Result<Listing, Stop> {
    if data.starts_with(RAR5) {
        list5(data, budget, visit)
    } else if data.starts_with(RAR4) {
        list4(data, budget, visit)
    } else {
        Ok(Listing::default())
    }
}

/// A RAR 5.0 variable-length integer: 7 bits a byte, least significant first, at most 10
/// bytes. Returns the value and the bytes it took.
fn vint(data: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for i in 0..10 {
        let b = *data.get(at.checked_add(i)?)?;
        value |= u64::from(b & 0x7F).checked_shl(7 * i as u32).unwrap_or(0);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Reads vints one after another.
struct Cursor<'d> {
    data: &'d [u8],
    at: usize,
}

impl Cursor<'_> {
    fn vint(&mut self) -> Option<u64> {
        let (v, n) = vint(self.data, self.at)?;
        self.at += n;
        Some(v)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.at = self.at.checked_add(n)?;
        (self.at <= self.data.len()).then_some(())
    }
}

fn list5(data: &[u8], budget: &mut Budget, visit: &mut Visit<'_>) -> Result<Listing, Stop> {
    let mut listing = Listing::default();
    let mut at = RAR5.len();
    while at < data.len() {
        let Some(next) = block5(data, at, budget, visit, &mut listing)? else {
            break;
        };
        if next <= at {
            break;
        }
        at = next;
    }
    Ok(listing)
}

/// Reads the block at `at`; returns where the next starts (`None`: the end, or corrupt).
fn block5(
    data: &[u8],
    at: usize,
    budget: &mut Budget,
    visit: &mut Visit<'_>,
    listing: &mut Listing,
) -> Result<Option<usize>, Stop> {
    let Some((header_size, n)) = vint(data, at + 4) else {
        return Ok(None);
    };
    let header_start = at + 4 + n;
    let Some(header_end) = usize::try_from(header_size)
        .ok()
        .and_then(|s| header_start.checked_add(s))
    else {
        return Ok(None);
    };
    let header = data.get(..header_end.min(data.len())).unwrap_or_default();
    let mut c = Cursor {
        data: header,
        at: header_start,
    };
    let (Some(kind), Some(flags)) = (c.vint(), c.vint()) else {
        return Ok(None);
    };
    let extra_size = if flags & 1 != 0 { c.vint() } else { Some(0) };
    let data_size = if flags & 2 != 0 { c.vint() } else { Some(0) };
    let (Some(extra_size), Some(data_size)) = (extra_size, data_size) else {
        return Ok(None);
    };
    match kind {
        // Archive encryption header: every header after it is encrypted.
        4 => {
            listing.encrypted = true;
            return Ok(None);
        }
        2 => {
            budget.entry()?;
            if let Some((name, size, dir, encrypted)) = file5(&mut c, header_end, extra_size) {
                budget.check_declared(size, data_size)?;
                if encrypted {
                    listing.encrypted = true;
                }
                if !dir {
                    visit(Entry::named(name, encrypted), budget)?;
                }
            }
        }
        5 => return Ok(None),
        _ => {}
    }
    let next = usize::try_from(data_size)
        .ok()
        .and_then(|d| header_end.checked_add(d));
    Ok(next)
}

/// A file header's name, unpacked size, directory flag and encryption (an extra record of
/// type 1).
fn file5(
    c: &mut Cursor<'_>,
    header_end: usize,
    extra_size: u64,
) -> Option<(String, u64, bool, bool)> {
    let file_flags = c.vint()?;
    let size = c.vint()?;
    let _attributes = c.vint()?;
    if file_flags & 0x2 != 0 {
        c.skip(4)?;
    }
    if file_flags & 0x4 != 0 {
        c.skip(4)?;
    }
    let _compression = c.vint()?;
    let _host = c.vint()?;
    let name_len = usize::try_from(c.vint()?).ok()?;
    let name = c.data.get(c.at..c.at.checked_add(name_len)?)?;
    let name = String::from_utf8_lossy(name).into_owned();
    let mut encrypted = false;
    let extra_start = header_end.checked_sub(usize::try_from(extra_size).ok()?)?;
    let mut e = Cursor {
        data: c.data,
        at: extra_start,
    };
    while e.at < header_end {
        let Some(size) = e.vint() else { break };
        let record_start = e.at;
        if e.vint() == Some(1) {
            encrypted = true;
        }
        let Some(next) = usize::try_from(size)
            .ok()
            .and_then(|s| record_start.checked_add(s))
        else {
            break;
        };
        if next <= record_start {
            break;
        }
        e.at = next;
    }
    Some((name, size, file_flags & 0x1 != 0, encrypted))
}

fn list4(data: &[u8], budget: &mut Budget, visit: &mut Visit<'_>) -> Result<Listing, Stop> {
    let mut listing = Listing::default();
    let mut at = RAR4.len();
    while let (Some(kind), Some(flags), Some(head_size)) = (
        data.get(at + 2).copied(),
        le_u16(data, at + 3),
        le_u16(data, at + 5),
    ) {
        let head_size = usize::from(head_size);
        if head_size < 7 {
            break;
        }
        let mut add_size = if flags & 0x8000 != 0 {
            u64::from(le_u32(data, at + 7).unwrap_or(0))
        } else {
            0
        };
        match kind {
            // MAIN_HEAD: MHD_PASSWORD, the block headers are encrypted.
            0x73 if flags & 0x0080 != 0 => {
                listing.encrypted = true;
                break;
            }
            0x74 => {
                budget.entry()?;
                let large = flags & 0x0100 != 0;
                let high = |off: usize| {
                    if large {
                        u64::from(le_u32(data, at + off).unwrap_or(0)) << 32
                    } else {
                        0
                    }
                };
                let packed = u64::from(le_u32(data, at + 7).unwrap_or(0)) | high(32);
                let size = u64::from(le_u32(data, at + 11).unwrap_or(0)) | high(36);
                add_size = packed;
                let name_len = usize::from(le_u16(data, at + 26).unwrap_or(0));
                let name_at = at + if large { 40 } else { 32 };
                let raw = data.get(name_at..name_at + name_len).unwrap_or_default();
                // LHD_UNICODE: the ASCII name, a NUL, then the encoded Unicode name.
                let raw = raw.split(|b| *b == 0).next().unwrap_or(raw);
                let name = String::from_utf8_lossy(raw).into_owned();
                let encrypted = flags & 0x0004 != 0;
                let dir = flags & 0x00E0 == 0x00E0;
                budget.check_declared(size, packed)?;
                if encrypted {
                    listing.encrypted = true;
                }
                if !dir && !name.is_empty() {
                    visit(Entry::named(name, encrypted), budget)?;
                }
            }
            0x7B => break,
            _ => {}
        }
        let Some(next) = usize::try_from(add_size)
            .ok()
            .and_then(|a| (at + head_size).checked_add(a))
        else {
            break;
        };
        at = next;
    }
    Ok(listing)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::attachments::ArchiveLimits;

    fn v(mut n: u64, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7F) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    /// A RAR 5 archive listing `names` (stored, empty data), encrypted entries if asked.
    pub(crate) fn rar5_of(names: &[&str], encrypted: bool) -> Vec<u8> {
        let mut out = RAR5.to_vec();
        let mut block = |body: Vec<u8>| {
            out.extend_from_slice(&[0, 0, 0, 0]);
            v(body.len() as u64, &mut out);
            out.extend_from_slice(&body);
        };
        // Main header: type 1, no flags, archive flags 0.
        block(vec![1, 0, 0]);
        for name in names {
            let mut extra = Vec::new();
            if encrypted {
                // Record: size, type 1 (encryption), then version 0, flags 0 and padding.
                let rec = [1u8, 0, 0, 0, 0];
                v(rec.len() as u64, &mut extra);
                extra.extend_from_slice(&rec);
            }
            let mut body = Vec::new();
            v(2, &mut body); // file header
            v(if encrypted { 1 } else { 0 }, &mut body); // flags: extra area
            if encrypted {
                v(extra.len() as u64, &mut body);
            }
            v(0, &mut body); // file flags
            v(1000, &mut body); // unpacked size
            v(0, &mut body); // attributes
            v(0, &mut body); // compression
            v(0, &mut body); // host OS
            v(name.len() as u64, &mut body);
            body.extend_from_slice(name.as_bytes());
            body.extend_from_slice(&extra);
            block(body);
        }
        block(vec![5, 0, 0]);
        out
    }

    /// A RAR 4 archive listing `names`.
    pub(crate) fn rar4_of(names: &[&str]) -> Vec<u8> {
        let mut out = RAR4.to_vec();
        out.extend_from_slice(&[0, 0, 0x73, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0]);
        for name in names {
            let head_size = 32 + name.len();
            let mut h = vec![0u8, 0, 0x74, 0, 0x80];
            h.extend_from_slice(&(head_size as u16).to_le_bytes());
            h.extend_from_slice(&0u32.to_le_bytes()); // packed
            h.extend_from_slice(&0u32.to_le_bytes()); // unpacked
            h.resize(26, 0);
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0x20u32.to_le_bytes());
            h.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&h);
        }
        out.extend_from_slice(&[0, 0, 0x7B, 0, 0x40, 7, 0]);
        out
    }

    fn names(data: &[u8]) -> (Vec<(String, bool)>, Listing) {
        let mut out = Vec::new();
        let mut budget = Budget::new(ArchiveLimits::default());
        let listing = list(data, &mut budget, &mut |e, _| {
            out.push((e.name.clone(), e.encrypted));
            Ok(())
        })
        .unwrap();
        (out, listing)
    }

    #[test]
    fn rar5_names_are_listed() {
        let (n, l) = names(&rar5_of(&["docs/a.pdf", "run.exe"], false));
        assert_eq!(
            n,
            vec![("docs/a.pdf".into(), false), ("run.exe".into(), false)]
        );
        assert!(!l.encrypted);
        let (n, l) = names(&rar5_of(&["x.txt"], true));
        assert_eq!(n, vec![("x.txt".into(), true)]);
        assert!(l.encrypted);
    }

    #[test]
    fn rar4_names_are_listed() {
        let (n, _) = names(&rar4_of(&["a.txt", "b\\setup.scr"]));
        assert_eq!(
            n,
            vec![("a.txt".into(), false), ("b\\setup.scr".into(), false)]
        );
    }

    #[test]
    fn truncated_archives_end_quietly() {
        let full = rar5_of(&["a.txt", "b.exe"], false);
        for cut in 0..full.len() {
            let _ = names(&full[..cut]);
        }
        let full = rar4_of(&["a.txt", "b.exe"]);
        for cut in 0..full.len() {
            let _ = names(&full[..cut]);
        }
    }
}
