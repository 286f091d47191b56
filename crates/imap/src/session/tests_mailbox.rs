//! The mailbox commands as a client sees them, over an in-memory backend.

use super::*;
use crate::backend::*;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default, Clone)]
struct MemBox {
    uid_validity: u32,
    uid_next: u32,
    modseq: u64,
    msgs: Vec<(MessageMeta, Vec<u8>)>,
    /// RFC 3501 §2.3.2: messages from this UID on have not been claimed by a session.
    first_recent: u32,
    special: Option<SpecialUse>,
    expunged: Vec<(u32, u64)>,
}

#[derive(Default)]
pub(super) struct World {
    boxes: BTreeMap<String, MemBox>,
    /// Names, apart from mailboxes (RFC 9051 §6.3.7).
    subscriptions: std::collections::BTreeSet<String>,
}

#[derive(Clone)]
pub(super) struct Mem(pub(super) Arc<Mutex<World>>);

impl Mem {
    fn with<T>(&self, f: impl FnOnce(&mut World) -> BackendResult<T>) -> BackendResult<T> {
        let mut g = self
            .0
            .lock()
            .map_err(|_| BackendError::Internal("lock".into()))?;
        f(&mut g)
    }
}

fn get<'w>(w: &'w mut World, name: &str) -> BackendResult<&'w mut MemBox> {
    w.boxes.get_mut(name).ok_or(BackendError::NoSuchMailbox)
}

impl MailboxBackend for Mem {
    fn list(&mut self) -> BackendResult<Vec<MailboxInfo>> {
        self.with(|w| {
            let names: Vec<String> = w.boxes.keys().cloned().collect();
            Ok(w.boxes
                .iter()
                .map(|(n, b)| MailboxInfo {
                    name: n.clone(),
                    selectable: true,
                    no_inferiors: false,
                    has_children: names.iter().any(|x| x.starts_with(&format!("{n}/"))),
                    special_use: b.special,
                })
                .collect())
        })
    }
    fn status(&mut self, mailbox: &str) -> BackendResult<MailboxStatus> {
        self.with(|w| {
            let b = get(w, mailbox)?;
            Ok(MailboxStatus {
                messages: b.msgs.len() as u32,
                recent: b.msgs.iter().filter(|m| m.0.uid >= b.first_recent).count() as u32,
                unseen: b
                    .msgs
                    .iter()
                    .filter(|m| !m.0.flags.contains(&Flag::Seen))
                    .count() as u32,
                deleted: 0,
                uid_next: b.uid_next,
                uid_validity: b.uid_validity,
                highest_modseq: b.modseq,
                size: b.msgs.iter().map(|m| m.0.size).sum(),
            })
        })
    }
    fn select(&mut self, mailbox: &str, read_only: bool) -> BackendResult<Selected> {
        self.with(|w| {
            let b = get(w, mailbox)?;
            let first_recent = b.first_recent;
            if !read_only {
                b.first_recent = b.first_recent.max(b.uid_next);
            }
            Ok(Selected {
                first_recent,
                first_unseen: b
                    .msgs
                    .iter()
                    .find(|m| !m.0.flags.contains(&Flag::Seen))
                    .map(|m| m.0.uid),
                uid_validity: b.uid_validity,
                uid_next: b.uid_next,
                highest_modseq: b.modseq,
                uids: std::sync::Arc::new(b.msgs.iter().map(|m| m.0.uid).collect()),
                keywords: vec![],
                read_only,
            })
        })
    }
    fn message(&mut self, mailbox: &str, uid: u32) -> BackendResult<Vec<u8>> {
        self.with(|w| {
            get(w, mailbox)?
                .msgs
                .iter()
                .find(|m| m.0.uid == uid)
                .map(|m| m.1.clone())
                .ok_or(BackendError::Cannot("expunged".into()))
        })
    }
    fn metas(&mut self, mailbox: &str, uids: &[u32]) -> BackendResult<Vec<MessageMeta>> {
        self.with(|w| {
            Ok(get(w, mailbox)?
                .msgs
                .iter()
                .filter(|m| uids.contains(&m.0.uid))
                .map(|m| m.0.clone())
                .collect())
        })
    }
    fn store(&mut self, mailbox: &str, req: &StoreRequest) -> BackendResult<StoreOutcome> {
        self.with(|w| {
            let b = get(w, mailbox)?;
            let mut out = StoreOutcome::default();
            for (m, _) in b.msgs.iter_mut().filter(|m| req.uids.contains(&m.0.uid)) {
                if req.unchanged_since.is_some_and(|u| m.modseq > u) {
                    out.modified.push(m.uid);
                    continue;
                }
                let mut next = match req.mode {
                    StoreMode::Replace => vec![],
                    _ => m.flags.clone(),
                };
                for f in &req.flags {
                    match req.mode {
                        StoreMode::Remove => next.retain(|x| x != f),
                        _ if !next.contains(f) => next.push(f.clone()),
                        _ => {}
                    }
                }
                if next != m.flags {
                    b.modseq += 1;
                    m.flags = next;
                    m.modseq = b.modseq;
                    out.changed.push(m.clone());
                }
            }
            Ok(out)
        })
    }
    fn expunge(&mut self, mailbox: &str, uids: Option<&[u32]>) -> BackendResult<Vec<u32>> {
        self.with(|w| {
            let b = get(w, mailbox)?;
            let gone: Vec<u32> = b
                .msgs
                .iter()
                .filter(|m| m.0.flags.contains(&Flag::Deleted))
                .filter(|m| uids.is_none_or(|u| u.contains(&m.0.uid)))
                .map(|m| m.0.uid)
                .collect();
            b.msgs.retain(|m| !gone.contains(&m.0.uid));
            b.modseq += 1;
            let ms = b.modseq;
            b.expunged.extend(gone.iter().map(|&u| (u, ms)));
            Ok(gone)
        })
    }
    fn append(&mut self, mailbox: &str, req: AppendRequest) -> BackendResult<AppendOutcome> {
        self.with(|w| {
            let b = get(w, mailbox)?;
            let uid = b.uid_next;
            b.uid_next += 1;
            b.modseq += 1;
            let (date, off) = req.internal_date.unwrap_or((1_700_000_000, 0));
            b.msgs.push((
                MessageMeta {
                    uid,
                    flags: req.flags,
                    modseq: b.modseq,
                    internal_date: date,
                    internal_date_offset_minutes: off,
                    size: crate::message::to_crlf(&req.message).len() as u64,
                },
                req.message,
            ));
            Ok(AppendOutcome {
                uid_validity: b.uid_validity,
                uid,
            })
        })
    }
    fn copy(&mut self, from: &str, uids: &[u32], to: &str) -> BackendResult<CopyOutcome> {
        let msgs: Vec<(MessageMeta, Vec<u8>)> = self.with(|w| {
            Ok(get(w, from)?
                .msgs
                .iter()
                .filter(|m| uids.contains(&m.0.uid))
                .cloned()
                .collect())
        })?;
        let mut out = CopyOutcome::default();
        for (m, data) in msgs {
            let r = self.append(
                to,
                AppendRequest {
                    flags: m.flags.clone(),
                    internal_date: None,
                    message: data,
                },
            )?;
            out.uid_validity = r.uid_validity;
            out.mapping.push((m.uid, r.uid));
        }
        Ok(out)
    }
    fn move_messages(&mut self, from: &str, uids: &[u32], to: &str) -> BackendResult<CopyOutcome> {
        let out = self.copy(from, uids, to)?;
        self.with(|w| {
            let b = get(w, from)?;
            b.msgs.retain(|m| !uids.contains(&m.0.uid));
            b.modseq += 1;
            let ms = b.modseq;
            b.expunged.extend(uids.iter().map(|&u| (u, ms)));
            Ok(())
        })?;
        Ok(out)
    }
    fn create(&mut self, name: &str, special: Option<SpecialUse>) -> BackendResult<()> {
        self.with(|w| {
            if w.boxes.contains_key(name) {
                return Err(BackendError::AlreadyExists);
            }
            w.boxes.insert(
                name.to_string(),
                MemBox {
                    uid_validity: 9,
                    uid_next: 1,
                    modseq: 1,
                    special,
                    ..Default::default()
                },
            );
            Ok(())
        })
    }
    fn delete(&mut self, name: &str) -> BackendResult<()> {
        self.with(|w| {
            w.boxes
                .remove(name)
                .map(|_| ())
                .ok_or(BackendError::NoSuchMailbox)
        })
    }
    fn rename(&mut self, from: &str, to: &str) -> BackendResult<()> {
        self.with(|w| {
            let b = w.boxes.remove(from).ok_or(BackendError::NoSuchMailbox)?;
            w.boxes.insert(to.to_string(), b);
            Ok(())
        })
    }
    fn subscribe(&mut self, name: &str, on: bool) -> BackendResult<()> {
        self.with(|w| {
            if on {
                get(w, name)?;
                w.subscriptions.insert(name.to_string());
            } else {
                w.subscriptions.remove(name);
            }
            Ok(())
        })
    }
    fn subscriptions(&mut self) -> BackendResult<Vec<String>> {
        self.with(|w| Ok(w.subscriptions.iter().cloned().collect()))
    }
    fn claim_recent(&mut self, mailbox: &str, below: u32) -> BackendResult<u32> {
        self.with(|w| {
            let b = get(w, mailbox)?;
            let first = b.first_recent;
            b.first_recent = first.max(below);
            Ok(first)
        })
    }
    fn changes(&mut self, mailbox: &str, since: u64, known: u32) -> BackendResult<Changes> {
        self.with(|w| {
            let b = get(w, mailbox)?;
            Ok(Changes {
                expunged: b
                    .expunged
                    .iter()
                    .filter(|e| e.1 > since)
                    .map(|e| e.0)
                    .collect(),
                added: b
                    .msgs
                    .iter()
                    .filter(|m| m.0.uid >= known)
                    .map(|m| m.0.clone())
                    .collect(),
                flags_changed: b
                    .msgs
                    .iter()
                    .filter(|m| m.0.uid < known && m.0.modseq > since)
                    .map(|m| m.0.clone())
                    .collect(),
                uid_next: b.uid_next,
                highest_modseq: b.modseq,
            })
        })
    }
    fn quota(&mut self) -> BackendResult<Quota> {
        Ok(Quota {
            storage_used_kib: 3,
            storage_limit_kib: Some(1024),
            messages_used: 0,
            messages_limit: None,
        })
    }
    fn watch(&mut self, _: &str, _: Box<dyn Fn() + Send + Sync>) -> BackendResult<Subscription> {
        Ok(Subscription(Box::new(())))
    }
}

