//! The `Received:` clause grammar (RFC 5321 §4.4 `Stamp`, RFC 5322 §3.6.7 `received`), read
//! leniently: clauses in any order, each keyword once, comments read by [`super::comment`],
//! the date-time after the last top-level `;` (or, for SendGrid and others, with no `;`).

use super::comment::{self, CommentInfo, Ctx, is_hostname, starts_with_ci};
use super::ip::ip_in_word;
use super::protocol;
use super::token::{Tok, Tokens};
use super::{Received, ReceivedAuth, ReceivedTls};
use crate::datetime;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Clause {
    #[default]
    None,
    From,
    By,
    Via,
    With,
    Id,
    For,
    /// A keyword seen a second time: its words are skipped.
    Ignored,
}

impl Clause {
    fn bit(self) -> u8 {
        match self {
            Clause::From => 1,
            Clause::By => 2,
            Clause::Via => 4,
            Clause::With => 8,
            Clause::Id => 16,
            Clause::For => 32,
            Clause::None | Clause::Ignored => 0,
        }
    }
}

/// RFC 5321 §4.4 clause keywords, case-insensitive.
fn keyword(w: &str) -> Option<Clause> {
    let k = match w.len() {
        2 if w.eq_ignore_ascii_case("by") => Clause::By,
        2 if w.eq_ignore_ascii_case("id") => Clause::Id,
        3 if w.eq_ignore_ascii_case("via") => Clause::Via,
        3 if w.eq_ignore_ascii_case("for") => Clause::For,
        4 if w.eq_ignore_ascii_case("from") => Clause::From,
        4 if w.eq_ignore_ascii_case("with") => Clause::With,
        _ => return None,
    };
    Some(k)
}

/// Words that are expected after a few cue words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Pending {
    #[default]
    None,
    /// Exim 4.9x: `tls CIPHER` after the protocol.
    TlsCipher,
    /// smtpd/smap: `claiming to be "helo"`, with how many cue words were read.
    Claiming(u8),
    /// Webmail: `as user NAME`.
    AsUser(u8),
}

/// Most words a `with`/`via` value keeps (`Microsoft SMTP Server` has three).
const MAX_VALUE_WORDS: u32 = 4;

#[derive(Default)]
struct State<'a> {
    clause: Clause,
    seen: u8,
    words: u32,
    comments: u32,
    /// Byte span of the open multi-word `with`/`via` value in the string being fed.
    span: Option<(usize, usize)>,
    pending: Pending,

    from_word: Option<&'a str>,
    rdns: Option<&'a str>,
    from_ip: Option<IpAddr>,
    helo: Option<&'a str>,
    helo_without_ip: bool,
    by_host: Option<&'a str>,
    by_ip: Option<IpAddr>,
    via: Option<&'a str>,
    with: Option<&'a str>,
    id: Option<&'a str>,
    for_addr: Option<&'a str>,
    tls: bool,
    tls_version: Option<&'a str>,
    tls_cipher: Option<&'a str>,
    auth: Option<&'static str>,
    auth_user: Option<&'a str>,
    qmail: bool,
    date: Option<(i64, i32)>,
}

/// Parses a `Received:` value. Never fails: see [`Received::parse`].
pub(super) fn parse(raw: &str) -> Received {
    let value = strip_field_name(raw);
    let mut st = State::default();
    let mut notes: Vec<&'static str> = Vec::new();

    match date_split(value) {
        Some(semi) => {
            st.feed(value.get(..semi).unwrap_or(""), false, true);
            let after = value.get(semi + 1..).unwrap_or("");
            // Skip stray punctuation some MTAs leave before the date (`;_ Tue, ...`).
            let d = after.trim_start_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '('));
            match datetime::parse_date_prefix(d) {
                Some((unix, off, used)) => {
                    st.date = Some((unix, off));
                    // Clauses written after the date (`; <date> for <addr>`).
                    let rest = d.get(used..).unwrap_or("");
                    if !rest.trim().is_empty() {
                        st.feed(rest, false, false);
                    }
                }
                None if d.trim().is_empty() => notes.push("no date-time after ';'"),
                None => notes.push("unrecognised or out-of-range date-time after ';'"),
            }
        }
        None => {
            st.feed(value, true, true);
            if st.date.is_none() {
                notes.push("no date-time (RFC 5321 §4.4 puts one after ';')");
            }
        }
    }
    st.finish(raw, notes)
}

