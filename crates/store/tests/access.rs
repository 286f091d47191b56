//! The mail access layer the IMAP and POP3 servers use: folders, UIDs, flags, MODSEQ,
//! and a Maildir that other programs change behind the server's back.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_store::access::{CachedStructure, FlagOp, MailAccess};
use mailward_store::directory;
use mailward_store::flags::SystemFlag;
use mailward_store::{DataDir, DeliverRequest, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

struct Fixture {
    _tmp: tempfile::TempDir,
    store: Arc<Store>,
    mail: MailAccess,
    maildir: PathBuf,
}

fn fixture(quota: Option<u64>) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
    let acct = {
        let c = store.conn();
        directory::add_account(&c, "bob@example.test", "x", quota).unwrap()
    };
    let maildir = store.data_dir().maildir("example.test", "bob");
    let mail = MailAccess::open(store.clone(), acct).unwrap();
    Fixture {
        _tmp: tmp,
        store,
        mail,
        maildir,
    }
}

fn message(subject: &str) -> Vec<u8> {
    format!("From: a@example.org\r\nTo: bob@example.test\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n")
        .into_bytes()
}

async fn deliver(f: &Fixture, n: usize) {
    let account = f.mail.account().clone();
    for i in 0..n {
        f.store
            .deliver(DeliverRequest {
                queue_id: mailward_store::ids::queue_id(),
                rcpt_index: 0,
                account: account.clone(),
                folder: "INBOX".into(),
                arrival: 1_700_000_000 + i as i64,
                data: message(&format!("delivered {i}")),
                fresh: true,
                flags: Default::default(),
                copy: 0,
            })
            .await
            .unwrap();
    }
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn default_folders_exist_with_special_use() {
    let f = fixture(None);
    let folders = f.mail.folders().unwrap();
    let names: Vec<&str> = folders.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(
        names,
        ["INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"]
    );
    let sent = folders.iter().find(|x| x.name == "Sent").unwrap();
    assert_eq!(sent.special_use.as_deref(), Some("\\Sent"));
    assert!(f.maildir.join(".Sent/cur").is_dir());
    assert!(f.maildir.join(".Junk/maildirfolder").is_file());
}

#[tokio::test]
async fn delivered_mail_is_selected_flagged_and_expunged() {
    let f = fixture(None);
    let mut changes = f.store.subscribe_changes();
    deliver(&f, 3).await;
    let note = changes.recv().await.unwrap();
    assert_eq!(note.account_id, f.mail.account().id);

    let (inbox, msgs) = f.mail.select("inbox").unwrap();
    assert_eq!(msgs.iter().map(|m| m.uid).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(inbox.uidnext, 4);
    assert!(
        f.mail
            .read(&inbox, &msgs[0])
            .unwrap()
            .ends_with(b"body of delivered 0\r\n")
    );

    // \Seen moves the file to cur/ with the S letter (maildir(5)).
    let change = f
        .mail
        .store_flags(
            &inbox,
            &[1, 2],
            FlagOp::Add,
            &["\\Seen".into(), "$Work".into()],
            None,
        )
        .unwrap();
    assert_eq!(change.updated.len(), 2);
    assert!(change.updated[1].modseq > msgs[2].modseq);
    let cur = files(&f.maildir.join("cur"));
    assert_eq!(cur.len(), 2);
    assert!(cur.iter().all(|n| n.ends_with(":2,S")), "{cur:?}");
    assert_eq!(files(&f.maildir.join("new")).len(), 1);

    // UNCHANGEDSINCE below the message's MODSEQ refuses (RFC 7162 §3.1.3).
    let stale = f
        .mail
        .store_flags(&inbox, &[1], FlagOp::Add, &["\\Flagged".into()], Some(1))
        .unwrap();
    assert_eq!(stale.modified, [1]);
    assert!(stale.updated.is_empty());

    let before = f.mail.refresh(inbox.id).unwrap().highestmodseq;
    f.mail
        .store_flags(&inbox, &[2], FlagOp::Add, &["\\Deleted".into()], None)
        .unwrap();
    assert_eq!(f.mail.expunge(&inbox, None).unwrap(), [2]);
    let since = f.mail.changes_since(inbox.id, before).unwrap();
    assert_eq!(since.expunged, [2]);
    let left = f.mail.messages(inbox.id).unwrap();
    assert_eq!(left.iter().map(|m| m.uid).collect::<Vec<_>>(), [1, 3]);
    assert!(left[0].flags.has(SystemFlag::Seen));
    assert!(left[0].flags.has_keyword("$work"));
    assert_eq!(files(&f.maildir.join("cur")).len(), 1);
}

#[tokio::test]
async fn changes_by_other_programs_are_picked_up() {
    let f = fixture(None);
    deliver(&f, 2).await;
    let (inbox, msgs) = f.mail.select("INBOX").unwrap();
    let base = msgs[0].filename.clone();

    // Another MDA drops a message into new/.
    std::fs::write(
        f.maildir.join("new/1800000000.X1.other,S=40"),
        message("dropped"),
    )
    .unwrap();
    // A mail reader marks the first message seen and flagged by renaming it.
    std::fs::rename(
        f.maildir.join("new").join(&base),
        f.maildir.join("cur").join(format!("{base}:2,FS")),
    )
    .unwrap();
    // And deletes the second.
    std::fs::remove_file(f.maildir.join("new").join(&msgs[1].filename)).unwrap();

    let (_, now) = f.mail.select("INBOX").unwrap();
    assert_eq!(now.iter().map(|m| m.uid).collect::<Vec<_>>(), [1, 3]);
    assert!(now[0].flags.has(SystemFlag::Flagged) && now[0].flags.has(SystemFlag::Seen));
    assert!(now[0].modseq > msgs[0].modseq);
    assert!(
        f.mail
            .read(&inbox, &now[1])
            .unwrap()
            .ends_with(b"body of dropped\r\n")
    );
    let changes = f.mail.changes_since(inbox.id, msgs[1].modseq).unwrap();
    assert_eq!(changes.expunged, [2]);
    assert_eq!(
        changes.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
        [1, 3]
    );
}

#[tokio::test]
async fn a_lost_index_is_rebuilt_from_the_maildir() {
    let f = fixture(None);
    deliver(&f, 3).await;
    let (inbox, _) = f.mail.select("INBOX").unwrap();
    f.mail
        .store_flags(&inbox, &[3], FlagOp::Add, &["\\Answered".into()], None)
        .unwrap();
    f.store.conn().execute("DELETE FROM mailboxes", []).unwrap();
    let (rebuilt, msgs) = f.mail.select("INBOX").unwrap();
    assert_ne!(
        rebuilt.uidvalidity, inbox.uidvalidity,
        "new UIDs, new UIDVALIDITY"
    );
    assert_eq!(msgs.len(), 3);
    assert_eq!(
        msgs.iter()
            .filter(|m| m.flags.has(SystemFlag::Answered))
            .count(),
        1
    );
    // The default folders come back too.
    let names: Vec<String> = f
        .mail
        .folders()
        .unwrap()
        .into_iter()
        .map(|x| x.name)
        .collect();
    assert!(names.contains(&"Trash".to_string()), "{names:?}");
}

#[tokio::test]
async fn append_copy_move_and_quota() {
    let f = fixture(Some(2000));
    let (uidvalidity, uid) = f
        .mail
        .append(
            "Drafts",
            &message("draft"),
            &["\\Draft".into()],
            Some(1_600_000_000),
        )
        .unwrap();
    let (drafts, msgs) = f.mail.select("Drafts").unwrap();
    assert_eq!((uidvalidity, uid), (drafts.uidvalidity, 1));
    assert_eq!(msgs[0].internal_date, 1_600_000_000);
    assert!(files(&f.maildir.join(".Drafts/cur"))[0].ends_with(":2,D"));

    let copied = f.mail.copy(&drafts, &[1], "Archive").unwrap();
    assert_eq!(copied.uids, [(1, 1)]);
    let moved = f.mail.move_messages(&drafts, &[1], "Trash").unwrap();
    assert_eq!(moved.uids.len(), 1);
    assert!(f.mail.messages(drafts.id).unwrap().is_empty());
    let (trash, tmsgs) = f.mail.select("Trash").unwrap();
    assert!(tmsgs[0].flags.has(SystemFlag::Draft));
    assert!(
        f.mail
            .read(&trash, &tmsgs[0])
            .unwrap()
            .ends_with(b"body of draft\r\n")
    );

    let size = message("draft").len() as u64;
    assert_eq!(f.mail.quota().unwrap(), (2 * size, Some(2000)));
    let big = vec![b'x'; 1900];
    assert!(matches!(
        f.mail.append("INBOX", &big, &[], None),
        Err(mailward_store::AccessError::OverQuota { .. })
    ));
    let entry = CachedStructure {
        uid: tmsgs[0].uid,
        envelope: Some("(NIL)".into()),
        bodystructure: None,
    };
    f.mail
        .cache_structure(trash.id, std::slice::from_ref(&entry))
        .unwrap();
    let cached = f
        .mail
        .cached_structure(trash.id, &[tmsgs[0].uid, 99])
        .unwrap();
    assert_eq!(cached, [entry]);
    let status = f.mail.status("Trash").unwrap();
    assert_eq!((status.messages, status.unseen), (1, 1));
}

#[test]
fn folders_are_created_renamed_and_deleted() {
    let f = fixture(None);
    f.mail.create_folder("Projekte/Entwürfe").unwrap();
    assert!(f.maildir.join(".Projekte").is_dir());
    assert!(f.maildir.join(".Projekte.Entw&APw-rfe/cur").is_dir());
    assert!(
        f.mail.create_folder("projekte/Entwürfe").is_ok(),
        "names are case-sensitive"
    );
    assert!(matches!(
        f.mail.create_folder("Projekte/Entwürfe"),
        Err(mailward_store::AccessError::FolderExists(_))
    ));
    assert!(matches!(
        f.mail.delete_folder("Projekte"),
        Err(mailward_store::AccessError::HasChildren(_))
    ));
    f.mail.rename_folder("Projekte", "Old/Projects").unwrap();
    let names: Vec<String> = f
        .mail
        .folders()
        .unwrap()
        .into_iter()
        .map(|x| x.name)
        .collect();
    assert!(
        names.contains(&"Old/Projects/Entwürfe".to_string()),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.starts_with("Projekte")));
    f.mail.delete_folder("Old/Projects/Entwürfe").unwrap();
    assert!(f.mail.folder("Old/Projects/Entwürfe").unwrap().is_none());
    assert!(matches!(
        f.mail.delete_folder("INBOX"),
        Err(mailward_store::AccessError::InboxUndeletable)
    ));
    // A folder made by another program (Dovecot's modified UTF-7) appears.
    std::fs::create_dir_all(f.maildir.join(".&ZeVnLIqe-/cur")).unwrap();
    std::fs::create_dir_all(f.maildir.join(".&ZeVnLIqe-/new")).unwrap();
    let names: Vec<String> = f
        .mail
        .folders()
        .unwrap()
        .into_iter()
        .map(|x| x.name)
        .collect();
    assert!(names.contains(&"日本語".to_string()), "{names:?}");
}

/// CREATE subscribed the new folder, and UNSUBSCRIBE of a folder that no longer exists
/// (Roundcube sends it after RENAME and DELETE) failed: subscriptions lived in the folder's
/// row. They are names apart from folders now (RFC 9051 §6.3.7, §6.3.8).
#[test]
fn regress_create_subscribed_and_a_deleted_folder_could_not_be_unsubscribed() {
    let f = fixture(None);
    let defaults = f.mail.subscriptions().unwrap();
    assert!(defaults.contains(&"Sent".to_string()), "{defaults:?}");
    f.mail.create_folder("Projects").unwrap();
    assert!(
        !f.mail
            .subscriptions()
            .unwrap()
            .contains(&"Projects".to_string())
    );
    assert!(!f.mail.folder("Projects").unwrap().unwrap().subscribed);
    f.mail.set_subscribed("Projects", true).unwrap();
    assert!(f.mail.folder("Projects").unwrap().unwrap().subscribed);
    f.mail.delete_folder("Projects").unwrap();
    assert!(
        f.mail
            .subscriptions()
            .unwrap()
            .contains(&"Projects".to_string()),
        "DELETE leaves the subscription"
    );
    f.mail.set_subscribed("Projects", false).unwrap();
    assert!(
        !f.mail
            .subscriptions()
            .unwrap()
            .contains(&"Projects".to_string())
    );
    assert!(
        f.mail.set_subscribed("Nowhere", true).is_err(),
        "SUBSCRIBE needs the folder"
    );
    // An unsubscribed default folder stays unsubscribed when the account is opened again.
    f.mail.set_subscribed("Junk", false).unwrap();
    let again = MailAccess::open(f.store.clone(), f.mail.account().clone()).unwrap();
    assert!(!again.subscriptions().unwrap().contains(&"Junk".to_string()));
}

/// Every IMAP LOGIN paid a full argon2 check (about 16 ms of CPU in release), so a client
/// opening connection after connection was slow to log in. A login verified a moment ago
/// is remembered in memory now; a changed password is never taken from that memory.
#[test]
fn regress_every_login_paid_a_full_password_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
    let hash = mailward_store::password::hash("first-secret").unwrap();
    directory::add_account(&store.conn(), "carol@example.test", &hash, None).unwrap();
    let started = std::time::Instant::now();
    assert!(
        store
            .authenticate("carol@example.test", "first-secret")
            .unwrap()
            .is_some()
    );
    let full = started.elapsed();
    let started = std::time::Instant::now();
    for _ in 0..10 {
        assert!(
            store
                .authenticate("Carol@Example.test", "first-secret")
                .unwrap()
                .is_some()
        );
    }
    let remembered = started.elapsed();
    assert!(
        remembered < full,
        "ten remembered logins took {remembered:?}, one full check {full:?}"
    );
    assert!(
        store
            .authenticate("carol@example.test", "wrong")
            .unwrap()
            .is_none()
    );
    let new_hash = mailward_store::password::hash("second-secret").unwrap();
    directory::set_password(&store.conn(), "carol@example.test", &new_hash).unwrap();
    assert!(
        store
            .authenticate("carol@example.test", "first-secret")
            .unwrap()
            .is_none(),
        "the old password is not remembered past a change"
    );
    assert!(
        store
            .authenticate("carol@example.test", "second-secret")
            .unwrap()
            .is_some()
    );
}

