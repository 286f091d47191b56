//! gzip files (RFC 1952): one compressed file, often a tar archive (`.tar.gz`, `.tgz`).

use super::{Budget, Stop, read_bounded};
use flate2::read::MultiGzDecoder;

/// The decompressed content (its first bytes, or all of it when it is a container to
/// open), whether that is all of it, and the original name the header may carry (RFC 1952
/// §2.3.1, FNAME).
pub fn decompress(
    data: &[u8],
    budget: &mut Budget,
) -> Result<(Vec<u8>, bool, Option<String>), Stop> {
    let mut decoder = MultiGzDecoder::new(data);
    let name = decoder
        .header()
        .and_then(|h| h.filename())
        .map(|n| String::from_utf8_lossy(n).into_owned());
    let (bytes, complete) = read_bounded(&mut decoder, data.len() as u64, budget)?;
    let name = name.or_else(|| {
        decoder
            .header()
            .and_then(|h| h.filename())
            .map(|n| String::from_utf8_lossy(n).into_owned())
    });
    Ok((bytes, complete, name))
}
