//! What a comment inside a `Received:` value says.
//!
//! RFC 5321 §4.4 leaves the comments free-form ("TCP-info" after the `from` domain, product
//! names after `by`); each MTA fills them its own way. This module reads the forms that
//! carry facts: the client's reverse-DNS name and address, its HELO name, TLS parameters,
//! and evidence of authenticated submission.

use super::ip::{glued_literal, ip_in_word, is_ip_word};
use super::token::{Tok, Tokens};
use std::net::IpAddr;

/// Where the comment stands: it only describes the client when it follows `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// In the `from` clause; `first` for its first comment (the TCP-info one).
    From { first: bool },
    /// In the `by` clause.
    By,
    /// Anywhere else: only TLS and authentication are read.
    Other,
}

/// Facts found in one comment.
#[derive(Debug, Default)]
pub(crate) struct CommentInfo<'a> {
    pub ip: Option<IpAddr>,
    pub rdns: Option<&'a str>,
    /// `Some("")` when an empty `HELO` was stated (`(HELO )`).
    pub helo: Option<&'a str>,
    /// The HELO came from Exim's `helo=` in a comment that named no address: the word
    /// after `from` is then a local sender ident, not a host name.
    pub helo_without_ip: bool,
    pub tls: bool,
    pub tls_version: Option<&'a str>,
    pub tls_cipher: Option<&'a str>,
    pub auth: Option<&'static str>,
    pub auth_user: Option<&'a str>,
}

const MAX_TOKENS: usize = 24;

