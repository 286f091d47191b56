//! Annotations (RFC 5464 METADATA) in the store: server and mailbox entries, depth and size
//! limits, all-or-nothing changes, and what RENAME and DELETE do to them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_store::access::metadata::{MAX_ENTRIES, MAX_VALUE};
use mailward_store::access::{AccessError, MailAccess, MetadataDepth};
use mailward_store::{DataDir, Store, directory};
use std::sync::Arc;

struct Fixture {
    _tmp: tempfile::TempDir,
    store: Arc<Store>,
    mail: MailAccess,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
    let acct = {
        let c = store.conn();
        directory::add_account(&c, "bob@example.test", "x", None).unwrap()
    };
    let mail = MailAccess::open(store.clone(), acct).unwrap();
    Fixture {
        _tmp: tmp,
        store,
        mail,
    }
}

fn set(mail: &MailAccess, mailbox: Option<&str>, name: &str, value: Option<&str>) {
    mail.set_metadata(
        mailbox,
        &[(name.to_string(), value.map(|v| v.as_bytes().to_vec()))],
    )
    .unwrap();
}

/// (name, value) of what GETMETADATA would show.
fn get(
    mail: &MailAccess,
    mailbox: Option<&str>,
    names: &[&str],
    depth: MetadataDepth,
) -> Vec<(String, String)> {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    mail.metadata(mailbox, &names, depth, None)
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.name,
                String::from_utf8(e.value.unwrap_or_default()).unwrap(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn server_and_mailbox_entries_are_apart_and_case_insensitive() {
    let f = fixture();
    set(&f.mail, None, "/shared/comment", Some("server note"));
    set(
        &f.mail,
        Some("INBOX"),
        "/Private/Comment",
        Some("inbox note"),
    );
    assert_eq!(
        get(&f.mail, None, &["/shared/comment"], MetadataDepth::Zero),
        pairs(&[("/shared/comment", "server note")])
    );
    assert_eq!(
        get(
            &f.mail,
            Some("inbox"),
            &["/PRIVATE/comment"],
            MetadataDepth::Zero
        ),
        pairs(&[("/private/comment", "inbox note")])
    );
    assert!(get(&f.mail, None, &["/private/comment"], MetadataDepth::Zero).is_empty());
    // NIL removes.
    set(&f.mail, None, "/shared/comment", None);
    assert!(get(&f.mail, None, &["/shared"], MetadataDepth::Infinity).is_empty());
}

#[test]
fn depth_selects_children_and_descendants() {
    let f = fixture();
    for n in [
        "/private/filters/values",
        "/private/filters/values/small",
        "/private/filters/values/boss",
        "/private/filters/values/boss/deep",
        "/private/filters/valuesx",
    ] {
        set(&f.mail, Some("INBOX"), n, Some(n));
    }
    let names = |d| -> Vec<String> {
        get(&f.mail, Some("INBOX"), &["/private/filters/values"], d)
            .into_iter()
            .map(|p| p.0)
            .collect()
    };
    assert_eq!(names(MetadataDepth::Zero), ["/private/filters/values"]);
    assert_eq!(
        names(MetadataDepth::One),
        [
            "/private/filters/values",
            "/private/filters/values/boss",
            "/private/filters/values/small"
        ]
    );
    assert_eq!(names(MetadataDepth::Infinity).len(), 4);
}

#[test]
fn maxsize_leaves_big_values_out_with_their_size() {
    let f = fixture();
    set(&f.mail, None, "/shared/small", Some("abc"));
    set(&f.mail, None, "/shared/big", Some(&"x".repeat(2199)));
    let got = f
        .mail
        .metadata(None, &["/shared".into()], MetadataDepth::One, Some(1024))
        .unwrap();
    let big = got.iter().find(|e| e.name == "/shared/big").unwrap();
    assert_eq!((big.size, big.value.is_none()), (2199, true));
    let small = got.iter().find(|e| e.name == "/shared/small").unwrap();
    assert_eq!(small.value.as_deref(), Some(&b"abc"[..]));
}

#[test]
fn binary_values_round_trip() {
    let f = fixture();
    let v = vec![0u8, 1, 2, 255, b'\r', b'\n', 0];
    f.mail
        .set_metadata(None, &[("/private/blob".into(), Some(v.clone()))])
        .unwrap();
    let got = f
        .mail
        .metadata(None, &["/private/blob".into()], MetadataDepth::Zero, None)
        .unwrap();
    assert_eq!(got[0].value.as_deref(), Some(&v[..]));
}

#[test]
fn a_failing_change_changes_nothing() {
    let f = fixture();
    set(&f.mail, None, "/shared/keep", Some("old"));
    let too_big = vec![b'x'; MAX_VALUE as usize + 1];
    let r = f.mail.set_metadata(
        None,
        &[
            ("/shared/keep".into(), Some(b"new".to_vec())),
            ("/shared/huge".into(), Some(too_big)),
        ],
    );
    assert!(matches!(r, Err(AccessError::MetadataTooBig { max }) if max == MAX_VALUE));
    let r = f.mail.set_metadata(
        None,
        &[
            ("/shared/keep".into(), None),
            ("/bogus/name".into(), Some(b"x".to_vec())),
        ],
    );
    assert!(matches!(r, Err(AccessError::MetadataInvalid(_))), "{r:?}");
    assert_eq!(
        get(&f.mail, None, &["/shared/keep"], MetadataDepth::Zero),
        pairs(&[("/shared/keep", "old")])
    );
    // A value of exactly the limit is taken.
    f.mail
        .set_metadata(
            None,
            &[("/shared/max".into(), Some(vec![b'y'; MAX_VALUE as usize]))],
        )
        .unwrap();
}

#[test]
fn the_entry_limit_refuses_new_entries_not_replacements() {
    let f = fixture();
    let many: Vec<(String, Option<Vec<u8>>)> = (0..MAX_ENTRIES)
        .map(|i| (format!("/private/n{i}"), Some(b"v".to_vec())))
        .collect();
    f.mail.set_metadata(None, &many).unwrap();
    let r = f.mail.set_metadata(
        Some("INBOX"),
        &[("/private/one".into(), Some(b"x".to_vec()))],
    );
    assert!(
        matches!(r, Err(AccessError::MetadataTooMany { .. })),
        "{r:?}"
    );
    // Replacing one, or replacing and adding while removing another, is fine.
    set(&f.mail, None, "/private/n0", Some("again"));
    f.mail
        .set_metadata(
            None,
            &[
                ("/private/n1".into(), None),
                ("/private/fresh".into(), Some(b"x".to_vec())),
            ],
        )
        .unwrap();
    // The special-use attribute is not counted.
    set(&f.mail, Some("Sent"), "/private/specialuse", Some("\\Sent"));
}

#[test]
fn unknown_mailbox_is_refused() {
    let f = fixture();
    let r = f
        .mail
        .set_metadata(Some("Nope"), &[("/private/x".into(), Some(b"x".to_vec()))]);
    assert!(matches!(r, Err(AccessError::NoSuchFolder(_))), "{r:?}");
    let r = f
        .mail
        .metadata(Some("Nope"), &["/private".into()], MetadataDepth::One, None);
    assert!(matches!(r, Err(AccessError::NoSuchFolder(_))), "{r:?}");
}

#[test]
fn entries_follow_rename_and_go_with_delete() {
    let f = fixture();
    f.mail.create_folder("Work").unwrap();
    f.mail.create_folder("Work/Sub").unwrap();
    set(&f.mail, Some("Work"), "/private/comment", Some("work"));
    set(&f.mail, Some("Work/Sub"), "/shared/comment", Some("sub"));
    f.mail.rename_folder("Work", "Job").unwrap();
    assert_eq!(
        get(
            &f.mail,
            Some("Job"),
            &["/private/comment"],
            MetadataDepth::Zero
        ),
        pairs(&[("/private/comment", "work")])
    );
    assert_eq!(
        get(
            &f.mail,
            Some("Job/Sub"),
            &["/shared"],
            MetadataDepth::Infinity
        ),
        pairs(&[("/shared/comment", "sub")])
    );
    f.mail.delete_folder("Job/Sub").unwrap();
    f.mail.create_folder("Job/Sub").unwrap();
    // A mailbox made again with the same name does not inherit the old entries (§4.1).
    assert!(
        get(
            &f.mail,
            Some("Job/Sub"),
            &["/shared"],
            MetadataDepth::Infinity
        )
        .is_empty()
    );
    let rows: i64 = f
        .store
        .conn()
        .query_row("SELECT COUNT(*) FROM metadata", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1, "only Job's entry is left");
}

#[test]
fn renaming_inbox_copies_its_entries() {
    let f = fixture();
    set(&f.mail, Some("INBOX"), "/private/comment", Some("in"));
    f.mail.rename_folder("INBOX", "Old").unwrap();
    for mailbox in ["INBOX", "Old"] {
        assert_eq!(
            get(
                &f.mail,
                Some(mailbox),
                &["/private/comment"],
                MetadataDepth::Zero
            ),
            pairs(&[("/private/comment", "in")]),
            "{mailbox}"
        );
    }
}

#[test]
fn specialuse_entry_is_the_folder_attribute() {
    let f = fixture();
    assert_eq!(
        get(&f.mail, Some("Sent"), &["/private"], MetadataDepth::One),
        pairs(&[("/private/specialuse", "\\Sent")])
    );
    f.mail.create_folder("Receipts").unwrap();
    set(
        &f.mail,
        Some("Receipts"),
        "/private/specialuse",
        Some("\\Archive"),
    );
    let folder = f.mail.folder("Receipts").unwrap().unwrap();
    assert_eq!(folder.special_use.as_deref(), Some("\\Archive"));
    set(&f.mail, Some("Receipts"), "/private/specialuse", None);
    assert_eq!(
        f.mail.folder("Receipts").unwrap().unwrap().special_use,
        None
    );
    assert!(
        get(
            &f.mail,
            Some("Receipts"),
            &["/private/specialuse"],
            MetadataDepth::Zero
        )
        .is_empty()
    );
    let r = f.mail.set_metadata(
        Some("Receipts"),
        &[("/private/specialuse".into(), Some(b"Archive".to_vec()))],
    );
    assert!(matches!(r, Err(AccessError::MetadataInvalid(_))), "{r:?}");
}

/// URLAUTH keys (RFC 4467 §7) live in the metadata table under a reserved name that
/// annotations never show, cannot set and do not count.
#[test]
fn urlauth_keys_stay_out_of_the_annotations() {
    let f = fixture();
    assert_eq!(f.mail.urlauth_key("INBOX", false).unwrap(), None);
    let key = f.mail.urlauth_key("INBOX", true).unwrap().unwrap();
    assert_eq!(key.len(), 32);
    // The same key until it is reset; each mailbox has its own.
    assert_eq!(
        f.mail.urlauth_key("INBOX", true).unwrap(),
        Some(key.clone())
    );
    let sent = f.mail.urlauth_key("Sent", true).unwrap().unwrap();
    assert_ne!(sent, key);
    assert!(matches!(
        f.mail.urlauth_key("Nowhere", true),
        Err(AccessError::NoSuchFolder(_))
    ));

    for root in ["/private", "/shared"] {
        assert_eq!(
            get(&f.mail, Some("INBOX"), &[root], MetadataDepth::Infinity),
            vec![]
        );
    }
    assert!(
        f.mail
            .set_metadata(
                Some("INBOX"),
                &[(
                    mailward_store::access::urlauth_key::URLAUTH_KEY_ENTRY.to_string(),
                    Some(b"x".to_vec())
                )]
            )
            .is_err()
    );
    // Keys are not entries: an account can still hold MAX_ENTRIES annotations.
    let many: Vec<(String, Option<Vec<u8>>)> = (0..MAX_ENTRIES)
        .map(|i| (format!("/private/n{i}"), Some(b"v".to_vec())))
        .collect();
    f.mail.set_metadata(None, &many).unwrap();

    // RENAME of INBOX does not copy its key; RESETKEY forgets one or all.
    f.mail.rename_folder("INBOX", "Old").unwrap();
    assert_eq!(f.mail.urlauth_key("Old", false).unwrap(), None);
    f.mail.reset_urlauth_keys(Some("INBOX")).unwrap();
    assert_eq!(f.mail.urlauth_key("INBOX", false).unwrap(), None);
    assert_eq!(f.mail.urlauth_key("Sent", false).unwrap(), Some(sent));
    f.mail.reset_urlauth_keys(None).unwrap();
    assert_eq!(f.mail.urlauth_key("Sent", false).unwrap(), None);

    // Another account of the store, for URLFETCH of its URLs.
    let other = f.mail.open_other("BOB@example.test").unwrap().unwrap();
    assert_eq!(other.account().address, "bob@example.test");
    assert!(f.mail.open_other("nobody@example.test").unwrap().is_none());
}
