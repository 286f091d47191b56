//! The store's change feed says what changed (IMAP NOTIFY, RFC 5465 §5, tells the kinds
//! apart): new messages, flag changes, expunges, and mailboxes created, renamed, deleted,
//! subscribed and unsubscribed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_store::access::{FlagOp, MailAccess};
use mailward_store::{ChangeKind, DataDir, MessageEvents, Store, directory};

#[test]
fn every_change_is_announced_with_its_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
    let account = directory::add_account(&store.conn(), "bob@example.test", "x", None).unwrap();
    let mail = MailAccess::open(store.clone(), account.clone()).unwrap();
    let mut rx = store.subscribe_changes();

    mail.create_folder("Lists/rust").unwrap();
    let (_, uid) = mail
        .append("Lists/rust", b"Subject: x\r\n\r\nbody\r\n", &[], None)
        .unwrap();
    let folder = mail.folder("Lists/rust").unwrap().unwrap();
    mail.store_flags(&folder, &[uid], FlagOp::Add, &["\\Deleted".into()], None)
        .unwrap();
    mail.expunge(&folder, None).unwrap();
    mail.rename_folder("Lists", "Groups").unwrap();
    mail.set_subscribed("Groups/rust", true).unwrap();
    mail.set_subscribed("Groups/rust", true).unwrap(); // no change: not announced
    mail.set_subscribed("Groups/rust", false).unwrap();
    mail.delete_folder("Groups/rust").unwrap();

    let mut got = Vec::new();
    while let Ok(c) = rx.try_recv() {
        assert_eq!(c.account_id, account.id);
        got.push(c.kind);
    }
    let name = |s: &str| -> std::sync::Arc<str> { s.into() };
    assert_eq!(
        got,
        vec![
            ChangeKind::Created {
                name: name("Lists")
            },
            ChangeKind::Created {
                name: name("Lists/rust")
            },
            ChangeKind::Messages(MessageEvents::ADDED),
            ChangeKind::Messages(MessageEvents::FLAGS),
            ChangeKind::Messages(MessageEvents::EXPUNGED),
            ChangeKind::Renamed {
                from: name("Lists"),
                to: name("Groups")
            },
            ChangeKind::Renamed {
                from: name("Lists/rust"),
                to: name("Groups/rust")
            },
            ChangeKind::Subscription {
                name: name("Groups/rust"),
                subscribed: true
            },
            ChangeKind::Subscription {
                name: name("Groups/rust"),
                subscribed: false
            },
            ChangeKind::Deleted {
                name: name("Groups/rust")
            },
        ]
    );
}
