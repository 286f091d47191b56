//! The file block list: by extension and by real type, inside archives too.
//!
//! Each file of the message (each attachment, and each part that is not text) is judged:
//! 1. by its name ([`names`]): a bidirectional control in it is always refused, then the
//!    extension that decides how it opens (`invoice.pdf.exe` → `exe`, trailing dots and
//!    blanks dropped, class-ID extensions refused);
//! 2. by its content ([`sniff`]): a program named `report.pdf` is refused as disguised;
//! 3. inside the containers it is ([`archive`]): ZIP (and the JAR, APK, MSIX and Office
//!    files built on it), tar, gzip, 7z and RAR listings, OLE files and their package
//!    objects, within one budget per message ([`ArchiveLimits`]) so a decompression bomb is
//!    refused without being expanded.
//!
//! What is refused follows [`kind::DEFAULT_BLOCKED`] and the configured layers
//! ([`policy`]). Findings: `bidi_name`, `blocked_extension`, `blocked_type`,
//! `disguised_type`, `blocked_in_archive`, `encrypted_archive`, `archive_bomb`,
//! `archive_limits`.

pub mod archive;
pub mod kind;
pub mod names;
pub mod policy;
pub mod sniff;

pub use kind::Kind;

#[cfg(test)]
mod tests;

use crate::context::Context;
use crate::mime::Walk;
use crate::verdict::{Action, Check, Finding};
use archive::{Budget, Entry, Listing, Stop};
use policy::Policy;
use sniff::Container;
use std::collections::HashMap;

/// `[filter.attachments]`.
#[derive(Debug, Clone)]
pub struct AttachmentSettings {
    pub enabled: bool,
    /// Extensions (`"js"`) and type names (`"executable"`) blocked on top of the defaults.
    pub block: Vec<String>,
    /// Extensions and type names let through although a default blocks them.
    pub allow: Vec<String>,
    /// Rules for mail to one recipient domain, on top of the above.
    pub domains: HashMap<String, DomainRules>,
    /// What a blocked file leads to (`reject` by default).
    pub action: Action,
    /// What a password-protected archive leads to (`quarantine` by default).
    pub encrypted: Action,
    /// What a message whose archives hold more files than we list leads to (`quarantine`
    /// by default: what was not looked at is not delivered).
    pub limits_action: Action,
    pub archives: ArchiveLimits,
}

/// Per-domain additions.
#[derive(Debug, Clone, Default)]
pub struct DomainRules {
    pub block: Vec<String>,
    pub allow: Vec<String>,
}

/// Bounds of the look into archives (zip-bomb safe).
#[derive(Debug, Clone, Copy)]
pub struct ArchiveLimits {
    /// Levels of archives followed: an attached archive is level 1, an archive inside it
    /// level 2, ...; an archive deeper than this is refused as a bomb (42.zip's shape).
    /// Documents that are containers (OLE, and what they embed) get two levels more.
    pub max_depth: usize,
    /// Entries listed over all archives of one message.
    pub max_entries: usize,
    /// Bytes expanded over all archives of one message.
    pub max_expanded: u64,
    /// Expansion ratio of one file (judged once it has expanded past 4 MiB) beyond which it
    /// is a bomb.
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 3,
            max_entries: 10_000,
            max_expanded: 64 << 20,
            max_ratio: 200,
        }
    }
}

impl Default for AttachmentSettings {
    fn default() -> Self {
        AttachmentSettings {
            enabled: true,
            block: Vec::new(),
            allow: Vec::new(),
            domains: HashMap::new(),
            action: Action::Reject,
            encrypted: Action::Quarantine,
            limits_action: Action::Quarantine,
            archives: ArchiveLimits::default(),
        }
    }
}

/// The deepest nesting followed whatever is configured: each level is a frame of recursion.
const DEPTH_CAP: usize = 16;

