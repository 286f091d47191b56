//! Input discovery and message splitting for `mailward trace`.
//!
//! A PATH is one of:
//! - a file holding one message (`.eml`, or bare header text), or an mbox (the file starts
//!   with a `From ` line, RFC 4155);
//! - a Maildir (a directory with `cur/` or `new/`): the files in `new/` and `cur/`, then
//!   the Maildir++ subfolders (`.Name/`);
//! - any other directory: the `*.eml` files in it and its subdirectories (Maildirs found
//!   inside are read as Maildirs; a directory named `cur`, `new` or `tmp` yields every file);
//! - `-`: standard input (one message or an mbox).
//!
//! Messages come out in [`Batch`]es of bounded size, in input order, so a 1 GB mbox is
//! read in chunks and never held whole. In [`Mode::Headers`] only the header block of each
//! message is kept (all the analysis needs); [`Mode::Full`] keeps whole messages, with mboxrd
//! `>From ` quoting undone, for DKIM/ARC re-verification.
//!
//! A consumer that sends finished batches back ([`Reader::recycling`]) has them refilled
//! instead of new ones allocated: a fresh multi-megabyte buffer per batch costs page
//! faults and copying as it grows, which showed up as a tenth of `trace`'s time.

use memchr::memmem;
use std::fmt::{self, Write as _};
use std::fs::{self, File};
use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// How much of each message to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The header block, up to and including the empty line that ends it.
    Headers,
    /// The whole message (needed to re-verify DKIM body hashes).
    Full,
}

/// A failure to read an input; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{}: no such file or directory", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: cannot open: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{}: cannot list directory: {source}", path.display())]
    ListDir { path: PathBuf, source: io::Error },
}

/// One input to read messages from, after directory expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file: one message, or an mbox when it starts with `From `.
    File { path: PathBuf, len: u64 },
}

impl Input {
    /// The size in bytes when known (files), for progress reporting.
    pub fn size(&self) -> Option<u64> {
        match self {
            Input::Stdin => None,
            Input::File { len, .. } => Some(*len),
        }
    }
}

/// The result of expanding the command line's PATHs.
#[derive(Debug, Default)]
pub struct Discovered {
    /// The inputs in the order they will be read.
    pub inputs: Vec<Input>,
    /// Directories given on the command line that held no message files.
    pub empty_dirs: Vec<PathBuf>,
}

/// Expands PATHs (`-` is standard input; none at all means standard input) into inputs.
///
/// A PATH that does not exist or a directory that cannot be listed is an error naming it,
/// so nothing is read when the command line is wrong.
pub fn discover(paths: &[PathBuf]) -> Result<Discovered, SourceError> {
    let mut found = Discovered::default();
    if paths.is_empty() {
        found.inputs.push(Input::Stdin);
        return Ok(found);
    }
    for path in paths {
        if path.as_os_str() == "-" {
            found.inputs.push(Input::Stdin);
            continue;
        }
        let meta = match fs::metadata(path) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(SourceError::NotFound { path: path.clone() });
            }
            Err(source) => {
                return Err(SourceError::Open {
                    path: path.clone(),
                    source,
                });
            }
        };
        if meta.is_dir() {
            let before = found.inputs.len();
            walk_dir(path, &mut found.inputs)?;
            if found.inputs.len() == before {
                found.empty_dirs.push(path.clone());
            }
        } else {
            found.inputs.push(Input::File {
                path: path.clone(),
                len: meta.len(),
            });
        }
    }
    Ok(found)
}

/// True when `dir` looks like a Maildir: it has a `cur` or `new` subdirectory.
fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() || dir.join("new").is_dir()
}

/// Sorted, non-hidden entries of a directory with their types (symlinks resolved).
fn list_dir(dir: &Path) -> Result<Vec<(PathBuf, fs::Metadata)>, SourceError> {
    let err = |source| SourceError::ListDir {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(err)?;
        // Symlinks are followed to files only: a linked directory could loop.
        let meta = if file_type.is_symlink() {
            match fs::metadata(&path) {
                Ok(meta) if meta.is_file() => meta,
                _ => continue,
            }
        } else {
            entry.metadata().map_err(err)?
        };
        entries.push((path, meta));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn has_eml_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("eml"))
}

