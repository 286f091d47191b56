//! Commands of the authenticated state over mailboxes (RFC 9051 §6.3): SELECT, EXAMINE,
//! CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST (RFC 5258 LIST-EXTENDED, RFC 5819
//! LIST-STATUS, RFC 6154 SPECIAL-USE, RFC 3348 CHILDREN), LSUB, STATUS (RFC 8438 SIZE,
//! RFC 7162 HIGHESTMODSEQ), and GETQUOTA / GETQUOTAROOT (RFC 9208). APPEND is in
//! [`super::append`].

use super::respond;
use super::{Action, SelectedMailbox, Session, State};
use crate::backend::{BackendError, Flag, MailboxInfo, MailboxStatus, SpecialUse};
use crate::wire::extended::{Extension, ListExtended};
use imap_codec::imap_types::command::SelectParameter;
use imap_codec::imap_types::core::Tag;
use imap_codec::imap_types::flag::Flag as ImapFlag;
use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_codec::imap_types::status::StatusDataItemName;

/// The response code of a backend error (RFC 5530), for `NO [code] text`.
pub fn error_code(e: &BackendError) -> &'static str {
    match e {
        BackendError::NoSuchMailbox => "NONEXISTENT",
        BackendError::AlreadyExists => "ALREADYEXISTS",
        BackendError::HasChildren => "HASCHILDREN",
        BackendError::Cannot(_) => "CANNOT",
        BackendError::NoPermission => "NOPERM",
        BackendError::OverQuota => "OVERQUOTA",
        BackendError::TooBig => "TOOBIG",
        BackendError::Unavailable(_) => "UNAVAILABLE",
        BackendError::Internal(_) => "SERVERBUG",
    }
}

/// An imap-types flag to ours; `None` for `\Recent` and unknown system flags (RFC 9051
/// §2.3.2: they cannot be stored).
pub fn flag_from_imap(f: &ImapFlag<'_>) -> Option<Flag> {
    Some(match f {
        ImapFlag::Seen => Flag::Seen,
        ImapFlag::Answered => Flag::Answered,
        ImapFlag::Flagged => Flag::Flagged,
        ImapFlag::Deleted => Flag::Deleted,
        ImapFlag::Draft => Flag::Draft,
        ImapFlag::Keyword(k) => Flag::Keyword(k.as_ref().to_string()),
        ImapFlag::Extension(_) => return None,
    })
}

/// RFC 6154 §2 attribute names to ours.
pub fn special_use_from(attr: &str) -> Option<SpecialUse> {
    Some(match attr.to_ascii_lowercase().as_str() {
        "\\all" => SpecialUse::All,
        "\\archive" => SpecialUse::Archive,
        "\\drafts" => SpecialUse::Drafts,
        "\\flagged" => SpecialUse::Flagged,
        "\\junk" => SpecialUse::Junk,
        "\\sent" => SpecialUse::Sent,
        "\\trash" => SpecialUse::Trash,
        _ => return None,
    })
}

/// RFC 9051 §6.3.9 LIST wildcards: `*` matches anything, `%` anything but the hierarchy
/// separator. INBOX matches case-insensitively (its name is canonical already).
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = canonical_pattern(pattern).chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob(&p, &n)
}

fn canonical_pattern(pattern: &str) -> String {
    let first = pattern.split('/').next().unwrap_or("");
    if first.eq_ignore_ascii_case("INBOX") {
        format!("INBOX{}", pattern.get(first.len()..).unwrap_or(""))
    } else {
        pattern.to_string()
    }
}

fn glob(p: &[char], n: &[char]) -> bool {
    // Iterative matcher with backtracking over the last `*`/`%` (bounded by n * p).
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize, bool)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni, true));
                pi += 1;
            }
            Some('%') => {
                star = Some((pi, ni, false));
                pi += 1;
            }
            Some(&c) if n.get(ni) == Some(&c) => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn, any)) => {
                    if !any && n.get(sn) == Some(&'/') {
                        return false;
                    }
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1, any));
                }
                None => return false,
            },
        }
    }
    while matches!(p.get(pi), Some('*') | Some('%')) {
        pi += 1;
    }
    pi == p.len()
}

