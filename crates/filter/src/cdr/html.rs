//! HTML bodies and files: scripts, event handlers, forms, frames, objects, `javascript:`
//! links and remote resources removed (ammonia, an html5ever-based allow-list sanitiser);
//! links and formatting kept so the message still displays.
//!
//! A part is rewritten only when a quick look ([`active_content`]) finds something active
//! or remote in it: most HTML mail has none and stays byte for byte. The look is
//! deliberately wide (a false alarm costs a harmless rewrite); what is kept is decided by
//! ammonia's allow-list, not by the look.

use super::{DisarmSettings, Outcome, Rewritten};
use crate::mime::Part;
use std::borrow::Cow;

/// `text/html` parts and `.html`/`.htm`/`.xhtml` files.
pub(crate) fn is_html_part(ctype: &str, ext: &str) -> bool {
    ctype == "text/html"
        || ctype == "application/xhtml+xml"
        || matches!(ext, "html" | "htm" | "xhtml" | "shtml")
}

/// The HTML `part` carries, sanitised, when it has active content.
pub(crate) fn disarm(part: &Part<'_>, settings: &DisarmSettings) -> Outcome {
    let text = String::from_utf8_lossy(&part.body);
    let found = active_content(&text);
    if found.is_empty() {
        return Outcome::Clean;
    }
    if part.body.len() > settings.max_html_bytes {
        return Outcome::Undisarmable(format!(
            "an HTML part larger than {} bytes",
            settings.max_html_bytes
        ));
    }
    let clean = sanitise(&text);
    Outcome::Disarmed(Rewritten {
        body: clean.into_bytes(),
        content_type: "text/html".to_owned(),
        filename: part.filename.clone(),
        code: "html_active_content",
        removed: found.join(", "),
    })
}

/// What a quick look finds active or remote in `html`, for a person (`scripts`, `event
/// handlers`, ...); empty when nothing.
pub(crate) fn active_content(html: &str) -> Vec<&'static str> {
    let lower = html.to_ascii_lowercase();
    // Browsers ignore tabs and newlines inside URL schemes (WHATWG URL §4.4: they are
    // removed before parsing), so `java\nscript:` is looked for without them.
    let squeezed: String = if lower.contains("script") || lower.contains("data") {
        lower
            .chars()
            .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
            .collect()
    } else {
        String::new()
    };
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    let mut found = Vec::new();
    if has(&["<script", "<noscript", "<template"]) {
        found.push("scripts");
    }
    if has_event_handler(&lower) {
        found.push("event handlers");
    }
    if squeezed.contains("script:") || squeezed.contains("data:text") {
        found.push("script links");
    }
    if has(&[
        "<form",
        "<input",
        "<button",
        "<select",
        "<textarea",
        "formaction",
    ]) {
        found.push("forms");
    }
    if has(&[
        "<iframe", "<frame", "<object", "<embed", "<applet", "<portal", "<svg", "<math", "<base",
        "srcdoc",
    ]) || (lower.contains("<meta") && lower.contains("refresh"))
    {
        found.push("frames and embedded objects");
    }
    if has(&[
        "<link",
        "url(",
        "@import",
        "expression(",
        "behavior",
        "-moz-binding",
        "srcset",
        "background-image",
        "image-set",
        "image(",
        "cross-fade",
        "element(",
        "<audio",
        "<video",
        "<source",
        "xlink:href",
    ]) || has_remote_src(&lower)
        || has_attribute(&lower, "background")
        || has_attribute(&lower, "poster")
    {
        found.push("remote resources");
    }
    // CSS escapes (CSS Syntax §4.3.7: `\75 rl(` is `url(`) can hide a fetch from the look.
    let css_escapes = lower.contains("style") && lower.contains('\\');
    if (escaped_markup(&lower) || css_escapes) && found.is_empty() {
        found.push("obfuscated markup");
    }
    found
}

/// An attribute named `on...` (`onload=`, `onerror =`): HTML's event handler content
/// attributes (WHATWG HTML §8.1.8.2).
fn has_event_handler(lower: &str) -> bool {
    let bytes = lower.as_bytes();
    memchr::memmem::find_iter(bytes, b"on").any(|at| {
        let before = at.checked_sub(1).and_then(|b| bytes.get(b));
        if !before.is_some_and(|c| c.is_ascii_whitespace() || matches!(c, b'/' | b'"' | b'\'')) {
            return false;
        }
        let mut i = at + 2;
        let name_start = i;
        while bytes.get(i).is_some_and(|c| c.is_ascii_alphabetic()) {
            i += 1;
        }
        if i == name_start {
            return false;
        }
        while bytes.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        bytes.get(i) == Some(&b'=')
    })
}

/// `name=` (spaces allowed around `=`) after a space: an attribute of that name.
fn has_attribute(lower: &str, name: &str) -> bool {
    let bytes = lower.as_bytes();
    memchr::memmem::find_iter(bytes, name.as_bytes()).any(|at| {
        let before = at.checked_sub(1).and_then(|b| bytes.get(b));
        if !before.is_some_and(|c| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'/')) {
            return false;
        }
        let mut i = at + name.len();
        while bytes.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        bytes.get(i) == Some(&b'=')
    })
}

/// A `src` attribute whose value is not a `cid:` reference to a part of the message
/// (RFC 2392) or an inline raster image.
fn has_remote_src(lower: &str) -> bool {
    let bytes = lower.as_bytes();
    memchr::memmem::find_iter(bytes, b"src").any(|at| {
        let mut i = at + 3;
        while bytes.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            return false;
        }
        i += 1;
        while bytes
            .get(i)
            .is_some_and(|c| c.is_ascii_whitespace() || matches!(c, b'"' | b'\''))
        {
            i += 1;
        }
        let value = lower.get(i..).unwrap_or_default();
        !is_inline_image(value)
    })
}

