//! The I/O edge: opening files (plain, gzip, xz, stdin), reading lines, merging several files
//! in time order, and following a growing file.

use crate::error::LogsError;
use crate::parse::line_time;
use crate::time::{Timestamp, YearRef};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts the (compressed) bytes read, for a progress bar.
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// One opened log.
pub struct Input {
    /// The name to show in messages (`-` is shown as `<stdin>`).
    pub name: PathBuf,
    /// Reference time for year-less syslog stamps (the file's mtime; now for stdin).
    pub year: YearRef,
    /// Size on disk, when known (compressed size for compressed files).
    pub size: Option<u64>,
    reader: Box<dyn BufRead + Send>,
    /// Read-ahead block: lines are handed out as slices of it, without copying.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    lossy: String,
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const XZ_MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
const BUF: usize = 256 * 1024;
const BLOCK: usize = 1024 * 1024;

impl Input {
    /// Opens `path` (`-` for stdin). Compression is detected from the content (gzip and xz
    /// magic numbers), not the file name. `progress` counts bytes read from disk.
    pub fn open(path: &Path, progress: Option<Arc<AtomicU64>>) -> Result<Input, LogsError> {
        let counter = progress.unwrap_or_default();
        let err = |err| LogsError::Open {
            path: path.to_owned(),
            err,
        };
        let (raw, name, year, size): (Box<dyn Read + Send>, PathBuf, YearRef, Option<u64>) =
            if path == Path::new("-") {
                (
                    Box::new(io::stdin()),
                    PathBuf::from("<stdin>"),
                    YearRef::current(),
                    None,
                )
            } else {
                let file = File::open(path).map_err(err)?;
                let meta = file.metadata().map_err(err)?;
                if meta.is_dir() {
                    return Err(err(io::Error::other("is a directory")));
                }
                (
                    Box::new(file),
                    path.to_owned(),
                    YearRef::from_mtime(&meta),
                    Some(meta.len()),
                )
            };
        let mut peek = BufReader::with_capacity(
            BUF,
            Counting {
                inner: raw,
                counter,
            },
        );
        let head = peek.fill_buf().map_err(err)?.to_vec();
        let reader: Box<dyn BufRead + Send> = if head.starts_with(GZIP_MAGIC) {
            Box::new(BufReader::with_capacity(
                BUF,
                flate2::bufread::MultiGzDecoder::new(peek),
            ))
        } else if head.starts_with(XZ_MAGIC) {
            Box::new(BufReader::with_capacity(
                BUF,
                xz2::bufread::XzDecoder::new_multi_decoder(peek),
            ))
        } else {
            Box::new(peek)
        };
        Ok(Input::new(name, year, size, reader))
    }

    /// An input over any reader (tests, in-memory logs).
    pub fn from_reader(name: &str, reader: Box<dyn BufRead + Send>, year: YearRef) -> Input {
        Input::new(PathBuf::from(name), year, None, reader)
    }

    fn new(
        name: PathBuf,
        year: YearRef,
        size: Option<u64>,
        reader: Box<dyn BufRead + Send>,
    ) -> Input {
        Input {
            name,
            year,
            size,
            reader,
            buf: vec![0; BLOCK],
            start: 0,
            end: 0,
            eof: false,
            lossy: String::new(),
        }
    }

    /// Takes the input apart for a reader of its own: (name, year reference, reader, the bytes
    /// read ahead but not handed out yet, which come first).
    pub(crate) fn into_parts(self) -> (PathBuf, YearRef, Box<dyn BufRead + Send>, Vec<u8>) {
        let head = self
            .buf
            .get(self.start..self.end)
            .unwrap_or_default()
            .to_vec();
        (self.name, self.year, self.reader, head)
    }

    /// Refills the block after moving the unread tail to its front; grows it for a line longer
    /// than the block. Returns false at end of input.
    fn refill(&mut self) -> Result<bool, LogsError> {
        if self.eof {
            return Ok(false);
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let free = self.buf.get_mut(self.end..).unwrap_or_default();
        let n = loop {
            match self.reader.read(free) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    return Err(LogsError::Read {
                        path: self.name.clone(),
                        err,
                    });
                }
            }
        };
        if n == 0 {
            self.eof = true;
        }
        self.end += n;
        Ok(n > 0)
    }

    /// The next line without its line ending; invalid UTF-8 is replaced (U+FFFD).
    pub fn next_line(&mut self) -> Result<Option<&str>, LogsError> {
        let (from, to) = loop {
            let pending = self.buf.get(self.start..self.end).unwrap_or_default();
            if let Some(nl) = memchr::memchr(b'\n', pending) {
                let from = self.start;
                self.start += nl + 1;
                break (from, from + nl);
            }
            if !self.refill()? {
                if self.start == self.end {
                    return Ok(None);
                }
                let from = self.start;
                self.start = self.end;
                break (from, self.end);
            }
        };
        let mut bytes = self.buf.get(from..to).unwrap_or_default();
        while let Some((b'\r', rest)) = bytes.split_last() {
            bytes = rest;
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Some(s)),
            Err(_) => {
                self.lossy = String::from_utf8_lossy(bytes).into_owned();
                Ok(Some(&self.lossy))
            }
        }
    }
}

