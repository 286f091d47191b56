//! Office Open XML packages (ECMA-376 Part 2, Open Packaging Conventions): VBA projects,
//! ActiveX controls and external OLE links and templates removed, the package written back.
//!
//! A package names its parts in `[Content_Types].xml` (OPC §10.1.2) and links them with
//! relationships in `_rels/*.rels` (OPC §9.3). Macros are the part a `vbaProject`
//! relationship points to (MS-OFFMACRO2 §2.2.1.4), with its `vbaData.xml` and signatures;
//! ActiveX controls are `control` / `activeXControlBinary` relationships (MS-OFFMACRO2
//! §2.2.1.2). The macro-enabled main content types become the macro-free ones and the
//! file is renamed (`.docm` → `.docx`). Entries we do not change are copied as they are
//! (still compressed: nothing is inflated but the XML we rewrite, read with a cap).

use super::xml_scan::{self, Element};
use super::{DisarmSettings, Outcome, Rewritten, rename_extension};
use crate::mime::Part;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read, Write};
use zip::ZipArchive;
use zip::write::{SimpleFileOptions, ZipWriter};

const CONTENT_TYPES: &str = "[Content_Types].xml";

/// Relationship types (their last path segment) whose target is removed with the link.
const REMOVED_REL_TYPES: &[(&str, Kind)] = &[
    ("vbaproject", Kind::Vba),
    ("wordvbadata", Kind::Vba),
    ("vbaprojectsignature", Kind::Vba),
    ("vbaprojectsignatureagile", Kind::Vba),
    ("vbaprojectsignaturev3", Kind::Vba),
    ("keymapcustomizations", Kind::Vba),
    ("control", Kind::ActiveX),
    ("activexcontrolbinary", Kind::ActiveX),
];

/// Relationship types that are dropped when their target is external (a URL): an OLE
/// object or a template fetched when the document opens.
const EXTERNAL_REL_TYPES: &[&str] = &["oleobject", "attachedtemplate", "frame", "subdocument"];

/// Content types of parts removed wherever they are.
const REMOVED_CONTENT_TYPES: &[(&str, Kind)] = &[
    ("application/vnd.ms-office.vbaproject", Kind::Vba),
    ("application/vnd.ms-word.vbadata+xml", Kind::Vba),
    ("application/vnd.ms-office.vbaprojectsignature", Kind::Vba),
    (
        "application/vnd.ms-word.keymapcustomizations+xml",
        Kind::Vba,
    ),
    ("application/vnd.ms-office.activex+xml", Kind::ActiveX),
    ("application/vnd.ms-office.activex", Kind::ActiveX),
];

