//! URLAUTH (RFC 4467) and URLAUTH=BINARY (RFC 5524): GENURLAUTH makes URLs that grant
//! access to one message or part of the user's mailboxes, URLFETCH reads them, RESETKEY
//! invalidates them. The syntax is read by [`crate::wire::urlauth`] (`BAD` when wrong).
//!
//! - Tokens (RFC 4467 §7, mechanism `INTERNAL`, the only one): HMAC-SHA256, keyed with the
//!   mailbox's random 256-bit access key (kept by the backend), over the rump URL exactly
//!   as the client wrote it, truncated to 128 bits and written as 32 lower-case hex digits.
//!   Any change to the URL (uid, section, access identifier, expiry) makes another token.
//! - GENURLAUTH (§6.1) takes only URLs of the logged-in user's own mailboxes on this server
//!   (the host is the server's name or the user's domain) naming an existing message; any
//!   other URL makes the command fail with `NO` and no URL is made.
//! - URLFETCH (§6.3) answers NIL for a URL that is not valid, does not verify (key reset by
//!   RESETKEY, token changed), has expired, whose access identifier does not admit the
//!   current user (`submit+` is for the submission server only), or whose message is gone.
//!   URLs of other accounts of this server are served when their access identifier admits
//!   the current user.
//! - RESETKEY (§6.2) forgets the key of a mailbox, or of every mailbox of the user.

use super::{Action, Session};
use crate::backend::BackendError;
use crate::message::{Message, binary, section, split_section, structure};
use crate::wire::imap_url;
use crate::wire::urlauth::{Access, AuthUrl, FetchUrl, Parsed, UrlauthCommand, parse_auth_url};
use imap_codec::imap_types::core::Tag;
use imap_codec::imap_types::fetch::MessageDataItem;

/// The one mechanism offered (RFC 4467 §3).
pub const INTERNAL: &str = "INTERNAL";
/// Octets of the token kept (RFC 4467 §9: at least 32 hex digits, 128 bits).
const TOKEN_LEN: usize = 16;