/// Reads one comment's inside.
pub(crate) fn scan(inner: &str, ctx: Ctx) -> CommentInfo<'_> {
    let mut toks = [Tok::Comma; MAX_TOKENS];
    let mut n = 0;
    for t in Tokens::new(inner) {
        if let Some(slot) = toks.get_mut(n) {
            *slot = t;
            n += 1;
        } else {
            break;
        }
    }
    let toks = toks.get(..n).unwrap_or_default();
    let mut info = CommentInfo::default();
    let word = |i: usize| match toks.get(i) {
        Some(Tok::Word(w, _)) => Some(*w),
        _ => None,
    };

    // Postfix, Stalwart, MessageLabs: `using TLSv1.3 with cipher X (256/256 bits) ...`.
    if word(0).is_some_and(|w| w.eq_ignore_ascii_case("using")) {
        info.tls = true;
        info.tls_version = word(1).filter(|v| !v.eq_ignore_ascii_case("with"));
        let mut i = 1;
        while i < n {
            if word(i).is_some_and(|w| w.eq_ignore_ascii_case("cipher")) {
                info.tls_cipher = word(i + 1);
                break;
            }
            i += 1;
        }
        return info;
    }

    if n == 1
        && let Some(w) = word(0)
    {
        if let Some(ip) = ip_in_word(w) {
            // Exchange `(10.0.0.1)`, `(2603:...)`, qmail `(192.0.2.1)`, AOL `by x (ip)`.
            info.ip = Some(ip);
            return info;
        }
        if is_tls_version(w) {
            // Exim 4.9x `(TLS1.3)`, Exchange `(TLS)`.
            info.tls = true;
            info.tls_version = Some(w).filter(|v| v.len() > 3);
            return info;
        }
    }

    let from = matches!(ctx, Ctx::From { .. });
    let first = matches!(ctx, Ctx::From { first: true });
    let mut i = 0;
    while i < n {
        let Some(w) = word(i) else {
            i += 1;
            continue;
        };
        let next = word(i + 1);
        if let Some(v) = strip_prefix_ci(w, "version=") {
            // Exchange `version=TLS1_2, cipher=...`; Google/Sendmail `version=TLS1_3 cipher=`.
            info.tls = true;
            info.tls_version = Some(v).filter(|v| !v.is_empty());
        } else if let Some(v) = strip_prefix_ci(w, "cipher=") {
            info.tls = true;
            info.tls_cipher = Some(v).filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("OTHER"));
        } else if w.eq_ignore_ascii_case("TLS:") {
            // Courier: `TLS: TLSv1/SSLv3, 168bits, DES-CBC3-SHA`.
            info.tls = true;
            info.tls_version = next;
            i += 2;
            while let Some(t) = toks.get(i) {
                match t {
                    Tok::Word(x, _) if x.ends_with(':') => break,
                    Tok::Word(x, _) if !ends_with_ci(x, "bits") => info.tls_cipher = Some(x),
                    _ => {}
                }
                i += 1;
            }
            continue;
        } else if w.eq_ignore_ascii_case("AUTH:") {
            // Courier: `AUTH: LOGIN user` or `AUTH: user`, up to the next comma.
            let mut last = None;
            i += 1;
            while let Some(Tok::Word(x, _)) = toks.get(i) {
                last = Some(*x);
                i += 1;
            }
            set_auth(&mut info, "AUTH", last);
            continue;
        } else if let Some((ver, cipher)) = exim_tls(w) {
            // Exim: `TLS-1.0:RSA_AES_256_CBC_SHA:32`, `(Cipher TLSv1:DES-CBC3-SHA:168)`.
            info.tls = true;
            info.tls_version = Some(ver);
            info.tls_cipher = Some(cipher);
        } else if let Some(v) = strip_prefix_ci(w, "helo=") {
            info.helo = Some(v);
            info.helo_without_ip = true;
        } else if is_helo_cue(w) {
            // qmail, qpsmtpd, GMX, smap: `(HELO name)`; CommuniGate `HELO [ip]`.
            info.helo = Some(next.unwrap_or(""));
            i += 2;
            continue;
        } else if starts_with_ci(w, "authenticated") {
            let user = auth_user_after(toks, i + 1);
            let label = if next.is_some_and(|x| x.eq_ignore_ascii_case("sender:")) {
                "Authenticated sender"
            } else {
                auth_label(w)
            };
            set_auth(&mut info, label, user);
        } else if w.eq_ignore_ascii_case("auth=pass") {
            set_auth(&mut info, "auth=pass", None);
        } else if let Some(u) =
            strip_prefix_ci(w, "smtp.auth=").or_else(|| strip_prefix_ci(w, "user="))
        {
            if info.auth.is_some()
                || toks
                    .iter()
                    .any(|t| matches!(t, Tok::Word(x, _) if x.eq_ignore_ascii_case("auth=pass")))
            {
                set_auth(&mut info, "auth=pass", Some(u));
            }
        } else if from && i == 0 && w.eq_ignore_ascii_case("account") {
            // CommuniGate Pro: `(account user [ip] verified)`, `(account user HELO x)`.
            set_auth(&mut info, "account", next);
            i += 2;
            continue;
        } else if from && w.contains('@') {
            // Sendmail `(ident@host [ip])`, qmail `(ident@ip)`, qmail-smtpd-auth
            // `(user@ip with login)`.
            let w = strip_prefix_ci(w, "IDENT:").unwrap_or(w);
            if let Some((user, host)) = w.rsplit_once('@') {
                match ip_in_word(host) {
                    Some(ip) => {
                        info.ip.get_or_insert(ip);
                    }
                    None if i == 0 && is_hostname(host) => {
                        info.rdns.get_or_insert(host);
                    }
                    None => {}
                }
                if next.is_some_and(|x| x.eq_ignore_ascii_case("with")) && word(i + 2).is_some() {
                    set_auth(&mut info, "smtp-auth", Some(user));
                    i += 3;
                    continue;
                }
            }
        } else if let Some(ip) = ip_in_word(w) {
            info.ip.get_or_insert(ip);
        } else if let Some((name, ip)) = glued_literal(w) {
            // Postfix `unknown[ip]`, Comcast `name[ip]`, `<name>[ip]`.
            info.ip.get_or_insert(ip);
            let name = name.trim_start_matches('<').trim_end_matches('>');
            if first && i == 0 && is_hostname(name) {
                info.rdns = Some(name);
            }
        } else if first
            && i == 0
            && is_hostname(w)
            && !is_ip_word(w)
            && !["unverified", "softdnserr", "may"]
                .iter()
                .any(|k| w.eq_ignore_ascii_case(k))
            && match toks.get(1) {
                None | Some(Tok::Comment(_)) => true,
                Some(Tok::Word(x, _)) => x.starts_with('['),
                Some(Tok::Comma) => false,
            }
        {
            // Postfix/Sendmail TCP-info: `(rdns [ip])`, `(rdns)`.
            info.rdns = Some(w);
        }
        i += 1;
    }
    info
}

