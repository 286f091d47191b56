//! 7z archives: the entry names of the header, and whether the archive is encrypted.
//!
//! The layout is 7-Zip's `7zFormat.txt`: a 32-byte signature header pointing at the header
//! (`NextHeaderOffset`, `NextHeaderSize`), which is either plain (`kHeader`) or itself packed
//! (`kEncodedHeader`: a streams description and an LZMA stream, decoded here with liblzma
//! under a memory limit and the message's budget). Files are not decompressed: their names
//! are what the block list judges. A coder 06F10701 (7zAES) means password protection; on
//! the header itself it hides the names too.

use super::{Budget, Entry, Listing, Stop, Visit, le_u64};
use std::io::Read;

const SIGNATURE: &[u8] = b"7z\xBC\xAF\x27\x1C";
const SIGNATURE_HEADER: usize = 32;

// Property IDs (7zFormat.txt, "Property IDs").
const K_END: u8 = 0x00;
const K_HEADER: u8 = 0x01;
const K_ARCHIVE_PROPERTIES: u8 = 0x02;
const K_ADDITIONAL_STREAMS_INFO: u8 = 0x03;
const K_MAIN_STREAMS_INFO: u8 = 0x04;
const K_FILES_INFO: u8 = 0x05;
const K_PACK_INFO: u8 = 0x06;
const K_UNPACK_INFO: u8 = 0x07;
const K_SUBSTREAMS_INFO: u8 = 0x08;
const K_SIZE: u8 = 0x09;
const K_CRC: u8 = 0x0A;
const K_FOLDER: u8 = 0x0B;
const K_CODERS_UNPACK_SIZE: u8 = 0x0C;
const K_NUM_UNPACK_STREAM: u8 = 0x0D;
const K_EMPTY_STREAM: u8 = 0x0E;
const K_EMPTY_FILE: u8 = 0x0F;
const K_NAME: u8 = 0x11;
const K_ENCODED_HEADER: u8 = 0x17;

const AES: &[u8] = &[0x06, 0xF1, 0x07, 0x01];
const LZMA: &[u8] = &[0x03, 0x01, 0x01];

/// Memory liblzma may use to decode a packed header (its dictionary).
const LZMA_MEMLIMIT: u64 = 32 << 20;
/// Bounds on counts read from the header, before anything is sized by them.
const MAX_ITEMS: u64 = 1 << 20;

/// Lists `data`'s entry names to `visit`.
pub fn list(data: &[u8], budget: &mut Budget, visit: &mut Visit<'_>) -> Result<Listing, Stop> {
    let mut listing = Listing::default();
    if !data.starts_with(SIGNATURE) {
        return Ok(listing);
    }
    let (Some(offset), Some(size)) = (le_u64(data, 12), le_u64(data, 20)) else {
        return Ok(listing);
    };
    let header = usize::try_from(offset)
        .ok()
        .and_then(|o| o.checked_add(SIGNATURE_HEADER))
        .zip(usize::try_from(size).ok())
        .and_then(|(start, len)| data.get(start..start.checked_add(len)?));
    let Some(header) = header else {
        return Ok(listing);
    };
    let decoded;
    let header = if header.first() == Some(&K_ENCODED_HEADER) {
        match encoded_header(data, header, budget)? {
            Unpacked::Header(bytes) => {
                decoded = bytes;
                decoded.as_slice()
            }
            Unpacked::Encrypted => {
                listing.encrypted = true;
                return Ok(listing);
            }
            Unpacked::Unreadable => return Ok(listing),
        }
    } else {
        header
    };
    let mut r = Reader {
        data: header,
        at: 0,
    };
    let Some(files) = parse_header(&mut r, &mut listing) else {
        return Ok(listing);
    };
    for (name, is_dir) in files {
        budget.entry()?;
        if !is_dir {
            visit(Entry::named(name, listing.encrypted), budget)?;
        }
    }
    Ok(listing)
}

/// Reads the header's fields in order.
struct Reader<'d> {
    data: &'d [u8],
    at: usize,
}

impl<'d> Reader<'d> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> Option<&'d [u8]> {
        let s = self.data.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    /// 7zFormat.txt "REAL_UINT64": the leading 1 bits of the first byte count the bytes
    /// that follow (little-endian); the first byte's remaining bits are the high part.
    fn number(&mut self) -> Option<u64> {
        let first = self.byte()?;
        let mut mask = 0x80u8;
        let mut value = 0u64;
        for i in 0..8 {
            if first & mask == 0 {
                let high = u64::from(first & mask.wrapping_sub(1));
                return Some(value | (high << (8 * i)));
            }
            value |= u64::from(self.byte()?) << (8 * i);
            mask >>= 1;
        }
        Some(value)
    }

    /// A count, bounded before anything is sized by it.
    fn count(&mut self) -> Option<usize> {
        let n = self.number()?;
        usize::try_from(n).ok().filter(|_| n <= MAX_ITEMS)
    }

    /// A bit vector of `n` items, most significant bit first.
    fn bits(&mut self, n: usize) -> Option<Vec<bool>> {
        let bytes = self.bytes(n.div_ceil(8))?;
        Some(
            (0..n)
                .map(|i| bytes.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0))
                .collect(),
        )
    }

    /// "Digests": all-defined flag (or a bit vector), then a CRC32 per defined item.
    fn digests(&mut self, n: usize) -> Option<Vec<bool>> {
        let defined = if self.byte()? != 0 {
            vec![true; n]
        } else {
            self.bits(n)?
        };
        let count = defined.iter().filter(|d| **d).count();
        self.bytes(count.checked_mul(4)?)?;
        Some(defined)
    }
}