fn walk_dir(dir: &Path, out: &mut Vec<Input>) -> Result<(), SourceError> {
    if is_maildir(dir) {
        return walk_maildir(dir, out);
    }
    let every_file = dir
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| matches!(n, "cur" | "new" | "tmp"));
    for (path, meta) in list_dir(dir)? {
        if is_hidden(&path) {
            continue;
        }
        if meta.is_dir() {
            walk_dir(&path, out)?;
        } else if meta.is_file() && (every_file || has_eml_extension(&path)) {
            out.push(Input::File {
                path,
                len: meta.len(),
            });
        }
    }
    Ok(())
}

/// Maildir (and Maildir++): messages live in `new/` (not yet seen) and `cur/`; `tmp/` holds
/// deliveries in progress and is skipped. Subfolders are the `.Name` directories.
fn walk_maildir(dir: &Path, out: &mut Vec<Input>) -> Result<(), SourceError> {
    for sub in ["new", "cur"] {
        let sub = dir.join(sub);
        if !sub.is_dir() {
            continue;
        }
        for (path, meta) in list_dir(&sub)? {
            if meta.is_file() && !is_hidden(&path) {
                out.push(Input::File {
                    path,
                    len: meta.len(),
                });
            }
        }
    }
    for (path, meta) in list_dir(dir)? {
        if meta.is_dir() && is_hidden(&path) && is_maildir(&path) {
            walk_maildir(&path, out)?;
        }
    }
    Ok(())
}

/// One message of a batch.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// `path`, `path#N` for the N-th message of an mbox, `-` or `-#N` for standard input.
    pub source: &'a str,
    /// The header block ([`Mode::Headers`]) or the whole message ([`Mode::Full`]).
    pub raw: &'a [u8],
}

/// A run of consecutive messages sharing one buffer (and one buffer for their names).
#[derive(Debug, Default)]
pub struct Batch {
    data: Vec<u8>,
    names: String,
    entries: Vec<Entry>,
    /// Input bytes consumed to produce this batch (for progress).
    pub bytes_read: u64,
}

/// Where one message's name and text are in a [`Batch`]'s buffers.
#[derive(Debug, Clone)]
struct Entry {
    name: Range<usize>,
    raw: Range<usize>,
}

impl Batch {
    /// The number of messages.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the batch holds no message.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `i`-th message, if there is one.
    pub fn get(&self, i: usize) -> Option<Message<'_>> {
        let entry = self.entries.get(i)?;
        Some(Message {
            source: self.names.get(entry.name.clone())?,
            raw: self.data.get(entry.raw.clone())?,
        })
    }

    /// The messages in order.
    pub fn iter(&self) -> impl Iterator<Item = Message<'_>> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Empties the batch, keeping its buffers for the next fill.
    fn clear(&mut self) {
        self.data.clear();
        self.names.clear();
        self.entries.clear();
        self.bytes_read = 0;
    }

    fn push(&mut self, source: fmt::Arguments<'_>, message: &[u8], mode: Mode) {
        let name_start = self.names.len();
        // Writing to a String cannot fail.
        let _ = self.names.write_fmt(source);
        let start = self.data.len();
        match mode {
            Mode::Headers => self
                .data
                .extend_from_slice(message.get(..header_end(message)).unwrap_or(message)),
            Mode::Full => unquote_from_lines(message, &mut self.data),
        }
        self.entries.push(Entry {
            name: name_start..self.names.len(),
            raw: start..self.data.len(),
        });
    }
}

/// The length of the header block: up to and including the first empty line (LF or CRLF),
/// or the whole text when there is none (bare header text).
pub fn header_end(message: &[u8]) -> usize {
    if message.starts_with(b"\n") {
        return 1;
    }
    if message.starts_with(b"\r\n") {
        return 2;
    }
    for nl in memchr::memchr_iter(b'\n', message) {
        match message.get(nl + 1..) {
            Some([b'\n', ..]) => return nl + 2,
            Some([b'\r', b'\n', ..]) => return nl + 3,
            _ => {}
        }
    }
    message.len()
}

