//! SMTP wire framing: splitting command lines and reading the DATA body, with the checks
//! that stop SMTP smuggling (bare CR and bare LF are never line ends).

/// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets; extensions (RFC 1869 §4.1.2)
/// may add up to 4000 more for parameters, so lines beyond this are refused.
pub const MAX_COMMAND_LINE: usize = 4608;

/// One command line taken from the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A complete line, ending in CRLF (which is included).
    Complete(&'a [u8]),
    /// A line ending in a bare LF, or holding a bare CR (RFC 5321 §2.3.8: lines end in
    /// CRLF only). Carries the length consumed.
    Bare(usize),
    /// More than [`MAX_COMMAND_LINE`] octets without a line end; carries the length consumed.
    TooLong(usize),
}

/// Takes the next command line from `buf`, or `None` if no complete line is there yet.
pub fn next_line(buf: &[u8]) -> Option<Line<'_>> {
    match memchr::memchr(b'\n', buf) {
        Some(lf) => {
            let len = lf + 1;
            let line = buf.get(..len)?;
            if len > MAX_COMMAND_LINE {
                return Some(Line::TooLong(len));
            }
            let body = line.get(..lf.saturating_sub(1)).unwrap_or(&[]);
            if lf == 0 || line.get(lf - 1) != Some(&b'\r') || memchr::memchr(b'\r', body).is_some()
            {
                return Some(Line::Bare(len));
            }
            Some(Line::Complete(line))
        }
        None if buf.len() > MAX_COMMAND_LINE => Some(Line::TooLong(buf.len())),
        None => None,
    }
}

/// Why a DATA body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataProblem {
    /// A bare LF or bare CR was in the body (SMTP smuggling attempt or broken client).
    BareLineEnding,
    /// More octets than the size limit (RFC 1870 §6.3 SIZE).
    TooBig,
}

/// Reads a DATA body (RFC 5321 §4.1.1.4): the end is CRLF `.` CRLF and nothing else, lines
/// starting with `.` are un-stuffed (§4.5.2), the body is kept up to `max_size` octets.
#[derive(Debug)]
pub struct DataReader {
    body: Vec<u8>,
    max_size: usize,
    /// The previous line ended with CRLF (so a `.` CRLF now ends the body).
    after_crlf: bool,
    /// Inside a line that was too long to wait for (not at a line start).
    mid_line: bool,
    bare: bool,
    too_big: bool,
    size: usize,
}

/// Lines longer than this are consumed in pieces instead of waiting for their end.
const DATA_PIECE: usize = 64 * 1024;

impl DataReader {
    pub fn new(max_size: usize) -> Self {
        DataReader {
            body: Vec::new(),
            max_size,
            after_crlf: true,
            mid_line: false,
            bare: false,
            too_big: false,
            size: 0,
        }
    }

    /// Octets of body collected and not taken yet.
    pub fn buffered(&self) -> usize {
        self.body.len()
    }

