//! The work-around for `mail-auth` 0.13's relaxed body canonicalisation, which keeps
//! whitespace-only lines at the end of the body (fixed in 0.15, which this toolchain cannot
//! build).
//!
//! RFC 6376 §3.4.4 (relaxed body): whitespace at the end of a line is ignored, so a
//! whitespace-only line is an empty line, and empty lines at the end of the body are
//! ignored. `mail-auth` 0.13 hashes `"text\r\n \r\n"` as `"text\r\n\r\n"` instead of
//! `"text\r\n"`, a wrong `bh=` that every other verifier rejects. A copy of the message whose
//! body stops after its last non-whitespace octet (then one CRLF) has the same canonical
//! body as the original, and `mail-auth` canonicalises it right: the copy is signed, the
//! original is sent unchanged. The unit tests prove the equivalence against the RFC's rules.

use std::borrow::Cow;

fn is_wsp_or_break(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The bytes to hand to `mail-auth`: the message itself, or a copy without the trailing
/// whitespace of its body when that trailing whitespace holds a space or a tab (only then
/// can a whitespace-only line, or trailing whitespace after the last line, be there).
pub(crate) fn signing_copy(message: &[u8], body_offset: usize) -> Cow<'_, [u8]> {
    let body = message.get(body_offset..).unwrap_or_default();
    let content_end = body
        .iter()
        .rposition(|&b| !is_wsp_or_break(b))
        .map_or(0, |last| last + 1);
    let tail = body.get(content_end..).unwrap_or_default();
    if !tail.iter().any(|&b| b == b' ' || b == b'\t') {
        return Cow::Borrowed(message);
    }
    let keep = body_offset.saturating_add(content_end).min(message.len());
    let mut copy = Vec::with_capacity(keep + 2);
    copy.extend_from_slice(message.get(..keep).unwrap_or(message));
    if content_end > 0 {
        copy.extend_from_slice(b"\r\n");
    }
    Cow::Owned(copy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_auth::common::headers::Writable;
    use mail_auth::dkim::Canonicalization;
    use proptest::prelude::*;

    /// RFC 6376 §3.4.4 relaxed body canonicalisation, written from the RFC's text for
    /// bodies whose lines end in CRLF (the last one may not).
    fn rfc_relaxed_body(body: &[u8]) -> Vec<u8> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            let (line, next) = match rest.windows(2).position(|w| w == b"\r\n") {
                Some(i) => (&rest[..i], &rest[i + 2..]),
                None => (rest, &b""[..]),
            };
            // Ignore whitespace at the end of lines; reduce whitespace runs to one SP.
            let mut out = Vec::new();
            let mut in_wsp = false;
            for &b in line {
                if b == b' ' || b == b'\t' {
                    in_wsp = true;
                } else {
                    if in_wsp {
                        out.push(b' ');
                    }
                    in_wsp = false;
                    out.push(b);
                }
            }
            lines.push(out);
            rest = next;
        }
        // Ignore all empty lines at the end of the body.
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        let mut out = Vec::new();
        for line in lines {
            out.extend_from_slice(&line);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    fn mail_auth_relaxed_body(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Canonicalization::Relaxed
            .canonical_body(body, 0)
            .write(&mut out);
        out
    }

    fn copy_body(body: &[u8]) -> Vec<u8> {
        let mut message = b"From: a@x.org\r\n\r\n".to_vec();
        let offset = message.len();
        message.extend_from_slice(body);
        signing_copy(&message, offset)[offset..].to_vec()
    }

    /// The bug this module exists for, still in the `mail-auth` we build. When this test
    /// fails, `mail-auth` was fixed and the work-around can go.
    #[test]
    fn mail_auth_0_13_keeps_trailing_whitespace_only_lines() {
        let body = b"text\r\n  \r\n\t\r\n";
        assert_eq!(rfc_relaxed_body(body), b"text\r\n");
        assert_ne!(mail_auth_relaxed_body(body), b"text\r\n");
        assert_eq!(mail_auth_relaxed_body(&copy_body(body)), b"text\r\n");
    }

    #[test]
    fn bodies_without_trailing_whitespace_are_not_copied() {
        let msg = b"From: a@x.org\r\n\r\ntext\r\n\r\n";
        assert!(matches!(signing_copy(msg, 17), Cow::Borrowed(_)));
        let msg = b"From: a@x.org\r\n\r\n";
        assert!(matches!(signing_copy(msg, msg.len()), Cow::Borrowed(_)));
    }

    #[test]
    fn whitespace_only_body_becomes_empty() {
        assert_eq!(copy_body(b" \r\n\t\r\n  "), b"");
        assert_eq!(mail_auth_relaxed_body(&copy_body(b" \r\n\t\r\n  ")), b"");
    }

    fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
        let token = prop_oneof![
            Just(&b"a"[..]),
            Just(&b"word"[..]),
            Just(&b" "[..]),
            Just(&b"\t"[..]),
            Just(&b"  \t "[..]),
            Just(&b"\r\n"[..]),
            Just(&b"\r\n\r\n"[..]),
            Just("\u{e9}t\u{e9}".as_bytes()),
        ];
        proptest::collection::vec(token, 0..24).prop_map(|tokens| tokens.concat())
    }

    proptest! {
        /// What `mail-auth` hashes for the copy is the RFC's canonical form of the original:
        /// signing the copy gives the original's `bh=`.
        #[test]
        fn copy_canonicalises_like_the_original_per_rfc(body in body_strategy()) {
            prop_assert_eq!(mail_auth_relaxed_body(&copy_body(&body)), rfc_relaxed_body(&body));
        }
    }
}
