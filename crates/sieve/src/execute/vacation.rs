//! RFC 5230 vacation (with RFC 6131 `:seconds`): whether a reply may be sent (§4.5,
//! §4.6, RFC 3834 §2) and the reply itself (§5). The period (§4.1, keyed on the sender
//! and the handle, §4.2) is the host's state: see [`crate::Host::vacation_sent`].

use super::Outgoing;
use super::compose::{
    body_encoding, crlf_lines, encode_unstructured, header_safe, message_id, rfc5322_date,
};
use super::header::{self, Field, addresses, same_address};
use crate::{Action, Envelope, Environment};

/// The administrator's bounds on the period (RFC 5230 §4.1 lets a site impose a minimum
/// and a maximum; RFC 6131 §2 allows `:seconds`, which these clamp as well).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VacationPolicy {
    pub min_seconds: u64,
    pub max_seconds: u64,
}

impl Default for VacationPolicy {
    /// One day to sixty days, as Pigeonhole's defaults.
    fn default() -> Self {
        VacationPolicy {
            min_seconds: 86_400,
            max_seconds: 60 * 86_400,
        }
    }
}

impl VacationPolicy {
    /// The period to remember, `requested` clamped to the bounds (a maximum below the
    /// minimum is read as the minimum).
    pub fn period(&self, requested: u64) -> u64 {
        let max = self.max_seconds.max(self.min_seconds);
        requested.clamp(self.min_seconds, max)
    }
}

/// The fields of an [`Action::Vacation`], borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VacationRequest<'a> {
    pub to: &'a str,
    pub from: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub reason: &'a str,
    pub mime: bool,
    pub handle: &'a str,
    pub seconds: u64,
    pub addresses: &'a [String],
}

impl<'a> VacationRequest<'a> {
    /// The request in `action`, when it is a vacation.
    pub fn from_action(action: &'a Action) -> Option<Self> {
        match action {
            Action::Vacation {
                to,
                from,
                subject,
                reason,
                mime,
                handle,
                seconds,
                addresses,
            } => Some(VacationRequest {
                to,
                from: from.as_deref(),
                subject: subject.as_deref(),
                reason,
                mime: *mime,
                handle,
                seconds: *seconds,
                addresses,
            }),
            _ => None,
        }
    }
}

/// Why no reply is sent. [`VacationSuppressed::reason`] is the word the
/// `vacation_suppressed` event carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VacationSuppressed {
    #[error("the envelope sender is null")]
    NullSender,
    #[error("the sender is one of the user's own addresses")]
    OwnAddress,
    #[error("the sender {0} is a mailer or list address")]
    AutomatedSender(String),
    #[error("the message is Auto-Submitted: {0}")]
    AutoSubmitted(String),
    #[error("the message came through a mailing list ({0})")]
    MailingList(String),
    #[error("the message has Precedence: {0}")]
    BulkPrecedence(String),
    #[error("none of the user's addresses is in To, Cc, Bcc, Resent-To, Resent-Cc or Resent-Bcc")]
    NotAddressedToUser,
    #[error("a reply was sent to this sender within the period")]
    AlreadyReplied,
}

impl VacationSuppressed {
    /// A short stable word for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            VacationSuppressed::NullSender => "null_sender",
            VacationSuppressed::OwnAddress => "own_address",
            VacationSuppressed::AutomatedSender(_) => "automated_sender",
            VacationSuppressed::AutoSubmitted(_) => "auto_submitted",
            VacationSuppressed::MailingList(_) => "mailing_list",
            VacationSuppressed::BulkPrecedence(_) => "precedence",
            VacationSuppressed::NotAddressedToUser => "not_addressed",
            VacationSuppressed::AlreadyReplied => "period",
        }
    }
}

