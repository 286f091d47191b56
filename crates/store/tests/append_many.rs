//! RFC 3502 MULTIAPPEND in the store: every message of one APPEND or none, files and index
//! rows alike.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_store::access::{MailAccess, NewMessage};
use mailward_store::{AccessError, DataDir, Store, directory};
use std::path::{Path, PathBuf};
use std::sync::Arc;

struct Fixture {
    _tmp: tempfile::TempDir,
    mail: MailAccess,
    maildir: PathBuf,
}

fn fixture(quota: Option<u64>) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let store: Arc<Store> =
        Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
    let acct = {
        let c = store.conn();
        directory::add_account(&c, "bob@example.test", "x", quota).unwrap()
    };
    let maildir = store.data_dir().maildir("example.test", "bob");
    let mail = MailAccess::open(store, acct).unwrap();
    Fixture {
        _tmp: tmp,
        mail,
        maildir,
    }
}

/// Files of a Maildir subdirectory (`cur`, `new`, `tmp`) of folder `dir`.
fn files(dir: &Path, sub: &str) -> usize {
    std::fs::read_dir(dir.join(sub))
        .map(|rd| rd.flatten().count())
        .unwrap_or(0)
}

fn msg<'a>(data: &'a [u8], flags: &'a [String]) -> NewMessage<'a> {
    NewMessage {
        data,
        flags,
        internal_date: Some(1_600_000_000),
    }
}

#[test]
fn every_message_is_stored_in_order() {
    let f = fixture(None);
    let seen = ["\\Seen".to_string()];
    let (validity, uids) = f
        .mail
        .append_many(
            "Sent",
            &[
                msg(b"Subject: 1\r\n\r\none\r\n", &seen),
                msg(b"Subject: 2\r\n\r\ntwo\r\n", &[]),
                msg(b"Subject: 3\r\n\r\nthree\r\n", &[]),
            ],
        )
        .unwrap();
    let (folder, rows) = f.mail.select("Sent").unwrap();
    assert_eq!(validity, folder.uidvalidity);
    assert_eq!(uids, [1, 2, 3]);
    assert_eq!(rows.len(), 3);
    assert!(rows[0].flags.to_index().contains("\\Seen"));
    assert_eq!(
        f.mail.read(&folder, &rows[2]).unwrap(),
        b"Subject: 3\r\n\r\nthree\r\n"
    );
    assert_eq!(files(&f.maildir.join(".Sent"), "cur"), 3);
    assert_eq!(files(&f.maildir.join(".Sent"), "tmp"), 0);
    let size: u64 = rows.iter().map(|m| m.size).sum();
    assert_eq!(f.mail.quota().unwrap().0, size);
}

#[test]
fn a_refused_message_stores_none() {
    let f = fixture(Some(100));
    let sent = f.maildir.join(".Sent");
    // Over quota all together, though the first alone would fit.
    let big = vec![b'x'; 60];
    let r = f
        .mail
        .append_many("Sent", &[msg(&big, &[]), msg(&big, &[])]);
    assert!(matches!(r, Err(AccessError::OverQuota { .. })), "{r:?}");
    // A bad flag on the last message.
    let bad = ["\\Bogus".to_string()];
    let r = f
        .mail
        .append_many("Sent", &[msg(b"a\r\n", &[]), msg(b"b\r\n", &bad)]);
    assert!(matches!(r, Err(AccessError::BadFlag(_))), "{r:?}");
    let r = f.mail.append_many("Nope", &[msg(b"a\r\n", &[])]);
    assert!(matches!(r, Err(AccessError::NoSuchFolder(_))), "{r:?}");
    let (_, rows) = f.mail.select("Sent").unwrap();
    assert!(rows.is_empty());
    for sub in ["cur", "new", "tmp"] {
        assert_eq!(files(&sent, sub), 0, "{sub}");
    }
    assert_eq!(f.mail.quota().unwrap().0, 0);
}
