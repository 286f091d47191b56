//! SORT and UID SORT (RFC 5256 §3) with RFC 5957 DISPLAYFROM / DISPLAYTO, RFC 5267 §3
//! ESORT (`SORT RETURN (MIN MAX ALL COUNT)`, answered with ESEARCH) and RFC 5267 §4
//! CONTEXT=SORT (`PARTIAL` windows in sort order, `UPDATE` contexts kept by
//! [`super::context`]).
//!
//! The messages are those SEARCH would find for the same criteria ([`Session::matching`]);
//! their keys come from the ENVELOPE the backend caches (so a sorted view of a large
//! mailbox reads no files once FETCH ENVELOPE has run), else from each message's header
//! block, read in parallel and then cached.

use super::respond;
use super::search::esearch_line;
use super::{Action, Session};
use crate::backend::{BackendResult, CachedStructure, MailboxBackend, MessageMeta};
use crate::message::TopHeader;
use crate::message::sort::{self as ks, BaseSubject};
use crate::wire::decode::with_envelope_item;
use crate::wire::extended::Extension;
use crate::wire::search_return::ReturnOptions;
use imap_codec::imap_types::core::{Charset, Tag, Vec1};
use imap_codec::imap_types::envelope::Envelope;
use imap_codec::imap_types::extensions::sort::{SortCriterion, SortKey};
use imap_codec::imap_types::fetch::MessageDataItem;
use imap_codec::imap_types::search::SearchKey;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Mutex;

/// The keys a message's ENVELOPE gives, string keys case-mapped (`i;ascii-casemap`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct EnvKeys {
    /// RFC 5256 §2.1 base subject (its text case-mapped).
    pub subject: BaseSubject,
    /// RFC 5256 §2.2 sent date (UTC seconds) when the Date field parses.
    pub date: Option<i64>,
    pub from: Vec<u8>,
    pub to: Vec<u8>,
    pub cc: Vec<u8>,
    pub display_from: Vec<u8>,
    pub display_to: Vec<u8>,
    /// Message-ID and In-Reply-To ids (for THREAD=REFERENCES, which reads References
    /// from the message itself).
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
}

impl EnvKeys {
    pub fn of(env: &Envelope<'_>) -> EnvKeys {
        let mut subject = ks::envelope_subject(env);
        subject.text = String::from_utf8_lossy(&ks::casemap(subject.text.as_bytes())).into_owned();
        let first_id = |n: &imap_codec::imap_types::core::NString<'_>| {
            n.0.as_ref()
                .and_then(|v| ks::message_ids(v.as_ref()).into_iter().next())
        };
        EnvKeys {
            subject,
            date: ks::sent_date(env),
            from: ks::mailbox_key(&env.from),
            to: ks::mailbox_key(&env.to),
            cc: ks::mailbox_key(&env.cc),
            display_from: ks::display_key(&env.from),
            display_to: ks::display_key(&env.to),
            message_id: first_id(&env.message_id),
            in_reply_to: first_id(&env.in_reply_to),
        }
    }

    /// RFC 5256 §2.2: the sent date, INTERNALDATE when the Date field is missing or does
    /// not parse (§3 DATE and its erratum).
    pub fn sent_or_internal(&self, m: &MessageMeta) -> i64 {
        self.date.unwrap_or(m.internal_date)
    }
}

/// Messages whose cached structures are asked for at a time (bounds the memory of a sort
/// over a large mailbox: the cache rows carry BODYSTRUCTURE too).
const BATCH: usize = 4096;

/// The [`EnvKeys`] of `metas`, in the same order: from the cached ENVELOPE, else from the
/// header block of the message (computed on the backend's threads, then cached as FETCH
/// would have cached it). A message that vanished meanwhile gets empty keys.
pub(super) fn envelope_keys(
    b: &mut dyn MailboxBackend,
    name: &str,
    metas: &[MessageMeta],
) -> BackendResult<Vec<EnvKeys>> {
    let mut out = Vec::with_capacity(metas.len());
    for chunk in metas.chunks(BATCH) {
        let uids: Vec<u32> = chunk.iter().map(|m| m.uid).collect();
        let mut keys: HashMap<u32, EnvKeys> = HashMap::with_capacity(uids.len());
        for c in b.cached_structure(name, &uids)? {
            if let Some(k) = c
                .envelope
                .as_deref()
                .and_then(|e| with_envelope_item(e.as_bytes(), EnvKeys::of))
            {
                keys.insert(c.uid, k);
            }
        }
        let missing: Vec<u32> = uids
            .iter()
            .copied()
            .filter(|u| !keys.contains_key(u))
            .collect();
        if !missing.is_empty() {
            let computed: Mutex<Vec<(u32, EnvKeys)>> = Mutex::new(Vec::new());
            let compute = |uid: u32, raw: &[u8]| -> Option<CachedStructure> {
                let env = TopHeader::parse(raw).envelope().to_imap();
                let k = EnvKeys::of(&env);
                computed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((uid, k));
                let wire = String::from_utf8(respond::fetch_item(MessageDataItem::Envelope(env)));
                Some(CachedStructure {
                    uid,
                    envelope: wire.ok(),
                    bodystructure: None,
                })
            };
            let fresh = b.map_content(name, &missing, &compute)?;
            keys.extend(computed.into_inner().unwrap_or_else(|p| p.into_inner()));
            b.cache_structure(name, &fresh);
        }
        out.extend(uids.iter().map(|u| keys.remove(u).unwrap_or_default()));
    }
    Ok(out)
}

