//! RFC 5436 mailto notifications (the enotify method of RFC 5435): the message to send.
//! The URI is RFC 6068; only `to`, `cc`, `bcc`, `subject` and `body` of its header fields
//! are used, the others are ignored (RFC 5436 §2.2 lets a notifier ignore unsafe fields).

use super::Outgoing;
use super::compose::{body_encoding, encode_unstructured, header_safe, message_id, rfc5322_date};
use super::header;
use super::redirect::valid_address;
use crate::{Envelope, Environment};

/// Recipients one notification may have.
pub const MAX_RECIPIENTS: usize = 8;

/// Why a notification is not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyRefused {
    #[error("not a mailto URI: {0:?}")]
    NotMailto(String),
    #[error("the mailto URI has no valid recipient")]
    NoRecipient,
    #[error("the mailto URI has more than {MAX_RECIPIENTS} recipients")]
    TooManyRecipients,
    #[error("the message is Auto-Submitted: {0}")]
    AutoSubmitted(String),
}

/// What a parsed mailto URI (RFC 6068 §2) asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mailto {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// Parses `mailto:` URIs (RFC 6068 §2: `mailto:addr,addr?hfname=hfvalue&...`, percent
/// encoded, §5 UTF-8).
pub fn parse_mailto(uri: &str) -> Result<Mailto, NotifyRefused> {
    let rest = uri
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("mailto:"))
        .and_then(|_| uri.get(7..))
        .ok_or_else(|| NotifyRefused::NotMailto(uri.to_string()))?;
    let (to, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut out = Mailto {
        to: address_list(&percent_decode(to)),
        ..Mailto::default()
    };
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match percent_decode(name).to_ascii_lowercase().as_str() {
            "to" => out.to.extend(address_list(&value)),
            "cc" => out.cc.extend(address_list(&value)),
            "bcc" => out.bcc.extend(address_list(&value)),
            "subject" => out.subject = Some(value),
            "body" => out.body = Some(value),
            _ => {}
        }
    }
    Ok(out)
}

fn address_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|address| !address.is_empty())
        .map(str::to_string)
        .collect()
}

/// RFC 3986 §2.1 percent decoding, as UTF-8 (invalid sequences replaced).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (byte, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                index += 3;
            }
            _ => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The notification for `notify :method "mailto:..."` about `message`, sent from the null