/// The access token of `rump` under `key` (RFC 4467 §7): 32 lower-case hex digits.
pub fn token(key: &[u8], rump: &[u8]) -> String {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let tag = ring::hmac::sign(&k, rump);
    tag.as_ref()
        .iter()
        .take(TOKEN_LEN)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `given` is the token of `rump` under `key` (hex case-insensitive, compared in constant
/// time).
pub fn verifies(key: &[u8], rump: &[u8], given: &str) -> bool {
    let want = token(key, rump);
    if given.len() != want.len() {
        return false;
    }
    want.bytes()
        .zip(given.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b.to_ascii_lowercase()))
        == 0
}

/// What one URLFETCH URL gives.
struct Fetched {
    /// The octets (decoded with BINARY).
    data: Option<Vec<u8>>,
    /// BODYPARTSTRUCTURE, in its wire form.
    structure: Option<Vec<u8>>,
}

impl Session {
    /// GENURLAUTH, URLFETCH or RESETKEY as [`crate::wire::urlauth::parse`] read it:
    /// authenticated or selected state only (RFC 4467 §6); the updates of the selected
    /// mailbox follow, before the tagged completion (RFC 9051 §7.4.1).
    pub(super) fn urlauth_command(&mut self, parsed: Parsed) -> Option<Action> {
        self.own_parsed_command(
            parsed.name,
            parsed.tag.as_deref(),
            parsed.result,
            |s, tag, cmd| match cmd {
                UrlauthCommand::Genurlauth(urls) => s.genurlauth(tag, &urls),
                UrlauthCommand::Urlfetch(urls) => s.urlfetch(tag, &urls),
                UrlauthCommand::Resetkey {
                    mailbox,
                    mechanisms,
                } => s.resetkey(tag, mailbox.as_deref(), &mechanisms),
            },
        )
    }

    /// The URL's server is this one: its host (port aside) is our name or the domain of the
    /// URL's owner (mailward serves one host under the names of its domains).
    fn is_our_host(&self, url: &AuthUrl) -> bool {
        let host = host_name(&url.host);
        let owner = owner_address(url);
        let domain = owner.rsplit_once('@').map(|(_, d)| d);
        host.eq_ignore_ascii_case(&self.cfg.hostname)
            || domain.is_some_and(|d| host.eq_ignore_ascii_case(d))
    }

    fn is_current_user(&self, name: &str) -> bool {
        self.user
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(name))
    }

    /// RFC 4467 §6.1 GENURLAUTH: all the URLs, or `NO` and none.
    fn genurlauth(&mut self, tag: &Tag<'static>, urls: &[(Vec<u8>, String)]) {
        let mut made = Vec::with_capacity(urls.len());
        for (url, mechanism) in urls {
            if mechanism != INTERNAL {
                let text = format!("Unsupported URLAUTH mechanism {mechanism}");
                return self.tagged(tag, "NO", None, &text);
            }
            match self.gen_one(url) {
                Ok(full) => made.push(full),
                Err(why) => {
                    let text = format!("{why}: {}", imap_url::for_response(url));
                    return self.tagged(tag, "NO", None, &text);
                }
            }
        }
        let mut line = b"* GENURLAUTH".to_vec();
        for full in made {
            line.push(b' ');
            super::respond::string(&mut line, full.as_bytes(), false);
        }
        line.extend_from_slice(b"\r\n");
        self.output.extend_from_slice(&line);
        self.tagged(tag, "OK", None, "GENURLAUTH completed");
    }

    /// One GENURLAUTH URL: the full URL, or why none is made.
    fn gen_one(&mut self, url: &[u8]) -> Result<String, &'static str> {
        let parsed = parse_auth_url(url).map_err(|_| "Invalid URLAUTH URL")?;
        if parsed.verifier.is_some() {
            return Err("The URL already has a token");
        }
        if !self.is_current_user(&owner_address(&parsed)) || !self.is_our_host(&parsed) {
            return Err("The URL is not of your mailboxes on this server");
        }
        let mailbox = parsed.message.mailbox.clone().unwrap_or_default();
        if let Some(section) = parsed.message.section.as_deref()
            && imap_url::section_of(section).is_none()
        {
            return Err("Invalid section in the URL");
        }
        let backend = self.backend.as_deref_mut().ok_or("Not logged in")?;
        let (validity, _) = backend
            .urlauth_message(None, &mailbox, parsed.message.uid)
            .map_err(|_| "The URL names no message")?;
        if parsed.message.uid_validity.is_some_and(|v| v != validity) {
            return Err("The URL's UIDVALIDITY does not hold");
        }
        let key = backend
            .urlauth_key(None, &mailbox, true)
            .ok()
            .flatten()
            .ok_or("Cannot make a key for the mailbox")?;
        let rump = String::from_utf8(parsed.rump.clone()).map_err(|_| "Invalid URLAUTH URL")?;
        Ok(format!("{rump}:{INTERNAL}:{}", token(&key, &parsed.rump)))
    }

    /// RFC 4467 §6.3 URLFETCH, with RFC 5524 §4 parameters: one response with every URL
    /// and its data, NIL for those that give none.
    fn urlfetch(&mut self, tag: &Tag<'static>, urls: &[FetchUrl]) {
        let mut line = b"* URLFETCH".to_vec();
        for f in urls {
            line.push(b' ');
            super::respond::string(&mut line, &f.url, false);
            line.push(b' ');
            match self.fetch_one(f) {
                None => line.extend_from_slice(b"NIL"),
                Some(got) if !f.extended => literal(&mut line, got.data.as_deref()),
                Some(got) => {
                    // RFC 5524 §4: `(BODYPARTSTRUCTURE bs BINARY data)`.
                    let mut items: Vec<Vec<u8>> = Vec::new();
                    if let Some(bs) = got.structure {
                        let mut i = b"BODYPARTSTRUCTURE ".to_vec();
                        i.extend_from_slice(&bs);
                        items.push(i);
                    }
                    if f.binary || !f.body_part_structure {
                        let mut i = if f.binary {
                            b"BINARY ".to_vec()
                        } else {
                            b"BODY ".to_vec()
                        };
                        literal(&mut i, got.data.as_deref());
                        items.push(i);
                    }
                    line.push(b'(');
                    line.extend_from_slice(&items.join(&b' '));
                    line.push(b')');
                }
            }
        }
        line.extend_from_slice(b"\r\n");
        self.output.extend_from_slice(&line);
        self.tagged(tag, "OK", None, "URLFETCH completed");
    }

    /// The data of one URLFETCH URL, `None` when it gives none (RFC 4467 §6.3).
    fn fetch_one(&mut self, f: &FetchUrl) -> Option<Fetched> {
        let url = parse_auth_url(&f.url).ok()?;
        let (mechanism, given) = url.verifier.clone()?;
        if mechanism != INTERNAL || !self.is_our_host(&url) {
            return None;
        }
        if url
            .expire
            .is_some_and(|e| e.with_timezone(&chrono::Utc) <= chrono::Utc::now())
        {
            return None;
        }
        // RFC 4467 §3: who may use the URL.
        let admitted = match &url.access {
            Access::User(name) => self.is_current_user(&qualified(name, &url.host)),
            Access::AuthUser | Access::Anonymous => true,
            // Only the submission server may use these.
            Access::Submit(_) => false,
        };
        if !admitted {
            return None;
        }
        let owner = owner_address(&url);
        let owner = (!self.is_current_user(&owner)).then_some(owner);
        let mailbox = url.message.mailbox.clone()?;
        let backend = self.backend.as_deref_mut()?;
        let key = backend
            .urlauth_key(owner.as_deref(), &mailbox, false)
            .ok()??;
        if !verifies(&key, &url.rump, &given) {
            return None;
        }
        let (validity, raw) =
            match backend.urlauth_message(owner.as_deref(), &mailbox, url.message.uid) {
                Ok(m) => m,
                Err(BackendError::Internal(e)) => {
                    self.scope.emit(mailward_event::Event::MailboxError(
                        mailward_event::Reason::new(e),
                    ));
                    return None;
                }
                Err(_) => return None,
            };
        if url.message.uid_validity.is_some_and(|v| v != validity) {
            return None;
        }
        part_data(&raw, &url, f)
    }

    /// RFC 4467 §6.2 RESETKEY.
    fn resetkey(&mut self, tag: &Tag<'static>, mailbox: Option<&[u8]>, mechanisms: &[String]) {
        if let Some(m) = mechanisms.iter().find(|m| *m != INTERNAL) {
            let text = format!("Unsupported URLAUTH mechanism {m}");
            return self.tagged(tag, "NO", None, &text);
        }
        let name = match mailbox {
            None => None,
            Some(raw) => match crate::mailbox_name::from_wire(raw, self.enabled.utf8_names()) {
                Ok(n) => Some(n.trim_end_matches('/').to_string()),
                Err(e) => return self.tagged(tag, "NO", Some("CANNOT"), &e.to_string()),
            },
        };
        let Some(backend) = self.backend.as_deref_mut() else {
            return self.tagged(tag, "NO", Some("UNAVAILABLE"), "Not logged in");
        };
        match backend.reset_urlauth_keys(name.as_deref()) {
            Ok(()) => self.tagged(tag, "OK", None, "RESETKEY completed"),
            Err(e) => self.backend_no(tag, &e),
        }
    }
}

