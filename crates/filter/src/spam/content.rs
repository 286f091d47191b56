//! Links and senders: the content pass of `mailward trace` (`mailward_trace::content`)
//! finds the signals — look-alike and mismatched links, brands named by someone else,
//! credential lures, smuggled pages — and this module gives each a spam rule and a score.
//! The logic is trace's alone, so the investigator's report and the gateway agree.

use super::header_rules::clip;
use super::table;
use crate::context::Context;
use crate::verdict::Finding;
use mail_parser::{Address, Message};
use mailward_trace::content::{self, Content, Sender, Signal};
use mailward_trace::domains::{address_domain, organizational_domain};

/// What the sender says about itself, from the header and the envelope.
pub struct SenderInfo {
    pub from_domain: Option<String>,
    pub display_name: Option<String>,
    pub local_part: Option<String>,
    pub subject: Option<String>,
    pub reply_to: Option<String>,
    pub own_orgs: Vec<String>,
    pub recipient_domains: Vec<String>,
    pub is_list_mail: bool,
    pub is_discussion_list: bool,
}

impl SenderInfo {
    /// The sender of the message with header `header` and envelope `ctx`: the From
    /// address, the Reply-To, and the organisations it controls (From and the envelope
    /// sender's, RFC 5321 §4.4 `Return-Path`).
    pub fn new(header: Option<&Message<'_>>, ctx: &Context<'_>) -> SenderInfo {
        let from = header.and_then(|m| m.from()).and_then(Address::first);
        let from_address = from.and_then(|a| a.address()).map(str::to_ascii_lowercase);
        let from_domain = from_address.as_deref().and_then(address_domain);
        let mut own_orgs: Vec<String> = Vec::new();
        for d in [from_domain.clone(), address_domain(ctx.mail_from)]
            .into_iter()
            .flatten()
            .filter(|d| !d.is_empty())
        {
            let org = organizational_domain(&d);
            if !own_orgs.contains(&org) {
                own_orgs.push(org);
            }
        }
        let has = |name: &str| header.is_some_and(|m| m.header_raw(name).is_some());
        let precedence_bulk = header
            .and_then(|m| m.header_raw("Precedence"))
            .is_some_and(|p| matches!(p.trim().to_ascii_lowercase().as_str(), "list" | "bulk"));
        SenderInfo {
            local_part: from_address
                .as_deref()
                .and_then(|a| a.rsplit_once('@'))
                .map(|(l, _)| l.to_owned()),
            from_domain,
            display_name: from.and_then(|a| a.name()).map(str::to_owned),
            subject: header.and_then(|m| m.subject()).map(str::to_owned),
            reply_to: header
                .and_then(|m| m.reply_to())
                .and_then(Address::first)
                .and_then(|a| a.address())
                .map(str::to_ascii_lowercase),
            own_orgs,
            recipient_domains: ctx.rcpt_domains(),
            is_list_mail: has("List-Id")
                || has("List-Unsubscribe")
                || has("List-Post")
                || precedence_bulk,
            is_discussion_list: has("List-Id") || has("List-Post"),
        }
    }

    /// Trace's view of this sender.
    pub fn as_sender<'a>(&'a self, recipients: &'a [String]) -> Sender<'a> {
        Sender {
            from_domain: self.from_domain.as_deref(),
            display_name: self.display_name.as_deref(),
            local_part: self.local_part.as_deref(),
            subject: self.subject.as_deref(),
            reply_to: self.reply_to.as_deref(),
            own_orgs: self.own_orgs.clone(),
            recipient_domains: &self.recipient_domains,
            is_list_mail: self.is_list_mail,
            is_discussion_list: self.is_discussion_list,
            from_brand: self
                .from_domain
                .as_deref()
                .and_then(content::brands::owner_of),
            recipients,
        }
    }
}

/// Runs trace's checks on `body` for `sender` and scores each signal.
pub fn check(body: &Content, sender: &Sender<'_>, out: &mut Vec<Finding>) {
    for signal in content::checks(body, sender) {
        let detail = clip(&content::finding(&signal, body, sender).message, 300);
        out.push(rule_of(&signal).hit(detail));
        if let Signal::CredentialLure {
            personalised: true, ..
        } = signal
        {
            out.push(
                table::PERSONALISED_LINK
                    .hit("the link carries the recipient's address (a pre-filled sign-in page)"),
            );
        }
    }
}

