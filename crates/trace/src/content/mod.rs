//! The content pass: what an investigator sees in the body of a message — links and where
//! they really go, brands named by someone who is not the brand, attachments that carry a
//! page or hide behind a password — as typed [`Signal`]s, and the [`Verdict`] drawn from
//! them and the header findings.
//!
//! Pure, synchronous and bounded ([`Limits`]): the security gateway's scorer calls the same
//! check functions ([`checks`], or each `check_*` alone) on a parsed [`Content`].

pub mod attachments;
pub mod brands;
pub mod html;
pub mod links;
pub mod lure;
pub mod mime;
pub mod qr;
pub mod verdict;

use crate::domains::{self, org_domain, organizational_domain};
use crate::report::{AttachmentReport, ContentReport, Evidence, Finding, LinkReport, Severity};
use attachments::{ArchiveFormat, HtmlAttachment, RiskyFile};
use links::{LinkSource, Url};
use mailward_message::IpClass;
pub use mime::Limits;
use std::sync::LazyLock;
pub use verdict::{Verdict, verdict};

/// One link of a message.
#[derive(Debug, Clone)]
pub struct Link {
    pub source: LinkSource,
    /// The visible text (anchors), or the URL itself (plain text).
    pub text: String,
    /// The target as written (entities decoded).
    pub target: String,
    /// The parsed target, for `http(s)`/`ftp` and other schemes.
    pub url: Option<Url>,
    /// The destination behind a link-protection or redirect wrapper, when it says so.
    pub unwrapped: Option<Url>,
    /// Registrable (organisational) domain of the effective destination.
    pub domain: Option<String>,
}

impl Link {
    /// The destination that counts: the unwrapped one when known, else the target.
    pub fn effective(&self) -> Option<&Url> {
        self.unwrapped.as_ref().or(self.url.as_ref())
    }

    fn is_web(&self) -> bool {
        self.effective().is_some_and(|u| {
            !u.host.is_empty() && matches!(u.scheme.as_str(), "http" | "https" | "ftp")
        })
    }
}

/// One attachment of a message, with what the checks found in it.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub name: Option<String>,
    pub content_type: String,
    pub size: usize,
    pub html: Option<HtmlAttachment>,
    pub encrypted: Option<ArchiveFormat>,
    pub risky: Option<RiskyFile>,
}

/// What the body of a message holds, as far as the checks need it.
#[derive(Debug, Clone, Default)]
pub struct Content {
    pub links: Vec<Link>,
    pub attachments: Vec<Attachment>,
    /// `<title>`, `<h1>`, `<h2>` texts of the HTML bodies.
    pub headings: Vec<String>,
    /// Visible text of the bodies (HTML text, or plain text when there is no HTML), bounded.
    pub text: String,
    /// `<input type=password>` fields in the HTML bodies (not attachments).
    pub password_fields: usize,
    pub shape: mime::Shape,
}

/// Visible text kept per message for wording checks.
const MAX_TEXT: usize = 32 << 10;

