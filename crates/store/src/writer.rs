//! [`Store`]: the handle the servers share, and its single writer thread.
//!
//! Group commit (DESIGN.md, "Durability"): every write (a queued message, a Maildir
//! delivery, a queue update) is a request to a writer thread. A writer takes all the
//! requests waiting, writes their files, fsyncs them together (in parallel, so the kernel
//! folds them into few journal commits), fsyncs the directories once, and commits all the
//! rows in one SQLite transaction (WAL, `synchronous=FULL`). Only then does each caller get
//! its answer, so an SMTP `250` follows a durable body and queue record, and the fsync rate
//! of the disk bounds batches per second, not messages per second.
//!
//! There are two writers, each with its own connection: the queue writer (enqueue, update,
//! remove: small bodies go into the row, so a batch costs one WAL fsync) and the delivery
//! writer (Maildir files: file fsyncs, renames, directory fsyncs, then the index rows). They
//! take turns only for the SQLite transaction itself ([`Store`]'s commit lock), so an SMTP
//! client waiting for its `250` never waits behind a batch's Maildir fsyncs.

use crate::directory::{self, Account};
use crate::error::StoreError;
use crate::ids::unix_now;
use crate::layout::DataDir;
use crate::mailbox::{self, Appended};
use crate::queue::Envelope;
use crate::schema;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

/// Most requests folded into one commit.
const MAX_BATCH: usize = 512;
/// A new message's first scan-driven attempt waits this long: the server hands it to the
/// runner directly, so the periodic scan must not race that hand-over. (At start the
/// runner delivers everything regardless.)
pub const FRESH_GRACE_SECS: i64 = 30;
/// Most threads used to fsync one batch's files.
const SYNC_THREADS: usize = 16;
/// Bodies up to this size are stored in the queue row itself, so queueing them costs no
/// file, no file fsync and no directory fsync: the batch's one SQLite commit makes them
/// durable. Larger bodies go to `<data>/spool/<queue-id>` (SQLite is poor at big blobs).
pub const INLINE_BODY_MAX: usize = 256 * 1024;

/// Counters of the writer (for the benchmark and `queue` reports).
#[derive(Debug, Default)]
pub struct WriteStats {
    pub batches: AtomicU64,
    pub requests: AtomicU64,
}

/// One local delivery to perform.
#[derive(Debug, Clone)]
pub struct DeliverRequest {
    pub queue_id: String,
    pub rcpt_index: usize,
    pub account: Account,
    /// `INBOX` or a Maildir++ folder name.
    pub folder: String,
    /// Queue arrival time (part of the idempotent file name).
    pub arrival: i64,
    /// The message as it goes into the mailbox (Return-Path, Delivered-To added).
    pub data: Vec<u8>,
    /// True for the first attempt of a message this process just queued: no earlier
    /// attempt can have left its file behind, so the Maildir is not searched for it (a
    /// search of `cur/` costs a directory listing per delivery). Retries and deliveries
    /// after a restart pass `false`, and find the file an interrupted attempt renamed.
    pub fresh: bool,
}

