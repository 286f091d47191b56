//! URLAUTH (RFC 4467) and URLAUTH=BINARY (RFC 5524): the commands GENURLAUTH, URLFETCH and
//! RESETKEY, and the URLAUTH-authorized IMAP URLs they carry (RFC 4467 §9):
//!
//! ```text
//! authimapurl      = "imap://" enc-user [iauth] "@" hostport "/" imessagepart
//! authimapurlrump  = authimapurl [";EXPIRE=" date-time] ";URLAUTH=" access
//! authimapurlfull  = authimapurlrump ":" uauth-mechanism ":" enc-urlauth
//! access           = ("submit+" / "user+") enc-user / "authuser" / "anonymous"
//! enc-urlauth      = 32*HEXDIG
//! genurlauth       = "GENURLAUTH" 1*(SP url-rump SP mechanism)
//! urlfetch         = "URLFETCH" 1*(SP url / "(" url *(SP fetch-param) ")")  ; RFC 5524 §4
//! resetkey         = "RESETKEY" [SP mailbox *(SP mechanism)]
//! ```
//!
//! Keywords are case-insensitive. The message part is read by [`super::imap_url`]. The
//! syntax of the commands is checked here (`BAD` when wrong); what a URL names, and whether
//! its token verifies, is the session's business.

use super::framer::{command_name, recover_tag};
use super::imap_url::{self, MessageUrl, UrlError};

/// Most URLs (or URL and mechanism pairs) in one command.
pub const MAX_URLS: usize = 100;
/// Longest URL read, in octets.
pub const MAX_URL: usize = super::append::MAX_URL;

/// Who may use a URL (RFC 4467 §3 access identifiers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// `user+name`: only that user.
    User(String),
    /// `authuser`: any user authenticated to this server.
    AuthUser,
    /// `submit+name`: only the submission server acting for that user.
    Submit(String),
    /// `anonymous`: anyone.
    Anonymous,
}

/// A URLAUTH-authorized URL (a rump, or a full URL with its verifier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUrl {
    /// The owner of the mailbox (enc-user, decoded).
    pub user: String,
    /// The host (and port), lower case.
    pub host: String,
    /// The message or part; `mailbox` is always set.
    pub message: MessageUrl,
    /// RFC 4467 §3 `;EXPIRE=`: not usable after this time.
    pub expire: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub access: Access,
    /// The rump URL as given: everything up to the access identifier, the text the token
    /// is computed over (RFC 4467 §7).
    pub rump: Vec<u8>,
    /// `:mechanism:token` (mechanism upper case, token as given).
    pub verifier: Option<(String, String)>,
}

/// Finds `key` case-insensitively.
fn find_ci(hay: &[u8], key: &[u8]) -> Option<usize> {
    hay.windows(key.len())
        .position(|w| w.eq_ignore_ascii_case(key))
}

/// `uauth-mechanism` (RFC 4467 §9): `INTERNAL` or 1*(ALPHA / DIGIT / "-" / ".").
fn is_mechanism(s: &[u8]) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
}

