//! SEARCH and UID SEARCH (RFC 9051 §6.4.4) with every key, RFC 7162 MODSEQ, RFC 4731
//! ESEARCH results (`RETURN (MIN MAX COUNT ALL)`, and always under IMAP4rev2), RFC 5267 §4
//! / RFC 9394 `PARTIAL` windows and `UPDATE` contexts (kept by [`super::context`]).
//!
//! Keys are compiled once; each message is first judged on its index data (flags, size,
//! dates, UIDs); only the messages whose outcome depends on content go to the backend's
//! [`crate::backend::MailboxBackend::search_content`], which may scan files in parallel.

use super::respond;
use super::selected::resolve;
use super::{Action, Session};
use crate::backend::{BackendResult, Flag, MailboxBackend, MessageMeta, TextCandidates};
use crate::message::Message;
use crate::message::search::{self as ms, Date, Needle};
use crate::wire::extended::Extension;
use crate::wire::search_return::ReturnOptions;
use imap_codec::imap_types::core::{Charset, Tag, Vec1};
use imap_codec::imap_types::search::SearchKey;
use std::collections::HashMap;

/// A compiled search key (sequence numbers already turned into UIDs: RFC 5267 §4.3, they
/// are evaluated when the command is received).
#[derive(Debug, Clone)]
pub(super) enum K {
    True,
    False,
    /// UIDs, sorted.
    Uids(Vec<u32>),
    Flag(Flag),
    Larger(u64),
    Smaller(u64),
    /// INTERNALDATE day (days since the epoch in the message's zone) compared.
    Before(i64),
    On(i64),
    Since(i64),
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    Header(String, Needle),
    Subject(Needle),
    Address(&'static str, Needle),
    Body(Needle),
    Text(Needle),
    ModSeq(u64),
    And(Vec<K>),
    Or(Box<K>, Box<K>),
    Not(Box<K>),
}

fn day_of(d: &chrono::NaiveDate) -> i64 {
    use chrono::Datelike;
    respond::days_from_civil(i64::from(d.year()), d.month(), d.day())
}

fn date_of(d: &chrono::NaiveDate) -> Date {
    use chrono::Datelike;
    Date {
        year: d.year(),
        month: d.month() as u8,
        day: d.day() as u8,
    }
}

fn needle(s: &impl AsRef<[u8]>) -> Needle {
    Needle::new(s.as_ref())
}

fn meta_day(m: &MessageMeta) -> i64 {
    (m.internal_date + i64::from(m.internal_date_offset_minutes) * 60).div_euclid(86_400)
}

impl K {
    /// The outcome from index data alone, `None` when content decides.
    fn cheap(&self, m: &MessageMeta) -> Option<bool> {
        Some(match self {
            K::True => true,
            K::False => false,
            K::Uids(v) => v.binary_search(&m.uid).is_ok(),
            K::Flag(f) => m.flags.contains(f),
            K::Larger(n) => m.size > *n,
            K::Smaller(n) => m.size < *n,
            K::Before(d) => meta_day(m) < *d,
            K::On(d) => meta_day(m) == *d,
            K::Since(d) => meta_day(m) >= *d,
            K::ModSeq(n) => m.modseq >= *n,
            K::And(v) => {
                let mut unknown = false;
                for k in v {
                    match k.cheap(m) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                if unknown {
                    return None;
                }
                true
            }
            K::Or(a, b) => match (a.cheap(m), b.cheap(m)) {
                (Some(true), _) | (_, Some(true)) => true,
                (Some(false), Some(false)) => false,
                _ => return None,
            },
            K::Not(k) => !k.cheap(m)?,
            _ => return None,
        })
    }

    /// The outcome with the message at hand.
    fn full(&self, m: &MessageMeta, msg: &Message<'_>) -> bool {
        if let Some(b) = self.cheap(m) {
            return b;
        }
        match self {
            K::SentBefore(d) => ms::sent_date_or_epoch(msg) < *d,
            K::SentOn(d) => ms::sent_date_or_epoch(msg) == *d,
            K::SentSince(d) => ms::sent_date_or_epoch(msg) >= *d,
            K::Header(f, n) => ms::header_contains(msg, f, n),
            K::Subject(n) => ms::subject_contains(msg, n),
            K::Address(f, n) => ms::address_contains(msg, f, n),
            K::Body(n) => ms::body_contains(msg, n),
            K::Text(n) => ms::text_contains(msg, n),
            K::And(v) => v.iter().all(|k| k.full(m, msg)),
            K::Or(a, b) => a.full(m, msg) || b.full(m, msg),
            K::Not(k) => !k.full(m, msg),
            _ => false,
        }
    }

    /// What the full-text index can rule out for this key: a message the filter does not
    /// admit cannot make the key true. `None` when the index cannot help (no non-empty
    /// content needle, or one under NOT).
    fn index_filter(&self) -> Option<IndexFilter> {
        let leaf = |n: &Needle| (!n.is_empty()).then(|| IndexFilter::Needle(n.as_str().into()));
        match self {
            K::Header(_, n) | K::Subject(n) | K::Address(_, n) | K::Body(n) | K::Text(n) => leaf(n),
            // A conjunction is true only where each part is.
            K::And(v) => {
                let parts: Vec<IndexFilter> = v.iter().filter_map(K::index_filter).collect();
                (!parts.is_empty()).then_some(IndexFilter::All(parts))
            }
            // A disjunction is true only where one side is: both must be narrowed.
            K::Or(a, b) => Some(IndexFilter::Any(vec![a.index_filter()?, b.index_filter()?])),
            _ => None,
        }
    }

    fn uses_modseq(&self) -> bool {
        match self {
            K::ModSeq(_) => true,
            K::And(v) => v.iter().any(K::uses_modseq),
            K::Or(a, b) => a.uses_modseq() || b.uses_modseq(),
            K::Not(k) => k.uses_modseq(),
            _ => false,
        }
    }
}

/// Which messages may match, as the full-text index tells (see [`K::index_filter`]).
#[derive(Debug, Clone)]
enum IndexFilter {
    Needle(String),
    All(Vec<IndexFilter>),
    Any(Vec<IndexFilter>),
}

/// An [`IndexFilter`] with the index's answers looked up.
enum Resolved {
    /// `None`: the index cannot narrow this needle; every message may match.
    Needle(Option<TextCandidates>),
    All(Vec<Resolved>),
    Any(Vec<Resolved>),
}

impl IndexFilter {
    fn resolve(&self, b: &mut dyn MailboxBackend, mailbox: &str) -> BackendResult<Resolved> {
        Ok(match self {
            IndexFilter::Needle(n) => Resolved::Needle(b.text_candidates(mailbox, n)?),
            IndexFilter::All(v) => Resolved::All(
                v.iter()
                    .map(|f| f.resolve(b, mailbox))
                    .collect::<Result<_, _>>()?,
            ),
            IndexFilter::Any(v) => Resolved::Any(
                v.iter()
                    .map(|f| f.resolve(b, mailbox))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}

impl Resolved {
    fn admits(&self, uid: u32) -> bool {
        match self {
            Resolved::Needle(c) => c.as_ref().is_none_or(|c| c.admits(uid)),
            Resolved::All(v) => v.iter().all(|r| r.admits(uid)),
            Resolved::Any(v) => v.iter().any(|r| r.admits(uid)),
        }
    }
}

impl Session {
    fn compile(&self, key: &SearchKey<'_>) -> K {
        use SearchKey as S;
        let sel = self.selected();
        let recent_uids = || -> K {
            match sel {
                Some(s) => K::Uids(s.uids.iter().copied().filter(|&u| s.is_recent(u)).collect()),
                None => K::False,
            }
        };
        let set_uids = |set, uid: bool| -> K {
            match sel {
                Some(s) => K::Uids(resolve(s, set, uid).into_iter().map(|(_, u)| u).collect()),
                None => K::False,
            }
        };
        match key {
            S::And(v) => K::And(v.as_ref().iter().map(|k| self.compile(k)).collect()),
            S::SequenceSet(s) => set_uids(s, false),
            S::Uid(s) => set_uids(s, true),
            S::All => K::True,
            S::Answered => K::Flag(Flag::Answered),
            S::Deleted => K::Flag(Flag::Deleted),
            S::Draft => K::Flag(Flag::Draft),
            S::Flagged => K::Flag(Flag::Flagged),
            S::Seen => K::Flag(Flag::Seen),
            S::Unanswered => K::Not(Box::new(K::Flag(Flag::Answered))),
            S::Undeleted => K::Not(Box::new(K::Flag(Flag::Deleted))),
            S::Undraft => K::Not(Box::new(K::Flag(Flag::Draft))),
            S::Unflagged => K::Not(Box::new(K::Flag(Flag::Flagged))),
            S::Unseen => K::Not(Box::new(K::Flag(Flag::Seen))),
            S::Keyword(a) => K::Flag(Flag::Keyword(a.as_ref().to_string())),
            S::Unkeyword(a) => K::Not(Box::new(K::Flag(Flag::Keyword(a.as_ref().to_string())))),
            // RFC 3501 §6.4.4: RECENT, NEW (RECENT UNSEEN) and OLD (NOT RECENT), with the
            // messages that are \Recent to this session (§2.3.2).
            S::Recent => recent_uids(),
            S::New => K::And(vec![recent_uids(), K::Not(Box::new(K::Flag(Flag::Seen)))]),
            S::Old => K::Not(Box::new(recent_uids())),
            S::Larger(n) => K::Larger(u64::from(*n)),
            S::Smaller(n) => K::Smaller(u64::from(*n)),
            S::Before(d) => K::Before(day_of(d.as_ref())),
            S::On(d) => K::On(day_of(d.as_ref())),
            S::Since(d) => K::Since(day_of(d.as_ref())),
            S::SentBefore(d) => K::SentBefore(date_of(d.as_ref())),
            S::SentOn(d) => K::SentOn(date_of(d.as_ref())),
            S::SentSince(d) => K::SentSince(date_of(d.as_ref())),
            S::Bcc(s) => K::Address("Bcc", needle(s)),
            S::Cc(s) => K::Address("Cc", needle(s)),
            S::From(s) => K::Address("From", needle(s)),
            S::To(s) => K::Address("To", needle(s)),
            S::Subject(s) => K::Subject(needle(s)),
            S::Header(f, v) => {
                K::Header(String::from_utf8_lossy(f.as_ref()).into_owned(), needle(v))
            }
            S::Body(s) => K::Body(needle(s)),
            S::Text(s) => K::Text(needle(s)),
            S::Not(k) => K::Not(Box::new(self.compile(k))),
            S::Or(a, b) => K::Or(Box::new(self.compile(a)), Box::new(self.compile(b))),
            S::ModSequence { modseq, .. } => K::ModSeq(*modseq),
            #[allow(unreachable_patterns)]
            _ => K::False,
        }
    }

    /// The messages `criteria` match in the selected mailbox: what SEARCH, SORT and THREAD
    /// share (RFC 5256 §3: SORT and THREAD take SEARCH's criteria). Charsets other than
    /// UTF-8 and US-ASCII are refused with `NO [BADCHARSET]`; `Err` carries the answered
    /// command's action.
    pub(super) fn matching(
        &mut self,
        tag: &Tag<'static>,
        charset: Option<&Charset<'_>>,
        criteria: &[SearchKey<'_>],
    ) -> Result<Hits, Option<Action>> {
        if let Some(cs) = charset {
            let name = match cs {
                Charset::Atom(a) => a.as_ref().to_string(),
                Charset::Quoted(q) => q.as_ref().to_string(),
            };
            // RFC 9051 §6.4.4, RFC 5256 §3: UTF-8 must be supported; US-ASCII is a subset.
            if !name.eq_ignore_ascii_case("UTF-8") && !name.eq_ignore_ascii_case("US-ASCII") {
                self.tagged(
                    tag,
                    "NO",
                    Some("BADCHARSET (UTF-8 US-ASCII)"),
                    "Unsupported charset",
                );
                return Err(None);
            }
        }
        let key = K::And(criteria.iter().map(|k| self.compile(k)).collect());
        if key.uses_modseq() {
            self.enable_condstore();
        }
        let Some(sel) = self.selected() else {
            return Err(self.bad(Some(tag.clone()), None, "No mailbox selected"));
        };
        let name = sel.name.clone();
        let all = sel.uids.clone();
        let Some(b) = self.backend.as_deref_mut() else {
            return Err(None);
        };
        let narrowed = match index_candidates(b, &name, &key, &all) {
            Ok(n) => n,
            Err(e) => {
                self.backend_no(tag, &e);
                return Err(None);
            }
        };
        let mut metas = match b.metas(&name, narrowed.as_deref().unwrap_or(&all)) {
            Ok(m) => m,
            Err(e) => {
                self.backend_no(tag, &e);
                return Err(None);
            }
        };
        let hit_uids = match matching_uids(b, &name, &key, &metas) {
            Ok(h) => h,
            Err(e) => {
                self.backend_no(tag, &e);
                return Err(None);
            }
        };
        metas.retain(|m| hit_uids.binary_search(&m.uid).is_ok());
        metas.sort_by_key(|m| m.uid);
        metas.dedup_by_key(|m| m.uid);
        let seqs: Vec<u32> = metas
            .iter()
            .map(|m| {
                all.binary_search(&m.uid)
                    .map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX))
                    .unwrap_or(0)
            })
            .collect();
        let modseq = key
            .uses_modseq()
            .then(|| metas.iter().map(|m| m.modseq).max())
            .flatten();
        Ok(Hits {
            name,
            metas,
            seqs,
            modseq,
            key: Some(key),
        })
    }

    /// RFC 9051 §6.4.4 SEARCH.
    pub(super) fn search(
        &mut self,
        tag: Tag<'static>,
        charset: Option<Charset<'static>>,
        criteria: Vec1<SearchKey<'static>>,
        uid: bool,
    ) -> Option<Action> {
        let returns = match std::mem::take(&mut self.ext) {
            Extension::SearchReturn(r) => match ReturnOptions::parse(&r) {
                Ok(o) => Some(o),
                Err(e) => return self.bad(Some(tag), None, &e.to_string()),
            },
            _ if self.enabled.imap4rev2 => Some(ReturnOptions::default()),
            _ => None,
        };
        let update = returns.as_ref().is_some_and(|o| o.update);
        if update && self.context_tag_in_use(&tag) {
            // RFC 5267 §4.3: UPDATE with the tag of a live context is refused.
            return self.bad(Some(tag), None, "Tag reuse");
        }
        let mut hits = match self.matching(&tag, charset.as_ref(), criteria.as_ref()) {
            Ok(h) => h,
            Err(action) => return action,
        };
        let nums = hits.numbers(uid);
        // RFC 7162 §3.1.5 (with RFC 4731): MODSEQ is the highest of the messages returned;
        // an ESEARCH without ALL or COUNT returns just its MIN, MAX and PARTIAL messages.
        let modseq = match (hits.modseq, &returns) {
            (Some(_), Some(o)) if !o.count && !o.wants_all() => {
                let window = o.partial.map(|p| p.window(hits.metas.len()));
                let ends = [
                    hits.metas.first().filter(|_| o.min),
                    hits.metas.last().filter(|_| o.max),
                ];
                let part = window
                    .and_then(|w| hits.metas.get(w))
                    .unwrap_or_default()
                    .iter();
                ends.into_iter()
                    .flatten()
                    .chain(part)
                    .map(|m| m.modseq)
                    .max()
            }
            (all, _) => all,
        };
        let out = &mut self.output;
        match &returns {
            Some(opts) => {
                // RFC 4731 §3.1: `* ESEARCH (TAG "t") [UID] MIN x MAX y COUNT n ALL set`.
                let mut line = esearch_line(&tag, uid, opts, &nums, false);
                if let Some(ms) = modseq {
                    line.push_str(&format!(" MODSEQ {ms}"));
                }
                line.push_str("\r\n");
                out.extend_from_slice(line.as_bytes());
            }
            None => {
                let mut line = String::from("* SEARCH");
                for n in &nums {
                    line.push(' ');
                    line.push_str(&n.to_string());
                }
                if let Some(ms) = modseq {
                    line.push_str(&format!(" (MODSEQ {ms})"));
                }
                line.push_str("\r\n");
                out.extend_from_slice(line.as_bytes());
            }
        }
        if update && let Some(key) = hits.key.take() {
            let uids = hits.metas.iter().map(|m| m.uid).collect();
            self.start_search_context(&tag, uid, key, uids);
        }
        self.tagged(&tag, "OK", None, "SEARCH completed");
        None
    }
}

/// The messages of `uids` (ascending, of `mailbox`) the full-text index cannot rule out
/// for `key`, or `None` when it cannot narrow: a message without every trigram of a needle
/// the key needs cannot match (the others are still checked exactly, RFC 9051 §6.4.4
/// substrings). Done before any per-message data is read, so a search for a rare string in
/// a big mailbox reads little.
pub(super) fn index_candidates(
    b: &mut dyn MailboxBackend,
    mailbox: &str,
    key: &K,
    uids: &[u32],
) -> BackendResult<Option<Vec<u32>>> {
    if uids.len() < 2 {
        return Ok(None);
    }
    let Some(filter) = key.index_filter() else {
        return Ok(None);
    };
    let r = filter.resolve(b, mailbox)?;
    Ok(Some(
        uids.iter().copied().filter(|&u| r.admits(u)).collect(),
    ))
}

/// The UIDs among `metas` (messages of `mailbox`) that `key` matches, ascending: on index
/// data where it decides, else on the message content. SEARCH, SORT and THREAD use it
/// (after [`index_candidates`]), and RFC 5267 §4.3 UPDATE contexts re-evaluate the few
/// messages a change touched with it.
pub(super) fn matching_uids(
    b: &mut dyn MailboxBackend,
    mailbox: &str,
    key: &K,
    metas: &[MessageMeta],
) -> BackendResult<Vec<u32>> {
    let mut hit_uids = Vec::new();
    let mut pending = Vec::new();
    for m in metas {
        match key.cheap(m) {
            Some(true) => hit_uids.push(m.uid),
            Some(false) => {}
            None => pending.push(m.uid),
        }
    }
    if !pending.is_empty() {
        let by_uid: HashMap<u32, &MessageMeta> = metas.iter().map(|m| (m.uid, m)).collect();
        let matcher = |uid: u32, raw: &[u8]| -> bool {
            by_uid
                .get(&uid)
                .is_some_and(|m| key.full(m, &Message::parse(raw)))
        };
        hit_uids.extend(b.search_content(mailbox, &pending, &matcher)?);
    }
    hit_uids.sort_unstable();
    hit_uids.dedup();
    Ok(hit_uids)
}

/// The messages a SEARCH, SORT or THREAD matched.
#[derive(Debug, Clone, Default)]
pub(super) struct Hits {
    /// The selected mailbox.
    pub name: String,
    /// The matches' index data in mailbox order.
    pub metas: Vec<MessageMeta>,
    /// Their sequence numbers, in the same order.
    pub seqs: Vec<u32>,
    /// RFC 7162 §3.1.5: the highest MODSEQ of the matches when a MODSEQ key was used.
    pub modseq: Option<u64>,
    /// The compiled criteria (kept by an RFC 5267 UPDATE context).
    pub key: Option<K>,
}

impl Hits {
    /// The UIDs (`uid`) or the sequence numbers of the matches, in mailbox order.
    pub fn numbers(&self, uid: bool) -> Vec<u32> {
        if uid {
            self.metas.iter().map(|m| m.uid).collect()
        } else {
            self.seqs.clone()
        }
    }
}

/// An `ESEARCH` response line without its end: RFC 4731 §3.1 for SEARCH (`nums` ascending),
/// RFC 5267 §3 for SORT (`in_order`: MIN and MAX are the first and last in sort order, ALL
/// lists the numbers in that order), with RFC 5267 §4.4 / RFC 9394 §3.1 PARTIAL (the
/// requested range and the results in it, or NIL).
pub(super) fn esearch_line(
    tag: &Tag<'_>,
    uid: bool,
    opts: &ReturnOptions,
    nums: &[u32],
    in_order: bool,
) -> String {
    let set = |nums: &[u32]| {
        if in_order {
            respond::ordered_set(nums)
        } else {
            respond::set(nums)
        }
    };
    let mut line = format!("* ESEARCH (TAG \"{}\")", tag.as_ref());
    if uid {
        line.push_str(" UID");
    }
    if opts.min
        && let Some(x) = nums.first()
    {
        line.push_str(&format!(" MIN {x}"));
    }
    if opts.max
        && let Some(x) = nums.last()
    {
        line.push_str(&format!(" MAX {x}"));
    }
    if opts.count {
        line.push_str(&format!(" COUNT {}", nums.len()));
    }
    if opts.wants_all() && !nums.is_empty() {
        line.push_str(&format!(" ALL {}", set(nums)));
    }
    if let Some(p) = opts.partial {
        let part = nums.get(p.window(nums.len())).unwrap_or_default();
        let shown = if part.is_empty() {
            "NIL".to_string()
        } else {
            set(part)
        };
        line.push_str(&format!(" PARTIAL ({p} {shown})"));
    }
    line
}