/// Walks the message and extracts links, headings, text and attachments.
pub fn extract(raw: &[u8], limits: &Limits) -> Content {
    let mut content = Content::default();
    let mut plain = String::new();
    let mut has_html = false;
    // PNG images that may hold a QR code: (name, bytes), decoded after the walk if the
    // message speaks of QR codes or scanning.
    let mut qr_candidates: Vec<(String, Vec<u8>)> = Vec::new();
    let html_limits = html::HtmlLimits {
        max_links: limits.max_links,
        ..Default::default()
    };
    let shape = mime::walk(raw, limits, &mut |part| match part {
        mime::Part::Html(h) => {
            has_html = true;
            let scan = html::scan(h, &html_limits);
            content.password_fields += scan.password_fields;
            for l in scan.links {
                let source = match l.kind {
                    html::HtmlLinkKind::Anchor => LinkSource::Anchor,
                    html::HtmlLinkKind::Form => LinkSource::Form,
                    html::HtmlLinkKind::Source => LinkSource::Source,
                    html::HtmlLinkKind::Refresh => LinkSource::Refresh,
                };
                push_link(&mut content, limits, source, l.text, l.target);
            }
            if content.headings.len() < 8 {
                content.headings.extend(scan.headings.into_iter().take(8));
            }
            html::append_text(&mut content.text, &scan.text, MAX_TEXT);
            html::append_text(&mut content.text, " ", MAX_TEXT);
        }
        mime::Part::Text(t) => {
            for url in links::text_urls(t, limits.max_links) {
                push_link(
                    &mut content,
                    limits,
                    LinkSource::Text,
                    url.to_string(),
                    url.to_string(),
                );
            }
            html::append_text(&mut plain, t, MAX_TEXT);
            html::append_text(&mut plain, " ", MAX_TEXT);
        }
        mime::Part::Attachment(a) => {
            if a.data.starts_with(b"\x89PNG")
                && a.data.len() <= qr::MAX_IMAGE_BYTES
                && qr_candidates.len() < qr::MAX_IMAGES
            {
                qr_candidates.push((a.name.unwrap_or("image").to_string(), a.data.to_vec()));
            }
            if content.attachments.len() >= 32 {
                return;
            }
            content.attachments.push(Attachment {
                name: a.name.map(|n| n.chars().take(200).collect()),
                content_type: format!("{}/{}", a.content_type, a.subtype).to_ascii_lowercase(),
                size: a.size,
                html: attachments::html_attachment(&a),
                encrypted: attachments::encrypted_archive(a.data),
                risky: attachments::risky_attachment(&a),
            });
            for uri in attachments::pdf_uris(a.data, 20) {
                push_link(
                    &mut content,
                    limits,
                    LinkSource::Document,
                    String::new(),
                    uri,
                );
            }
        }
    });
    if !has_html {
        content.text = plain;
    }
    content.shape = shape;
    if !qr_candidates.is_empty()
        && (qr::mentions_qr(&content.text) || content.headings.iter().any(|h| qr::mentions_qr(h)))
    {
        for (name, data) in &qr_candidates {
            if let Some(text) = qr::decode_png(data) {
                push_link(
                    &mut content,
                    limits,
                    LinkSource::Qr,
                    format!("QR code in {name}"),
                    text,
                );
            }
        }
    }
    content
}

fn push_link(
    content: &mut Content,
    limits: &Limits,
    source: LinkSource,
    text: String,
    target: String,
) {
    if content.links.len() >= limits.max_links {
        content.shape.truncated = true;
        return;
    }
    // A plain-text URL already seen in the HTML alternative adds nothing.
    if source == LinkSource::Text && content.links.iter().any(|l| l.target == target) {
        return;
    }
    let target: String = target.chars().take(2000).collect();
    let url = links::parse_url(&target);
    let unwrapped = url
        .as_ref()
        .and_then(links::unwrap_redirect)
        .and_then(|u| links::parse_url(&u));
    let domain = unwrapped
        .as_ref()
        .or(url.as_ref())
        .filter(|u| !u.host.is_empty())
        .map(|u| match u.ip {
            Some(_) => u.host.clone(),
            None => organizational_domain(&u.host),
        });
    content.links.push(Link {
        source,
        text: text.chars().take(200).collect(),
        target,
        url,
        unwrapped,
        domain,
    });
}

/// Who the message says it is from, and to whom: what the checks compare content with.
#[derive(Debug, Clone, Default)]
pub struct Sender<'a> {
    /// The From domain, lower-case.
    pub from_domain: Option<&'a str>,
    /// The From display name, decoded.
    pub display_name: Option<&'a str>,
    /// The From address's local part.
    pub local_part: Option<&'a str>,
    pub subject: Option<&'a str>,
    /// The Reply-To address.
    pub reply_to: Option<&'a str>,
    /// Organisational domains the sender controls: From, Return-Path, passing DKIM `d=`.
    pub own_orgs: Vec<String>,
    pub recipient_domains: &'a [String],
    /// List or bulk mail (List-Id, List-Unsubscribe, List-Post, Precedence: list/bulk).
    pub is_list_mail: bool,
    /// A discussion list (List-Id or List-Post): people link to blogs and project pages.
    pub is_discussion_list: bool,
    /// The brand that owns the From domain, if any ([`brands::owner_of`]).
    pub from_brand: Option<&'static brands::Brand>,
    /// The recipients' addresses (To), to recognise links made for one victim.
    pub recipients: &'a [String],
}

/// Where a brand was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrandPlace {
    DisplayName,
    /// The From domain carries the brand's name as a word (`paypal-support.example`).
    FromDomain,
    Subject,
    Heading,
}

impl BrandPlace {
    pub fn as_str(self) -> &'static str {
        match self {
            BrandPlace::DisplayName => "display name",
            BrandPlace::FromDomain => "From domain",
            BrandPlace::Subject => "subject",
            BrandPlace::Heading => "heading",
        }
    }
}