/// Reads a URLAUTH URL (RFC 4467 §9): a rump, or a full URL when it has a verifier.
pub fn parse_auth_url(url: &[u8]) -> Result<AuthUrl, UrlError> {
    if url.len() > MAX_URL {
        return Err(UrlError::Malformed);
    }
    let rest = url
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case(b"imap://"))
        .and_then(|_| url.get(7..))
        .ok_or(UrlError::Unsupported)?;
    let slash = memchr::memchr(b'/', rest).ok_or(UrlError::Malformed)?;
    let (authority, path) = (
        rest.get(..slash).unwrap_or_default(),
        rest.get(slash + 1..).unwrap_or_default(),
    );
    // RFC 4467 §9: the user is required; `@` inside it is percent-encoded.
    let at = memchr::memrchr(b'@', authority).ok_or(UrlError::Malformed)?;
    let userinfo = authority.get(..at).unwrap_or_default();
    let host = authority.get(at + 1..).unwrap_or_default();
    let enc_user = match find_ci(userinfo, b";AUTH=") {
        Some(i) => userinfo.get(..i).unwrap_or_default(),
        None => userinfo,
    };
    if enc_user.is_empty() || host.is_empty() || host.contains(&b'@') {
        return Err(UrlError::Malformed);
    }
    let user = imap_url::percent_decode(enc_user)?;
    let host = String::from_utf8(host.to_ascii_lowercase()).map_err(|_| UrlError::Malformed)?;

    const URLAUTH: &[u8] = b";URLAUTH=";
    let ua = find_ci(path, URLAUTH).ok_or(UrlError::Malformed)?;
    let before = path.get(..ua).unwrap_or_default();
    let after = path.get(ua + URLAUTH.len()..).unwrap_or_default();
    let (access_text, verifier) = match memchr::memchr(b':', after) {
        Some(c) => (
            after.get(..c).unwrap_or_default(),
            Some(after.get(c + 1..).unwrap_or_default()),
        ),
        None => (after, None),
    };
    let access = access(access_text)?;
    let rump_len = url.len() - after.len() + access_text.len();
    let verifier = verifier.map(verifier_of).transpose()?;

    const EXPIRE: &[u8] = b";EXPIRE=";
    let (part, expire) = match find_ci(before, EXPIRE) {
        Some(e) => {
            let text = before.get(e + EXPIRE.len()..).unwrap_or_default();
            let text = std::str::from_utf8(text).map_err(|_| UrlError::Malformed)?;
            let when =
                chrono::DateTime::parse_from_rfc3339(text).map_err(|_| UrlError::Malformed)?;
            (before.get(..e).unwrap_or_default(), Some(when))
        }
        None => (before, None),
    };
    let mut absolute = Vec::with_capacity(part.len() + 1);
    absolute.push(b'/');
    absolute.extend_from_slice(part);
    let message = imap_url::parse(&absolute)?;
    if message.mailbox.is_none() {
        return Err(UrlError::Malformed);
    }
    Ok(AuthUrl {
        user,
        host,
        message,
        expire,
        access,
        rump: url.get(..rump_len).unwrap_or_default().to_vec(),
        verifier,
    })
}

/// RFC 4467 §9 access.
fn access(text: &[u8]) -> Result<Access, UrlError> {
    let named = |prefix: &[u8]| -> Option<&[u8]> {
        text.get(..prefix.len())
            .filter(|h| h.eq_ignore_ascii_case(prefix))
            .and_then(|_| text.get(prefix.len()..))
    };
    if text.eq_ignore_ascii_case(b"authuser") {
        Ok(Access::AuthUser)
    } else if text.eq_ignore_ascii_case(b"anonymous") {
        Ok(Access::Anonymous)
    } else if let Some(u) = named(b"user+").filter(|u| !u.is_empty()) {
        Ok(Access::User(imap_url::percent_decode(u)?))
    } else if let Some(u) = named(b"submit+").filter(|u| !u.is_empty()) {
        Ok(Access::Submit(imap_url::percent_decode(u)?))
    } else {
        Err(UrlError::Malformed)
    }
}

/// `uauth-mechanism ":" enc-urlauth` (RFC 4467 §9).
fn verifier_of(text: &[u8]) -> Result<(String, String), UrlError> {
    let colon = memchr::memchr(b':', text).ok_or(UrlError::Malformed)?;
    let mech = text.get(..colon).unwrap_or_default();
    let token = text.get(colon + 1..).unwrap_or_default();
    if !is_mechanism(mech) || token.len() < 32 || !token.iter().all(u8::is_ascii_hexdigit) {
        return Err(UrlError::Malformed);
    }
    Ok((
        String::from_utf8_lossy(mech).to_ascii_uppercase(),
        String::from_utf8_lossy(token).into_owned(),
    ))
}

/// One URL of URLFETCH with its RFC 5524 parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchUrl {
    pub url: Vec<u8>,
    /// Given in the parenthesised form: the answer is the extended one (RFC 5524 §4).
    pub extended: bool,
    /// `BINARY`: the content transfer encoding undone.
    pub binary: bool,
    /// `BODYPARTSTRUCTURE`: the part's structure.
    pub body_part_structure: bool,
}

