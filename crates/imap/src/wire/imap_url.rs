//! IMAP URLs (RFC 5092) of messages and message parts, in the relative forms CATENATE
//! uses (RFC 4469 §3: "only relative IMAP message or message part URLs (i.e., those having
//! no scheme or <iserver>) are used", resolved against `imap://user@server/` or, with a
//! mailbox selected, `imap://user@server/mailbox`):
//!
//! ```text
//! iabsolute-path = "/" imailbox-ref iuid [isection] [ipartial]     ; RFC 5092 §11
//! irelative-path = imailbox-ref iuid [isection] [ipartial]
//!                / iuid-only ["/" isection-only] ["/" ipartial-only] ; the selected mailbox
//! imailbox-ref   = enc-mailbox [";UIDVALIDITY=" nz-number]
//! iuid           = "/" ";UID=" nz-number
//! isection       = "/" ";SECTION=" enc-section
//! ipartial       = "/" ";PARTIAL=" number ["." nz-number]
//! ```
//!
//! Keywords are case-insensitive; the mailbox and the section are percent-encoded UTF-8
//! (RFC 5092 §5). URLs with a scheme, URLAUTH parts (`;EXPIRE=`, `;URLAUTH=`) or anything
//! else are refused: RFC 4469 §3 says a server "would return NO" to them.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName, Section};

/// A message or message part named by a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageUrl {
    /// The mailbox (UTF-8, `/`-separated); `None` for the selected mailbox.
    pub mailbox: Option<String>,
    /// RFC 5092 §6: when given, the mailbox must still have this UIDVALIDITY.
    pub uid_validity: Option<u32>,
    pub uid: u32,
    /// The section text, decoded (`1.2.MIME`, `HEADER.FIELDS (FROM)`); `None` is the whole
    /// message.
    pub section: Option<String>,
    /// RFC 5092 §3 partial range: origin and length (to the end when absent).
    pub partial: Option<(u32, Option<u32>)>,
}

/// Why a URL is refused (`NO [BADURL url]`, RFC 4469 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not a relative IMAP message URL")]
    Unsupported,
    #[error("malformed IMAP URL")]
    Malformed,
}

/// RFC 3986 §2.1 percent-decoding; the result must be UTF-8 (RFC 5092 §5).
pub(crate) fn percent_decode(s: &[u8]) -> Result<String, UrlError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or(UrlError::Malformed)?;
            let hex = std::str::from_utf8(hex).map_err(|_| UrlError::Malformed)?;
            let v = u8::from_str_radix(hex, 16).map_err(|_| UrlError::Malformed)?;
            out.push(v);
            i += 3;
        } else if c.is_ascii_graphic() && c != b'"' && c != b'\\' || c >= 0x80 {
            out.push(c);
            i += 1;
        } else {
            return Err(UrlError::Malformed);
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::Malformed)
}

/// RFC 9051 §9 nz-number / number.
fn number(s: &[u8], nonzero: bool) -> Result<u32, UrlError> {
    if s.is_empty() || s.len() > 10 || !s.iter().all(u8::is_ascii_digit) {
        return Err(UrlError::Malformed);
    }
    let n: u32 = std::str::from_utf8(s)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(UrlError::Malformed)?;
    if nonzero && n == 0 {
        return Err(UrlError::Malformed);
    }
    Ok(n)
}

/// `;KEY=value` with a case-insensitive key; the value.
fn keyed<'a>(seg: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let head = seg.get(..key.len())?;
    head.eq_ignore_ascii_case(key.as_bytes())
        .then(|| seg.get(key.len()..))
        .flatten()
}