struct MemAuth(Mem);

impl Authenticator for MemAuth {
    fn authenticate(&self, c: &Credentials) -> AuthOutcome {
        if c.password == "secret" {
            AuthOutcome::Success(Account {
                name: c.username.clone(),
                mailboxes: Box::new(self.0.clone()),
            })
        } else {
            AuthOutcome::Failed
        }
    }
}

const M1: &str = "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: hello\r\nDate: Tue, 14 Nov 2023 10:00:00 +0000\r\n\r\nFirst body.\r\n";
const M2: &str = "From: Carol <carol@example.test>\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nViele Gr=C3=BC=C3=9Fe\r\n";

/// Two sessions on one in-memory account with INBOX (two messages), Sent, Archive.
fn world() -> (Mem, Session) {
    let mem = Mem(Arc::new(Mutex::new(World::default())));
    let mut m = mem.clone();
    for (n, su) in [
        ("INBOX", None),
        ("Sent", Some(SpecialUse::Sent)),
        ("Archive", Some(SpecialUse::Archive)),
    ] {
        let _ = m.create(n, su);
    }
    for msg in [M1, M2] {
        let _ = m.append(
            "INBOX",
            AppendRequest {
                flags: vec![],
                internal_date: Some((1_700_000_000, 60)),
                message: msg.as_bytes().to_vec(),
            },
        );
    }
    // As if an earlier session had seen them: nothing is \Recent to start with.
    let _ = mem.with(|w| {
        for b in w.boxes.values_mut() {
            b.first_recent = b.uid_next;
        }
        Ok(())
    });
    (mem.clone(), session(&mem))
}

pub(super) fn session(mem: &Mem) -> Session {
    let mut cfg = SessionConfig::new("mx.example.test");
    cfg.plaintext_auth_on_loopback = true;
    let mut s = Session::new(
        Arc::new(cfg),
        Arc::new(MemAuth(mem.clone())),
        "t".into(),
        IpAddr::from([127, 0, 0, 1]),
    );
    send(&mut s, "l LOGIN bob secret\r\n");
    s
}

pub(super) fn send(s: &mut Session, input: &str) -> String {
    s.feed(input.as_bytes());
    while let Some(a) = s.advance() {
        if a == Action::Authenticate {
            let outcome = s.check_credentials();
            s.auth_answer(outcome);
        }
    }
    String::from_utf8_lossy(&s.take_output()).into_owned()
}