/// A command this module reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlauthCommand {
    /// URL rumps and their mechanisms.
    Genurlauth(Vec<(Vec<u8>, String)>),
    Urlfetch(Vec<FetchUrl>),
    /// The mailbox (astring, not decoded) and mechanisms, when given.
    Resetkey {
        mailbox: Option<Vec<u8>>,
        mechanisms: Vec<String>,
    },
}

/// What [`parse`] read: the tag and the command or why it is malformed (`BAD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub tag: Option<Vec<u8>>,
    pub name: &'static str,
    pub result: Result<UrlauthCommand, String>,
}

/// One argument: a string (atom, quoted or literal) or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    Str { text: Vec<u8>, atom: bool },
    List(Vec<Vec<u8>>),
}

/// RFC 9051 §9 ASTRING-CHAR (`]` included); 8-bit octets are let through (checked later).
fn is_astring_char(c: u8) -> bool {
    c > 0x20 && c != 0x7f && !matches!(c, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\')
}

/// Reads the arguments after the command name: `SP arg` up to the CRLF.
fn arguments(b: &[u8]) -> Result<Vec<Arg>, String> {
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        match b.get(i..) {
            Some(b"\r\n") | Some(b"") => return Ok(out),
            _ => {}
        }
        if b.get(i) != Some(&b' ') {
            return Err("expected a space between arguments".into());
        }
        i += 1;
        if out.len() >= MAX_URLS * 2 {
            return Err(format!("more than {MAX_URLS} URLs"));
        }
        if b.get(i) == Some(&b'(') {
            i += 1;
            let mut items = Vec::new();
            loop {
                let (s, _, next) = string(b, i)?;
                items.push(s);
                i = next;
                match b.get(i) {
                    Some(b' ') if items.len() < 8 => i += 1,
                    Some(b')') => {
                        i += 1;
                        break;
                    }
                    _ => return Err("unterminated list".into()),
                }
            }
            out.push(Arg::List(items));
        } else {
            let (text, atom, next) = string(b, i)?;
            i = next;
            out.push(Arg::Str { text, atom });
        }
    }
}