fn list_mailbox_bytes(m: &ListMailbox<'_>) -> Vec<u8> {
    match m {
        ListMailbox::Token(t) => AsRef::<[u8]>::as_ref(t).to_vec(),
        ListMailbox::String(s) => AsRef::<[u8]>::as_ref(s).to_vec(),
    }
}

fn mailbox_bytes(m: &Mailbox<'_>) -> Vec<u8> {
    match m {
        Mailbox::Inbox => b"INBOX".to_vec(),
        Mailbox::Other(o) => o.as_ref().to_vec(),
    }
}

impl Session {
    /// The UTF-8 name of a mailbox argument, or a `NO` answer.
    pub(super) fn name_arg(&mut self, tag: &Tag<'static>, m: &Mailbox<'_>) -> Option<String> {
        match crate::mailbox_name::from_mailbox(m, self.enabled.utf8_names()) {
            Ok(n) => {
                let n = n.trim_end_matches('/').to_string();
                if n.is_empty() {
                    self.tagged(tag, "NO", Some("CANNOT"), "Invalid mailbox name");
                    None
                } else {
                    Some(n)
                }
            }
            Err(e) => {
                self.tagged(tag, "NO", Some("CANNOT"), &e.to_string());
                None
            }
        }
    }

    /// `NO [code] text` for a backend error (logged when it is the server's fault).
    pub(super) fn backend_no(&mut self, tag: &Tag<'static>, e: &BackendError) {
        if matches!(e, BackendError::Internal(_) | BackendError::Unavailable(_)) {
            self.scope.emit(mailward_event::Event::MailboxError(
                mailward_event::Reason::new(e.to_string()),
            ));
        }
        let text = match e {
            BackendError::Internal(_) => {
                "Internal error occurred. Refer to server log.".to_string()
            }
            other => other.to_string(),
        };
        self.tagged(tag, "NO", Some(error_code(e)), &text);
    }

    fn with_backend<T>(
        &mut self,
        tag: &Tag<'static>,
        f: impl FnOnce(&mut dyn crate::backend::MailboxBackend) -> crate::backend::BackendResult<T>,
    ) -> Option<T> {
        let Some(b) = self.backend.as_deref_mut() else {
            self.tagged(tag, "NO", Some("UNAVAILABLE"), "Not logged in");
            return None;
        };
        match f(b) {
            Ok(v) => Some(v),
            Err(e) => {
                self.backend_no(tag, &e);
                None
            }
        }
    }