/// Character references inside a tag (`<a href="jav&#x61;script:...">`): the look cannot
/// see through them, so ammonia does the judging.
fn escaped_markup(lower: &str) -> bool {
    let mut in_tag = false;
    let bytes = lower.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            b'&' if in_tag => {
                let next = bytes.get(i + 1..i + 3).unwrap_or_default();
                if next.first() == Some(&b'#') || next == b"co" || next == b"ta" || next == b"ne" {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// `cid:` (RFC 2392) or a `data:` raster image (RFC 2397): shown without fetching
/// anything. SVG is not raster: it may hold scripts.
fn is_inline_image(value: &str) -> bool {
    value.starts_with("cid:")
        || ["png", "gif", "jpeg", "jpg", "webp", "bmp"]
            .iter()
            .any(|t| value.starts_with(&format!("data:image/{t}")))
}

/// ammonia's defaults (no scripts, no event handlers, no forms, frames or objects, only
/// safe URL schemes), plus the presentational tags and attributes HTML mail relies on;
/// `src` only for `cid:` and inline raster images, `style` only without `url()` and the
/// other ways CSS fetches or runs something.
fn sanitise(html: &str) -> String {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(["font", "center", "big", "small", "u", "s", "strike", "tt"])
        .add_generic_attributes([
            "style",
            "align",
            "valign",
            "width",
            "height",
            "bgcolor",
            "color",
            "border",
            "cellpadding",
            "cellspacing",
            "face",
            "size",
            "dir",
            "class",
            "id",
        ])
        .add_url_schemes(["cid", "data"])
        .attribute_filter(filter_attribute);
    builder.clean(html).to_string()
}

fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    let lower = value.trim().to_ascii_lowercase();
    match attribute {
        "src" => (element == "img" && is_inline_image(&lower)).then_some(Cow::Borrowed(value)),
        "style" => safe_style(value),
        // `data:` only as an inline image; never as a link target.
        _ if lower.starts_with("data:") => None,
        _ => Some(Cow::Borrowed(value)),
    }
}

/// The declarations of a `style` attribute that neither fetch nor run anything (CSS
/// Values §4.5 `url()`, CSS Cascade §6.1 `@import`; the legacy `expression()`,
/// `behavior` and `-moz-binding`). Escapes and comments are refused rather than undone.
fn safe_style(value: &str) -> Option<Cow<'_, str>> {
    let kept: Vec<&str> = value
        .split(';')
        .filter(|decl| {
            let d = decl.to_ascii_lowercase();
            !(d.contains("url")
                || d.contains("image")
                || d.contains("expression")
                || d.contains("behavior")
                || d.contains("binding")
                || d.contains('@')
                || d.contains('\\')
                || d.contains("/*")
                || d.contains('&'))
        })
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    (!kept.is_empty()).then(|| Cow::Owned(kept.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_formatting_is_not_active() {
        let html = r#"<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><p style="color:red">Hello <a href="https://example.org/">there</a> <img src="cid:logo@x"> <b>bold</b></p></body></html>"#;
        assert!(
            active_content(html).is_empty(),
            "{:?}",
            active_content(html)
        );
    }

    #[test]
    fn active_content_is_named() {
        let html = r#"<body onload="x()"><script>evil()</script><form action="https://e.test/"><input name=p></form><img src="https://tracker.test/p.gif"><a href="java
script:alert(1)">x</a></body>"#;
        assert_eq!(
            active_content(html),
            vec![
                "scripts",
                "event handlers",
                "script links",
                "forms",
                "remote resources"
            ]
        );
    }

    #[test]
    fn sanitised_html_keeps_links_and_formatting() {
        let html = r#"<body onload="x()"><script>evil()</script><p style="color: red; background: url(https://t.test/a)">Read <a href="https://example.org/doc" onclick="y()">the report</a></p><img src="https://t.test/p.gif" alt="pixel"><img src="cid:logo@x"><a href="javascript:alert(1)">bad</a><iframe src="https://e.test/"></iframe><form><input name=p></form></body>"#;
        let out = sanitise(html);
        for gone in [
            "script",
            "evil",
            "onload",
            "onclick",
            "url(",
            "t.test",
            "javascript",
            "iframe",
            "form",
            "input",
        ] {
            assert!(!out.contains(gone), "{gone} left in {out}");
        }
        assert!(out.contains(r#"href="https://example.org/doc""#), "{out}");
        assert!(out.contains("the report"));
        assert!(out.contains(r#"style="color: red""#), "{out}");
        assert!(out.contains(r#"src="cid:logo@x""#), "{out}");
    }

    #[test]
    fn css_escapes_are_looked_at() {
        let html = r"<style>p { background: \75rl(https://t.test/a) }</style><p>x</p>";
        assert_eq!(active_content(html), vec!["obfuscated markup"]);
        assert!(!sanitise(html).contains("t.test"));
        let set = r#"<p style="border-image: image-set('https://t.test/a' 1x)">x</p>"#;
        assert_eq!(active_content(set), vec!["remote resources"]);
        assert!(!sanitise(set).contains("t.test"));
    }

    #[test]
    fn entity_escaped_schemes_are_looked_at() {
        let html = r#"<a href="jav&#x61;script:alert(1)">x</a>"#;
        assert!(!active_content(html).is_empty());
        assert!(!sanitise(html).contains("alert"));
    }
}
