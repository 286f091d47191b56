//! A small scanner over the flat XML parts of an Office package (`_rels/*.rels`,
//! `[Content_Types].xml`): it finds elements by local name and reads their attributes,
//! enough to drop or edit one element while leaving every other byte as it was.
//!
//! It is not a general XML parser: it knows start tags, empty-element tags and end tags
//! (XML 1.0 §3.1), quoted attribute values (§3.1 `AttValue`) and the five predefined
//! entities (§4.6). Comments and CDATA are skipped so a name inside them is not taken
//! for an element.

use std::ops::Range;

/// One element found: where it is (start tag to end tag, or the empty-element tag) and
/// its start tag's text.
#[derive(Debug, Clone)]
pub(crate) struct Element<'x> {
    pub range: Range<usize>,
    pub start_tag: &'x str,
}

impl Element<'_> {
    /// The value of attribute `name` (qualified as written, e.g. `r:id`), entities undone.
    pub fn attr(&self, name: &str) -> Option<String> {
        attribute(self.start_tag, name)
    }
}

/// Every element of `xml` whose local name (after any `prefix:`) is `local`, in order.
/// Elements of that name nested in one another are not expected in the parts read here;
/// the outer one is returned.
pub(crate) fn elements<'x>(xml: &'x str, local: &str) -> Vec<Element<'x>> {
    let mut out = Vec::new();
    let bytes = xml.as_bytes();
    let mut pos = 0;
    while let Some(rel) = xml.get(pos..).and_then(|s| s.find('<')) {
        let start = pos + rel;
        let rest = xml.get(start..).unwrap_or_default();
        // XML 1.0 §2.5 comments, §2.7 CDATA sections, §2.6 processing instructions.
        if rest.starts_with("<!--") {
            pos = skip_past(xml, start, "-->");
            continue;
        }
        if rest.starts_with("<![CDATA[") {
            pos = skip_past(xml, start, "]]>");
            continue;
        }
        if rest.starts_with("<?") || rest.starts_with("<!") || rest.starts_with("</") {
            pos = start + 1;
            continue;
        }
        let Some(tag_end) = start_tag_end(bytes, start) else {
            break;
        };
        let start_tag = xml.get(start..tag_end).unwrap_or_default();
        let qname = tag_name(start_tag);
        let local_name = qname.rsplit(':').next().unwrap_or(qname);
        if local_name != local {
            pos = start + 1;
            continue;
        }
        let end = if start_tag.ends_with("/>") {
            tag_end
        } else {
            let close = format!("</{qname}");
            match xml.get(tag_end..).and_then(|s| s.find(&close)) {
                Some(c) => {
                    let close_start = tag_end + c;
                    xml.get(close_start..)
                        .and_then(|s| s.find('>'))
                        .map_or(xml.len(), |gt| close_start + gt + 1)
                }
                None => tag_end,
            }
        };
        out.push(Element {
            range: start..end,
            start_tag,
        });
        pos = end.max(start + 1);
    }
    out
}

/// The position just after the `>` that closes the tag opened at `start` (quotes honoured).
fn start_tag_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate().skip(start + 1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(i + 1),
            None => {}
        }
    }
    None
}

fn skip_past(xml: &str, start: usize, end: &str) -> usize {
    xml.get(start..)
        .and_then(|s| s.find(end))
        .map_or(xml.len(), |e| start + e + end.len())
}

/// `w:control` in `<w:control r:id="rId5"/>`.
fn tag_name(start_tag: &str) -> &str {
    let inner = start_tag.trim_start_matches('<');
    let end = inner
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(inner.len());
    inner.get(..end).unwrap_or_default()
}

/// The value of attribute `name` in `start_tag` (XML 1.0 §3.1 `Attribute ::= Name Eq
/// AttValue`), with the predefined entities undone.
pub(crate) fn attribute(start_tag: &str, name: &str) -> Option<String> {
    let bytes = start_tag.as_bytes();
    let mut from = 0;
    while let Some(rel) = start_tag.get(from..).and_then(|s| s.find(name)) {
        let at = from + rel;
        from = at + name.len();
        let before_ok = at
            .checked_sub(1)
            .and_then(|b| bytes.get(b))
            .is_some_and(|c| c.is_ascii_whitespace());
        if !before_ok {
            continue;
        }
        let mut i = at + name.len();
        while bytes.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while bytes.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        let quote = *bytes.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = i + 1;
        let len = start_tag.get(value_start..)?.find(quote as char)?;
        let value = start_tag.get(value_start..value_start + len)?;
        return Some(unescape(value));
    }
    None
}

/// XML 1.0 §4.6: the predefined entities (and character references to ASCII).
fn unescape(value: &str) -> String {
    if !value.contains('&') {
        return value.to_owned();
    }
    value
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// `xml` with `ranges` (sorted, not overlapping) cut out.
pub(crate) fn cut(xml: &str, ranges: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut pos = 0;
    for r in ranges {
        if r.start < pos {
            continue;
        }
        out.push_str(xml.get(pos..r.start).unwrap_or_default());
        pos = r.end;
    }
    out.push_str(xml.get(pos..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><!-- <Relationship Id="x"/> --><Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/><Relationship Id='rId2' Target="a&amp;b.xml" Type="t"></Relationship></Relationships>"#;

    #[test]
    fn finds_elements_and_attributes_outside_comments() {
        let found = elements(RELS, "Relationship");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].attr("Id").as_deref(), Some("rId1"));
        assert_eq!(found[0].attr("Target").as_deref(), Some("vbaProject.bin"));
        assert_eq!(found[1].attr("Id").as_deref(), Some("rId2"));
        assert_eq!(found[1].attr("Target").as_deref(), Some("a&b.xml"));
        assert!(RELS[found[1].range.clone()].ends_with("</Relationship>"));
        let left = cut(RELS, &[found[0].range.clone()]);
        assert!(!left.contains("rId1"));
        assert!(left.contains("rId2"));
    }

    #[test]
    fn prefixed_names_match_by_local_name() {
        let xml = r#"<w:p><w:control r:id="rId5" w:name="X"/></w:p>"#;
        let found = elements(xml, "control");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].attr("r:id").as_deref(), Some("rId5"));
        assert_eq!(found[0].attr("id"), None);
    }

    #[test]
    fn never_panics_on_broken_markup() {
        for xml in [
            "<",
            "<a",
            "<a b='",
            "<a b=c>",
            "<!--",
            "<![CDATA[",
            "</",
            "<é x=\"é\">",
        ] {
            let _ = elements(xml, "a");
            let _ = attribute(xml, "b");
        }
    }
}
