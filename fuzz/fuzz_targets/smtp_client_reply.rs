//! Fuzzes the outbound client's reply reader (`mailward_mta::outbound::reply`): what a
//! hostile server sends is framed and parsed reply after reply, as the connection does it.
//! Framing must never panic, never claim more bytes than it was given, stay within
//! `MAX_REPLY`, and find the same replies whether the bytes arrive at once or in pieces;
//! parsing a framed reply (and reading it as an EHLO reply, as the session does with a
//! positive one) must never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_mta::outbound::reply::{self, MAX_REPLY, ReplyError};

/// Frames and parses every whole reply at the start of `buf`, the way `Connection::read_raw`
/// consumes its buffer; returns the replies' lengths and what stopped it.
fn consume(mut buf: &[u8]) -> (Vec<usize>, Option<ReplyError>) {
    let mut lengths = Vec::new();
    loop {
        match reply::frame(buf) {
            Ok(Some(n)) => {
                assert!(n > 0, "an empty reply framed");
                assert!(n <= buf.len(), "framed {n} octets of {}", buf.len());
                assert!(n <= MAX_REPLY, "a reply of {n} octets passed the limit");
                let (raw, rest) = buf.split_at(n);
                if let Ok(r) = reply::parse(raw) {
                    let _ = r.one_line();
                    let _ = r.status_text();
                    if r.is_positive() {
                        let _ = smtp_proto::EhloResponse::parse(&mut raw.iter());
                    }
                }
                lengths.push(n);
                buf = rest;
            }
            Ok(None) => return (lengths, None),
            Err(e) => return (lengths, Some(e)),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&piece, data)) = data.split_first() else {
        return;
    };
    let (whole, whole_err) = consume(data);

    // The same bytes as they would arrive from the network: in pieces, framing after each.
    let piece = usize::from(piece) + 1;
    let mut buf: Vec<u8> = Vec::new();
    let mut streamed = Vec::new();
    let mut streamed_err = None;
    'arrive: for chunk in data.chunks(piece) {
        buf.extend_from_slice(chunk);
        loop {
            match reply::frame(&buf) {
                Ok(Some(n)) => {
                    assert!(n <= buf.len());
                    streamed.push(n);
                    buf.drain(..n);
                }
                Ok(None) => break,
                Err(e) => {
                    streamed_err = Some(e);
                    break 'arrive;
                }
            }
        }
        // Bounded memory: what waits for the end of a reply never stays past the limit.
        assert!(buf.len() <= MAX_REPLY, "{} octets buffered", buf.len());
    }
    // Whole replies come out the same however the bytes were split, up to the first
    // error (an error may come earlier in pieces: the partial line is checked as it comes).
    let common = whole.len().min(streamed.len());
    assert_eq!(whole.get(..common), streamed.get(..common));
    if whole_err.is_none() && streamed_err.is_none() {
        assert_eq!(whole, streamed, "pieces of {piece} framed differently");
    }
});
