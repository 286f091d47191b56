//! Commands of the selected state that change messages (RFC 9051 §6.4): CHECK, CLOSE,
//! UNSELECT (RFC 3691), EXPUNGE, UID EXPUNGE (RFC 4315), STORE (RFC 7162 UNCHANGEDSINCE),
//! COPY, MOVE (RFC 6851), with COPYUID (RFC 4315 §3); and sequence-set resolution
//! (RFC 9051 §2.3.1: message sequence numbers and UIDs).

use super::mailboxes::{fix_trycreate, flag_from_imap};
use super::respond;
use super::{Action, SelectedMailbox, Session, State};
use crate::backend::{Flag, StoreMode, StoreRequest};
use imap_codec::imap_types::command::StoreModifier;
use imap_codec::imap_types::core::Tag;
use imap_codec::imap_types::flag::{Flag as ImapFlag, StoreResponse, StoreType};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

/// RFC 9051 §2.3.1.2 (RFC 3501 §9 `seq-number`): a message sequence number names an
/// existing message; one above the number of messages the client was told of is invalid,
/// and FETCH, STORE, COPY and MOVE answer it with BAD (as Dovecot does) rather than act on
/// some other message. `*` is always valid. UID sets are never invalid this way.
pub fn names_missing_message(sel: &SelectedMailbox, set: &SequenceSet, uid: bool) -> bool {
    if uid {
        return false;
    }
    let n = sel.uids.len();
    let beyond = |v: &SeqOrUid| matches!(v, SeqOrUid::Value(x) if x.get() as usize > n);
    set.0.as_ref().iter().any(|s| match s {
        Sequence::Single(v) => beyond(v),
        Sequence::Range(x, y) => beyond(x) || beyond(y),
    })
}

/// The (sequence number, UID) pairs a set names, ascending, duplicates removed. With `uid`
/// the set holds UIDs (RFC 9051 §6.4.9: UIDs not in the mailbox are ignored, `*` is the
/// highest UID); otherwise sequence numbers (numbers beyond the last name nothing: see
/// [`names_missing_message`]).
pub fn resolve(sel: &SelectedMailbox, set: &SequenceSet, uid: bool) -> Vec<(u32, u32)> {
    let n = sel.uids.len();
    let mut positions: Vec<usize> = Vec::new();
    let last_uid = sel.uids.last().copied().unwrap_or(0);
    let value = |v: &SeqOrUid, star: u32| -> u32 {
        match v {
            SeqOrUid::Value(x) => x.get(),
            SeqOrUid::Asterisk => star,
        }
    };
    for s in set.0.as_ref() {
        let (a, b) = match s {
            Sequence::Single(v) => {
                let x = value(v, if uid { last_uid } else { n as u32 });
                (x, x)
            }
            Sequence::Range(x, y) => {
                let star = if uid { last_uid } else { n as u32 };
                let (x, y) = (value(x, star), value(y, star));
                (x.min(y), x.max(y))
            }
        };
        if uid {
            // RFC 9051 §6.4.9: "a UID range of 559:* always includes the UID of the last
            // message in the mailbox, even if 559 is higher than any assigned UID".
            let (a, b) = if matches!(s, Sequence::Range(_, _)) && a > last_uid && last_uid > 0 {
                let star_in = match s {
                    Sequence::Range(x, y) => {
                        matches!(x, SeqOrUid::Asterisk) || matches!(y, SeqOrUid::Asterisk)
                    }
                    Sequence::Single(_) => false,
                };
                if star_in {
                    (last_uid, last_uid)
                } else {
                    (a, b)
                }
            } else {
                (a, b)
            };
            let start = sel.uids.partition_point(|&u| u < a);
            let end = sel.uids.partition_point(|&u| u <= b);
            positions.extend(start..end);
        } else {
            if a == 0 || a as usize > n {
                continue;
            }
            let b = (b as usize).min(n);
            positions.extend(a as usize - 1..b);
        }
    }
    positions.sort_unstable();
    positions.dedup();
    positions
        .into_iter()
        .filter_map(|p| Some((u32::try_from(p + 1).ok()?, *sel.uids.get(p)?)))
        .collect()
}

impl Session {
    pub(super) fn selected_mut(&mut self) -> Option<&mut SelectedMailbox> {
        match &mut self.state {
            State::Selected(s) => Some(s),
            _ => None,
        }
    }