/// A sign of phishing in the content, typed. Link and attachment fields are indexes into
/// [`Content::links`] and [`Content::attachments`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// The link text shows `shown`, the link goes elsewhere. `brand` names the brand or
    /// recipient domain shown, when it is one the sender does not own.
    LinkTextMismatch {
        link: usize,
        shown: String,
        brand: Option<String>,
    },
    /// The link's domain imitates `imitates` (`kind`: `confusable`, `near-miss`,
    /// `punycode`, `brand-in-name`); `recipient` when it imitates the recipient's own domain.
    LookalikeLink {
        link: usize,
        imitates: String,
        kind: &'static str,
        recipient: bool,
    },
    /// The link's host is a public IP address.
    IpLink { link: usize },
    /// The link goes through a URL shortener the sender does not own.
    ShortenerLink { link: usize, service: String },
    /// The link goes to a hosting, form or file-sharing service the sender does not own.
    FreeHostingLink { link: usize, service: String },
    /// An HTML-like attachment that runs script, posts a form or carries a page; or a
    /// `data:` link holding a page (`attachment` None, `link` set).
    HtmlAttachment {
        attachment: Option<usize>,
        link: Option<usize>,
        detail: HtmlAttachment,
    },
    /// An image holds a QR code with a web address outside the sender's own domains.
    QrCode { link: usize },
    /// A password-protected archive.
    EncryptedArchive {
        attachment: usize,
        format: ArchiveFormat,
    },
    /// An attachment that runs code or mounts as a disk when opened (or holds one).
    RiskyAttachment { attachment: usize, file: RiskyFile },
    /// Sign-in or account wording with a link that leaves the sender's organisation; or
    /// (`password_form`) a form in the message body that asks for a password.
    CredentialLure {
        phrase: String,
        link: Option<usize>,
        password_form: bool,
        /// The link carries the recipient's address (a kit's pre-filled sign-in page).
        personalised: bool,
    },
    /// A well-known brand named where the sender presents itself, by a sender the brand
    /// does not own.
    BrandImpersonation {
        brand: String,
        place: BrandPlace,
        text: String,
        /// The name is written with look-alike characters (`PayPaI`): deliberate.
        lookalike: bool,
    },
    /// Replies go to a free mail provider while From is an organisation.
    ReplyToFreemail { reply_to: String, provider: String },
}

impl Signal {
    /// The stable finding code.
    pub fn code(&self) -> &'static str {
        match self {
            Signal::LinkTextMismatch { .. } => "link-text-mismatch",
            Signal::LookalikeLink { .. } => "lookalike-link",
            Signal::IpLink { .. } => "ip-link",
            Signal::ShortenerLink { .. } => "shortener-link",
            Signal::FreeHostingLink { .. } => "free-hosting-link",
            Signal::HtmlAttachment { .. } => "html-attachment",
            Signal::EncryptedArchive { .. } => "encrypted-archive",
            Signal::QrCode { .. } => "qr-code",
            Signal::RiskyAttachment { .. } => "risky-attachment",
            Signal::CredentialLure { .. } => "credential-lure",
            Signal::BrandImpersonation { .. } => "brand-impersonation",
            Signal::ReplyToFreemail { .. } => "reply-to-freemail",
        }
    }

    /// How much weight an investigator should give it.
    pub fn severity(&self, sender: &Sender<'_>) -> Severity {
        match self {
            Signal::LookalikeLink {
                kind: "confusable", ..
            }
            | Signal::LookalikeLink {
                recipient: true, ..
            }
            | Signal::HtmlAttachment { .. } => Severity::Critical,
            Signal::RiskyAttachment { file, .. } if file.disguised => Severity::Critical,
            Signal::LookalikeLink {
                kind: "punycode", ..
            } => Severity::Info,
            Signal::ShortenerLink { .. } | Signal::ReplyToFreemail { .. }
                if sender.is_list_mail =>
            {
                Severity::Info
            }
            _ => Severity::Warning,
        }
    }
}

/// All codes the content pass can raise (for documentation and tests).
pub const CONTENT_CODES: &[&str] = &[
    "link-text-mismatch",
    "lookalike-link",
    "ip-link",
    "shortener-link",
    "free-hosting-link",
    "html-attachment",
    "encrypted-archive",
    "risky-attachment",
    "qr-code",
    "credential-lure",
    "brand-impersonation",
    "reply-to-freemail",
];

/// Runs every check.
pub fn checks(content: &Content, sender: &Sender<'_>) -> Vec<Signal> {
    let mut out = Vec::new();
    check_links(content, sender, &mut out);
    check_attachments(content, &mut out);
    out.extend(check_credential_lure(content, sender));
    out.extend(check_brand_impersonation(content, sender));
    out.extend(check_reply_to_freemail(sender));
    out
}