/// The host of `host[:port]`.
fn host_name(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

/// The account a URL names: its user, completed with the URL's host when the user is a
/// bare local part (`imap://fred@example.com/...` is fred@example.com's mailbox, as
/// clients that log in with full addresses write it).
pub fn owner_address(url: &AuthUrl) -> String {
    qualified(&url.user, &url.host)
}

/// A user name as an account address: a bare local part is taken at the URL's host.
fn qualified(user: &str, host: &str) -> String {
    if user.contains('@') {
        user.to_string()
    } else {
        format!("{user}@{}", host_name(host))
    }
}

/// A literal (or NIL): `~{n}` when the octets hold NUL (RFC 3516 §4.2 literal8).
fn literal(out: &mut Vec<u8>, data: Option<&[u8]>) {
    match data {
        None => out.extend_from_slice(b"NIL"),
        Some(d) => {
            let tilde = if d.contains(&0) { "~" } else { "" };
            out.extend_from_slice(format!("{tilde}{{{}}}\r\n", d.len()).as_bytes());
            out.extend_from_slice(d);
        }
    }
}

/// The octets (and structure) a verified URL names in the message `raw` (RFC 5092 §3
/// section and partial; RFC 5524 BINARY and BODYPARTSTRUCTURE).
fn part_data(raw: &[u8], url: &AuthUrl, f: &FetchUrl) -> Option<Fetched> {
    let msg = Message::parse(raw);
    let section = match url.message.section.as_deref() {
        Some(text) => Some(imap_url::section_of(text)?),
        None => None,
    };
    let (path, spec) = split_section(section.as_ref());
    let part = if path.is_empty() {
        msg.root()
    } else {
        section::resolve(msg.root(), &path)?
    };
    let whole_part = matches!(spec, crate::message::Specifier::Content);
    if (f.binary || f.body_part_structure) && !whole_part {
        // BINARY and BODYPARTSTRUCTURE name body parts, not headers or texts.
        return None;
    }
    let leaf = !path.is_empty()
        && matches!(
            part.kind,
            crate::message::mime::Kind::Text | crate::message::mime::Kind::Basic
        );
    // The decoded part (RFC 5524 §3), Content-Transfer-Encoding fields `relabel`led.
    let decoded = |relabel: bool| -> Option<Vec<u8>> {
        if leaf {
            Some(msg.binary(&path).ok()?.into_owned())
        } else if path.is_empty() {
            binary::decoded_part(msg.data(), part, relabel)
        } else {
            binary::decoded_body(msg.data(), part, relabel)
        }
    };
    let structure = if !f.body_part_structure {
        None
    } else if f.binary {
        // With BINARY the structure describes the decoded data (its sizes and line
        // counts) the client receives: the part's header over the decoded body.
        let mut wrapped = if path.is_empty() {
            Vec::new()
        } else {
            msg.data()
                .get(part.header.start..part.header.end)
                .unwrap_or_default()
                .to_vec()
        };
        wrapped.extend_from_slice(&decoded(false)?);
        let m = Message::parse(&wrapped);
        Some(structure_item(m.data(), m.root()))
    } else {
        Some(structure_item(msg.data(), part))
    };
    let data = if f.binary {
        decoded(true)?
    } else {
        msg.section(&path, &spec).into_owned()
    };
    let data = match url.message.partial {
        // RFC 5092 §3: a partial range without a length runs to the end.
        Some((origin, len)) => section::partial(&data, origin, len.unwrap_or(u32::MAX)).to_vec(),
        None => data,
    };
    Some(Fetched {
        data: Some(data),
        structure,
    })
}

/// BODYPARTSTRUCTURE of `part` (RFC 5524 §3): its BODYSTRUCTURE, extension data included.
fn structure_item(data: &[u8], part: &crate::message::mime::Part) -> Vec<u8> {
    let item = super::respond::fetch_item(MessageDataItem::BodyStructure(
        structure::body_structure(data, part, true),
    ));
    item.strip_prefix(b"BODYSTRUCTURE ")
        .map(<[u8]>::to_vec)
        .unwrap_or(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = &[7u8; 32];

    #[test]
    fn bare_users_are_taken_at_the_host() {
        assert_eq!(qualified("fred", "example.com:143"), "fred@example.com");
        assert_eq!(
            qualified("fred@example.org", "example.com"),
            "fred@example.org"
        );
        assert_eq!(host_name("[::1]:143"), "[::1]");
        assert_eq!(host_name("example.com:"), "example.com:");
    }

    #[test]
    fn tokens_are_bound_to_the_exact_url() {
        let rump = b"imap://u@h/INBOX/;UID=1;URLAUTH=user+u";
        let t = token(KEY, rump);
        assert_eq!(t.len(), 32);
        assert!(
            t.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(verifies(KEY, rump, &t));
        assert!(verifies(KEY, rump, &t.to_ascii_uppercase()));
        // Another uid, another access identifier, another key: no.
        assert!(!verifies(
            KEY,
            b"imap://u@h/INBOX/;UID=2;URLAUTH=user+u",
            &t
        ));
        assert!(!verifies(
            KEY,
            b"imap://u@h/INBOX/;UID=1;URLAUTH=anonymous",
            &t
        ));
        assert!(!verifies(&[8u8; 32], rump, &t));
        assert!(!verifies(KEY, rump, &t[..31]));
        assert!(!verifies(KEY, rump, &format!("{t}0")));
    }
}
