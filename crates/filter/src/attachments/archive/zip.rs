//! ZIP archives (PKWARE APPNOTE.TXT), read with the `zip` crate under our own caps.
//!
//! The archive kinds that are ZIP files by format are told apart by their entries: a Java
//! archive has `META-INF/MANIFEST.MF` (JAR File Specification), an Android package
//! `AndroidManifest.xml` and `classes.dex`, an MSIX/APPX package `AppxManifest.xml` or a bundle
//! manifest, and an Office Open XML document with macros a `vbaProject.bin` part.

use super::{Budget, Entry, Listing, Stop, Visit, read_bounded};
use crate::attachments::kind::Kind;
use std::borrow::Cow;
use std::io::Cursor;

/// Lists `data`'s entries to `visit`, the readable ones with their first bytes.
pub fn list(data: &[u8], budget: &mut Budget, visit: &mut Visit<'_>) -> Result<Listing, Stop> {
    let Ok(mut archive) = ::zip::ZipArchive::new(Cursor::new(data)) else {
        return Ok(Listing::default());
    };
    let mut listing = Listing::default();
    let mut seen = Seen::default();
    for i in 0..archive.len() {
        budget.entry()?;
        let Ok(raw) = archive.by_index_raw(i) else {
            continue;
        };
        let name = raw.name().to_owned();
        // APPNOTE §4.4.4: general purpose bit 0, the entry is encrypted (traditional
        // PKWARE encryption or, with method 99, WinZip AES).
        let encrypted = raw.encrypted();
        let (size, compressed, is_dir) = (raw.size(), raw.compressed_size(), raw.is_dir());
        drop(raw);
        seen.note(&name);
        if is_dir {
            continue;
        }
        if encrypted {
            listing.encrypted = true;
            visit(Entry::named(name, true), budget)?;
            continue;
        }
        budget.check_declared(size, compressed)?;
        let entry = match archive.by_index(i) {
            Ok(file) => {
                let (bytes, complete) = read_bounded(file, compressed, budget)?;
                Entry {
                    name,
                    data: Cow::Owned(bytes),
                    complete,
                    encrypted: false,
                }
            }
            // A compression method we do not read: the name is still judged.
            Err(_) => Entry::named(name, false),
        };
        visit(entry, budget)?;
    }
    listing.kind = seen.kind();
    Ok(listing)
}

/// The entry names that tell what kind of ZIP-based file this is.
#[derive(Default)]
struct Seen {
    manifest: bool,
    android_manifest: bool,
    dex: bool,
    appx: bool,
    vba: bool,
}

impl Seen {
    fn note(&mut self, name: &str) {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "meta-inf/manifest.mf" => self.manifest = true,
            "androidmanifest.xml" => self.android_manifest = true,
            "classes.dex" => self.dex = true,
            "appxmanifest.xml" | "appxmetadata/appxbundlemanifest.xml" => self.appx = true,
            _ => {}
        }
        if lower.ends_with("vbaproject.bin") {
            self.vba = true;
        }
    }

    fn kind(&self) -> Option<(Kind, &'static str)> {
        if self.android_manifest && self.dex {
            Some((Kind::Executable, "an Android application (APK)"))
        } else if self.appx {
            Some((Kind::Installer, "a Windows app package (MSIX/APPX)"))
        } else if self.manifest {
            Some((Kind::Executable, "a Java program (JAR)"))
        } else if self.vba {
            Some((Kind::OfficeMacro, "an Office document with macros"))
        } else {
            None
        }
    }
}
