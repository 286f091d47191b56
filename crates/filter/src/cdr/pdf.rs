//! PDF documents: actions, JavaScript, embedded files and XFA forms removed, the document
//! written back (lopdf) and read again to be sure it still parses.
//!
//! What goes (ISO 32000-1):
//! - `/OpenAction` of the catalog (§7.7.2) and every `/AA` additional-actions dictionary
//!   (§12.6.3: catalog, pages, annotations, form fields);
//! - JavaScript: `/JS` (§12.6.4.16), the `/JavaScript` name tree (§7.7.4), and every
//!   action whose `/S` is `JavaScript`, `Launch` (§12.6.4.5), `ImportData` (§12.7.5.4) or
//!   `RichMediaExecute`, with every link to it (`/A`, `/Next`, array entries);
//! - embedded files: the `/EmbeddedFiles` name tree (§7.11.4), `/EF` of file
//!   specifications, `/Type /EmbeddedFile` streams and `FileAttachment` annotations
//!   (§12.5.6.15);
//! - `/XFA` of the interactive form (§12.7.8).
//!
//! Bounded: a PDF larger than the size cap or with more objects than the cap is not
//! loaded (lopdf reads the whole document into memory) and is held instead.

use super::{DisarmSettings, Outcome, Rewritten};
use crate::mime::Part;
use lopdf::{Dictionary, Document, Object, ObjectId};
use std::collections::{BTreeSet, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Action types removed wherever they are (ISO 32000-1 §12.6.4, Table 198).
const ACTIVE_ACTIONS: &[&[u8]] = &[b"JavaScript", b"Launch", b"ImportData", b"RichMediaExecute"];

/// Keys removed from every dictionary, with what a person reads about them.
const REMOVED_KEYS: &[(&[u8], &str)] = &[
    (b"OpenAction", "OpenAction"),
    (b"AA", "automatic actions (AA)"),
    (b"JS", "JavaScript"),
    (b"JavaScript", "JavaScript"),
    (b"EmbeddedFiles", "embedded files"),
    (b"EF", "embedded files"),
    (b"XFA", "XFA form"),
];

/// Names whose presence in the raw bytes means a PDF may carry active content: when one
/// cannot be read, it is held only if one of these (or compressed objects, or escaped
/// names, §7.3.5) is there.
const RISKY_MARKERS: &[&[u8]] = &[
    b"/JS",
    b"/JavaScript",
    b"/OpenAction",
    b"/AA",
    b"/Launch",
    b"/EmbeddedFile",
    b"/FileAttachment",
    b"/XFA",
    b"/ImportData",
    b"/RichMedia",
    b"/ObjStm",
];

/// `%PDF-` in the first KiB (ISO 32000-1 §7.5.2; readers accept leading junk).
pub(crate) fn looks_like_pdf(body: &[u8]) -> bool {
    let head = body.get(..body.len().min(1024)).unwrap_or_default();
    memchr::memmem::find(head, b"%PDF-").is_some()
}

/// The PDF `part` carries, disarmed.
pub(crate) fn disarm(part: &Part<'_>, settings: &DisarmSettings) -> Outcome {
    let body: &[u8] = &part.body;
    if !looks_like_pdf(body) {
        // Named or typed PDF but not one: the block list judges what it really is.
        return Outcome::Clean;
    }
    if body.len() > settings.max_pdf_bytes {
        return Outcome::Undisarmable(format!(
            "a PDF larger than {} bytes",
            settings.max_pdf_bytes
        ));
    }
    // Objects written in the file (§7.3.10 `n g obj`), counted before lopdf builds them.
    let written = memchr::memmem::find_iter(body, b" obj")
        .take(settings.max_pdf_objects.saturating_add(1))
        .count();
    if written > settings.max_pdf_objects {
        return Outcome::Undisarmable(format!(
            "a PDF with more than {} objects",
            settings.max_pdf_objects
        ));
    }
    match rewrite(body, settings) {
        Ok(None) => Outcome::Clean,
        Ok(Some((document, removed))) => Outcome::Disarmed(Rewritten {
            body: document,
            content_type: "application/pdf".to_owned(),
            filename: part.filename.clone(),
            code: "pdf_active_content",
            removed: removed.into_iter().collect::<Vec<_>>().join(", "),
        }),
        Err(why) if may_be_active(body) => Outcome::Undisarmable(why),
        Err(_) => Outcome::Clean,
    }
}

/// The raw bytes name something active, hide objects in compressed streams or escape
/// characters of names (`/J#53` is `/JS`).
fn may_be_active(body: &[u8]) -> bool {
    RISKY_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(body, m).is_some())
        || body.windows(4).any(|w| {
            matches!(w, [a, b'#', h1, h2] if a.is_ascii_alphabetic()
                && h1.is_ascii_hexdigit() && h2.is_ascii_hexdigit())
        })
}

