//! Decoding of framed commands with imap-codec (RFC 9051 §9 grammar), and what to say when
//! a command does not parse: `<tag> BAD <reason>` when the tag can be read, else `* BAD`
//! (RFC 9051 §7.1.3).

use super::framer::{command_name, recover_tag};
use imap_codec::CommandCodec;
use imap_codec::decode::{CommandDecodeError, Decoder};
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::Command;

/// Command names imap-codec knows (RFC 9051 §6 and the extensions enabled), to tell "unknown
/// command" from "bad arguments".
const KNOWN: &[&str] = &[
    "CAPABILITY",
    "NOOP",
    "LOGOUT",
    "STARTTLS",
    "AUTHENTICATE",
    "LOGIN",
    "SELECT",
    "EXAMINE",
    "CREATE",
    "DELETE",
    "RENAME",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "LIST",
    "LSUB",
    "STATUS",
    "APPEND",
    "CHECK",
    "CLOSE",
    "UNSELECT",
    "EXPUNGE",
    "SEARCH",
    "FETCH",
    "STORE",
    "COPY",
    "MOVE",
    "IDLE",
    "ENABLE",
    "NAMESPACE",
    "ID",
    "GETQUOTA",
    "GETQUOTAROOT",
    "SETQUOTA",
    "SORT",
    "THREAD",
    "COMPRESS",
];

/// A command that did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct DecodeError {
    /// The tag, when the command starts with a valid one.
    pub tag: Option<Vec<u8>>,
    /// The command name, when it could be read.
    pub name: Option<String>,
    /// Why, for the BAD response text.
    pub text: String,
}

/// Decodes one framed command (from [`super::Framer`]).
pub fn decode_command(bytes: &[u8]) -> Result<Command<'static>, DecodeError> {
    let fail = |text: String| DecodeError {
        tag: recover_tag(bytes),
        name: command_name(bytes),
        text,
    };
    match CommandCodec::default().decode(bytes) {
        Ok(([], cmd)) => Ok(cmd.into_static()),
        Ok(_) => Err(fail("Extra data after the command".into())),
        Err(CommandDecodeError::LiteralFound { .. }) | Err(CommandDecodeError::Incomplete) => {
            Err(fail("Incomplete command".into()))
        }
        Err(CommandDecodeError::Failed) => {
            let name = command_name(bytes);
            let text = match name.as_deref() {
                None => "Error in IMAP command: not a command".to_string(),
                Some(n) if KNOWN.contains(&n) => {
                    format!("Error in IMAP command {n}: invalid arguments")
                }
                Some(n) => format!("Unknown command {n}"),
            };
            Err(fail(text))
        }
    }
}

/// Reads back an `ENVELOPE (...)` FETCH item in the wire form FETCH writes and the backend
/// caches (RFC 9051 §7.5.2), and hands the envelope to `f` (SORT and THREAD take their
/// keys from it). `None` when it does not parse.
pub fn with_envelope_item<T>(
    item: &[u8],
    f: impl FnOnce(&imap_codec::imap_types::envelope::Envelope<'_>) -> T,
) -> Option<T> {
    use imap_codec::ResponseCodec;
    use imap_codec::imap_types::fetch::MessageDataItem;
    use imap_codec::imap_types::response::{Data, Response};
    let mut line = Vec::with_capacity(item.len() + 16);
    line.extend_from_slice(b"* 1 FETCH (");
    line.extend_from_slice(item);
    line.extend_from_slice(b")\r\n");
    let Ok((_, Response::Data(Data::Fetch { items, .. }))) = ResponseCodec::default().decode(&line)
    else {
        return None;
    };
    items
        .as_ref()
        .iter()
        .find_map(|i| match i {
            MessageDataItem::Envelope(e) => Some(e),
            _ => None,
        })
        .map(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::imap_types::command::CommandBody;

    #[test]
    fn decodes_commands_with_literals() {
        let c = decode_command(b"a LOGIN {4}\r\nuser {4+}\r\npass\r\n").unwrap();
        assert!(matches!(c.body, CommandBody::Login { .. }));
        let c = decode_command(b"b NOOP\r\n").unwrap();
        assert_eq!(c.body, CommandBody::Noop);
    }

    #[test]
    fn envelope_items_read_back() {
        let item = b"ENVELOPE (\"Tue, 1 Jan 2030 00:00:00 +0000\" {6}\r\nGr\xc3\xbc\xc3\x9f NIL NIL NIL ((\"A\" NIL \"a\" \"h\")) NIL NIL NIL \"<x@y>\")";
        let got = with_envelope_item(item, |e| {
            (
                e.subject.0.as_ref().map(|s| s.as_ref().to_vec()),
                e.to.len(),
            )
        });
        assert_eq!(got, Some((Some("Grüß".as_bytes().to_vec()), 1)));
        assert_eq!(with_envelope_item(b"FLAGS ()", |_| ()), None);
        assert_eq!(with_envelope_item(b"ENVELOPE (", |_| ()), None);
    }

    #[test]
    fn bad_commands_name_the_problem() {
        let e = decode_command(b"a FROB\r\n").unwrap_err();
        assert_eq!(e.tag.as_deref(), Some(&b"a"[..]));
        assert_eq!(e.text, "Unknown command FROB");
        let e = decode_command(b"a SELECT\r\n").unwrap_err();
        assert!(e.text.contains("SELECT"), "{}", e.text);
        let e = decode_command(b"\r\n").unwrap_err();
        assert_eq!(e.tag, None);
    }
}