enum Op {
    Enqueue {
        envelope: Box<Envelope>,
        body: Arc<Vec<u8>>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Deliver {
        req: Box<DeliverRequest>,
        reply: oneshot::Sender<Result<Appended, StoreError>>,
    },
    Update {
        envelope: Box<Envelope>,
        next_attempt: i64,
        attempts: u32,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Remove {
        id: String,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// The data directory opened: directory lookups on a shared connection, writes through
/// the writer thread.
pub struct Store {
    dir: DataDir,
    conn: Mutex<Connection>,
    /// The queue writer's requests.
    tx: Mutex<mpsc::Sender<Op>>,
    /// The delivery writer's requests.
    dtx: Mutex<mpsc::Sender<Op>>,
    host: String,
    stats: Arc<WriteStats>,
    /// One SQLite write transaction at a time across the writers and the mail access
    /// layer: waiting here is cheaper than SQLite's busy handler.
    commit_lock: Arc<Mutex<()>>,
    /// Held by everything that changes a Maildir and the index together (delivery's
    /// rename-and-commit, IMAP/POP3 flag changes, appends, expunges, reconciliation), so a
    /// reconciliation never sees a delivered file before its index row exists.
    maildir_lock: Arc<Mutex<()>>,
    /// The mail access layer's connection (IMAP and POP3 sessions).
    mail_conn: Mutex<Connection>,
    /// Every committed change to a mailbox, for IDLE and concurrent sessions.
    changes: tokio::sync::broadcast::Sender<MailboxChange>,
}

/// A mailbox changed: messages arrived, flags changed or messages went. Sessions that
/// have it selected ask the index what changed since their last MODSEQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxChange {
    pub account_id: i64,
    pub mailbox_id: i64,
    pub highestmodseq: u64,
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

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

impl Store {
    /// Opens (creating and migrating as needed) the data directory, adds the configured
    /// `domains`, starts the writer thread. `host` names Maildir files.
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
            let wconn = open()?;
            let (tx, rx) = mpsc::channel();
            let ctx = WriterCtx {
                dir: dir.clone(),
                host: host.to_string(),
                stats: stats.clone(),
                commit_lock: commit_lock.clone(),
                maildir_lock: maildir_lock.clone(),
                changes: changes.clone(),
            };
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || writer_loop(wconn, ctx, rx))
                .map_err(|e| StoreError::io(dir.root(), e))?;
            Ok(tx)
        };
        let tx = start("store-queue")?;
        let dtx = start("store-deliver")?;
        let mail_conn = Mutex::new(open()?);
        Ok(Arc::new(Store {
            dir,
            conn: Mutex::new(conn),
            tx: Mutex::new(tx),
            dtx: Mutex::new(dtx),
            host: host.to_string(),
            stats,
            commit_lock,
            maildir_lock,
            mail_conn,
            changes,
        }))
    }

    /// Listens to every committed mailbox change (deliveries, flag changes, expunges).
    pub fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<MailboxChange> {
        self.changes.subscribe()
    }

    pub(crate) fn announce(&self, change: MailboxChange) {
        let _ = self.changes.send(change);
    }

    pub(crate) fn mail_conn(&self) -> MutexGuard<'_, Connection> {
        lock(&self.mail_conn)
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

    fn send(&self, op: Op) -> Result<(), StoreError> {
        let chan = match op {
            Op::Deliver { .. } => &self.dtx,
            _ => &self.tx,
        };
        let tx = match chan.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        tx.send(op).map_err(|_| StoreError::WriterGone)
    }

    /// Checks a password without holding the shared connection during the (slow) hash.
    pub fn authenticate(&self, user: &str, pass: &str) -> Result<Option<Account>, StoreError> {
        let user = user.trim().to_ascii_lowercase();
        let stored: Option<(i64, String)> = {
            let conn = self.conn();
            let mut stmt =
                conn.prepare_cached("SELECT id, password FROM accounts WHERE address = ?1")?;
            let mut rows = stmt.query([&user])?;
            match rows.next()? {
                Some(r) => Some((r.get(0)?, r.get(1)?)),
                None => None,
            }
        };
        match stored {
            Some((id, hash)) if crate::password::verify(pass, &hash) => {
                directory::get_account_by_id(&self.conn(), id)
            }
            Some(_) => Ok(None),
            None => {
                // Spend the time of a real check so timing does not reveal which accounts
                // exist (SMTP AUTH, POP3 and IMAP logins all come through here).
                let _ = crate::password::verify(pass, directory::DUMMY_HASH);
                Ok(None)
            }
        }
    }

    /// Queues a message: the spool file and the row are durable when this returns `Ok`.
    pub async fn enqueue(&self, envelope: Envelope, body: Arc<Vec<u8>>) -> Result<(), StoreError> {
        let (reply, rx) = oneshot::channel();
        self.send(Op::Enqueue {
            envelope: Box::new(envelope),
            body,
            reply,
        })?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Delivers into a Maildir folder and indexes it (UID, MODSEQ); idempotent per
    /// `(queue_id, rcpt_index, account)`.
    pub async fn deliver(&self, req: DeliverRequest) -> Result<Appended, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.send(Op::Deliver {
            req: Box::new(req),
            reply,
        })?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Rewrites a queue row (recipient states, next attempt).
    pub async fn update_queue(
        &self,
        envelope: Envelope,
        next_attempt: i64,
        attempts: u32,
    ) -> Result<(), StoreError> {
        let (reply, rx) = oneshot::channel();
        self.send(Op::Update {
            envelope: Box::new(envelope),
            next_attempt,
            attempts,
            reply,
        })?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Removes a queue row, then its spool file.
    pub async fn remove_queued(&self, id: &str) -> Result<(), StoreError> {
        let (reply, rx) = oneshot::channel();
        self.send(Op::Remove {
            id: id.to_string(),
            reply,
        })?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Reads a queued message's body: from its row when it is stored inline, else from
    /// its spool file.
    pub fn read_spool(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        let inline: Option<Vec<u8>> = {
            let conn = self.conn();
            conn.prepare_cached("SELECT body FROM queue WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?
                .flatten()
        };
        if let Some(body) = inline {
            return Ok(body);
        }
        if !crate::ids::is_valid_id(id) {
            return Err(StoreError::NoSuchQueueEntry(id.to_string()));
        }
        let p = self.dir.spool_file(id);
        std::fs::read(&p).map_err(|e| StoreError::io(p, e))
    }

    /// Removes a queue entry directly (CLI `queue delete`), returns false when absent.
    pub fn delete_queued_now(&self, id: &str) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute("DELETE FROM queue WHERE id = ?1", [id])?;
        if crate::ids::is_valid_id(id) {
            let _ = std::fs::remove_file(self.dir.spool_file(id));
        }
        Ok(n > 0)
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

    /// At server start: spool files without a queue row are from a transaction that never
    /// committed (the client got no `250`), so they go. Returns how many.
    pub fn recover(&self) -> Result<usize, StoreError> {
        let spool = self.dir.spool_dir();
        let known: HashSet<String> = {
            let conn = self.conn();
            let mut stmt = conn.prepare("SELECT id FROM queue")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut removed = 0;
        let entries = std::fs::read_dir(&spool).map_err(|e| StoreError::io(&spool, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// What a writer thread shares with the [`Store`].
struct WriterCtx {
    dir: DataDir,
    host: String,
    stats: Arc<WriteStats>,
    commit_lock: Arc<Mutex<()>>,
    maildir_lock: Arc<Mutex<()>>,
    changes: tokio::sync::broadcast::Sender<MailboxChange>,
}

fn writer_loop(mut conn: Connection, ctx: WriterCtx, rx: mpsc::Receiver<Op>) {
    let stats = &ctx.stats;
    let mut known_dirs: HashSet<PathBuf> = HashSet::new();
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats
            .requests
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        commit_batch(&mut conn, &ctx, &mut known_dirs, batch);
    }
}

/// Per-request progress through a batch.
enum Prep {
    Enqueue {
        envelope: Box<Envelope>,
        /// The body itself when it goes into the row ([`INLINE_BODY_MAX`]).
        inline: Option<Arc<Vec<u8>>>,
        /// The spool file when it does not.
        path: Option<PathBuf>,
        file: Option<File>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Deliver {
        req: Box<DeliverRequest>,
        folder_dir: PathBuf,
        filename: String,
        /// `Some` while a new file is being written; `None` when the file was already there.
        tmp: Option<(PathBuf, File)>,
        reply: oneshot::Sender<Result<Appended, StoreError>>,
    },
    Update {
        envelope: Box<Envelope>,
        next_attempt: i64,
        attempts: u32,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Remove {
        id: String,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

fn write_new(path: &Path, data: &[u8]) -> Result<File, StoreError> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    f.write_all(data).map_err(|e| StoreError::io(path, e))?;
    Ok(f)
}

fn maildir_has(folder_dir: &Path, filename: &str) -> bool {
    if folder_dir.join("new").join(filename).exists() {
        return true;
    }
    // A reader may have moved it to cur/ with an info suffix (`:2,FLAGS`).
    let prefix = format!("{filename}:");
    std::fs::read_dir(folder_dir.join("cur"))
        .map(|rd| {
            rd.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        })
        .unwrap_or(false)
}

fn already_indexed(conn: &Connection, key: &str) -> Result<Option<(i64, u32, u64)>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT mailbox_id, uid, modseq FROM messages WHERE delivery_key = ?1")?;
    let mut rows = stmt.query([key])?;
    Ok(match rows.next()? {
        Some(r) => Some((
            r.get(0)?,
            r.get::<_, i64>(1)? as u32,
            r.get::<_, i64>(2)? as u64,
        )),
        None => None,
    })
}

fn delivery_key(req: &DeliverRequest) -> String {
    format!("{}/{}/{}", req.queue_id, req.rcpt_index, req.account.id)
}

/// fsyncs files (or directories) in parallel; returns the indices that failed.
fn sync_all(files: &[&File]) -> Vec<(usize, std::io::Error)> {
    if files.len() <= 1 {
        return files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.sync_data().err().map(|e| (i, e)))
            .collect();
    }
    let threads = files.len().min(SYNC_THREADS);
    let chunk = files.len().div_ceil(threads);
    let mut failed = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .enumerate()
            .map(|(ci, part)| {
                s.spawn(move || {
                    part.iter()
                        .enumerate()
                        .filter_map(|(j, f)| f.sync_data().err().map(|e| (ci * chunk + j, e)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            if let Ok(v) = h.join() {
                failed.extend(v);
            }
        }
    });
    failed
}

fn commit_batch(
    conn: &mut Connection,
    ctx: &WriterCtx,
    known_dirs: &mut HashSet<PathBuf>,
    batch: Vec<Op>,
) {
    let (dir, host) = (&ctx.dir, ctx.host.as_str());
    let now = unix_now();
    // Bytes each account gains in this batch, for quota checks across the batch.
    let mut pending_bytes: HashMap<i64, u64> = HashMap::new();
    let mut preps: Vec<Prep> = Vec::with_capacity(batch.len());

    // Phase 1: write files (no sync yet).
    for op in batch {
        match op {
            Op::Enqueue {
                envelope,
                body,
                reply,
            } => {
                if !crate::ids::is_valid_id(&envelope.id) {
                    let _ = reply.send(Err(StoreError::NoSuchQueueEntry(envelope.id.clone())));
                    continue;
                }
                if body.len() <= INLINE_BODY_MAX {
                    preps.push(Prep::Enqueue {
                        envelope,
                        inline: Some(body),
                        path: None,
                        file: None,
                        reply,
                    });
                    continue;
                }
                let path = dir.spool_file(&envelope.id);
                match write_new(&path, &body) {
                    Ok(f) => preps.push(Prep::Enqueue {
                        envelope,
                        inline: None,
                        path: Some(path),
                        file: Some(f),
                        reply,
                    }),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Op::Deliver { req, reply } => {
                match prepare_delivery(conn, dir, host, known_dirs, &req, &mut pending_bytes) {
                    Ok(Some((folder_dir, filename, tmp))) => preps.push(Prep::Deliver {
                        req,
                        folder_dir,
                        filename,
                        tmp,
                        reply,
                    }),
                    Ok(None) => {
                        // Indexed before: answer with what the index says.
                        let key = delivery_key(&req);
                        let res = already_indexed(conn, &key).and_then(|found| {
                            found
                                .map(|(mailbox_id, uid, modseq)| Appended {
                                    mailbox_id,
                                    uid,
                                    modseq,
                                    path: PathBuf::new(),
                                    duplicate: true,
                                })
                                .ok_or(StoreError::NoSuchQueueEntry(key))
                        });
                        let _ = reply.send(res);
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Op::Update {
                envelope,
                next_attempt,
                attempts,
                reply,
            } => preps.push(Prep::Update {
                envelope,
                next_attempt,
                attempts,
                reply,
            }),
            Op::Remove { id, reply } => preps.push(Prep::Remove { id, reply }),
        }
    }

    // Phase 2: fsync every new file of the batch together.
    let mut failures: HashMap<usize, StoreError> = HashMap::new();
    {
        let mut owners = Vec::new();
        let mut files = Vec::new();
        for (i, p) in preps.iter().enumerate() {
            match p {
                Prep::Enqueue { file: Some(f), .. } => {
                    owners.push(i);
                    files.push(f);
                }
                Prep::Deliver {
                    tmp: Some((_, f)), ..
                } => {
                    owners.push(i);
                    files.push(f);
                }
                _ => {}
            }
        }
        for (idx, err) in sync_all(&files) {
            if let Some(&owner) = owners.get(idx) {
                failures.insert(owner, StoreError::io(dir.spool_dir(), err));
            }
        }
    }

    // Phase 3: move deliveries into new/, then fsync the directories once each. From the
    // first rename until the index rows are committed the Maildir lock is held, so a
    // reconciliation (`crate::sync`) never indexes a delivered file on its own.
    let delivering = preps.iter().any(|p| matches!(p, Prep::Deliver { .. }));
    let _maildir_turn = delivering.then(|| lock(&ctx.maildir_lock));
    // `new/`'s modification time before and after this batch's renames, per folder: a
    // folder that was reconciled before stays reconciled (`mailboxes.synced_new`).
    let mut new_mtimes: HashMap<PathBuf, (i64, i64)> = HashMap::new();
    for p in &preps {
        if let Prep::Deliver {
            folder_dir,
            tmp: Some(_),
            ..
        } = p
        {
            new_mtimes
                .entry(folder_dir.clone())
                .or_insert_with(|| (mailbox::mtime_ns(&folder_dir.join("new")), 0));
        }
    }
    let mut dirs_to_sync: HashSet<PathBuf> = HashSet::new();
    for (i, p) in preps.iter_mut().enumerate() {
        match p {
            Prep::Enqueue {
                file: file @ Some(_),
                ..
            } => {
                *file = None;
                dirs_to_sync.insert(dir.spool_dir());
            }
            Prep::Deliver {
                folder_dir,
                filename,
                tmp,
                ..
            } => {
                if let Some((tmp_path, _)) = tmp.take()
                    && !failures.contains_key(&i)
                {
                    let dest = folder_dir.join("new").join(&*filename);
                    if let Err(e) = std::fs::rename(&tmp_path, &dest) {
                        failures.insert(i, StoreError::io(&dest, e));
                        let _ = std::fs::remove_file(&tmp_path);
                        continue;
                    }
                    dirs_to_sync.insert(folder_dir.join("new"));
                }
            }
            _ => {}
        }
    }
    let dir_files: Vec<(PathBuf, Result<File, std::io::Error>)> = dirs_to_sync
        .into_iter()
        .map(|d| {
            let f = File::open(&d);
            (d, f)
        })
        .collect();
    let opened: Vec<&File> = dir_files
        .iter()
        .filter_map(|(_, f)| f.as_ref().ok())
        .collect();
    let dir_sync_failed =
        !sync_all(&opened).is_empty() || dir_files.iter().any(|(_, f)| f.is_err());
    for (folder_dir, (_, after)) in new_mtimes.iter_mut() {
        *after = mailbox::mtime_ns(&folder_dir.join("new"));
    }
    let mut changed: HashMap<i64, MailboxChange> = HashMap::new();

    // Phase 4: one transaction for every row.
    let result = (|| -> Result<Vec<Option<Appended>>, StoreError> {
        if dir_sync_failed {
            return Err(StoreError::io(
                dir.root(),
                std::io::Error::other("directory fsync failed"),
            ));
        }
        // One writer's transaction at a time: SQLite has one write lock, and waiting here
        // is cheaper than its busy handler's sleeps.
        let _turn = lock(&ctx.commit_lock);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut appended = Vec::with_capacity(preps.len());
        for (i, p) in preps.iter().enumerate() {
            if failures.contains_key(&i) {
                appended.push(None);
                continue;
            }
            match p {
                Prep::Enqueue {
                    envelope, inline, ..
                } => {
                    tx.prepare_cached(
                        "INSERT INTO queue (id, created, created_ms, next_attempt, attempts, envelope, body) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
                    )?
                    .execute(params![envelope.id, envelope.created, envelope.arrival_ms(), envelope.created + FRESH_GRACE_SECS, serde_json::to_string(envelope)?, inline.as_ref().map(|b| b.as_slice())])?;
                    appended.push(None);
                }
                Prep::Deliver {
                    req,
                    folder_dir,
                    filename,
                    ..
                } => {
                    let mbox = mailbox::get_or_create(&tx, req.account.id, &req.folder, now)?;
                    let (uid, modseq) = mailbox::allocate_uid(&tx, mbox.id)?;
                    let size = req.data.len() as i64;
                    tx.prepare_cached(
                        "INSERT INTO messages (mailbox_id, uid, modseq, flags, filename, size, internal_date, delivery_key) VALUES (?1, ?2, ?3, '', ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![mbox.id, uid, modseq as i64, filename, size, now, delivery_key(req)])?;
                    tx.prepare_cached("UPDATE accounts SET used = used + ?1 WHERE id = ?2")?
                        .execute(params![size, req.account.id])?;
                    if let Some((before, after)) = new_mtimes.remove(folder_dir) {
                        tx.prepare_cached(
                            "UPDATE mailboxes SET synced_new = ?1 WHERE id = ?2 AND synced_new = ?3",
                        )?
                        .execute(params![after, mbox.id, before])?;
                    }
                    changed.insert(
                        mbox.id,
                        MailboxChange {
                            account_id: req.account.id,
                            mailbox_id: mbox.id,
                            highestmodseq: modseq,
                        },
                    );
                    appended.push(Some(Appended {
                        mailbox_id: mbox.id,
                        uid,
                        modseq,
                        path: folder_dir.join("new").join(filename),
                        duplicate: false,
                    }));
                }
                Prep::Update {
                    envelope,
                    next_attempt,
                    attempts,
                    ..
                } => {
                    tx.prepare_cached("UPDATE queue SET envelope = ?1, next_attempt = ?2, attempts = ?3 WHERE id = ?4")?
                        .execute(params![serde_json::to_string(envelope)?, next_attempt, attempts, envelope.id])?;
                    appended.push(None);
                }
                Prep::Remove { id, .. } => {
                    tx.prepare_cached("DELETE FROM queue WHERE id = ?1")?
                        .execute([id])?;
                    appended.push(None);
                }
            }
        }
        tx.commit()?;
        Ok(appended)
    })();
    drop(_maildir_turn);
    if result.is_ok() {
        for change in changed.into_values() {
            let _ = ctx.changes.send(change);
        }
    }

    // Phase 5: answer everyone.
    match result {
        Ok(appended) => {
            for (i, (p, a)) in preps.into_iter().zip(appended).enumerate() {
                let failure = failures.remove(&i);
                match p {
                    Prep::Enqueue { path, reply, .. } => {
                        if failure.is_some()
                            && let Some(path) = path
                        {
                            let _ = std::fs::remove_file(&path);
                        }
                        let _ = reply.send(failure.map_or(Ok(()), Err));
                    }
                    Prep::Deliver { reply, .. } => {
                        let res = match (failure, a) {
                            (Some(e), _) => Err(e),
                            (None, Some(a)) => Ok(a),
                            (None, None) => Err(StoreError::WriterGone),
                        };
                        let _ = reply.send(res);
                    }
                    Prep::Update { reply, .. } => {
                        let _ = reply.send(Ok(()));
                    }
                    Prep::Remove { id, reply } => {
                        if crate::ids::is_valid_id(&id) {
                            let _ = std::fs::remove_file(dir.spool_file(&id));
                        }
                        let _ = reply.send(Ok(()));
                    }
                }
            }
        }
        Err(e) => {
            let msg = e.to_string();
            let err = || StoreError::io(dir.root(), std::io::Error::other(msg.clone()));
            for p in preps {
                match p {
                    Prep::Enqueue { path, reply, .. } => {
                        if let Some(path) = path {
                            let _ = std::fs::remove_file(&path);
                        }
                        let _ = reply.send(Err(err()));
                    }
                    Prep::Deliver { reply, .. } => {
                        let _ = reply.send(Err(err()));
                    }
                    Prep::Update { reply, .. } | Prep::Remove { reply, .. } => {
                        let _ = reply.send(Err(err()));
                    }
                }
            }
        }
    }
}

type Prepared = (PathBuf, String, Option<(PathBuf, File)>);

/// Decides what a delivery needs: `None` when it is already indexed; otherwise the folder,
/// the file name and, unless the file already exists, the written (unsynced) tmp file.
fn prepare_delivery(
    conn: &Connection,
    dir: &DataDir,
    host: &str,
    known_dirs: &mut HashSet<PathBuf>,
    req: &DeliverRequest,
    pending_bytes: &mut HashMap<i64, u64>,
) -> Result<Option<Prepared>, StoreError> {
    if already_indexed(conn, &delivery_key(req))?.is_some() {
        return Ok(None);
    }
    let acct = directory::get_account_by_id(conn, req.account.id)?
        .ok_or_else(|| StoreError::NoSuchAccount(req.account.address.clone()))?;
    let size = req.data.len() as u64;
    let pending = pending_bytes.entry(acct.id).or_insert(0);
    if let Some(quota) = acct.quota {
        let used = acct.used + *pending;
        if used + size > quota {
            return Err(StoreError::OverQuota { used, size, quota });
        }
    }
    let maildir = dir.maildir(&acct.domain, &acct.local);
    let folder_dir = mailbox::folder_dir(&maildir, &req.folder)
        .ok_or_else(|| StoreError::InvalidAddress(req.folder.clone()))?;
    if !known_dirs.contains(&folder_dir) {
        mailbox::ensure_maildir(&folder_dir, folder_dir != maildir)?;
        known_dirs.insert(folder_dir.clone());
    }
    let filename = mailbox::delivery_filename(
        req.arrival,
        &req.queue_id,
        req.rcpt_index,
        acct.id,
        host,
        req.data.len(),
    );
    *pending += size;
    if !req.fresh && maildir_has(&folder_dir, &filename) {
        return Ok(Some((folder_dir, filename, None)));
    }
    let tmp_path = folder_dir.join("tmp").join(&filename);
    let f = write_new(&tmp_path, &req.data)?;
    Ok(Some((folder_dir, filename, Some((tmp_path, f)))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::{QueueRcpt, RcptState};

    fn envelope(id: &str) -> Envelope {
        Envelope {
            id: id.to_string(),
            created: unix_now(),
            created_ms: 0,
            sender: "a@remote.test".into(),
            rcpts: vec![QueueRcpt {
                address: "bob@example.test".into(),
                orcpt: None,
                notify: vec![],
                state: RcptState::Pending,
                attempts: 0,
                last_error: None,
            }],
            size: 5,
            message_id: None,
            body: None,
            smtputf8: false,
            ret: None,
            envid: None,
            auth_user: None,
            remote_ip: "127.0.0.1".into(),
            session: "s".into(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_enqueues_share_commits_and_deliveries_are_idempotent() {
        let tmp = tempfile::tempdir().unwrap();
        let store =
            Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
        let acct = {
            let c = store.conn();
            directory::add_account(&c, "bob@example.test", "x", Some(1000)).unwrap()
        };
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                let id = crate::ids::queue_id();
                s.enqueue(envelope(&id), Arc::new(b"hello".to_vec()))
                    .await
                    .map(|_| id)
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap().unwrap());
        }
        assert_eq!(crate::queue::list(&store.conn()).unwrap().len(), 50);
        assert!(store.stats().batches.load(Ordering::Relaxed) < 50);
        assert_eq!(store.read_spool(&ids[0]).unwrap(), b"hello");

        let req = DeliverRequest {
            queue_id: ids[0].clone(),
            rcpt_index: 0,
            account: acct.clone(),
            folder: "INBOX".into(),
            arrival: 1,
            data: b"Delivered-To: bob\r\n\r\nhi\r\n".to_vec(),
            fresh: true,
        };
        let first = store.deliver(req.clone()).await.unwrap();
        assert_eq!(first.uid, 1);
        assert!(first.path.exists());
        let again = store.deliver(req.clone()).await.unwrap();
        assert!(again.duplicate);
        assert_eq!(again.uid, 1);
        let new_dir = first.path.parent().unwrap();
        assert_eq!(std::fs::read_dir(new_dir).unwrap().count(), 1);

        // Over quota is a temporary failure.
        let big = DeliverRequest {
            rcpt_index: 1,
            data: vec![b'x'; 2000],
            ..req
        };
        let err = store.deliver(big).await.unwrap_err();
        assert!(matches!(err, StoreError::OverQuota { .. }) && err.is_temporary());

        store.remove_queued(&ids[0]).await.unwrap();
        assert!(store.read_spool(&ids[0]).is_err());
        assert_eq!(crate::queue::list(&store.conn()).unwrap().len(), 49);
    }

    #[tokio::test]
    async fn small_bodies_live_in_the_row_big_ones_in_the_spool() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(DataDir::new(tmp.path()), &[], "host").unwrap();
        let small = crate::ids::queue_id();
        let big = crate::ids::queue_id();
        let big_body = vec![b'x'; INLINE_BODY_MAX + 1];
        store
            .enqueue(envelope(&small), Arc::new(b"small".to_vec()))
            .await
            .unwrap();
        store
            .enqueue(envelope(&big), Arc::new(big_body.clone()))
            .await
            .unwrap();
        assert!(!store.data_dir().spool_file(&small).exists());
        assert!(store.data_dir().spool_file(&big).exists());
        assert_eq!(store.read_spool(&small).unwrap(), b"small");
        assert_eq!(store.read_spool(&big).unwrap(), big_body);
        // Neither is an orphan for recovery.
        assert_eq!(store.recover().unwrap(), 0);
        store.remove_queued(&small).await.unwrap();
        store.remove_queued(&big).await.unwrap();
        assert!(store.read_spool(&small).is_err() && store.read_spool(&big).is_err());
        assert!(!store.data_dir().spool_file(&big).exists());
    }

    #[test]
    fn recover_removes_uncommitted_spool_files() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(DataDir::new(tmp.path()), &[], "host").unwrap();
        std::fs::write(store.data_dir().spool_file("orphan1"), b"x").unwrap();
        assert_eq!(store.recover().unwrap(), 1);
    }
}
