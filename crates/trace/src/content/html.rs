//! A small, tolerant HTML scanner: links with their visible text, form actions, frames,
//! refreshes, headings and the visible text, in one linear pass over a bounded input. No
//! DOM and no error recovery beyond "skip to the next `>`": what matters is what a reader
//! sees and where a click goes.

use std::borrow::Cow;

/// Where a link was found in the HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtmlLinkKind {
    /// `<a href>` / `<area href>`: the reader clicks it.
    Anchor,
    /// `<form action>`: typed data goes there.
    Form,
    /// `<img src>`, `<iframe src>`, ...: loaded, not clicked.
    Source,
    /// `<meta http-equiv=refresh content="0;url=...">`: the page moves on by itself.
    Refresh,
}

/// One link of an HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlLink {
    pub kind: HtmlLinkKind,
    /// The attribute value, entities decoded.
    pub target: String,
    /// The visible text of an anchor (or an image's `alt` inside it), white space collapsed.
    pub text: String,
}

/// What one HTML body holds.
#[derive(Debug, Default, Clone)]
pub struct HtmlScan {
    pub links: Vec<HtmlLink>,
    /// Visible text (outside tags, scripts and styles), white space collapsed, bounded.
    pub text: String,
    /// `<title>`, `<h1>` and `<h2>` texts.
    pub headings: Vec<String>,
    pub forms: usize,
    pub scripts: usize,
    pub iframes: usize,
    /// `<input type=password>` fields.
    pub password_fields: usize,
    /// `<embed>`/`<object>` elements and `<foreignObject>` (SVG holding HTML).
    pub embeds: usize,
    /// A `<meta http-equiv=refresh>` was seen.
    pub refresh: bool,
    /// The input was longer than the scan looked at, or a bound was reached.
    pub truncated: bool,
}

/// Bounds of one scan.
#[derive(Debug, Clone, Copy)]
pub struct HtmlLimits {
    pub max_links: usize,
    pub max_text: usize,
    pub max_anchor_text: usize,
    pub max_headings: usize,
}

impl Default for HtmlLimits {
    fn default() -> Self {
        HtmlLimits {
            max_links: 300,
            max_text: 32 << 10,
            max_anchor_text: 200,
            max_headings: 8,
        }
    }
}

