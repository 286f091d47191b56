//! POP3 wire format (RFC 1939 §3): command line framing and the multi-line response body
//! (byte-stuffing and the `TOP` cut). Pure functions over bytes.

/// RFC 2449 §4: "command lines ... may be up to 255 octets, including the terminating CRLF".
pub const MAX_COMMAND_LINE: usize = 255;

/// A SASL client response line (RFC 5034 §4). The 255-octet limit binds the `AUTH` command
/// line itself (a client whose initial response would not fit sends it as a continuation
/// instead), so continuation lines get more room; this still bounds what is buffered.
pub const MAX_AUTH_LINE: usize = 4096;

/// One piece taken from the input buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A complete line without its line end; `consumed` includes the line end.
    Complete { text: &'a [u8], consumed: usize },
    /// A line longer than the limit. `consumed` octets are dropped; when `ended` is false
    /// the line's end has not arrived yet and the rest of it must be skipped as it comes.
    TooLong { consumed: usize, ended: bool },
}

/// Takes the next line from `buf` (at most `max` octets including its line end), or `None`
/// while no complete line is there.
///
/// RFC 1939 §3: commands end with CRLF. A bare LF is accepted as a line end too (old clients
/// send it; POP3 has no data phase that a smuggled line end could escape from), and the CR
/// before it is removed; a CR anywhere else stays in the line and is refused by the parser.
pub fn next_line(buf: &[u8], max: usize) -> Option<Line<'_>> {
    match memchr::memchr(b'\n', buf) {
        Some(lf) => {
            let consumed = lf + 1;
            if consumed > max {
                return Some(Line::TooLong {
                    consumed,
                    ended: true,
                });
            }
            let mut text = buf.get(..lf)?;
            if let Some(stripped) = text.strip_suffix(b"\r") {
                text = stripped;
            }
            Some(Line::Complete { text, consumed })
        }
        // No line end yet: once `max` octets have arrived the line cannot fit any more.
        None if buf.len() >= max => Some(Line::TooLong {
            consumed: buf.len(),
            ended: false,
        }),
        None => None,
    }
}

/// Appends `message` as the body of a multi-line response (RFC 1939 §3): every line ends
/// with CRLF (a bare LF line end is written as CRLF, and a last line without one gets it),
/// a line starting with `.` gets another `.` in front ("byte-stuffing"), and the response
/// ends with `.` CRLF.
///
/// With `top = Some(n)` only the header, the blank line after it and `n` lines of the body
/// are written (RFC 1939 §7, TOP); a message without a blank line is all header.
/// Returns the number of octets of `message` that were written (before stuffing).
pub fn write_multiline(out: &mut Vec<u8>, message: &[u8], top: Option<u64>) -> usize {
    out.reserve(message.len() + message.len() / 64 + 8);
    let mut in_header = true;
    let mut body_lines: u64 = 0;
    let mut written = 0;
    let mut rest = message;
    while !rest.is_empty() {
        if !in_header && top.is_some_and(|n| body_lines >= n) {
            break;
        }
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(lf) => (
                rest.get(..lf).unwrap_or(&[]),
                rest.get(lf + 1..).unwrap_or(&[]),
            ),
            None => (rest, &[][..]),
        };
        written += rest.len() - next.len();
        let text = line.strip_suffix(b"\r").unwrap_or(line);
        if text.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
        if in_header {
            if text.is_empty() {
                in_header = false;
            }
        } else {
            body_lines += 1;
        }
        rest = next;
    }
    out.extend_from_slice(b".\r\n");
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multiline(message: &[u8], top: Option<u64>) -> String {
        let mut out = Vec::new();
        write_multiline(&mut out, message, top);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lines_end_in_crlf_or_lf_and_the_cr_is_removed() {
        assert_eq!(
            next_line(b"STAT\r\nNOOP", 255),
            Some(Line::Complete {
                text: b"STAT",
                consumed: 6
            })
        );
        assert_eq!(
            next_line(b"STAT\n", 255),
            Some(Line::Complete {
                text: b"STAT",
                consumed: 5
            })
        );
        assert_eq!(next_line(b"STA", 255), None);
        assert_eq!(
            next_line(b"A\rB\r\n", 255),
            Some(Line::Complete {
                text: b"A\rB",
                consumed: 5
            })
        );
    }

    #[test]
    fn the_255_octet_limit_counts_the_crlf() {
        let ok = [vec![b'a'; 253], b"\r\n".to_vec()].concat();
        assert!(matches!(
            next_line(&ok, MAX_COMMAND_LINE),
            Some(Line::Complete { consumed: 255, .. })
        ));
        let long = [vec![b'a'; 254], b"\r\n".to_vec()].concat();
        assert_eq!(
            next_line(&long, MAX_COMMAND_LINE),
            Some(Line::TooLong {
                consumed: 256,
                ended: true
            })
        );
        assert_eq!(next_line(&[b'a'; 254], MAX_COMMAND_LINE), None);
        assert_eq!(
            next_line(&[b'a'; 255], MAX_COMMAND_LINE),
            Some(Line::TooLong {
                consumed: 255,
                ended: false
            })
        );
    }

    #[test]
    fn dot_stuffing_and_the_terminator() {
        assert_eq!(
            multiline(b"A: b\r\n\r\n.hidden\r\n..two\r\nend\r\n", None),
            "A: b\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n"
        );
        // A lone "." line must not end the response early.
        assert_eq!(multiline(b"x\r\n.\r\ny\r\n", None), "x\r\n..\r\ny\r\n.\r\n");
    }

    #[test]
    fn bare_lf_and_a_missing_last_line_end_become_crlf() {
        assert_eq!(multiline(b"a\nb", None), "a\r\nb\r\n.\r\n");
        assert_eq!(multiline(b"", None), ".\r\n");
    }

    #[test]
    fn written_count_is_the_message_octets() {
        let msg = b"A: b\r\n\r\n.x\r\n";
        let mut out = Vec::new();
        assert_eq!(write_multiline(&mut out, msg, None), msg.len());
    }

    #[test]
    fn top_sends_header_blank_line_and_n_body_lines() {
        let msg = b"A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n";
        assert_eq!(multiline(msg, Some(0)), "A: 1\r\nB: 2\r\n\r\n.\r\n");
        assert_eq!(
            multiline(msg, Some(2)),
            "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n"
        );
        assert_eq!(
            multiline(msg, Some(99)),
            "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n"
        );
        assert_eq!(
            multiline(b"A: 1\r\nB: 2\r\n", Some(0)),
            "A: 1\r\nB: 2\r\n.\r\n"
        );
    }
}