/// One folder (a chain of coders): what we need of it.
#[derive(Default)]
struct Folder {
    encrypted: bool,
    /// The coder and its properties when the folder is one plain LZMA coder.
    lzma: Option<Vec<u8>>,
    out_streams: usize,
    unpack_sizes: Vec<u64>,
    has_crc: bool,
}

#[derive(Default)]
struct Streams {
    pack_pos: u64,
    pack_sizes: Vec<u64>,
    folders: Vec<Folder>,
}

fn pack_info(r: &mut Reader<'_>, s: &mut Streams) -> Option<()> {
    s.pack_pos = r.number()?;
    let n = r.count()?;
    loop {
        match r.byte()? {
            K_END => return Some(()),
            K_SIZE => {
                s.pack_sizes = (0..n).map(|_| r.number()).collect::<Option<_>>()?;
            }
            K_CRC => {
                r.digests(n)?;
            }
            _ => return None,
        }
    }
}

fn folder(r: &mut Reader<'_>) -> Option<Folder> {
    let coders = r.count()?;
    let mut f = Folder::default();
    let (mut ins, mut outs) = (0usize, 0usize);
    for _ in 0..coders {
        let flags = r.byte()?;
        // Alternative methods (0x80) are reserved and unused.
        if flags & 0x80 != 0 {
            return None;
        }
        let id = r.bytes(usize::from(flags & 0x0F))?;
        let (i, o) = if flags & 0x10 != 0 {
            (r.count()?, r.count()?)
        } else {
            (1, 1)
        };
        ins = ins.checked_add(i)?;
        outs = outs.checked_add(o)?;
        let props = if flags & 0x20 != 0 {
            let n = r.count()?;
            r.bytes(n)?
        } else {
            &[]
        };
        if id == AES {
            f.encrypted = true;
        }
        if coders == 1 && id == LZMA {
            f.lzma = Some(props.to_vec());
        }
    }
    let bind_pairs = outs.checked_sub(1)?;
    for _ in 0..bind_pairs {
        r.number()?;
        r.number()?;
    }
    let packed = ins.checked_sub(bind_pairs)?;
    if packed > 1 {
        for _ in 0..packed {
            r.number()?;
        }
    }
    f.out_streams = outs;
    Some(f)
}

fn unpack_info(r: &mut Reader<'_>, s: &mut Streams) -> Option<()> {
    if r.byte()? != K_FOLDER {
        return None;
    }
    let n = r.count()?;
    // External (a data stream holds the folders): not in archives 7-Zip writes.
    if r.byte()? != 0 {
        return None;
    }
    s.folders = (0..n).map(|_| folder(r)).collect::<Option<_>>()?;
    if r.byte()? != K_CODERS_UNPACK_SIZE {
        return None;
    }
    for f in &mut s.folders {
        f.unpack_sizes = (0..f.out_streams)
            .map(|_| r.number())
            .collect::<Option<_>>()?;
    }
    loop {
        match r.byte()? {
            K_END => return Some(()),
            K_CRC => {
                let defined = r.digests(s.folders.len())?;
                for (f, d) in s.folders.iter_mut().zip(defined) {
                    f.has_crc = d;
                }
            }
            _ => return None,
        }
    }
}

fn substreams_info(r: &mut Reader<'_>, s: &Streams) -> Option<()> {
    let mut per_folder = vec![1usize; s.folders.len()];
    loop {
        match r.byte()? {
            K_END => return Some(()),
            K_NUM_UNPACK_STREAM => {
                for n in &mut per_folder {
                    *n = r.count()?;
                }
            }
            K_SIZE => {
                for n in &per_folder {
                    for _ in 1..*n {
                        r.number()?;
                    }
                }
            }
            K_CRC => {
                let unknown: usize = per_folder
                    .iter()
                    .zip(&s.folders)
                    .map(|(n, f)| if *n == 1 && f.has_crc { 0 } else { *n })
                    .sum();
                r.digests(unknown)?;
            }
            _ => return None,
        }
    }
}