    /// RFC 9051 §6.3.2 SELECT / §6.3.3 EXAMINE, with RFC 7162 §3.1.8 `(CONDSTORE)` and
    /// §3.2.5 `(QRESYNC (...))` (see [`super::qresync`]).
    pub(super) fn select(
        &mut self,
        tag: Tag<'static>,
        mailbox: Mailbox<'static>,
        parameters: Vec<SelectParameter>,
        read_only: bool,
    ) -> Option<Action> {
        // RFC 7162 §3.2.5: parameters are checked before the mailbox is touched.
        let qresync = match self.qresync_parameter(&parameters) {
            Ok(q) => q,
            Err(e) => return self.bad(Some(tag), None, &e.to_string()),
        };
        // RFC 9051 §6.3.2: a SELECT while selected first deselects (without expunging),
        // and says so with `[CLOSED]` (RFC 7162 §3.2.11).
        if matches!(self.state, State::Selected(_)) {
            self.state = State::Authenticated;
            respond::untagged_ok(&mut self.output, "CLOSED", "Previous mailbox closed.");
        }
        let name = self.name_arg(&tag, &mailbox)?;
        if parameters.contains(&SelectParameter::CondStore) {
            self.enabled.condstore = true;
        }
        let sel = self.with_backend(&tag, |b| b.select(&name, read_only))?;
        // RFC 7162 §3.2.5: a different UIDVALIDITY makes it a plain SELECT.
        let resync = match qresync.filter(|q| q.uid_validity == sel.uid_validity) {
            Some(q) => {
                let changes =
                    self.with_backend(&tag, |b| b.changes(&name, q.modseq, sel.uid_next))?;
                Some((q, changes))
            }
            None => None,
        };
        let read_only = read_only || sel.read_only;
        let rev2 = self.enabled.imap4rev2;
        // RFC 3501 §2.3.2: what this session sees first is \Recent to it.
        let recent: Vec<(u32, u32)> = if sel.first_recent < sel.uid_next {
            vec![(sel.first_recent, sel.uid_next)]
        } else {
            Vec::new()
        };
        let out = &mut self.output;
        out.extend_from_slice(format!("* {} EXISTS\r\n", sel.uids.len()).as_bytes());
        if !rev2 {
            // RFC 3501 §6.3.1: RECENT is required in IMAP4rev1 (IMAP4rev2 dropped it).
            let n = sel
                .uids
                .iter()
                .filter(|&&u| recent.iter().any(|&(a, b)| u >= a && u < b))
                .count();
            out.extend_from_slice(format!("* {n} RECENT\r\n").as_bytes());
        }
        respond::flags_and_permanentflags(out, &sel.keywords, read_only);
        self.keywords_announced = sel.keywords.clone();
        let out = &mut self.output;
        // RFC 3501 §6.3.1: IMAP4rev1 names the first unseen message (RFC 9051 dropped it).
        if !rev2
            && let Some(uid) = sel.first_unseen
            && let Ok(pos) = sel.uids.binary_search(&uid)
        {
            respond::untagged_ok(out, &format!("UNSEEN {}", pos + 1), "First unseen.");
        }
        respond::untagged_ok(
            out,
            &format!("UIDVALIDITY {}", sel.uid_validity),
            "UIDs valid",
        );
        respond::untagged_ok(
            out,
            &format!("UIDNEXT {}", sel.uid_next),
            "Predicted next UID",
        );
        // RFC 7162 §3.1.2.1: a CONDSTORE server sends HIGHESTMODSEQ on every SELECT.
        respond::untagged_ok(
            out,
            &format!("HIGHESTMODSEQ {}", sel.highest_modseq.max(1)),
            "Highest",
        );
        if rev2 {
            // RFC 9051 §6.3.2: the server MUST send a LIST response with the mailbox name.
            out.extend_from_slice(b"* LIST () \"/\" ");
            respond::mailbox(out, &name, true);
            out.extend_from_slice(b"\r\n");
        }
        let uids = sel.uids;
        self.scope
            .emit(mailward_event::Event::Select(mailward_event::Select {
                mailbox: name.as_str().into(),
                messages: uids.len() as u64,
                read_only,
            }));
        self.state = State::Selected(SelectedMailbox {
            name,
            read_only,
            uid_validity: sel.uid_validity,
            uid_next: sel.uid_next,
            highest_modseq: sel.highest_modseq,
            uids,
            recent,
        });
        if let Some((q, changes)) = resync {
            self.send_resync(&q, &changes);
        }
        let (code, verb) = if read_only {
            ("READ-ONLY", "EXAMINE")
        } else {
            ("READ-WRITE", "SELECT")
        };
        self.tagged(&tag, "OK", Some(code), &format!("{verb} completed"));
        None
    }

    /// RFC 9051 §6.3.4 CREATE, with RFC 6154 §3 `(USE (...))`.
    pub(super) fn create(
        &mut self,
        tag: Tag<'static>,
        mailbox: Mailbox<'static>,
    ) -> Option<Action> {
        let name = self.name_arg(&tag, &mailbox)?;
        let special = match std::mem::take(&mut self.ext) {
            Extension::CreateUse(uses) => {
                let mut found = None;
                for u in &uses {
                    match special_use_from(u) {
                        Some(s) if found.is_none() => found = Some(s),
                        _ => {
                            // RFC 6154 §3: unsupported or several: NO [USEATTR].
                            self.tagged(
                                &tag,
                                "NO",
                                Some("USEATTR"),
                                "Unsupported special-use attribute",
                            );
                            return None;
                        }
                    }
                }
                found
            }
            _ => None,
        };
        if name == "INBOX" {
            self.tagged(&tag, "NO", Some("ALREADYEXISTS"), "Mailbox already exists");
            return None;
        }
        self.with_backend(&tag, |b| b.create(&name, special))?;
        self.tagged(&tag, "OK", None, "CREATE completed");
        None
    }

