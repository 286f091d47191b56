//! NOTIFY (RFC 5465) over the real store: two sessions of one account (SQLite and Maildir
//! in a temporary directory); what one does reaches the other through the account's
//! change feed, as STATUS and LIST responses at its next NOOP.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_imap::backend::{Account, AuthOutcome, Authenticator, Credentials};
use mailward_imap::{Action, Session, SessionConfig, StoreMailboxes};
use mailward_store::access::MailAccess;
use mailward_store::{DataDir, Store, directory};
use std::sync::Arc;

struct Opener {
    store: Arc<Store>,
    account: directory::Account,
}

impl Authenticator for Opener {
    fn authenticate(&self, c: &Credentials) -> AuthOutcome {
        let access = MailAccess::open(self.store.clone(), self.account.clone()).unwrap();
        AuthOutcome::Success(Account {
            name: c.username.clone(),
            mailboxes: Box::new(StoreMailboxes::new(access)),
        })
    }
}

fn send(s: &mut Session, input: &str) -> String {
    s.feed(input.as_bytes());
    while let Some(a) = s.advance() {
        if a == Action::Authenticate {
            let outcome = s.check_credentials();
            s.auth_answer(outcome);
        }
    }
    String::from_utf8_lossy(&s.take_output()).into_owned()
}

fn sessions(n: usize) -> (tempfile::TempDir, Vec<Session>) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
    let account = directory::add_account(&store.conn(), "bob@example.test", "x", None).unwrap();
    let auth = Arc::new(Opener { store, account });
    let mut cfg = SessionConfig::new("mx.example.test");
    cfg.plaintext_auth_on_loopback = true;
    let cfg = Arc::new(cfg);
    let all = (0..n)
        .map(|i| {
            let mut s = Session::new(
                cfg.clone(),
                auth.clone(),
                format!("s{i}"),
                [127, 0, 0, 1].into(),
            );
            let out = send(&mut s, "l LOGIN bob@example.test x\r\n");
            assert!(out.contains("l OK"), "{out}");
            s
        })
        .collect();
    (tmp, all)
}