/// The rules of RFC 5230 §4.5 and §4.6 (and RFC 3834 §2): `Ok` with the user's address
/// the message was addressed to (the reply's default `From`, §5.4), or why no reply may
/// be sent. The period is not checked here.
pub fn check_vacation(
    message: &[u8],
    envelope: &Envelope,
    request: &VacationRequest<'_>,
) -> Result<String, VacationSuppressed> {
    let fields = header::fields(message);
    let sender = if envelope.from.is_empty() {
        request.to
    } else {
        envelope.from.as_str()
    };
    // RFC 5230 §4.6, RFC 3834 §2: never answer the null return path (bounces).
    if sender.trim().is_empty() || sender.trim() == "<>" || envelope.from.is_empty() {
        return Err(VacationSuppressed::NullSender);
    }
    let user = user_addresses(envelope, request);
    // RFC 5230 §4.5: never reply to one's own address.
    if user.iter().any(|own| same_address(own, sender)) {
        return Err(VacationSuppressed::OwnAddress);
    }
    // RFC 5230 §4.6: no reply to mailer daemons and list management addresses.
    if is_automated_sender(sender) {
        return Err(VacationSuppressed::AutomatedSender(sender.to_string()));
    }
    // RFC 5230 §4.6, RFC 3834 §2 and §5: Auto-Submitted other than "no".
    if let Some(value) = header::first(&fields, "Auto-Submitted") {
        let keyword = value.split([';', '(']).next().unwrap_or_default().trim();
        if !keyword.eq_ignore_ascii_case("no") {
            return Err(VacationSuppressed::AutoSubmitted(keyword.to_string()));
        }
    }
    // RFC 5230 §4.6, RFC 2369 and RFC 2919: a List-* field marks list traffic.
    if let Some(field) = list_field(&fields) {
        return Err(VacationSuppressed::MailingList(field.name.clone()));
    }
    // RFC 3834 §2: Precedence bulk, list or junk.
    if let Some(value) = header::first(&fields, "Precedence") {
        let value = value.trim();
        if ["bulk", "list", "junk"]
            .iter()
            .any(|word| value.eq_ignore_ascii_case(word))
        {
            return Err(VacationSuppressed::BulkPrecedence(value.to_string()));
        }
    }
    // RFC 5230 §4.5: one of the user's addresses must be a recipient in the header.
    addressed_to(&fields, &user).ok_or(VacationSuppressed::NotAddressedToUser)
}

/// The user's addresses: the envelope recipient, the original recipient and `:addresses`
/// (RFC 5230 §4.5).
fn user_addresses(envelope: &Envelope, request: &VacationRequest<'_>) -> Vec<String> {
    let mut user = vec![envelope.to.clone()];
    user.extend(envelope.orig_to.iter().cloned());
    user.extend(request.addresses.iter().cloned());
    user.retain(|address| !address.trim().is_empty());
    user
}

/// MAILER-DAEMON, LISTSERV, majordomo, `owner-*` and `*-request` local parts: the
/// automated senders RFC 5230 §4.6 names as examples of addresses never to answer.
fn is_automated_sender(sender: &str) -> bool {
    let local = sender
        .trim()
        .trim_start_matches('<')
        .rsplit_once('@')
        .map_or(sender, |(local, _)| local)
        .to_ascii_lowercase();
    matches!(
        local.as_str(),
        "mailer-daemon" | "listserv" | "majordomo" | "postmaster"
    ) || local.starts_with("owner-")
        || local.ends_with("-request")
        || local.ends_with("-owner")
}

/// The first RFC 2369 / RFC 2919 list field.
fn list_field(fields: &[Field]) -> Option<&Field> {
    const LIST_FIELDS: [&str; 7] = [
        "List-Id",
        "List-Help",
        "List-Unsubscribe",
        "List-Subscribe",
        "List-Post",
        "List-Owner",
        "List-Archive",
    ];
    fields.iter().find(|field| {
        LIST_FIELDS
            .iter()
            .any(|name| field.name.eq_ignore_ascii_case(name))
    })
}

/// The user's address found among the recipient fields, if any.
fn addressed_to(fields: &[Field], user: &[String]) -> Option<String> {
    const RECIPIENT_FIELDS: [&str; 6] = ["To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"];
    for name in RECIPIENT_FIELDS {
        for value in header::all(fields, name) {
            for address in addresses(value) {
                if user.iter().any(|own| same_address(own, &address)) {
                    return Some(address);
                }
            }
        }
    }
    None
}