/// The findings on `walk`'s files for mail to `ctx`'s recipients.
pub fn check(walk: &Walk<'_>, ctx: &Context<'_>, settings: &AttachmentSettings) -> Vec<Finding> {
    if !settings.enabled {
        return Vec::new();
    }
    let mut inspector = Inspector {
        settings,
        policies: policies(ctx, settings),
        findings: Vec::new(),
        spent: false,
    };
    let mut budget = Budget::new(settings.archives);
    for part in &walk.parts {
        // Text bodies are read by the reader, not opened as files.
        if part.is_text() && !part.is_attachment {
            continue;
        }
        let path = match part.filename.as_deref() {
            Some(name) => names::shown(name),
            None => format!("the unnamed file in part {}", part.section),
        };
        // An attached message's own parts are in the walk: its bytes are not a file.
        let data: &[u8] = if part.content_type == "message/rfc822" {
            &[]
        } else {
            &part.body
        };
        let file = File {
            path: &path,
            name: part.filename.as_deref(),
            data,
            complete: true,
            depth: 0,
        };
        if let Err(stop) = inspector.file(&file, &mut budget) {
            inspector.stopped(&path, stop);
            // The budget is spent: the other files are judged by name and content only.
            inspector.spent = true;
        }
    }
    inspector.findings
}

/// The resolved rules for each recipient domain (one set when no domain has its own).
fn policies(ctx: &Context<'_>, settings: &AttachmentSettings) -> Vec<Policy> {
    let mut base = Policy::default();
    base.layer(&settings.block, &settings.allow);
    let mut out = Vec::new();
    let mut plain = false;
    for domain in ctx.rcpt_domains() {
        let rules = settings
            .domains
            .iter()
            .find(|(d, _)| d.eq_ignore_ascii_case(&domain))
            .map(|(_, r)| r);
        match rules {
            Some(rules) => {
                let mut p = base.clone();
                p.layer(&rules.block, &rules.allow);
                out.push(p);
            }
            None => plain = true,
        }
    }
    if plain || out.is_empty() {
        out.push(base);
    }
    out
}

/// One file to judge: an attachment, or an entry of a container.
struct File<'f> {
    /// How a person finds it: `invoices.zip/inner.zip/run.exe`.
    path: &'f str,
    /// Its own name, as sent.
    name: Option<&'f str>,
    data: &'f [u8],
    /// `data` is the whole file (not only its first bytes).
    complete: bool,
    /// Containers it is inside (0: an attachment of the message).
    depth: usize,
}

struct Inspector<'s> {
    settings: &'s AttachmentSettings,
    policies: Vec<Policy>,
    findings: Vec<Finding>,
    /// The look into containers ended for this message (a bomb, or the entry limit).
    spent: bool,
}

