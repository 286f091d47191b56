//! RFC 7162 §3.2 QRESYNC (quick mailbox resynchronization) on top of CONDSTORE:
//!
//! - §3.2.3: `ENABLE QRESYNC` turns it on (and CONDSTORE with it); see `Session::enable`.
//! - §3.2.5: `SELECT/EXAMINE mailbox (QRESYNC (uidvalidity modseq [known-uids
//!   [seq-match-data]]))` ends with `* VANISHED (EARLIER) uids` and
//!   `* n FETCH (UID u FLAGS (...) MODSEQ (m))` for what changed since `modseq`
//!   ([`Session::send_resync`]).
//! - §3.2.6: `UID FETCH set (...) (CHANGEDSINCE m VANISHED)` adds `* VANISHED (EARLIER)`
//!   for the UIDs of `set` expunged since `m` ([`Session::send_vanished_since`]).
//! - §3.2.10: once enabled, `* VANISHED uids` replaces every `* n EXPUNGE`
//!   ([`write_vanished`], used by `Session::report_expunged`).
//! - §3.2.11: `* OK [CLOSED]` when SELECT/EXAMINE replaces a selected mailbox (in
//!   `Session::select`).
//!
//! Expunge history (§3.2.5.2): the store keeps the UID and MODSEQ of every expunged
//! message in its `expunged` table and never prunes it (rows go only with their mailbox,
//! whose UIDVALIDITY then changes), so the exact VANISHED set can always be computed and
//! the seq-match-data (which only helps servers that forget expunges) is checked for
//! syntax and otherwise not needed. The one gap: expunges made before the store's schema
//! version 2 (which added the table) are unknown.

use super::respond;
use super::{Session, State};
use crate::backend::{BackendError, Changes, Flag, MessageMeta};
use imap_codec::imap_types::command::SelectParameter;
use imap_codec::imap_types::core::Atom;
use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

/// Why a QRESYNC request is a protocol error (answered `BAD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QresyncError {
    /// RFC 7162 §3.2.5 / §3.2.6: QRESYNC syntax before `ENABLE QRESYNC`.
    #[error("QRESYNC is not enabled (use ENABLE QRESYNC first)")]
    NotEnabled,
    /// RFC 7162 §3.2.5: known-uids and seq-match-data must not contain `*`.
    #[error("\"*\" is not allowed in QRESYNC known UIDs or sequence match data")]
    StarInSet,
    /// RFC 7162 §3.2.6: VANISHED only together with CHANGEDSINCE.
    #[error("VANISHED needs CHANGEDSINCE")]
    VanishedWithoutChangedSince,
    /// RFC 7162 §3.2.6: VANISHED only in UID FETCH.
    #[error("VANISHED is allowed only in UID FETCH")]
    VanishedWithoutUid,
}

/// A validated QRESYNC SELECT/EXAMINE parameter (RFC 7162 §3.2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QresyncSelect {
    /// The UIDVALIDITY the client last knew: the rest is ignored when it differs.
    pub uid_validity: u32,
    /// The client's last known MODSEQ: changes and expunges above it are reported.
    pub modseq: u64,
    /// The UIDs the client knows; `None` means `1:<UIDNEXT-1>`.
    pub known_uids: Option<SequenceSet>,
}

impl QresyncSelect {
    /// Checks a SELECT parameter: `Ok(None)` for one that is not QRESYNC.
    pub fn from_parameter(
        p: &SelectParameter,
        enabled: bool,
    ) -> Result<Option<QresyncSelect>, QresyncError> {
        let SelectParameter::QResync {
            uid_validity,
            mod_sequence_value,
            known_uids,
            seq_match_data,
        } = p
        else {
            return Ok(None);
        };
        if !enabled {
            return Err(QresyncError::NotEnabled);
        }
        let mut sets = known_uids
            .iter()
            .chain(seq_match_data.iter().flat_map(|(a, b)| [a, b]));
        if sets.any(has_star) {
            return Err(QresyncError::StarInSet);
        }
        Ok(Some(QresyncSelect {
            uid_validity: uid_validity.get(),
            modseq: mod_sequence_value.get(),
            known_uids: known_uids.clone(),
        }))
    }

    /// `uid` is among the client's known UIDs.
    fn knows(&self, uid: u32) -> bool {
        self.known_uids
            .as_ref()
            .is_none_or(|set| set_contains(set, uid, u32::MAX))
    }
}

/// RFC 7162 §3.2.6: the VANISHED FETCH modifier is allowed only in UID FETCH, with
/// CHANGEDSINCE, once QRESYNC is enabled.
pub fn check_vanished_modifier(
    enabled: bool,
    uid: bool,
    changed_since: bool,
) -> Result<(), QresyncError> {
    if !enabled {
        Err(QresyncError::NotEnabled)
    } else if !uid {
        Err(QresyncError::VanishedWithoutUid)
    } else if !changed_since {
        Err(QresyncError::VanishedWithoutChangedSince)
    } else {
        Ok(())
    }
}