fn streams_info(r: &mut Reader<'_>) -> Option<Streams> {
    let mut s = Streams::default();
    loop {
        match r.byte()? {
            K_END => return Some(s),
            K_PACK_INFO => pack_info(r, &mut s)?,
            K_UNPACK_INFO => unpack_info(r, &mut s)?,
            K_SUBSTREAMS_INFO => substreams_info(r, &s)?,
            _ => return None,
        }
    }
}

/// The file names of a plain header, each with whether it is a directory.
fn parse_header(r: &mut Reader<'_>, listing: &mut Listing) -> Option<Vec<(String, bool)>> {
    if r.byte()? != K_HEADER {
        return None;
    }
    let mut id = r.byte()?;
    if id == K_ARCHIVE_PROPERTIES {
        loop {
            if r.byte()? == K_END {
                break;
            }
            let n = r.count()?;
            r.bytes(n)?;
        }
        id = r.byte()?;
    }
    if id == K_ADDITIONAL_STREAMS_INFO {
        streams_info(r)?;
        id = r.byte()?;
    }
    if id == K_MAIN_STREAMS_INFO {
        let s = streams_info(r)?;
        if s.folders.iter().any(|f| f.encrypted) {
            listing.encrypted = true;
        }
        id = r.byte()?;
    }
    if id != K_FILES_INFO {
        return Some(Vec::new());
    }
    files_info(r)
}

fn files_info(r: &mut Reader<'_>) -> Option<Vec<(String, bool)>> {
    let n = r.count()?;
    let mut names: Vec<String> = Vec::new();
    let mut empty_stream = vec![false; n];
    let mut empty_file: Vec<bool> = Vec::new();
    loop {
        let kind = r.byte()?;
        if kind == K_END {
            break;
        }
        let size = usize::try_from(r.number()?).ok()?;
        let body = r.bytes(size)?;
        let mut p = Reader { data: body, at: 0 };
        match kind {
            K_EMPTY_STREAM => empty_stream = p.bits(n)?,
            K_EMPTY_FILE => {
                let empties = empty_stream.iter().filter(|e| **e).count();
                empty_file = p.bits(empties)?;
            }
            K_NAME => {
                if p.byte()? != 0 {
                    return None;
                }
                let units: Vec<u16> = body
                    .get(1..)?
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect();
                names = units
                    .split(|u| *u == 0)
                    .take(n)
                    .map(String::from_utf16_lossy)
                    .collect();
            }
            _ => {}
        }
    }
    // A directory is an empty stream that is not an empty file.
    let mut empties = 0usize;
    let mut out = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        let is_dir = if empty_stream.get(i) == Some(&true) {
            let file = empty_file.get(empties) == Some(&true);
            empties += 1;
            !file
        } else {
            false
        };
        out.push((name, is_dir));
    }
    Some(out)
}

enum Unpacked {
    Header(Vec<u8>),
    Encrypted,
    Unreadable,
}

/// Decodes a packed header (`kEncodedHeader`): one LZMA folder read from the pack position.
fn encoded_header(data: &[u8], header: &[u8], budget: &mut Budget) -> Result<Unpacked, Stop> {
    let mut r = Reader {
        data: header,
        at: 1,
    };
    let Some(s) = streams_info(&mut r) else {
        return Ok(Unpacked::Unreadable);
    };
    if s.folders.iter().any(|f| f.encrypted) {
        return Ok(Unpacked::Encrypted);
    }
    let (Some(folder), Some(pack_size)) = (s.folders.first(), s.pack_sizes.first()) else {
        return Ok(Unpacked::Unreadable);
    };
    let (Some(props), Some(unpack_size)) = (&folder.lzma, folder.unpack_sizes.first()) else {
        return Ok(Unpacked::Unreadable);
    };
    let packed = usize::try_from(s.pack_pos)
        .ok()
        .and_then(|p| p.checked_add(SIGNATURE_HEADER))
        .zip(usize::try_from(*pack_size).ok())
        .and_then(|(start, len)| data.get(start..start.checked_add(len)?));
    let (Some(packed), true) = (packed, props.len() == 5) else {
        return Ok(Unpacked::Unreadable);
    };
    budget.check_declared(*unpack_size, *pack_size)?;
    // The `.lzma` ("LZMA_Alone") header liblzma reads: the properties byte, the dictionary
    // size, then the unpacked size.
    let mut alone = props.clone();
    alone.extend_from_slice(&unpack_size.to_le_bytes());
    let Ok(stream) = xz2::stream::Stream::new_lzma_decoder(LZMA_MEMLIMIT) else {
        return Ok(Unpacked::Unreadable);
    };
    let input = std::io::Read::chain(alone.as_slice(), packed);
    let limit = (*unpack_size).min(budget.remaining());
    let mut decoder = xz2::read::XzDecoder::new_stream(input, stream).take(limit);
    let mut out = Vec::new();
    if decoder.read_to_end(&mut out).is_err() {
        return Ok(Unpacked::Unreadable);
    }
    budget.expand(out.len() as u64)?;
    Ok(Unpacked::Header(out))
}