/// Scans `html` once.
pub fn scan(html: &str, limits: &HtmlLimits) -> HtmlScan {
    let mut out = HtmlScan::default();
    let bytes = html.as_bytes();
    let mut i = 0;
    // The open anchor: its href and the text so far.
    let mut anchor: Option<(String, String)> = None;
    let mut heading: Option<String> = None;
    while i < bytes.len() {
        let Some(lt) = memchr::memchr(b'<', bytes.get(i..).unwrap_or_default()) else {
            text(
                html.get(i..).unwrap_or_default(),
                &mut out,
                &mut anchor,
                &mut heading,
                limits,
            );
            break;
        };
        let lt = i + lt;
        text(
            html.get(i..lt).unwrap_or_default(),
            &mut out,
            &mut anchor,
            &mut heading,
            limits,
        );
        let rest = bytes.get(lt..).unwrap_or_default();
        if rest.starts_with(b"<!--") {
            i = match memchr::memmem::find(rest, b"-->") {
                Some(end) => lt + end + 3,
                None => bytes.len(),
            };
            continue;
        }
        let (tag, end) = parse_tag(html, lt);
        i = end;
        let Some(tag) = tag else {
            // A lone `<`: text.
            text("<", &mut out, &mut anchor, &mut heading, limits);
            continue;
        };
        match (tag.name.as_str(), tag.closing) {
            ("script", false) => {
                out.scripts += 1;
                i = skip_element(bytes, i, b"</script");
            }
            ("style", false) => i = skip_element(bytes, i, b"</style"),
            ("a" | "area", false) => {
                if let Some((href, t)) = anchor.take() {
                    push_link(&mut out, HtmlLinkKind::Anchor, href, t, limits);
                }
                if let Some(href) = tag.attr("href") {
                    anchor = Some((href.to_string(), String::new()));
                }
            }
            ("a", true) => {
                if let Some((href, t)) = anchor.take() {
                    push_link(&mut out, HtmlLinkKind::Anchor, href, t, limits);
                }
            }
            ("img", false) => {
                if let (Some((_, t)), Some(alt)) = (anchor.as_mut(), tag.attr("alt"))
                    && t.trim().is_empty()
                {
                    append_text(t, alt, limits.max_anchor_text);
                }
                if let Some(src) = tag.attr("src") {
                    push_link(
                        &mut out,
                        HtmlLinkKind::Source,
                        src.to_string(),
                        String::new(),
                        limits,
                    );
                }
            }
            ("form", false) => {
                out.forms += 1;
                if let Some(action) = tag.attr("action") {
                    push_link(
                        &mut out,
                        HtmlLinkKind::Form,
                        action.to_string(),
                        String::new(),
                        limits,
                    );
                }
            }
            ("input", false)
                if tag
                    .attr("type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("password")) =>
            {
                out.password_fields += 1;
            }
            ("iframe" | "frame", false) => {
                out.iframes += 1;
                if let Some(src) = tag.attr("src") {
                    push_link(
                        &mut out,
                        HtmlLinkKind::Source,
                        src.to_string(),
                        String::new(),
                        limits,
                    );
                }
            }
            ("embed" | "object" | "foreignobject", false) => out.embeds += 1,
            ("meta", false)
                if tag
                    .attr("http-equiv")
                    .is_some_and(|v| v.eq_ignore_ascii_case("refresh")) =>
            {
                out.refresh = true;
                if let Some(url) = tag.attr("content").and_then(refresh_url) {
                    push_link(
                        &mut out,
                        HtmlLinkKind::Refresh,
                        url.to_string(),
                        String::new(),
                        limits,
                    );
                }
            }
            ("title" | "h1" | "h2", false) => heading = Some(String::new()),
            ("title" | "h1" | "h2", true) => {
                if let Some(h) = heading.take() {
                    let h = h.trim();
                    if !h.is_empty() && out.headings.len() < limits.max_headings {
                        out.headings.push(h.to_string());
                    }
                }
            }
            ("br" | "p" | "div" | "td" | "tr" | "li" | "table" | "h3" | "h4" | "span", _) => {
                text(" ", &mut out, &mut anchor, &mut heading, limits)
            }
            _ => {}
        }
    }
    if let Some((href, t)) = anchor.take() {
        push_link(&mut out, HtmlLinkKind::Anchor, href, t, limits);
    }
    out
}

fn push_link(
    out: &mut HtmlScan,
    kind: HtmlLinkKind,
    target: String,
    text: String,
    limits: &HtmlLimits,
) {
    if out.links.len() >= limits.max_links {
        out.truncated = true;
        return;
    }
    let target = target.trim().to_string();
    if target.is_empty() {
        return;
    }
    out.links.push(HtmlLink {
        kind,
        target,
        text: text.trim().to_string(),
    });
}

/// Visible text between tags: decoded, appended to the page text, the open anchor's text
/// and the open heading.
fn text(
    raw: &str,
    out: &mut HtmlScan,
    anchor: &mut Option<(String, String)>,
    heading: &mut Option<String>,
    limits: &HtmlLimits,
) {
    if raw.is_empty() {
        return;
    }
    let decoded = decode_entities(raw);
    if out.text.len() < limits.max_text {
        append_text(&mut out.text, &decoded, limits.max_text);
    } else {
        out.truncated = true;
    }
    if let Some((_, t)) = anchor.as_mut() {
        append_text(t, &decoded, limits.max_anchor_text);
    }
    if let Some(h) = heading.as_mut() {
        append_text(h, &decoded, limits.max_anchor_text);
    }
}

/// Appends `s` to `to` with runs of white space as one space, up to `max` bytes.
pub fn append_text(to: &mut String, s: &str, max: usize) {
    let mut after_space = to.is_empty() || to.ends_with(' ');
    for c in s.chars() {
        if to.len() + c.len_utf8() > max {
            return;
        }
        let space = if c.is_ascii() {
            c.is_ascii_whitespace() || c == '\u{b}'
        } else {
            c.is_whitespace() || c == '\u{200b}' || c == '\u{ad}'
        };
        if space {
            if !after_space {
                to.push(' ');
                after_space = true;
            }
        } else {
            to.push(c);
            after_space = false;
        }
    }
}

/// A tag as the scanner needs it.
struct Tag<'h> {
    /// Lower-case name (`a`, `form`, ...), at most 16 characters.
    name: String,
    closing: bool,
    /// The attributes of interest, values entity-decoded.
    attrs: Vec<(&'h str, Cow<'h, str>)>,
}

impl Tag<'_> {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

/// Attributes kept; the others are skipped over.
const KEPT: &[&str] = &[
    "href",
    "src",
    "action",
    "alt",
    "http-equiv",
    "content",
    "type",
];