/// The criteria need the ENVELOPE (all but ARRIVAL and SIZE).
pub(super) fn needs_envelope(criteria: &[SortCriterion]) -> bool {
    criteria
        .iter()
        .any(|c| !matches!(c.key, SortKey::Arrival | SortKey::Size))
}

/// RFC 5256 §3: the order of two messages under one criterion.
fn compare(key: &SortKey, a: (&MessageMeta, &EnvKeys), b: (&MessageMeta, &EnvKeys)) -> Ordering {
    let ((ma, ka), (mb, kb)) = (a, b);
    match key {
        SortKey::Arrival => ma.internal_date.cmp(&mb.internal_date),
        SortKey::Size => ma.size.cmp(&mb.size),
        SortKey::Date => ka.sent_or_internal(ma).cmp(&kb.sent_or_internal(mb)),
        SortKey::Subject => ka.subject.text.cmp(&kb.subject.text),
        SortKey::From => ka.from.cmp(&kb.from),
        SortKey::To => ka.to.cmp(&kb.to),
        SortKey::Cc => ka.cc.cmp(&kb.cc),
        SortKey::DisplayFrom => ka.display_from.cmp(&kb.display_from),
        SortKey::DisplayTo => ka.display_to.cmp(&kb.display_to),
    }
}

/// RFC 5256 §3: the order of two messages under `criteria`, ties in mailbox order (UID
/// order): the total order [`sort_order`] gives, for placing one message in a sorted list.
pub(super) fn compare_messages(
    criteria: &[SortCriterion],
    a: (&MessageMeta, &EnvKeys),
    b: (&MessageMeta, &EnvKeys),
) -> Ordering {
    for c in criteria {
        let o = compare(&c.key, a, b);
        let o = if c.reverse { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.0.uid.cmp(&b.0.uid)
}

/// The positions of `metas` in sort order: each criterion in turn (REVERSE turns only its
/// own criterion round), ties in mailbox order (RFC 5256 §3: "in the order in which they
/// appear in the mailbox"; `metas` is in that order, so a stable sort gives it).
pub(super) fn sort_order(
    criteria: &[SortCriterion],
    metas: &[MessageMeta],
    keys: &[EnvKeys],
) -> Vec<usize> {
    let empty = EnvKeys::default();
    let key_of = |i: usize| keys.get(i).unwrap_or(&empty);
    let mut idx: Vec<usize> = (0..metas.len()).collect();
    idx.sort_by(|&a, &b| {
        let (Some(ma), Some(mb)) = (metas.get(a), metas.get(b)) else {
            return Ordering::Equal;
        };
        for c in criteria {
            let o = compare(&c.key, (ma, key_of(a)), (mb, key_of(b)));
            let o = if c.reverse { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    idx
}

impl Session {
    /// RFC 5256 §3 SORT, RFC 5267 §3 ESORT.
    pub(super) fn sort(
        &mut self,
        tag: Tag<'static>,
        criteria: Vec1<SortCriterion>,
        charset: Charset<'static>,
        search: Vec1<SearchKey<'static>>,
        uid: bool,
    ) -> Option<Action> {
        let returns = match std::mem::take(&mut self.ext) {
            Extension::SearchReturn(r) => match ReturnOptions::parse(&r) {
                Ok(o) => Some(o),
                Err(e) => return self.bad(Some(tag), None, &e.to_string()),
            },
            _ => None,
        };
        let update = returns.as_ref().is_some_and(|o| o.update);
        if update && self.context_tag_in_use(&tag) {
            // RFC 5267 §4.3: UPDATE with the tag of a live context is refused.
            return self.bad(Some(tag), None, "Tag reuse");
        }
        let mut hits = match self.matching(&tag, Some(&charset), search.as_ref()) {
            Ok(h) => h,
            Err(action) => return action,
        };
        let criteria = criteria.into_inner();
        let keys = if needs_envelope(&criteria) {
            let b = self.backend.as_deref_mut()?;
            match envelope_keys(b, &hits.name, &hits.metas) {
                Ok(k) => k,
                Err(e) => {
                    self.backend_no(&tag, &e);
                    return None;
                }
            }
        } else {
            Vec::new()
        };
        let nums = hits.numbers(uid);
        let order = sort_order(&criteria, &hits.metas, &keys);
        let sorted: Vec<u32> = order.iter().filter_map(|&i| nums.get(i).copied()).collect();
        let mut line = match &returns {
            Some(opts) => esearch_line(&tag, uid, opts, &sorted, true),
            None => {
                let mut line = String::from("* SORT");
                for n in &sorted {
                    line.push(' ');
                    line.push_str(&n.to_string());
                }
                line
            }
        };
        if let Some(ms) = hits.modseq {
            // RFC 7162 §3.1.5: SORT too reports the highest MODSEQ of what it found.
            if line.starts_with("* ESEARCH") {
                line.push_str(&format!(" MODSEQ {ms}"));
            } else {
                line.push_str(&format!(" (MODSEQ {ms})"));
            }
        }
        line.push_str("\r\n");
        self.output.extend_from_slice(line.as_bytes());
        if update && let Some(key) = hits.key.take() {
            let metas = std::mem::take(&mut hits.metas);
            self.start_sort_context(&tag, uid, key, criteria, metas, keys, &order);
        }
        self.tagged(&tag, "OK", None, "SORT completed");
        None
    }
}