/// Accepts a whole header line too: drops a leading `Received:` field name.
fn strip_field_name(raw: &str) -> &str {
    if starts_with_ci(raw, "received:") {
        raw.get(9..).unwrap_or("")
    } else {
        raw
    }
}

/// The `;` that ends the clauses: the last one outside comments (RFC 5322 §3.2.2). Falls
/// back to the last `;` anywhere when comments never close.
fn date_split(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let (mut depth, mut top, mut any) = (0usize, None, None);
    for i in memchr::memchr3_iter(b'(', b')', b';', b) {
        // A quoted-pair (`\(`) inside a comment is not structure.
        if i > 0 && b.get(i - 1) == Some(&b'\\') && depth > 0 {
            continue;
        }
        match b.get(i) {
            Some(b'(') => depth += 1,
            Some(b')') => depth = depth.saturating_sub(1),
            _ => {
                any = Some(i);
                if depth == 0 {
                    top = Some(i);
                }
            }
        }
    }
    if top.is_none() && depth > 0 {
        return any;
    }
    top
}

impl<'a> State<'a> {
    /// Reads the clauses in `src`. With `find_date`, a date-time met among the words ends
    /// the clauses (SendGrid writes `... id X Tue, 29 Aug 2023 ...` with no `;`). `top`
    /// allows a leading `(from ...)` / `(qmail ...)` comment.
    fn feed(&mut self, src: &'a str, find_date: bool, top: bool) {
        let mut first = top;
        for tok in Tokens::new(src) {
            match tok {
                Tok::Word(w, at) => {
                    // Only a date-time that ends the value counts, so text that merely
                    // looks like one inside a clause is not taken.
                    if find_date
                        && datetime::may_start_date(w)
                        && let Some(tail) = src.get(at..)
                        && let Some((unix, off, used)) = datetime::parse_date_prefix(tail)
                        && tail.get(used..).is_some_and(|r| r.trim().is_empty())
                    {
                        self.date = Some((unix, off));
                        break;
                    }
                    self.word(src, w, at);
                }
                Tok::Comment(inner) => {
                    if first && starts_with_ci(inner.trim_start(), "from") {
                        // NAVGW, jqueuemail: `(from host [ip]) by ...`.
                        self.feed(inner.trim_start(), false, false);
                        self.close_span(inner.trim_start());
                        self.clause = Clause::None;
                    } else if first && starts_with_ci(inner, "qmail ") {
                        // qmail's local injection: `(qmail 1234 invoked by uid 0)`,
                        // `(qmail 1234 invoked from network)`: no hop facts.
                        self.qmail = true;
                    } else {
                        self.comment(src, inner);
                    }
                }
                Tok::Comma => self.close_span(src),
            }
            first = false;
        }
        self.close_span(src);
    }

    fn word(&mut self, src: &'a str, w: &'a str, at: usize) {
        if let Some(k) = keyword(w) {
            self.close_span(src);
            self.pending = Pending::None;
            if self.seen & k.bit() != 0 {
                self.clause = Clause::Ignored;
            } else {
                self.seen |= k.bit();
                self.clause = k;
            }
            self.words = 0;
            self.comments = 0;
            return;
        }
        if self.pending_word(w) {
            return;
        }
        match self.clause {
            Clause::From => self.word_in_from(w),
            Clause::By => {
                if self.words == 0 && self.comments == 0 {
                    self.by_host = Some(w);
                } else if let Some(ip) = ip_in_word(w).filter(|_| w.starts_with('[')) {
                    self.by_ip.get_or_insert(ip);
                }
            }
            Clause::With | Clause::Via => {
                if self.words > 0 && self.clause == Clause::With && w.eq_ignore_ascii_case("tls") {
                    // Exim 4.9x: `with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384`.
                    self.close_span(src);
                    self.pending = Pending::TlsCipher;
                } else if let Some((start, _)) = self.span {
                    if self.words < MAX_VALUE_WORDS {
                        self.span = Some((start, at + w.len()));
                    }
                } else if self.words == 0 {
                    self.span = Some((at, at + w.len()));
                }
            }
            Clause::Id => {
                if self.words == 0 && self.comments == 0 {
                    self.id = Some(w);
                }
            }
            Clause::For => {
                if self.words == 0 && self.comments == 0 {
                    self.for_addr = Some(w);
                }
            }
            Clause::None | Clause::Ignored => {}
        }
        self.words = self.words.saturating_add(1);
    }

