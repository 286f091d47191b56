//! The IMAP backend over the real store (SQLite and Maildir in a temporary directory).
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_imap::StoreMailboxes;
use mailward_imap::backend::{MailboxBackend, SpecialUse};
use mailward_store::access::MailAccess;
use mailward_store::{DataDir, Store, directory};

/// `CREATE Receipts (USE (\Archive))` was answered OK but the store dropped the attribute,
/// so LIST never showed it (RFC 6154 §3).
#[test]
fn regress_create_with_use_dropped_the_special_use_attribute() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
    let account = directory::add_account(&store.conn(), "bob@example.test", "x", None).unwrap();
    let mut mailboxes = StoreMailboxes::new(MailAccess::open(store, account).unwrap());
    mailboxes
        .create("Receipts", Some(SpecialUse::Archive))
        .unwrap();
    mailboxes.create("Plain", None).unwrap();
    let list = mailboxes.list().unwrap();
    let of = |name: &str| list.iter().find(|m| m.name == name).map(|m| m.special_use);
    assert_eq!(of("Receipts"), Some(Some(SpecialUse::Archive)));
    assert_eq!(of("Plain"), Some(None));
}