/// lopdf's reader, with a panic in it taken as an unreadable document.
fn load(body: &[u8]) -> Result<Document, String> {
    match catch_unwind(AssertUnwindSafe(|| Document::load_mem(body))) {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(e)) => Err(format!("not a readable PDF: {e}")),
        Err(_) => Err("not a readable PDF".to_owned()),
    }
}

/// A rewritten document and what it lost, for a person.
type Cleaned = (Vec<u8>, BTreeSet<&'static str>);

/// The document without its active content and what was removed, `None` when it has
/// none.
fn rewrite(body: &[u8], settings: &DisarmSettings) -> Result<Option<Cleaned>, String> {
    let mut doc = load(body)?;
    if doc.objects.len() > settings.max_pdf_objects {
        return Err(format!(
            "a PDF with more than {} objects",
            settings.max_pdf_objects
        ));
    }
    let mut removed = BTreeSet::new();
    let active: HashSet<ObjectId> = doc
        .objects
        .iter()
        .filter(|(_, obj)| dict_of(obj).is_some_and(|d| active_kind(d).is_some()))
        .map(|(id, _)| *id)
        .collect();
    for id in &active {
        if let Some(kind) = doc.objects.get(id).and_then(dict_of).and_then(active_kind) {
            removed.insert(kind);
        }
        doc.objects.remove(id);
    }
    for obj in doc.objects.values_mut() {
        clean_object(obj, &active, &mut removed, 0);
    }
    clean_dict(&mut doc.trailer, &active, &mut removed, 0);
    if removed.is_empty() {
        return Ok(None);
    }
    // What only the removed entries reached (JavaScript streams, name trees, file
    // streams) and the old object and cross-reference streams go too (§7.5.7, §7.5.8):
    // lopdf writes every object uncompressed with a classic cross-reference table.
    doc.objects.retain(|_, obj| {
        !dict_of(obj).is_some_and(|d| {
            d.get(b"Type")
                .ok()
                .and_then(|t| t.as_name().ok())
                .is_some_and(|t| t == b"ObjStm" || t == b"XRef")
        })
    });
    doc.trailer.remove(b"XRefStm");
    doc.prune_objects();
    // §7.5.5: the trailer's /Size is one more than the highest object number; objects went,
    // so the original's figure is wrong now (qpdf warns, and exits non-zero).
    let max_id = doc.objects.keys().map(|(n, _)| *n).max().unwrap_or(0);
    doc.max_id = max_id;
    doc.trailer.set("Size", i64::from(max_id) + 1);
    let mut out = Vec::with_capacity(body.len());
    match catch_unwind(AssertUnwindSafe(|| doc.save_to(&mut out))) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("cannot write the PDF: {e}")),
        Err(_) => return Err("cannot write the PDF".to_owned()),
    }
    // The result must parse again before it replaces the original.
    load(&out).map_err(|e| format!("the disarmed PDF does not parse: {e}"))?;
    Ok(Some((out, removed)))
}