/// Copies a message, undoing mboxrd quoting: a line `>From `, `>>From `, ... loses one `>`
/// (RFC 4155 §2 describes the quoting; mboxrd makes it reversible).
fn unquote_from_lines(message: &[u8], out: &mut Vec<u8>) {
    let mut rest = message;
    while !rest.is_empty() {
        let line_len = memchr::memchr(b'\n', rest).map_or(rest.len(), |p| p + 1);
        let (line, tail) = rest.split_at(line_len);
        let quoted = line.iter().position(|&b| b != b'>').unwrap_or(0);
        if quoted > 0 && line.get(quoted..).is_some_and(|l| l.starts_with(b"From ")) {
            out.extend_from_slice(line.get(1..).unwrap_or_default());
        } else {
            out.extend_from_slice(line);
        }
        rest = tail;
    }
}

/// The mbox postmark `From ` that starts each message (RFC 4155).
const FROM_: &[u8] = b"From ";
/// Bytes read per chunk from a stream.
const CHUNK: u64 = 4 << 20;
/// The first read of each input, to tell an mbox from a message.
const FIRST_CHUNK: u64 = 64 << 10;
/// A single message's header block larger than this is cut (in [`Mode::Headers`]).
const MAX_HEADER: u64 = 16 << 20;

/// Splits an mbox stream into messages, reading it in chunks.
///
/// A line starting `From ` begins a new message when it is the first line, follows an
/// empty line (RFC 4155: each message ends with one), or looks like a postmark
/// (`From sender date` with a `hh:mm` time), which tolerates writers that omit the empty
/// line. Body lines quoted as `>From ` never split.
struct MboxSplitter<R> {
    reader: R,
    buf: Vec<u8>,
    /// Start of the current message (its `From ` line) in `buf`.
    start: usize,
    /// Where the search for the next separator resumes.
    scan: usize,
    eof: bool,
    consumed: u64,
}

impl<R: Read> MboxSplitter<R> {
    fn new(reader: R, mut buf: Vec<u8>) -> Self {
        // Room for a whole chunk up front: growing the buffer by doubling while reading
        // would copy and touch twice the memory.
        buf.reserve(CHUNK as usize);
        MboxSplitter {
            reader,
            buf,
            start: 0,
            scan: 0,
            eof: false,
            consumed: 0,
        }
    }

    /// Reads another chunk; false at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scan -= self.start;
            self.start = 0;
        }
        let n = read_chunk(&mut self.reader, &mut self.buf, CHUNK)?;
        self.consumed += n as u64;
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// The next message (its `From ` line stripped), or None at the end.
    fn next_message(&mut self) -> io::Result<Option<&[u8]>> {
        loop {
            if self.start >= self.buf.len() {
                if !self.fill()? {
                    return Ok(None);
                }
                continue;
            }
            match self.find_separator()? {
                Some(next) => {
                    let (from, to) = (self.start, next);
                    self.start = next;
                    self.scan = next + 1;
                    return Ok(self.buf.get(from..to).map(strip_postmark));
                }
                None if self.eof => {
                    let from = self.start;
                    self.start = self.buf.len();
                    return Ok(self.buf.get(from..).map(strip_postmark));
                }
                None => {
                    self.fill()?;
                }
            }
        }
    }

    /// Position of the next separator line after `start`, None when more input is needed
    /// (or at end of input).
    fn find_separator(&mut self) -> io::Result<Option<usize>> {
        let from = self.scan.max(self.start + 1);
        let Some(hay) = self.buf.get(from.saturating_sub(1)..) else {
            return Ok(None);
        };
        let base = from.saturating_sub(1);
        for hit in memmem::find_iter(hay, b"\nFrom ") {
            let nl = base + hit;
            let line_start = nl + 1;
            if line_start <= self.start {
                continue;
            }
            if follows_empty_line(&self.buf, nl) {
                return Ok(Some(line_start));
            }
            match memchr::memchr(b'\n', self.buf.get(line_start..).unwrap_or_default()) {
                Some(len) => {
                    let line = self
                        .buf
                        .get(line_start..line_start + len)
                        .unwrap_or_default();
                    if looks_like_postmark(line) {
                        return Ok(Some(line_start));
                    }
                }
                None if !self.eof => {
                    // The candidate line is incomplete: look at it again after the next read.
                    self.scan = nl;
                    return Ok(None);
                }
                None => {}
            }
        }
        // Keep the last few bytes: a separator may straddle the next read.
        self.scan = self
            .buf
            .len()
            .saturating_sub(FROM_.len() + 2)
            .max(self.start + 1);
        Ok(None)
    }
}