impl Inspector<'_> {
    fn push(&mut self, action: Action, code: &str, detail: String) {
        self.findings
            .push(Finding::new(Check::Attachments, action, code, detail));
    }

    /// A refusal of a file (`code` for an attachment, `blocked_in_archive` inside one).
    fn refuse(&mut self, file: &File<'_>, code: &str, what: String) {
        let code = if file.depth > 0 {
            "blocked_in_archive"
        } else {
            code
        };
        self.push(self.settings.action, code, format!("{}: {what}", file.path));
    }

    fn blocks_extension(&self, ext: &str) -> bool {
        self.policies.iter().any(|p| p.blocks_extension(ext))
    }

    fn blocks_content(&self, kind: Kind, ext: Option<&str>) -> bool {
        self.policies.iter().any(|p| p.blocks_content(kind, ext))
    }

    /// The look into the containers ended early.
    fn stopped(&mut self, path: &str, stop: Stop) {
        match stop {
            Stop::Bomb(what) => self.push(
                self.settings.action,
                "archive_bomb",
                format!("{path}: {what} (refused as a decompression bomb)"),
            ),
            Stop::Limits(what) => self.push(
                self.settings.limits_action,
                "archive_limits",
                format!("{path}: {what} (not inspected further)"),
            ),
        }
    }

    /// Judges one file by its name, then by its content, then by what it contains.
    fn file(&mut self, file: &File<'_>, budget: &mut Budget) -> Result<(), Stop> {
        let ext = file.name.and_then(names::extension);
        if let Some(name) = file.name {
            if let Some(c) = names::bidi_control(name) {
                let detail = format!(
                    "{}: the name holds a bidirectional control (U+{:04X}) that disguises its extension",
                    file.path,
                    u32::from(c)
                );
                self.push(self.settings.action, "bidi_name", detail);
                return Ok(());
            }
            if let Some(ext) = ext.as_deref() {
                if names::is_clsid_extension(ext) {
                    let what = "a class-ID extension hides what opens it (blocked file type)";
                    self.refuse(file, "blocked_extension", what.to_owned());
                    return Ok(());
                }
                if self.blocks_extension(ext) {
                    let label = kind::extension_label(ext).unwrap_or("a file of a blocked type");
                    self.refuse(
                        file,
                        "blocked_extension",
                        format!("{label} (blocked file type)"),
                    );
                    return Ok(());
                }
            }
        }
        let sniffed = sniff::sniff(file.data, file.complete);
        if sniffed.is_named_script(ext.as_deref()) {
            return Ok(());
        }
        let mut kind = sniffed.kind.map(|k| (k, sniffed.label));
        if let Some(container) = sniffed.container.filter(|_| !self.spent) {
            let listing = self.open(file, container, budget)?;
            if listing.kind.is_some() {
                kind = listing.kind;
            }
            if listing.encrypted {
                self.push(
                    self.settings.encrypted,
                    "encrypted_archive",
                    format!(
                        "{}: a password-protected archive (its files cannot be inspected)",
                        file.path
                    ),
                );
            }
        }
        let Some((kind, label)) = kind else {
            return Ok(());
        };
        if !self.blocks_content(kind, ext.as_deref()) {
            return Ok(());
        }
        match ext.as_deref() {
            // The name says another type than the content is.
            Some(ext) if kind::kind_of_extension(ext) != Some(kind) => self.refuse(
                file,
                "disguised_type",
                format!(
                    "{label} named as .{} (disguised file type)",
                    names::shown(ext)
                ),
            ),
            _ => self.refuse(file, "blocked_type", format!("{label} (blocked file type)")),
        }
        Ok(())
    }

    /// Lists a container's entries and judges each.
    fn open(
        &mut self,
        file: &File<'_>,
        container: Container,
        budget: &mut Budget,
    ) -> Result<Listing, Stop> {
        let depth = file.depth + 1;
        let max = budget.limits.max_depth.min(DEPTH_CAP);
        if depth > max {
            if container.is_archive() {
                return Err(Stop::Bomb(format!("archives nested more than {max} deep")));
            }
            // Documents inside documents: looked into a little further, then no more.
            if depth > max + 2 {
                return Ok(Listing::default());
            }
        }
        let path = file.path;
        let mut visit = |entry: Entry<'_>, budget: &mut Budget| {
            let inner = format!("{path}/{}", names::shown(&entry.name));
            let name = if entry.name.is_empty() {
                None
            } else {
                Some(entry.name.as_str())
            };
            let inner_file = File {
                path: &inner,
                name,
                data: &entry.data,
                complete: entry.complete,
                depth,
            };
            if entry.encrypted {
                // The name is all there is to judge.
                let named = File {
                    data: &[],
                    ..inner_file
                };
                return self.file(&named, budget);
            }
            self.file(&inner_file, budget)
        };
        match container {
            Container::Zip => {
                archive::guarded(|| archive::zip::list(file.data, budget, &mut visit))
            }
            Container::Tar => archive::tar::list(file.data, budget, &mut visit),
            Container::SevenZip => archive::sevenz::list(file.data, budget, &mut visit),
            Container::Rar => archive::rar::list(file.data, budget, &mut visit),
            Container::Ole => {
                archive::guarded(|| archive::ole::list(file.data, budget, &mut visit))
            }
            Container::Gzip => {
                let (bytes, complete, original) = archive::gzip::decompress(file.data, budget)?;
                // `.tar.gz` is one archive: its files are listed as the tar's.
                if archive::tar::looks_like_tar(&bytes) {
                    return archive::tar::list(&bytes, budget, &mut visit);
                }
                let name = original.unwrap_or_else(|| gunzipped_name(file.name));
                visit(
                    Entry {
                        name,
                        data: bytes.into(),
                        complete,
                        encrypted: false,
                    },
                    budget,
                )?;
                Ok(Listing::default())
            }
        }
    }
}

/// The name a gzip file's content has when its header does not say: `a.tgz` → `a.tar`,
/// `b.exe.gz` → `b.exe`.
fn gunzipped_name(name: Option<&str>) -> String {
    let base = name.map(names::base_name).unwrap_or_default();
    let lower = base.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix(".tgz") {
        return format!("{}.tar", base.get(..stem.len()).unwrap_or(stem));
    }
    match lower.strip_suffix(".gz") {
        Some(stem) => base.get(..stem.len()).unwrap_or(stem).to_owned(),
        None => "(its content)".to_owned(),
    }
}