    /// Takes the body collected so far (the session spools it); the size limit still
    /// counts every octet of the body.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.body)
    }

    fn push(&mut self, piece: &[u8]) {
        self.size = self.size.saturating_add(piece.len());
        if self.size > self.max_size {
            self.too_big = true;
        }
        if !self.too_big {
            self.body.extend_from_slice(piece);
        }
    }

    /// Consumes input; returns how many octets were used and, once the end marker was
    /// seen, `Some(result)`.
    pub fn feed(&mut self, input: &[u8]) -> (usize, Option<Result<Vec<u8>, DataProblem>>) {
        let mut used = 0;
        loop {
            let rest = input.get(used..).unwrap_or(&[]);
            let Some(lf) = memchr::memchr(b'\n', rest) else {
                if rest.len() > DATA_PIECE {
                    // Keep the last octet back: it may be the CR of a CRLF.
                    let take = rest.len() - 1;
                    let piece = rest.get(..take).unwrap_or(&[]);
                    let start_dot = !self.mid_line && piece.first() == Some(&b'.');
                    self.check_bare(piece);
                    self.push(if start_dot {
                        piece.get(1..).unwrap_or(&[])
                    } else {
                        piece
                    });
                    self.mid_line = true;
                    self.after_crlf = false;
                    used += take;
                }
                return (used, None);
            };
            let line = rest.get(..=lf).unwrap_or(&[]);
            used += line.len();
            let crlf = line.ends_with(b"\r\n");
            if !self.mid_line && self.after_crlf && line == b".\r\n" {
                let result = if self.bare {
                    Err(DataProblem::BareLineEnding)
                } else if self.too_big {
                    Err(DataProblem::TooBig)
                } else {
                    Ok(std::mem::take(&mut self.body))
                };
                return (used, Some(result));
            }
            if !crlf {
                self.bare = true;
            }
            let content = if crlf {
                line.get(..line.len() - 2).unwrap_or(&[])
            } else {
                line
            };
            self.check_bare(content.strip_suffix(b"\n").unwrap_or(content));
            let unstuffed = if !self.mid_line && line.first() == Some(&b'.') {
                line.get(1..).unwrap_or(&[])
            } else {
                line
            };
            self.push(unstuffed);
            self.mid_line = false;
            self.after_crlf = crlf;
        }
    }

    fn check_bare(&mut self, piece: &[u8]) {
        if memchr::memchr2(b'\r', b'\n', piece).is_some() {
            self.bare = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> (usize, Option<Result<Vec<u8>, DataProblem>>) {
        DataReader::new(1 << 20).feed(input)
    }

    #[test]
    fn command_lines_need_crlf() {
        assert_eq!(
            next_line(b"NOOP\r\nQUIT"),
            Some(Line::Complete(b"NOOP\r\n"))
        );
        assert_eq!(next_line(b"NOOP\nQUIT\r\n"), Some(Line::Bare(5)));
        assert_eq!(next_line(b"NO\rOP\r\n"), Some(Line::Bare(7)));
        assert_eq!(next_line(b"NOOP"), None);
        assert!(matches!(next_line(&[b'a'; 5000]), Some(Line::TooLong(_))));
    }

    #[test]
    fn body_ends_only_at_crlf_dot_crlf_and_is_unstuffed() {
        let (used, res) = read_all(b"a\r\n..b\r\n.\r\nQUIT\r\n");
        assert_eq!(used, 11);
        assert_eq!(res, Some(Ok(b"a\r\n.b\r\n".to_vec())));
    }

    #[test]
    fn smuggling_lf_dot_lf_is_not_an_end_and_taints_the_message() {
        let (_, res) = read_all(b"a\n.\nMAIL FROM:<x@y>\r\n.\r\n");
        assert_eq!(res, Some(Err(DataProblem::BareLineEnding)));
    }

    #[test]
    fn smuggling_lf_dot_crlf_is_not_an_end() {
        // The `.` CRLF follows a bare LF, so it is data; the real end comes later.
        let (used, res) = read_all(b"a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n");
        assert_eq!(used, 25);
        assert_eq!(res, Some(Err(DataProblem::BareLineEnding)));
    }

    #[test]
    fn smuggling_cr_dot_cr_is_refused() {
        let (_, res) = read_all(b"a\r.\rMAIL FROM:<x@y>\r\n.\r\n");
        assert_eq!(res, Some(Err(DataProblem::BareLineEnding)));
    }

    #[test]
    fn taken_pieces_still_count_towards_the_limit() {
        let mut r = DataReader::new(10);
        let (_, res) = r.feed(b"123456\r\n");
        assert!(res.is_none());
        assert_eq!(r.take(), b"123456\r\n");
        assert_eq!(r.buffered(), 0);
        let (_, res) = r.feed(b"789\r\n.\r\n");
        assert_eq!(res, Some(Err(DataProblem::TooBig)));
    }

    #[test]
    fn too_big_is_reported_at_the_end() {
        let mut r = DataReader::new(4);
        let (_, res) = r.feed(b"hello world\r\n.\r\n");
        assert_eq!(res, Some(Err(DataProblem::TooBig)));
    }

    #[test]
    fn split_input_gives_the_same_body() {
        let input = b"line one\r\n.dot\r\nline three\r\n.\r\n";
        for cut in 0..input.len() {
            let mut r = DataReader::new(1 << 20);
            let (used, res) = r.feed(&input[..cut]);
            assert!(res.is_none());
            let mut rest = input[used..].to_vec();
            let (_, res) = r.feed(&{
                let mut v = Vec::new();
                v.append(&mut rest);
                v
            });
            assert_eq!(res, Some(Ok(b"line one\r\ndot\r\nline three\r\n".to_vec())));
        }
    }
}