/// The rule a signal counts as: the deliberate forms (a confusable skeleton, a look-alike
/// of the recipient's own domain, a disguised file, a password form) weigh more.
fn rule_of(signal: &Signal) -> table::Rule {
    match signal {
        Signal::LinkTextMismatch { brand: Some(_), .. } => table::LINK_TEXT_MISMATCH_BRAND,
        Signal::LinkTextMismatch { .. } => table::LINK_TEXT_MISMATCH,
        Signal::LookalikeLink {
            kind: "confusable", ..
        }
        | Signal::LookalikeLink {
            recipient: true, ..
        } => table::LOOKALIKE_LINK_STRONG,
        Signal::LookalikeLink {
            kind: "punycode", ..
        } => table::PUNYCODE_LINK,
        Signal::LookalikeLink { .. } => table::LOOKALIKE_LINK,
        Signal::IpLink { .. } => table::IP_LINK,
        Signal::ShortenerLink { .. } => table::SHORTENER_LINK,
        Signal::FreeHostingLink { .. } => table::FREE_HOSTING_LINK,
        Signal::HtmlAttachment { .. } => table::HTML_ATTACHMENT,
        Signal::QrCode { .. } => table::QR_CODE_LINK,
        Signal::EncryptedArchive { .. } => table::ENCRYPTED_ARCHIVE,
        Signal::RiskyAttachment { file, .. } if file.disguised => table::DISGUISED_ATTACHMENT,
        Signal::RiskyAttachment { .. } => table::RISKY_ATTACHMENT,
        Signal::CredentialLure {
            password_form: true,
            ..
        } => table::PASSWORD_FORM,
        Signal::CredentialLure { .. } => table::CREDENTIAL_LURE,
        Signal::BrandImpersonation {
            lookalike: true, ..
        } => table::BRAND_LOOKALIKE_NAME,
        Signal::BrandImpersonation { .. } => table::BRAND_IMPERSONATION,
        Signal::ReplyToFreemail { .. } => table::REPLY_TO_FREEMAIL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spam::tests::{codes_of, ctx_for};

    fn run(raw: &str) -> Vec<&'static str> {
        let header = mail_parser::MessageParser::new().parse_headers(raw.as_bytes());
        let rcpts = vec!["bob@example.org".to_owned()];
        let ctx = ctx_for(&rcpts);
        let info = SenderInfo::new(header.as_ref(), &ctx);
        let body = content::extract(raw.as_bytes(), &content::Limits::default());
        let mut out = Vec::new();
        check(&body, &info.as_sender(ctx.rcpts), &mut out);
        codes_of(&out)
    }

    #[test]
    fn a_link_to_the_senders_own_site_is_fine() {
        let raw = "From: Shop <news@shop.example.com>\r\nTo: bob@example.org\r\n\
Content-Type: text/html\r\n\r\n<p>New <a href=\"https://www.shop.example.com/a\">shoes</a></p>\r\n";
        assert_eq!(run(raw), Vec::<&str>::new());
    }

    #[test]
    fn a_confusable_brand_link_and_lure() {
        let raw = "From: PayPal <service@pp-notify.example.net>\r\nTo: bob@example.org\r\n\
Subject: Your account has been limited\r\nContent-Type: text/html\r\n\r\n\
<p>Please <a href=\"https://paypa1.com/signin\">https://www.paypal.com/signin</a> to verify your account.</p>\r\n";
        let codes = run(raw);
        assert!(codes.contains(&"brand_impersonation"), "{codes:?}");
        assert!(codes.contains(&"link_text_mismatch_brand"), "{codes:?}");
        assert!(codes.contains(&"credential_lure"), "{codes:?}");
    }

    #[test]
    fn an_ip_link() {
        let raw = "From: a@example.com\r\nTo: bob@example.org\r\nContent-Type: text/html\r\n\r\n\
<a href=\"http://45.33.12.7/x\">your parcel</a>\r\n";
        assert_eq!(run(raw), vec!["ip_link"]);
    }

    #[test]
    fn replies_to_freemail_from_an_organisation() {
        let raw = "From: CEO <ceo@corp.example.com>\r\nReply-To: ceo.private@gmail.com\r\n\
To: bob@example.org\r\n\r\nAre you at your desk?\r\n";
        assert_eq!(run(raw), vec!["reply_to_freemail"]);
    }
}
