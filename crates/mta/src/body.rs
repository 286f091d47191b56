//! A message body as the session collects it (issue 12, item 8: whole messages in RAM).
//!
//! Up to the spool threshold (`[limits] spool_threshold`) a body stays in memory, which is
//! the fast path of small mail. Past it the session hands the body out in pieces, each
//! about the threshold's size ([`crate::session::Action::Spool`]), for the server to
//! append to the message's spool file, so a session holds about the threshold in memory
//! whatever the message's size. It keeps only the header section (RFC 5322 §2.1), which
//! the checks at the end of the data read: the `Received:` count (RFC 5321 §6.3), `From:`
//! and `Sender:` ownership, the Message-ID for the log.

/// The most of a spooled message's header section kept in memory. A header section that
/// does not end within it is refused (RFC 5321 §4.5.3.1: a server may limit what it
/// takes), because what the checks do not see could hide a `From:`.
pub const HEAD_MAX: usize = 256 * 1024;

/// A received body, as the session hands it to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// The whole body.
    Memory(Vec<u8>),
    /// The body's first `spooled` octets went to the spool file already; `tail` is the rest
    /// and `head` the header section.
    Spooled {
        head: Vec<u8>,
        tail: Vec<u8>,
        spooled: u64,
    },
}

impl Body {
    /// The octets holding the header section (all of it for a body in memory).
    pub fn headers(&self) -> &[u8] {
        match self {
            Body::Memory(b) => b,
            Body::Spooled { head, .. } => head,
        }
    }

    /// The body's size in octets.
    pub fn len(&self) -> u64 {
        match self {
            Body::Memory(b) => b.len() as u64,
            Body::Spooled { tail, spooled, .. } => spooled + tail.len() as u64,
        }
    }

    /// True for an empty body.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a transaction whose body went past the threshold keeps about it.
#[derive(Debug, Default)]
pub(crate) struct Spill {
    /// The header section so far (complete once `head_done`).
    head: Vec<u8>,
    head_done: bool,
    /// The header section did not end within [`HEAD_MAX`].
    head_too_big: bool,
    /// Octets handed to the spool file.
    spooled: u64,
    /// The spool file could not be written: why (the rest of the body is thrown away and
    /// the message gets `451`).
    pub(crate) failed: Option<String>,
}

impl Spill {
    /// Records a piece handed to the spool file.
    pub(crate) fn spooled(&mut self, piece: &[u8]) {
        self.spooled += piece.len() as u64;
        self.keep_head(piece);
    }

    /// Keeps `piece` while the header section lasts: up to the empty line that ends it
    /// (RFC 5322 §2.1), or [`HEAD_MAX`].
    fn keep_head(&mut self, piece: &[u8]) {
        if self.head_done {
            return;
        }
        let from = self.head.len().saturating_sub(3);
        let room = (HEAD_MAX + 4).saturating_sub(self.head.len());
        self.head
            .extend_from_slice(piece.get(..room.min(piece.len())).unwrap_or(piece));
        if self.head.starts_with(b"\r\n") {
            // No header fields at all.
            self.head.truncate(2);
            self.head_done = true;
        } else if let Some(i) = self
            .head
            .get(from..)
            .and_then(|t| memchr::memmem::find(t, b"\r\n\r\n"))
        {
            self.head.truncate(from + i + 4);
            self.head_done = true;
        } else if self.head.len() > HEAD_MAX {
            self.head.truncate(HEAD_MAX);
            self.head_done = true;
            self.head_too_big = true;
        }
    }

    /// The body, with the rest that was still in memory; `Err(())` when its header section
    /// was too long to check.
    pub(crate) fn finish(mut self, tail: Vec<u8>) -> Result<Body, ()> {
        self.keep_head(&tail);
        if self.head_too_big {
            return Err(());
        }
        Ok(Body::Spooled {
            head: self.head,
            tail,
            spooled: self.spooled,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spill(pieces: &[&[u8]], tail: &[u8]) -> Result<Body, ()> {
        let mut s = Spill::default();
        for p in pieces {
            s.spooled(p);
        }
        s.finish(tail.to_vec())
    }

    #[test]
    fn keeps_the_header_section_across_pieces() {
        let pieces: [&[u8]; 3] = [b"Subject: a\r", b"\nFrom: b@c\r\n\r", b"\nbody\r\n"];
        let body = spill(&pieces, b"more").unwrap();
        assert_eq!(body.headers(), b"Subject: a\r\nFrom: b@c\r\n\r\n");
        assert_eq!(body.len(), pieces.concat().len() as u64 + 4);
        assert_eq!(crate::headers::values(body.headers(), "from"), ["b@c"]);
        let none = spill(&[b"\r\nbody"], b"").unwrap();
        assert_eq!(none.headers(), b"\r\n");
        // Headers only, ending in the tail still in memory.
        let all = spill(&[b"Subject: a\r\n"], b"X: y\r\n").unwrap();
        assert_eq!(all.headers(), b"Subject: a\r\nX: y\r\n");
    }

    #[test]
    fn a_header_section_past_the_limit_is_refused() {
        let long = vec![b'X'; HEAD_MAX + 10];
        assert!(spill(&[b"Subject: ", &long], b"\r\n\r\nbody").is_err());
        let fits = vec![b'X'; HEAD_MAX - 100];
        assert!(spill(&[b"Subject: ", &fits], b"\r\n\r\nbody").is_ok());
    }
}
