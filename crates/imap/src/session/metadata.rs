//! RFC 5464 METADATA: GETMETADATA and SETMETADATA over server annotations (mailbox `""`)
//! and mailbox annotations. The syntax and the entry name rules are read by
//! [`crate::wire::metadata`] (`BAD` when wrong); the backend keeps the entries and their
//! limits (`NO [METADATA MAXSIZE n]`, `NO [METADATA TOOMANY]`, §4.3).
//!
//! Entries the session answers for itself:
//! - `/shared/admin` (server, §3.2.1.1): how to reach the administrator, from the
//!   configuration ([`super::SessionConfig::admin`]); read-only (`NO [NOPERM]`).
//! - `/private/specialuse` (mailbox, RFC 6154 §4): the mailbox's special-use attribute.
//!   A value is checked here (one of `\Archive`, `\Drafts`, `\Junk`, `\Sent`, `\Trash`, or
//!   NIL / empty to clear it; anything else is `NO [USEATTR]`); the backend keeps it.
//!
//! An entry named in GETMETADATA that does not exist is shown with the value NIL (RFC 6154
//! §4 shows `/private/specialuse` so); entries found below it by DEPTH only when they
//! exist. No unsolicited METADATA responses are sent (§4.4 makes them optional), so
//! `ENABLE METADATA` enables nothing.

use super::{Action, Session, respond};
use crate::backend::{MetadataDepth, MetadataEntry, MetadataError, SpecialUse};
use crate::wire::metadata::{GetMetadata, MetadataCommand, Parsed, SetMetadata, Use, entry_name};
use imap_codec::imap_types::core::Tag;
use std::collections::BTreeMap;

/// The server entry that says how to reach the administrator (RFC 5464 §3.2.1.1).
pub const ADMIN_ENTRY: &str = "/shared/admin";
/// The mailbox entry that is its special-use attribute (RFC 6154 §4).
pub const SPECIAL_USE_ENTRY: &str = "/private/specialuse";

/// `name` is `query` or below it within `depth` (RFC 5464 §4.2.2: depth 1 of `/a` is `/a`
/// and `/a/b`, not `/a/b/c`).
pub fn within(query: &str, name: &str, depth: MetadataDepth) -> bool {
    if name == query {
        return true;
    }
    match name.strip_prefix(query).and_then(|r| r.strip_prefix('/')) {
        None => false,
        Some(rest) => match depth {
            MetadataDepth::Zero => false,
            MetadataDepth::One => !rest.contains('/'),
            MetadataDepth::Infinity => true,
        },
    }
}

/// A `/private/specialuse` value names an attribute mailward cannot give a mailbox
/// (`NO [USEATTR]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unsupported special-use attribute")]
pub struct UnsupportedUse;

/// A `/private/specialuse` value (RFC 6154 §4: a space-separated list of attributes, or
/// NIL) as the backend keeps it: `None` for none, else the one attribute. `Err` when it
/// names an attribute mailward cannot give a mailbox: an unknown one, `\All` or `\Flagged`
/// (virtual mailboxes, which mailward does not have), or more than one.
pub fn special_use_value(value: Option<&[u8]>) -> Result<Option<Vec<u8>>, UnsupportedUse> {
    let Some(v) = value else {
        return Ok(None);
    };
    let text = std::str::from_utf8(v).map_err(|_| UnsupportedUse)?;
    let words: Vec<&str> = text.split_ascii_whitespace().collect();
    match words.as_slice() {
        [] => Ok(None),
        [one] => match super::special_use_from(one) {
            Some(SpecialUse::All | SpecialUse::Flagged) | None => Err(UnsupportedUse),
            Some(u) => Ok(Some(u.as_attribute().as_bytes().to_vec())),
        },
        _ => Err(UnsupportedUse),
    }
}