/// Reads a URL given to CATENATE.
pub fn parse(url: &[u8]) -> Result<MessageUrl, UrlError> {
    if url.contains(&b'?') || url.contains(&b'#') {
        // RFC 5092 search and fragment parts name no message.
        return Err(UrlError::Unsupported);
    }
    let (mailbox, rest) = if let Some(path) = url.strip_prefix(b"/") {
        if path.starts_with(b"/") {
            // `//server/...`: a network path, another server's URL.
            return Err(UrlError::Unsupported);
        }
        mailbox_ref(path)?
    } else if url.first() == Some(&b';') {
        (None, url)
    } else if url.iter().take_while(|&&c| c != b'/').any(|&c| c == b':') {
        // A scheme (`imap:`): an absolute URL.
        return Err(UrlError::Unsupported);
    } else {
        mailbox_ref(url)?
    };
    let mut out = MessageUrl {
        mailbox: mailbox.as_ref().map(|m| m.0.clone()),
        uid_validity: mailbox.and_then(|m| m.1),
        uid: 0,
        section: None,
        partial: None,
    };
    let mut segs = rest.split(|&c| c == b'/');
    let uid = segs.next().ok_or(UrlError::Malformed)?;
    out.uid = number(keyed(uid, ";UID=").ok_or(UrlError::Malformed)?, true)?;
    for seg in segs {
        if let Some(v) = keyed(seg, ";SECTION=") {
            if out.section.is_some() || out.partial.is_some() || v.is_empty() {
                return Err(UrlError::Malformed);
            }
            out.section = Some(percent_decode(v)?);
        } else if let Some(v) = keyed(seg, ";PARTIAL=") {
            if out.partial.is_some() {
                return Err(UrlError::Malformed);
            }
            let (origin, len) = match memchr::memchr(b'.', v) {
                Some(dot) => (
                    v.get(..dot).unwrap_or_default(),
                    Some(number(v.get(dot + 1..).unwrap_or_default(), true)?),
                ),
                None => (v, None),
            };
            out.partial = Some((number(origin, false)?, len));
        } else if keyed(seg, ";EXPIRE=").is_some() || keyed(seg, ";URLAUTH=").is_some() {
            // RFC 4467 URLAUTH: not offered.
            return Err(UrlError::Unsupported);
        } else {
            return Err(UrlError::Malformed);
        }
    }
    Ok(out)
}

/// `enc-mailbox [";UIDVALIDITY=" nz-number] "/"` and what follows (`;UID=...`).
/// `;` cannot occur in enc-mailbox (RFC 5092 §11 bchar), so the mailbox ends at the first.
#[allow(clippy::type_complexity)]
fn mailbox_ref(path: &[u8]) -> Result<(Option<(String, Option<u32>)>, &[u8]), UrlError> {
    let semi = memchr::memchr(b';', path).ok_or(UrlError::Malformed)?;
    let (head, tail) = path.split_at(semi);
    let (name, rest, validity) = match head.strip_suffix(b"/") {
        Some(name) => (name, tail, None),
        None => {
            // `;UIDVALIDITY=n/` follows the name.
            let after = keyed(tail, ";UIDVALIDITY=").ok_or(UrlError::Malformed)?;
            let slash = memchr::memchr(b'/', after).ok_or(UrlError::Malformed)?;
            let (v, rest) = after.split_at(slash);
            (
                head,
                rest.get(1..).unwrap_or_default(),
                Some(number(v, true)?),
            )
        }
    };
    if name.is_empty() {
        return Err(UrlError::Malformed);
    }
    let mut name = percent_decode(name)?;
    if name
        .get(..5)
        .is_some_and(|h| h.eq_ignore_ascii_case("INBOX"))
        && (name.len() == 5 || name.as_bytes().get(5) == Some(&b'/'))
    {
        name.replace_range(..5, "INBOX");
    }
    Ok((Some((name, validity)), rest))
}

/// The section of a URL (`1.2.MIME`, `HEADER.FIELDS (FROM)`), read with imap-codec's
/// grammar of FETCH sections (RFC 5092 §3: "the section-text of a FETCH BODY[...]").
/// `None` when it is not one.
pub fn section_of(text: &str) -> Option<Section<'static>> {
    if text.is_empty()
        || text
            .bytes()
            .any(|c| matches!(c, b'[' | b']' | b'\r' | b'\n' | b'{'))
    {
        return None;
    }
    let cmd = format!("x FETCH 1 BODY.PEEK[{text}]\r\n");
    let Ok(([], command)) = CommandCodec::default().decode(cmd.as_bytes()) else {
        return None;
    };
    let CommandBody::Fetch {
        macro_or_item_names: MacroOrMessageDataItemNames::MessageDataItemNames(items),
        ..
    } = command.body.into_static()
    else {
        return None;
    };
    match items.into_iter().next() {
        Some(MessageDataItemName::BodyExt {
            section: Some(section),
            partial: None,
            ..
        }) => Some(section),
        _ => None,
    }
}