/// True when `org` is one the sender controls, or belongs to the same brand as the From
/// domain (Microsoft's mail linking to live.com).
fn own(sender: &Sender<'_>, org: &str) -> bool {
    sender.own_orgs.iter().any(|o| o == org) || sender.from_brand.is_some_and(|b| b.owns(org))
}

/// The per-link checks: text mismatch, look-alike, IP, shortener, hosting service, `data:`
/// pages. Each distinct destination host is judged once per check.
pub fn check_links(content: &Content, sender: &Sender<'_>, out: &mut Vec<Signal>) {
    let mut seen_hosts: Vec<&str> = Vec::new();
    let mut flagged: Vec<&'static str> = Vec::new();
    for (i, link) in content.links.iter().enumerate() {
        if link.source == LinkSource::Qr
            && link.is_web()
            && link
                .effective()
                .is_some_and(|u| !own(sender, &org_domain(&u.host)))
            && !flagged.contains(&"qr-code")
        {
            flagged.push("qr-code");
            out.push(Signal::QrCode { link: i });
        }
        if link.source == LinkSource::Anchor
            && let Some(s) = check_link_text_mismatch(i, link, sender)
            && !flagged.contains(&"link-text-mismatch")
        {
            flagged.push("link-text-mismatch");
            out.push(s);
        }
        if link.source.is_followed()
            && let Some(url) = &link.url
            && url.scheme == "data"
            && {
                let r = url.rest.to_ascii_lowercase();
                r.starts_with("text/html") || r.starts_with("image/svg")
            }
            && !flagged.contains(&"html-attachment")
        {
            flagged.push("html-attachment");
            out.push(Signal::HtmlAttachment {
                attachment: None,
                link: Some(i),
                detail: HtmlAttachment {
                    kind: "html",
                    reasons: vec!["data URL"],
                },
            });
        }
        if !link.source.is_followed() || !link.is_web() {
            continue;
        }
        let Some(url) = link.effective() else {
            continue;
        };
        if seen_hosts.contains(&url.host.as_str()) {
            continue;
        }
        seen_hosts.push(url.host.as_str());
        let mut once = |s: Option<Signal>, out: &mut Vec<Signal>| {
            if let Some(s) = s
                && !flagged.contains(&s.code())
            {
                flagged.push(s.code());
                out.push(s);
            }
        };
        once(check_ip_link(i, url), out);
        once(check_lookalike_link(i, url, sender), out);
        once(
            links::shortener(url, &sender.own_orgs)
                .filter(|_| !sender.is_discussion_list)
                .map(|e| Signal::ShortenerLink {
                    link: i,
                    service: e.host.clone(),
                }),
            out,
        );
        once(
            links::free_hosting(url, &sender.own_orgs)
                .filter(|_| !sender.is_discussion_list)
                .map(|e| Signal::FreeHostingLink {
                    link: i,
                    service: match &e.path {
                        Some(p) => format!("{}{p}", e.host),
                        None => e.host.clone(),
                    },
                }),
            out,
        );
    }
}

/// `link-text-mismatch`: the text shows a URL or domain whose organisation differs from the
/// destination's. Not flagged when the destination is a click tracker, link protection or
/// the sender's own organisation (newsletters), unless the text shows a brand or the
/// recipient's domain that the sender does not own.
pub fn check_link_text_mismatch(index: usize, link: &Link, sender: &Sender<'_>) -> Option<Signal> {
    let url = link.effective()?;
    if url.host.is_empty() || !matches!(url.scheme.as_str(), "http" | "https") {
        return None;
    }
    let shown = links::shown_domain(&link.text)?;
    let shown_org = org_domain(&shown).into_owned();
    let target_org = org_domain(&url.host);
    if shown_org == target_org || shown == url.host {
        return None;
    }
    let brand = brands::owner_of(&shown)
        .filter(|b| !sender.from_brand.is_some_and(|f| std::ptr::eq(f, *b)))
        .map(|b| b.name.clone())
        .or_else(|| {
            sender
                .recipient_domains
                .iter()
                .any(|r| organizational_domain(r) == shown_org)
                .then(|| shown_org.clone())
        });
    let benign = links::is_tracking(url)
        || link.url.as_ref().is_some_and(links::is_tracking)
        || own(sender, &target_org);
    if benign && brand.is_none() {
        return None;
    }
    Some(Signal::LinkTextMismatch {
        link: index,
        shown,
        brand,
    })
}

