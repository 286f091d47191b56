//! Commands cheap enough to run on the connection's own task: a FETCH or UID FETCH of a
//! few messages named one by one, changing nothing, and CAPABILITY. Everything else goes
//! to a blocking thread, whose hand-off (two thread wake-ups) costs more than such a
//! command itself: a mail client opening one message pays it on every click.
//!
//! The test is on the command line as received (one line, no literal), before parsing;
//! what it lets through is parsed and run as usual.

use super::{Mode, Session};
use crate::wire::Frame;

/// The most messages a light FETCH names.
const MAX_LIGHT_MESSAGES: usize = 4;

/// True for a command line (without its CRLF) that is light: `tag CAPABILITY`, or
/// `tag [UID] FETCH n[,n...] items` naming at most [`MAX_LIGHT_MESSAGES`] messages one by
/// one (no range, no `*`, no `$`), whose items set no `\Seen` (RFC 9051 §6.4.5: BODY[...],
/// BINARY[...], RFC822 and RFC822.TEXT do; their .PEEK forms do not) and that has no
/// modifier (CHANGEDSINCE, VANISHED, PARTIAL).
pub fn is_light_line(line: &[u8]) -> bool {
    let mut words = line.splitn(3, |&b| b == b' ');
    let (Some(_tag), Some(verb)) = (words.next(), words.next()) else {
        return false;
    };
    let rest = words.next().unwrap_or(&[]);
    if verb.eq_ignore_ascii_case(b"CAPABILITY") {
        return rest.is_empty();
    }
    let rest = if verb.eq_ignore_ascii_case(b"UID") {
        match rest.split_first_chunk::<6>() {
            Some((fetch, tail)) if fetch.eq_ignore_ascii_case(b"FETCH ") => tail,
            _ => return false,
        }
    } else if verb.eq_ignore_ascii_case(b"FETCH") {
        rest
    } else {
        return false;
    };
    let Some(space) = rest.iter().position(|&b| b == b' ') else {
        return false;
    };
    let (set, items) = (
        rest.get(..space).unwrap_or(&[]),
        rest.get(space..).unwrap_or(&[]),
    );
    let mut numbers = 0;
    for n in set.split(|&b| b == b',') {
        numbers += 1;
        if n.is_empty() || !n.iter().all(u8::is_ascii_digit) || numbers > MAX_LIGHT_MESSAGES {
            return false;
        }
    }
    let items = items.to_ascii_uppercase();
    let has = |needle: &[u8]| memchr::memmem::find(&items, needle).is_some();
    if has(b"BODY[") || has(b"BINARY[") || has(b"CHANGEDSINCE") || has(b"VANISHED") {
        return false;
    }
    if has(b"PARTIAL") || has(b"{") {
        return false;
    }
    // RFC822 and RFC822.TEXT set \Seen; RFC822.SIZE and RFC822.HEADER do not.
    memchr::memmem::find_iter(&items, b"RFC822").all(|at| {
        let tail = items.get(at + 6..).unwrap_or(&[]);
        tail.starts_with(b".SIZE") || tail.starts_with(b".HEADER")
    })
}

impl Session {
    /// Runs the next command here and now when it is light (see [`is_light_line`]) and
    /// already received whole: `Some` with what [`Session::advance`] would return for it.
    /// `None` (nothing consumed) when it is not; the caller then runs
    /// [`Session::advance`] on a blocking thread. A light command's output is never
    /// streamed: it is all in [`Session::take_output`] afterwards.
    pub fn advance_light(&mut self) -> Option<Option<crate::Action>> {
        if !matches!(self.mode, Mode::Command) || self.selected().is_none() {
            return None;
        }
        if !self.framer.peek_line().is_some_and(is_light_line) {
            return None;
        }
        let frame = self.framer.next_frame()?;
        Some(self.frame_unstreamed(frame))
    }

    fn frame_unstreamed(&mut self, frame: Frame) -> Option<crate::Action> {
        let stream = self.stream.take();
        let action = self.frame(frame);
        self.stream = stream;
        action
    }

    /// True when received input waits to be framed (more pipelined commands).
    pub fn has_pending_input(&self) -> bool {
        self.framer.buffered() > 0
    }
}

#[cfg(test)]
mod tests {
    use super::is_light_line;

    #[test]
    fn single_message_peeks_are_light() {
        for l in [
            "a UID FETCH 4711 (BODY.PEEK[])",
            "a uid fetch 1,2,3 (FLAGS UID RFC822.SIZE)",
            "b FETCH 7 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.HEADER)",
            "c FETCH 7 ALL",
            "d CAPABILITY",
            "e UID FETCH 9 (BINARY.PEEK[1] BINARY.SIZE[1])",
        ] {
            assert!(is_light_line(l.as_bytes()), "{l}");
        }
    }

    #[test]
    fn writes_ranges_and_modifiers_are_not_light() {
        for l in [
            "a UID FETCH 4711 (BODY[])",
            "a FETCH 1 RFC822",
            "a FETCH 1 (RFC822.TEXT)",
            "a FETCH 1 BINARY[1]",
            "a UID FETCH 1:* (FLAGS)",
            "a FETCH 1:5 (FLAGS)",
            "a FETCH * (FLAGS)",
            "a FETCH $ (FLAGS)",
            "a FETCH 1,2,3,4,5 (FLAGS)",
            "a UID FETCH 1 (FLAGS) (CHANGEDSINCE 5)",
            "a UID FETCH 1 (FLAGS) (CHANGEDSINCE 5 VANISHED)",
            "a NOOP",
            "a STORE 1 +FLAGS (\\Seen)",
            "a SEARCH TEXT x",
            "a CAPABILITY extra",
            "a UID FETCH",
            "a FETCH 1",
            "",
            "a",
        ] {
            assert!(!is_light_line(l.as_bytes()), "{l}");
        }
    }
}