#[test]
fn select_reports_the_mailbox() {
    let (_, mut s) = world();
    let out = send(&mut s, "a SELECT INBOX\r\n");
    assert!(
        out.starts_with("* 2 EXISTS\r\n* 0 RECENT\r\n* FLAGS ("),
        "{out}"
    );
    assert!(out.contains("* OK [UIDVALIDITY 9]"), "{out}");
    assert!(out.contains("* OK [UIDNEXT 3]"), "{out}");
    assert!(out.contains("* OK [HIGHESTMODSEQ 3]"), "{out}");
    assert!(out.contains("\\*)]"), "{out}");
    assert!(
        out.ends_with("a OK [READ-WRITE] SELECT completed\r\n"),
        "{out}"
    );
    let out = send(&mut s, "b EXAMINE Sent\r\n");
    assert!(out.starts_with("* OK [CLOSED]"), "{out}");
    assert!(
        out.ends_with("b OK [READ-ONLY] EXAMINE completed\r\n"),
        "{out}"
    );
    assert!(send(&mut s, "c STORE 1 +FLAGS (\\Seen)\r\n").contains("c NO [READ-ONLY]"));
    assert!(send(&mut s, "d SELECT Nope\r\n").contains("d NO [NONEXISTENT]"));
    let out = send(&mut s, "e ENABLE IMAP4rev2\r\n");
    assert!(out.contains("e OK"), "{out}");
    let out = send(&mut s, "f SELECT INBOX\r\n");
    assert!(
        !out.contains("RECENT") && out.contains("* LIST () \"/\" \"INBOX\""),
        "{out}"
    );
}

#[test]
fn list_lsub_and_extended_list() {
    let (_, mut s) = world();
    let out = send(&mut s, "a LIST \"\" *\r\n");
    assert!(
        out.contains("* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"),
        "{out}"
    );
    assert!(
        out.contains("* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"\r\n"),
        "{out}"
    );
    assert_eq!(
        send(&mut s, "b LIST \"\" \"\"\r\n"),
        "* LIST (\\Noselect) \"/\" \"\"\r\nb OK LIST completed\r\n"
    );
    send(&mut s, "c SUBSCRIBE Sent\r\n");
    assert_eq!(
        send(&mut s, "d LSUB \"\" *\r\n"),
        "* LSUB () \"/\" \"Sent\"\r\nd OK LSUB completed\r\n"
    );
    let out = send(
        &mut s,
        "e LIST (SPECIAL-USE) \"\" * RETURN (STATUS (MESSAGES UIDNEXT))\r\n",
    );
    assert!(
        out.contains("\"Archive\"\r\n* STATUS \"Archive\" (MESSAGES 0 UIDNEXT 1)\r\n"),
        "{out}"
    );
    assert!(!out.contains("INBOX"), "{out}");
    let out = send(&mut s, "f LIST \"\" (INBOX Sent) RETURN (SUBSCRIBED)\r\n");
    assert!(
        out.contains("(\\HasNoChildren \\Subscribed \\Sent) \"/\" \"Sent\""),
        "{out}"
    );
    assert!(out.contains("\"INBOX\""), "{out}");
}

#[test]
fn create_delete_rename_status() {
    let (mem, mut s) = world();
    assert!(send(&mut s, "a CREATE Projects/2024\r\n").contains("a OK"));
    assert!(send(&mut s, "b CREATE Projects/2024\r\n").contains("b NO [ALREADYEXISTS]"));
    assert!(send(&mut s, "c CREATE Mine (USE (\\Drafts))\r\n").contains("c OK"));
    assert!(matches!(
        mem.0
            .lock()
            .unwrap()
            .boxes
            .get("Mine")
            .and_then(|b| b.special),
        Some(SpecialUse::Drafts)
    ));
    assert!(send(&mut s, "d RENAME Mine Yours\r\n").contains("d OK"));
    assert!(send(&mut s, "e DELETE Yours\r\n").contains("e OK"));
    assert!(send(&mut s, "f DELETE INBOX\r\n").contains("f NO [CANNOT]"));
    let out = send(
        &mut s,
        "g STATUS INBOX (MESSAGES UNSEEN UIDNEXT UIDVALIDITY SIZE HIGHESTMODSEQ)\r\n",
    );
    assert!(
        out.starts_with("* STATUS \"INBOX\" (MESSAGES 2 UNSEEN 2 UIDNEXT 3 UIDVALIDITY 9 SIZE "),
        "{out}"
    );
    assert!(send(&mut s, "h CREATE \"bad\x01\"\r\n").contains("h "));
}

#[test]
fn append_with_uidplus_and_limits() {
    let (_, mut s) = world();
    let out = send(
        &mut s,
        "a APPEND Sent (\\Seen) \"14-Nov-2023 10:00:00 +0100\" {14}\r\nSubject: x\r\n\r\n\r\n",
    );
    assert!(
        out.ends_with("a OK [APPENDUID 9 1] APPEND completed\r\n"),
        "{out}"
    );
    let out = send(&mut s, "b APPEND Nope {3+}\r\nabc\r\n");
    assert!(out.contains("b NO [TRYCREATE]"), "{out}");
    let out = send(&mut s, "c APPEND Sent {999999999}\r\n");
    assert!(out.contains("c NO [TOOBIG]"), "{out}");
    // Appending to the selected mailbox shows up as EXISTS, and the new message is
    // \Recent to this session (RFC 3501 §2.3.2).
    send(&mut s, "d SELECT INBOX\r\n");
    let out = send(&mut s, "e APPEND INBOX {14}\r\nSubject: y\r\n\r\n\r\n");
    assert!(
        out.contains("* 3 EXISTS\r\n* 1 RECENT\r\ne OK [APPENDUID 9 3]"),
        "{out}"
    );
}

#[test]
fn fetch_items_and_seen() {
    let (_, mut s) = world();
    send(&mut s, "s SELECT INBOX\r\n");
    let out = send(
        &mut s,
        "a FETCH 1 (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)\r\n",
    );
    assert!(out.starts_with("* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 126 INTERNALDATE \"14-Nov-2023 23:13:20 +0100\" ENVELOPE (\"Tue, 14 Nov 2023 10:00:00 +0000\" \"hello\""), "{out}");
    let out = send(&mut s, "b FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n");
    assert_eq!(
        out,
        "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: hello\r\n\r\n)\r\nb OK FETCH completed\r\n"
    );
    let out = send(&mut s, "c FETCH 1 BODY[TEXT]<0.5>\r\n");
    assert!(out.contains("BODY[TEXT]<0> \"First\""), "{out}");
    assert!(
        out.contains("FLAGS (\\Seen)"),
        "non-PEEK BODY sets \\Seen: {out}"
    );
    let out = send(
        &mut s,
        "d UID FETCH 2 (BODYSTRUCTURE BINARY[1] BINARY.SIZE[1])\r\n",
    );
    assert!(
        out.contains("UID 2 BODYSTRUCTURE (\"TEXT\" \"plain\""),
        "{out}"
    );
    assert!(out.contains("BINARY.SIZE[1] 15"), "{out}");
    // RFC 7162 §3.1: the first CONDSTORE-enabling command with a mailbox selected is
    // followed by the mailbox's HIGHESTMODSEQ.
    let out = send(&mut s, "e FETCH 1:* (FLAGS) (CHANGEDSINCE 3)\r\n");
    assert_eq!(
        out,
        "* OK [HIGHESTMODSEQ 5] Highest\r\n* 1 FETCH (FLAGS (\\Seen) MODSEQ (4))\r\n* 2 FETCH (FLAGS (\\Seen) MODSEQ (5))\r\ne OK FETCH completed\r\n"
    );
    let out = send(&mut s, "f FETCH 1 FAST\r\n");
    assert!(
        out.starts_with("* 1 FETCH (FLAGS (\\Seen) INTERNALDATE"),
        "{out}"
    );
    let out = send(&mut s, "g FETCH 1 (RFC822.HEADER)\r\n");
    assert!(out.contains("RFC822.HEADER {"), "{out}");
}

#[test]
fn store_with_silent_and_unchangedsince() {
    let (_, mut s) = world();
    send(&mut s, "s SELECT INBOX\r\n");
    assert_eq!(
        send(&mut s, "a STORE 1:2 +FLAGS (\\Flagged $Work)\r\n"),
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] Flags permitted.\r\n* 1 FETCH (FLAGS (\\Flagged $Work))\r\n* 2 FETCH (FLAGS (\\Flagged $Work))\r\na OK STORE completed\r\n"
    );
    assert_eq!(
        send(&mut s, "b STORE 1 -FLAGS.SILENT (\\Flagged)\r\n"),
        "b OK STORE completed\r\n"
    );
    let out = send(
        &mut s,
        "c UID STORE 1:2 (UNCHANGEDSINCE 5) FLAGS (\\Seen)\r\n",
    );
    assert!(out.contains("c OK [MODIFIED 1]"), "{out}");
    assert!(out.contains("UID 2 MODSEQ ("), "{out}");
    assert!(send(&mut s, "d STORE 1 +FLAGS (\\Recent)\r\n").contains("d BAD"));
}

