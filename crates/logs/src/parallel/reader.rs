//! The reader thread: the input in segments of whole lines, as text.
//!
//! Reading (and decompressing) runs on a thread of its own, a segment ahead of the parsers.
//! Each segment is checked for UTF-8 once (invalid bytes are replaced with U+FFFD, as
//! [`Input::next_line`](crate::input::Input::next_line) does per line); emptied buffers come
//! back to be read into again.

use crate::error::LogsError;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender};

/// Bytes of whole lines the reader hands over at a time.
pub(super) const SEGMENT: usize = 4 * 1024 * 1024;
/// Bytes of the first segment (the next ones double up to [`SEGMENT`]).
const FIRST_SEGMENT: usize = 512 * 1024;

/// Reads the next segment of whole lines into `buf` (after the `carry` left by the last one);
/// `false` at the end of the input. `buf` may hold an earlier segment: its bytes are already
/// initialised, so reading over them costs no zeroing (unlike `read_to_end`, which zeroes the
/// whole spare capacity of a `dyn Read` reader every time).
fn read_segment(
    reader: &mut dyn Read,
    size: usize,
    carry: &mut Vec<u8>,
    buf: &mut Vec<u8>,
    eof: &mut bool,
) -> io::Result<bool> {
    let mut filled = carry.len();
    let mut want = size.max(filled + 1);
    if buf.len() < want {
        buf.resize(want, 0);
    }
    if let Some(head) = buf.get_mut(..filled) {
        head.copy_from_slice(carry);
    }
    carry.clear();
    loop {
        while !*eof && filled < want {
            match reader.read(buf.get_mut(filled..want).unwrap_or_default()) {
                Ok(0) => *eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if *eof {
            buf.truncate(filled);
            return Ok(filled > 0);
        }
        match memchr::memrchr(b'\n', buf.get(..filled).unwrap_or_default()) {
            Some(nl) => {
                carry.extend_from_slice(buf.get(nl + 1..filled).unwrap_or_default());
                buf.truncate(nl + 1);
                return Ok(true);
            }
            // One line longer than a segment: read on until it ends.
            None => {
                want = filled * 2;
                buf.resize(want, 0);
            }
        }
    }
}

/// The reader thread: segments of whole lines as UTF-8 text, until the end of the input, an
/// error, or the receiver hanging up. Emptied buffers come back through `recycled`.
pub(super) fn reader_loop(
    mut reader: Box<dyn BufRead + Send>,
    size: usize,
    mut carry: Vec<u8>,
    name: &Path,
    tx: SyncSender<Result<String, LogsError>>,
    recycled: Receiver<Vec<u8>>,
) {
    let mut eof = false;
    // The first segments are small and grow to `size`: nothing is parsed until the first one
    // is read, and a full segment takes milliseconds to read and check.
    let mut want = FIRST_SEGMENT.min(size);
    loop {
        let mut buf = recycled.try_recv().unwrap_or_default();
        let read = read_segment(&mut reader, want, &mut carry, &mut buf, &mut eof);
        want = (want * 2).min(size);
        let seg = match read {
            Ok(false) => return,
            Ok(true) => Ok(match String::from_utf8(buf) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }),
            Err(err) => Err(LogsError::Read {
                path: name.to_owned(),
                err,
            }),
        };
        let failed = seg.is_err();
        if tx.send(seg).is_err() || failed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_whole_lines_even_when_a_line_is_longer_than_a_segment() {
        let long = "x".repeat(SEGMENT + 10);
        let input = format!("a\n{long}\nb\nc");
        let mut reader = io::Cursor::new(input.clone().into_bytes());
        let (mut carry, mut buf, mut eof) = (Vec::new(), Vec::new(), false);
        let mut got = Vec::new();
        while read_segment(&mut reader, SEGMENT, &mut carry, &mut buf, &mut eof).unwrap_or(false) {
            got.push(String::from_utf8_lossy(&buf).into_owned());
        }
        assert!(
            got.iter()
                .take(got.len().saturating_sub(1))
                .all(|s| s.ends_with('\n'))
        );
        assert!(got.len() >= 2, "{}", got.len());
        assert_eq!(got.concat(), input);
    }
}