/// `ip-link`: a followed link to a public IP address.
pub fn check_ip_link(index: usize, url: &Url) -> Option<Signal> {
    let ip = url.ip?;
    IpClass::of(ip)
        .is_public()
        .then_some(Signal::IpLink { link: index })
}

/// `lookalike-link`: the destination imitates a brand's or the recipient's domain
/// (confusable skeleton, near-miss spelling) or is an IDN.
pub fn check_lookalike_link(index: usize, url: &Url, sender: &Sender<'_>) -> Option<Signal> {
    if url.ip.is_some() {
        return None;
    }
    let Some(hit) = domains::lookalike(&url.host, sender.recipient_domains) else {
        // Combosquatting and subdomain tricks: the brand's name inside another domain.
        let (_, imitated) = brands::named_in_host(&url.host)?;
        return Some(Signal::LookalikeLink {
            link: index,
            imitates: imitated,
            kind: "brand-in-name",
            recipient: false,
        });
    };
    let recipient = sender
        .recipient_domains
        .iter()
        .any(|r| organizational_domain(r) == hit.target);
    Some(Signal::LookalikeLink {
        link: index,
        imitates: hit.target,
        kind: hit.kind,
        recipient,
    })
}

/// `html-attachment` and `encrypted-archive`, once per attachment.
pub fn check_attachments(content: &Content, out: &mut Vec<Signal>) {
    for (i, a) in content.attachments.iter().enumerate() {
        if let Some(detail) = &a.html {
            out.push(Signal::HtmlAttachment {
                attachment: Some(i),
                link: None,
                detail: detail.clone(),
            });
        }
        if let Some(format) = a.encrypted {
            out.push(Signal::EncryptedArchive {
                attachment: i,
                format,
            });
        }
        if let Some(file) = &a.risky {
            out.push(Signal::RiskyAttachment {
                attachment: i,
                file: file.clone(),
            });
        }
    }
}

/// `credential-lure`: sign-in, verification or account-trouble wording (in the subject, a
/// heading, the text or a link's text) together with a followed link that leaves the
/// sender's organisation (not a click tracker) or a form. On list mail only the subject and
/// link texts count.
pub fn check_credential_lure(content: &Content, sender: &Sender<'_>) -> Option<Signal> {
    // Bounces quote "mailbox is full" and the like from the receiving server.
    if content.shape.report || is_mailer_daemon(sender) {
        return None;
    }
    if content.password_fields > 0 {
        return Some(Signal::CredentialLure {
            phrase: "a password field in the message".into(),
            link: content
                .links
                .iter()
                .position(|l| l.source == LinkSource::Form),
            password_form: true,
            personalised: false,
        });
    }
    // A link to a well-known brand's own site (the social icons of a newsletter) is not
    // where a lure leads, unless it is a page anyone can publish there (Google Forms).
    let leaves = |l: &Link| {
        l.source == LinkSource::Form
            || l.source.is_followed()
                && l.is_web()
                && l.effective().is_some_and(|u| {
                    !links::is_tracking(u)
                        && !l.url.as_ref().is_some_and(links::is_tracking)
                        && !own(sender, &org_domain(&u.host))
                        && (brands::owner_of(&u.host).is_none()
                            || links::free_hosting(u, &sender.own_orgs).is_some())
                })
    };
    // Links the reader clicks in the HTML come before URLs of the plain-text alternative.
    let foreign = content
        .links
        .iter()
        .position(|l| l.source != LinkSource::Text && leaves(l))
        .or_else(|| content.links.iter().position(leaves))?;
    let action = content
        .links
        .iter()
        .find(|l| l.source == LinkSource::Anchor && lure::action_text(&l.text))
        .map(|l| l.text.clone());
    let phrase = sender
        .subject
        .and_then(lure::lure_in)
        .map(str::to_string)
        .or_else(|| {
            if sender.is_list_mail {
                return None;
            }
            content
                .headings
                .iter()
                .find_map(|h| lure::lure_in(h))
                .or_else(|| lure::lure_in(&content.text))
                .map(str::to_string)
        })
        .or(action)?;
    // A lone call to action ("Log in") on list mail is too common to count.
    if sender.is_list_mail && lure::action_text(&phrase) {
        return None;
    }
    let personalised = content
        .links
        .get(foreign)
        .is_some_and(|l| carries_address(&l.target, sender.recipients));
    Some(Signal::CredentialLure {
        phrase,
        link: Some(foreign),
        password_form: false,
        personalised,
    })
}