    /// RFC 9051 §6.3.5 DELETE.
    pub(super) fn delete(
        &mut self,
        tag: Tag<'static>,
        mailbox: Mailbox<'static>,
    ) -> Option<Action> {
        let name = self.name_arg(&tag, &mailbox)?;
        if name == "INBOX" {
            self.tagged(&tag, "NO", Some("CANNOT"), "INBOX cannot be deleted");
            return None;
        }
        self.with_backend(&tag, |b| b.delete(&name))?;
        if matches!(&self.state, State::Selected(s) if s.name == name) {
            self.state = State::Authenticated;
        }
        self.tagged(&tag, "OK", None, "DELETE completed");
        None
    }

    /// RFC 9051 §6.3.6 RENAME.
    pub(super) fn rename(
        &mut self,
        tag: Tag<'static>,
        from: Mailbox<'static>,
        to: Mailbox<'static>,
    ) -> Option<Action> {
        let from = self.name_arg(&tag, &from)?;
        let to = self.name_arg(&tag, &to)?;
        self.with_backend(&tag, |b| b.rename(&from, &to))?;
        self.tagged(&tag, "OK", None, "RENAME completed");
        None
    }

    /// RFC 9051 §6.3.7 SUBSCRIBE / §6.3.8 UNSUBSCRIBE.
    pub(super) fn subscribe(
        &mut self,
        tag: Tag<'static>,
        mailbox: Mailbox<'static>,
        on: bool,
    ) -> Option<Action> {
        let name = self.name_arg(&tag, &mailbox)?;
        self.with_backend(&tag, |b| b.subscribe(&name, on))?;
        let verb = if on { "SUBSCRIBE" } else { "UNSUBSCRIBE" };
        self.tagged(&tag, "OK", None, &format!("{verb} completed"));
        None
    }

