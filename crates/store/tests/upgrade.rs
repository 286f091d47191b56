//! Upgrade test (DESIGN.md, "On-disk formats are versioned"): a database written by schema
//! version 1 — made here with version 1's DDL, copied verbatim so that editing the old
//! migration in `schema.rs` cannot make this test pass by accident — is opened by the
//! current code, migrated in place, and every account, alias, queued message and indexed
//! message is still there and usable.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_store::queue::{self, RcptState};
use mailward_store::{DataDir, DeliverRequest, Store, directory, mailbox, schema};
use rusqlite::{Connection, params};
use std::sync::Arc;

/// Schema version 1 exactly as the first release shipped it.
const V1_DDL: &str = r#"
    CREATE TABLE domains (
        name    TEXT PRIMARY KEY NOT NULL,
        created INTEGER NOT NULL
    );
    CREATE TABLE accounts (
        id       INTEGER PRIMARY KEY,
        address  TEXT NOT NULL UNIQUE,
        local    TEXT NOT NULL,
        domain   TEXT NOT NULL,
        password TEXT NOT NULL,
        quota    INTEGER,
        used     INTEGER NOT NULL DEFAULT 0,
        created  INTEGER NOT NULL
    );
    CREATE TABLE aliases (
        alias  TEXT NOT NULL,
        target TEXT NOT NULL,
        PRIMARY KEY (alias, target)
    );
    CREATE TABLE queue (
        id           TEXT PRIMARY KEY NOT NULL,
        created      INTEGER NOT NULL,
        next_attempt INTEGER NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        envelope     TEXT NOT NULL
    );
    CREATE INDEX queue_next ON queue(next_attempt);
    CREATE TABLE mailboxes (
        id             INTEGER PRIMARY KEY,
        account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name           TEXT NOT NULL,
        uidvalidity    INTEGER NOT NULL,
        uidnext        INTEGER NOT NULL DEFAULT 1,
        highestmodseq  INTEGER NOT NULL DEFAULT 1,
        subscribed     INTEGER NOT NULL DEFAULT 1,
        UNIQUE (account_id, name)
    );
    CREATE TABLE messages (
        mailbox_id    INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        uid           INTEGER NOT NULL,
        modseq        INTEGER NOT NULL,
        flags         TEXT NOT NULL DEFAULT '',
        filename      TEXT NOT NULL,
        size          INTEGER NOT NULL,
        internal_date INTEGER NOT NULL,
        delivery_key  TEXT UNIQUE,
        PRIMARY KEY (mailbox_id, uid)
    );
"#;

/// An envelope as version 1 wrote it: no `created_ms`.
const V1_ENVELOPE: &str = r#"{"id":"0AbCdE12345678","created":1795286630,"sender":"alice@remote.test","rcpts":[{"address":"bob@example.test","notify":["FAILURE"],"state":"pending","attempts":1,"last_error":"4.2.2 mailbox full"}],"size":120,"message_id":"<m1@remote.test>","smtputf8":false,"remote_ip":"192.0.2.1","session":"s1"}"#;