/// True when `target` holds one of `addresses` as written, percent-encoded (`%40`) or in
/// base64 (phishing kits pre-fill the victim's address on the fake sign-in page).
pub fn carries_address(target: &str, addresses: &[String]) -> bool {
    use base64::Engine as _;
    let lower = target.to_ascii_lowercase();
    addresses
        .iter()
        .filter(|a| a.contains('@') && a.len() >= 6)
        .any(|a| {
            let a = a.to_ascii_lowercase();
            lower.contains(&a)
                || lower.contains(&a.replace('@', "%40"))
                || target.contains(&base64::engine::general_purpose::STANDARD_NO_PAD.encode(&a))
        })
}

/// True for the senders of delivery reports (`MAILER-DAEMON`, `postmaster`).
fn is_mailer_daemon(sender: &Sender<'_>) -> bool {
    sender.local_part.is_some_and(|l| {
        l.eq_ignore_ascii_case("mailer-daemon") || l.eq_ignore_ascii_case("postmaster")
    })
}

/// Prefixes of replies and forwards: a subject quoting another message's brand is not the
/// sender presenting itself.
const REPLY_PREFIXES: &[&str] = &[
    "re:", "fw:", "fwd:", "aw:", "wg:", "res:", "enc:", "tr:", "sv:", "rv:",
];

/// `brand-impersonation`: a brand in the From display name, or (when the display name is
/// generic or empty) in the subject or a heading, while the From domain is not the brand's.
/// Delivery reports are skipped (Exchange signs its bounces "Microsoft Outlook").
pub fn check_brand_impersonation(content: &Content, sender: &Sender<'_>) -> Option<Signal> {
    let from_domain = sender.from_domain?;
    if content.shape.report || is_mailer_daemon(sender) {
        return None;
    }
    let foreign = |b: &&brands::Brand| {
        !sender.from_brand.is_some_and(|f| std::ptr::eq(f, *b)) && !b.owns(from_domain)
    };
    let name = sender.display_name.unwrap_or_default();
    if let Some(b) = brands::named_in(name, true).filter(foreign) {
        return Some(Signal::BrandImpersonation {
            brand: b.name.clone(),
            place: BrandPlace::DisplayName,
            text: name.to_string(),
            lookalike: false,
        });
    }
    if let Some((b, word)) = brands::confusable_in(name).filter(|(b, _)| foreign(b)) {
        return Some(Signal::BrandImpersonation {
            brand: b.name.clone(),
            place: BrandPlace::DisplayName,
            text: format!("{name} ({word} looks like {})", b.name),
            lookalike: true,
        });
    }
    // Letters spaced out to slip past filters: "N e t f l i x".
    if let Some(joined) = brands::spaced_out(name)
        && let Some(b) = brands::named_in(&joined, true).filter(foreign)
    {
        return Some(Signal::BrandImpersonation {
            brand: b.name.clone(),
            place: BrandPlace::DisplayName,
            text: format!("{name} (spaced out: {joined})"),
            lookalike: true,
        });
    }
    // The brand's name as a word of the sender's own domain: `netflix-billing.example`.
    if let Some((b, _)) = brands::named_in_host(from_domain).filter(|(b, _)| foreign(b)) {
        return Some(Signal::BrandImpersonation {
            brand: b.name.clone(),
            place: BrandPlace::FromDomain,
            text: from_domain.to_string(),
            lookalike: false,
        });
    }
    if !brands::generic_name(name) || sender.is_list_mail || content.shape.calendar {
        return None;
    }
    if let Some(subject) = sender.subject {
        let lower = subject.trim_start().to_lowercase();
        if !REPLY_PREFIXES.iter().any(|p| lower.starts_with(p))
            && let Some(b) = brands::named_in(subject, false).filter(foreign)
        {
            return Some(Signal::BrandImpersonation {
                brand: b.name.clone(),
                place: BrandPlace::Subject,
                text: subject.to_string(),
                lookalike: false,
            });
        }
    }
    content.headings.iter().take(3).find_map(|h| {
        brands::named_in(h, true)
            .filter(foreign)
            .map(|b| Signal::BrandImpersonation {
                brand: b.name.clone(),
                place: BrandPlace::Heading,
                text: h.clone(),
                lookalike: false,
            })
    })
}

/// Free mail providers: organisational domain → owners.
static FREEMAIL: LazyLock<Vec<(String, Vec<String>)>> = LazyLock::new(|| {
    include_str!("../../data/freemail.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let domain = words.next()?.to_ascii_lowercase();
            let owners = words
                .filter_map(|w| w.strip_prefix("owner="))
                .flat_map(|o| o.split(','))
                .map(str::to_ascii_lowercase)
                .collect();
            Some((domain, owners))
        })
        .collect()
});