/// qmail, qpsmtpd, smap and GMX write the SMTP greeting verb in capitals before the name.
pub(crate) fn is_helo_cue(w: &str) -> bool {
    matches!(w, "HELO" | "EHLO" | "LHLO")
}

/// Words that mean something at the start of a TCP-info comment, so a host name that
/// happens to be one of them cannot be written there.
pub(crate) fn is_cue_word(w: &str) -> bool {
    is_helo_cue(&w.to_ascii_uppercase())
        || [
            "unknown",
            "unverified",
            "softdnserr",
            "may",
            "account",
            "using",
            "authenticated",
            "claiming",
            "as",
            "TLS",
            "SSL",
        ]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
        || is_tls_version(w)
}

fn set_auth<'a>(info: &mut CommentInfo<'a>, label: &'static str, user: Option<&'a str>) {
    info.auth.get_or_insert(label);
    if info.auth_user.is_none() {
        info.auth_user = user
            .map(|u| u.trim_start_matches('<').trim_end_matches(['>', ',', ';']))
            .filter(|u| !u.is_empty());
    }
}

/// The evidence label for a word starting with "authenticated".
fn auth_label(w: &str) -> &'static str {
    if w.len() > "authenticated".len() {
        "authenticated-sender"
    } else {
        "authenticated"
    }
}

/// After `authenticated`: Postfix `sender: user`, `as user`, `user name`, `id user`; Sendmail
/// `bits=0` names nobody.
fn auth_user_after<'a>(toks: &[Tok<'a>], mut i: usize) -> Option<&'a str> {
    let start = i;
    for _ in 0..2 {
        match toks.get(i) {
            // A connector is skipped only when a word follows it: the user may be `id`.
            Some(Tok::Word(w, _))
                if matches!(toks.get(i + 1), Some(Tok::Word(..)))
                    && ["sender:", "sender", "user:", "user", "as", "id", "id:", ":"]
                        .iter()
                        .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                i += 1;
            }
            _ => break,
        }
    }
    // `(authenticated by host)` names no user; after a connector (`Authenticated sender:
    // by`) the word is the user, whatever it is.
    let after_connector = i > start;
    match toks.get(i) {
        Some(Tok::Word(w, _))
            if !starts_with_ci(w, "bits=")
                && (after_connector || !w.eq_ignore_ascii_case("by"))
                && !w.ends_with(':') =>
        {
            Some(w)
        }
        _ => None,
    }
}

/// `TLS1.3`, `TLSv1.2`, `TLS1_2`, `TLS`, `SSLv3`: a bare protocol version.
fn is_tls_version(w: &str) -> bool {
    (starts_with_ci(w, "TLS") || starts_with_ci(w, "SSL"))
        && !w.contains(':')
        && w.len() <= 12
        && w.bytes()
            .skip(3)
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'v' | b'V' | b'-' | b'/'))
}

/// Exim's `version:cipher:bits`.
fn exim_tls(w: &str) -> Option<(&str, &str)> {
    if !(starts_with_ci(w, "TLS") || starts_with_ci(w, "SSL")) {
        return None;
    }
    let (ver, rest) = w.split_once(':')?;
    if !(starts_with_ci(ver, "TLS") || starts_with_ci(ver, "SSL")) {
        return None;
    }
    let cipher = rest.split(':').next()?;
    (!cipher.is_empty()).then_some((ver, cipher))
}