#[test]
fn search_keys_and_esearch() {
    let (_, mut s) = world();
    send(&mut s, "s SELECT INBOX\r\n");
    send(&mut s, "x STORE 2 +FLAGS.SILENT (\\Seen)\r\n");
    assert_eq!(
        send(&mut s, "a SEARCH UNSEEN\r\n"),
        "* SEARCH 1\r\na OK SEARCH completed\r\n"
    );
    assert_eq!(
        send(&mut s, "b UID SEARCH FROM carol\r\n"),
        "* SEARCH 2\r\nb OK SEARCH completed\r\n"
    );
    let out = send(&mut s, "c SEARCH CHARSET UTF-8 TEXT {7+}\r\ngrüße\r\n");
    assert_eq!(out, "* SEARCH 2\r\nc OK SEARCH completed\r\n");
    assert_eq!(
        send(&mut s, "d SEARCH CHARSET UTF-8 SUBJECT {7+}\r\ngrüße\r\n")
            .lines()
            .next(),
        Some("* SEARCH 2")
    );
    assert_eq!(
        send(&mut s, "e SEARCH OR 1 BODY first\r\n").lines().next(),
        Some("* SEARCH 1")
    );
    assert_eq!(
        send(&mut s, "f SEARCH NOT SEEN LARGER 10 SINCE 1-Jan-2020\r\n")
            .lines()
            .next(),
        Some("* SEARCH 1")
    );
    assert_eq!(
        send(&mut s, "g SEARCH SENTBEFORE 1-Jan-2024 HEADER To bob\r\n")
            .lines()
            .next(),
        Some("* SEARCH 1")
    );
    assert_eq!(
        send(&mut s, "h UID SEARCH RETURN (MIN MAX COUNT) ALL\r\n"),
        "* ESEARCH (TAG \"h\") UID MIN 1 MAX 2 COUNT 2\r\nh OK SEARCH completed\r\n"
    );
    assert_eq!(
        send(&mut s, "i SEARCH RETURN () 1:*\r\n"),
        "* ESEARCH (TAG \"i\") ALL 1:2\r\ni OK SEARCH completed\r\n"
    );
    let out = send(&mut s, "j SEARCH MODSEQ 4\r\n");
    assert!(
        out.starts_with("* OK [HIGHESTMODSEQ ") && out.contains("* SEARCH 2 (MODSEQ 4)"),
        "{out}"
    );
    let out = send(&mut s, "j2 SEARCH MODSEQ 4\r\n");
    assert!(out.starts_with("* SEARCH 2 (MODSEQ 4)"), "once: {out}");
    assert!(send(&mut s, "k SEARCH CHARSET KOI8-R ALL\r\n").contains("k NO [BADCHARSET"));
}