/// True when the newline at `nl` ends an empty line (`\n\n` or `\n\r\n`).
fn follows_empty_line(buf: &[u8], nl: usize) -> bool {
    match nl.checked_sub(1).and_then(|p| buf.get(p)) {
        Some(b'\n') => true,
        Some(b'\r') => nl >= 2 && buf.get(nl - 2) == Some(&b'\n'),
        _ => false,
    }
}

/// A `From ` line that carries a time of day (`hh:mm`) is taken as a postmark
/// (`From sender@example.com Mon Jan  1 00:00:00 2024`).
fn looks_like_postmark(line: &[u8]) -> bool {
    line.windows(3)
        .any(|w| matches!(w, [a, b':', b] if a.is_ascii_digit() && b.is_ascii_digit()))
}

/// Drops the `From ` postmark line that starts an mbox message.
fn strip_postmark(message: &[u8]) -> &[u8] {
    if !message.starts_with(FROM_) {
        return message;
    }
    match memchr::memchr(b'\n', message) {
        Some(nl) => message.get(nl + 1..).unwrap_or_default(),
        None => &[],
    }
}

/// Appends up to `limit` bytes from `reader` to `buf`; returns how many were read.
fn read_chunk<R: Read>(reader: &mut R, buf: &mut Vec<u8>, limit: u64) -> io::Result<usize> {
    reader.take(limit).read_to_end(buf)
}

/// Reads every message of the inputs, in order, in batches.
pub struct Reader {
    inputs: std::vec::IntoIter<Input>,
    mode: Mode,
    current: Option<Current>,
    /// A buffer recycled between inputs.
    spare: Vec<u8>,
    max_messages: usize,
    max_bytes: usize,
    /// An input's error, delivered after the batch read before it.
    pending: Option<SourceError>,
    /// Batches the consumer has finished with, to refill (see [`Reader::recycling`]).
    returned: Option<mpsc::Receiver<Batch>>,
}

/// The mbox being split.
struct Current {
    name: String,
    path: PathBuf,
    splitter: MboxSplitter<Box<dyn Read + Send>>,
    count: usize,
    reported: u64,
}

impl Reader {
    /// Batches hold up to 2,048 messages or 8 MiB of message data.
    pub fn new(inputs: Vec<Input>, mode: Mode) -> Self {
        Reader {
            inputs: inputs.into_iter(),
            mode,
            current: None,
            spare: Vec::new(),
            max_messages: 2048,
            max_bytes: 8 << 20,
            pending: None,
            returned: None,
        }
    }

    /// Refills the batches that come back on `returned` instead of allocating new ones.
    /// The consumer sends each batch back once it no longer borrows its messages; a batch
    /// that never comes back is simply replaced by a new one.
    pub fn recycling(mut self, returned: mpsc::Receiver<Batch>) -> Self {
        self.returned = Some(returned);
        self
    }

    /// An empty batch: a returned one when there is one, else a new one.
    fn empty_batch(&self) -> Batch {
        match self.returned.as_ref().and_then(|rx| rx.try_recv().ok()) {
            Some(mut batch) => {
                batch.clear();
                batch
            }
            // Reserved up front (pages are only touched as they fill): growing a buffer of
            // megabytes by doubling copies it and touches twice the memory.
            None => Batch {
                data: Vec::with_capacity(self.max_bytes.min(4 << 20)),
                names: String::with_capacity(self.max_messages.min(4096) * 64),
                entries: Vec::with_capacity(self.max_messages.min(4096)),
                bytes_read: 0,
            },
        }
    }

    /// Changes the batch limits (at least one message per batch).
    pub fn with_batch_limits(mut self, messages: usize, bytes: usize) -> Self {
        self.max_messages = messages.max(1);
        self.max_bytes = bytes.max(1);
        self
    }

