//! RFC 5267 §4.3 UPDATE contexts (CONTEXT=SEARCH, CONTEXT=SORT): a `SEARCH`, `UID SEARCH`,
//! `SORT` or `UID SORT` with `RETURN (UPDATE ...)` leaves a context that follows the
//! selected mailbox; when a message starts or stops matching (it arrives, is expunged, or
//! its flags change, by this session or another) the client gets
//! `* ESEARCH (TAG "t") [UID] REMOVEFROM (pos set) ADDTO (pos set)`.
//!
//! Cost is bounded by what changed: a context keeps its compiled criteria and its result
//! (UIDs in mailbox order for SEARCH; for SORT each message's sort keys in sort order, so a
//! newcomer is placed without re-sorting), and only the changed or new messages are
//! evaluated again, on index data first and on content only when the criteria need it.
//! Contexts end with CANCELUPDATE (§4.3.5) or when the mailbox is left (§4.3); a session
//! holds at most [`MAX_UPDATE_CONTEXTS`] (§4.3.1: `NO [NOUPDATE "tag"]` past it).

use super::respond;
use super::search::{K, matching_uids};
use super::sort::{EnvKeys, compare_messages, envelope_keys, needs_envelope};
use super::{Action, Session, State};
use crate::backend::MessageMeta;
use imap_codec::imap_types::core::Tag;
use imap_codec::imap_types::extensions::sort::{SortCriterion, SortKey};
use std::collections::HashSet;

/// RFC 5267 §4.3.1, §6: the live UPDATE contexts one session may hold (each holds its
/// criteria and its result; a sorted one the sort keys of every match).
pub(super) const MAX_UPDATE_CONTEXTS: usize = 10;

/// A message of a sorted context: what its place in the order depends on (flags cleared,
/// and only the keys the criteria use).
#[derive(Debug, Clone)]
pub(super) struct SortEntry {
    meta: MessageMeta,
    keys: EnvKeys,
}

impl SortEntry {
    fn new(criteria: &[SortCriterion], meta: MessageMeta, keys: EnvKeys) -> SortEntry {
        let uses = |k: SortKey| criteria.iter().any(|c| c.key == k);
        let keys = EnvKeys {
            subject: if uses(SortKey::Subject) {
                keys.subject
            } else {
                Default::default()
            },
            date: keys.date.filter(|_| uses(SortKey::Date)),
            from: if uses(SortKey::From) {
                keys.from
            } else {
                Vec::new()
            },
            to: if uses(SortKey::To) {
                keys.to
            } else {
                Vec::new()
            },
            cc: if uses(SortKey::Cc) {
                keys.cc
            } else {
                Vec::new()
            },
            display_from: if uses(SortKey::DisplayFrom) {
                keys.display_from
            } else {
                Vec::new()
            },
            display_to: if uses(SortKey::DisplayTo) {
                keys.display_to
            } else {
                Vec::new()
            },
            message_id: None,
            in_reply_to: None,
        };
        SortEntry {
            meta: MessageMeta {
                flags: Vec::new(),
                ..meta
            },
            keys,
        }
    }

    fn uid(&self) -> u32 {
        self.meta.uid
    }
}

/// A context's current result.
#[derive(Debug, Clone)]
enum Results {
    /// SEARCH: the matching UIDs, ascending (RFC 5267 §4.1: SEARCH results are in mailbox
    /// order). Updates use context position 0 (§4.3.3: allowed for SEARCH).
    Mailbox(Vec<u32>),
    /// SORT: the matches in the requested order.
    Sorted {
        criteria: Vec<SortCriterion>,
        entries: Vec<SortEntry>,
        /// The UIDs of `entries`, ascending (membership without a scan of `entries`).
        members: Vec<u32>,
    },
}

/// One live UPDATE context.
#[derive(Debug, Clone)]
pub(super) struct UpdateContext {
    /// The tag of the searching command (the ESEARCH correlator).
    tag: String,
    /// Updates carry UIDs (UID SEARCH / UID SORT), else sequence numbers (§4.3.2).
    uid: bool,
    key: K,
    results: Results,
}

/// The live contexts of a session.
#[derive(Debug, Default)]
pub(super) struct Contexts(Vec<UpdateContext>);

/// Runs of results removed from or added to a context: (context position, UIDs in the
/// requested order). Position 0 for SEARCH contexts.
type Runs = Vec<(usize, Vec<u32>)>;