#[test]
fn copy_move_expunge_and_other_sessions() {
    let (mem, mut s) = world();
    let mut other = session(&mem);
    send(&mut s, "s SELECT INBOX\r\n");
    send(&mut other, "s SELECT INBOX\r\n");
    assert_eq!(
        send(&mut s, "a COPY 1:2 Archive\r\n"),
        "a OK [COPYUID 9 1:2 1:2] COPY completed\r\n"
    );
    assert!(send(&mut s, "b COPY 1 Nope\r\n").contains("b NO [TRYCREATE]"));
    let out = send(&mut s, "c UID MOVE 1 Sent\r\n");
    assert_eq!(
        out,
        "* OK [COPYUID 9 1 1] Moved UIDs.\r\n* 1 EXPUNGE\r\nc OK MOVE completed\r\n"
    );
    send(&mut s, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
    assert_eq!(
        send(&mut s, "e EXPUNGE\r\n"),
        "* 1 EXPUNGE\r\ne OK EXPUNGE completed\r\n"
    );
    // The other session learns of it at NOOP (not during FETCH by number).
    let out = send(&mut other, "f FETCH 1 (FLAGS)\r\n");
    assert!(!out.contains("EXPUNGE"), "{out}");
    let out = send(&mut other, "g NOOP\r\n");
    assert!(
        out.contains("* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n")
            || out.contains("* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n"),
        "{out}"
    );
    assert!(send(&mut s, "h UID EXPUNGE 1:*\r\n").contains("h OK"));
    assert_eq!(send(&mut s, "i CLOSE\r\n"), "i OK CLOSE completed\r\n");
    assert!(send(&mut s, "j FETCH 1 FLAGS\r\n").contains("j BAD"));
}

#[test]
fn quota_and_unselect() {
    let (_, mut s) = world();
    assert_eq!(
        send(&mut s, "a GETQUOTAROOT INBOX\r\n"),
        "* QUOTAROOT \"INBOX\" \"\"\r\n* QUOTA \"\" (STORAGE 3 1024)\r\na OK GETQUOTAROOT completed\r\n"
    );
    assert!(send(&mut s, "b GETQUOTA \"\"\r\n").starts_with("* QUOTA \"\" (STORAGE 3 1024)"));
    assert!(send(&mut s, "c SETQUOTA \"\" (STORAGE 1)\r\n").contains("c NO [NOPERM]"));
    send(&mut s, "d SELECT INBOX\r\n");
    assert_eq!(
        send(&mut s, "e UNSELECT\r\n"),
        "e OK UNSELECT completed\r\n"
    );
    assert!(send(&mut s, "f CHECK\r\n").contains("f BAD"));
}

// ---- RFC 7162 §3.2 QRESYNC ---------------------------------------------------------------

/// INBOX with UIDs 2 and 3 left after another session flagged 2 (MODSEQ 5) and expunged 1
/// (MODSEQ 7); the client last synchronized at MODSEQ 4 (UIDVALIDITY 9).
fn changed_world() -> (Mem, Session) {
    let (mem, mut s) = world();
    let mut m = mem.clone();
    let _ = m.append(
        "INBOX",
        AppendRequest {
            flags: vec![],
            internal_date: None,
            message: M1.as_bytes().to_vec(),
        },
    );
    let mut other = session(&mem);
    send(&mut other, "a SELECT INBOX\r\n");
    send(&mut other, "b STORE 2 +FLAGS.SILENT (\\Flagged)\r\n");
    send(&mut other, "c STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
    assert!(send(&mut other, "d EXPUNGE\r\n").contains("d OK"));
    send(&mut s, "q ENABLE QRESYNC\r\n");
    (mem, s)
}

#[test]
fn select_qresync_reports_vanished_and_changed_flags() {
    let (_, mut s) = changed_world();
    let out = send(&mut s, "a SELECT INBOX (QRESYNC (9 4))\r\n");
    assert!(out.contains("* OK [HIGHESTMODSEQ 7]"), "{out}");
    assert!(
        out.ends_with(
            "* VANISHED (EARLIER) 1\r\n* 1 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (5))\r\na OK [READ-WRITE] SELECT completed\r\n"
        ),
        "{out}"
    );
    // Known UIDs limit both; the sequence match data is accepted (and not needed).
    let out = send(&mut s, "b EXAMINE INBOX (QRESYNC (9 4 3 (1 3)))\r\n");
    assert!(out.starts_with("* OK [CLOSED]"), "{out}");
    assert!(!out.contains("VANISHED") && !out.contains("FETCH"), "{out}");
    assert!(
        out.ends_with("b OK [READ-ONLY] EXAMINE completed\r\n"),
        "{out}"
    );
    let out = send(&mut s, "c SELECT INBOX (QRESYNC (9 4 1:2))\r\n");
    assert!(
        out.contains("* VANISHED (EARLIER) 1\r\n* 1 FETCH (UID 2 "),
        "{out}"
    );
    // Nothing newer than the client's MODSEQ: nothing to report.
    let out = send(&mut s, "d SELECT INBOX (QRESYNC (9 7))\r\n");
    assert!(!out.contains("VANISHED") && !out.contains("FETCH"), "{out}");
}

#[test]
fn select_qresync_with_another_uidvalidity_is_a_plain_select() {
    let (_, mut s) = changed_world();
    let out = send(&mut s, "a SELECT INBOX (QRESYNC (8 4))\r\n");
    assert!(out.contains("* 2 EXISTS"), "{out}");
    assert!(out.contains("* OK [HIGHESTMODSEQ 7]"), "{out}");
    assert!(!out.contains("VANISHED") && !out.contains("FETCH"), "{out}");
    assert!(
        out.ends_with("a OK [READ-WRITE] SELECT completed\r\n"),
        "{out}"
    );
}

#[test]
fn qresync_syntax_is_bad_unless_enabled_and_valid() {
    let (mem, _) = changed_world();
    let mut s = session(&mem);
    send(&mut s, "a SELECT INBOX\r\n");
    let out = send(&mut s, "b SELECT INBOX (QRESYNC (9 4))\r\n");
    assert_eq!(
        out,
        "b BAD QRESYNC is not enabled (use ENABLE QRESYNC first)\r\n"
    );
    // A BAD SELECT leaves the mailbox selected.
    assert!(matches!(s.state(), State::Selected(_)));
    let out = send(
        &mut s,
        "c UID FETCH 1:* (FLAGS) (CHANGEDSINCE 4 VANISHED)\r\n",
    );
    assert_eq!(
        out,
        "c BAD QRESYNC is not enabled (use ENABLE QRESYNC first)\r\n"
    );
    let mut s = session(&mem);
    send(&mut s, "d ENABLE QRESYNC\r\n");
    send(&mut s, "e SELECT INBOX\r\n");
    let out = send(&mut s, "f SELECT INBOX (QRESYNC (9 4 1:*))\r\n");
    assert!(out.starts_with("f BAD \"*\" is not allowed"), "{out}");
    assert!(matches!(s.state(), State::Selected(_)));
    let out = send(&mut s, "g UID FETCH 1:* (FLAGS) (VANISHED)\r\n");
    assert_eq!(out, "g BAD VANISHED needs CHANGEDSINCE\r\n");
    let out = send(&mut s, "h FETCH 1:* (FLAGS) (CHANGEDSINCE 4 VANISHED)\r\n");
    assert_eq!(out, "h BAD VANISHED is allowed only in UID FETCH\r\n");
}

#[test]
fn uid_fetch_vanished_lists_expunged_uids_of_the_set() {
    let (_, mut s) = changed_world();
    send(&mut s, "a SELECT INBOX\r\n");
    assert_eq!(
        send(
            &mut s,
            "b UID FETCH 1:* (FLAGS) (CHANGEDSINCE 4 VANISHED)\r\n"
        ),
        "* VANISHED (EARLIER) 1\r\n* 1 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (5))\r\nb OK FETCH completed\r\n"
    );
    assert_eq!(
        send(
            &mut s,
            "c UID FETCH 2:3 (FLAGS) (CHANGEDSINCE 4 VANISHED)\r\n"
        ),
        "* 1 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (5))\r\nc OK FETCH completed\r\n"
    );
    // Expunged before the MODSEQ given: not listed.
    assert_eq!(
        send(
            &mut s,
            "d UID FETCH 1:3 (FLAGS) (CHANGEDSINCE 7 VANISHED)\r\n"
        ),
        "d OK FETCH completed\r\n"
    );
}

#[test]
fn under_qresync_expunges_are_reported_as_vanished() {
    let (mem, mut s) = changed_world();
    let mut plain = session(&mem);
    let mut other = session(&mem);
    send(&mut other, "o ENABLE QRESYNC\r\n");
    for x in [&mut s, &mut plain, &mut other] {
        send(x, "s SELECT INBOX\r\n");
    }
    // UIDs 2 and 3 are messages 1 and 2.
    send(&mut s, "a STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
    assert_eq!(
        send(&mut s, "b EXPUNGE\r\n"),
        "* VANISHED 2\r\nb OK [HIGHESTMODSEQ 9] EXPUNGE completed\r\n"
    );
    // A session without QRESYNC still gets EXPUNGE; one with it, VANISHED.
    assert_eq!(
        send(&mut plain, "c NOOP\r\n"),
        "* 1 EXPUNGE\r\nc OK NOOP completed\r\n"
    );
    assert_eq!(
        send(&mut other, "d NOOP\r\n"),
        "* VANISHED 2\r\nd OK NOOP completed\r\n"
    );
    // MOVE: COPYUID, then VANISHED.
    assert_eq!(
        send(&mut s, "e UID MOVE 3 Archive\r\n"),
        "* OK [COPYUID 9 3 1] Moved UIDs.\r\n* VANISHED 3\r\ne OK MOVE completed\r\n"
    );
    // UID EXPUNGE of a new message; the other QRESYNC session learns of it.
    let out = send(
        &mut other,
        "f APPEND INBOX (\\Deleted) {14}\r\nSubject: z\r\n\r\n\r\n",
    );
    assert!(out.contains("* VANISHED 3\r\n* 1 EXISTS\r\n"), "{out}");
    let out = send(&mut s, "g NOOP\r\n");
    assert!(out.starts_with("* 1 EXISTS\r\n"), "{out}");
    assert_eq!(
        send(&mut s, "h UID EXPUNGE 4\r\n"),
        "* VANISHED 4\r\nh OK [HIGHESTMODSEQ 12] EXPUNGE completed\r\n"
    );
    assert_eq!(
        send(&mut other, "i NOOP\r\n"),
        "* VANISHED 4\r\ni OK NOOP completed\r\n"
    );
    // Nothing expunged: no HIGHESTMODSEQ.
    assert_eq!(send(&mut s, "x EXPUNGE\r\n"), "x OK EXPUNGE completed\r\n");
    // CLOSE sends no expunge responses at all (RFC 7162 §3.2.8 keeps RFC 9051's rule).
    send(&mut s, "j SELECT INBOX\r\n");
    assert_eq!(send(&mut s, "k CLOSE\r\n"), "k OK CLOSE completed\r\n");
}

#[test]
fn condstore_fetch_responses_carry_uid_and_modseq() {
    let (_, mut s) = world();
    send(&mut s, "a ENABLE CONDSTORE\r\n");
    send(&mut s, "b SELECT INBOX\r\n");
    // RFC 7162 §3.2.4: STORE's and an implicit \Seen's FETCH responses have UID and MODSEQ.
    assert_eq!(
        send(&mut s, "c STORE 1 +FLAGS (\\Flagged)\r\n"),
        "* 1 FETCH (FLAGS (\\Flagged) UID 1 MODSEQ (4))\r\nc OK STORE completed\r\n"
    );
    let out = send(&mut s, "d FETCH 2 (BODY[HEADER.FIELDS (SUBJECT)])\r\n");
    assert!(
        out.contains(" FLAGS (\\Seen) UID 2 MODSEQ (5))\r\n"),
        "{out}"
    );
    // A plain FETCH is answered as asked.
    assert_eq!(
        send(&mut s, "e FETCH 1 (FLAGS)\r\n"),
        "* 1 FETCH (FLAGS (\\Flagged))\r\ne OK FETCH completed\r\n"
    );
}

/// A FETCH of many messages reaches the output stream in pieces while it runs (more than one
/// piece before the command ends), and the bytes are exactly those of an unstreamed FETCH.
#[test]
fn long_fetch_is_streamed_in_pieces_with_the_same_bytes() {
    let (mem, mut plain) = world();
    let mut m = mem.clone();
    for i in 0..4000 {
        let msg = format!(
            "From: Sender {i} <s{i}@example.test>\r\nTo: bob@example.test\r\nSubject: message number {i} with a longer subject line\r\nMessage-ID: <{i}@example.test>\r\n\r\nBody {i}.\r\n"
        );
        let _ = m.append(
            "INBOX",
            AppendRequest {
                flags: vec![],
                internal_date: Some((1_700_000_000, 0)),
                message: msg.into_bytes(),
            },
        );
    }
    let command = "f FETCH 1:* (FLAGS ENVELOPE)\r\n";
    send(&mut plain, "s EXAMINE INBOX\r\n");
    let unstreamed = send(&mut plain, command);

    let mut streamed = session(&mem);
    send(&mut streamed, "s EXAMINE INBOX\r\n");
    let pieces: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let sink = pieces.clone();
    streamed.set_output_stream(Some(Box::new(move |piece| {
        sink.lock().map(|mut p| p.push(piece)).is_ok()
    })));
    let rest = send(&mut streamed, command);
    let pieces = pieces.lock().map(|p| p.clone()).unwrap_or_default();
    assert!(
        pieces.len() >= 2,
        "{} pieces for {} bytes",
        pieces.len(),
        unstreamed.len()
    );
    assert!(!rest.is_empty() && rest.ends_with("f OK FETCH completed\r\n"));
    let mut all: Vec<u8> = pieces.concat();
    all.extend_from_slice(rest.as_bytes());
    assert_eq!(String::from_utf8_lossy(&all), unstreamed);
    assert_eq!(unstreamed.matches(" FETCH (FLAGS").count(), 4002);
}

/// The events this test binary writes, as JSON lines (one sink per process).
fn captured_events() -> Arc<Mutex<Vec<u8>>> {
    static BUF: std::sync::OnceLock<Arc<Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
                g.extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        mailward_event::install(mailward_event::Sink::new(
            Box::new(Shared(buf.clone())),
            mailward_event::Format::Json,
            mailward_event::Level::Info,
        ));
        buf
    })
    .clone()
}

/// Roundcube, tried as a new user would: its UNSUBSCRIBE after a RENAME got
/// `NO [NONEXISTENT]`, and nothing in mailward's log said so, even at `debug`.
#[test]
fn regress_a_refused_unsubscribe_is_logged_with_its_command_and_code() {
    let events = captured_events();
    let (_, mut s) = world();
    s.scope = mailward_event::Scope::connection(
        mailward_event::Protocol::Imap,
        "regress-unsub",
        IpAddr::from([127, 0, 0, 1]),
    );
    let out = send(&mut s, "a UNSUBSCRIBE NoSuchFolder\r\n");
    let out2 = send(&mut s, "b SELECT Nope\r\n");
    assert!(out2.contains("b NO [NONEXISTENT]"), "{out2}");
    let text =
        String::from_utf8_lossy(&events.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
    let ours: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["session"] == "regress-unsub")
        .collect();
    let failed = |command: &str| {
        ours.iter()
            .find(|v| v["event"] == "command_failed" && v["command"] == command)
            .cloned()
    };
    if out.contains("a NO") {
        let e = failed("UNSUBSCRIBE").unwrap_or_else(|| panic!("not logged: {out} {ours:?}"));
        assert!(
            e["code"].as_str().unwrap_or_default().starts_with("NO"),
            "{e}"
        );
    }
    let e = failed("SELECT").unwrap_or_else(|| panic!("not logged: {out2} {ours:?}"));
    assert_eq!(e["code"], "NO [NONEXISTENT]");
    assert_eq!(e["protocol"], "imap");
    assert_eq!(e["remote_ip"], "127.0.0.1");
}

/// In a 2-message mailbox, `STORE 1000 +FLAGS` changed message 2 and `FETCH 1000` returned
/// it: a sequence number above EXISTS was clamped to the last message. It is BAD now for
/// FETCH, STORE, COPY and MOVE (as Dovecot answers), and SEARCH finds nothing for it.
#[test]
fn regress_a_sequence_number_above_exists_acted_on_the_last_message() {
    let (_, mut s) = world();
    send(&mut s, "a SELECT INBOX\r\n");
    let out = send(&mut s, "b STORE 1000 +FLAGS (\\Flagged)\r\n");
    assert!(out.starts_with("b BAD"), "{out}");
    let out = send(&mut s, "c FETCH 1000 FLAGS\r\n");
    assert!(out.starts_with("c BAD"), "{out}");
    let out = send(&mut s, "d COPY 2:1000 Archive\r\n");
    assert!(out.starts_with("d BAD"), "{out}");
    let out = send(&mut s, "e FETCH 1:* FLAGS\r\n");
    assert!(!out.contains("\\Flagged"), "no message was changed: {out}");
    let out = send(&mut s, "f SEARCH 1000\r\n");
    assert_eq!(out, "* SEARCH\r\nf OK SEARCH completed\r\n");
    // `*` and UIDs beyond the last are not errors.
    assert!(send(&mut s, "g FETCH 2:* FLAGS\r\n").contains("g OK"));
    assert!(send(&mut s, "h UID FETCH 1000 FLAGS\r\n").contains("h OK"));
}

/// LSUB listed only subscribed mailboxes that exist, LIST (SUBSCRIBED) could not show a
/// subscribed name whose mailbox was deleted, unknown LIST options were ignored and a
/// pattern with `&` was `NO [CANNOT]`.
#[test]
fn regress_subscriptions_apart_from_mailboxes_in_list_and_lsub() {
    let (_, mut s) = world();
    send(&mut s, "a CREATE Lists/rust\r\n");
    send(&mut s, "b SUBSCRIBE Lists/rust\r\n");
    // RFC 3501 §6.3.9: `%` returns the unsubscribed parent, \Noselect, not the child.
    assert_eq!(
        send(&mut s, "c LSUB \"\" %\r\n"),
        "* LSUB (\\Noselect) \"/\" \"Lists\"\r\nc OK LSUB completed\r\n"
    );
    // RFC 5258 §3.5: the same with RECURSIVEMATCH is CHILDINFO.
    let out = send(&mut s, "d LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %\r\n");
    assert!(
        out.contains("\"Lists\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"),
        "{out}"
    );
    send(&mut s, "e DELETE Lists/rust\r\n");
    let out = send(&mut s, "f LIST (SUBSCRIBED) \"\" *\r\n");
    assert!(
        out.contains("* LIST (\\NonExistent \\Subscribed) \"/\" \"Lists/rust\"\r\n"),
        "{out}"
    );
    assert!(send(&mut s, "g UNSUBSCRIBE Lists/rust\r\n").starts_with("g OK"));
    assert!(send(&mut s, "h LIST (BOGUS) \"\" *\r\n").starts_with("h BAD"));
    assert!(send(&mut s, "i LIST (RECURSIVEMATCH) \"\" *\r\n").starts_with("i BAD"));
    assert!(send(&mut s, "j LIST \"\" * RETURN (BOGUS)\r\n").starts_with("j BAD"));
    let out = send(&mut s, "k LIST \"\" \"a&b!#$'+,-.0:;<=>?@[]^_`{|}~\"\r\n");
    assert_eq!(out, "k OK LIST completed\r\n");
}

/// The first `FETCH ... MODSEQ` of a session enabled CONDSTORE without the untagged
/// `OK [HIGHESTMODSEQ n]` RFC 7162 §3.1 asks for; later ones must not repeat it.
#[test]
fn regress_the_first_condstore_enabling_fetch_did_not_report_highestmodseq() {
    let (_, mut s) = world();
    send(&mut s, "a SELECT INBOX\r\n");
    let out = send(&mut s, "b FETCH 1 (MODSEQ)\r\n");
    assert!(
        out.starts_with("* OK [HIGHESTMODSEQ 3] Highest\r\n"),
        "{out}"
    );
    let out = send(&mut s, "c FETCH 1 (MODSEQ)\r\n");
    assert!(!out.contains("HIGHESTMODSEQ"), "{out}");
}

/// imaptest's stress mode saw "Keyword used without being in FLAGS": a keyword set by STORE
/// (here or in another session) was shown in a FETCH before an untagged FLAGS named it
/// (RFC 3501 §7.2.6).
#[test]
fn regress_a_new_keyword_was_shown_before_flags_announced_it() {
    let (mem, mut s) = world();
    send(&mut s, "a SELECT INBOX\r\n");
    let out = send(&mut s, "b STORE 1 +FLAGS ($Important)\r\n");
    let flags_at = out.find("* FLAGS (").unwrap_or(usize::MAX);
    let fetch_at = out.find("* 1 FETCH").unwrap_or(0);
    assert!(flags_at < fetch_at, "{out}");
    assert!(
        out.contains("$Important \\*)]"),
        "PERMANENTFLAGS too: {out}"
    );
    // Told once: a second use announces nothing.
    let out = send(&mut s, "c STORE 2 +FLAGS ($Important)\r\n");
    assert!(!out.contains("* FLAGS"), "{out}");
    // Another session's new keyword, seen at this session's next command.
    let mut other = session(&mem);
    send(&mut other, "x SELECT INBOX\r\n");
    send(&mut other, "y STORE 2 +FLAGS ($Later)\r\n");
    let out = send(&mut s, "d NOOP\r\n");
    let flags_at = out.find("* FLAGS (").unwrap_or(usize::MAX);
    let fetch_at = out.find("* 2 FETCH").unwrap_or(0);
    assert!(out.contains("$Later") && flags_at < fetch_at, "{out}");
}

/// `SEARCH RETURN (MIN) MODSEQ 1` answered the highest MODSEQ of every match instead of
/// that of the message it returned (RFC 7162 §3.1.5).
#[test]
fn regress_esearch_min_reported_the_modseq_of_every_match() {
    let (_, mut s) = world();
    send(&mut s, "a SELECT INBOX\r\n");
    send(&mut s, "b STORE 2 +FLAGS (\\Flagged)\r\n");
    let out = send(&mut s, "c SEARCH RETURN (MIN) MODSEQ 1\r\n");
    let all = send(&mut s, "d SEARCH RETURN (MAX) MODSEQ 1\r\n");
    let modseq = |out: &str| -> u64 {
        out.split("MODSEQ ")
            .nth(1)
            .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert!(out.contains(" MIN 1 MODSEQ "), "{out}");
    assert!(
        modseq(&out) < modseq(&all),
        "MIN's message has the lower MODSEQ: {out} / {all}"
    );
}

/// `\Recent` was never set: SELECT said `* 0 RECENT`, `SEARCH NEW` found nothing and
/// `STATUS RECENT` was 0, which IMAP4rev1 clients rely on (RFC 3501 §2.3.2). The first
/// session to SELECT a mailbox after messages arrive sees them `\Recent`; EXAMINE shows
/// them without taking them; the next SELECT does not see them recent.
#[test]
fn regress_recent_was_never_set() {
    let (mem, mut s) = world();
    let mut deliverer = mem.clone();
    for subject in ["one", "two"] {
        let _ = deliverer.append(
            "INBOX",
            AppendRequest {
                flags: vec![],
                internal_date: Some((1_700_000_000, 0)),
                message: format!("Subject: {subject}\r\n\r\nnew\r\n").into_bytes(),
            },
        );
    }
    let out = send(&mut s, "a STATUS INBOX (MESSAGES RECENT)\r\n");
    assert!(out.contains("(MESSAGES 4 RECENT 2)"), "{out}");
    let out = send(&mut s, "b EXAMINE INBOX\r\n");
    assert!(out.contains("* 2 RECENT\r\n"), "{out}");
    let out = send(&mut s, "c SELECT INBOX\r\n");
    assert!(
        out.contains("* 2 RECENT\r\n"),
        "EXAMINE took nothing: {out}"
    );
    let out = send(&mut s, "d SEARCH NEW\r\n");
    assert!(out.starts_with("* SEARCH 3 4\r\n"), "{out}");
    let out = send(&mut s, "e SEARCH OLD\r\n");
    assert!(out.starts_with("* SEARCH 1 2\r\n"), "{out}");
    let out = send(&mut s, "f FETCH 3 FLAGS\r\n");
    assert!(out.contains("FLAGS (\\Recent)"), "{out}");
    // Another session selecting now sees none of them recent.
    let mut other = session(&mem);
    let out = send(&mut other, "x SELECT INBOX\r\n");
    assert!(out.contains("* 0 RECENT\r\n"), "{out}");
    // IMAP4rev2 has no \Recent (ENABLE comes before SELECT).
    let mut rev2 = session(&mem);
    assert!(send(&mut rev2, "g ENABLE IMAP4rev2\r\n").contains("g OK"));
    let _ = deliverer.append(
        "INBOX",
        AppendRequest {
            flags: vec![],
            internal_date: Some((1_700_000_000, 0)),
            message: b"Subject: three\r\n\r\nnew\r\n".to_vec(),
        },
    );
    let out = send(&mut rev2, "h SELECT INBOX\r\n");
    assert!(!out.contains("RECENT"), "{out}");
    let out = send(&mut rev2, "i FETCH 5 FLAGS\r\n");
    assert!(out.contains("FLAGS ()"), "{out}");
}

/// An IMAP4rev1 SELECT did not name the first unseen message (`* OK [UNSEEN n]`, RFC 3501
/// §6.3.1), which imaptest's select group and rev1 clients expect.
#[test]
fn regress_select_did_not_name_the_first_unseen_message() {
    let (_, mut s) = world();
    send(&mut s, "a SELECT INBOX\r\n");
    send(&mut s, "b STORE 1 +FLAGS (\\Seen)\r\n");
    let out = send(&mut s, "c EXAMINE INBOX\r\n");
    assert!(out.contains("* OK [UNSEEN 2] First unseen.\r\n"), "{out}");
    send(&mut s, "d STORE 2 +FLAGS (\\Seen)\r\n");
    send(&mut s, "e SELECT INBOX\r\n");
    send(&mut s, "f STORE 2 +FLAGS (\\Seen)\r\n");
    let out = send(&mut s, "g SELECT INBOX\r\n");
    assert!(!out.contains("UNSEEN"), "all seen: {out}");
}

/// `BINARY.PEEK[1]<0.5>` answered `BINARY[1] "First"` without the partial's origin, which
/// RFC 3516 §4.2 (as BODY[] in RFC 9051 §7.5.2) requires: `BINARY[1]<0>`.
#[test]
fn regress_a_partial_binary_fetch_left_out_its_origin() {
    let (_, mut s) = world();
    send(&mut s, "a SELECT INBOX\r\n");
    let out = send(&mut s, "b FETCH 1 (BINARY.PEEK[1]<0.5>)\r\n");
    assert!(out.contains("BINARY[1]<0> \"First\""), "{out}");
    let out = send(&mut s, "c FETCH 1 (BINARY.PEEK[1])\r\n");
    assert!(out.contains("BINARY[1] {13}\r\nFirst body.\r\n"), "{out}");
}
