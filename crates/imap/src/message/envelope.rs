//! ENVELOPE (RFC 9051 §7.5.2): date, subject, from, sender, reply-to, to, cc, bcc,
//! in-reply-to, message-id, taken from a header block.
//!
//! Rules, as RFC 9051 states them and Dovecot applies them:
//! - a field that is absent is NIL; a field present but empty is `""`;
//! - when a text field occurs twice, the last one counts; the addresses of repeated address
//!   fields are joined (both as Dovecot 2.3 does);
//! - sender and reply-to default to from when absent or empty (RFC 9051 §7.5.2:
//!   "If the Sender or Reply-To header lines are absent in the [RFC-5322] header, or are
//!   present but empty, the server sets the corresponding member of the envelope to be
//!   the same value as the from member");
//! - strings are sent as written: RFC 2047 encoded words stay encoded, folding is removed;
//!   the subject and display names have their white space runs collapsed and trimmed.

use super::address::{self, Address};
use super::header::Header;
use super::text;
use imap_codec::imap_types::envelope as imap;

/// The ENVELOPE of one message (or embedded message/rfc822).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    pub date: Option<Vec<u8>>,
    pub subject: Option<Vec<u8>>,
    pub from: Vec<Address>,
    pub sender: Vec<Address>,
    pub reply_to: Vec<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub in_reply_to: Option<Vec<u8>>,
    pub message_id: Option<Vec<u8>>,
}

/// Builds the envelope from a header block of `data`.
pub fn from_header(data: &[u8], header: &Header) -> Envelope {
    let mut env = Envelope::default();
    for f in &header.fields {
        let name = f.name(data);
        let value = || f.unfolded(data);
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if is("Date") {
            env.date = Some(value());
        } else if is("Subject") {
            env.subject = Some(value());
        } else if is("From") {
            env.from.extend(address::parse_address_list(&value()));
        } else if is("Sender") {
            env.sender.extend(address::parse_address_list(&value()));
        } else if is("Reply-To") {
            env.reply_to.extend(address::parse_address_list(&value()));
        } else if is("To") {
            env.to.extend(address::parse_address_list(&value()));
        } else if is("Cc") {
            env.cc.extend(address::parse_address_list(&value()));
        } else if is("Bcc") {
            env.bcc.extend(address::parse_address_list(&value()));
        } else if is("In-Reply-To") {
            env.in_reply_to = Some(value());
        } else if is("Message-ID") {
            env.message_id = Some(value());
        }
    }
    env
}

fn addresses(list: &[Address]) -> Vec<imap::Address<'static>> {
    list.iter()
        .map(|a| imap::Address {
            name: text::nstring_opt(a.name.as_deref().map(text::for_humans)),
            adl: text::nstring_opt(a.route.clone()),
            mailbox: text::nstring_opt(a.mailbox.clone()),
            host: text::nstring_opt(a.host.clone()),
        })
        .collect()
}

impl Envelope {
    /// The imap-types form, ready for the encoder.
    pub fn to_imap(&self) -> imap::Envelope<'static> {
        let from = addresses(&self.from);
        let sender = if self.sender.is_empty() {
            from.clone()
        } else {
            addresses(&self.sender)
        };
        let reply_to = if self.reply_to.is_empty() {
            from.clone()
        } else {
            addresses(&self.reply_to)
        };
        imap::Envelope {
            date: text::nstring_opt(self.date.clone()),
            subject: text::nstring_opt(self.subject.as_deref().map(text::for_humans)),
            from,
            sender,
            reply_to,
            to: addresses(&self.to),
            cc: addresses(&self.cc),
            bcc: addresses(&self.bcc),
            in_reply_to: text::nstring_opt(self.in_reply_to.clone()),
            message_id: text::nstring_opt(self.message_id.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::header;

    #[test]
    fn sender_and_reply_to_default_to_from() {
        let m = b"From: a@b\r\nSubject:  hello\r\n   world \r\nSender:\r\n\r\n";
        let h = header::parse(m, 0, m.len(), &|_: &[u8]| false);
        let env = from_header(m, &h).to_imap();
        assert_eq!(env.sender, env.from);
        assert_eq!(env.reply_to, env.from);
        assert_eq!(env.subject, text::nstring(b"hello world".to_vec()));
        assert_eq!(env.date, imap_codec::imap_types::core::NString(None));
    }
}