/// Parses the tag starting at `lt` (a `<`). Returns the tag (None for `<!doctype>`, `<?..>`
/// or a `<` that starts no tag) and the offset just after it.
fn parse_tag(html: &str, lt: usize) -> (Option<Tag<'_>>, usize) {
    let bytes = html.as_bytes();
    let mut i = lt + 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    match bytes.get(i) {
        Some(b) if b.is_ascii_alphabetic() => {}
        Some(b'!' | b'?') => {
            let end = memchr::memchr(b'>', bytes.get(i..).unwrap_or_default())
                .map_or(bytes.len(), |e| i + e + 1);
            return (None, end);
        }
        _ => return (None, lt + 1),
    }
    let name_start = i;
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b':')
    {
        i += 1;
    }
    let raw_name = html.get(name_start..i).unwrap_or_default();
    let name = if raw_name.len() <= 16 {
        raw_name.to_ascii_lowercase()
    } else {
        String::new()
    };
    let mut tag = Tag {
        name,
        closing,
        attrs: Vec::new(),
    };
    loop {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            i += 1;
        }
        match bytes.get(i) {
            None => return (Some(tag), bytes.len()),
            Some(b'>') => return (Some(tag), i + 1),
            _ => {}
        }
        let attr_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        let attr_name = html.get(attr_start..i).unwrap_or_default();
        if i == attr_start {
            // A stray `=`: step over it.
            i += 1;
            continue;
        }
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let (value, next) = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let start = i + 1;
                let end = memchr::memchr(q, bytes.get(start..).unwrap_or_default())
                    .map_or(bytes.len(), |e| start + e);
                (
                    html.get(start..end).unwrap_or_default(),
                    (end + 1).min(bytes.len()),
                )
            }
            _ => {
                let start = i;
                let mut end = i;
                while bytes
                    .get(end)
                    .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                {
                    end += 1;
                }
                (html.get(start..end).unwrap_or_default(), end)
            }
        };
        i = next;
        if !tag.closing
            && tag.attrs.len() < 8
            && KEPT.iter().any(|k| k.eq_ignore_ascii_case(attr_name))
        {
            tag.attrs.push((attr_name, decode_entities(value)));
        }
    }
}

/// Skips a raw-text element's content (`<script>`, `<style>`) up to its end tag.
fn skip_element(bytes: &[u8], from: usize, end_tag: &[u8]) -> usize {
    let mut i = from;
    while let Some(lt) = memchr::memchr(b'<', bytes.get(i..).unwrap_or_default()) {
        let at = i + lt;
        if bytes
            .get(at..at + end_tag.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(end_tag))
        {
            return memchr::memchr(b'>', bytes.get(at..).unwrap_or_default())
                .map_or(bytes.len(), |e| at + e + 1);
        }
        i = at + 1;
    }
    bytes.len()
}

/// The URL of a refresh's `content` (`0; url=https://...`).
fn refresh_url(content: &str) -> Option<&str> {
    let lower = content.to_ascii_lowercase();
    let at = lower.find("url")?;
    let rest = content.get(at + 3..)?.trim_start();
    let rest = rest.strip_prefix('=')?.trim();
    Some(rest.trim_matches(|c| c == '\'' || c == '"'))
}

/// Decodes the character references that matter for reading links and text: numeric ones
/// and the few named ones mail uses. Unknown names are left as written.
pub fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp + 1..).unwrap_or_default();
        let semi = after.bytes().take(10).position(|b| b == b';');
        let decoded = semi.and_then(|semi| {
            let name = after.get(..semi)?;
            let c = if let Some(num) = name.strip_prefix('#') {
                let n = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => num.parse::<u32>().ok()?,
                };
                char::from_u32(n).unwrap_or('\u{fffd}')
            } else {
                match name {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    "nbsp" => ' ',
                    "shy" | "zwnj" | "zwj" => '\u{ad}',
                    "copy" => '©',
                    "reg" => '®',
                    "hellip" => '…',
                    "ndash" => '–',
                    "mdash" => '—',
                    "rsquo" | "lsquo" => '\'',
                    "ldquo" | "rdquo" => '"',
                    _ => return None,
                }
            };
            Some((c, semi + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = after.get(used..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_forms_and_text_come_out() {
        let html = r#"<html><head><title>Sign in</title><style>a{}</style></head><body>
            <h1>Your account</h1><p>Click <a href="https://evil.example/x?a=1&amp;b=2">www.paypal.com</a>.
            <a href='https://t.example/'><img src="https://cdn.example/logo.png" alt="Logo"></a>
            <form action=https://collect.example/post><input type="password" name=p></form>
            <script>var s = "<a href='x'>";</script><!-- <a href="hidden"> --></body>"#;
        let s = scan(html, &HtmlLimits::default());
        assert_eq!(s.links[0].target, "https://evil.example/x?a=1&b=2");
        assert_eq!(s.links[0].text, "www.paypal.com");
        assert_eq!(s.links[1].kind, HtmlLinkKind::Source);
        assert_eq!(s.links[2].text, "Logo");
        assert_eq!(s.links[3].kind, HtmlLinkKind::Form);
        assert_eq!(s.links.len(), 4);
        assert_eq!(s.headings, vec!["Sign in", "Your account"]);
        assert_eq!((s.forms, s.scripts, s.password_fields), (1, 1, 1));
        assert!(s.text.contains("Click www.paypal.com"));
    }

    #[test]
    fn entities_decode_minimally() {
        assert_eq!(
            decode_entities("a&amp;b&#x41;&#66;&bogus;&"),
            "a&bAB&bogus;&"
        );
    }

    #[test]
    fn refresh_is_a_link() {
        let s = scan(
            r#"<meta http-equiv="Refresh" content="0; URL='https://x.example/'">"#,
            &HtmlLimits::default(),
        );
        assert!(s.refresh);
        assert_eq!(s.links[0].target, "https://x.example/");
    }
}
