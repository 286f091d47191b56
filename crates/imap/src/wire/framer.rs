//! Framing of client input (RFC 9051 §2.2, §4.3): command lines, synchronizing literals
//! `{n}` (the server answers `+` before the client sends the octets), non-synchronizing
//! literals `{n+}` (RFC 7888 LITERAL+, sent at once) and literal8 `~{n}` (RFC 3516 §4.1,
//! for APPEND). Pure and I/O-free: bytes go in with [`Framer::push`], [`Frame`]s come out
//! of [`Framer::next_frame`].
//!
//! Limits (see [`crate::Limits`]): a command line is at most `max_line` octets without its
//! literals; a literal is at most the APPENDLIMIT in APPEND, 1 MiB in SETMETADATA (RFC 5464
//! values, see `SETMETADATA_LITERAL`), `max_literal` elsewhere, and
//! less before authentication; a command is at most `max_command` in all. A refused
//! command is skipped whole without losing step with the client:
//! - a synchronizing literal that is too big is refused before the client sends it (the
//!   client waits for `+`, RFC 9051 §4.3), so nothing needs skipping;
//! - a non-synchronizing literal that is too big is read and thrown away, as is the rest of
//!   its command (RFC 7888 §4), unless it is beyond `max_discard` (then the session ends);
//! - a line that is too long is thrown away up to its end (and any non-synchronizing
//!   literal it announces).
//!
//! Lines end in CRLF (RFC 9051 §2.2); a bare LF is accepted as a line end and made CRLF.

use crate::limits::Limits;

/// What a refused command broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The command line was longer than the line limit.
    LineTooLong,
    /// A literal was larger than the limit for this command; `append` when it was the
    /// message of an APPEND (RFC 7889: answer `NO [TOOBIG]`).
    LiteralTooBig { length: u64, append: bool },
    /// The command as a whole was larger than `max_command`.
    CommandTooBig,
}

/// One thing the framer found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete command: its lines (CRLF-terminated) and literal octets, ready to decode.
    Command(Vec<u8>),
    /// The client announced a synchronizing literal of `length` octets that is accepted:
    /// send a command continuation request (`+ ...`, RFC 9051 §7.5) now.
    Continue { length: u64 },
    /// A command was refused and skipped (its tag, when one could be read).
    Rejected {
        tag: Option<Vec<u8>>,
        reason: Rejection,
    },
    /// The client announced a non-synchronizing literal too large even to skip, or a literal
    /// length that is not a number: the stream cannot be followed any more. Send
    /// `* BYE` and close.
    Fatal { tag: Option<Vec<u8>> },
}

/// One line read in line mode (AUTHENTICATE responses, IDLE's DONE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFrame {
    /// The line without its line end.
    Line(Vec<u8>),
    /// The line was longer than the limit (it was skipped to its end).
    TooLong,
}

/// A literal announced at the end of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Announcement {
    length: u64,
    sync: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Reading a command line.
    Line,
    /// Reading `remaining` octets of a literal into the command.
    Literal { remaining: u64 },
    /// Throwing away the rest of a refused command: `remaining` literal octets first, then
    /// lines (the last octets of the current one kept in `tail` to see an announcement).
    Discard {
        remaining: u64,
        tail: Vec<u8>,
        tag: Option<Vec<u8>>,
        reason: Rejection,
    },
    /// Line mode: skipping a line that was too long.
    SkipLine,
}

/// The framer of one connection.
#[derive(Debug)]
pub struct Framer {
    limits: Limits,
    authenticated: bool,
    /// Received octets not yet framed.
    buf: Vec<u8>,
    /// The command being assembled.
    cmd: Vec<u8>,
    /// Where the current line starts in `cmd`.
    line_start: usize,
    state: State,
}

/// Largest literal of a SETMETADATA command (its values): above the annotation size limit
/// (64 KiB in the store), so a value somewhat too large gets its RFC 5464 answer.
const SETMETADATA_LITERAL: u64 = 1024 * 1024;

/// Longest tail kept while skipping a line: enough for `~{4294967295+}` CRLF.
const TAIL: usize = 32;

/// RFC 9051 §9 tag = 1*<any ASTRING-CHAR except "+">.
pub fn is_tag_char(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
        && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b'+')
}

