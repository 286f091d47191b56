//! Bounded decompression of gzip and zip report files: a report is at most a few MiB of
//! XML, so anything that inflates past [`Limits::max_decompressed`] or by more than
//! [`Limits::max_ratio`] is refused before it costs more memory (RFC 9990 §5.5.2 lets
//! reports be gzip-compressed; the reader must not trust the sender's sizes).

use super::ReportError;
use flate2::read::MultiGzDecoder;
use std::io::{Cursor, Read};

/// How much one report file may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest file read from disk.
    pub max_file: u64,
    /// The largest report after decompression.
    pub max_decompressed: u64,
    /// The largest decompressed:compressed ratio ...
    pub max_ratio: u64,
    /// ... checked once the output is past this size (small files compress oddly).
    pub ratio_floor: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file: 64 << 20,
            max_decompressed: 64 << 20,
            max_ratio: 1000,
            ratio_floor: 1 << 20,
        }
    }
}

impl Limits {
    /// Refuses `out` bytes made from `compressed` bytes when the ratio is past the limit.
    fn check_ratio(&self, compressed: usize, out: usize) -> Result<(), ReportError> {
        let (compressed, out) = (compressed.max(1) as u64, out as u64);
        let ratio = out / compressed;
        if out > self.ratio_floor && ratio > self.max_ratio {
            return Err(ReportError::RatioTooHigh {
                ratio,
                limit: self.max_ratio,
            });
        }
        Ok(())
    }

    /// Reads at most `max_decompressed` bytes from `reader`; one more is an error.
    fn read_capped(&self, reader: impl Read) -> Result<Vec<u8>, ReportError> {
        let mut out = Vec::new();
        reader
            .take(self.max_decompressed.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| ReportError::Decompress(e.to_string()))?;
        if out.len() as u64 > self.max_decompressed {
            return Err(ReportError::DecompressedTooLarge {
                limit: self.max_decompressed,
            });
        }
        Ok(out)
    }
}

/// The content of a gzip file (every member, as `gzip -d` does).
pub fn gunzip(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, ReportError> {
    let out = limits.read_capped(MultiGzDecoder::new(bytes))?;
    limits.check_ratio(bytes.len(), out.len())?;
    Ok(out)
}

/// The report in a zip archive: the first `.xml` or `.json` entry, else the first file.
pub fn unzip(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, ReportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ReportError::Decompress(e.to_string()))?;
    let mut chosen = None;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| ReportError::Decompress(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_ascii_lowercase();
        if name.ends_with(".xml") || name.ends_with(".json") {
            chosen = Some(i);
            break;
        }
        chosen.get_or_insert(i);
    }
    let index = chosen.ok_or_else(|| ReportError::Decompress("empty zip archive".into()))?;
    let entry = archive
        .by_index(index)
        .map_err(|e| ReportError::Decompress(e.to_string()))?;
    if entry.size() > limits.max_decompressed {
        return Err(ReportError::DecompressedTooLarge {
            limit: limits.max_decompressed,
        });
    }
    let out = limits.read_capped(entry)?;
    limits.check_ratio(bytes.len(), out.len())?;
    Ok(out)
}
