//! FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9): every data item, with RFC 7162
//! CHANGEDSINCE and MODSEQ (§3.1.4), VANISHED (§3.2.6), RFC 3516 BINARY, the RFC 9394
//! PARTIAL modifier of UID FETCH. ENVELOPE and
//! BODYSTRUCTURE come from the backend's cache when it has them, so
//! `FETCH 1:* (FLAGS ENVELOPE)` reads no files.

use super::qresync;
use super::respond;
use super::selected::{names_missing_message, resolve};
use super::{Action, Session};
use crate::backend::{CachedStructure, Flag, MessageMeta, StoreMode, StoreRequest};
use crate::message::text::nstring;
use crate::message::{Message, SectionError};
use crate::wire::extended::Extension;
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

/// What a FETCH response adds for a message whose `\Seen` the FETCH set: FLAGS (RFC 9051
/// §6.4.5) and, under CONDSTORE, UID and MODSEQ (RFC 7162 §3.2.4), each unless asked for.
fn seen_items(
    items: &[MessageDataItemName<'_>],
    meta: &MessageMeta,
    condstore: bool,
    recent: bool,
) -> Vec<Vec<u8>> {
    let mut extra = Vec::new();
    if !items.contains(&MessageDataItemName::Flags) {
        extra.push(format!("FLAGS {}", respond::flags_shown(&meta.flags, recent)).into_bytes());
    }
    if condstore && !items.contains(&MessageDataItemName::Uid) {
        extra.push(format!("UID {}", meta.uid).into_bytes());
    }
    if condstore && !items.contains(&MessageDataItemName::ModSeq) {
        extra.push(format!("MODSEQ ({})", meta.modseq.max(1)).into_bytes());
    }
    extra
}

/// Messages encoded and streamed at a time by FETCH.
const FETCH_BATCH: usize = 2048;

/// The cached ENVELOPE / BODYSTRUCTURE values of `batch`, with those not cached yet computed
/// on the backend's threads (a first FETCH 1:* of a large mailbox parses every file) unless
/// the files are read anyway for other items; the computed ones are also returned apart, to
/// be cached.
fn structures(
    b: &mut dyn crate::backend::MailboxBackend,
    name: &str,
    batch: &[MessageMeta],
    want_env: bool,
    want_bs: bool,
    body_needed: bool,
) -> (HashMap<u32, CachedStructure>, Vec<CachedStructure>) {
    let wanted: Vec<u32> = batch.iter().map(|m| m.uid).collect();
    let mut cached: HashMap<u32, CachedStructure> = b
        .cached_structure(name, &wanted)
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.uid, c))
        .collect();
    let mut new_cache = Vec::new();
    if body_needed {
        return (cached, new_cache);
    }
    let missing: Vec<u32> = wanted
        .iter()
        .copied()
        .filter(|uid| {
            let hit = cached.get(uid);
            (want_env && hit.and_then(|c| c.envelope.as_ref()).is_none())
                || (want_bs && hit.and_then(|c| c.bodystructure.as_ref()).is_none())
        })
        .collect();
    if missing.len() <= 1 {
        return (cached, new_cache);
    }
    let compute = |uid: u32, raw: &[u8]| -> Option<CachedStructure> {
        let m = Message::parse(raw);
        let encode = |item| String::from_utf8(respond::fetch_item(item)).ok();
        Some(CachedStructure {
            uid,
            envelope: want_env
                .then(|| encode(MessageDataItem::Envelope(m.envelope())))
                .flatten(),
            bodystructure: want_bs
                .then(|| encode(MessageDataItem::BodyStructure(m.body_structure(true))))
                .flatten(),
        })
    };
    if let Ok(fresh) = b.map_content(name, &missing, &compute) {
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
    (cached, new_cache)
}

