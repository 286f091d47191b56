//! The POP3 backend over the real store: the maildrop is INBOX as IMAP sees it, RETR sets
//! `\Seen` in the Maildir, DELE + QUIT removes files and index rows, unique-ids are stable.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_pop3::blocking::BlockingDriver;
use mailward_pop3::{Backend, Login, Mailbox, Session, SessionConfig, StoreBackend, TlsInfo};
use mailward_store::access::MailAccess;
use mailward_store::{DataDir, DeliverRequest, Store, directory};
use std::sync::Arc;

const USER: &str = "bob@example.test";

struct Fixture {
    _tmp: tempfile::TempDir,
    store: Arc<Store>,
}

async fn fixture(n: usize) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
    let acct = {
        let c = store.conn();
        let hash = mailward_store::password::hash("secret").unwrap();
        directory::add_account(&c, USER, &hash, None).unwrap();
        directory::get_account(&c, USER).unwrap().unwrap()
    };
    for i in 0..n {
        store
            .deliver(DeliverRequest {
                queue_id: mailward_store::ids::queue_id(),
                rcpt_index: 0,
                account: acct.clone(),
                folder: "INBOX".into(),
                arrival: 1_700_000_000 + i as i64,
                data: format!("Subject: m{i}\r\n\r\n.dot line {i}\r\n").into_bytes(),
                fresh: true,
                flags: Default::default(),
                copy: 0,
            })
            .await
            .unwrap();
    }
    Fixture { _tmp: tmp, store }
}

fn session() -> Session {
    let mut s = Session::new(
        Arc::new(SessionConfig {
            hostname: "h".into(),
            tls_available: true,
            plaintext_auth_on_loopback: false,
            max_errors: 10,
        }),
        "S".into(),
        "192.0.2.1".parse().unwrap(),
    );
    s.set_tls(TlsInfo::default());
    s
}

fn run(d: &mut BlockingDriver<StoreBackend>, s: &mut Session, input: &str) -> String {
    String::from_utf8(d.run(s, input.as_bytes())).unwrap()
}

fn inbox(f: &Fixture) -> Vec<mailward_store::Message> {
    let acct = directory::get_account(&f.store.conn(), USER)
        .unwrap()
        .unwrap();
    let mail = MailAccess::open(f.store.clone(), acct).unwrap();
    mail.select("INBOX").unwrap().1
}

#[tokio::test]
async fn login_lists_inbox_with_index_sizes_and_bad_password_fails() {
    let f = fixture(2).await;
    let backend = StoreBackend::new(f.store.clone());
    assert!(matches!(backend.login(USER, "nope"), Login::BadCredentials));
    assert!(matches!(
        backend.login("nobody@example.test", "x"),
        Login::BadCredentials
    ));
    let Login::Ok {
        account, maildrop, ..
    } = backend.login("BOB@example.test", "secret")
    else {
        panic!("login failed");
    };
    assert_eq!(account, USER);
    let messages = inbox(&f);
    assert_eq!(maildrop.messages.len(), 2);
    assert_eq!(maildrop.messages[0].uid, messages[0].uid);
    assert_eq!(maildrop.messages[0].size, messages[0].size);
}

#[tokio::test]
async fn the_maildrop_is_locked_while_a_session_holds_it() {
    let f = fixture(1).await;
    let backend = StoreBackend::new(f.store.clone());
    let first = backend.login(USER, "secret");
    assert!(matches!(first, Login::Ok { .. }));
    assert!(matches!(backend.login(USER, "secret"), Login::InUse));
    drop(first);
    assert!(matches!(backend.login(USER, "secret"), Login::Ok { .. }));
}

#[tokio::test]
async fn retr_reads_the_file_and_sets_seen_in_maildir_and_index() {
    let f = fixture(2).await;
    let backend = StoreBackend::new(f.store.clone());
    let Login::Ok {
        maildrop, mailbox, ..
    } = backend.login(USER, "secret")
    else {
        panic!("login failed");
    };
    let uid = maildrop.messages[0].uid;
    let data = mailbox.fetch(uid, true).unwrap();
    assert_eq!(data.len() as u64, maildrop.messages[0].size);
    // Read twice: the file moved to cur/ with the S flag; the snapshot follows it.
    assert_eq!(mailbox.fetch(uid, true).unwrap(), data);
    let msgs = inbox(&f);
    assert!(msgs[0].flags.has(mailward_store::flags::SystemFlag::Seen));
    assert!(!msgs[1].flags.has(mailward_store::flags::SystemFlag::Seen));
    let cur: Vec<String> = std::fs::read_dir(
        f.store
            .data_dir()
            .maildir("example.test", "bob")
            .join("cur"),
    )
    .unwrap()
    .flatten()
    .map(|e| e.file_name().to_string_lossy().into_owned())
    .collect();
    assert!(cur.iter().any(|n| n.ends_with(":2,S")), "{cur:?}");
    // TOP-style peeks do not set the flag.
    mailbox.fetch(maildrop.messages[1].uid, false).unwrap();
    assert!(
        !inbox(&f)[1]
            .flags
            .has(mailward_store::flags::SystemFlag::Seen)
    );
}

#[tokio::test]
async fn dele_and_quit_remove_for_imap_too_and_unique_ids_stay() {
    let f = fixture(3).await;
    let mut d = BlockingDriver::new(StoreBackend::new(f.store.clone()));
    let mut s = session();
    let out = run(
        &mut d,
        &mut s,
        &format!("USER {USER}\r\nPASS secret\r\nUIDL\r\nRETR 1\r\n"),
    );
    assert!(out.contains("\r\n..dot line 0\r\n"), "{out}");
    let uidl_before: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("2 ") || l.starts_with("3 "))
        .map(|l| l.split(' ').nth(1).unwrap_or("").to_string())
        .collect();
    // A connection that drops removes nothing.
    run(&mut d, &mut s, "DELE 1\r\n");
    d.drop_connection(&mut s);
    assert_eq!(inbox(&f).len(), 3);

    let mut s = session();
    let out = run(
        &mut d,
        &mut s,
        &format!("USER {USER}\r\nPASS secret\r\nDELE 1\r\nQUIT\r\n"),
    );
    assert!(out.ends_with("signing off (2 messages left)\r\n"), "{out}");
    assert_eq!(inbox(&f).len(), 2);

    let mut s = session();
    let out = run(
        &mut d,
        &mut s,
        &format!("USER {USER}\r\nPASS secret\r\nUIDL\r\nQUIT\r\n"),
    );
    let uidl_after: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("1 ") || l.starts_with("2 "))
        .map(|l| l.split(' ').nth(1).unwrap_or("").to_string())
        .collect();
    assert_eq!(uidl_before, uidl_after);
    let files = std::fs::read_dir(
        f.store
            .data_dir()
            .maildir("example.test", "bob")
            .join("new"),
    )
    .unwrap()
    .count()
        + std::fs::read_dir(
            f.store
                .data_dir()
                .maildir("example.test", "bob")
                .join("cur"),
        )
        .unwrap()
        .count();
    assert_eq!(files, 2);
}