/// An astring at `i`: its octets, whether it was an atom, and where it ends.
fn string(b: &[u8], mut i: usize) -> Result<(Vec<u8>, bool, usize), String> {
    match b.get(i) {
        Some(b'"') => {
            i += 1;
            let mut out = Vec::new();
            loop {
                match b.get(i) {
                    Some(b'"') => return Ok((out, false, i + 1)),
                    Some(b'\\') => match b.get(i + 1) {
                        Some(&c @ (b'"' | b'\\')) => {
                            out.push(c);
                            i += 2;
                        }
                        _ => return Err("invalid escape in a quoted string".into()),
                    },
                    Some(b'\r' | b'\n' | 0) | None => {
                        return Err("unterminated quoted string".into());
                    }
                    Some(&c) => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
        }
        Some(b'{') => {
            let rest = b.get(i..).unwrap_or_default();
            let close = memchr::memchr(b'}', rest).ok_or("invalid literal")?;
            let inner = rest.get(1..close).unwrap_or_default();
            let digits = inner.strip_suffix(b"+").unwrap_or(inner);
            if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
                return Err("invalid literal".into());
            }
            let n: usize = std::str::from_utf8(digits)
                .ok()
                .and_then(|d| d.parse().ok())
                .ok_or("invalid literal")?;
            let start = i + close + 1;
            if b.get(start..start + 2) != Some(b"\r\n") {
                return Err("invalid literal".into());
            }
            let body = b
                .get(start + 2..start + 2 + n)
                .ok_or("literal shorter than announced")?;
            Ok((body.to_vec(), false, start + 2 + n))
        }
        Some(&c) if is_astring_char(c) => {
            let start = i;
            while b.get(i).is_some_and(|&c| is_astring_char(c)) {
                i += 1;
            }
            Ok((b.get(start..i).unwrap_or_default().to_vec(), true, i))
        }
        _ => Err("expected a string".into()),
    }
}

/// Reads GENURLAUTH, URLFETCH or RESETKEY; `None` for any other command.
pub fn parse(cmd: &[u8]) -> Option<Parsed> {
    let name = match command_name(cmd).as_deref() {
        Some("GENURLAUTH") => "GENURLAUTH",
        Some("URLFETCH") => "URLFETCH",
        Some("RESETKEY") => "RESETKEY",
        _ => return None,
    };
    let tag = recover_tag(cmd);
    let result = match &tag {
        None => Err("Invalid tag".to_string()),
        Some(t) => {
            let at = t.len() + 1 + name.len();
            arguments(cmd.get(at..).unwrap_or_default())
                .and_then(|args| command(name, args))
                .map_err(|why| format!("{name}: {why}"))
        }
    };
    Some(Parsed { tag, name, result })
}

fn command(name: &str, args: Vec<Arg>) -> Result<UrlauthCommand, String> {
    let atom = |a: &Arg| match a {
        Arg::Str { text, atom: true } => Some(String::from_utf8_lossy(text).to_ascii_uppercase()),
        _ => None,
    };
    match name {
        "GENURLAUTH" => {
            if args.is_empty() || !args.len().is_multiple_of(2) {
                return Err("expected URL and mechanism pairs".into());
            }
            let mut out = Vec::new();
            for pair in args.chunks(2) {
                let (Some(Arg::Str { text, .. }), Some(mech)) = (pair.first(), pair.get(1)) else {
                    return Err("expected a URL".into());
                };
                let mech = atom(mech)
                    .filter(|m| is_mechanism(m.as_bytes()))
                    .ok_or("expected a mechanism")?;
                out.push((text.clone(), mech));
            }
            Ok(UrlauthCommand::Genurlauth(out))
        }
        "URLFETCH" => {
            if args.is_empty() {
                return Err("expected a URL".into());
            }
            let mut out = Vec::new();
            for a in args {
                out.push(match a {
                    Arg::Str { text, .. } => FetchUrl {
                        url: text,
                        ..FetchUrl::default()
                    },
                    Arg::List(items) => {
                        let mut items = items.into_iter();
                        let mut f = FetchUrl {
                            url: items.next().unwrap_or_default(),
                            extended: true,
                            ..FetchUrl::default()
                        };
                        // RFC 5524 §4 fetch parameters.
                        for p in items {
                            match p.to_ascii_uppercase().as_slice() {
                                b"BINARY" => f.binary = true,
                                b"BODYPARTSTRUCTURE" => f.body_part_structure = true,
                                _ => return Err("unknown URLFETCH parameter".into()),
                            }
                        }
                        f
                    }
                });
            }
            Ok(UrlauthCommand::Urlfetch(out))
        }
        _ => {
            let mut args = args.into_iter();
            let mailbox = match args.next() {
                None => None,
                Some(Arg::Str { text, .. }) => Some(text),
                Some(Arg::List(_)) => return Err("expected a mailbox".into()),
            };
            let mut mechanisms = Vec::new();
            for a in args {
                mechanisms.push(
                    atom(&a)
                        .filter(|m| is_mechanism(m.as_bytes()))
                        .ok_or("expected a mechanism")?,
                );
            }
            Ok(UrlauthCommand::Resetkey {
                mailbox,
                mechanisms,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rump_urls_read() {
        let u = parse_auth_url(
            b"imap://joe%40example.com@example.com/INBOX;UIDVALIDITY=3/;uid=20/;section=1.2;urlauth=submit+fred",
        )
        .unwrap();
        assert_eq!(u.user, "joe@example.com");
        assert_eq!(u.host, "example.com");
        assert_eq!(u.message.mailbox.as_deref(), Some("INBOX"));
        assert_eq!(u.message.uid_validity, Some(3));
        assert_eq!(u.message.uid, 20);
        assert_eq!(u.message.section.as_deref(), Some("1.2"));
        assert_eq!(u.access, Access::Submit("fred".into()));
        assert_eq!(u.verifier, None);
        assert!(u.rump.ends_with(b"urlauth=submit+fred"));
    }

    #[test]
    fn full_urls_keep_the_rump_apart() {
        let full = b"imap://joe@h/Sent/;UID=3;EXPIRE=2030-01-01T00:00:00Z;URLAUTH=authuser:internal:0123456789abcdef0123456789ABCDEF";
        let u = parse_auth_url(full).unwrap();
        assert_eq!(u.access, Access::AuthUser);
        assert!(u.expire.is_some());
        assert_eq!(
            u.rump,
            b"imap://joe@h/Sent/;UID=3;EXPIRE=2030-01-01T00:00:00Z;URLAUTH=authuser".to_vec()
        );
        assert_eq!(
            u.verifier,
            Some(("INTERNAL".into(), "0123456789abcdef0123456789ABCDEF".into()))
        );
    }

    #[test]
    fn bad_urls_refused() {
        for bad in [
            &b"/INBOX/;UID=1;URLAUTH=anonymous"[..],
            b"imap://h/INBOX/;UID=1;URLAUTH=anonymous",
            b"imap://u@h/INBOX/;UID=1",
            b"imap://u@h/INBOX/;UID=1;URLAUTH=nobody",
            b"imap://u@h/INBOX/;UID=1;URLAUTH=user+",
            b"imap://u@h/INBOX/;UID=0;URLAUTH=anonymous",
            b"imap://u@h/;UID=1;URLAUTH=anonymous",
            b"imap://u@h/INBOX/;UID=1;EXPIRE=tomorrow;URLAUTH=anonymous",
            b"imap://u@h/INBOX/;UID=1;URLAUTH=anonymous:INTERNAL:abc",
            b"imap://u@h/INBOX/;UID=1;URLAUTH=anonymous:INTERNAL",
            b"imap://u@h/INBOX/;UID=1;URLAUTH=anonymous:INT ERNAL:0123456789abcdef0123456789abcdef",
        ] {
            assert!(
                parse_auth_url(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn commands_read() {
        let p = parse(b"a GENURLAUTH \"imap://u@h/INBOX/;UID=1;URLAUTH=anonymous\" INTERNAL\r\n")
            .unwrap();
        assert_eq!(
            p.result,
            Ok(UrlauthCommand::Genurlauth(vec![(
                b"imap://u@h/INBOX/;UID=1;URLAUTH=anonymous".to_vec(),
                "INTERNAL".into()
            )]))
        );
        let p = parse(b"a urlfetch x (y binary BodyPartStructure)\r\n").unwrap();
        assert_eq!(
            p.result,
            Ok(UrlauthCommand::Urlfetch(vec![
                FetchUrl {
                    url: b"x".to_vec(),
                    ..FetchUrl::default()
                },
                FetchUrl {
                    url: b"y".to_vec(),
                    extended: true,
                    binary: true,
                    body_part_structure: true,
                }
            ]))
        );
        let p = parse(b"a RESETKEY\r\n").unwrap();
        assert_eq!(
            p.result,
            Ok(UrlauthCommand::Resetkey {
                mailbox: None,
                mechanisms: vec![]
            })
        );
        let p = parse(b"a RESETKEY {5}\r\nINBOX INTERNAL\r\n").unwrap();
        assert_eq!(
            p.result,
            Ok(UrlauthCommand::Resetkey {
                mailbox: Some(b"INBOX".to_vec()),
                mechanisms: vec!["INTERNAL".into()]
            })
        );
        for bad in [
            &b"a GENURLAUTH\r\n"[..],
            b"a GENURLAUTH x\r\n",
            b"a GENURLAUTH x \"INTERNAL\"\r\n",
            b"a URLFETCH\r\n",
            b"a URLFETCH (x frob)\r\n",
            b"a URLFETCH (x\r\n",
            b"a RESETKEY INBOX (x)\r\n",
        ] {
            assert!(
                parse(bad).unwrap().result.is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(parse(b"a FETCH 1 FLAGS\r\n").is_none());
    }

    proptest::proptest! {
        #[test]
        fn any_input_reads_without_panic(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse_auth_url(&b);
            let mut cmd = b"a URLFETCH ".to_vec();
            cmd.extend_from_slice(&b);
            let _ = parse(&cmd);
        }
    }
}
