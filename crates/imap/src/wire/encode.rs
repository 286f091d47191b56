//! Writing responses (RFC 9051 §7) with imap-codec's encoder, plus the small conversions
//! the server needs: response text made valid, response codes imap-types lacks
//! (RFC 5530), tags recovered from broken commands.

use imap_codec::encode::Encoder;
use imap_codec::imap_types::core::{Tag, Text};
use imap_codec::imap_types::response::{
    Code, CodeOther, CommandContinuationRequest, Data, Greeting, Response, Status,
};
use imap_codec::{GreetingCodec, ResponseCodec};

/// RFC 9051 §9 text = 1*TEXT-CHAR: no CR, LF or NUL, not empty. Other octets become `?`;
/// an empty text becomes `.`.
pub fn text(s: &str) -> Text<'static> {
    let mut t: String = s
        .chars()
        .map(|c| {
            if c == '\r' || c == '\n' || c == '\0' {
                ' '
            } else {
                c
            }
        })
        .filter(|c| c.is_ascii() && !c.is_ascii_control() || *c == ' ')
        .collect();
    if t.trim().is_empty() {
        t = ".".into();
    }
    // A text starting with `[` would read as a response code.
    if t.starts_with('[') {
        t.insert(0, ' ');
    }
    Text::try_from(t).unwrap_or_else(|_| Text::unvalidated("."))
}

/// A response code imap-types has no variant for (RFC 5530: AUTHENTICATIONFAILED,
/// PRIVACYREQUIRED, UNAVAILABLE, CANNOT, LIMIT, ...; RFC 3516 UNKNOWN-CTE is built in).
pub fn code(name: &'static str) -> Code<'static> {
    Code::Other(CodeOther::unvalidated(name.as_bytes()))
}

/// A tag from octets (a recovered tag is valid by construction; `None` otherwise).
pub fn tag(bytes: &[u8]) -> Option<Tag<'static>> {
    Tag::try_from(String::from_utf8(bytes.to_vec()).ok()?).ok()
}

/// Appends one response.
pub fn response(out: &mut Vec<u8>, r: &Response<'_>) {
    out.extend_from_slice(&ResponseCodec::default().encode(r).dump());
}

/// Appends the greeting (RFC 9051 §7.1.1, §7.1.4).
pub fn greeting(out: &mut Vec<u8>, g: &Greeting<'_>) {
    out.extend_from_slice(&GreetingCodec::default().encode(g).dump());
}

/// Appends a status response: tagged when `tag` is given, untagged (`*`) otherwise.
pub fn status(
    out: &mut Vec<u8>,
    tag: Option<Tag<'static>>,
    kind: imap_codec::imap_types::response::StatusKind,
    code: Option<Code<'static>>,
    msg: &str,
) {
    let s = Status::new(tag, kind, code, text(msg)).unwrap_or_else(|_| {
        Status::Untagged(imap_codec::imap_types::response::StatusBody {
            kind,
            code: None,
            text: Text::unvalidated("."),
        })
    });
    response(out, &Response::Status(s));
}

/// Appends `* BYE <text>` (RFC 9051 §7.1.5).
pub fn bye(out: &mut Vec<u8>, code: Option<Code<'static>>, msg: &str) {
    let Ok(s) = Status::bye(code, text(msg));
    response(out, &Response::Status(s));
}

/// Appends untagged data.
pub fn data(out: &mut Vec<u8>, d: Data<'_>) {
    response(out, &Response::Data(d));
}

/// Appends a command continuation request `+ <text>` (RFC 9051 §7.5).
pub fn continuation(out: &mut Vec<u8>, msg: &str) {
    match CommandContinuationRequest::basic(None, text(msg)) {
        Ok(c) => response(out, &Response::CommandContinuationRequest(c)),
        Err(_) => out.extend_from_slice(b"+ OK\r\n"),
    }
}

/// Appends an empty SASL challenge `+ ` (RFC 9051 §7.5, §6.2.2).
pub fn sasl_challenge(out: &mut Vec<u8>, challenge: &[u8]) {
    response(
        out,
        &Response::CommandContinuationRequest(CommandContinuationRequest::base64(
            challenge.to_vec(),
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::imap_types::response::StatusKind;

    #[test]
    fn status_lines() {
        let mut out = Vec::new();
        status(&mut out, tag(b"a1"), StatusKind::Ok, None, "done");
        status(&mut out, None, StatusKind::Bad, None, "bad\r\ninput");
        status(
            &mut out,
            tag(b"a2"),
            StatusKind::No,
            Some(code("AUTHENTICATIONFAILED")),
            "no",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a1 OK done\r\n* BAD bad  input\r\na2 NO [AUTHENTICATIONFAILED] no\r\n"
        );
    }

    #[test]
    fn continuations() {
        let mut out = Vec::new();
        continuation(&mut out, "Ready for literal data");
        sasl_challenge(&mut out, b"");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "+ Ready for literal data\r\n+ \r\n"
        );
    }
}
