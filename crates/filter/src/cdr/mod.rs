//! Content disarm and reconstruction: Office macros, PDF actions and scripts, HTML scripts
//! removed, the MIME message rebuilt around the disarmed parts.
//!
//! Each leaf part of the [`Walk`] is looked at by the module of its kind:
//! - [`ooxml`]: Office Open XML packages (ECMA-376 Part 2, OPC) lose `vbaProject.bin`, its
//!   relationships and content types, ActiveX controls and external OLE links;
//! - [`ole`]: OLE compound files (MS-CFB) lose their VBA storages (MS-OVBA §2.2);
//! - [`pdf`]: PDF documents lose their actions, JavaScript, embedded files and XFA forms
//!   (ISO 32000-1 §12.6, §7.11.4, §12.7.8);
//! - [`html`]: HTML bodies and files lose scripts, event handlers, forms, frames and remote
//!   resources.
//!
//! [`rebuild`] puts the disarmed parts back in place of the originals and adds a short
//! `text/plain` part saying what was removed. Everything is pure, synchronous and bounded
//! (sizes, entry and object counts): a part past a bound is not disarmed but held
//! (`undisarmable`, [`Action::Quarantine`]).

mod html;
mod ole;
mod ooxml;
mod pdf;
mod rebuild;
mod xml_scan;

use crate::mime::{Part, Walk};
use crate::verdict::{Action, Check, Finding};

/// `[filter.disarm]`.
#[derive(Debug, Clone)]
pub struct DisarmSettings {
    pub enabled: bool,
    /// Office documents: OOXML macros and ActiveX, OLE VBA storages.
    pub office: bool,
    pub pdf: bool,
    pub html: bool,
    /// Largest Office document rewritten (bytes); a larger one is held.
    pub max_office_bytes: usize,
    /// Most entries of an OOXML package (ZIP) or of an OLE container.
    pub max_office_entries: usize,
    /// Largest XML part of an OOXML package read to be rewritten (`_rels/*.rels`,
    /// `[Content_Types].xml`, the parts that refer to ActiveX controls), decompressed.
    pub max_xml_bytes: u64,
    /// Largest PDF rewritten (bytes); a larger one is held.
    pub max_pdf_bytes: usize,
    /// Most objects of a PDF rewritten; a PDF with more is held.
    pub max_pdf_objects: usize,
    /// Largest HTML part sanitised (bytes); a larger one with active content is held.
    pub max_html_bytes: usize,
}

impl Default for DisarmSettings {
    fn default() -> Self {
        DisarmSettings {
            enabled: true,
            office: true,
            pdf: true,
            html: true,
            max_office_bytes: 32 << 20,
            max_office_entries: 10_000,
            max_xml_bytes: 8 << 20,
            max_pdf_bytes: 32 << 20,
            max_pdf_objects: 200_000,
            max_html_bytes: 8 << 20,
        }
    }
}

/// A message with parts disarmed.
#[derive(Debug, Clone)]
pub struct Disarmed {
    /// The rebuilt message (header included).
    pub message: Vec<u8>,
    /// What was removed, one finding per part (`Action::Modify`), or held when a part
    /// could not be disarmed.
    pub findings: Vec<Finding>,
}

/// One part rewritten by a disarm module.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rewritten {
    /// The new content (decoded).
    pub body: Vec<u8>,
    /// The new `type/subtype`.
    pub content_type: String,
    /// The new file name (`report.docx` for `report.docm`), when the part has one.
    pub filename: Option<String>,
    /// The finding code (`vba_macro`, `pdf_active_content`, ...).
    pub code: &'static str,
    /// What was removed, for a person: `VBA macros`, `JavaScript, OpenAction`.
    pub removed: String,
}

/// What a disarm module made of one part.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// Nothing active found: the part stays as it is.
    Clean,
    /// Active content removed.
    Disarmed(Rewritten),
    /// The part may carry active content and could not be rewritten: why.
    Undisarmable(String),
}

