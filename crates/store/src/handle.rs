//! [`Store`]: the handle the servers share. It opens (and migrates) the data directory,
//! starts the writer threads ([`crate::writer`]) and holds the connections and locks the
//! other parts of the store take turns on.

use crate::directory;
use crate::error::StoreError;
use crate::fulltext::indexer;
use crate::fulltext::{Extractor, FullText};
use crate::layout::DataDir;
use crate::mailbox;
use crate::schema;
use crate::writer::{self, Op, WriteStats, WriterCtx};
use rusqlite::Connection;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};

/// The data directory opened: directory lookups on a shared connection, writes through
/// the writer thread.
pub struct Store {
    pub(crate) dir: DataDir,
    conn: Mutex<Connection>,
    /// The queue writer's requests.
    pub(crate) tx: Mutex<mpsc::Sender<Op>>,
    /// The delivery writer's requests.
    pub(crate) dtx: Mutex<mpsc::Sender<Op>>,
    host: String,
    stats: Arc<WriteStats>,
    /// One SQLite write transaction at a time across the writers and the mail access
    /// layer: waiting here is cheaper than SQLite's busy handler.
    commit_lock: Arc<Mutex<()>>,
    /// Held by everything that changes a Maildir and the index together (delivery's
    /// rename-and-commit, IMAP/POP3 flag changes, appends, expunges, reconciliation), so a
    /// reconciliation never sees a delivered file before its index row exists.
    maildir_lock: Arc<Mutex<()>>,
    /// The mail access layer's connections (IMAP and POP3 sessions): a few, so sessions
    /// read side by side (WAL lets readers run beside the writer) instead of queueing
    /// behind one mutex.
    mail_conns: [Mutex<Connection>; MAIL_CONNECTIONS],
    /// Where [`Store::mail_conn`] starts looking for a free connection.
    mail_next: std::sync::atomic::AtomicUsize,
    /// Every committed change to a mailbox, for IDLE and concurrent sessions.
    changes: tokio::sync::broadcast::Sender<MailboxChange>,
    /// Logins verified a short while ago (memory only).
    pub(crate) verified: crate::directory::verified::VerifiedLogins,
    /// The full-text index and its indexer, once started ([`Store::start_fulltext`]).
    fulltext: std::sync::OnceLock<Arc<FullText>>,
}

/// A mailbox changed: messages arrived, flags changed or messages went (sessions that
/// have it selected ask the index what changed since their last MODSEQ), or the mailbox
/// was created, deleted, renamed, subscribed or unsubscribed (IMAP NOTIFY, RFC 5465).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxChange {
    pub account_id: i64,
    pub mailbox_id: i64,
    pub highestmodseq: u64,
    pub kind: crate::change::ChangeKind,
}

/// How many changes a slow listener may fall behind before it is told it lagged (and
/// then rescans its mailbox).
const CHANGE_BACKLOG: usize = 4096;