    fn full(&self, batch: &Batch) -> bool {
        batch.len() >= self.max_messages || batch.data.len() >= self.max_bytes
    }

    /// Continues the current mbox into `batch`. Returns an error naming the file.
    fn drain_current(&mut self, batch: &mut Batch) -> Result<(), SourceError> {
        let mode = self.mode;
        while !self.full(batch) {
            let Some(cur) = self.current.as_mut() else {
                return Ok(());
            };
            let next = match cur.splitter.next_message() {
                Ok(next) => next,
                Err(source) => {
                    let path = cur.path.clone();
                    self.current = None;
                    return Err(SourceError::Read { path, source });
                }
            };
            match next {
                Some(message) => {
                    cur.count += 1;
                    batch.push(format_args!("{}#{}", cur.name, cur.count), message, mode);
                }
                None => {
                    if let Some(done) = self.current.take() {
                        batch.bytes_read += done.splitter.consumed - done.reported;
                        self.spare = done.splitter.buf;
                        self.spare.clear();
                    }
                    return Ok(());
                }
            }
        }
        if let Some(cur) = self.current.as_mut() {
            batch.bytes_read += cur.splitter.consumed - cur.reported;
            cur.reported = cur.splitter.consumed;
        }
        Ok(())
    }

    /// Opens the next input: a single message goes straight into `batch`, an mbox becomes
    /// `current`. Returns false when no inputs remain.
    fn open_next(&mut self, batch: &mut Batch) -> Result<bool, SourceError> {
        let Some(input) = self.inputs.next() else {
            return Ok(false);
        };
        let (name, path, mut reader): (String, PathBuf, Box<dyn Read + Send>) = match input {
            Input::Stdin => ("-".into(), PathBuf::from("-"), Box::new(io::stdin())),
            Input::File { path, .. } => {
                let file = File::open(&path).map_err(|source| SourceError::Open {
                    path: path.clone(),
                    source,
                })?;
                (path.display().to_string(), path, Box::new(file))
            }
        };
        let read_err = |source| SourceError::Read {
            path: path.clone(),
            source,
        };
        let mut buf = std::mem::take(&mut self.spare);
        buf.clear();
        let mut consumed = read_chunk(&mut reader, &mut buf, FIRST_CHUNK).map_err(read_err)?;
        let body = skip_leading_blank_lines(&buf);
        if body.starts_with(FROM_) {
            let skip = buf.len() - body.len();
            buf.drain(..skip);
            let mut splitter = MboxSplitter::new(reader, buf);
            splitter.consumed = consumed as u64;
            self.current = Some(Current {
                name,
                path,
                splitter,
                count: 0,
                reported: 0,
            });
            return Ok(true);
        }
        // One message: in header mode read only until the header block ends.
        loop {
            if self.mode == Mode::Headers && header_end(&buf) < buf.len() {
                break;
            }
            if self.mode == Mode::Headers && buf.len() as u64 >= MAX_HEADER {
                break;
            }
            let n = read_chunk(&mut reader, &mut buf, CHUNK).map_err(read_err)?;
            if n == 0 {
                break;
            }
            consumed += n;
        }
        batch.push(format_args!("{name}"), &buf, self.mode);
        batch.bytes_read += consumed as u64;
        buf.clear();
        self.spare = buf;
        Ok(true)
    }
}

fn skip_leading_blank_lines(mut data: &[u8]) -> &[u8] {
    loop {
        match data {
            [b'\n', rest @ ..] | [b'\r', b'\n', rest @ ..] => data = rest,
            _ => return data,
        }
    }
}

impl Iterator for Reader {
    type Item = Result<Batch, SourceError>;