/// SEARCH context: `touched` (ascending) were evaluated again and `matched` (ascending)
/// are those that match now. Updates `results`; returns the UIDs removed and added, each
/// ascending.
fn update_mailbox_order(
    results: &mut Vec<u32>,
    touched: &[u32],
    matched: &[u32],
) -> (Vec<u32>, Vec<u32>) {
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for &t in touched {
        let was = results.binary_search(&t).is_ok();
        let is = matched.binary_search(&t).is_ok();
        if was && !is {
            removed.push(t);
        } else if is && !was {
            added.push(t);
        }
    }
    if !removed.is_empty() {
        results.retain(|u| removed.binary_search(u).is_err());
    }
    if !added.is_empty() {
        results.extend_from_slice(&added);
        results.sort_unstable();
        results.dedup();
    }
    (removed, added)
}

/// Takes `gone` out of a sorted context; returns the runs removed, the last first, so each
/// position is still right when the client reaches it (RFC 5267 §4.3.4: the first UID of
/// a run is at the position given, the others follow it).
fn remove_sorted(entries: &mut Vec<SortEntry>, gone: &HashSet<u32>) -> Runs {
    if gone.is_empty() {
        return Vec::new();
    }
    let mut runs: Runs = Vec::new();
    let mut last_index = None;
    for (i, e) in entries.iter().enumerate() {
        if !gone.contains(&e.uid()) {
            continue;
        }
        match runs.last_mut() {
            Some((_, uids)) if last_index == Some(i.wrapping_sub(1)) => uids.push(e.uid()),
            _ => runs.push((i + 1, vec![e.uid()])),
        }
        last_index = Some(i);
    }
    entries.retain(|e| !gone.contains(&e.uid()));
    runs.reverse();
    runs
}

/// Places `new` (not in the context yet) in a sorted context; returns the runs added, in
/// order of position, each at the position its first UID ends up at (RFC 5267 §4.3.3), so
/// that inserting them in turn gives the new order.
fn insert_sorted(
    entries: &mut Vec<SortEntry>,
    mut new: Vec<SortEntry>,
    criteria: &[SortCriterion],
) -> Runs {
    if new.is_empty() {
        return Vec::new();
    }
    let cmp = |a: &SortEntry, b: &SortEntry| {
        compare_messages(criteria, (&a.meta, &a.keys), (&b.meta, &b.keys))
    };
    new.sort_by(cmp);
    let old = std::mem::take(entries);
    let mut merged = Vec::with_capacity(old.len() + new.len());
    let mut runs: Runs = Vec::new();
    let mut old_it = old.into_iter().peekable();
    for n in new {
        while let Some(o) = old_it.next_if(|o| cmp(o, &n).is_lt()) {
            merged.push(o);
        }
        let pos = merged.len() + 1;
        match runs.last_mut() {
            Some((start, uids)) if *start + uids.len() == pos => uids.push(n.uid()),
            _ => runs.push((pos, vec![n.uid()])),
        }
        merged.push(n);
    }
    merged.extend(old_it);
    *entries = merged;
    runs
}