/// `raw` disarmed, or `None` when nothing in it needed it.
pub fn disarm(raw: &[u8], walk: &Walk<'_>, settings: &DisarmSettings) -> Option<Disarmed> {
    if !settings.enabled {
        return None;
    }
    let mut findings = Vec::new();
    let mut rewrites: Vec<(&Part<'_>, Rewritten)> = Vec::new();
    for part in &walk.parts {
        let outcome = disarm_part(part, settings);
        let name = display_name(part);
        match outcome {
            Outcome::Clean => {}
            Outcome::Undisarmable(why) => findings.push(undisarmable(&name, &why)),
            Outcome::Disarmed(rewritten) if part.raw.is_none() => {
                // Inside an attached message sent encoded: not in the raw message as such.
                findings.push(undisarmable(
                    &name,
                    &format!(
                        "{} found inside an encoded attached message",
                        rewritten.removed
                    ),
                ));
            }
            Outcome::Disarmed(rewritten) => rewrites.push((part, rewritten)),
        }
    }
    if rewrites.is_empty() && findings.is_empty() {
        return None;
    }
    let mut notes = Vec::new();
    for (part, rewritten) in &rewrites {
        let name = display_name(part);
        let detail = match (&part.filename, &rewritten.filename) {
            (Some(old), Some(new)) if old != new => {
                format!("{name}: {} (the document is now {new})", rewritten.removed)
            }
            _ => format!("{name}: {}", rewritten.removed),
        };
        findings.push(Finding::new(
            Check::Disarm,
            Action::Modify,
            rewritten.code,
            detail.clone(),
        ));
        notes.push(detail);
    }
    let message = if rewrites.is_empty() {
        raw.to_vec()
    } else {
        match rebuild::rebuild(raw, &rewrites, &notes) {
            Ok(m) => m,
            Err(why) => {
                // The parts were disarmed but the message could not be put back together:
                // hold it rather than deliver the active content.
                findings.retain(|f| f.action != Action::Modify);
                for (part, _) in &rewrites {
                    findings.push(undisarmable(&display_name(part), &why));
                }
                raw.to_vec()
            }
        }
    };
    Some(Disarmed { message, findings })
}

/// The part's module by its name, declared type and content.
fn disarm_part(part: &Part<'_>, settings: &DisarmSettings) -> Outcome {
    let body: &[u8] = &part.body;
    let ext = part.extension().unwrap_or_default();
    let ctype = part.content_type.as_str();
    if settings.html && html::is_html_part(ctype, &ext) {
        return html::disarm(part, settings);
    }
    // An attached message is looked at through its own parts; a text body is only ever
    // HTML or not active: content is sniffed in files only.
    if ctype.starts_with("message/") || (part.is_text() && !part.is_attachment) {
        return Outcome::Clean;
    }
    if settings.pdf && (ext == "pdf" || ctype == "application/pdf" || pdf::looks_like_pdf(body)) {
        return pdf::disarm(part, settings);
    }
    if settings.office {
        if ooxml::is_candidate(ctype, &ext, body) {
            return ooxml::disarm(part, settings);
        }
        if ole::is_candidate(ctype, &ext, body) {
            return ole::disarm(part, settings);
        }
    }
    Outcome::Clean
}

/// `report.docm`, or `part 2 (text/html)` for a part without a name.
fn display_name(part: &Part<'_>) -> String {
    match &part.filename {
        Some(name) => name.clone(),
        None => format!("part {} ({})", part.section, part.content_type),
    }
}

fn undisarmable(name: &str, why: &str) -> Finding {
    Finding::new(
        Check::Disarm,
        Action::Quarantine,
        "undisarmable",
        format!("{name}: could not be disarmed: {why}"),
    )
}

/// Replaces a file name's extension: `report.docm` → `report.docx`.
pub(crate) fn rename_extension(name: &str, new_ext: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, _)) => format!("{stem}.{new_ext}"),
        None => format!("{name}.{new_ext}"),
    }
}
