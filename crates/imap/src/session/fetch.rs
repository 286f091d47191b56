//! FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9): every data item, with RFC 7162
//! CHANGEDSINCE and MODSEQ, RFC 3516 BINARY. ENVELOPE and BODYSTRUCTURE come from the
//! backend's cache when it has them, so `FETCH 1:* (FLAGS ENVELOPE)` reads no files.

use super::respond;
use super::selected::resolve;
use super::{Action, Session};
use crate::backend::{CachedStructure, Flag, MessageMeta, StoreMode, StoreRequest};
use crate::message::text::nstring;
use crate::message::{Message, SectionError};
use imap_codec::imap_types::command::FetchModifier;
use imap_codec::imap_types::core::Tag;
use imap_codec::imap_types::fetch::{
    Macro, MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Section,
};
use imap_codec::imap_types::sequence::SequenceSet;
use std::collections::HashMap;

/// RFC 9051 §6.4.5: the macros FAST, ALL and FULL.
fn expand(items: MacroOrMessageDataItemNames<'static>) -> Vec<MessageDataItemName<'static>> {
    use MessageDataItemName as N;
    match items {
        MacroOrMessageDataItemNames::Macro(m) => {
            let mut v = vec![N::Flags, N::InternalDate, N::Rfc822Size];
            match m {
                Macro::Fast => {}
                Macro::All => v.push(N::Envelope),
                Macro::Full => {
                    v.push(N::Envelope);
                    v.push(N::Body);
                }
                _ => {}
            }
            v
        }
        MacroOrMessageDataItemNames::MessageDataItemNames(v) => v,
    }
}

/// The item sets `\Seen` (RFC 9051 §6.4.5: BODY[...] without .PEEK, BINARY[...] without
/// .PEEK, RFC822, RFC822.TEXT).
fn sets_seen(item: &MessageDataItemName<'_>) -> bool {
    matches!(
        item,
        MessageDataItemName::BodyExt { peek: false, .. }
            | MessageDataItemName::Binary { peek: false, .. }
            | MessageDataItemName::Rfc822
            | MessageDataItemName::Rfc822Text
    )
}

/// The item needs the message file (not only the index and the structure cache).
fn needs_body(item: &MessageDataItemName<'_>) -> bool {
    matches!(
        item,
        MessageDataItemName::Body
            | MessageDataItemName::BodyExt { .. }
            | MessageDataItemName::Rfc822
            | MessageDataItemName::Rfc822Header
            | MessageDataItemName::Rfc822Text
            | MessageDataItemName::Binary { .. }
            | MessageDataItemName::BinarySize { .. }
    )
}

impl Session {
    /// RFC 9051 §6.4.5 FETCH.
    pub(super) fn fetch(
        &mut self,
        tag: Tag<'static>,
        set: SequenceSet,
        items: MacroOrMessageDataItemNames<'static>,
        uid: bool,
        modifiers: Vec<FetchModifier>,
    ) -> Option<Action> {
        let Some(sel) = self.selected() else {
            return self.bad(Some(tag), None, "No mailbox selected");
        };
        let name = sel.name.clone();
        let read_only = sel.read_only;
        let pairs = resolve(sel, &set, uid);
        let mut items = expand(items);
        // RFC 9051 §6.4.9: UID FETCH always returns UID.
        if uid && !items.contains(&MessageDataItemName::Uid) {
            items.insert(0, MessageDataItemName::Uid);
        }
        let mut changed_since = None;
        for m in &modifiers {
            match m {
                FetchModifier::ChangedSince(n) => changed_since = Some(n.get()),
                FetchModifier::Vanished => {
                    return self.bad(Some(tag), None, "VANISHED needs QRESYNC");
                }
            }
        }
        // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ; both enable CONDSTORE.
        if changed_since.is_some() && !items.contains(&MessageDataItemName::ModSeq) {
            items.push(MessageDataItemName::ModSeq);
        }
        if items.contains(&MessageDataItemName::ModSeq) {
            self.enabled.condstore = true;
        }
        let uids: Vec<u32> = pairs.iter().map(|&(_, u)| u).collect();
        let b = self.backend.as_deref_mut()?;
        let mut metas: Vec<MessageMeta> = match b.metas(&name, &uids) {
            Ok(m) => m,
            Err(e) => {
                self.backend_no(&tag, &e);
                return None;
            }
        };
        if let Some(since) = changed_since {
            metas.retain(|m| m.modseq > since);
        }
        // \Seen first, so the FLAGS sent are the new ones (RFC 9051 §6.4.5).
        let mut seen_set: std::collections::HashSet<u32> = Default::default();
        if !read_only && items.iter().any(sets_seen) {
            let unseen: Vec<u32> = metas
                .iter()
                .filter(|m| !m.flags.contains(&Flag::Seen))
                .map(|m| m.uid)
                .collect();
            if !unseen.is_empty() {
                let req = StoreRequest {
                    uids: unseen,
                    mode: StoreMode::Add,
                    flags: vec![Flag::Seen],
                    unchanged_since: None,
                };
                if let Ok(out) = b.store(&name, &req) {
                    self.own_changes
                        .extend(out.changed.iter().map(|m| (m.uid, m.modseq)));
                    for c in out.changed {
                        if let Ok(i) = metas.binary_search_by_key(&c.uid, |m| m.uid)
                            && let Some(slot) = metas.get_mut(i)
                        {
                            seen_set.insert(c.uid);
                            *slot = c;
                        }
                    }
                }
            }
        }
        let want_cache = items.iter().any(|i| {
            matches!(
                i,
                MessageDataItemName::Envelope | MessageDataItemName::BodyStructure
            )
        });
        let mut cached: HashMap<u32, CachedStructure> = if want_cache {
            let wanted: Vec<u32> = metas.iter().map(|m| m.uid).collect();
            b.cached_structure(&name, &wanted)
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c.uid, c))
                .collect()
        } else {
            HashMap::new()
        };
        let body_needed = items.iter().any(needs_body);
        let mut new_cache: Vec<CachedStructure> = Vec::new();
        let want_env = items.contains(&MessageDataItemName::Envelope);
        let want_bs = items.contains(&MessageDataItemName::BodyStructure);
        if want_cache && !body_needed {
            // The uncached ENVELOPE / BODYSTRUCTURE values, computed in parallel by the
            // backend (a first FETCH 1:* of a large mailbox parses every file).
            let missing: Vec<u32> = metas
                .iter()
                .filter(|m| {
                    let hit = cached.get(&m.uid);
                    (want_env && hit.and_then(|c| c.envelope.as_ref()).is_none())
                        || (want_bs && hit.and_then(|c| c.bodystructure.as_ref()).is_none())
                })
                .map(|m| m.uid)
                .collect();
            if missing.len() > 1 {
                let compute = |uid: u32, raw: &[u8]| -> Option<CachedStructure> {
                    let m = Message::parse(raw);
                    Some(CachedStructure {
                        uid,
                        envelope: want_env
                            .then(|| {
                                String::from_utf8(respond::fetch_item(MessageDataItem::Envelope(
                                    m.envelope(),
                                )))
                                .ok()
                            })
                            .flatten(),
                        bodystructure: want_bs
                            .then(|| {
                                String::from_utf8(respond::fetch_item(
                                    MessageDataItem::BodyStructure(m.body_structure(true)),
                                ))
                                .ok()
                            })
                            .flatten(),
                    })
                };
                if let Ok(fresh) = b.map_content(&name, &missing, &compute) {
                    for f in fresh {
                        let slot = cached.entry(f.uid).or_insert_with(|| CachedStructure {
                            uid: f.uid,
                            ..Default::default()
                        });
                        if slot.envelope.is_none() {
                            slot.envelope = f.envelope.clone();
                        }
                        if slot.bodystructure.is_none() {
                            slot.bodystructure = f.bodystructure.clone();
                        }
                        if f.envelope.is_some() || f.bodystructure.is_some() {
                            new_cache.push(f);
                        }
                    }
                }
            }
        }
        let mut unknown_cte = false;
        let mut out = std::mem::take(&mut self.output);
        let seq_of: HashMap<u32, u32> = pairs.iter().map(|&(s, u)| (u, s)).collect();
        for meta in &metas {
            let Some(&seq) = seq_of.get(&meta.uid) else {
                continue;
            };
            let hit = cached.get(&meta.uid);
            let need_file = body_needed
                || items.iter().any(|i| match i {
                    MessageDataItemName::Envelope => {
                        hit.and_then(|c| c.envelope.as_ref()).is_none()
                    }
                    MessageDataItemName::BodyStructure => {
                        hit.and_then(|c| c.bodystructure.as_ref()).is_none()
                    }
                    _ => false,
                });
            let raw = if need_file {
                match b.message(&name, meta.uid) {
                    Ok(r) => Some(r),
                    // Expunged by another session meanwhile: left out (RFC 9051 §7.4.1).
                    Err(_) => continue,
                }
            } else {
                None
            };
            let msg = raw.as_deref().map(Message::parse);
            let mut fresh = CachedStructure {
                uid: meta.uid,
                ..Default::default()
            };
            let mut parts: Vec<Vec<u8>> = Vec::with_capacity(items.len() + 1);
            for item in &items {
                use MessageDataItemName as N;
                let encoded: Vec<u8> = match item {
                    N::Uid => format!("UID {}", meta.uid).into_bytes(),
                    N::Flags => format!("FLAGS {}", respond::flag_list(&meta.flags)).into_bytes(),
                    N::ModSeq => format!("MODSEQ ({})", meta.modseq.max(1)).into_bytes(),
                    N::InternalDate => format!(
                        "INTERNALDATE {}",
                        respond::internal_date(
                            meta.internal_date,
                            meta.internal_date_offset_minutes
                        )
                    )
                    .into_bytes(),
                    N::Rfc822Size => {
                        let size = msg
                            .as_ref()
                            .map(|m| u64::from(m.size()))
                            .unwrap_or(meta.size);
                        format!("RFC822.SIZE {size}").into_bytes()
                    }
                    N::Envelope => match (hit.and_then(|c| c.envelope.clone()), &msg) {
                        (Some(e), _) => e.into_bytes(),
                        (None, Some(m)) => {
                            let e = respond::fetch_item(MessageDataItem::Envelope(m.envelope()));
                            fresh.envelope = String::from_utf8(e.clone()).ok();
                            e
                        }
                        (None, None) => continue,
                    },
                    N::BodyStructure => match (hit.and_then(|c| c.bodystructure.clone()), &msg) {
                        (Some(e), _) => e.into_bytes(),
                        (None, Some(m)) => {
                            let e = respond::fetch_item(MessageDataItem::BodyStructure(
                                m.body_structure(true),
                            ));
                            fresh.bodystructure = String::from_utf8(e.clone()).ok();
                            e
                        }
                        (None, None) => continue,
                    },
                    N::Body => match &msg {
                        Some(m) => {
                            respond::fetch_item(MessageDataItem::Body(m.body_structure(false)))
                        }
                        None => continue,
                    },
                    N::BodyExt {
                        section, partial, ..
                    } => match &msg {
                        Some(m) => respond::fetch_item(m.fetch_body(section.as_ref(), *partial)),
                        None => continue,
                    },
                    N::Rfc822 => match &msg {
                        Some(m) => {
                            respond::fetch_item(MessageDataItem::Rfc822(nstring(m.data().to_vec())))
                        }
                        None => continue,
                    },
                    N::Rfc822Header => match &msg {
                        Some(m) => {
                            let h = m.fetch_body(Some(&Section::Header(None)), None);
                            match h {
                                MessageDataItem::BodyExt { data, .. } => {
                                    respond::fetch_item(MessageDataItem::Rfc822Header(data))
                                }
                                _ => continue,
                            }
                        }
                        None => continue,
                    },
                    N::Rfc822Text => match &msg {
                        Some(m) => {
                            let h = m.fetch_body(Some(&Section::Text(None)), None);
                            match h {
                                MessageDataItem::BodyExt { data, .. } => {
                                    respond::fetch_item(MessageDataItem::Rfc822Text(data))
                                }
                                _ => continue,
                            }
                        }
                        None => continue,
                    },
                    N::Binary {
                        section, partial, ..
                    } => match msg.as_ref().map(|m| m.fetch_binary(section, *partial)) {
                        Some(Ok(item)) => respond::fetch_item(item),
                        Some(Err(SectionError::UnknownCte)) => {
                            unknown_cte = true;
                            continue;
                        }
                        _ => continue,
                    },
                    N::BinarySize { section } => {
                        match msg.as_ref().map(|m| m.fetch_binary_size(section)) {
                            Some(Ok(item)) => respond::fetch_item(item),
                            Some(Err(SectionError::UnknownCte)) => {
                                unknown_cte = true;
                                continue;
                            }
                            _ => continue,
                        }
                    }
                };
                parts.push(encoded);
            }
            if seen_set.contains(&meta.uid) && !items.contains(&MessageDataItemName::Flags) {
                parts.push(format!("FLAGS {}", respond::flag_list(&meta.flags)).into_bytes());
            }
            if fresh.envelope.is_some() || fresh.bodystructure.is_some() {
                new_cache.push(fresh);
            }
            if !parts.is_empty() {
                respond::fetch_line(&mut out, seq, &parts);
            }
        }
        if !new_cache.is_empty() {
            b.cache_structure(&name, &new_cache);
        }
        self.output = out;
        if unknown_cte {
            // RFC 3516 §4.2: a content transfer encoding the server cannot decode.
            respond::tagged(
                &mut self.output,
                &tag,
                "NO",
                Some("UNKNOWN-CTE"),
                "Unknown content transfer encoding",
            );
        } else {
            respond::tagged(&mut self.output, &tag, "OK", None, "FETCH completed");
        }
        None
    }
}