    /// RFC 9051 §6.3.9 LIST (and RFC 3501 §6.3.9 LSUB when `lsub`), with the RFC 5258
    /// selection and return options and RFC 5819 STATUS.
    pub(super) fn list(
        &mut self,
        tag: Tag<'static>,
        reference: Mailbox<'static>,
        pattern: ListMailbox<'static>,
        lsub: bool,
    ) -> Option<Action> {
        let utf8 = self.enabled.utf8_names();
        let ext = match std::mem::take(&mut self.ext) {
            Extension::List(l) => l,
            _ => ListExtended::default(),
        };
        if let Err(why) = check_list_options(&ext) {
            return self.bad(Some(tag), None, why);
        }
        // A pattern is matched as the client wrote it: an `&` that does not start modified
        // UTF-7 is an ordinary character of it (every atom-char is valid in a pattern).
        let decode = |raw: &[u8]| -> Option<String> {
            if utf8 || !raw.is_ascii() {
                String::from_utf8(raw.to_vec()).ok()
            } else {
                crate::mailbox_name::decode_mutf7(raw)
                    .ok()
                    .or_else(|| String::from_utf8(raw.to_vec()).ok())
            }
        };
        let Some(reference) = decode(&mailbox_bytes(&reference)) else {
            self.tagged(&tag, "NO", Some("CANNOT"), "Invalid reference name");
            return None;
        };
        let mut patterns = vec![list_mailbox_bytes(&pattern)];
        patterns.extend(ext.more_patterns.iter().cloned());
        let mut pats = Vec::new();
        for p in &patterns {
            let Some(p) = decode(p) else {
                self.tagged(&tag, "NO", Some("CANNOT"), "Invalid mailbox pattern");
                return None;
            };
            let full = if reference.is_empty() || p.starts_with('/') {
                p
            } else if reference.ends_with('/') {
                format!("{reference}{p}")
            } else {
                format!("{reference}/{p}")
            };
            pats.push(full);
        }
        let verb = if lsub { "LSUB" } else { "LIST" };
        // RFC 9051 §6.3.9: an empty pattern asks for the hierarchy delimiter.
        if patterns.len() == 1 && patterns.first().is_some_and(|p| p.is_empty()) {
            self.output
                .extend_from_slice(format!("* {verb} (\\Noselect) \"/\" \"\"\r\n").as_bytes());
            self.tagged(&tag, "OK", None, &format!("{verb} completed"));
            return None;
        }
        let has = |v: &[String], w: &str| v.iter().any(|x| x == w);
        let sel_subscribed = lsub || has(&ext.selection, "SUBSCRIBED");
        let sel_special = has(&ext.selection, "SPECIAL-USE");
        let recursive = has(&ext.selection, "RECURSIVEMATCH");
        let ret_subscribed = has(&ext.returns, "SUBSCRIBED") || sel_subscribed;
        // RFC 3348 / RFC 5258 §4: children info is returned by default for LIST.
        let ret_children = !lsub;
        let ret_special = !lsub;
        let all = self.with_backend(&tag, |b| b.list())?;
        let subs: Vec<String> = if ret_subscribed {
            self.with_backend(&tag, |b| b.subscriptions())?
        } else {
            Vec::new()
        };
        let rows = list_rows(
            &all,
            &subs,
            &pats,
            sel_subscribed,
            sel_special,
            recursive || lsub,
        );
        for row in &rows {
            let mut attrs: Vec<&str> = Vec::new();
            match row.mailbox {
                Some(m) => {
                    if !m.selectable || (lsub && row.parent_only) {
                        attrs.push("\\Noselect");
                    }
                    if m.no_inferiors {
                        attrs.push("\\Noinferiors");
                    }
                    if ret_children && !m.no_inferiors {
                        attrs.push(if m.has_children {
                            "\\HasChildren"
                        } else {
                            "\\HasNoChildren"
                        });
                    }
                }
                // RFC 5258 §3.4: a subscribed name without a mailbox is \NonExistent;
                // RFC 3501 §6.3.9: LSUB shows a parent of subscribed names \Noselect.
                None if lsub && row.parent_only => attrs.push("\\Noselect"),
                None if !lsub => attrs.push("\\NonExistent"),
                None => {}
            }
            if ret_subscribed && row.subscribed && !lsub {
                attrs.push("\\Subscribed");
            }
            if ret_special && let Some(su) = row.mailbox.and_then(|m| m.special_use) {
                attrs.push(su.as_attribute());
            }
            let out = &mut self.output;
            out.extend_from_slice(format!("* {verb} ({}) \"/\" ", attrs.join(" ")).as_bytes());
            respond::mailbox(out, &row.name, utf8);
            if row.parent_only && !lsub {
                // RFC 5258 §3.5: matched only because a child is subscribed.
                out.extend_from_slice(b" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
            }
            out.extend_from_slice(b"\r\n");
            if let Some(items) = &ext.status
                && row.mailbox.is_some_and(|m| m.selectable)
            {
                // RFC 5819 §2: the STATUS follows its LIST response.
                let items = items.clone();
                let name = row.name.clone();
                if let Some(b) = self.backend.as_deref_mut()
                    && let Ok(st) = b.status(&name)
                {
                    let line = status_line(&name, &st, &items, utf8);
                    self.output.extend_from_slice(&line);
                }
            }
        }
        self.tagged(&tag, "OK", None, &format!("{verb} completed"));
        None
    }

    /// RFC 9051 §6.3.11 STATUS (SIZE RFC 8438, HIGHESTMODSEQ RFC 7162 §3.1.4).
    pub(super) fn status(
        &mut self,
        tag: Tag<'static>,
        mailbox: Mailbox<'static>,
        items: &[StatusDataItemName],
    ) -> Option<Action> {
        let name = self.name_arg(&tag, &mailbox)?;
        let st = self.with_backend(&tag, |b| b.status(&name))?;
        let words: Vec<String> = items
            .iter()
            .map(|i| match i {
                StatusDataItemName::Messages => "MESSAGES",
                StatusDataItemName::Recent => "RECENT",
                StatusDataItemName::UidNext => "UIDNEXT",
                StatusDataItemName::UidValidity => "UIDVALIDITY",
                StatusDataItemName::Unseen => "UNSEEN",
                StatusDataItemName::Deleted => "DELETED",
                StatusDataItemName::DeletedStorage => "DELETED-STORAGE",
                StatusDataItemName::Size => "SIZE",
                StatusDataItemName::HighestModSeq => "HIGHESTMODSEQ",
            })
            .map(String::from)
            .collect();
        if words.iter().any(|w| w == "HIGHESTMODSEQ") {
            self.enable_condstore();
        }
        let line = status_line(&name, &st, &words, self.enabled.utf8_names());
        self.output.extend_from_slice(&line);
        self.tagged(&tag, "OK", None, "STATUS completed");
        None
    }

    /// RFC 9208 §4.2 GETQUOTA (one root, "", with STORAGE in KiB and MESSAGE).
    pub(super) fn get_quota(&mut self, tag: Tag<'static>, root: &[u8]) -> Option<Action> {
        if !root.is_empty() {
            self.tagged(&tag, "NO", Some("NONEXISTENT"), "No such quota root");
            return None;
        }
        let q = self.with_backend(&tag, |b| b.quota())?;
        if let Some(line) = quota_line(&q) {
            self.output.extend_from_slice(line.as_bytes());
        }
        self.tagged(&tag, "OK", None, "GETQUOTA completed");
        None
    }

    /// RFC 9208 §4.3 GETQUOTAROOT.
    pub(super) fn get_quota_root(
        &mut self,
        tag: Tag<'static>,
        mailbox: Mailbox<'static>,
    ) -> Option<Action> {
        let name = self.name_arg(&tag, &mailbox)?;
        let q = self.with_backend(&tag, |b| b.quota())?;
        let utf8 = self.enabled.utf8_names();
        let out = &mut self.output;
        out.extend_from_slice(b"* QUOTAROOT ");
        respond::mailbox(out, &name, utf8);
        let line = quota_line(&q);
        if line.is_some() {
            out.extend_from_slice(b" \"\"");
        }
        out.extend_from_slice(b"\r\n");
        if let Some(line) = line {
            out.extend_from_slice(line.as_bytes());
        }
        self.tagged(&tag, "OK", None, "GETQUOTAROOT completed");
        None
    }
}

/// `[TRYCREATE]` instead of `[NONEXISTENT]` on the last line (RFC 9051 §7.1: APPEND and
/// COPY to a missing mailbox).
pub(super) fn fix_trycreate(out: &mut Vec<u8>, tag: &Tag<'_>) {
    let needle = format!("{} NO [NONEXISTENT] ", tag.as_ref());
    if let Some(pos) = memchr::memmem::rfind(out, needle.as_bytes()) {
        let rest = out.split_off(pos + needle.len());
        out.truncate(pos);
        out.extend_from_slice(format!("{} NO [TRYCREATE] ", tag.as_ref()).as_bytes());
        out.extend_from_slice(&rest);
    }
}

/// `* QUOTA "" (STORAGE used limit MESSAGE used limit)` for the limits that exist.
fn quota_line(q: &crate::backend::Quota) -> Option<String> {
    let mut res = Vec::new();
    if let Some(l) = q.storage_limit_kib {
        res.push(format!("STORAGE {} {l}", q.storage_used_kib));
    }
    if let Some(l) = q.messages_limit {
        res.push(format!("MESSAGE {} {l}", q.messages_used));
    }
    (!res.is_empty()).then(|| format!("* QUOTA \"\" ({})\r\n", res.join(" ")))
}

/// `* STATUS name (ITEM n ...)` for the requested item names (upper case).
pub(super) fn status_line(name: &str, st: &MailboxStatus, items: &[String], utf8: bool) -> Vec<u8> {
    let mut out = b"* STATUS ".to_vec();
    respond::mailbox(&mut out, name, utf8);
    let mut parts = Vec::new();
    for i in items {
        let v: u64 = match i.as_str() {
            "MESSAGES" => st.messages.into(),
            "RECENT" => st.recent.into(),
            "UIDNEXT" => st.uid_next.into(),
            "UIDVALIDITY" => st.uid_validity.into(),
            "UNSEEN" => st.unseen.into(),
            "DELETED" => st.deleted.into(),
            "SIZE" => st.size,
            "HIGHESTMODSEQ" => st.highest_modseq,
            _ => continue,
        };
        parts.push(format!("{i} {v}"));
    }
    out.extend_from_slice(format!(" ({})\r\n", parts.join(" ")).as_bytes());
    out
}

/// RFC 5258 §3: selection options mailward knows (`REMOTE` selects nothing more here: there
/// are no remote mailboxes), and return options; anything else, or RECURSIVEMATCH without
/// another selection option (§3.1), is BAD.
fn check_list_options(ext: &ListExtended) -> Result<(), &'static str> {
    const SELECTION: [&str; 4] = ["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"];
    const RETURNS: [&str; 4] = ["SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS"];
    if ext
        .selection
        .iter()
        .any(|o| !SELECTION.contains(&o.as_str()))
    {
        return Err("Unknown LIST selection option");
    }
    if ext.returns.iter().any(|o| !RETURNS.contains(&o.as_str())) {
        return Err("Unknown LIST return option");
    }
    let recursive = ext.selection.iter().any(|o| o == "RECURSIVEMATCH");
    let other = ext
        .selection
        .iter()
        .any(|o| o != "RECURSIVEMATCH" && o != "REMOTE");
    if recursive && !other {
        return Err("RECURSIVEMATCH needs another selection option");
    }
    Ok(())
}