/// return path with `Auto-Submitted: auto-notified` (RFC 5436 §2.7: a notification must
/// not start a loop), never about a message that is itself Auto-Submitted (§2.7).
/// `From` is `:from` or `user_address` (§2.3); the subject the URI's, else `:message`,
/// else the original's (§2.7 leaves the text to the implementation).
pub fn notify_message(
    message: &[u8],
    envelope: &Envelope,
    env: &Environment,
    method: &str,
    from: Option<&str>,
    text: Option<&str>,
    user_address: &str,
) -> Result<Outgoing, NotifyRefused> {
    let fields = header::fields(message);
    if let Some(value) = header::first(&fields, "Auto-Submitted") {
        let keyword = value.split([';', '(']).next().unwrap_or_default().trim();
        if !keyword.eq_ignore_ascii_case("no") {
            return Err(NotifyRefused::AutoSubmitted(keyword.to_string()));
        }
    }
    let mailto = parse_mailto(method)?;
    let mut recipients: Vec<String> = Vec::new();
    for address in mailto.to.iter().chain(&mailto.cc).chain(&mailto.bcc) {
        if valid_address(address) && !recipients.iter().any(|seen| seen == address) {
            recipients.push(address.clone());
        }
    }
    if recipients.is_empty() {
        return Err(NotifyRefused::NoRecipient);
    }
    if recipients.len() > MAX_RECIPIENTS {
        return Err(NotifyRefused::TooManyRecipients);
    }
    let original_subject = header::first(&fields, "Subject").unwrap_or_default();
    let original_from = header::first(&fields, "From").unwrap_or(envelope.from.as_str());
    let subject = mailto
        .subject
        .clone()
        .or_else(|| text.map(str::to_string))
        .unwrap_or_else(|| format!("New mail: {original_subject}"));
    let body = mailto
        .body
        .clone()
        .or_else(|| text.map(str::to_string))
        .unwrap_or_else(|| {
            format!(
                "You have new mail.\n\nFrom: {}\nSubject: {}\n",
                header_safe(original_from),
                header_safe(original_subject)
            )
        });
    let from = from
        .map(header_safe)
        .filter(|from| !from.is_empty())
        .unwrap_or_else(|| header_safe(user_address));
    let only_valid = |list: &[String]| {
        list.iter()
            .filter(|address| valid_address(address))
            .map(|address| format!("<{address}>"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut head = format!("Date: {}\r\nFrom: {from}\r\n", rfc5322_date(env));
    let to = only_valid(&mailto.to);
    if !to.is_empty() {
        head.push_str(&format!("To: {to}\r\n"));
    }
    let cc = only_valid(&mailto.cc);
    if !cc.is_empty() {
        head.push_str(&format!("Cc: {cc}\r\n"));
    }
    head.push_str(&format!("Subject: {}\r\n", encode_unstructured(&subject)));
    head.push_str(&format!(
        "Message-ID: {}\r\n",
        message_id(env, &[message, method.as_bytes()])
    ));
    head.push_str("Auto-Submitted: auto-notified\r\nMIME-Version: 1.0\r\n");
    let (encoding, body) = body_encoding(&body);
    head.push_str(&format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n{body}"
    ));
    Ok(Outgoing {
        from: String::new(),
        to: recipients,
        message: head.into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] =
        b"From: bob@remote.test\r\nTo: alice@example.test\r\nSubject: Report\r\n\r\nbody\r\n";

    fn notify(message: &[u8], method: &str, text: Option<&str>) -> Result<String, NotifyRefused> {
        let envelope = Envelope {
            from: "bob@remote.test".into(),
            to: "alice@example.test".into(),
            ..Envelope::default()
        };
        let env = Environment::default();
        notify_message(
            message,
            &envelope,
            &env,
            method,
            None,
            text,
            "alice@example.test",
        )
        .map(|out| {
            assert_eq!(out.from, "");
            format!("{:?}\n{}", out.to, String::from_utf8_lossy(&out.message))
        })
    }

    #[test]
    fn mailto_uri_recipients_subject_and_body_are_used() {
        let text = notify(
            MESSAGE,
            "mailto:alice%2Bsms@example.test?cc=carol@example.test&subject=Mail%20from%20Bob&body=See%20INBOX&from=evil@x.test",
            None,
        );
        let Ok(text) = text else {
            panic!("{text:?}");
        };
        assert!(
            text.starts_with("[\"alice+sms@example.test\", \"carol@example.test\"]"),
            "{text}"
        );
        assert!(text.contains("\r\nSubject: Mail from Bob\r\n"));
        assert!(text.contains("\r\nFrom: alice@example.test\r\n"));
        assert!(text.contains("\r\nAuto-Submitted: auto-notified\r\n"));
        assert!(text.ends_with("\r\n\r\nSee INBOX\r\n"));
    }

    #[test]
    fn notify_message_argument_is_the_default_subject_and_body() {
        let text = notify(MESSAGE, "mailto:alice@example.test", Some("Report arrived"));
        let Ok(text) = text else {
            panic!("{text:?}");
        };
        assert!(text.contains("\r\nSubject: Report arrived\r\n"));
    }

    #[test]
    fn no_notification_about_auto_submitted_mail() {
        let mut auto = b"Auto-Submitted: auto-notified\r\n".to_vec();
        auto.extend_from_slice(MESSAGE);
        assert_eq!(
            notify(&auto, "mailto:alice@example.test", None),
            Err(NotifyRefused::AutoSubmitted("auto-notified".into()))
        );
    }

    #[test]
    fn non_mailto_or_empty_uris_are_refused() {
        assert!(matches!(
            notify(MESSAGE, "xmpp:alice@example.test", None),
            Err(NotifyRefused::NotMailto(_))
        ));
        assert_eq!(
            notify(MESSAGE, "mailto:?subject=x", None),
            Err(NotifyRefused::NoRecipient)
        );
    }
}