/// The reply (RFC 5230 §5): sent from the null return path (§5.1), dated (§5.2), with a
/// fresh Message-ID (§5.3), From `:from` or the user's address (§5.4), To the sender
/// (§5.5), Subject `:subject` or "Auto: " and the original's (§5.6), In-Reply-To and
/// References (§5.7), `Auto-Submitted: auto-replied` (§5.8, RFC 3834 §5.1), the reason as
/// the body, or as a whole MIME entity with `:mime` (§5.9).
pub fn vacation_reply(
    message: &[u8],
    env: &Environment,
    request: &VacationRequest<'_>,
    user_address: &str,
) -> Outgoing {
    let fields = header::fields(message);
    let to = header_safe(request.to);
    let from = request
        .from
        .map(header_safe)
        .filter(|from| !from.is_empty())
        .unwrap_or_else(|| header_safe(user_address));
    let subject = match request.subject {
        Some(subject) => encode_unstructured(subject),
        None => match header::first(&fields, "Subject") {
            Some(original) if !original.trim().is_empty() => {
                format!("Auto: {}", encode_unstructured(original))
            }
            _ => "Automated reply".to_string(),
        },
    };
    let original_id = header::first(&fields, "Message-ID").map(header_safe);
    let mut head = String::new();
    head.push_str(&format!("Date: {}\r\n", rfc5322_date(env)));
    head.push_str(&format!("From: {from}\r\n"));
    head.push_str(&format!(
        "To: <{}>\r\n",
        to.trim_start_matches('<').trim_end_matches('>')
    ));
    head.push_str(&format!("Subject: {subject}\r\n"));
    head.push_str(&format!(
        "Message-ID: {}\r\n",
        message_id(env, &[message, request.handle.as_bytes(), to.as_bytes()])
    ));
    if let Some(id) = &original_id {
        head.push_str(&format!("In-Reply-To: {id}\r\n"));
        let references = header::first(&fields, "References").map(header_safe);
        match references {
            Some(references) if !references.is_empty() => {
                head.push_str(&format!("References: {references}\r\n {id}\r\n"));
            }
            _ => head.push_str(&format!("References: {id}\r\n")),
        }
    }
    head.push_str("Auto-Submitted: auto-replied (vacation)\r\n");
    head.push_str("MIME-Version: 1.0\r\n");
    let mut out = head.into_bytes();
    if request.mime {
        // §5.9: with :mime the reason is a MIME entity, its header fields included.
        out.extend_from_slice(
            crlf_lines(request.reason.trim_start_matches(['\r', '\n'])).as_bytes(),
        );
    } else {
        let (encoding, body) = body_encoding(request.reason);
        out.extend_from_slice(
            format!(
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n{body}"
            )
            .as_bytes(),
        );
    }
    Outgoing {
        from: String::new(),
        to: vec![to.trim_start_matches('<').trim_end_matches('>').to_string()],
        message: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(from: &str) -> Envelope {
        Envelope {
            from: from.into(),
            to: "alice@example.test".into(),
            ..Envelope::default()
        }
    }

    fn action(to: &str) -> Action {
        Action::Vacation {
            to: to.into(),
            from: None,
            subject: None,
            reason: "I am away.".into(),
            mime: false,
            handle: "h".into(),
            seconds: 86_400,
            addresses: vec!["alice.smith@example.test".into()],
        }
    }

    const PERSONAL: &[u8] = b"From: Bob <bob@remote.test>\r\nTo: Alice <alice@example.test>\r\nSubject: Lunch?\r\nMessage-ID: <m1@remote.test>\r\nReferences: <m0@remote.test>\r\n\r\nHi\r\n";

    fn check(message: &[u8], from: &str) -> Result<String, VacationSuppressed> {
        let action = action(if from.is_empty() { "" } else { from });
        let request = VacationRequest::from_action(&action);
        match request {
            Some(request) => check_vacation(message, &envelope(from), &request),
            None => Err(VacationSuppressed::NullSender),
        }
    }

    fn with_field(field: &str) -> Vec<u8> {
        let mut message = field.as_bytes().to_vec();
        message.extend_from_slice(b"\r\n");
        message.extend_from_slice(PERSONAL);
        message
    }

    #[test]
    fn a_personal_message_is_answered_from_the_address_it_was_sent_to() {
        assert_eq!(
            check(PERSONAL, "bob@remote.test"),
            Ok("alice@example.test".into())
        );
    }

    #[test]
    fn no_reply_to_the_null_sender() {
        assert_eq!(check(PERSONAL, ""), Err(VacationSuppressed::NullSender));
    }

    #[test]
    fn no_reply_to_mailer_daemon_owner_or_request_senders() {
        for sender in [
            "MAILER-DAEMON@remote.test",
            "owner-dev@lists.test",
            "dev-request@lists.test",
            "LISTSERV@lists.test",
        ] {
            assert!(
                matches!(
                    check(PERSONAL, sender),
                    Err(VacationSuppressed::AutomatedSender(_))
                ),
                "{sender}"
            );
        }
    }

    #[test]
    fn no_reply_to_auto_submitted_other_than_no() {
        let auto = with_field("Auto-Submitted: auto-generated");
        assert_eq!(
            check(&auto, "bob@remote.test"),
            Err(VacationSuppressed::AutoSubmitted("auto-generated".into()))
        );
        let replied = with_field("auto-submitted: Auto-Replied (vacation)");
        assert!(check(&replied, "bob@remote.test").is_err());
        let no = with_field("Auto-Submitted: no");
        assert!(check(&no, "bob@remote.test").is_ok());
    }

    #[test]
    fn no_reply_to_list_messages() {
        for field in [
            "List-Id: <dev.lists.test>",
            "List-Unsubscribe: <mailto:x@y.test>",
        ] {
            assert!(
                matches!(
                    check(&with_field(field), "bob@remote.test"),
                    Err(VacationSuppressed::MailingList(_))
                ),
                "{field}"
            );
        }
    }

    #[test]
    fn no_reply_to_bulk_list_or_junk_precedence() {
        for value in ["bulk", "List", "junk"] {
            let message = with_field(&format!("Precedence: {value}"));
            assert!(matches!(
                check(&message, "bob@remote.test"),
                Err(VacationSuppressed::BulkPrecedence(_))
            ));
        }
        assert!(check(&with_field("Precedence: first-class"), "bob@remote.test").is_ok());
    }

    #[test]
    fn no_reply_when_the_user_is_not_a_header_recipient() {
        let bcc_list = b"From: bob@remote.test\r\nTo: everyone@remote.test\r\n\r\nHi\r\n";
        assert_eq!(
            check(bcc_list, "bob@remote.test"),
            Err(VacationSuppressed::NotAddressedToUser)
        );
    }

    #[test]
    fn addresses_argument_counts_as_the_users_and_resent_fields_count() {
        let message = b"From: bob@remote.test\r\nResent-Cc: Alice.Smith@Example.test\r\n\r\nHi\r\n";
        assert_eq!(
            check(message, "bob@remote.test"),
            Ok("Alice.Smith@Example.test".into())
        );
    }

    #[test]
    fn no_reply_to_own_address() {
        assert_eq!(
            check(PERSONAL, "alice.smith@example.test"),
            Err(VacationSuppressed::OwnAddress)
        );
    }

    #[test]
    fn period_is_clamped_to_the_policy() {
        let policy = VacationPolicy::default();
        assert_eq!(policy.period(0), 86_400);
        assert_eq!(policy.period(7 * 86_400), 7 * 86_400);
        assert_eq!(policy.period(365 * 86_400), 60 * 86_400);
        let zero = VacationPolicy {
            min_seconds: 0,
            max_seconds: 10,
        };
        assert_eq!(zero.period(0), 0);
    }

    fn reply_text(action: &Action) -> (Outgoing, String) {
        let env = Environment {
            now: 1_700_000_000,
            domain: "example.test".into(),
            ..Environment::default()
        };
        let request = VacationRequest::from_action(action);
        let out = match request {
            Some(request) => vacation_reply(PERSONAL, &env, &request, "alice@example.test"),
            None => Outgoing {
                from: "x".into(),
                to: vec![],
                message: vec![],
            },
        };
        let text = String::from_utf8_lossy(&out.message).into_owned();
        (out, text)
    }

    #[test]
    fn reply_is_auto_replied_from_the_null_sender_to_the_sender_with_threading() {
        let (out, text) = reply_text(&action("bob@remote.test"));
        assert_eq!(out.from, "");
        assert_eq!(out.to, ["bob@remote.test"]);
        assert!(text.contains("\r\nAuto-Submitted: auto-replied"), "{text}");
        assert!(text.contains("\r\nTo: <bob@remote.test>\r\n"));
        assert!(text.contains("\r\nFrom: alice@example.test\r\n"));
        assert!(text.contains("\r\nSubject: Auto: Lunch?\r\n"));
        assert!(text.contains("\r\nIn-Reply-To: <m1@remote.test>\r\n"));
        assert!(text.contains("\r\nReferences: <m0@remote.test>\r\n <m1@remote.test>\r\n"));
        assert!(text.ends_with("\r\n\r\nI am away.\r\n"), "{text}");
    }

    #[test]
    fn reply_uses_subject_and_from_arguments_and_encodes_utf8() {
        let action = Action::Vacation {
            to: "bob@remote.test".into(),
            from: Some("Alice <alice@example.test>\r\nBcc: evil@x.test".into()),
            subject: Some("Abwesend bis März".into()),
            reason: "Zurück am Montag.".into(),
            mime: false,
            handle: "h".into(),
            seconds: 1,
            addresses: vec![],
        };
        let (_, text) = reply_text(&action);
        assert!(text.contains("\r\nSubject: =?UTF-8?B?"), "{text}");
        assert!(!text.contains("\r\nBcc:"));
        assert!(text.contains("Content-Transfer-Encoding: base64"));
    }

    #[test]
    fn reply_with_mime_uses_the_reason_as_the_entity() {
        let action = Action::Vacation {
            to: "bob@remote.test".into(),
            from: None,
            subject: Some("Away".into()),
            reason: "Content-Type: text/html\n\n<p>Away</p>\n".into(),
            mime: true,
            handle: "h".into(),
            seconds: 1,
            addresses: vec![],
        };
        let (_, text) = reply_text(&action);
        assert!(
            text.contains("MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<p>Away</p>\r\n"),
            "{text}"
        );
        assert!(!text.contains("text/plain"));
    }
}