fn write_v1_database(root: &std::path::Path, password_hash: &str) {
    std::fs::create_dir_all(root.join("spool")).unwrap();
    let conn = Connection::open(root.join("mailward.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.execute_batch(V1_DDL).unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO domains VALUES ('example.test', 1795286000);
         INSERT INTO accounts (id, address, local, domain, password, quota, used, created)
             VALUES (7, 'bob@example.test', 'bob', 'example.test', '{password_hash}', 1000000, 300, 1795286000);
         INSERT INTO aliases VALUES ('postmaster@example.test', 'bob@example.test');
         INSERT INTO mailboxes (id, account_id, name, uidvalidity, uidnext, highestmodseq)
             VALUES (3, 7, 'INBOX', 1795286001, 3, 5);
         INSERT INTO messages VALUES (3, 1, 4, '\\Seen', '1795286001.Mold.host,S=150', 150, 1795286001, 'OLD/0/7');
         INSERT INTO messages VALUES (3, 2, 5, '', '1795286002.Mold2.host,S=150', 150, 1795286002, 'OLD2/0/7');"
    ))
    .unwrap();
    conn.execute(
        "INSERT INTO queue (id, created, next_attempt, attempts, envelope) VALUES (?1, ?2, ?3, 1, ?4)",
        params!["0AbCdE12345678", 1_795_286_630_i64, 1_795_286_900_i64, V1_ENVELOPE],
    )
    .unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    std::fs::write(
        root.join("spool/0AbCdE12345678"),
        b"Subject: queued under v1\r\n\r\nhi\r\n",
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_database_opens_migrates_and_keeps_its_data() {
    let tmp = tempfile::tempdir().unwrap();
    let hash = mailward_store::password::hash("old-secret").unwrap();
    write_v1_database(tmp.path(), &hash);

    let store = Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
    {
        let conn = store.conn();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, schema::SCHEMA_VERSION);
        assert!(
            version >= 2,
            "this test exists to cross at least one migration"
        );

        // Accounts and their password, quota and usage.
        let bob = directory::get_account(&conn, "bob@example.test")
            .unwrap()
            .unwrap();
        assert_eq!((bob.id, bob.quota, bob.used), (7, Some(1_000_000), 300));
        assert_eq!(
            directory::authenticate(&conn, "bob@example.test", "old-secret")
                .unwrap()
                .map(|a| a.id),
            Some(7)
        );
        // Aliases still resolve.
        assert!(matches!(
            directory::resolve(&conn, "postmaster@example.test").unwrap(),
            mailward_store::Recipient::Local { ref accounts, .. } if accounts.iter().any(|a| a.id == 7)
        ));

        // The queued message, with its recipient state, and an arrival in milliseconds.
        let entries = queue::list(&conn).unwrap();
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.envelope.id, "0AbCdE12345678");
        assert_eq!(e.envelope.created, 1_795_286_630);
        assert_eq!(e.envelope.created_ms, 1_795_286_630_000);
        assert_eq!((e.next_attempt, e.attempts), (1_795_286_900, 1));
        assert_eq!(e.envelope.rcpts[0].state, RcptState::Pending);
        assert_eq!(
            e.envelope.rcpts[0].last_error.as_deref(),
            Some("4.2.2 mailbox full")
        );

        // The IMAP index: UIDVALIDITY, UIDs, flags, MODSEQ unchanged.
        let inbox = mailbox::get(&conn, 7, "INBOX").unwrap().unwrap();
        assert_eq!(
            (inbox.uidvalidity, inbox.uidnext, inbox.highestmodseq),
            (1_795_286_001, 3, 5)
        );
        let msgs = mailbox::messages(&conn, 3).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(
            (msgs[0].uid, msgs[0].modseq, msgs[0].flags.as_str()),
            (1, 4, "\\Seen")
        );
    }
    // A version 1 body lives in its spool file (the row's `body` is NULL).
    assert_eq!(
        store.read_spool("0AbCdE12345678").unwrap(),
        b"Subject: queued under v1\r\n\r\nhi\r\n"
    );
    // Recovery must keep the v1 spool file: it has a row.
    assert_eq!(store.recover().unwrap(), 0);

    // And the migrated database takes new writes: delivery continues the UID sequence and
    // an old delivery key is still recognised (no duplicate after the upgrade).
    let bob = directory::get_account(&store.conn(), "bob@example.test")
        .unwrap()
        .unwrap();
    let new = store
        .deliver(DeliverRequest {
            queue_id: "0AbCdE12345678".into(),
            rcpt_index: 0,
            account: bob.clone(),
            folder: "INBOX".into(),
            arrival: 1_795_286_630,
            data: b"Subject: queued under v1\r\n\r\nhi\r\n".to_vec(),
            fresh: false,
            flags: Default::default(),
            copy: 0,
        })
        .await
        .unwrap();
    assert_eq!((new.uid, new.modseq, new.duplicate), (3, 6, false));
    store.remove_queued("0AbCdE12345678").await.unwrap();
    assert!(queue::list(&store.conn()).unwrap().is_empty());
    drop(store);

    // Opening again is a no-op (migrations run once).
    let again = Store::open(DataDir::new(tmp.path()), &[], "host").unwrap();
    assert_eq!(mailbox::messages(&again.conn(), 3).unwrap().len(), 3);
    let _keep: Arc<Store> = again;
}