fn has_star(set: &SequenceSet) -> bool {
    set.0.as_ref().iter().any(|s| match s {
        Sequence::Single(v) => matches!(v, SeqOrUid::Asterisk),
        Sequence::Range(a, b) => matches!(a, SeqOrUid::Asterisk) || matches!(b, SeqOrUid::Asterisk),
    })
}

/// `n` is in `set`, where `*` stands for `star` (RFC 9051 §9 seq-range: either order).
pub fn set_contains(set: &SequenceSet, n: u32, star: u32) -> bool {
    let value = |v: &SeqOrUid| match v {
        SeqOrUid::Value(x) => x.get(),
        SeqOrUid::Asterisk => star,
    };
    set.0.as_ref().iter().any(|s| match s {
        Sequence::Single(v) => value(v) == n,
        Sequence::Range(a, b) => {
            let (a, b) = (value(a), value(b));
            (a.min(b)..=a.max(b)).contains(&n)
        }
    })
}

/// Longest VANISHED line we write before starting another (RFC 7162 §4 updates the
/// RFC 2683 line-length advice to 8192 octets).
const MAX_LINE: usize = 8000;

/// `* VANISHED [(EARLIER) ]uid-set` lines for `uids` (RFC 7162 §3.2.10), split so no line
/// exceeds [`MAX_LINE`]. Nothing for no UIDs.
pub fn write_vanished(out: &mut Vec<u8>, uids: &[u32], earlier: bool) {
    let head: &[u8] = if earlier {
        b"* VANISHED (EARLIER) "
    } else {
        b"* VANISHED "
    };
    let set = respond::set(uids);
    let mut line = String::new();
    for range in set.split(',').filter(|r| !r.is_empty()) {
        if !line.is_empty() && line.len() + range.len() + head.len() > MAX_LINE {
            flush_line(out, head, &mut line);
        }
        if !line.is_empty() {
            line.push(',');
        }
        line.push_str(range);
    }
    flush_line(out, head, &mut line);
}

fn flush_line(out: &mut Vec<u8>, head: &[u8], line: &mut String) {
    if line.is_empty() {
        return;
    }
    out.extend_from_slice(head);
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
    line.clear();
}

/// `* n FETCH (UID u FLAGS (...) MODSEQ (m))`, the form RFC 7162 §3.2.4 asks for in
/// FETCH responses the client did not request.
pub fn write_flags_fetch(out: &mut Vec<u8>, seq: u32, m: &MessageMeta, recent: bool) {
    let items = [
        format!("UID {}", m.uid).into_bytes(),
        format!(
            "FLAGS {}",
            respond::flags_shown(&atom_flags(&m.flags), recent)
        )
        .into_bytes(),
        format!("MODSEQ ({})", m.modseq.max(1)).into_bytes(),
    ];
    respond::fetch_line(out, seq, &items);
}

/// The flags that can be written as they are: keywords that are not atoms (found in a
/// Maildir written by another program) are left out, as elsewhere in unsolicited FETCH.
pub fn atom_flags(flags: &[Flag]) -> Vec<Flag> {
    flags
        .iter()
        .filter(|f| match f {
            Flag::Keyword(k) => Atom::try_from(k.as_str()).is_ok(),
            _ => true,
        })
        .cloned()
        .collect()
}

impl Session {
    /// The QRESYNC parameter of a SELECT/EXAMINE, if any, checked before the command
    /// does anything (a `BAD` leaves the selected mailbox selected).
    pub(super) fn qresync_parameter(
        &self,
        parameters: &[SelectParameter],
    ) -> Result<Option<QresyncSelect>, QresyncError> {
        let mut found = None;
        for p in parameters {
            if let Some(q) = QresyncSelect::from_parameter(p, self.enabled.qresync)? {
                found = Some(q);
            }
        }
        Ok(found)
    }

    /// RFC 7162 §3.2.5: what SELECT/EXAMINE with QRESYNC reports once the mailbox is
    /// selected: `VANISHED (EARLIER)` for the known UIDs expunged since the client's
    /// MODSEQ, then FETCH (UID, FLAGS, MODSEQ) for the known messages changed since.
    /// UIDs this session still holds are left to the usual updates after the command.
    pub(super) fn send_resync(&mut self, q: &QresyncSelect, changes: &Changes) {
        let State::Selected(sel) = &self.state else {
            return;
        };
        let mut vanished: Vec<u32> = changes
            .expunged
            .iter()
            .copied()
            .filter(|&u| q.knows(u) && sel.uids.binary_search(&u).is_err())
            .collect();
        vanished.sort_unstable();
        vanished.dedup();
        let mut changed: Vec<(u32, &MessageMeta)> = changes
            .flags_changed
            .iter()
            .chain(&changes.added)
            .filter(|m| m.modseq > q.modseq && q.knows(m.uid))
            .filter_map(|m| {
                let pos = sel.uids.binary_search(&m.uid).ok()?;
                Some((u32::try_from(pos + 1).ok()?, m))
            })
            .collect();
        changed.sort_unstable_by_key(|&(seq, _)| seq);
        changed.dedup_by_key(|&mut (seq, _)| seq);
        self.scope
            .emit(mailward_event::Event::Qresync(mailward_event::Qresync {
                mailbox: sel.name.as_str().into(),
                vanished: vanished.len() as u64,
                changed: changed.len() as u64,
            }));
        let mut out = std::mem::take(&mut self.output);
        write_vanished(&mut out, &vanished, true);
        let rev1 = !self.enabled.imap4rev2;
        for (seq, m) in changed {
            write_flags_fetch(&mut out, seq, m, rev1 && sel.is_recent(m.uid));
        }
        self.output = out;
    }