impl Session {
    /// RFC 9051 §6.4.5 FETCH, RFC 7162 §3.1.4 CHANGEDSINCE and §3.2.6 VANISHED.
    pub(super) fn fetch(
        &mut self,
        tag: Tag<'static>,
        set: SequenceSet,
        items: MacroOrMessageDataItemNames<'static>,
        uid: bool,
        modifiers: Vec<FetchModifier>,
    ) -> Option<Action> {
        let partial = match std::mem::take(&mut self.ext) {
            Extension::FetchPartial(range) => Some(range),
            _ => None,
        };
        let Some(sel) = self.selected() else {
            return self.bad(Some(tag), None, "No mailbox selected");
        };
        if names_missing_message(sel, &set, uid) {
            return self.bad(Some(tag), None, "Invalid message sequence number");
        }
        let name = sel.name.clone();
        let read_only = sel.read_only;
        // RFC 3501 §2.3.2: \Recent in FLAGS for IMAP4rev1 sessions.
        let recent: Vec<(u32, u32)> = if self.enabled.imap4rev2 {
            Vec::new()
        } else {
            sel.recent.clone()
        };
        let is_recent = move |uid: u32| recent.iter().any(|&(a, b)| uid >= a && uid < b);
        let mut pairs = resolve(sel, &set, uid);
        if let Some(range) = partial {
            // RFC 9394 §3.3: only the messages of the set in the range (counted in UID
            // order, from the last with a negative range), before CHANGEDSINCE (§3.4).
            pairs = pairs
                .get(range.window(pairs.len()))
                .unwrap_or_default()
                .to_vec();
        }
        let mut items = expand(items);
        // RFC 9051 §6.4.9: UID FETCH always returns UID.
        if uid && !items.contains(&MessageDataItemName::Uid) {
            items.insert(0, MessageDataItemName::Uid);
        }
        let mut changed_since = None;
        let mut vanished = false;
        for m in &modifiers {
            match m {
                FetchModifier::ChangedSince(n) => changed_since = Some(n.get()),
                FetchModifier::Vanished => vanished = true,
            }
        }
        if vanished
            && let Err(e) =
                qresync::check_vanished_modifier(self.enabled.qresync, uid, changed_since.is_some())
        {
            return self.bad(Some(tag), None, &e.to_string());
        }
        // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ; both enable CONDSTORE.
        if changed_since.is_some() && !items.contains(&MessageDataItemName::ModSeq) {
            items.push(MessageDataItemName::ModSeq);
        }
        if items.contains(&MessageDataItemName::ModSeq) {
            self.enable_condstore();
        }
        // RFC 7162 §3.2.6: VANISHED (EARLIER) comes before the FETCH responses.
        if vanished
            && let Some(since) = changed_since
            && let Err(e) = self.send_vanished_since(&name, since, &set)
        {
            self.backend_no(&tag, &e);
            return None;
        }
        let condstore = self.enabled.condstore;
        let uids: Vec<u32> = pairs.iter().map(|&(_, u)| u).collect();
        let b = self.backend.as_deref_mut()?;
        // \Seen first, so the FLAGS sent are the new ones (RFC 9051 §6.4.5): then every
        // message's flags are read up front; otherwise batch by batch, so that the first
        // responses go out at once.
        let mut seen_set: std::collections::HashSet<u32> = Default::default();
        let mut preloaded = None;
        if !read_only && items.iter().any(sets_seen) {
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
            preloaded = Some(metas.into_iter());
        }
        let want_env = items.contains(&MessageDataItemName::Envelope);
        let want_bs = items.contains(&MessageDataItemName::BodyStructure);
        let want_cache = want_env || want_bs;
        let body_needed = items.iter().any(needs_body);
        let mut unknown_cte = false;
        let mut out = std::mem::take(&mut self.output);
        let seq_of: HashMap<u32, u32> = pairs.iter().map(|&(s, u)| (u, s)).collect();
        // FLAGS are shown when asked for, and when the FETCH sets \Seen.
        let shows_flags = items.contains(&MessageDataItemName::Flags)
            || (!read_only && items.iter().any(sets_seen));
        // In batches, each streamed as it is encoded: the client parses the first messages
        // while the server reads (and, on a first FETCH, parses) the next ones.
        for uid_batch in uids.chunks(FETCH_BATCH) {
            let batch: Vec<MessageMeta> = match preloaded.as_mut() {
                Some(all) => all.by_ref().take(uid_batch.len()).collect(),
                None => match b.metas(&name, uid_batch) {
                    Ok(mut m) => {
                        if let Some(since) = changed_since {
                            m.retain(|m| m.modseq > since);
                        }
                        m
                    }
                    Err(e) => {
                        self.output = out;
                        self.backend_no(&tag, &e);
                        return None;
                    }
                },
            };
            if shows_flags {
                respond::announce_keywords(
                    &mut out,
                    &mut self.keywords_announced,
                    read_only,
                    batch.iter().flat_map(|m| m.flags.iter()),
                );
            }
            let (mut cached, mut new_cache) = if want_cache {
                structures(b, &name, &batch, want_env, want_bs, body_needed)
            } else {
                (HashMap::new(), Vec::new())
            };
            for meta in &batch {
                let Some(&seq) = seq_of.get(&meta.uid) else {
                    continue;
                };
                let mut hit = cached.remove(&meta.uid);
                let need_file = body_needed
                    || items.iter().any(|i| match i {
                        MessageDataItemName::Envelope => {
                            hit.as_ref().and_then(|c| c.envelope.as_ref()).is_none()
                        }
                        MessageDataItemName::BodyStructure => hit
                            .as_ref()
                            .and_then(|c| c.bodystructure.as_ref())
                            .is_none(),
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
                        N::Flags => format!(
                            "FLAGS {}",
                            respond::flags_shown(&meta.flags, is_recent(meta.uid))
                        )
                        .into_bytes(),
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
                        N::Envelope => match (hit.as_mut().and_then(|c| c.envelope.take()), &msg) {
                            (Some(e), _) => e.into_bytes(),
                            (None, Some(m)) => {
                                let e =
                                    respond::fetch_item(MessageDataItem::Envelope(m.envelope()));
                                fresh.envelope = String::from_utf8(e.clone()).ok();
                                e
                            }
                            (None, None) => continue,
                        },
                        N::BodyStructure => {
                            match (hit.as_mut().and_then(|c| c.bodystructure.take()), &msg) {
                                (Some(e), _) => e.into_bytes(),
                                (None, Some(m)) => {
                                    let e = respond::fetch_item(MessageDataItem::BodyStructure(
                                        m.body_structure(true),
                                    ));
                                    fresh.bodystructure = String::from_utf8(e.clone()).ok();
                                    e
                                }
                                (None, None) => continue,
                            }
                        }
                        N::Body => match &msg {
                            Some(m) => {
                                respond::fetch_item(MessageDataItem::Body(m.body_structure(false)))
                            }
                            None => continue,
                        },
                        N::BodyExt {
                            section, partial, ..
                        } => match &msg {
                            Some(m) => {
                                respond::fetch_item(m.fetch_body(section.as_ref(), *partial))
                            }
                            None => continue,
                        },
                        N::Rfc822 => match &msg {
                            Some(m) => respond::fetch_item(MessageDataItem::Rfc822(nstring(
                                m.data().to_vec(),
                            ))),
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
                            Some(Ok((bytes, origin))) => {
                                respond::binary_item(section, origin, &bytes)
                            }
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
                if seen_set.contains(&meta.uid) {
                    parts.extend(seen_items(&items, meta, condstore, is_recent(meta.uid)));
                }
                if fresh.envelope.is_some() || fresh.bodystructure.is_some() {
                    new_cache.push(fresh);
                }
                if !parts.is_empty() {
                    respond::fetch_line(&mut out, seq, &parts);
                }
                super::stream_piece(&mut self.stream, &mut out);
            }
            if !new_cache.is_empty() {
                b.cache_structure(&name, &new_cache);
            }
        }
        self.output = out;
        if unknown_cte {
            // RFC 3516 §4.2: a content transfer encoding the server cannot decode.
            self.tagged(
                &tag,
                "NO",
                Some("UNKNOWN-CTE"),
                "Unknown content transfer encoding",
            );
        } else {
            self.tagged(&tag, "OK", None, "FETCH completed");
        }
        None
    }
}