/// Sieve files a message with flags (RFC 5232) and several copies of it: the flags survive
/// a reconciliation (the file is in `cur/` with its Maildir info), and each copy is
/// delivered once however often the delivery is repeated (a crash and a retry).
#[tokio::test]
async fn flagged_copies_are_kept_once_each_with_their_flags() {
    let f = fixture(None);
    let account = f.mail.account().clone();
    let mut flags = mailward_store::Flags::new();
    flags.insert("\\Seen").unwrap();
    flags.insert("$work").unwrap();
    for _attempt in 0..2 {
        for (copy, folder) in [(0, "INBOX"), (1, "Lists"), (2, "INBOX")] {
            f.store
                .deliver(DeliverRequest {
                    queue_id: "Q1".into(),
                    rcpt_index: 0,
                    account: account.clone(),
                    folder: folder.into(),
                    arrival: 1_700_000_000,
                    data: message("copies"),
                    fresh: false,
                    flags: if copy == 2 {
                        flags.clone()
                    } else {
                        Default::default()
                    },
                    copy,
                })
                .await
                .unwrap();
        }
    }
    let (_, inbox) = f.mail.select("INBOX").unwrap();
    assert_eq!(inbox.len(), 2);
    assert!(!inbox[0].flags.has(SystemFlag::Seen));
    assert!(inbox[1].flags.has(SystemFlag::Seen) && inbox[1].flags.has_keyword("$work"));
    assert_eq!(files(&f.maildir.join("cur")).len(), 1);
    assert!(files(&f.maildir.join("cur"))[0].ends_with(":2,S"));
    let (_, lists) = f.mail.select("Lists").unwrap();
    assert_eq!(lists.len(), 1);
}