    /// The next batch, or an error naming the file that failed (reading goes on with the
    /// next input after an error).
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(err) = self.pending.take() {
            return Some(Err(err));
        }
        let mut batch = self.empty_batch();
        loop {
            if let Err(err) = self.drain_current(&mut batch) {
                if batch.is_empty() {
                    return Some(Err(err));
                }
                self.pending = Some(err);
                return Some(Ok(batch));
            }
            if self.full(&batch) {
                return Some(Ok(batch));
            }
            match self.open_next(&mut batch) {
                Ok(true) => {}
                Ok(false) => return (!batch.is_empty()).then_some(Ok(batch)),
                Err(err) => {
                    // Deliver what was read before the failing input first.
                    if batch.is_empty() {
                        return Some(Err(err));
                    }
                    self.pending = Some(err);
                    return Some(Ok(batch));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(data: &[u8], mode: Mode) -> Vec<(String, Vec<u8>)> {
        let mut splitter = MboxSplitter::new(data, Vec::new());
        let mut out = Vec::new();
        let mut batch = Batch::default();
        while let Ok(Some(m)) = splitter.next_message() {
            batch.push(format_args!("#{}", out.len() + 1), m, mode);
            out.push(String::new());
        }
        batch
            .iter()
            .map(|m| (m.source.to_string(), m.raw.to_vec()))
            .collect()
    }

    #[test]
    fn mbox_splits_on_from_lines_and_keeps_headers_only() {
        let mbox = b"From a@example.com Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody one\n>From the quoted line\n\nFrom b@example.com Mon Jan  1 00:00:01 2024\nSubject: two\n\nbody two\n";
        let msgs = split(mbox, Mode::Headers);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].1, b"Subject: one\n\n");
        assert_eq!(msgs[1].1, b"Subject: two\n\n");
    }

    #[test]
    fn mbox_full_mode_unquotes_from_lines() {
        let mbox = b"From a Mon Jan  1 00:00:00 2024\nSubject: one\n\n>From here\n>>From there\n";
        let msgs = split(mbox, Mode::Full);
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].1, b"Subject: one\n\nFrom here\n>From there\n");
    }

    #[test]
    fn crlf_mbox_splits_and_finds_header_end() {
        let mbox = b"From a Mon Jan  1 00:00:00 2024\r\nSubject: one\r\n\r\nbody\r\n\r\nFrom b Mon Jan  1 00:00:00 2024\r\nSubject: two\r\n\r\nbody\r\n";
        let msgs = split(mbox, Mode::Headers);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].1, b"Subject: one\r\n\r\n");
        assert_eq!(msgs[1].1, b"Subject: two\r\n\r\n");
    }

    #[test]
    fn body_from_line_without_blank_or_time_does_not_split() {
        let mbox = b"From a Mon Jan  1 00:00:00 2024\nSubject: one\n\nline\nFrom me to you\n";
        assert_eq!(split(mbox, Mode::Headers).len(), 1);
    }

    #[test]
    fn postmark_without_blank_line_still_splits() {
        let mbox = b"From a Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody\nFrom b Tue Jan  2 10:11:12 2024\nSubject: two\n\n";
        assert_eq!(split(mbox, Mode::Headers).len(), 2);
    }

    #[test]
    fn separators_straddling_chunks_are_found() {
        // Many small messages through a reader that returns 7 bytes at a time.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(out.len()).min(7);
                let (head, tail) = self.0.split_at(n);
                out[..n].copy_from_slice(head);
                self.0 = tail;
                Ok(n)
            }
        }
        let mut mbox = Vec::new();
        for i in 0..50 {
            mbox.extend_from_slice(
                format!("From x Mon Jan  1 00:00:00 2024\nSubject: {i}\n\nbody\n\n").as_bytes(),
            );
        }
        let mut splitter = MboxSplitter::new(Trickle(&mbox), Vec::new());
        let mut subjects = Vec::new();
        while let Ok(Some(m)) = splitter.next_message() {
            subjects.push(String::from_utf8_lossy(&m[..header_end(m)]).to_string());
        }
        assert_eq!(subjects.len(), 50);
        assert_eq!(subjects[49], "Subject: 49\n\n");
    }

    /// The line-by-line statement of the rule `header_end` implements with one scan.
    fn header_end_by_lines(raw: &[u8]) -> usize {
        let mut start = 0;
        while let Some(pos) = memchr::memchr(b'\n', raw.get(start..).unwrap_or_default()) {
            let line_end = start + pos + 1;
            let line = raw.get(start..line_end).unwrap_or_default();
            if line == b"\n" || line == b"\r\n" {
                return line_end;
            }
            start = line_end;
        }
        raw.len()
    }

    proptest::proptest! {
        #[test]
        fn header_end_finds_the_first_empty_line(raw in "[a:\r\n ]{0,40}") {
            proptest::prop_assert_eq!(
                header_end(raw.as_bytes()),
                header_end_by_lines(raw.as_bytes())
            );
        }
    }

    #[test]
    fn header_end_handles_bare_headers() {
        assert_eq!(header_end(b"Subject: x\nFrom: y\n"), 19);
        assert_eq!(header_end(b"\nbody"), 1);
        assert_eq!(header_end(b""), 0);
    }

    #[test]
    fn discovery_reads_maildir_cur_and_new_and_eml_dirs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let md = dir.path().join("Maildir");
        for sub in ["cur", "new", "tmp", ".Sent/cur"] {
            fs::create_dir_all(md.join(sub)).expect("mkdir");
        }
        fs::write(md.join("cur/1:2,S"), "Subject: a\n\n").expect("write");
        fs::write(md.join("new/2"), "Subject: b\n\n").expect("write");
        fs::write(md.join("tmp/3"), "Subject: partial\n\n").expect("write");
        fs::write(md.join(".Sent/cur/4:2,S"), "Subject: c\n\n").expect("write");
        let emls = dir.path().join("emls");
        fs::create_dir_all(&emls).expect("mkdir");
        fs::write(emls.join("a.eml"), "Subject: d\n\n").expect("write");
        fs::write(emls.join("notes.txt"), "not mail").expect("write");

        let found = discover(&[md, emls]).expect("discover");
        let names: Vec<String> = found
            .inputs
            .iter()
            .filter_map(|i| match i {
                Input::File { path, .. } => path.file_name().map(|n| n.to_string_lossy().into()),
                Input::Stdin => None,
            })
            .collect();
        assert_eq!(names, ["2", "1:2,S", "4:2,S", "a.eml"]);
    }

    #[test]
    fn missing_path_is_an_error_naming_it() {
        let err = discover(&[PathBuf::from("/nonexistent/x.eml")]).expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/x.eml"));
    }

    #[test]
    fn returned_batches_are_refilled_from_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mbox = dir.path().join("box");
        let mut text = String::new();
        for i in 0..5 {
            text.push_str(&format!(
                "From a Mon Jan  1 00:00:00 2024\nSubject: {i}\n\nbody {i}\n\n"
            ));
        }
        fs::write(&mbox, text).expect("write");
        let found = discover(std::slice::from_ref(&mbox)).expect("discover");
        let (back, returned) = mpsc::channel();
        let reader = Reader::new(found.inputs, Mode::Headers)
            .with_batch_limits(2, 1 << 20)
            .recycling(returned);
        let mut seen = Vec::new();
        for batch in reader {
            let batch = batch.expect("batch");
            assert!(batch.len() <= 2);
            seen.extend(batch.iter().map(|m| {
                (
                    m.source.to_string(),
                    String::from_utf8_lossy(m.raw).to_string(),
                )
            }));
            back.send(batch).expect("send back");
        }
        let name = mbox.display().to_string();
        let expected: Vec<(String, String)> = (0..5)
            .map(|i| (format!("{name}#{}", i + 1), format!("Subject: {i}\n\n")))
            .collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn reader_names_mbox_messages_and_single_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mbox = dir.path().join("box");
        fs::write(
            &mbox,
            "From a Mon Jan  1 00:00:00 2024\nSubject: 1\n\nx\n\nFrom b Mon Jan  1 00:00:00 2024\nSubject: 2\n\n",
        )
        .expect("write");
        let eml = dir.path().join("one.eml");
        fs::write(&eml, "Subject: 3\n\nbody").expect("write");
        let found = discover(&[mbox.clone(), eml.clone()]).expect("discover");
        let reader = Reader::new(found.inputs, Mode::Headers).with_batch_limits(2, 1 << 20);
        let mut sources = Vec::new();
        for batch in reader {
            let batch = batch.expect("batch");
            sources.extend(batch.iter().map(|m| m.source.to_string()));
        }
        let mbox = mbox.display().to_string();
        assert_eq!(
            sources,
            [
                format!("{mbox}#1"),
                format!("{mbox}#2"),
                eml.display().to_string()
            ]
        );
    }
}