fn untagged(out: &str, prefix: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// imaptest's `notify` script: the initial STATUS items follow the events asked for, the
/// selected mailbox gets none, and NOTIFY SET without STATUS sends none.
#[test]
fn notify_set_status_sends_the_items_of_the_events() {
    let (_tmp, mut s) = sessions(1);
    let a = &mut s[0];
    send(a, "c CREATE box2\r\n");
    send(a, "p APPEND box2 {12}\r\nSubject: x\r\n\r\n");
    send(a, "s SELECT INBOX\r\n");

    let out = send(
        a,
        "n1 NOTIFY SET STATUS (mailboxes box2 (MessageExpunge))\r\n",
    );
    let st = untagged(&out, "* STATUS");
    assert_eq!(st.len(), 1, "{out}");
    assert!(
        st[0].starts_with("* STATUS \"box2\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ")
            && !st[0].contains("HIGHESTMODSEQ"),
        "{out}"
    );
    assert!(out.ends_with("n1 OK NOTIFY completed\r\n"), "{out}");

    let out = send(a, "n2 NOTIFY SET STATUS (mailboxes box2 (FlagChange))\r\n");
    assert!(out.contains(" HIGHESTMODSEQ "), "{out}");

    // `personal` takes every mailbox, but not the selected INBOX.
    let out = send(
        a,
        "n3 NOTIFY SET STATUS (personal (MessageNew MessageExpunge))\r\n",
    );
    assert!(out.contains("* STATUS \"Archive\" ("), "{out}");
    assert!(!out.contains("* STATUS \"INBOX\""), "{out}");

    let out = send(
        a,
        "n4 NOTIFY SET (mailboxes box2 (MessageNew MessageExpunge FlagChange))\r\n",
    );
    assert_eq!(out, "n4 OK NOTIFY completed\r\n");
}

#[test]
fn another_sessions_changes_arrive_as_status_and_list() {
    let (_tmp, mut s) = sessions(2);
    let (a, b) = s.split_at_mut(1);
    let (a, b) = (&mut a[0], &mut b[0]);
    let out = send(
        a,
        "n NOTIFY SET (subtree Lists (MessageNew MessageExpunge MailboxName)) (mailboxes Archive (FlagChange)) (subscribed (SubscriptionChange))\r\n",
    );
    assert!(out.ends_with("n OK NOTIFY completed\r\n"), "{out}");

    send(b, "1 CREATE Lists/rust\r\n");
    send(b, "2 APPEND Lists/rust {12}\r\nSubject: x\r\n\r\n");
    send(b, "3 APPEND Archive {12}\r\nSubject: y\r\n\r\n");
    let out = send(a, "x NOOP\r\n");
    assert_eq!(
        untagged(&out, "* LIST"),
        [
            "* LIST () \"/\" \"Lists\"",
            "* LIST () \"/\" \"Lists/rust\""
        ],
        "{out}"
    );
    // One STATUS for the two changes to Lists/rust (create, append): coalesced.
    let st = untagged(&out, "* STATUS");
    assert_eq!(st.len(), 1, "{out}");
    assert!(
        st[0].starts_with("* STATUS \"Lists/rust\" (MESSAGES 1 UIDNEXT 2 "),
        "{out}"
    );
    // Archive watches flag changes only: a new message there says nothing.
    assert!(!out.contains("Archive"), "{out}");

    send(b, "4 SELECT Archive\r\n");
    send(b, "5 STORE 1 +FLAGS (\\Flagged)\r\n");
    send(b, "6 RENAME Lists/rust Lists/go\r\n");
    send(b, "7 SUBSCRIBE Lists/go\r\n");
    send(b, "8 DELETE Lists/go\r\n");
    let out = send(a, "y NOOP\r\n");
    let st = untagged(&out, "* STATUS");
    assert!(
        st.len() == 1
            && st[0].starts_with("* STATUS \"Archive\" (")
            && st[0].contains("HIGHESTMODSEQ"),
        "{out}"
    );
    assert_eq!(
        untagged(&out, "* LIST"),
        [
            "* LIST () \"/\" \"Lists/go\" (\"OLDNAME\" (\"Lists/rust\"))",
            "* LIST (\\NonExistent) \"/\" \"Lists/go\"",
        ],
        "Lists/go falls under the subtree filter first, which takes no SubscriptionChange: {out}"
    );

    // NOTIFY NONE: silence.
    send(a, "z NOTIFY NONE\r\n");
    send(b, "9 APPEND Archive {12}\r\nSubject: z\r\n\r\n");
    send(b, "10 CREATE Lists/new\r\n");
    assert_eq!(send(a, "w NOOP\r\n"), "w OK NOOP completed\r\n");
}

#[test]
fn subscription_changes_follow_the_subscribed_filter() {
    let (_tmp, mut s) = sessions(2);
    let (a, b) = s.split_at_mut(1);
    let (a, b) = (&mut a[0], &mut b[0]);
    send(b, "1 CREATE Watched\r\n");
    send(b, "2 SUBSCRIBE Watched\r\n");
    send(
        a,
        "n NOTIFY SET (subscribed (MessageNew MessageExpunge SubscriptionChange))\r\n",
    );
    send(b, "3 APPEND Watched {12}\r\nSubject: x\r\n\r\n");
    send(b, "4 UNSUBSCRIBE Watched\r\n");
    send(b, "5 APPEND Watched {12}\r\nSubject: y\r\n\r\n");
    let out = send(a, "x NOOP\r\n");
    // Subscribed when the message came; no longer when the second came (the events are
    // read in one go, so both see the subscription as it is now: unsubscribed).
    assert!(out.contains("* LIST () \"/\" \"Watched\""), "{out}");
    assert!(!out.contains("* STATUS"), "{out}");
}

#[test]
fn new_messages_in_the_selected_mailbox_come_with_the_fetch_items() {
    let (_tmp, mut s) = sessions(2);
    let (a, b) = s.split_at_mut(1);
    let (a, b) = (&mut a[0], &mut b[0]);
    send(a, "s SELECT INBOX\r\n");
    send(
        a,
        "n NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)]) MessageExpunge))\r\n",
    );
    send(b, "1 APPEND INBOX {14}\r\nSubject: new\r\n\r\n");
    let out = send(a, "x NOOP\r\n");
    assert!(out.starts_with("* 1 EXISTS\r\n"), "{out}");
    assert!(
        out.contains("* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {14}\r\nSubject: new\r\n)"),
        "{out}"
    );
    assert!(!out.contains("NOTIFY "), "no stray tagged line: {out}");
    assert!(out.ends_with("x OK NOOP completed\r\n"), "{out}");
}

#[test]
fn unsupported_events_and_bad_syntax() {
    let (_tmp, mut s) = sessions(1);
    let a = &mut s[0];
    let out = send(
        a,
        "a NOTIFY SET (personal (MessageNew MessageExpunge MailboxMetadataChange))\r\n",
    );
    assert_eq!(
        out,
        "a NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)] Unsupported NOTIFY events: MailboxMetadataChange\r\n"
    );
    let out = send(
        a,
        "b NOTIFY SET (selected (MessageNew (NOSUCH) MessageExpunge))\r\n",
    );
    assert!(out.starts_with("b BAD "), "{out}");
    let out = send(a, "c NOTIFY SET (mailboxes \"&Jjo\" (MessageNew))\r\n");
    assert!(out.starts_with("c BAD "), "{out}");
    let out = send(a, "d NOTIFY NONE\r\n");
    assert_eq!(out, "d OK NOTIFY completed\r\n");
}