/// True when `org` is a free mail provider's domain.
pub fn is_freemail(org: &str) -> bool {
    FREEMAIL.iter().any(|(d, _)| d == org)
}

/// `reply-to-freemail`: Reply-To at a free mail provider while From is an organisation
/// (not itself a free mail provider, nor the provider's owner).
pub fn check_reply_to_freemail(sender: &Sender<'_>) -> Option<Signal> {
    let reply_to = sender.reply_to?;
    let from_org = organizational_domain(sender.from_domain?);
    let reply_org = organizational_domain(&domains::address_domain(reply_to)?);
    if reply_org == from_org || is_freemail(&from_org) {
        return None;
    }
    let (provider, owners) = FREEMAIL.iter().find(|(d, _)| *d == reply_org)?;
    if owners.contains(&from_org) {
        return None;
    }
    Some(Signal::ReplyToFreemail {
        reply_to: reply_to.to_string(),
        provider: provider.clone(),
    })
}

fn link_evidence(content: &Content, index: usize) -> Evidence {
    let link = content.links.get(index);
    Evidence {
        kind: "link",
        text: link.map(|l| l.text.clone()).filter(|t| !t.is_empty()),
        target: link.map(|l| l.target.chars().take(300).collect()),
        domain: link.and_then(|l| l.domain.clone()),
    }
}

fn attachment_evidence(content: &Content, index: usize) -> Evidence {
    let a = content.attachments.get(index);
    Evidence {
        kind: "attachment",
        text: a.map(|a| format!("{}, {} bytes", a.content_type, a.size)),
        target: a.and_then(|a| a.name.clone()),
        domain: None,
    }
}

/// The finding for one signal, with its evidence.
pub fn finding(signal: &Signal, content: &Content, sender: &Sender<'_>) -> Finding {
    let severity = signal.severity(sender);
    let link_domain = |i: &usize| {
        content
            .links
            .get(*i)
            .and_then(|l| l.domain.clone())
            .unwrap_or_default()
    };
    let (message, evidence) = match signal {
        Signal::LinkTextMismatch { link, shown, brand } => (
            format!(
                "a link shows {shown}{} but leads to {}",
                brand
                    .as_ref()
                    .map(|b| format!(" ({b})"))
                    .unwrap_or_default(),
                link_domain(link)
            ),
            vec![link_evidence(content, *link)],
        ),
        Signal::LookalikeLink {
            link,
            imitates,
            kind,
            recipient,
        } => (
            match *kind {
                "punycode" => {
                    format!("a link goes to an internationalised name shown as {imitates}")
                }
                "confusable" => format!(
                    "a link goes to {}, a look-alike (same characters' skeleton) of {imitates}",
                    link_domain(link)
                ),
                "brand-in-name" => format!(
                    "a link goes to {}, which puts the name of {imitates} into a domain that is not its own",
                    content
                        .links
                        .get(*link)
                        .and_then(Link::effective)
                        .map(|u| u.host.as_str())
                        .unwrap_or_default()
                ),
                _ if *recipient => format!(
                    "a link goes to {}, a near-miss spelling of the recipient's domain {imitates}",
                    link_domain(link)
                ),
                _ => format!(
                    "a link goes to {}, a near-miss spelling of {imitates}",
                    link_domain(link)
                ),
            },
            vec![link_evidence(content, *link)],
        ),
        Signal::QrCode { link } => (
            format!(
                "an image holds a QR code that leads to {}: a link meant for the reader's phone, out of reach of desktop link checks",
                link_domain(link)
            ),
            vec![link_evidence(content, *link)],
        ),
        Signal::IpLink { link } => (
            format!("a link goes to the bare IP address {}", link_domain(link)),
            vec![link_evidence(content, *link)],
        ),
        Signal::ShortenerLink { link, service } => (
            format!("a link hides its destination behind the shortener {service}"),
            vec![link_evidence(content, *link)],
        ),
        Signal::FreeHostingLink { link, service } => (
            format!(
                "a link goes to a page on {service}, a hosting/form/file-sharing service anyone can publish on"
            ),
            vec![link_evidence(content, *link)],
        ),
        Signal::HtmlAttachment {
            attachment,
            link,
            detail,
        } => {
            let what = detail.reasons.join(", ");
            match (attachment, link) {
                (Some(a), _) => (
                    format!(
                        "the {} attachment {} holds {what} (HTML smuggling or a local phishing page)",
                        detail.kind.to_ascii_uppercase(),
                        content
                            .attachments
                            .get(*a)
                            .and_then(|a| a.name.as_deref())
                            .unwrap_or("(unnamed)")
                    ),
                    vec![attachment_evidence(content, *a)],
                ),
                (None, Some(l)) => (
                    "a link opens a page carried inside the message (data: URL)".to_string(),
                    vec![link_evidence(content, *l)],
                ),
                (None, None) => (format!("an embedded page holds {what}"), Vec::new()),
            }
        }
        Signal::EncryptedArchive { attachment, format } => (
            format!(
                "the attachment {} is a password-protected {} archive: scanners cannot look inside",
                content
                    .attachments
                    .get(*attachment)
                    .and_then(|a| a.name.as_deref())
                    .unwrap_or("(unnamed)"),
                format.as_str()
            ),
            vec![attachment_evidence(content, *attachment)],
        ),
        Signal::RiskyAttachment { attachment, file } => (
            format!(
                "the attachment {} is risky to open ({}{})",
                file.name,
                file.reason,
                if file.disguised { ", disguised" } else { "" }
            ),
            vec![attachment_evidence(content, *attachment)],
        ),
        Signal::CredentialLure { phrase, link, .. } => {
            let mut ev = vec![Evidence {
                kind: "text",
                text: Some(phrase.clone()),
                target: None,
                domain: None,
            }];
            if let Some(l) = link {
                ev.push(link_evidence(content, *l));
            }
            (
                format!(
                    "sign-in/account wording (\"{phrase}\") next to a link to {}",
                    link.map(|l| link_domain(&l)).unwrap_or_default()
                ),
                ev,
            )
        }
        Signal::BrandImpersonation {
            brand, place, text, ..
        } => (
            format!(
                "the {} names {brand}, but the sender's domain {} is not {brand}'s",
                place.as_str(),
                sender.from_domain.unwrap_or_default()
            ),
            vec![Evidence {
                kind: "header",
                text: Some(text.chars().take(200).collect()),
                target: Some(place.as_str().to_string()),
                domain: sender.from_domain.map(organizational_domain),
            }],
        ),
        Signal::ReplyToFreemail { reply_to, provider } => (
            format!(
                "replies go to {reply_to} at the free mail provider {provider}, while From is {}",
                sender.from_domain.unwrap_or_default()
            ),
            vec![Evidence {
                kind: "header",
                text: Some(reply_to.clone()),
                target: Some("Reply-To".into()),
                domain: Some(provider.clone()),
            }],
        ),
    };
    Finding {
        code: signal.code(),
        severity,
        message,
        evidence,
    }
}