    pub(super) fn selected(&self) -> Option<&SelectedMailbox> {
        match &self.state {
            State::Selected(s) => Some(s),
            _ => None,
        }
    }

    /// Removes expunged UIDs from the sequence map, sending `* n EXPUNGE` for each
    /// (RFC 9051 §7.4.1: each EXPUNGE renumbers the later messages), or, once QRESYNC is
    /// enabled, one `* VANISHED uid-set` (RFC 7162 §3.2.10; the numbers shift alike).
    /// UIDs the session does not hold are left out.
    pub(super) fn report_expunged(&mut self, mut uids: Vec<u32>) {
        uids.sort_unstable();
        uids.dedup();
        // RFC 5267 §4.3.4: REMOVEFROM before the EXPUNGE, while its numbers still hold.
        self.contexts_expunged(&uids);
        let qresync = self.enabled.qresync;
        let Some(sel) = self.selected_mut() else {
            return;
        };
        uids.retain(|u| sel.uids.binary_search(u).is_ok());
        if uids.is_empty() {
            return;
        }
        let mut out = Vec::new();
        if qresync {
            std::sync::Arc::make_mut(&mut sel.uids).retain(|u| uids.binary_search(u).is_err());
            super::qresync::write_vanished(&mut out, &uids, false);
        } else {
            // Sequence numbers are sent highest first so each stays valid as sent.
            for uid in uids.iter().rev() {
                if let Ok(pos) = sel.uids.binary_search(uid) {
                    std::sync::Arc::make_mut(&mut sel.uids).remove(pos);
                    out.extend_from_slice(format!("* {} EXPUNGE\r\n", pos + 1).as_bytes());
                }
            }
        }
        self.output.extend_from_slice(&out);
    }

    /// `HIGHESTMODSEQ n` for the tagged OK, after reporting every change up to `n` (the
    /// client may resynchronize from `n` later, so nothing below it may stay unreported).
    fn highest_modseq_code(&mut self) -> Option<String> {
        self.poll_changes();
        let sel = self.selected()?;
        Some(format!("HIGHESTMODSEQ {}", sel.highest_modseq.max(1)))
    }

    /// RFC 9051 §6.4.1 CLOSE (expunges silently unless read-only) and RFC 3691 UNSELECT.
    pub(super) fn close_mailbox(&mut self, tag: Tag<'static>, expunge: bool) -> Option<Action> {
        let Some(sel) = self.selected().cloned() else {
            return self.bad(Some(tag), None, "No mailbox selected");
        };
        if expunge
            && !sel.read_only
            && let Some(b) = self.backend.as_deref_mut()
            && let Err(e) = b.expunge(&sel.name, None)
        {
            self.state = State::Authenticated;
            self.backend_no(&tag, &e);
            return None;
        }
        self.state = State::Authenticated;
        let verb = if expunge { "CLOSE" } else { "UNSELECT" };
        self.tagged(&tag, "OK", None, &format!("{verb} completed"));
        None
    }

    /// RFC 9051 §6.4.3 EXPUNGE and RFC 4315 §2.1 UID EXPUNGE.
    pub(super) fn expunge(
        &mut self,
        tag: Tag<'static>,
        only: Option<SequenceSet>,
    ) -> Option<Action> {
        let Some(sel) = self.selected().cloned() else {
            return self.bad(Some(tag), None, "No mailbox selected");
        };
        if sel.read_only {
            self.tagged(&tag, "NO", Some("READ-ONLY"), "Mailbox is read-only");
            return None;
        }
        let uids: Option<Vec<u32>> = only.map(|s| {
            resolve(&sel, &s, true)
                .into_iter()
                .map(|(_, u)| u)
                .collect()
        });
        let b = self.backend.as_deref_mut()?;
        match b.expunge(&sel.name, uids.as_deref()) {
            Ok(gone) => {
                // RFC 7162 §3.2.7 / §3.2.9: under QRESYNC, an EXPUNGE or UID EXPUNGE that
                // removed messages ends with `OK [HIGHESTMODSEQ n]`.
                let announce = self.enabled.qresync && !gone.is_empty();
                self.report_expunged(gone);
                let code = if announce {
                    self.highest_modseq_code()
                } else {
                    None
                };
                self.tagged(&tag, "OK", code.as_deref(), "EXPUNGE completed");
            }
            Err(e) => self.backend_no(&tag, &e),
        }
        None
    }

