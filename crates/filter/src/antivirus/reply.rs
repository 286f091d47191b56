//! clamd's answers to `INSTREAM`, read into a [`ScanReply`].
//!
//! clamd(8), "COMMANDS": with the `z` prefix every reply ends with a NUL byte; a stream's
//! reply is `stream: OK`, `stream: <signature> FOUND`, `INSTREAM size limit exceeded. ERROR`
//! (clamd.conf(5) `StreamMaxLength`) or another line ending in `ERROR`.

/// What clamd said about a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanReply {
    /// `stream: OK`.
    Clean,
    /// `stream: <signature> FOUND`: the signature's name.
    Found(String),
    /// `INSTREAM size limit exceeded. ERROR`: clamd did not scan it.
    SizeLimitExceeded,
    /// Any other `... ERROR`, or an answer we do not know: the text, for the log.
    Error(String),
}

/// The longest signature name kept (clamd's own names are well under 200 bytes).
const MAX_SIGNATURE: usize = 200;

/// Reads one reply (without or with its terminating NUL and line end).
pub fn parse_reply(raw: &[u8]) -> ScanReply {
    let end = memchr::memchr(0, raw).unwrap_or(raw.len());
    let text = String::from_utf8_lossy(raw.get(..end).unwrap_or(raw));
    let text = text.trim_end_matches(['\r', '\n', ' ']);
    if text.ends_with("size limit exceeded. ERROR") {
        return ScanReply::SizeLimitExceeded;
    }
    // The stream's name is `stream` (clamd(8), INSTREAM); older versions wrote `stream(...)`.
    let verdict = text.split_once(": ").map(|(_, v)| v).unwrap_or(text);
    if verdict == "OK" {
        return ScanReply::Clean;
    }
    if let Some(signature) = verdict.strip_suffix(" FOUND") {
        let signature: String = signature
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_SIGNATURE)
            .collect();
        return ScanReply::Found(signature);
    }
    ScanReply::Error(text.chars().filter(|c| !c.is_control()).take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replies_clamd_writes_are_read() {
        assert_eq!(parse_reply(b"stream: OK\0"), ScanReply::Clean);
        assert_eq!(
            parse_reply(b"stream: Win.Test.EICAR_HDB-1 FOUND\0"),
            ScanReply::Found("Win.Test.EICAR_HDB-1".into())
        );
        assert_eq!(
            parse_reply(b"INSTREAM size limit exceeded. ERROR\0"),
            ScanReply::SizeLimitExceeded
        );
        assert_eq!(
            parse_reply(b"stream: Can't allocate memory ERROR\0"),
            ScanReply::Error("stream: Can't allocate memory ERROR".into())
        );
        assert_eq!(parse_reply(b"stream: OK\n"), ScanReply::Clean);
    }

    #[test]
    fn garbage_is_an_error_not_a_verdict() {
        assert!(matches!(parse_reply(b""), ScanReply::Error(_)));
        assert!(matches!(
            parse_reply(b"\xff\xfe FOUNDx"),
            ScanReply::Error(_)
        ));
        assert!(matches!(parse_reply(b"PONG\0"), ScanReply::Error(_)));
    }

    proptest::proptest! {
        #[test]
        fn any_reply_is_read_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = parse_reply(&bytes);
        }
    }
}