/// Letters, digits, `-`, `_`, `.`: a name a resolver could have returned.
pub(crate) fn is_hostname(w: &str) -> bool {
    !w.is_empty()
        && w.len() <= 255
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !w.starts_with('.')
}

pub(crate) fn starts_with_ci(w: &str, p: &str) -> bool {
    w.len() >= p.len()
        && w.as_bytes()
            .get(..p.len())
            .is_some_and(|x| x.eq_ignore_ascii_case(p.as_bytes()))
}

fn ends_with_ci(w: &str, p: &str) -> bool {
    w.len() >= p.len()
        && w.as_bytes()
            .get(w.len() - p.len()..)
            .is_some_and(|x| x.eq_ignore_ascii_case(p.as_bytes()))
}

pub(crate) fn strip_prefix_ci<'a>(w: &'a str, p: &str) -> Option<&'a str> {
    if starts_with_ci(w, p) {
        w.get(p.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Ctx = Ctx::From { first: true };

    #[test]
    fn postfix_tcp_info_and_tls() {
        let i = scan("mail.example [192.0.2.1]", FIRST);
        assert_eq!(i.rdns, Some("mail.example"));
        assert_eq!(i.ip.map(|a| a.to_string()).as_deref(), Some("192.0.2.1"));
        let t = scan(
            "using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
            Ctx::Other,
        );
        assert_eq!(
            (t.tls_version, t.tls_cipher),
            (Some("TLSv1.3"), Some("TLS_AES_256_GCM_SHA384"))
        );
    }

    #[test]
    fn rdns_only_from_the_first_from_comment_and_never_a_marker_word() {
        assert_eq!(
            scan("mail.example [192.0.2.1]", Ctx::From { first: false }).rdns,
            None
        );
        assert_eq!(scan("unverified [192.0.2.1]", FIRST).rdns, None);
        assert_eq!(
            scan("SquirrelMail authenticated user synapse", FIRST).rdns,
            None
        );
        assert_eq!(scan("uid 500", FIRST).rdns, None);
    }

    /// Found by the `received_props` property test in CI: `(Authenticated sender: by)` named
    /// no user.
    #[test]
    fn regress_a_user_named_like_a_keyword_after_a_connector_is_the_user() {
        let a = scan("Authenticated sender: by", Ctx::Other);
        assert_eq!(
            (a.auth, a.auth_user),
            (Some("Authenticated sender"), Some("by"))
        );
        let b = scan("authenticated by mail.example.test", Ctx::Other);
        assert_eq!((b.auth, b.auth_user), (Some("authenticated"), None));
    }

    #[test]
    fn authentication_forms() {
        let a = scan("Authenticated sender: alice@example.test", Ctx::Other);
        assert_eq!(
            (a.auth, a.auth_user),
            (Some("Authenticated sender"), Some("alice@example.test"))
        );
        let s = scan("authenticated bits=0", Ctx::Other);
        assert_eq!((s.auth, s.auth_user), (Some("authenticated"), None));
        let c = scan(
            "AUTH: CRAM-MD5 bob, TLS: TLS1.3, 128bits, ECDHE_RSA_AES_128_GCM_SHA256",
            FIRST,
        );
        assert_eq!((c.auth, c.auth_user), (Some("AUTH"), Some("bob")));
        assert_eq!(
            (c.tls_version, c.tls_cipher),
            (Some("TLS1.3"), Some("ECDHE_RSA_AES_128_GCM_SHA256"))
        );
        let q = scan("carol@192.0.2.7 with login", FIRST);
        assert_eq!((q.auth, q.auth_user), (Some("smtp-auth"), Some("carol")));
        assert!(q.ip.is_some());
        let p = scan("auth=pass smtp.auth=dave@example.test", Ctx::Other);
        assert_eq!(
            (p.auth, p.auth_user),
            (Some("auth=pass"), Some("dave@example.test"))
        );
    }
}