/// The URL as a BADURL response code may show it (RFC 4469 §5 url-resp-text: any
/// TEXT-CHAR but `]`): other octets percent-encoded.
pub fn for_response(url: &[u8]) -> String {
    let mut out = String::with_capacity(url.len());
    for &c in url.iter().take(super::append::MAX_URL) {
        if (0x20..0x7f).contains(&c) && c != b']' {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(mailbox: Option<&str>, validity: Option<u32>, uid: u32) -> MessageUrl {
        MessageUrl {
            mailbox: mailbox.map(str::to_string),
            uid_validity: validity,
            uid,
            section: None,
            partial: None,
        }
    }

    #[test]
    fn absolute_paths_name_a_mailbox() {
        assert_eq!(parse(b"/INBOX/;UID=20"), Ok(url(Some("INBOX"), None, 20)));
        assert_eq!(
            parse(b"/inbox;uidvalidity=385759045/;uid=20/;section=1.MIME"),
            Ok(MessageUrl {
                section: Some("1.MIME".into()),
                ..url(Some("INBOX"), Some(385759045), 20)
            })
        );
        assert_eq!(
            parse(b"/Lists/Gr%C3%BC%C3%9Fe/;UID=3/;SECTION=HEADER.FIELDS%20(FROM)/;PARTIAL=10.5"),
            Ok(MessageUrl {
                section: Some("HEADER.FIELDS (FROM)".into()),
                partial: Some((10, Some(5))),
                ..url(Some("Lists/Grüße"), None, 3)
            })
        );
        assert_eq!(
            parse(b"/a/;uid=1/;partial=100000").map(|u| u.partial),
            Ok(Some((100000, None)))
        );
    }

    #[test]
    fn relative_forms() {
        // RFC 4469 §3: resolved against the selected mailbox.
        assert_eq!(parse(b";UID=7"), Ok(url(None, None, 7)));
        assert_eq!(
            parse(b";uid=7/;section=2").map(|u| u.section),
            Ok(Some("2".into()))
        );
        // Against `imap://user@server/mailbox`, `Sent/;UID=1` names the mailbox Sent.
        assert_eq!(parse(b"Sent/;UID=1"), Ok(url(Some("Sent"), None, 1)));
    }

    #[test]
    fn refused_urls() {
        for (u, e) in [
            (&b"imap://bob@host/INBOX/;UID=1"[..], UrlError::Unsupported),
            (b"//host/INBOX/;UID=1", UrlError::Unsupported),
            (b"/INBOX?SUBJECT%20x", UrlError::Unsupported),
            (
                b"/INBOX/;UID=1/;EXPIRE=2030-01-01T00:00:00Z",
                UrlError::Unsupported,
            ),
            (b"/INBOX/;UID=0", UrlError::Malformed),
            (b"/INBOX/;UID=x", UrlError::Malformed),
            (b"/INBOX", UrlError::Malformed),
            (b"/INBOX;UIDVALIDITY=0/;UID=1", UrlError::Malformed),
            (b"/INBOX/;UID=1/;FOO=1", UrlError::Malformed),
            (b"/INBOX/;UID=1/;PARTIAL=1/;SECTION=1", UrlError::Malformed),
            (b"/IN%ZZ/;UID=1", UrlError::Malformed),
            (b"/%FF/;UID=1", UrlError::Malformed),
            (b"/;UID=1", UrlError::Malformed),
            (b"", UrlError::Malformed),
        ] {
            assert_eq!(parse(u), Err(e), "{}", String::from_utf8_lossy(u));
        }
    }

    #[test]
    fn sections_read_as_fetch_reads_them() {
        assert!(matches!(section_of("HEADER"), Some(Section::Header(None))));
        assert!(matches!(section_of("1.2.MIME"), Some(Section::Mime(_))));
        assert!(matches!(
            section_of("header.fields (From To)"),
            Some(Section::HeaderFields(None, _))
        ));
        assert!(matches!(section_of("3"), Some(Section::Part(_))));
        for bad in [
            "",
            "FOO",
            "1.]",
            "0",
            "1.2.",
            "HEADER]<0.1>[",
            "TEXT\r\nx NOOP",
        ] {
            assert!(section_of(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn response_form_has_no_bracket() {
        assert_eq!(
            for_response(b"/a]b%20/;UID=1\r\n"),
            "/a%5Db%20/;UID=1%0D%0A"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_url_reads_without_panic(url in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse(&url);
            let shown = for_response(&url);
            proptest::prop_assert!(!shown.contains(']') && !shown.contains('\r'));
        }
    }
}