    /// RFC 9051 §6.4.6 STORE / UID STORE, with RFC 7162 §3.1.3 UNCHANGEDSINCE.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn store(
        &mut self,
        tag: Tag<'static>,
        set: SequenceSet,
        kind: StoreType,
        response: StoreResponse,
        flags: Vec<ImapFlag<'static>>,
        uid: bool,
        modifiers: Vec<StoreModifier>,
    ) -> Option<Action> {
        let Some(sel) = self.selected().cloned() else {
            return self.bad(Some(tag), None, "No mailbox selected");
        };
        if sel.read_only {
            self.tagged(&tag, "NO", Some("READ-ONLY"), "Mailbox is read-only");
            return None;
        }
        let mut unchanged_since = None;
        for m in &modifiers {
            let StoreModifier::UnchangedSince(v) = m;
            unchanged_since = Some(*v);
            // RFC 7162 §3.1: UNCHANGEDSINCE is a CONDSTORE enabling command.
            self.enable_condstore();
        }
        let mut ours: Vec<Flag> = Vec::new();
        for f in &flags {
            match flag_from_imap(f) {
                Some(f) => ours.push(f),
                None => {
                    return self.bad(Some(tag), None, "Invalid flag in STORE");
                }
            }
        }
        if names_missing_message(&sel, &set, uid) {
            return self.bad(Some(tag), None, "Invalid message sequence number");
        }
        let pairs = resolve(&sel, &set, uid);
        let uids: Vec<u32> = pairs.iter().map(|&(_, u)| u).collect();
        let req = StoreRequest {
            uids: uids.clone(),
            mode: match kind {
                StoreType::Replace => StoreMode::Replace,
                StoreType::Add => StoreMode::Add,
                StoreType::Remove => StoreMode::Remove,
            },
            flags: ours,
            unchanged_since,
        };
        let b = self.backend.as_deref_mut()?;
        let outcome = match b.store(&sel.name, &req) {
            Ok(o) => o,
            Err(e) => {
                self.backend_no(&tag, &e);
                return None;
            }
        };
        self.own_changes
            .extend(outcome.changed.iter().map(|m| (m.uid, m.modseq)));
        let silent = response == StoreResponse::Silent;
        let condstore = self.enabled.condstore;
        // RFC 9051 §6.4.6: without .SILENT, the new flags of each message; RFC 7162
        // §3.1.3: with MODSEQ when CONDSTORE is on (even with .SILENT for changed ones).
        let metas = if silent && !condstore {
            Vec::new()
        } else if silent {
            outcome.changed.clone()
        } else {
            let modified: std::collections::HashSet<u32> =
                outcome.modified.iter().copied().collect();
            let want: Vec<u32> = uids
                .iter()
                .copied()
                .filter(|u| !modified.contains(u))
                .collect();
            b.metas(&sel.name, &want).unwrap_or_default()
        };
        respond::announce_keywords(
            &mut self.output,
            &mut self.keywords_announced,
            sel.read_only,
            metas
                .iter()
                .flat_map(|m| m.flags.iter())
                .chain(req.flags.iter().filter(|_| req.mode != StoreMode::Remove)),
        );
        for m in metas {
            let Ok(pos) = sel.uids.binary_search(&m.uid) else {
                continue;
            };
            let recent = !self.enabled.imap4rev2 && sel.is_recent(m.uid);
            let mut items =
                vec![format!("FLAGS {}", respond::flags_shown(&m.flags, recent)).into_bytes()];
            // RFC 7162 §3.2.4: under CONDSTORE, STORE's FETCH responses carry the UID.
            if uid || condstore {
                items.push(format!("UID {}", m.uid).into_bytes());
            }
            if condstore {
                items.push(format!("MODSEQ ({})", m.modseq).into_bytes());
            }
            respond::fetch_line(&mut self.output, (pos + 1) as u32, &items);
        }
        // RFC 5267 §4.3.2: context updates follow the FETCH of the change.
        self.contexts_touched(&outcome.changed);
        if outcome.modified.is_empty() {
            self.tagged(&tag, "OK", None, "STORE completed");
        } else {
            // RFC 7162 §3.1.3: [MODIFIED set] with UIDs for UID STORE, else numbers.
            let nums: Vec<u32> = if uid {
                outcome.modified.clone()
            } else {
                pairs
                    .iter()
                    .filter(|(_, u)| outcome.modified.contains(u))
                    .map(|&(s, _)| s)
                    .collect()
            };
            self.tagged(
                &tag,
                "OK",
                Some(&format!("MODIFIED {}", respond::set(&nums))),
                "Conditional STORE failed",
            );
        }
        None
    }

    /// RFC 9051 §6.4.7 COPY and RFC 6851 MOVE (their UID forms, §6.4.9), answering with
    /// RFC 4315 COPYUID.
    pub(super) fn copy_or_move(
        &mut self,
        tag: Tag<'static>,
        set: SequenceSet,
        mailbox: Mailbox<'static>,
        uid: bool,
        is_move: bool,
    ) -> Option<Action> {
        let Some(sel) = self.selected().cloned() else {
            return self.bad(Some(tag), None, "No mailbox selected");
        };
        if is_move && sel.read_only {
            self.tagged(&tag, "NO", Some("READ-ONLY"), "Mailbox is read-only");
            return None;
        }
        if names_missing_message(&sel, &set, uid) {
            return self.bad(Some(tag), None, "Invalid message sequence number");
        }
        let dest = self.name_arg(&tag, &mailbox)?;
        let uids: Vec<u32> = resolve(&sel, &set, uid)
            .into_iter()
            .map(|(_, u)| u)
            .collect();
        let verb = if is_move { "MOVE" } else { "COPY" };
        if uids.is_empty() {
            self.tagged(&tag, "OK", None, &format!("{verb} completed"));
            return None;
        }
        let b = self.backend.as_deref_mut()?;
        let res = if is_move {
            b.move_messages(&sel.name, &uids, &dest)
        } else {
            b.copy(&sel.name, &uids, &dest)
        };
        let res = match res {
            Ok(r) => r,
            Err(e) => {
                self.backend_no(&tag, &e);
                fix_trycreate(&mut self.output, &tag);
                return None;
            }
        };
        let src: Vec<u32> = res.mapping.iter().map(|&(s, _)| s).collect();
        let dst: Vec<u32> = res.mapping.iter().map(|&(_, d)| d).collect();
        let code = (!src.is_empty()).then(|| {
            format!(
                "COPYUID {} {} {}",
                res.uid_validity,
                respond::ordered_set(&src),
                respond::ordered_set(&dst)
            )
        });
        if is_move {
            // RFC 6851 §4.3: COPYUID in an untagged OK before the EXPUNGEs.
            if let Some(c) = &code {
                respond::untagged_ok(&mut self.output, c, "Moved UIDs.");
            }
            self.report_expunged(src);
            self.tagged(&tag, "OK", None, "MOVE completed");
        } else {
            self.tagged(&tag, "OK", code.as_deref(), "COPY completed");
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::imap_types::sequence::SequenceSet;

    fn sel(uids: &[u32]) -> SelectedMailbox {
        SelectedMailbox {
            name: "INBOX".into(),
            read_only: false,
            uid_validity: 1,
            uid_next: 100,
            highest_modseq: 1,
            uids: std::sync::Arc::new(uids.to_vec()),
            recent: Vec::new(),
        }
    }

    fn set(s: &str) -> SequenceSet {
        SequenceSet::try_from(s).unwrap()
    }

    #[test]
    fn sequence_numbers_and_uids() {
        let s = sel(&[3, 5, 9, 20]);
        assert_eq!(resolve(&s, &set("1:*"), false).len(), 4);
        assert_eq!(resolve(&s, &set("2,4,9"), false), [(2, 5), (4, 20)]);
        assert_eq!(resolve(&s, &set("4:9"), true), [(2, 5), (3, 9)]);
        assert_eq!(resolve(&s, &set("*"), true), [(4, 20)]);
        assert_eq!(resolve(&s, &set("21:*"), true), [(4, 20)]);
        assert_eq!(resolve(&s, &set("21:30"), true), []);
        assert_eq!(resolve(&sel(&[]), &set("1:*"), false), []);
        // Numbers above the last message name nothing, never the last message.
        assert_eq!(resolve(&s, &set("1000"), false), []);
        assert_eq!(resolve(&s, &set("3:1000"), false), [(3, 9), (4, 20)]);
        assert!(names_missing_message(&s, &set("1000"), false));
        assert!(names_missing_message(&s, &set("3:5"), false));
        assert!(!names_missing_message(&s, &set("3:*"), false));
        assert!(!names_missing_message(&s, &set("1000"), true));
    }
}
