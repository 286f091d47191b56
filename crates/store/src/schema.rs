//! The SQLite schema and its migrations. The version lives in `PRAGMA user_version`; each
//! migration moves it up by one, inside a transaction, so an upgrade never half-applies.

use crate::error::StoreError;
use rusqlite::Connection;

/// Migrations in order: index `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: directory, queue, mailbox index.
    r#"
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
    -- alias '@domain' is the domain's catch-all
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
    -- IMAP state (RFC 3501 / RFC 7162): one row per folder, one per message
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
    "#,
    // 2: arrival in milliseconds (the `delay` of `delivered` events; rows queued by
    // version 1 get their second-resolution arrival), and small bodies inline in the row
    // (NULL: the body is the spool file, as every version 1 row has it).
    r#"
    ALTER TABLE queue ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0;
    UPDATE queue SET created_ms = created * 1000;
    ALTER TABLE queue ADD COLUMN body BLOB;
    "#,
    // 3: what the IMAP and POP3 servers need beyond delivery. A folder's SPECIAL-USE
    // attribute (RFC 6154) and the modification times (ns) of its `new/` and `cur/` when
    // they were last reconciled with the index (a changed time means another program
    // touched the Maildir). Whether a message's file is in `cur/` (with `:2,` info) or
    // still in `new/`. Expunged UIDs with the MODSEQ of their removal, so a session can
    // tell which messages went since a MODSEQ (RFC 7162 §3.2.5, QRESYNC's VANISHED).
    // A message's ENVELOPE and BODYSTRUCTURE as the IMAP server last computed them (a
    // cache: the file does not change, so neither do they; NULL until first fetched).
    r#"
    ALTER TABLE mailboxes ADD COLUMN special_use TEXT;
    ALTER TABLE mailboxes ADD COLUMN synced_new INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE mailboxes ADD COLUMN synced_cur INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN in_cur INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN envelope TEXT;
    ALTER TABLE messages ADD COLUMN bodystructure TEXT;
    CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
    CREATE TABLE expunged (
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        uid        INTEGER NOT NULL,
        modseq     INTEGER NOT NULL,
        PRIMARY KEY (mailbox_id, uid)
    );
    CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);
    "#,
    // 4: subscriptions apart from mailboxes (RFC 9051 §6.3.7, §6.3.8): a name stays
    // subscribed when its mailbox is deleted, can be unsubscribed after, and CREATE no longer
    // subscribes. `mailboxes.subscribed` is left unused.
    r#"
    CREATE TABLE subscriptions (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name       TEXT NOT NULL,
        PRIMARY KEY (account_id, name)
    );
    INSERT OR IGNORE INTO subscriptions (account_id, name)
        SELECT account_id, name FROM mailboxes WHERE subscribed = 1;
    "#,
    // 5: `\Recent` (RFC 3501 §2.3.2): messages from this UID on have not been seen by a
    // session yet; the first session to SELECT (not EXAMINE) the mailbox claims them.
    // Messages there before this version are not recent.
    r#"
    ALTER TABLE mailboxes ADD COLUMN first_recent_uid INTEGER NOT NULL DEFAULT 1;
    UPDATE mailboxes SET first_recent_uid = uidnext;
    "#,
    // 6: the first unseen message of a folder at once (IMAP4rev1 SELECT's `OK [UNSEEN n]`,
    // RFC 3501 §6.3.1), without reading every row of a large folder.
    r#"
    CREATE INDEX messages_unseen ON messages(mailbox_id, uid) WHERE instr(flags, '\Seen') = 0;
    "#,
    // 7: annotations (RFC 5464 METADATA), per account: server entries (`mailbox_id` NULL)
    // and mailbox entries, which go with their mailbox (DELETE, or its directory vanishing)
    // and follow it through RENAME (the row keeps its id). `/shared` entries are kept per
    // account like `/private` ones (no sharing yet). Names in lower case (§3.2: entry names
    // are case-insensitive); values are octets. `/private/specialuse` is not kept here: it
    // is `mailboxes.special_use` (RFC 6154 §4).
    r#"
    CREATE TABLE metadata (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        mailbox_id INTEGER REFERENCES mailboxes(id) ON DELETE CASCADE,
        name       TEXT NOT NULL,
        value      BLOB NOT NULL
    );
    CREATE UNIQUE INDEX metadata_entry ON metadata(account_id, IFNULL(mailbox_id, 0), name);
    CREATE INDEX metadata_mailbox ON metadata(mailbox_id);
    "#,
    // 8: Sieve state per account (`sieve_state.rs`): RFC 7352 duplicate ids and RFC 5230
    // vacation periods (sender + handle), each as a SHA-256 key with its expiry (seconds
    // since the epoch); expired rows are removed by `Store::sieve_state_expire`.
    r#"
    CREATE TABLE sieve_state (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        kind       TEXT NOT NULL,
        key        TEXT NOT NULL,
        expires    INTEGER NOT NULL,
        PRIMARY KEY (account_id, kind, key)
    );
    CREATE INDEX sieve_state_expires ON sieve_state(expires);
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Opens the pragmas every connection needs: WAL, full sync on commit (a commit is durable
/// when it returns), foreign keys, a busy timeout for the CLI running beside the server.
pub fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Brings the database to [`SCHEMA_VERSION`]; refuses a newer database.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