/// The `* ESEARCH` line of an update (REMOVEFROM before ADDTO: the client applies them in
/// order, RFC 5267 §4.3.2), numbers already in the client's terms; `None` when there is
/// nothing to say. `in_order` keeps each run's order (SORT), else sets are compressed in
/// mailbox order (SEARCH, §4.3.3: "servers are RECOMMENDED to order the result update
/// into mailbox order").
fn update_line(
    tag: &str,
    uid: bool,
    removed: &[(usize, Vec<u32>)],
    added: &[(usize, Vec<u32>)],
    in_order: bool,
) -> Option<String> {
    let removed: Vec<_> = removed.iter().filter(|(_, v)| !v.is_empty()).collect();
    let added: Vec<_> = added.iter().filter(|(_, v)| !v.is_empty()).collect();
    if removed.is_empty() && added.is_empty() {
        return None;
    }
    let pairs = |runs: &[&(usize, Vec<u32>)]| -> String {
        runs.iter()
            .map(|(pos, nums)| {
                let set = if in_order {
                    respond::ordered_set(nums)
                } else {
                    respond::set(nums)
                };
                format!("{pos} {set}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut line = format!("* ESEARCH (TAG \"{tag}\")");
    if uid {
        line.push_str(" UID");
    }
    if !removed.is_empty() {
        line.push_str(&format!(" REMOVEFROM ({})", pairs(&removed)));
    }
    if !added.is_empty() {
        line.push_str(&format!(" ADDTO ({})", pairs(&added)));
    }
    line.push_str("\r\n");
    Some(line)
}

/// The UIDs of `entries`, ascending.
fn sorted_uids(entries: &[SortEntry]) -> Vec<u32> {
    let mut v: Vec<u32> = entries.iter().map(SortEntry::uid).collect();
    v.sort_unstable();
    v
}

/// Runs of UIDs in the client's numbers (sequence numbers from `seq_map` unless `uid`);
/// UIDs the client does not hold are left out.
fn client_numbers(runs: Runs, uid: bool, seq_map: &[u32]) -> Runs {
    if uid {
        return runs;
    }
    runs.into_iter()
        .map(|(pos, uids)| {
            let nums = uids
                .iter()
                .filter_map(|u| {
                    let i = seq_map.binary_search(u).ok()?;
                    u32::try_from(i + 1).ok()
                })
                .collect();
            (pos, nums)
        })
        .collect()
}

impl Session {
    /// RFC 5267 §4.3: the tag names a live context already.
    pub(super) fn context_tag_in_use(&self, tag: &Tag<'_>) -> bool {
        self.contexts.0.iter().any(|c| c.tag == tag.as_ref())
    }

    /// Keeps a SEARCH context whose result is `uids` (ascending).
    pub(super) fn start_search_context(
        &mut self,
        tag: &Tag<'_>,
        uid: bool,
        key: K,
        uids: Vec<u32>,
    ) {
        self.add_context(UpdateContext {
            tag: tag.as_ref().to_string(),
            uid,
            key,
            results: Results::Mailbox(uids),
        });
    }

    /// Keeps a SORT context: `metas` (mailbox order) with their `keys` (same order, or
    /// empty when the criteria need none), `order` their indexes in sort order.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_sort_context(
        &mut self,
        tag: &Tag<'_>,
        uid: bool,
        key: K,
        criteria: Vec<SortCriterion>,
        metas: Vec<MessageMeta>,
        keys: Vec<EnvKeys>,
        order: &[usize],
    ) {
        if self.contexts.0.len() >= MAX_UPDATE_CONTEXTS {
            self.refuse_update(tag.as_ref());
            return;
        }
        let entries: Vec<SortEntry> = order
            .iter()
            .filter_map(|&i| {
                let meta = metas.get(i)?.clone();
                let k = keys.get(i).cloned().unwrap_or_default();
                Some(SortEntry::new(&criteria, meta, k))
            })
            .collect();
        self.add_context(UpdateContext {
            tag: tag.as_ref().to_string(),
            uid,
            key,
            results: Results::Sorted {
                criteria,
                members: sorted_uids(&entries),
                entries,
            },
        });
    }

    fn add_context(&mut self, ctx: UpdateContext) {
        if self.contexts.0.len() >= MAX_UPDATE_CONTEXTS {
            self.refuse_update(&ctx.tag);
            return;
        }
        self.contexts.0.push(ctx);
    }

    /// RFC 5267 §4.3.1: an untagged `NO [NOUPDATE "tag"]`; the other return options were
    /// still answered.
    fn refuse_update(&mut self, tag: &str) {
        let line = format!("* NO [NOUPDATE \"{tag}\"] Too many contexts\r\n");
        self.output.extend_from_slice(line.as_bytes());
    }

    /// RFC 5267 §4.3: contexts end when the mailbox is no longer selected.
    pub(super) fn end_contexts(&mut self) {
        self.contexts.0.clear();
    }

    /// RFC 5267 §4.3.5 CANCELUPDATE (selected state): no more updates for the contexts of
    /// the tags named. A tag without a context is not an error (it may have been refused
    /// with NOUPDATE, or already cancelled).
    pub(super) fn cancel_update(&mut self, tag_bytes: &[u8], tags: &[String]) -> Option<Action> {
        let tag = crate::wire::encode::tag(tag_bytes);
        if self.user.is_none() {
            return self.bad(tag, None, "CANCELUPDATE not allowed now: log in first");
        }
        if !matches!(self.state, State::Selected(_)) {
            return self.bad(
                tag,
                None,
                "CANCELUPDATE not allowed now: select a mailbox first",
            );
        }
        let Some(tag) = tag else {
            return self.bad(None, None, "Invalid tag");
        };
        self.contexts.0.retain(|c| !tags.contains(&c.tag));
        self.tagged(&tag, "OK", None, "CANCELUPDATE completed");
        None
    }

    /// Messages that arrived or whose flags changed (`metas` with their new flags; the new
    /// ones already in the sequence map, RFC 5267 §4.3.3: ADDTO after EXISTS): every
    /// context evaluates them again and reports what entered or left its result.
    pub(super) fn contexts_touched(&mut self, metas: &[MessageMeta]) {
        if self.contexts.0.is_empty() || metas.is_empty() {
            return;
        }
        let Some(sel) = self.selected() else {
            return;
        };
        let (name, seq_map) = (sel.name.clone(), sel.uids.clone());
        let mut touched: Vec<MessageMeta> = metas
            .iter()
            .filter(|m| seq_map.binary_search(&m.uid).is_ok())
            .cloned()
            .collect();
        // The later of two reports of one message is the newer.
        touched.reverse();
        touched.sort_by_key(|m| m.uid);
        touched.dedup_by_key(|m| m.uid);
        if touched.is_empty() {
            return;
        }
        let touched_uids: Vec<u32> = touched.iter().map(|m| m.uid).collect();
        let Some(b) = self.backend.as_deref_mut() else {
            return;
        };
        let mut out = Vec::new();
        for ctx in &mut self.contexts.0 {
            // A failed evaluation leaves the context as it was; the next change retries.
            let Ok(matched) = matching_uids(b, &name, &ctx.key, &touched) else {
                continue;
            };
            let (removed, added, in_order) = match &mut ctx.results {
                Results::Mailbox(results) => {
                    let (removed, added) = update_mailbox_order(results, &touched_uids, &matched);
                    (vec![(0, removed)], vec![(0, added)], false)
                }
                Results::Sorted {
                    criteria,
                    entries,
                    members,
                } => {
                    let present = |u: &u32| members.binary_search(u).is_ok();
                    let gone: HashSet<u32> = touched_uids
                        .iter()
                        .copied()
                        .filter(|u| present(u) && matched.binary_search(u).is_err())
                        .collect();
                    let fresh: Vec<MessageMeta> = touched
                        .iter()
                        .filter(|m| !present(&m.uid) && matched.binary_search(&m.uid).is_ok())
                        .cloned()
                        .collect();
                    let removed = remove_sorted(entries, &gone);
                    let keys = if needs_envelope(criteria) && !fresh.is_empty() {
                        envelope_keys(b, &name, &fresh).unwrap_or_default()
                    } else {
                        Vec::new()
                    };
                    let new_entries = fresh
                        .into_iter()
                        .enumerate()
                        .map(|(i, m)| {
                            let k = keys.get(i).cloned().unwrap_or_default();
                            SortEntry::new(criteria, m, k)
                        })
                        .collect();
                    let added = insert_sorted(entries, new_entries, criteria);
                    if !removed.is_empty() || !added.is_empty() {
                        *members = sorted_uids(entries);
                    }
                    (removed, added, true)
                }
            };
            let removed = client_numbers(removed, ctx.uid, &seq_map);
            let added = client_numbers(added, ctx.uid, &seq_map);
            if let Some(line) = update_line(&ctx.tag, ctx.uid, &removed, &added, in_order) {
                out.extend_from_slice(line.as_bytes());
            }
        }
        self.output.extend_from_slice(&out);
    }

    /// Messages about to be reported expunged (`uids` ascending): RFC 5267 §4.3.4, the
    /// REMOVEFROM goes before the EXPUNGE, while the sequence numbers still hold.
    pub(super) fn contexts_expunged(&mut self, uids: &[u32]) {
        if self.contexts.0.is_empty() || uids.is_empty() {
            return;
        }
        let Some(sel) = self.selected() else {
            return;
        };
        let seq_map = sel.uids.clone();
        let mut out = Vec::new();
        for ctx in &mut self.contexts.0 {
            let (removed, in_order) = match &mut ctx.results {
                Results::Mailbox(results) => {
                    let removed: Vec<u32> = uids
                        .iter()
                        .copied()
                        .filter(|u| results.binary_search(u).is_ok())
                        .collect();
                    if !removed.is_empty() {
                        results.retain(|u| removed.binary_search(u).is_err());
                    }
                    (vec![(0, removed)], false)
                }
                Results::Sorted {
                    entries, members, ..
                } => {
                    let gone: HashSet<u32> = uids
                        .iter()
                        .copied()
                        .filter(|u| members.binary_search(u).is_ok())
                        .collect();
                    let removed = remove_sorted(entries, &gone);
                    if !removed.is_empty() {
                        members.retain(|u| !gone.contains(u));
                    }
                    (removed, true)
                }
            };
            let removed = client_numbers(removed, ctx.uid, &seq_map);
            if let Some(line) = update_line(&ctx.tag, ctx.uid, &removed, &[], in_order) {
                out.extend_from_slice(line.as_bytes());
            }
        }
        self.output.extend_from_slice(&out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::imap_types::extensions::sort::SortCriterion;

    fn entry(uid: u32, size: u64) -> SortEntry {
        SortEntry {
            meta: MessageMeta {
                uid,
                flags: Vec::new(),
                modseq: 1,
                internal_date: 0,
                internal_date_offset_minutes: 0,
                size,
            },
            keys: EnvKeys::default(),
        }
    }

    fn by_size(reverse: bool) -> Vec<SortCriterion> {
        vec![SortCriterion {
            reverse,
            key: SortKey::Size,
        }]
    }

    fn uids(entries: &[SortEntry]) -> Vec<u32> {
        entries.iter().map(SortEntry::uid).collect()
    }

    /// Applies runs as a client does (RFC 5267 §4.3.3 / §4.3.4), in order.
    fn client_apply(list: &mut Vec<u32>, removed: &Runs, added: &Runs) {
        for (pos, run) in removed {
            let at = pos - 1;
            assert_eq!(list.get(at..at + run.len()), Some(run.as_slice()));
            list.drain(at..at + run.len());
        }
        for (pos, run) in added {
            let at = pos - 1;
            for (i, u) in run.iter().enumerate() {
                list.insert(at + i, *u);
            }
        }
    }

    #[test]
    fn search_context_adds_and_removes_what_changed() {
        let mut results = vec![2, 5, 9];
        let (removed, added) = update_mailbox_order(&mut results, &[1, 5, 7, 9], &[1, 7, 9]);
        assert_eq!(removed, [5]);
        assert_eq!(added, [1, 7]);
        assert_eq!(results, [1, 2, 7, 9]);
        // Evaluating again changes nothing (own STORE, then the poll that sees it).
        let (removed, added) = update_mailbox_order(&mut results, &[1, 5, 7, 9], &[1, 7, 9]);
        assert!(removed.is_empty() && added.is_empty());
    }

    #[test]
    fn sort_context_positions_follow_the_order() {
        let criteria = by_size(false);
        // Sizes 10, 20, 30, 40 for UIDs 1..4; in order 1 2 3 4.
        let mut entries: Vec<SortEntry> = (1..=4).map(|u| entry(u, u64::from(u) * 10)).collect();
        let mut client = uids(&entries);
        // UID 5 (size 25) goes third, 6 (size 5) first, 7 (size 26) fourth.
        let added = insert_sorted(
            &mut entries,
            vec![entry(5, 25), entry(6, 5), entry(7, 26)],
            &criteria,
        );
        assert_eq!(added, vec![(1, vec![6]), (4, vec![5, 7])]);
        client_apply(&mut client, &Vec::new(), &added);
        assert_eq!(client, uids(&entries));
        assert_eq!(client, [6, 1, 2, 5, 7, 3, 4]);
        let gone: HashSet<u32> = [6, 5, 7, 4].into_iter().collect();
        let removed = remove_sorted(&mut entries, &gone);
        assert_eq!(removed, vec![(7, vec![4]), (4, vec![5, 7]), (1, vec![6])]);
        client_apply(&mut client, &removed, &Vec::new());
        assert_eq!(client, uids(&entries));
        assert_eq!(client, [1, 2, 3]);
    }

    #[test]
    fn sort_context_ties_keep_mailbox_order() {
        let criteria = by_size(true);
        let mut entries = vec![entry(1, 10), entry(3, 10)];
        let added = insert_sorted(&mut entries, vec![entry(2, 10), entry(4, 50)], &criteria);
        assert_eq!(uids(&entries), [4, 1, 2, 3]);
        assert_eq!(added, vec![(1, vec![4]), (3, vec![2])]);
    }

    #[test]
    fn update_lines_as_the_client_reads_them() {
        assert_eq!(
            update_line("A1", false, &[(0, vec![])], &[(0, vec![4, 1, 2])], false).as_deref(),
            Some("* ESEARCH (TAG \"A1\") ADDTO (0 1:2,4)\r\n")
        );
        assert_eq!(
            update_line(
                "A2",
                true,
                &[(3, vec![9, 7]), (1, vec![5])],
                &[(2, vec![8, 6])],
                true
            )
            .as_deref(),
            Some("* ESEARCH (TAG \"A2\") UID REMOVEFROM (3 9,7 1 5) ADDTO (2 8,6)\r\n")
        );
        assert_eq!(update_line("A3", true, &[(0, vec![])], &[], false), None);
        let seq = client_numbers(vec![(2, vec![30, 10, 99])], false, &[10, 20, 30]);
        assert_eq!(seq, vec![(2, vec![3, 1])]);
    }
}