/// The report's view of the content: each link with why it matters, each attachment.
pub fn report(content: &Content, signals: &[Signal]) -> ContentReport {
    let mut why_link: Vec<Vec<&'static str>> = vec![Vec::new(); content.links.len()];
    let mut why_attachment: Vec<Vec<&'static str>> = vec![Vec::new(); content.attachments.len()];
    for s in signals {
        let (link, attachment) = match s {
            Signal::LinkTextMismatch { link, .. }
            | Signal::LookalikeLink { link, .. }
            | Signal::IpLink { link }
            | Signal::ShortenerLink { link, .. }
            | Signal::FreeHostingLink { link, .. }
            | Signal::QrCode { link } => (Some(*link), None),
            Signal::CredentialLure { link, .. } => (*link, None),
            Signal::HtmlAttachment {
                attachment, link, ..
            } => (*link, *attachment),
            Signal::EncryptedArchive { attachment, .. }
            | Signal::RiskyAttachment { attachment, .. } => (None, Some(*attachment)),
            _ => (None, None),
        };
        if let Some(w) = link.and_then(|l| why_link.get_mut(l)) {
            w.push(s.code());
        }
        if let Some(w) = attachment.and_then(|a| why_attachment.get_mut(a)) {
            w.push(s.code());
        }
    }
    let links = content
        .links
        .iter()
        .zip(why_link)
        .filter(|(l, why)| l.source.is_followed() || !why.is_empty())
        .take(100)
        .map(|(l, why)| LinkReport {
            source: l.source.as_str(),
            text: l.text.clone(),
            target: l.target.chars().take(300).collect(),
            domain: l.domain.clone(),
            why,
        })
        .collect();
    let attachments = content
        .attachments
        .iter()
        .zip(why_attachment)
        .map(|(a, why)| AttachmentReport {
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            why,
        })
        .collect();
    ContentReport {
        parts: content.shape.parts,
        truncated: content.shape.truncated,
        links,
        attachments,
    }
}