/// One line of a LIST or LSUB answer.
struct ListRow<'a> {
    name: String,
    /// The mailbox, when one exists under the name.
    mailbox: Option<&'a MailboxInfo>,
    subscribed: bool,
    /// Shown only because a descendant is subscribed and does not match itself (RFC 3501
    /// §6.3.9's LSUB `%` rule; RFC 5258 §3.5 CHILDINFO).
    parent_only: bool,
}

/// What LIST/LSUB shows for `patterns` (already joined with the reference): the mailboxes
/// that match, or with `by_subscription` the subscribed names that match (mailbox or not),
/// plus, with `parents`, the matching parents of subscribed names that do not match.
fn list_rows<'a>(
    all: &'a [MailboxInfo],
    subs: &[String],
    patterns: &[String],
    by_subscription: bool,
    special_only: bool,
    parents: bool,
) -> Vec<ListRow<'a>> {
    let matches = |name: &str| patterns.iter().any(|p| pattern_matches(p, name));
    let subscribed: std::collections::HashSet<&str> = subs.iter().map(String::as_str).collect();
    let mailbox = |name: &str| all.iter().find(|m| m.name == name);
    let mut rows: Vec<ListRow<'a>> = Vec::new();
    if by_subscription {
        for name in subs {
            if matches(name) {
                rows.push(ListRow {
                    name: name.clone(),
                    mailbox: mailbox(name),
                    subscribed: true,
                    parent_only: false,
                });
            }
        }
        if parents {
            for name in subs.iter().filter(|n| !matches(n)) {
                let mut end = 0;
                while let Some(i) = name.get(end..).and_then(|rest| rest.find('/')) {
                    let parent = name.get(..end + i).unwrap_or("");
                    end += i + 1;
                    if matches(parent)
                        && !subscribed.contains(parent)
                        && !rows.iter().any(|r| r.name == parent)
                    {
                        rows.push(ListRow {
                            name: parent.to_string(),
                            mailbox: mailbox(parent),
                            subscribed: false,
                            parent_only: true,
                        });
                    }
                }
            }
        }
        rows.sort_by(|a, b| (a.name != "INBOX", &a.name).cmp(&(b.name != "INBOX", &b.name)));
    } else {
        for m in all.iter().filter(|m| matches(&m.name)) {
            rows.push(ListRow {
                name: m.name.clone(),
                mailbox: Some(m),
                subscribed: subscribed.contains(m.name.as_str()),
                parent_only: false,
            });
        }
    }
    if special_only {
        rows.retain(|r| r.mailbox.is_some_and(|m| m.special_use.is_some()));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_wildcards() {
        assert!(pattern_matches("*", "INBOX"));
        assert!(pattern_matches("*", "a/b/c"));
        assert!(pattern_matches("%", "Sent"));
        assert!(!pattern_matches("%", "a/b"));
        assert!(pattern_matches("a/%", "a/b"));
        assert!(!pattern_matches("a/%", "a/b/c"));
        assert!(pattern_matches("inbox", "INBOX"));
        assert!(pattern_matches("S*t", "Sent"));
        assert!(!pattern_matches("S*x", "Sent"));
        assert!(pattern_matches("%/%", "a/b"));
    }
}