    /// Words after the `from` domain.
    fn word_in_from(&mut self, w: &'a str) {
        if self.words == 0 && self.comments == 0 {
            self.from_word = Some(w);
        } else if w.starts_with('[') {
            // `from host [ip]` (Exim 3, MDaemon, fetchmail), GMX `(EHLO x) [ip]`.
            if let Some(ip) = ip_in_word(w) {
                self.from_ip.get_or_insert(ip);
            }
        } else if w.eq_ignore_ascii_case("claiming") {
            self.pending = Pending::Claiming(0);
        } else if w.eq_ignore_ascii_case("as") {
            self.pending = Pending::AsUser(0);
        }
    }

    /// Handles a word some cue asked for; false when no cue is pending.
    fn pending_word(&mut self, w: &'a str) -> bool {
        let p = std::mem::take(&mut self.pending);
        match p {
            Pending::None => return false,
            Pending::TlsCipher => {
                self.tls = true;
                self.tls_cipher.get_or_insert(w);
            }
            Pending::Claiming(0) if w.eq_ignore_ascii_case("to") => {
                self.pending = Pending::Claiming(1)
            }
            Pending::Claiming(1) if w.eq_ignore_ascii_case("be") => {
                self.pending = Pending::Claiming(2)
            }
            Pending::Claiming(2) => {
                self.helo = Some(w.trim_matches('"'));
            }
            Pending::AsUser(0) if w.eq_ignore_ascii_case("user") => {
                self.pending = Pending::AsUser(1)
            }
            Pending::AsUser(1) => {
                self.auth.get_or_insert("as user");
                self.auth_user.get_or_insert(w);
            }
            Pending::Claiming(_) | Pending::AsUser(_) => return false,
        }
        self.words = self.words.saturating_add(1);
        true
    }

    fn comment(&mut self, src: &'a str, inner: &'a str) {
        self.close_span(src);
        self.pending = Pending::None;
        let ctx = match self.clause {
            Clause::From => Ctx::From {
                first: self.comments == 0,
            },
            Clause::By => Ctx::By,
            _ => Ctx::Other,
        };
        let info = comment::scan(inner, ctx);
        self.merge(ctx, info);
        self.comments = self.comments.saturating_add(1);
    }

    fn merge(&mut self, ctx: Ctx, info: CommentInfo<'a>) {
        if info.tls {
            self.tls = true;
            if self.tls_version.is_none() {
                self.tls_version = info.tls_version;
            }
            if self.tls_cipher.is_none() {
                self.tls_cipher = info.tls_cipher;
            }
        }
        if let Some(label) = info.auth {
            self.auth.get_or_insert(label);
        }
        if self.auth_user.is_none() {
            self.auth_user = info.auth_user;
        }
        match ctx {
            Ctx::From { .. } => {
                if let Some(ip) = info.ip {
                    self.from_ip.get_or_insert(ip);
                }
                if self.rdns.is_none() {
                    self.rdns = info.rdns;
                }
                if let Some(h) = info.helo
                    && self.helo.is_none()
                {
                    self.helo = Some(h);
                    self.helo_without_ip = info.helo_without_ip && info.ip.is_none();
                }
            }
            Ctx::By => {
                if let Some(ip) = info.ip {
                    self.by_ip.get_or_insert(ip);
                }
            }
            Ctx::Other => {}
        }
    }

    /// Ends an open `with`/`via` value.
    fn close_span(&mut self, src: &'a str) {
        let Some((start, end)) = self.span.take() else {
            return;
        };
        let v = src.get(start..end);
        match self.clause {
            Clause::With => self.with = self.with.or(v),
            Clause::Via => self.via = self.via.or(v),
            _ => {}
        }
    }