/// Calls `f` for every line of `inputs`, several files merged in time order (a line without
/// a readable time goes out as soon as it is read; ties keep the order of the inputs).
pub fn for_each_line(
    mut inputs: Vec<Input>,
    mut f: impl FnMut(&str, &YearRef),
) -> Result<(), LogsError> {
    if inputs.len() == 1 {
        if let Some(mut input) = inputs.pop() {
            let year = input.year;
            while let Some(line) = input.next_line()? {
                f(line, &year);
            }
        }
        return Ok(());
    }
    struct Head {
        input: Input,
        line: String,
        time: Option<Timestamp>,
        done: bool,
    }
    let mut heads: Vec<Head> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let mut h = Head {
            input,
            line: String::new(),
            time: None,
            done: false,
        };
        advance(&mut h.input, &mut h.line, &mut h.time, &mut h.done)?;
        heads.push(h);
    }
    fn advance(
        input: &mut Input,
        line: &mut String,
        time: &mut Option<Timestamp>,
        done: &mut bool,
    ) -> Result<(), LogsError> {
        line.clear();
        match input.next_line()? {
            Some(l) => {
                line.push_str(l);
                *time = line_time(line, &input.year);
            }
            None => *done = true,
        }
        Ok(())
    }
    loop {
        let mut best: Option<usize> = None;
        for (i, h) in heads.iter().enumerate() {
            if h.done {
                continue;
            }
            let better = match best.and_then(|b| heads.get(b)) {
                None => true,
                Some(b) => match (h.time, b.time) {
                    (None, Some(_)) => true,
                    (Some(a), Some(bt)) => a < bt,
                    _ => false,
                },
            };
            if better {
                best = Some(i);
            }
        }
        let Some(h) = best.and_then(|b| heads.get_mut(b)) else {
            break;
        };
        f(&h.line, &h.input.year);
        advance(&mut h.input, &mut h.line, &mut h.time, &mut h.done)?;
    }
    Ok(())
}

/// Follows a growing log file (`tail -F`): new complete lines, surviving truncation and
/// rotation (the path pointing at a new file).
pub struct Follower {
    path: PathBuf,
    file: File,
    pos: u64,
    id: (u64, u64),
    partial: Vec<u8>,
}

fn file_id(meta: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (0, 0)
    }
}

impl Follower {
    /// Opens `path`; reading starts at its end unless `from_start`.
    pub fn new(path: &Path, from_start: bool) -> Result<Follower, LogsError> {
        let err = |err| LogsError::Open {
            path: path.to_owned(),
            err,
        };
        let mut file = File::open(path).map_err(err)?;
        let meta = file.metadata().map_err(err)?;
        let pos = if from_start {
            0
        } else {
            file.seek(SeekFrom::End(0)).map_err(err)?
        };
        Ok(Follower {
            path: path.to_owned(),
            file,
            pos,
            id: file_id(&meta),
            partial: Vec::new(),
        })
    }

    /// Reads whatever complete lines were appended since the last call; returns how many.
    pub fn poll(&mut self, mut f: impl FnMut(&str)) -> Result<usize, LogsError> {
        let rerr = |err| LogsError::Read {
            path: self.path.clone(),
            err,
        };
        if let Ok(meta) = std::fs::metadata(&self.path) {
            let rotated = file_id(&meta) != self.id;
            let truncated = !rotated && meta.len() < self.pos;
            if rotated || truncated {
                // Drain the old file first when it was rotated away.
                if rotated {
                    let mut rest = Vec::new();
                    let _ = self.file.read_to_end(&mut rest);
                    self.partial.extend_from_slice(&rest);
                }
                if let Ok(file) = File::open(&self.path) {
                    self.file = file;
                    self.id = file_id(&meta);
                }
                self.pos = 0;
                self.file.seek(SeekFrom::Start(0)).map_err(rerr)?;
            }
        }
        let mut chunk = Vec::new();
        let n = self
            .file
            .read_to_end(&mut chunk)
            .map_err(|err| LogsError::Read {
                path: self.path.clone(),
                err,
            })?;
        self.pos += n as u64;
        self.partial.extend_from_slice(&chunk);
        let mut count = 0;
        let mut start = 0;
        while let Some(nl) = self
            .partial
            .get(start..)
            .and_then(|s| memchr::memchr(b'\n', s))
        {
            let end = start + nl;
            if let Some(bytes) = self.partial.get(start..end) {
                let line = String::from_utf8_lossy(bytes);
                f(line.trim_end_matches('\r'));
                count += 1;
            }
            start = end + 1;
        }
        self.partial.drain(..start.min(self.partial.len()));
        Ok(count)
    }
}