/// Locks a mutex, taking over a poisoned one (a panicking holder leaves no broken state
/// behind: the data is in SQLite and the file system).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The mail access layer's commits (IMAP and POP3: flags, expunges, APPEND and COPY rows,
/// folders, `\Recent` claims) are not fsynced one by one (`synchronous = NORMAL`: WAL keeps
/// each commit whole and in order, and fsyncs at checkpoints), as Dovecot's default
/// `mail_fsync = optimized` leaves flag and index updates to the kernel. Under ten busy
/// sessions the fsync of every STORE, EXPUNGE and APPEND row serialised them all behind
/// the disk (imaptest `logout=0`: 2,376 commands/s on disk, 6,504 on tmpfs). Nothing
/// acknowledged is lost by it: an APPENDed or copied message's file is fsynced (file and
/// directory) before its row is written, and after a crash the index is brought back in
/// step with the Maildir ([`crate::sync::reconcile`]); a power cut may undo the last flag
/// changes, as with Dovecot. Deliveries (the SMTP 250) and the queue keep `FULL` on their
/// own writer connections.
fn mail_access_durability(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// Connections of the mail access layer.
const MAIL_CONNECTIONS: usize = 4;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

impl Store {
    /// Opens (creating and migrating as needed) the data directory, adds the configured
    /// `domains`, starts the writer threads. `host` names Maildir files.
    pub fn open(dir: DataDir, domains: &[String], host: &str) -> Result<Arc<Store>, StoreError> {
        dir.create()?;
        let open = || -> Result<Connection, StoreError> {
            let c = Connection::open(dir.db_path())?;
            schema::configure(&c)?;
            Ok(c)
        };
        let mut conn = open()?;
        schema::migrate(&mut conn)?;
        directory::ensure_domains(&conn, domains)?;
        let stats = Arc::new(WriteStats::default());
        let commit_lock = Arc::new(Mutex::new(()));
        let maildir_lock = Arc::new(Mutex::new(()));
        let (changes, _) = tokio::sync::broadcast::channel(CHANGE_BACKLOG);
        let start = |name: &str| -> Result<mpsc::Sender<Op>, StoreError> {
            let ctx = WriterCtx {
                dir: dir.clone(),
                host: host.to_string(),
                stats: stats.clone(),
                commit_lock: commit_lock.clone(),
                maildir_lock: maildir_lock.clone(),
                changes: changes.clone(),
            };
            writer::spawn(name, open()?, ctx)
        };
        let tx = start("store-queue")?;
        let dtx = start("store-deliver")?;
        let mail_conns = [open()?, open()?, open()?, open()?];
        for c in &mail_conns {
            mail_access_durability(c)?;
        }
        let mail_conns = mail_conns.map(Mutex::new);
        Ok(Arc::new(Store {
            dir,
            conn: Mutex::new(conn),
            tx: Mutex::new(tx),
            dtx: Mutex::new(dtx),
            host: host.to_string(),
            stats,
            commit_lock,
            maildir_lock,
            mail_conns,
            mail_next: std::sync::atomic::AtomicUsize::new(0),
            changes,
            verified: crate::directory::verified::VerifiedLogins::new(
                crate::directory::verified::TTL,
            ),
            fulltext: std::sync::OnceLock::new(),
        }))
    }

    /// Opens (or builds anew) the full-text index in `<data>/fulltext.db` and starts the
    /// thread that keeps it up to date, with `extract` turning messages into the text
    /// searches compare against. Once per store; later calls do nothing.
    pub fn start_fulltext(self: &Arc<Self>, extract: Extractor) -> Result<(), StoreError> {
        if self.fulltext.get().is_some() {
            return Ok(());
        }
        let index = Arc::new(FullText::open(&self.dir.fulltext_path())?);
        if self.fulltext.set(index.clone()).is_err() {
            return Ok(());
        }
        indexer::spawn(self, index, extract)
    }

    /// The full-text index, when started.
    pub fn fulltext(&self) -> Option<&Arc<FullText>> {
        self.fulltext.get()
    }

    /// Listens to every committed mailbox change (deliveries, flag changes, expunges).
    pub fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<MailboxChange> {
        self.changes.subscribe()
    }

    pub(crate) fn announce(&self, change: MailboxChange) {
        let _ = self.changes.send(change);
    }

    /// A connection of the mail access layer: the first free one, else (all busy) the
    /// next in turn. A caller holds one at a time and never across another call here.
    pub(crate) fn mail_conn(&self) -> MutexGuard<'_, Connection> {
        use std::sync::TryLockError;
        let start = self
            .mail_next
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for i in 0..MAIL_CONNECTIONS {
            match self.mail_conns[(start + i) % MAIL_CONNECTIONS].try_lock() {
                Ok(g) => return g,
                Err(TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        lock(&self.mail_conns[start % MAIL_CONNECTIONS])
    }

    pub(crate) fn commit_lock(&self) -> MutexGuard<'_, ()> {
        lock(&self.commit_lock)
    }

    pub(crate) fn maildir_lock(&self) -> MutexGuard<'_, ()> {
        lock(&self.maildir_lock)
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.dir
    }

    /// The accounts' Sieve scripts under this data directory, with these limits.
    pub fn sieve_scripts(&self, quota: crate::SieveQuota) -> crate::SieveFiles {
        crate::SieveFiles::new(self.dir.sieve_dir(), quota)
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn stats(&self) -> &WriteStats {
        &self.stats
    }

    /// The shared connection, for directory reads and CLI writes.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        match self.conn.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// At server start: removes left-overs of interrupted deliveries from every Maildir's
    /// `tmp/` ([`mailbox::STALE_TMP_AGE`], 36 hours). Returns how many.
    pub fn clean_maildir_tmp(&self) -> usize {
        mailbox::clean_stale_tmp(
            &self.dir.root().join("mail"),
            mailbox::STALE_TMP_AGE,
            std::time::SystemTime::now(),
        )
    }
}