/// RFC 9051 §9 astring: an atom when every octet may be in one, else a quoted string.
fn astring(out: &mut Vec<u8>, s: &str) {
    let atom = !s.is_empty()
        && s.bytes().all(|c| {
            c > 0x20 && c < 0x7f && !matches!(c, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\')
        });
    if atom {
        out.extend_from_slice(s.as_bytes());
    } else {
        respond::string(out, s.as_bytes(), false);
    }
}

/// RFC 5464 §5 value = nstring / literal8: NIL, a quoted string or literal, or a literal8
/// (RFC 3516 §4.2) for a value holding NUL, which a literal cannot carry.
fn value(out: &mut Vec<u8>, v: Option<&[u8]>, utf8: bool) {
    match v {
        None => out.extend_from_slice(b"NIL"),
        Some(v) if v.contains(&0) => {
            out.extend_from_slice(format!("~{{{}}}\r\n", v.len()).as_bytes());
            out.extend_from_slice(v);
        }
        // 8-bit octets in a quoted string only as UTF-8 to a client that takes it.
        Some(v) => respond::string(out, v, utf8 && std::str::from_utf8(v).is_ok()),
    }
}

impl Session {
    /// GETMETADATA or SETMETADATA as [`crate::wire::metadata::parse`] read it: authenticated
    /// or selected state only (RFC 5464 §4.2, §4.3); the updates of the selected mailbox
    /// follow, before the tagged completion (RFC 9051 §7.4.1).
    pub(super) fn metadata_command(&mut self, parsed: Parsed) -> Option<Action> {
        self.own_parsed_command(
            parsed.name,
            parsed.tag.as_deref(),
            parsed.result,
            |s, tag, cmd| match cmd {
                MetadataCommand::Get(g) => s.get_metadata(tag, g),
                MetadataCommand::Set(set) => s.set_metadata(tag, set),
            },
        )
    }

    /// The mailbox argument: `None` for the server (`""`, RFC 5464 §4.1), else the mailbox's
    /// UTF-8 name; a `NO [CANNOT]` answer (and `Err`) when the name is invalid.
    fn metadata_mailbox(&mut self, tag: &Tag<'static>, raw: &[u8]) -> Result<Option<String>, ()> {
        if raw.is_empty() {
            return Ok(None);
        }
        match crate::mailbox_name::from_wire(raw, self.enabled.utf8_names()) {
            Ok(n) if !n.trim_end_matches('/').is_empty() => {
                Ok(Some(n.trim_end_matches('/').to_string()))
            }
            Ok(_) => {
                self.tagged(tag, "NO", Some("CANNOT"), "Invalid mailbox name");
                Err(())
            }
            Err(e) => {
                self.tagged(tag, "NO", Some("CANNOT"), &e.to_string());
                Err(())
            }
        }
    }

    /// RFC 5464 §4.2 GETMETADATA with §4.2.1 MAXSIZE (entries over it left out, the largest
    /// one's size in `OK [METADATA LONGENTRIES n]`) and §4.2.2 DEPTH.
    fn get_metadata(&mut self, tag: &Tag<'static>, g: GetMetadata) {
        let Ok(mailbox) = self.metadata_mailbox(tag, &g.mailbox) else {
            return;
        };
        let max = g.max_size.map(u64::from);
        let Some(backend) = self.backend.as_deref_mut() else {
            self.tagged(tag, "NO", Some("UNAVAILABLE"), "Not logged in");
            return;
        };
        let mut found = match backend.get_metadata(mailbox.as_deref(), &g.entries, g.depth, max) {
            Ok(f) => f,
            Err(e) => return self.backend_no(tag, &e),
        };
        if mailbox.is_none()
            && let Some(admin) = &self.cfg.admin
            && g.entries.iter().any(|e| within(e, ADMIN_ENTRY, g.depth))
        {
            let size = admin.len() as u64;
            found.retain(|e| e.name != ADMIN_ENTRY);
            found.push(MetadataEntry {
                name: ADMIN_ENTRY.to_string(),
                size,
                value: max
                    .is_none_or(|m| size <= m)
                    .then(|| admin.as_bytes().to_vec()),
            });
        }
        let mut shown: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
        let mut longest: Option<u64> = None;
        for e in &found {
            match &e.value {
                Some(v) => {
                    shown.insert(e.name.clone(), Some(v.clone()));
                }
                None => longest = longest.max(Some(e.size)),
            }
        }
        for name in &g.entries {
            let exists = found.iter().any(|e| &e.name == name);
            if !exists && entry_name(name.as_bytes(), Use::Write).is_ok() {
                shown.insert(name.clone(), None);
            }
        }
        if !shown.is_empty() {
            let utf8 = self.enabled.utf8_names();
            let out = &mut self.output;
            out.extend_from_slice(b"* METADATA ");
            match &mailbox {
                Some(m) => respond::mailbox(out, m, utf8),
                None => out.extend_from_slice(b"\"\""),
            }
            out.extend_from_slice(b" (");
            for (i, (name, v)) in shown.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                astring(out, name);
                out.push(b' ');
                value(out, v.as_deref(), utf8);
            }
            out.extend_from_slice(b")\r\n");
        }
        match longest {
            Some(n) => self.tagged(
                tag,
                "OK",
                Some(&format!("METADATA LONGENTRIES {n}")),
                "GETMETADATA completed",
            ),
            None => self.tagged(tag, "OK", None, "GETMETADATA completed"),
        }
    }

    /// RFC 5464 §4.3 SETMETADATA: every entry or none.
    fn set_metadata(&mut self, tag: &Tag<'static>, s: SetMetadata) {
        let Ok(mailbox) = self.metadata_mailbox(tag, &s.mailbox) else {
            return;
        };
        let mut changes = Vec::with_capacity(s.values.len());
        for (name, v) in s.values {
            if mailbox.is_none() && name == ADMIN_ENTRY {
                // §3.2.1.1: "always read-only -- clients cannot change it".
                self.tagged(
                    tag,
                    "NO",
                    Some("NOPERM"),
                    "/shared/admin is read-only (RFC 5464 section 3.2.1.1)",
                );
                return;
            }
            let v = if mailbox.is_some() && name == SPECIAL_USE_ENTRY {
                match special_use_value(v.as_deref()) {
                    Ok(v) => v,
                    Err(UnsupportedUse) => {
                        // RFC 6154 §4 (and §3 for CREATE): an attribute the server cannot
                        // give the mailbox.
                        self.tagged(
                            tag,
                            "NO",
                            Some("USEATTR"),
                            "Unsupported special-use attribute (one of \\Archive \\Drafts \\Junk \\Sent \\Trash, or NIL)",
                        );
                        return;
                    }
                }
            } else {
                v
            };
            changes.push((name, v));
        }
        let Some(backend) = self.backend.as_deref_mut() else {
            self.tagged(tag, "NO", Some("UNAVAILABLE"), "Not logged in");
            return;
        };
        match backend.set_metadata(mailbox.as_deref(), &changes) {
            Ok(()) => self.tagged(tag, "OK", None, "SETMETADATA completed"),
            Err(MetadataError::TooBig { max }) => self.tagged(
                tag,
                "NO",
                Some(&format!("METADATA MAXSIZE {max}")),
                "Annotation value too large",
            ),
            Err(MetadataError::TooMany) => {
                self.tagged(tag, "NO", Some("METADATA TOOMANY"), "Too many annotations")
            }
            Err(MetadataError::NoPrivate) => self.tagged(
                tag,
                "NO",
                Some("METADATA NOPRIVATE"),
                "Private annotations are not supported here",
            ),
            Err(MetadataError::Failed(e)) => self.backend_no(tag, &e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specialuse_values_mailward_can_keep() {
        assert_eq!(special_use_value(None), Ok(None));
        assert_eq!(special_use_value(Some(b"  ")), Ok(None));
        assert_eq!(
            special_use_value(Some(b"\\archive")),
            Ok(Some(b"\\Archive".to_vec()))
        );
        for bad in [
            &b"\\All"[..],
            b"\\Flagged",
            b"\\Sent \\Junk",
            b"Sent",
            b"\\Bogus",
            b"\xff",
        ] {
            assert_eq!(special_use_value(Some(bad)), Err(UnsupportedUse), "{bad:?}");
        }
    }

    #[test]
    fn values_take_the_form_their_octets_allow() {
        let shown = |v: &[u8], utf8: bool| {
            let mut out = Vec::new();
            value(&mut out, Some(v), utf8);
            out
        };
        assert_eq!(shown(b"plain \"q\"", false), b"\"plain \\\"q\\\"\"");
        assert_eq!(shown(b"a\r\nb", false), b"{4}\r\na\r\nb");
        assert_eq!(shown(b"a\0b", false), b"~{3}\r\na\0b");
        assert_eq!(shown("é".as_bytes(), false), b"{2}\r\n\xc3\xa9");
        assert_eq!(shown("é".as_bytes(), true), "\"é\"".as_bytes());
        assert_eq!(shown(b"\xff", true), b"{1}\r\n\xff");
        let mut out = Vec::new();
        value(&mut out, None, false);
        assert_eq!(out, b"NIL");
        let mut out = Vec::new();
        astring(&mut out, "/private/with space");
        assert_eq!(out, b"\"/private/with space\"");
    }

    #[test]
    fn within_depth() {
        assert!(within("/shared", "/shared/admin", MetadataDepth::One));
        assert!(!within("/shared", "/shared/admin", MetadataDepth::Zero));
        assert!(!within(
            "/shared/ad",
            "/shared/admin",
            MetadataDepth::Infinity
        ));
    }
}