/// Macro-enabled main part content type → the macro-free one (ECMA-376 Part 1 §11-§13,
/// MS-OFFMACRO2 §2.1).
const MAIN_TYPES: &[(&str, &str)] = &[
    (
        "application/vnd.ms-word.document.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
    (
        "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    ),
    (
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ),
    (
        "application/vnd.ms-excel.template.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    ),
    (
        "application/vnd.ms-excel.addin.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ),
    (
        "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
    (
        "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
    ),
    (
        "application/vnd.ms-powerpoint.template.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
    ),
    (
        "application/vnd.ms-powerpoint.addin.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
];

/// Macro-enabled extension → the macro-free extension and its MIME type.
const RENAMES: &[(&str, &str, &str)] = &[
    (
        "docm",
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "dotm",
        "dotx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    ),
    (
        "xlsm",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "xltm",
        "xltx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
    ),
    (
        "xlam",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "pptm",
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    (
        "potm",
        "potx",
        "application/vnd.openxmlformats-officedocument.presentationml.template",
    ),
    (
        "ppsm",
        "ppsx",
        "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
    ),
    (
        "ppam",
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
];

const OOXML_EXTENSIONS: &[&str] = &[
    "docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx", "xltm", "xlam", "pptx", "pptm", "potx",
    "potm", "ppsx", "ppsm", "ppam", "sldm", "sldx",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Vba,
    ActiveX,
    External,
}

/// A part to look at: named or typed as an OOXML document, or a ZIP with
/// `[Content_Types].xml` whatever its name.
pub(crate) fn is_candidate(ctype: &str, ext: &str, body: &[u8]) -> bool {
    OOXML_EXTENSIONS.contains(&ext)
        || ctype.starts_with("application/vnd.openxmlformats-officedocument.")
        || (ctype.starts_with("application/vnd.ms-") && ctype.contains("macroenabled"))
        || (body.starts_with(b"PK\x03\x04")
            && memchr::memmem::find(body, CONTENT_TYPES.as_bytes()).is_some())
}

/// One relationship of a `.rels` part.
#[derive(Debug, Clone)]
struct Relationship {
    /// Its element in the `.rels` part.
    range: std::ops::Range<usize>,
    id: String,
    /// The last segment of its type URI, lower-case (`vbaproject`).
    kind: String,
    /// The target part's name, resolved and lower-case, when internal.
    target: Option<String>,
    external: bool,
}

/// The package `part` carries, disarmed.
pub(crate) fn disarm(part: &Part<'_>, settings: &DisarmSettings) -> Outcome {
    let body: &[u8] = &part.body;
    if body.len() > settings.max_office_bytes {
        return Outcome::Undisarmable(format!("larger than {} bytes", settings.max_office_bytes));
    }
    match rewrite(body, settings) {
        Ok(None) => Outcome::Clean,
        Ok(Some((package, kinds))) => {
            let ext = part.extension().unwrap_or_default();
            let rename = RENAMES.iter().find(|(from, _, _)| *from == ext);
            let (filename, content_type) = match rename {
                Some((_, to, mime)) if kinds.contains(&Kind::Vba) => (
                    part.filename.as_deref().map(|n| rename_extension(n, to)),
                    (*mime).to_owned(),
                ),
                _ => (part.filename.clone(), part.content_type.clone()),
            };
            let mut removed = Vec::new();
            if kinds.contains(&Kind::Vba) {
                removed.push("VBA macros");
            }
            if kinds.contains(&Kind::ActiveX) {
                removed.push("ActiveX controls");
            }
            if kinds.contains(&Kind::External) {
                removed.push("links to external objects");
            }
            let code = if kinds.contains(&Kind::Vba) {
                "vba_macro"
            } else {
                "activex"
            };
            Outcome::Disarmed(Rewritten {
                body: package,
                content_type,
                filename,
                code,
                removed: removed.join(", "),
            })
        }
        Err(why) => Outcome::Undisarmable(why),
    }
}

/// A rewritten package and the kinds of active content it lost.
type Package = (Vec<u8>, BTreeSet<Kind>);

/// The package without its active parts and what kinds were removed, `None` when it has
/// none, or why it cannot be read.
fn rewrite(body: &[u8], settings: &DisarmSettings) -> Result<Option<Package>, String> {
    let mut archive =
        ZipArchive::new(Cursor::new(body)).map_err(|e| format!("not a readable package: {e}"))?;
    if archive.len() > settings.max_office_entries {
        return Err(format!(
            "more than {} entries in the package",
            settings.max_office_entries
        ));
    }
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    let lower: BTreeMap<String, String> = names
        .iter()
        .map(|n| (n.to_ascii_lowercase(), n.clone()))
        .collect();
    let Some(ct_name) = lower.get(&CONTENT_TYPES.to_ascii_lowercase()).cloned() else {
        // Not an OPC package (OPC §10.1.2.1 requires the part): nothing we know to remove.
        return Ok(None);
    };
    let content_types = read_xml(&mut archive, &ct_name, settings)?;

    // The relationships of every part.
    let mut rels: BTreeMap<String, (String, Vec<Relationship>)> = BTreeMap::new();
    for name in &names {
        if name.to_ascii_lowercase().ends_with(".rels") {
            let xml = read_xml(&mut archive, name, settings)?;
            let parsed = relationships(&xml, name);
            rels.insert(name.clone(), (xml, parsed));
        }
    }

    // What goes: parts by relationship type, by content type and by name; then the
    // relationships of removed parts, and the links to them.
    let mut removed: BTreeMap<String, Kind> = BTreeMap::new();
    let mut kinds: BTreeSet<Kind> = BTreeSet::new();
    for (_, list) in rels.values() {
        for rel in list {
            if let (Some(kind), Some(target)) = (removed_rel_kind(&rel.kind), &rel.target) {
                removed.insert(target.clone(), kind);
            }
        }
    }
    let (defaults, overrides) = content_type_map(&content_types);
    for low in lower.keys() {
        let ctype = overrides.get(low).cloned().or_else(|| {
            low.rsplit_once('.')
                .and_then(|(_, ext)| defaults.get(ext).cloned())
        });
        if let Some(kind) = ctype.as_deref().and_then(removed_content_kind) {
            removed.insert(low.clone(), kind);
        }
        if let Some(kind) = removed_name_kind(low) {
            removed.insert(low.clone(), kind);
        }
    }
    // The relationships part of a removed part goes with it (OPC §9.3.1: `a/_rels/b.rels`
    // holds the relationships of `a/b`).
    let rels_of_removed: Vec<String> = lower
        .keys()
        .filter(|low| {
            rels_source(low).is_some_and(|src| removed.contains_key(&src.to_ascii_lowercase()))
        })
        .cloned()
        .collect();
    for low in rels_of_removed {
        removed.entry(low).or_insert(Kind::Vba);
    }
    // Only parts that exist count; a relationship to a missing part is dropped all the same.
    for (low, kind) in &removed {
        if lower.contains_key(low) {
            kinds.insert(*kind);
        }
    }

    // Each remaining `.rels` part without the links to removed parts or to external
    // objects; the ids dropped per source part (for ActiveX references in its XML).
    let mut new_parts: BTreeMap<String, String> = BTreeMap::new();
    let mut dropped_ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, (xml, list)) in &rels {
        if removed.contains_key(&name.to_ascii_lowercase()) {
            continue;
        }
        let mut cut = Vec::new();
        for rel in list {
            let to_removed = rel.target.as_ref().is_some_and(|t| removed.contains_key(t))
                || removed_rel_kind(&rel.kind).is_some();
            let external = rel.external && EXTERNAL_REL_TYPES.contains(&rel.kind.as_str());
            if external {
                kinds.insert(Kind::External);
            }
            if to_removed || external {
                cut.push(rel.range.clone());
                if let Some(src) = rels_source(name) {
                    dropped_ids
                        .entry(src.to_ascii_lowercase())
                        .or_default()
                        .push(rel.id.clone());
                }
            }
        }
        if !cut.is_empty() {
            new_parts.insert(name.clone(), xml_scan::cut(xml, &cut));
        }
    }
    if kinds.is_empty() {
        return Ok(None);
    }

    // The XML parts that embed a removed ActiveX control by its relationship id
    // (`<w:control r:id="rId5"/>`, `<control r:id="rId4">...</control>`).
    for (src, ids) in &dropped_ids {
        let Some(name) = lower.get(src) else { continue };
        if removed.contains_key(src) || !src.ends_with(".xml") {
            continue;
        }
        let xml = read_xml(&mut archive, name, settings)?;
        let edited = drop_controls(&xml, ids);
        if edited != xml {
            new_parts.insert(name.clone(), edited);
        }
    }

    let remaining_exts: BTreeSet<String> = lower
        .keys()
        .filter(|low| !removed.contains_key(*low) && !overrides.contains_key(*low))
        .filter_map(|low| low.rsplit_once('.').map(|(_, e)| e.to_owned()))
        .collect();
    new_parts.insert(
        ct_name.clone(),
        fix_content_types(&content_types, &removed, &remaining_exts),
    );

    // Write the package back: removed entries left out, rewritten ones deflated, the others
    // copied as they are.
    let mut writer = ZipWriter::new(Cursor::new(Vec::with_capacity(body.len())));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (index, name) in names.iter().enumerate() {
        if removed.contains_key(&name.to_ascii_lowercase()) {
            continue;
        }
        if let Some(xml) = new_parts.get(name) {
            writer
                .start_file(name.as_str(), options)
                .and_then(|()| writer.write_all(xml.as_bytes()).map_err(Into::into))
                .map_err(|e| format!("cannot rewrite {name}: {e}"))?;
        } else {
            let file = archive
                .by_index_raw(index)
                .map_err(|e| format!("cannot read {name}: {e}"))?;
            writer
                .raw_copy_file(file)
                .map_err(|e| format!("cannot copy {name}: {e}"))?;
        }
    }
    let package = writer
        .finish()
        .map_err(|e| format!("cannot write the package: {e}"))?
        .into_inner();
    Ok(Some((package, kinds)))
}

/// An XML part, inflated up to the cap, as UTF-8 (a byte-order mark removed).
fn read_xml(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
    settings: &DisarmSettings,
) -> Result<String, String> {
    let file = archive
        .by_name(name)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    // The declared size is not trusted: read one byte past the cap to see it crossed.
    let mut data = Vec::new();
    file.take(settings.max_xml_bytes.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    if data.len() as u64 > settings.max_xml_bytes {
        return Err(format!(
            "{name} is larger than {} bytes",
            settings.max_xml_bytes
        ));
    }
    let data = data
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .map(<[u8]>::to_vec)
        .unwrap_or(data);
    String::from_utf8(data).map_err(|_| format!("{name} is not UTF-8 XML"))
}

/// The relationships of the `.rels` part `rels_name`, targets resolved (OPC §9.3.2).
fn relationships(xml: &str, rels_name: &str) -> Vec<Relationship> {
    let base = rels_source(rels_name)
        .map(|src| match src.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/"),
            None => String::new(),
        })
        .unwrap_or_default();
    xml_scan::elements(xml, "Relationship")
        .into_iter()
        .map(|el: Element<'_>| {
            let kind = el
                .attr("Type")
                .map(|t| {
                    t.rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_ascii_lowercase()
                })
                .unwrap_or_default();
            let external = el
                .attr("TargetMode")
                .is_some_and(|m| m.eq_ignore_ascii_case("external"));
            let target = el
                .attr("Target")
                .filter(|_| !external)
                .map(|t| resolve(&base, &t));
            Relationship {
                range: el.range.clone(),
                id: el.attr("Id").unwrap_or_default(),
                kind,
                target,
                external,
            }
        })
        .collect()
}

/// The part whose relationships `rels_name` holds: `word/_rels/document.xml.rels` →
/// `word/document.xml`; `_rels/.rels` → the package itself (`""`).
fn rels_source(rels_name: &str) -> Option<String> {
    let (dir, file) = match rels_name.rsplit_once('/') {
        Some((dir, file)) => (dir, file),
        None => return None,
    };
    let file = file.strip_suffix(".rels")?;
    let parent = if dir.eq_ignore_ascii_case("_rels") {
        ""
    } else {
        dir.strip_suffix("/_rels")
            .or_else(|| dir.strip_suffix("/_RELS"))?
    };
    Some(if parent.is_empty() {
        file.to_owned()
    } else {
        format!("{parent}/{file}")
    })
}

/// A relationship target resolved against the source part's folder, as a ZIP entry name
/// in lower case (OPC §9.3.2: part names compare case-insensitively, §8.1.1.1).
fn resolve(base: &str, target: &str) -> String {
    let target = target.split(['#', '?']).next().unwrap_or_default();
    let joined = match target.strip_prefix('/') {
        Some(abs) => abs.to_owned(),
        None => format!("{base}{target}"),
    };
    let mut segments: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments.join("/").to_ascii_lowercase()
}

fn removed_rel_kind(kind: &str) -> Option<Kind> {
    REMOVED_REL_TYPES
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, kind)| *kind)
}

fn removed_content_kind(ctype: &str) -> Option<Kind> {
    let ctype = ctype.to_ascii_lowercase();
    REMOVED_CONTENT_TYPES
        .iter()
        .find(|(c, _)| *c == ctype)
        .map(|(_, kind)| *kind)
}

/// Parts removed by their name (lower-case) whatever links to them.
fn removed_name_kind(low: &str) -> Option<Kind> {
    let file = low.rsplit('/').next().unwrap_or(low);
    if file == "vbaproject.bin"
        || file == "vbadata.xml"
        || (file.starts_with("vbaprojectsignature") && file.ends_with(".bin"))
    {
        return Some(Kind::Vba);
    }
    if low.split('/').any(|seg| seg == "activex") {
        return Some(Kind::ActiveX);
    }
    None
}

/// `[Content_Types].xml`: `Default` extension → type and `Override` part → type, both
/// lower-case (OPC §10.1.2.2).
fn content_type_map(xml: &str) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut defaults = BTreeMap::new();
    for el in xml_scan::elements(xml, "Default") {
        if let (Some(ext), Some(ct)) = (el.attr("Extension"), el.attr("ContentType")) {
            defaults.insert(ext.to_ascii_lowercase(), ct);
        }
    }
    let mut overrides = BTreeMap::new();
    for el in xml_scan::elements(xml, "Override") {
        if let (Some(part), Some(ct)) = (el.attr("PartName"), el.attr("ContentType")) {
            let part = part.trim_start_matches('/').to_ascii_lowercase();
            overrides.insert(part, ct);
        }
    }
    (defaults, overrides)
}

/// `[Content_Types].xml` without the removed parts' `Override`s and the VBA `Default`s
/// (kept with a neutral type when a remaining part still needs them), with macro-free
/// main content types.
fn fix_content_types(
    xml: &str,
    removed: &BTreeMap<String, Kind>,
    remaining_exts: &BTreeSet<String>,
) -> String {
    let mut cut = Vec::new();
    let mut retype: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for el in xml_scan::elements(xml, "Override") {
        let part = el
            .attr("PartName")
            .map(|p| p.trim_start_matches('/').to_ascii_lowercase())
            .unwrap_or_default();
        if removed.contains_key(&part) {
            cut.push(el.range.clone());
        }
    }
    for el in xml_scan::elements(xml, "Default") {
        let ct = el.attr("ContentType").unwrap_or_default();
        if removed_content_kind(&ct).is_some() {
            let ext = el
                .attr("Extension")
                .unwrap_or_default()
                .to_ascii_lowercase();
            if remaining_exts.contains(&ext) {
                retype.push((
                    el.range.clone(),
                    format!(
                        r#"<Default Extension="{}" ContentType="application/octet-stream"/>"#,
                        ext
                    ),
                ));
            } else {
                cut.push(el.range.clone());
            }
        }
    }
    let mut edits: Vec<(std::ops::Range<usize>, String)> =
        cut.into_iter().map(|r| (r, String::new())).collect();
    edits.extend(retype);
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(xml.len());
    let mut pos = 0;
    for (range, with) in edits {
        if range.start < pos {
            continue;
        }
        out.push_str(xml.get(pos..range.start).unwrap_or_default());
        out.push_str(&with);
        pos = range.end;
    }
    out.push_str(xml.get(pos..).unwrap_or_default());
    for (from, to) in MAIN_TYPES {
        out = replace_ignore_case(&out, from, to);
    }
    out
}

fn replace_ignore_case(haystack: &str, from: &str, to: &str) -> String {
    let lower_hay = haystack.to_ascii_lowercase();
    let lower_from = from.to_ascii_lowercase();
    let mut out = String::with_capacity(haystack.len());
    let mut pos = 0;
    while let Some(rel) = lower_hay.get(pos..).and_then(|s| s.find(&lower_from)) {
        let at = pos + rel;
        out.push_str(haystack.get(pos..at).unwrap_or_default());
        out.push_str(to);
        pos = at + from.len();
    }
    out.push_str(haystack.get(pos..).unwrap_or_default());
    out
}

/// Elements that refer to a removed relationship by its id, and the lists that must not
/// be left empty (ECMA-376 Part 1 §17.3.3.4 `w:control`, §17.15.1.6 `w:attachedTemplate`,
/// §18.3.1.21 `controls`, §18.3.1.60 `oleObjects`; VML `o:OLEObject`).
const LINKING_ELEMENTS: &[(&str, Option<&str>)] = &[
    ("control", Some("controls")),
    ("oleObject", Some("oleObjects")),
    ("OLEObject", None),
    ("attachedTemplate", None),
];

/// `xml` without the elements that point at the relationships `ids`, and without a list
/// those leave empty.
fn drop_controls(xml: &str, ids: &[String]) -> String {
    let mut current = xml.to_owned();
    for (element, list) in LINKING_ELEMENTS {
        let cut: Vec<_> = xml_scan::elements(&current, element)
            .into_iter()
            .filter(|el| el.attr("r:id").is_some_and(|id| ids.contains(&id)))
            .map(|el| el.range)
            .collect();
        if cut.is_empty() {
            continue;
        }
        current = xml_scan::cut(&current, &cut);
        if let Some(list) = list {
            let empty: Vec<_> = xml_scan::elements(&current, list)
                .into_iter()
                .filter(|el| {
                    let inner = current.get(el.range.clone()).unwrap_or_default();
                    xml_scan::elements(inner, element).is_empty()
                })
                .map(|el| el.range)
                .collect();
            current = xml_scan::cut(&current, &empty);
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rels_parts_name_their_source() {
        assert_eq!(
            rels_source("word/_rels/document.xml.rels").as_deref(),
            Some("word/document.xml")
        );
        assert_eq!(rels_source("_rels/.rels").as_deref(), Some(""));
        assert_eq!(rels_source("word/document.xml"), None);
    }

    #[test]
    fn targets_resolve_against_the_source_folder() {
        assert_eq!(resolve("word/", "vbaProject.bin"), "word/vbaproject.bin");
        assert_eq!(resolve("word/", "../customXml/a.xml"), "customxml/a.xml");
        assert_eq!(resolve("word/", "/xl/x.bin"), "xl/x.bin");
        assert_eq!(resolve("", "../../../a"), "a");
    }

    #[test]
    fn macro_main_types_become_macro_free() {
        let xml = r#"<Types><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/><Override PartName="/word/vbaData.xml" ContentType="application/vnd.ms-word.vbaData+xml"/></Types>"#;
        let mut removed = BTreeMap::new();
        removed.insert("word/vbadata.xml".to_owned(), Kind::Vba);
        let out = fix_content_types(xml, &removed, &BTreeSet::new());
        assert_eq!(
            out,
            r#"<Types><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#
        );
        let mut still_bin = BTreeSet::new();
        still_bin.insert("bin".to_owned());
        let out = fix_content_types(xml, &removed, &still_bin);
        assert!(
            out.contains(r#"<Default Extension="bin" ContentType="application/octet-stream"/>"#)
        );
    }

    #[test]
    fn controls_go_with_their_relationship() {
        let xml = r#"<worksheet><controls><control shapeId="1" r:id="rId3" name="B"><controlPr/></control></controls><x/></worksheet>"#;
        assert_eq!(
            drop_controls(xml, &["rId3".to_owned()]),
            "<worksheet><x/></worksheet>"
        );
        let doc = r#"<w:object><w:control r:id="rId5" w:name="C"/></w:object>"#;
        assert_eq!(
            drop_controls(doc, &["rId5".to_owned()]),
            "<w:object></w:object>"
        );
    }
}
