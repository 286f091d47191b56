//! Fuzzes the IMAP command path (`mailward_imap`): the wire framer (lines, literals,
//! LITERAL+, limits), the imap-codec command decoder and the session state machine.
//! Arbitrary bytes, fed in arbitrary pieces, with authentication answered both ways, must
//! never panic, and every response must end its line.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_imap::backend::{
    Account, AppendOutcome, AppendRequest, AuthOutcome, Authenticator, BackendError, BackendResult,
    Changes, CopyOutcome, Credentials, Flag, MailboxBackend, MailboxInfo, MailboxStatus,
    MessageMeta, Quota, Selected, SpecialUse, StoreOutcome, StoreRequest, Subscription,
};
use mailward_imap::{Action, Limits, Session, SessionConfig};
use std::sync::Arc;

/// One read-only INBOX of three fixed messages (plain, MIME multipart with an encoded word,
/// malformed), so that SELECT, FETCH of every item, SEARCH and the MIME code run; every
/// other call fails.
struct NoMailboxes;

const MESSAGES: [&[u8]; 3] = [
    b"From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: hello\r\nDate: Tue, 14 Nov 2023 10:00:00 +0000\r\n\r\nFirst body.\r\n",
    b"From: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= <c@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nViele Gr=C3=BC=C3=9Fe\r\n--b1\r\nContent-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--b1--\r\n",
    b"Subject: =?x?B?broken\r\nContent-Type: multipart/alternative\r\n\r\nno boundary\r\n",
];

fn meta(uid: u32) -> Option<MessageMeta> {
    let raw = MESSAGES.get(usize::try_from(uid).ok()?.checked_sub(1)?)?;
    Some(MessageMeta {
        uid,
        flags: if uid == 2 { vec![Flag::Seen] } else { vec![] },
        modseq: u64::from(uid),
        internal_date: 1_700_000_000,
        internal_date_offset_minutes: 60,
        size: raw.len() as u64,
    })
}

fn no<T>() -> BackendResult<T> {
    Err(BackendError::Cannot("fuzz".into()))
}

impl MailboxBackend for NoMailboxes {
    fn list(&mut self) -> BackendResult<Vec<MailboxInfo>> {
        no()
    }
    fn status(&mut self, _: &str) -> BackendResult<MailboxStatus> {
        no()
    }
    fn select(&mut self, name: &str, _: bool) -> BackendResult<Selected> {
        if !name.eq_ignore_ascii_case("INBOX") {
            return no();
        }
        Ok(Selected {
            uid_validity: 7,
            uid_next: 4,
            highest_modseq: 3,
            uids: Arc::new(vec![1, 2, 3]),
            keywords: vec![],
            first_recent: 4,
            first_unseen: Some(1),
            read_only: true,
        })
    }
    fn message(&mut self, _: &str, uid: u32) -> BackendResult<Vec<u8>> {
        let i = usize::try_from(uid).ok().and_then(|u| u.checked_sub(1));
        match i.and_then(|i| MESSAGES.get(i)) {
            Some(m) => Ok(m.to_vec()),
            None => no(),
        }
    }
    fn metas(&mut self, _: &str, uids: &[u32]) -> BackendResult<Vec<MessageMeta>> {
        Ok(uids.iter().filter_map(|&u| meta(u)).collect())
    }
    fn store(&mut self, _: &str, _: &StoreRequest) -> BackendResult<StoreOutcome> {
        no()
    }
    fn expunge(&mut self, _: &str, _: Option<&[u32]>) -> BackendResult<Vec<u32>> {
        no()
    }
    fn append(&mut self, _: &str, _: AppendRequest) -> BackendResult<AppendOutcome> {
        no()
    }
    fn copy(&mut self, _: &str, _: &[u32], _: &str) -> BackendResult<CopyOutcome> {
        no()
    }
    fn move_messages(&mut self, _: &str, _: &[u32], _: &str) -> BackendResult<CopyOutcome> {
        no()
    }
    fn create(&mut self, _: &str, _: Option<SpecialUse>) -> BackendResult<()> {
        no()
    }
    fn delete(&mut self, _: &str) -> BackendResult<()> {
        no()
    }
    fn rename(&mut self, _: &str, _: &str) -> BackendResult<()> {
        no()
    }
    fn subscribe(&mut self, _: &str, _: bool) -> BackendResult<()> {
        no()
    }
    fn subscriptions(&mut self) -> BackendResult<Vec<String>> {
        no()
    }
    fn changes(&mut self, _: &str, _: u64, _: u32) -> BackendResult<Changes> {
        Ok(Changes {
            expunged: vec![],
            added: vec![],
            flags_changed: vec![],
            uid_next: 4,
            highest_modseq: 3,
        })
    }
    fn quota(&mut self) -> BackendResult<Quota> {
        no()
    }
    fn watch(&mut self, _: &str, _: Box<dyn Fn() + Send + Sync>) -> BackendResult<Subscription> {
        no()
    }
}

/// Accepts passwords of even length.
struct Auth;

impl Authenticator for Auth {
    fn authenticate(&self, c: &Credentials) -> AuthOutcome {
        match c.password.len() % 3 {
            0 => AuthOutcome::Success(Account {
                name: c.username.clone(),
                mailboxes: Box::new(NoMailboxes),
            }),
            1 => AuthOutcome::Failed,
            _ => AuthOutcome::Unavailable("fuzz".into()),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut cfg = SessionConfig::new("imap.fuzz.test");
    cfg.tls_available = selector & 1 != 0;
    cfg.plaintext_auth_on_loopback = selector & 2 != 0;
    cfg.limits = Limits {
        max_line: 512,
        max_literal: 256,
        max_literal_unauthenticated: 64,
        max_append: 1024,
        max_command: 2048,
        max_discard: 4096,
        max_bad_commands: 100,
        max_auth_failures: 50,
        ..Limits::default()
    };
    let ip = if selector & 4 != 0 {
        [127, 0, 0, 1]
    } else {
        [198, 51, 100, 7]
    };
    let mut s = Session::new(Arc::new(cfg), Arc::new(Auth), "F".into(), ip.into());
    s.greeting();
    // Piece sizes come from the selector so pipelining and split lines are both covered.
    let piece = usize::from(selector >> 3) * 3 + 1;
    for chunk in rest.chunks(piece) {
        if s.is_closed() {
            break;
        }
        s.feed(chunk);
        let mut guard = 0;
        while let Some(action) = s.advance() {
            guard += 1;
            if guard > 10_000 {
                panic!("advance loops without consuming input");
            }
            match action {
                Action::StartTls => s.tls_established(),
                Action::Idle => s.poll_changes(),
                Action::AuthFailed { .. } => {}
                Action::Authenticate => {
                    let outcome = s.check_credentials();
                    if s.auth_answer(outcome) == Some(Action::Close) {
                        break;
                    }
                }
                Action::Close => break,
            }
        }
        let out = s.take_output();
        assert!(
            out.is_empty() || out.ends_with(b"\r\n"),
            "response without line end"
        );
    }
});