/// The tag at the start of a command, if it is a valid tag followed by a space.
pub fn recover_tag(cmd: &[u8]) -> Option<Vec<u8>> {
    let end = cmd.iter().position(|&b| !is_tag_char(b))?;
    if end == 0 || end > 64 || cmd.get(end) != Some(&b' ') {
        return None;
    }
    cmd.get(..end).map(<[u8]>::to_vec)
}

/// The command name after the tag (`UID` commands give the word after `UID`), upper-cased.
pub fn command_name(cmd: &[u8]) -> Option<String> {
    let mut words = cmd
        .split(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .filter(|w| !w.is_empty());
    let _tag = words.next()?;
    let mut name = words.next()?;
    if name.eq_ignore_ascii_case(b"UID") {
        name = words.next().unwrap_or(name);
    }
    if name.len() > 32
        || !name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
    {
        return None;
    }
    Some(String::from_utf8_lossy(name).to_ascii_uppercase())
}

/// A literal announcement at the end of `line` (line end excluded): `{n}`, `{n+}`, `~{n}`,
/// `~{n+}`. `Err(())` for an announcement whose number is not a valid 32-bit number
/// (RFC 9051 §9: number = 1*DIGIT, unsigned 32-bit).
fn announcement(line: &[u8]) -> Result<Option<Announcement>, ()> {
    let Some(body) = line.strip_suffix(b"}") else {
        return Ok(None);
    };
    let Some(open) = body.iter().rposition(|&b| b == b'{') else {
        return Ok(None);
    };
    let mut digits = body.get(open + 1..).unwrap_or(&[]);
    let sync = match digits.strip_suffix(b"+") {
        Some(d) => {
            digits = d;
            false
        }
        None => true,
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Ok(None);
    }
    if digits.len() > 10 {
        return Err(());
    }
    let mut n: u64 = 0;
    for &d in digits {
        n = n * 10 + u64::from(d - b'0');
    }
    if n > u64::from(u32::MAX) {
        return Err(());
    }
    Ok(Some(Announcement { length: n, sync }))
}

fn strip_eol(line: &[u8]) -> &[u8] {
    let l = line.strip_suffix(b"\n").unwrap_or(line);
    l.strip_suffix(b"\r").unwrap_or(l)
}

impl Framer {
    pub fn new(limits: Limits) -> Self {
        Framer {
            limits,
            authenticated: false,
            buf: Vec::new(),
            cmd: Vec::new(),
            line_start: 0,
            state: State::Line,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// After authentication, literals may be as large as the APPENDLIMIT (in APPEND) or
    /// `max_literal`; before, `max_literal_unauthenticated`.
    pub fn set_authenticated(&mut self, yes: bool) {
        self.authenticated = yes;
    }

    /// Adds received octets.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Octets received and not yet framed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Octets held for the command being read: its lines and literals so far, and input not
    /// yet framed.
    pub fn held(&self) -> usize {
        self.buf.len() + self.cmd.len()
    }

    /// The next command line when a whole one without a literal is received and not yet
    /// framed (line end excluded); nothing is consumed.
    pub fn peek_line(&self) -> Option<&[u8]> {
        if !self.at_command_start() {
            return None;
        }
        let end = memchr::memchr(b'\n', &self.buf)?;
        let line = strip_eol(self.buf.get(..=end)?);
        match announcement(line) {
            Ok(None) => Some(line),
            _ => None,
        }
    }

    /// True between commands (no partial command held).
    pub fn at_command_start(&self) -> bool {
        self.state == State::Line && self.cmd.is_empty()
    }

    /// Drops everything received and any partial command (RFC 9051 §6.2.1: after STARTTLS,
    /// pipelined plaintext must not be used; CVE-2011-0411).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.cmd.clear();
        self.line_start = 0;
        self.state = State::Line;
    }

    /// The largest command now: small before authentication.
    fn command_limit(&self) -> u64 {
        if self.authenticated {
            self.limits.max_command
        } else {
            self.limits
                .max_command_unauthenticated
                .min(self.limits.max_command)
        }
    }

    fn literal_limit(&self) -> (u64, bool) {
        let name = command_name(&self.cmd);
        let append = name.as_deref() == Some("APPEND");
        if !self.authenticated {
            (self.limits.max_literal_unauthenticated, false)
        } else if append {
            (self.limits.max_append, true)
        } else if name.as_deref() == Some("SETMETADATA") {
            // RFC 5464 §4.3: a value over the annotation limit is answered `NO [METADATA
            // MAXSIZE n]`, so SETMETADATA's values are read whole up to this size.
            (self.limits.max_literal.max(SETMETADATA_LITERAL), false)
        } else {
            (self.limits.max_literal, false)
        }
    }

    /// Starts skipping the rest of the command (after a non-synchronizing literal of
    /// `remaining` octets) or answers at once for a synchronizing one.
    fn refuse(
        &mut self,
        tag: Option<Vec<u8>>,
        reason: Rejection,
        ann: Option<Announcement>,
    ) -> Option<Frame> {
        self.cmd.clear();
        self.line_start = 0;
        match ann {
            Some(a) if !a.sync => {
                if a.length > self.limits.max_discard {
                    self.state = State::Line;
                    self.buf.clear();
                    return Some(Frame::Fatal { tag });
                }
                self.state = State::Discard {
                    remaining: a.length,
                    tail: Vec::new(),
                    tag,
                    reason,
                };
                None
            }
            _ => {
                self.state = State::Line;
                Some(Frame::Rejected { tag, reason })
            }
        }
    }

    /// The next frame, or `None` when more input is needed.
    pub fn next_frame(&mut self) -> Option<Frame> {
        loop {
            match &mut self.state {
                State::Literal { remaining } => {
                    if self.buf.is_empty() {
                        return None;
                    }
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(self.buf.len());
                    self.cmd.extend(self.buf.drain(..take));
                    *remaining -= take as u64;
                    if *remaining > 0 {
                        return None;
                    }
                    self.state = State::Line;
                    self.line_start = self.cmd.len();
                }
                State::Discard {
                    remaining,
                    tail,
                    tag,
                    reason,
                } => {
                    if *remaining > 0 {
                        if self.buf.is_empty() {
                            return None;
                        }
                        let take = usize::try_from(*remaining)
                            .unwrap_or(usize::MAX)
                            .min(self.buf.len());
                        self.buf.drain(..take);
                        *remaining -= take as u64;
                        continue;
                    }
                    let Some(lf) = memchr::memchr(b'\n', &self.buf) else {
                        tail.extend_from_slice(&self.buf);
                        let excess = tail.len().saturating_sub(TAIL);
                        tail.drain(..excess);
                        self.buf.clear();
                        return None;
                    };
                    tail.extend(self.buf.drain(..=lf));
                    let excess = tail.len().saturating_sub(TAIL + 2);
                    tail.drain(..excess);
                    let (tag, reason) = (tag.take(), *reason);
                    match announcement(strip_eol(tail)) {
                        Ok(Some(a)) if !a.sync => {
                            if a.length > self.limits.max_discard {
                                self.state = State::Line;
                                self.buf.clear();
                                return Some(Frame::Fatal { tag });
                            }
                            self.state = State::Discard {
                                remaining: a.length,
                                tail: Vec::new(),
                                tag,
                                reason,
                            };
                        }
                        Err(()) => {
                            self.state = State::Line;
                            self.buf.clear();
                            return Some(Frame::Fatal { tag });
                        }
                        // A synchronizing literal is never sent without `+`: the command
                        // ends here.
                        _ => {
                            self.state = State::Line;
                            return Some(Frame::Rejected { tag, reason });
                        }
                    }
                }
                State::SkipLine => {
                    let Some(lf) = memchr::memchr(b'\n', &self.buf) else {
                        self.buf.clear();
                        return None;
                    };
                    self.buf.drain(..=lf);
                    self.state = State::Line;
                }
                State::Line => return self.line(),
            }
        }
    }

    fn line(&mut self) -> Option<Frame> {
        let line_len = self.cmd.len() - self.line_start;
        let Some(lf) = memchr::memchr(b'\n', &self.buf) else {
            if line_len + self.buf.len() > self.limits.max_line {
                let mut head = self.cmd.clone();
                head.extend_from_slice(&self.buf);
                let tag = recover_tag(&head);
                let mut tail = std::mem::take(&mut self.buf);
                let excess = tail.len().saturating_sub(TAIL);
                tail.drain(..excess);
                self.cmd.clear();
                self.line_start = 0;
                self.state = State::Discard {
                    remaining: 0,
                    tail,
                    tag,
                    reason: Rejection::LineTooLong,
                };
                return self.next_frame();
            }
            return None;
        };
        let line: Vec<u8> = self.buf.drain(..=lf).collect();
        if line_len + line.len() > self.limits.max_line {
            let mut head = self.cmd.clone();
            head.extend_from_slice(&line);
            let tag = recover_tag(&head);
            let ann = announcement(strip_eol(&line));
            return match ann {
                Err(()) => {
                    self.reset_command();
                    Some(Frame::Fatal { tag })
                }
                Ok(a) => self
                    .refuse(tag, Rejection::LineTooLong, a)
                    .or_else(|| self.next_frame()),
            };
        }
        let content = strip_eol(&line);
        self.cmd.extend_from_slice(content);
        self.cmd.extend_from_slice(b"\r\n");
        match announcement(content) {
            Err(()) => {
                let tag = recover_tag(&self.cmd);
                self.reset_command();
                Some(Frame::Fatal { tag })
            }
            Ok(None) => {
                self.line_start = 0;
                Some(Frame::Command(std::mem::take(&mut self.cmd)))
            }
            Ok(Some(a)) => {
                let (limit, append) = self.literal_limit();
                let total = (self.cmd.len() as u64).saturating_add(a.length);
                let reason = if a.length > limit {
                    Some(Rejection::LiteralTooBig {
                        length: a.length,
                        append,
                    })
                } else if total > self.command_limit() {
                    Some(Rejection::CommandTooBig)
                } else {
                    None
                };
                if let Some(reason) = reason {
                    let tag = recover_tag(&self.cmd);
                    return self
                        .refuse(tag, reason, Some(a))
                        .or_else(|| self.next_frame());
                }
                if a.length == 0 {
                    self.line_start = self.cmd.len();
                    if a.sync {
                        return Some(Frame::Continue { length: 0 });
                    }
                    return self.next_frame();
                }
                self.state = State::Literal {
                    remaining: a.length,
                };
                if a.sync {
                    Some(Frame::Continue { length: a.length })
                } else {
                    self.next_frame()
                }
            }
        }
    }

    fn reset_command(&mut self) {
        self.cmd.clear();
        self.line_start = 0;
        self.state = State::Line;
        self.buf.clear();
    }

    /// Line mode: the next line (AUTHENTICATE responses, RFC 9051 §6.2.2; IDLE's DONE,
    /// RFC 2177). Call only between commands.
    pub fn next_line(&mut self) -> Option<LineFrame> {
        if self.state == State::SkipLine {
            let lf = memchr::memchr(b'\n', &self.buf)?;
            self.buf.drain(..=lf);
            self.state = State::Line;
        }
        match memchr::memchr(b'\n', &self.buf) {
            Some(lf) if lf < self.limits.max_line => {
                let line: Vec<u8> = self.buf.drain(..=lf).collect();
                Some(LineFrame::Line(strip_eol(&line).to_vec()))
            }
            Some(lf) => {
                self.buf.drain(..=lf);
                Some(LineFrame::TooLong)
            }
            None if self.buf.len() > self.limits.max_line => {
                self.buf.clear();
                self.state = State::SkipLine;
                Some(LineFrame::TooLong)
            }
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framer() -> Framer {
        let mut f = Framer::new(Limits {
            max_line: 100,
            max_append: 1000,
            max_literal: 50,
            max_literal_unauthenticated: 20,
            max_command: 1200,
            max_discard: 5000,
            ..Limits::default()
        });
        f.set_authenticated(true);
        f
    }

    fn all(f: &mut Framer) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some(fr) = f.next_frame() {
            out.push(fr);
        }
        out
    }

    #[test]
    fn simple_lines_and_bare_lf() {
        let mut f = framer();
        f.push(b"a NOOP\r\nb CAPABILITY\nc");
        assert_eq!(
            all(&mut f),
            vec![
                Frame::Command(b"a NOOP\r\n".to_vec()),
                Frame::Command(b"b CAPABILITY\r\n".to_vec())
            ]
        );
        assert!(!f.at_command_start() || f.buffered() == 1);
    }

    #[test]
    fn synchronizing_literal_asks_for_continuation() {
        let mut f = framer();
        f.push(b"a LOGIN {4}\r\n");
        assert_eq!(all(&mut f), vec![Frame::Continue { length: 4 }]);
        f.push(b"user {4}\r\n");
        assert_eq!(all(&mut f), vec![Frame::Continue { length: 4 }]);
        f.push(b"pass\r\n");
        assert_eq!(
            all(&mut f),
            vec![Frame::Command(
                b"a LOGIN {4}\r\nuser {4}\r\npass\r\n".to_vec()
            )]
        );
    }

    #[test]
    fn non_synchronizing_literal_needs_no_continuation() {
        let mut f = framer();
        f.push(b"a LOGIN {4+}\r\nuser {4+}\r\npass\r\n");
        assert_eq!(
            all(&mut f),
            vec![Frame::Command(
                b"a LOGIN {4+}\r\nuser {4+}\r\npass\r\n".to_vec()
            )]
        );
    }

    #[test]
    fn literal8_in_append() {
        let mut f = framer();
        f.push(b"a APPEND INBOX ~{3+}\r\n\0\x01\x02\r\n");
        assert_eq!(
            all(&mut f),
            vec![Frame::Command(
                b"a APPEND INBOX ~{3+}\r\n\0\x01\x02\r\n".to_vec()
            )]
        );
    }

    #[test]
    fn literal_holding_crlf_is_not_a_line_end() {
        let mut f = framer();
        f.push(b"a APPEND INBOX {6+}\r\nx\r\ny\r\n\r\n");
        assert_eq!(
            all(&mut f),
            vec![Frame::Command(
                b"a APPEND INBOX {6+}\r\nx\r\ny\r\n\r\n".to_vec()
            )]
        );
    }

    #[test]
    fn too_big_sync_literal_is_refused_before_it_is_sent() {
        let mut f = framer();
        f.push(b"a APPEND INBOX {5000}\r\nb NOOP\r\n");
        assert_eq!(
            all(&mut f),
            vec![
                Frame::Rejected {
                    tag: Some(b"a".to_vec()),
                    reason: Rejection::LiteralTooBig {
                        length: 5000,
                        append: true
                    }
                },
                Frame::Command(b"b NOOP\r\n".to_vec())
            ]
        );
    }

    #[test]
    fn too_big_non_sync_literal_is_skipped_without_desync() {
        let mut f = framer();
        let mut input = b"a APPEND INBOX {60+}\r\n".to_vec();
        input.extend_from_slice(&[b'x'; 60]);
        input.extend_from_slice(b" more {2+}\r\nzz\r\nb NOOP\r\n");
        f.push(&input);
        let mut f2 = framer();
        f2.set_authenticated(true);
        // Not APPEND: the 50-octet literal limit applies.
        let mut input2 = b"a LOGIN {60+}\r\n".to_vec();
        input2.extend_from_slice(&[b'a'; 60]);
        input2.extend_from_slice(b" {2+}\r\nzz\r\nb NOOP\r\n");
        f2.push(&input2);
        assert_eq!(
            all(&mut f2),
            vec![
                Frame::Rejected {
                    tag: Some(b"a".to_vec()),
                    reason: Rejection::LiteralTooBig {
                        length: 60,
                        append: false
                    }
                },
                Frame::Command(b"b NOOP\r\n".to_vec())
            ]
        );
        // APPEND's 60 octets are under its 1000-octet limit.
        assert!(matches!(all(&mut f).first(), Some(Frame::Command(_))));
    }

    #[test]
    fn before_authentication_literals_are_small() {
        let mut f = framer();
        f.set_authenticated(false);
        f.push(b"a LOGIN {21}\r\n");
        assert!(matches!(
            all(&mut f).as_slice(),
            [Frame::Rejected {
                reason: Rejection::LiteralTooBig { length: 21, .. },
                ..
            }]
        ));
    }

    #[test]
    fn long_line_is_skipped_to_its_end() {
        let mut f = framer();
        let mut input = b"t1 SEARCH ".to_vec();
        input.extend_from_slice(&[b'x'; 300]);
        input.extend_from_slice(b"\r\nt2 NOOP\r\n");
        // Byte by byte: the limit holds whatever the read sizes.
        let mut frames = Vec::new();
        for b in &input {
            f.push(&[*b]);
            frames.extend(all(&mut f));
        }
        assert_eq!(
            frames,
            vec![
                Frame::Rejected {
                    tag: Some(b"t1".to_vec()),
                    reason: Rejection::LineTooLong
                },
                Frame::Command(b"t2 NOOP\r\n".to_vec())
            ]
        );
    }

    #[test]
    fn long_line_announcing_a_non_sync_literal_skips_it_too() {
        let mut f = framer();
        let mut input = b"t1 SEARCH ".to_vec();
        input.extend_from_slice(&[b'x'; 300]);
        input.extend_from_slice(b" {5+}\r\n\r\nt3 \r\nt2 NOOP\r\n");
        f.push(&input);
        assert_eq!(
            all(&mut f),
            vec![
                Frame::Rejected {
                    tag: Some(b"t1".to_vec()),
                    reason: Rejection::LineTooLong
                },
                Frame::Command(b"t2 NOOP\r\n".to_vec())
            ]
        );
    }

    #[test]
    fn absurd_literal_length_is_fatal() {
        let mut f = framer();
        f.push(b"a LOGIN {99999999999+}\r\n");
        assert_eq!(
            all(&mut f),
            vec![Frame::Fatal {
                tag: Some(b"a".to_vec())
            }]
        );
        let mut f = framer();
        f.push(b"a APPEND x {4000+}\r\n");
        assert!(matches!(all(&mut f).as_slice(), []));
        let mut f = framer();
        f.push(b"a APPEND x {9000+}\r\n");
        assert_eq!(
            all(&mut f),
            vec![Frame::Fatal {
                tag: Some(b"a".to_vec())
            }]
        );
    }

    #[test]
    fn split_reads_give_the_same_frames() {
        let input = b"a LOGIN {4+}\r\nuser pass\r\nb SELECT {5}\r\nINBOX\r\nc NOOP\r\n";
        let mut whole = framer();
        whole.push(input);
        let expected = all(&mut whole);
        for cut in 0..input.len() {
            let mut f = framer();
            f.push(&input[..cut]);
            let mut got = all(&mut f);
            f.push(&input[cut..]);
            got.extend(all(&mut f));
            assert_eq!(got, expected, "cut at {cut}");
        }
        let mut f = framer();
        let mut got = Vec::new();
        for b in input {
            f.push(&[*b]);
            got.extend(all(&mut f));
        }
        assert_eq!(got, expected);
    }

    #[test]
    fn line_mode_reads_lines() {
        let mut f = framer();
        f.push(b"dXNlcg==\r\nDONE\n");
        assert_eq!(f.next_line(), Some(LineFrame::Line(b"dXNlcg==".to_vec())));
        assert_eq!(f.next_line(), Some(LineFrame::Line(b"DONE".to_vec())));
        assert_eq!(f.next_line(), None);
        f.push(&[b'x'; 200]);
        assert_eq!(f.next_line(), Some(LineFrame::TooLong));
        f.push(b"yyy\r\nDONE\r\n");
        assert_eq!(f.next_line(), Some(LineFrame::Line(b"DONE".to_vec())));
    }

    #[test]
    fn tags_and_names() {
        assert_eq!(recover_tag(b"A001 NOOP\r\n"), Some(b"A001".to_vec()));
        assert_eq!(recover_tag(b"+ NOOP\r\n"), None);
        assert_eq!(recover_tag(b"a*b NOOP\r\n"), None);
        assert_eq!(
            command_name(b"x uid fetch 1 FLAGS\r\n").as_deref(),
            Some("FETCH")
        );
        assert_eq!(
            command_name(b"x append INBOX {3}\r\n").as_deref(),
            Some("APPEND")
        );
    }
}