    fn finish(self, raw: &str, mut notes: Vec<&'static str>) -> Received {
        // The `from` word is the HELO name (RFC 5321 §4.4 `From-domain`) unless a comment
        // states the HELO separately (qmail `(HELO x)`, Exim `helo=x`, smap `claiming to be`):
        // then the word is the reverse-DNS name, or, for Exim's `from user (helo=x)`, the
        // local sender.
        let from_word = self.from_word.map(host_word);
        let (from_host, word_rdns) = match self.helo {
            Some(h) => (
                Some(h).filter(|h| !h.is_empty()),
                from_word.filter(|_| !self.helo_without_ip),
            ),
            None => (from_word, None),
        };
        let from_rdns = self
            .rdns
            .or(word_rdns)
            .map(|r| r.trim_end_matches('.'))
            .filter(|r| {
                !r.eq_ignore_ascii_case("unknown") && is_hostname(r) && ip_in_word(r).is_none()
            });
        let from_ip = self.from_ip.or_else(|| from_word.and_then(ip_in_word));

        let by_host = self.by_host.map(host_word).filter(|h| !h.is_empty());
        let by_ip = self.by_ip.or_else(|| by_host.and_then(ip_in_word));

        let (mut protocol, mut cipher) = (self.with, self.tls_cipher);
        let mut tls = self.tls;
        if let Some(p) = protocol {
            // `ESMTP/TLS/DHE-RSA-AES256-GCM-SHA384`.
            if let Some((base, rest)) = p.split_once('/')
                && let Some(c) = comment::strip_prefix_ci(rest, "TLS/")
            {
                protocol = Some(base);
                tls = true;
                cipher = cipher.or(Some(c));
            }
            // MessageLabs: `with AES256-GCM-SHA384 encrypted SMTP`.
            let mut parts = p.split_ascii_whitespace();
            if let (Some(c), Some(e), Some(base), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
                && e.eq_ignore_ascii_case("encrypted")
            {
                protocol = Some(base);
                tls = true;
                cipher = cipher.or(Some(c));
            }
        }
        let canon = protocol.and_then(protocol::normalize);
        let mut auth = self.auth;
        if auth.is_none() {
            auth = canon.filter(|c| protocol::authenticated(c));
        }

        let r = Received {
            from_host: from_host.map(str::to_owned),
            from_rdns: from_rdns.map(str::to_owned),
            from_ip,
            by_host: by_host.map(str::to_owned),
            by_ip,
            via: self.via.map(collapse_ws),
            protocol: protocol.map(collapse_ws),
            id: self
                .id
                .map(unangle)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            for_addr: self
                .for_addr
                .map(unangle)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            tls: tls.then(|| ReceivedTls {
                version: self.tls_version.map(str::to_owned),
                cipher: cipher.map(str::to_owned),
            }),
            authenticated: auth.map(|evidence| ReceivedAuth {
                evidence: evidence.to_owned(),
                user: self.auth_user.map(str::to_owned),
            }),
            timestamp: self.date.map(|d| d.0),
            tz_offset_minutes: self.date.map(|d| d.1),
            parse_error: None,
            raw: raw.to_owned(),
        };
        if !self.qmail
            && r.from_host.is_none()
            && r.from_ip.is_none()
            && r.by_host.is_none()
            && r.protocol.is_none()
            && r.id.is_none()
            && r.for_addr.is_none()
            && r.via.is_none()
        {
            notes.insert(0, "no from/by/with/id/for clause recognised");
        }
        Received {
            parse_error: (!notes.is_empty()).then(|| notes.join("; ")),
            ..r
        }
    }
}

/// A host word as written, without `<...>` (`by <server>`), a port after an address literal
/// (`[192.0.2.1]:25`) or a trailing comma.
fn host_word(w: &str) -> &str {
    let w = w.trim_end_matches([',', ';']);
    if w.starts_with('[')
        && let Some(close) = w.find(']')
    {
        return w.get(..=close).unwrap_or(w);
    }
    w.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(w)
}

/// `<x>` → `x`; trailing `,`/`;` dropped.
fn unangle(w: &str) -> &str {
    let w = w.trim_end_matches([',', ';']);
    w.strip_prefix('<')
        .map(|x| x.strip_suffix('>').unwrap_or(x))
        .unwrap_or(w)
}

/// Folded multi-word values become single-spaced.
fn collapse_ws(s: &str) -> String {
    if s.bytes().any(|b| matches!(b, b'\r' | b'\n' | b'\t')) || s.contains("  ") {
        s.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        s.to_owned()
    }
}
