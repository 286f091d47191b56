//! RFC 5228 §4.2 redirect: the message as it is, to another address, with loop
//! protection. The message is not changed apart from one trace field, [`LOOP_FIELD`],
//! naming the recipient whose script redirected it; a message that already carries that
//! recipient came back around a loop and is not redirected again (§4.2: implementations
//! SHOULD take measures against loops). The envelope sender is kept (§4.2 lets the
//! implementation choose; SRS rewriting is not done).

use super::Outgoing;
use super::header::{self, same_address};
use crate::Envelope;

/// The trace field added to a redirected message.
pub const LOOP_FIELD: &str = "X-Loop";

/// Redirect hops one message may have taken before it is refused outright.
pub const MAX_HOPS: usize = 10;

/// Why a redirect is not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectRefused {
    #[error("not a valid address: {0:?}")]
    InvalidAddress(String),
    #[error("mail loop: the message was already redirected by {0}")]
    Loop(String),
    #[error("mail loop: the message was redirected {0} times")]
    TooManyHops(usize),
}

/// The copy to send for `redirect :address` of `message` delivered to `envelope.to`.
pub fn redirect_message(
    message: &[u8],
    envelope: &Envelope,
    address: &str,
) -> Result<Outgoing, RedirectRefused> {
    let address = address.trim();
    if !valid_address(address) {
        return Err(RedirectRefused::InvalidAddress(address.to_string()));
    }
    let fields = header::fields(message);
    let marks: Vec<&str> = header::all(&fields, LOOP_FIELD).collect();
    if marks.iter().any(|mark| same_address(mark, &envelope.to)) {
        return Err(RedirectRefused::Loop(envelope.to.clone()));
    }
    if marks.len() >= MAX_HOPS {
        return Err(RedirectRefused::TooManyHops(marks.len()));
    }
    let mut out = Vec::with_capacity(message.len() + 64);
    out.extend_from_slice(format!("{LOOP_FIELD}: {}\r\n", envelope.to.trim()).as_bytes());
    out.extend_from_slice(message);
    Ok(Outgoing {
        from: envelope.from.clone(),
        to: vec![address.to_string()],
        message: out,
    })
}

/// An RFC 5321 §4.1.2 mailbox, checked loosely: one `@`, non-empty parts, no blanks,
/// controls or angle brackets.
pub fn valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && address.len() <= 320
        && !address
            .chars()
            .any(|ch| ch.is_whitespace() || ch.is_control() || matches!(ch, '<' | '>' | ','))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            from: "bob@remote.test".into(),
            to: "alice@example.test".into(),
            ..Envelope::default()
        }
    }

    const MESSAGE: &[u8] = b"From: bob@remote.test\r\nSubject: hi\r\n\r\nbody\r\n";

    #[test]
    fn redirect_keeps_the_message_and_the_envelope_sender() {
        let out = redirect_message(MESSAGE, &envelope(), "carol@example.test");
        let Ok(out) = out else {
            panic!("refused: {out:?}");
        };
        assert_eq!(out.from, "bob@remote.test");
        assert_eq!(out.to, ["carol@example.test"]);
        assert!(out.message.ends_with(MESSAGE));
        assert!(out.message.starts_with(b"X-Loop: alice@example.test\r\n"));
    }

    #[test]
    fn redirect_loop_back_to_the_same_recipient_is_refused() {
        let Ok(first) = redirect_message(MESSAGE, &envelope(), "carol@example.test") else {
            panic!("first redirect refused");
        };
        let carol = Envelope {
            to: "carol@example.test".into(),
            ..envelope()
        };
        let Ok(second) = redirect_message(&first.message, &carol, "alice@example.test") else {
            panic!("second redirect refused");
        };
        assert_eq!(
            redirect_message(&second.message, &envelope(), "carol@example.test"),
            Err(RedirectRefused::Loop("alice@example.test".into()))
        );
    }

    #[test]
    fn redirect_to_an_invalid_address_is_refused() {
        for bad in [
            "",
            "nobody",
            "a b@c.test",
            "x@y.test\r\nBcc: z@w.test",
            "@y.test",
        ] {
            assert!(matches!(
                redirect_message(MESSAGE, &envelope(), bad),
                Err(RedirectRefused::InvalidAddress(_))
            ));
        }
    }

    #[test]
    fn redirect_after_too_many_hops_is_refused() {
        let mut message = Vec::new();
        for hop in 0..MAX_HOPS {
            message.extend_from_slice(format!("X-Loop: u{hop}@x.test\r\n").as_bytes());
        }
        message.extend_from_slice(MESSAGE);
        assert_eq!(
            redirect_message(&message, &envelope(), "carol@example.test"),
            Err(RedirectRefused::TooManyHops(MAX_HOPS))
        );
    }
}
