//! OLE compound files (MS-CFB): Word, Excel and PowerPoint 97-2003 documents lose their
//! VBA project storages and are written into a new container.
//!
//! Where the VBA project lives (MS-OVBA §2.2.1, the storage holding `VBA` and `PROJECT`):
//! Word keeps it in `Macros` (MS-DOC §2.1.9), Excel in `_VBA_PROJECT_CUR` (MS-XLS §2.1.7),
//! and any document's embedded objects may hold their own. Those storages are left out,
//! wherever they are. A new container is written rather than the storages deleted in
//! place, so the macro's bytes do not linger in free sectors.

use super::{DisarmSettings, Outcome, Rewritten};
use crate::mime::Part;
use cfb::CompoundFile;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

/// MS-CFB §2.2: the compound file's signature.
const SIGNATURE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// Storage names that hold a VBA project, compared case-insensitively (MS-CFB §2.6.4:
/// names compare case-insensitively).
const VBA_STORAGES: &[&str] = &["macros", "_vba_project_cur", "_vba_project", "vba"];

const OLE_EXTENSIONS: &[&str] = &["doc", "dot", "xls", "xlt", "xla", "ppt", "pps", "pot"];

/// A part to look at: an OLE compound file by content, or named as an old Office file.
pub(crate) fn is_candidate(ctype: &str, ext: &str, body: &[u8]) -> bool {
    body.starts_with(SIGNATURE)
        || OLE_EXTENSIONS.contains(&ext)
        || ctype == "application/msword"
        || ctype == "application/vnd.ms-excel"
        || ctype == "application/vnd.ms-powerpoint"
}

/// The document `part` carries without its VBA storages.
pub(crate) fn disarm(part: &Part<'_>, settings: &DisarmSettings) -> Outcome {
    let body: &[u8] = &part.body;
    if !body.starts_with(SIGNATURE) {
        // Named like an old Office file but not one (an RTF or HTML saved as .doc, a text
        // file): nothing of ours to remove; the block list judges the content.
        return Outcome::Clean;
    }
    if body.len() > settings.max_office_bytes {
        return Outcome::Undisarmable(format!("larger than {} bytes", settings.max_office_bytes));
    }
    match rewrite(body, settings) {
        Ok(None) => Outcome::Clean,
        Ok(Some(document)) => Outcome::Disarmed(Rewritten {
            body: document,
            content_type: part.content_type.clone(),
            filename: part.filename.clone(),
            code: "vba_macro",
            removed: "VBA macros".to_owned(),
        }),
        Err(why) => Outcome::Undisarmable(why),
    }
}

fn is_vba_storage(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| VBA_STORAGES.contains(&n.to_ascii_lowercase().as_str()))
}

/// The container without its VBA storages, `None` when it has none.
fn rewrite(body: &[u8], settings: &DisarmSettings) -> Result<Option<Vec<u8>>, String> {
    let bad = |e: std::io::Error| format!("not a readable OLE document: {e}");
    let mut source = CompoundFile::open(Cursor::new(body)).map_err(bad)?;
    let mut entries = Vec::new();
    for entry in source.walk() {
        if entries.len() >= settings.max_office_entries {
            return Err(format!(
                "more than {} entries in the container",
                settings.max_office_entries
            ));
        }
        entries.push((
            entry.path().to_path_buf(),
            entry.is_storage(),
            *entry.clsid(),
            entry.state_bits(),
        ));
    }
    let vba: Vec<PathBuf> = entries
        .iter()
        .filter(|(path, is_storage, _, _)| *is_storage && is_vba_storage(path))
        .map(|(path, _, _, _)| path.clone())
        .collect();
    if vba.is_empty() {
        return Ok(None);
    }
    let kept = |path: &Path| !vba.iter().any(|v| path.starts_with(v));

    let mut target = CompoundFile::create_with_version(
        source.version(),
        Cursor::new(Vec::with_capacity(body.len())),
    )
    .map_err(|e| format!("cannot write the document: {e}"))?;
    let write_err = |e: std::io::Error| format!("cannot write the document: {e}");
    let mut copied: u64 = 0;
    for (path, is_storage, clsid, state_bits) in &entries {
        if !kept(path) {
            continue;
        }
        let root = path.as_os_str() == "/";
        if *is_storage {
            if !root {
                target.create_storage(path).map_err(write_err)?;
            }
            target.set_storage_clsid(path, *clsid).map_err(write_err)?;
        } else {
            let mut data = Vec::new();
            source
                .open_stream(path)
                .map_err(bad)?
                .take(settings.max_office_bytes as u64 + 1)
                .read_to_end(&mut data)
                .map_err(bad)?;
            copied = copied.saturating_add(data.len() as u64);
            // The streams together cannot be larger than the file (MS-CFB §2.6.3 sector
            // chains do not share sectors); more means a corrupt directory.
            if copied > settings.max_office_bytes as u64 {
                return Err(format!(
                    "streams larger than {} bytes in all",
                    settings.max_office_bytes
                ));
            }
            let mut stream = target.create_new_stream(path).map_err(write_err)?;
            stream.write_all(&data).map_err(write_err)?;
        }
        if *state_bits != 0 {
            target
                .set_state_bits(path, *state_bits)
                .map_err(write_err)?;
        }
    }
    target.flush().map_err(write_err)?;
    Ok(Some(target.into_inner().into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(with_macros: bool) -> Vec<u8> {
        let mut cfb = CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        cfb.create_stream("/WordDocument")
            .unwrap()
            .write_all(b"the text")
            .unwrap();
        if with_macros {
            cfb.create_storage_all("/Macros/VBA").unwrap();
            cfb.create_stream("/Macros/VBA/ThisDocument")
                .unwrap()
                .write_all(b"Sub AutoOpen() Shell \"calc\" End Sub")
                .unwrap();
            cfb.create_stream("/Macros/PROJECT")
                .unwrap()
                .write_all(b"ID=x")
                .unwrap();
        }
        cfb.flush().unwrap();
        cfb.into_inner().into_inner()
    }

    #[test]
    fn the_macros_storage_goes_and_the_text_stays() {
        let out = rewrite(&document(true), &DisarmSettings::default())
            .unwrap()
            .expect("macros found");
        assert!(memchr::memmem::find(&out, b"AutoOpen").is_none());
        let mut cfb = CompoundFile::open(Cursor::new(out)).unwrap();
        assert!(!cfb.exists("/Macros"));
        let mut text = Vec::new();
        cfb.open_stream("/WordDocument")
            .unwrap()
            .read_to_end(&mut text)
            .unwrap();
        assert_eq!(text, b"the text");
    }

    #[test]
    fn a_document_without_macros_is_left_alone() {
        assert_eq!(
            rewrite(&document(false), &DisarmSettings::default()).unwrap(),
            None
        );
    }

    #[test]
    fn a_corrupt_container_is_an_error() {
        let mut doc = document(true);
        doc.truncate(600);
        assert!(rewrite(&doc, &DisarmSettings::default()).is_err());
    }
}