    /// RFC 7162 §3.2.6: `* VANISHED (EARLIER)` for the UIDs in `set` (UID FETCH's set,
    /// `*` being the highest UID ever given) expunged after MODSEQ `since`. UIDs this
    /// session still holds are left to the usual updates after the command.
    pub(super) fn send_vanished_since(
        &mut self,
        mailbox: &str,
        since: u64,
        set: &SequenceSet,
    ) -> Result<(), BackendError> {
        let Some(sel) = self.selected() else {
            return Ok(());
        };
        let (uid_next, held) = (sel.uid_next, sel.uids.clone());
        let Some(b) = self.backend.as_deref_mut() else {
            return Ok(());
        };
        let changes = b.changes(mailbox, since, uid_next)?;
        let star = changes.uid_next.max(uid_next).saturating_sub(1);
        let vanished: Vec<u32> = changes
            .expunged
            .into_iter()
            .filter(|&u| set_contains(set, u, star) && held.binary_search(&u).is_err())
            .collect();
        write_vanished(&mut self.output, &vanished, true);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::{NonZeroU32, NonZeroU64};

    fn set(s: &str) -> SequenceSet {
        SequenceSet::try_from(s).unwrap_or_else(|_| panic!("bad set {s}"))
    }

    fn param(known: Option<&str>, seq_match: Option<(&str, &str)>) -> SelectParameter {
        SelectParameter::QResync {
            uid_validity: NonZeroU32::MIN,
            mod_sequence_value: NonZeroU64::MIN.saturating_add(9),
            known_uids: known.map(set),
            seq_match_data: seq_match.map(|(a, b)| (set(a), set(b))),
        }
    }

    #[test]
    fn parameter_needs_enable_and_no_star() {
        assert_eq!(
            QresyncSelect::from_parameter(&param(None, None), false),
            Err(QresyncError::NotEnabled)
        );
        let q = QresyncSelect::from_parameter(&param(Some("1:5,9"), None), true);
        let Ok(Some(q)) = q else { panic!("{q:?}") };
        assert_eq!((q.uid_validity, q.modseq), (1, 10));
        assert!(q.knows(3) && q.knows(9) && !q.knows(6));
        assert_eq!(
            QresyncSelect::from_parameter(&param(Some("1:*"), None), true),
            Err(QresyncError::StarInSet)
        );
        assert_eq!(
            QresyncSelect::from_parameter(&param(Some("1:5"), Some(("1:*", "1:5"))), true),
            Err(QresyncError::StarInSet)
        );
        assert_eq!(
            QresyncSelect::from_parameter(&SelectParameter::CondStore, true),
            Ok(None)
        );
    }

    #[test]
    fn vanished_modifier_rules() {
        assert_eq!(
            check_vanished_modifier(false, true, true),
            Err(QresyncError::NotEnabled)
        );
        assert_eq!(
            check_vanished_modifier(true, false, true),
            Err(QresyncError::VanishedWithoutUid)
        );
        assert_eq!(
            check_vanished_modifier(true, true, false),
            Err(QresyncError::VanishedWithoutChangedSince)
        );
        assert_eq!(check_vanished_modifier(true, true, true), Ok(()));
    }

    #[test]
    fn sets_and_vanished_lines() {
        assert!(set_contains(&set("5:3"), 4, 10));
        assert!(set_contains(&set("8:*"), 10, 10) && !set_contains(&set("8:*"), 11, 10));
        let mut out = Vec::new();
        write_vanished(&mut out, &[7, 1, 2, 3, 9], false);
        write_vanished(&mut out, &[], true);
        write_vanished(&mut out, &[4], true);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "* VANISHED 1:3,7,9\r\n* VANISHED (EARLIER) 4\r\n"
        );
        let many: Vec<u32> = (1..=8000).map(|n| n * 2).collect();
        let mut out = Vec::new();
        write_vanished(&mut out, &many, false);
        let text = String::from_utf8_lossy(&out);
        assert!(text.lines().count() > 1, "split");
        assert!(text.lines().all(|l| l.len() <= MAX_LINE), "short lines");
        let listed: usize = text
            .lines()
            .map(|l| l.trim_start_matches("* VANISHED ").split(',').count())
            .sum();
        assert_eq!(listed, many.len());
    }
}