fn dict_of(obj: &Object) -> Option<&Dictionary> {
    match obj {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

/// What an active dictionary is, for a person: an action of a removed type, a file
/// attachment annotation or an embedded file stream.
fn active_kind(dict: &Dictionary) -> Option<&'static str> {
    let name = |key: &[u8]| dict.get(key).ok().and_then(|o| o.as_name().ok());
    if let Some(s) = name(b"S")
        && ACTIVE_ACTIONS.contains(&s)
    {
        return Some(if s == b"JavaScript" {
            "JavaScript"
        } else if s == b"Launch" {
            "Launch actions"
        } else {
            "active actions"
        });
    }
    if name(b"Subtype") == Some(b"FileAttachment".as_slice()) {
        return Some("file attachments");
    }
    if name(b"Type") == Some(b"EmbeddedFile".as_slice()) {
        return Some("embedded files");
    }
    None
}

/// Nesting of direct objects lopdf builds is bounded by its parser; this bound keeps our
/// own recursion on the safe side of the stack whatever it accepts.
const MAX_NESTING: usize = 64;

fn clean_object(
    obj: &mut Object,
    active: &HashSet<ObjectId>,
    removed: &mut BTreeSet<&'static str>,
    depth: usize,
) {
    match obj {
        Object::Dictionary(d) => clean_dict(d, active, removed, depth),
        Object::Stream(s) => clean_dict(&mut s.dict, active, removed, depth),
        Object::Array(items) => {
            if depth > MAX_NESTING {
                return;
            }
            items.retain(|item| !is_active_value(item, active, removed));
            for item in items.iter_mut() {
                clean_object(item, active, removed, depth + 1);
            }
        }
        _ => {}
    }
}

fn clean_dict(
    dict: &mut Dictionary,
    active: &HashSet<ObjectId>,
    removed: &mut BTreeSet<&'static str>,
    depth: usize,
) {
    if depth > MAX_NESTING {
        return;
    }
    for (key, label) in REMOVED_KEYS {
        if dict.remove(key).is_some() {
            removed.insert(label);
        }
    }
    let links: Vec<Vec<u8>> = dict
        .iter()
        .filter(|(_, value)| is_active_value(value, active, removed))
        .map(|(key, _)| key.clone())
        .collect();
    for key in links {
        dict.remove(&key);
    }
    for (_, value) in dict.iter_mut() {
        clean_object(value, active, removed, depth + 1);
    }
}

/// A reference to a removed object, or an active dictionary written in place.
fn is_active_value(
    value: &Object,
    active: &HashSet<ObjectId>,
    removed: &mut BTreeSet<&'static str>,
) -> bool {
    match value {
        Object::Reference(id) => active.contains(id),
        Object::Dictionary(d) => match active_kind(d) {
            Some(kind) => {
                removed.insert(kind);
                true
            }
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    fn pdf_with_open_action() -> Vec<u8> {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let js = doc.add_object(dictionary! {
            "S" => "JavaScript",
            "JS" => Object::string_literal("app.alert('x')"),
        });
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "AA" => dictionary! { "O" => js },
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => vec![page_id.into()],
                "Count" => 1,
            }),
        );
        let catalog = doc.add_object(dictionary! {
            "Type" => "Catalog",
            "Pages" => pages_id,
            "OpenAction" => js,
        });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    /// qpdf --check failed on a disarmed PDF (found by the end-to-end test): the trailer
    /// kept the original's /Size after the JavaScript objects at the end were removed.
    #[test]
    fn regress_disarmed_pdf_trailer_size_follows_the_objects_left() {
        // Written by hand, the JavaScript action last, its trailer /Size 5.
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
            "<< /Type /Action /S /JavaScript /JS (app.alert\\('opened'\\)) >>",
        ];
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = pdf.len();
        pdf.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
        for o in offsets {
            pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
        );
        let (out, _) = rewrite(&pdf, &DisarmSettings::default())
            .unwrap()
            .expect("active content found");
        let doc = load(&out).unwrap();
        let highest = doc.objects.keys().map(|(n, _)| *n).max().unwrap();
        let size = doc.trailer.get(b"Size").unwrap().as_i64().unwrap();
        assert_eq!(size, i64::from(highest) + 1);
    }

    #[test]
    fn open_action_javascript_goes() {
        let (out, removed) = rewrite(&pdf_with_open_action(), &DisarmSettings::default())
            .unwrap()
            .expect("active content found");
        assert!(memchr::memmem::find(&out, b"JavaScript").is_none());
        assert!(memchr::memmem::find(&out, b"app.alert").is_none());
        assert!(removed.contains("OpenAction"));
        assert!(removed.contains("JavaScript"));
        let doc = Document::load_mem(&out).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
    }

    #[test]
    fn regress_unreadable_pdf_with_javascript_is_held_not_passed() {
        // A cross-reference table at the wrong offset: lopdf gives up where a reader
        // reconstructs the table and runs the script.
        let broken = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /OpenAction 2 0 R >>\nendobj\n\
2 0 obj\n<< /S /JavaScript /JS (app.alert(1)) >>\nendobj\nxref\n0 3\ntrailer\n<< /Root 1 0 R >>\n\
startxref\n9999\n%%EOF\n";
        let part = |body: &'static [u8]| crate::mime::Part {
            index: 0,
            section: "2".to_owned(),
            content_type: "application/pdf".to_owned(),
            filename: Some("a.pdf".to_owned()),
            is_attachment: true,
            body: std::borrow::Cow::Borrowed(body),
            depth: 0,
            raw: None,
            raw_body: None,
            encoding: "base64".to_owned(),
        };
        let settings = DisarmSettings::default();
        assert!(matches!(
            disarm(&part(broken), &settings),
            Outcome::Undisarmable(_)
        ));
        let harmless = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\nstartxref\n9999\n%%EOF\n";
        assert_eq!(disarm(&part(harmless), &settings), Outcome::Clean);
    }

    #[test]
    fn escaped_names_count_as_risky() {
        assert!(may_be_active(b"%PDF-1.4 << /J#53 (x) >>"));
        assert!(!may_be_active(b"%PDF-1.4 << /Type /Page >>"));
    }
}
