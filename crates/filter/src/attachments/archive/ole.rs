//! OLE compound files (MS-CFB), read with the `cfb` crate: old Office documents and MSI
//! packages. Every stream is handed on with its first bytes, and the files that OLE package
//! objects carry (`\x01Ole10Native` streams) with their own names.

use super::{Budget, Entry, Listing, Stop, Visit, le_u32, read_bounded};
use crate::attachments::kind::Kind;
use std::borrow::Cow;
use std::io::Cursor;

/// The root storage's class of Windows Installer databases ({000C1084-0000-0000-C000-
/// 000000000046}), patches ({000C1086-...}) and transforms ({000C1082-...}).
const MSI_CLASSES: [&str; 3] = [
    "000c1084-0000-0000-c000-000000000046",
    "000c1086-0000-0000-c000-000000000046",
    "000c1082-0000-0000-c000-000000000046",
];

/// The stream an OLE package object keeps its file in.
const OLE10_NATIVE: &str = "\u{1}Ole10Native";

/// Lists `data`'s streams to `visit`.
pub fn list(data: &[u8], budget: &mut Budget, visit: &mut Visit<'_>) -> Result<Listing, Stop> {
    let Ok(mut file) = cfb::CompoundFile::open(Cursor::new(data)) else {
        return Ok(Listing::default());
    };
    let mut listing = Listing::default();
    let class = file.root_entry().clsid().to_string().to_ascii_lowercase();
    if MSI_CLASSES.contains(&class.as_str()) {
        listing.kind = Some((Kind::Installer, "a Windows installer package (MSI)"));
    }
    let mut streams = Vec::new();
    for entry in file.walk() {
        budget.entry()?;
        let name = entry.name();
        // MS-OVBA §2.2: a VBA project storage in a Word/Excel binary document.
        if entry.is_storage() && (name == "Macros" || name == "_VBA_PROJECT_CUR") {
            listing.kind = listing
                .kind
                .or(Some((Kind::OfficeMacro, "an Office document with macros")));
        }
        if entry.is_stream() {
            streams.push(entry.path().to_path_buf());
        }
    }
    for path in streams {
        let Ok(stream) = file.open_stream(&path) else {
            continue;
        };
        let (bytes, complete) = read_bounded(stream, data.len() as u64, budget)?;
        let stream_name = path.to_string_lossy().trim_start_matches('/').to_owned();
        let is_package = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy() == OLE10_NATIVE);
        let entry = match is_package.then(|| package(&bytes)).flatten() {
            Some((name, body)) => Entry {
                name: format!("{}/{name}", shown_stream(&stream_name)),
                data: Cow::Owned(body.to_vec()),
                complete,
                encrypted: false,
            },
            None => Entry {
                name: shown_stream(&stream_name),
                data: Cow::Owned(bytes),
                complete,
                encrypted: false,
            },
        };
        visit(entry, budget)?;
    }
    Ok(listing)
}

/// Stream names start with control characters (`\x01Ole10Native`, `\x05SummaryInformation`):
/// dropped for display.
fn shown_stream(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).collect()
}

/// The file an `Ole10Native` stream carries: its name and bytes. The layout (a de-facto
/// format of the Packager, no published specification): total size (u32), a flags word
/// (u16), the label, the source path and (after a u32 and a length-prefixed temporary
/// path) the file's size (u32) and bytes.
fn package(stream: &[u8]) -> Option<(String, &[u8])> {
    let rest = stream.get(6..)?;
    let (label, rest) = cstring(rest)?;
    let (_source, rest) = cstring(rest)?;
    let rest = rest.get(4..)?;
    let temp_len = le_u32(rest, 0)? as usize;
    let rest = rest.get(4..)?.get(temp_len..)?;
    let size = le_u32(rest, 0)? as usize;
    let body = rest.get(4..)?;
    let body = body.get(..size.min(body.len()))?;
    Some((label, body))
}

fn cstring(data: &[u8]) -> Option<(String, &[u8])> {
    let end = data.iter().position(|b| *b == 0)?;
    let text = String::from_utf8_lossy(data.get(..end)?).into_owned();
    Some((text, data.get(end + 1..)?))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An `Ole10Native` stream carrying `body` as `name`.
    pub(crate) fn package_stream(name: &str, body: &[u8]) -> Vec<u8> {
        let mut s = Vec::new();
        s.extend_from_slice(&0u32.to_le_bytes());
        s.extend_from_slice(&2u16.to_le_bytes());
        s.extend_from_slice(name.as_bytes());
        s.push(0);
        s.extend_from_slice(format!("C:\\tmp\\{name}").as_bytes());
        s.push(0);
        s.extend_from_slice(&0x0003_0000u32.to_le_bytes());
        let temp = format!("C:\\temp\\{name}\0");
        s.extend_from_slice(&(temp.len() as u32).to_le_bytes());
        s.extend_from_slice(temp.as_bytes());
        s.extend_from_slice(&(body.len() as u32).to_le_bytes());
        s.extend_from_slice(body);
        let total = (s.len() - 4) as u32;
        s[..4].copy_from_slice(&total.to_le_bytes());
        s
    }

    #[test]
    fn a_package_yields_its_file() {
        let s = package_stream("run.exe", b"MZ\x90\0");
        let (name, body) = package(&s).unwrap();
        assert_eq!(name, "run.exe");
        assert_eq!(body, b"MZ\x90\0");
        assert_eq!(package(&s[..20]), None);
    }
}
