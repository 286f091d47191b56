//! The writer threads: every durable write of the store goes through one of them.
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

mod commit;
mod requests;

use crate::directory::Account;
use crate::error::StoreError;
use crate::handle::MailboxChange;
use crate::layout::DataDir;
use crate::mailbox::Appended;
use crate::queue::{Envelope, SpoolTemp};
use commit::commit_batch;
use rusqlite::Connection;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Most requests folded into one commit.
const MAX_BATCH: usize = 512;
/// A new message's first scan-driven attempt waits this long: the server hands it to the
/// runner directly, so the periodic scan must not race that hand-over. (At start the
/// runner delivers everything regardless.)
pub const FRESH_GRACE_SECS: i64 = 30;
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
    /// Flags the message arrives with (Sieve's RFC 5232 `:flags`, keep with flags). Empty:
    /// the file goes to `new/`; otherwise to `cur/` with its Maildir info (`:2,S`), so a
    /// reconciliation reads the same flags back.
    pub flags: crate::flags::Flags,
    /// Which copy of the message for this recipient and account (Sieve may file several,
    /// e.g. `fileinto :copy` and keep): part of the idempotent key and file name, so each
    /// copy is delivered once across a crash. 0 for the first (its key is the one earlier
    /// versions wrote).
    pub copy: u32,
}

impl DeliverRequest {
    /// Whether the file goes to `cur/` (it carries flags).
    pub fn in_cur(&self) -> bool {
        !self.flags.is_empty()
    }

    /// The file's name in its folder, given the name it was delivered under.
    pub fn stored_name(&self, filename: &str) -> String {
        if self.in_cur() {
            format!("{filename}:2,{}", self.flags.maildir_info())
        } else {
            filename.to_string()
        }
    }

    /// The subdirectory the file goes to.
    pub fn subdir(&self) -> &'static str {
        if self.in_cur() { "cur" } else { "new" }
    }
}

/// A queued message's body as it reaches the writer.
pub(crate) enum QueuedBody {
    /// In memory: into the row when small, else written to its spool file by the commit.
    Bytes(Arc<Vec<u8>>),
    /// Received into a temporary spool file (too big for memory): the commit renames it.
    Spooled(SpoolTemp),
}

/// A request to a writer thread.
pub(crate) enum Op {
    Enqueue {
        envelope: Box<Envelope>,
        body: QueuedBody,
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

/// What a writer thread shares with the [`Store`].
pub(crate) struct WriterCtx {
    pub(crate) dir: DataDir,
    pub(crate) host: String,
    pub(crate) stats: Arc<WriteStats>,
    pub(crate) commit_lock: Arc<Mutex<()>>,
    pub(crate) maildir_lock: Arc<Mutex<()>>,
    pub(crate) changes: tokio::sync::broadcast::Sender<MailboxChange>,
}

/// Starts a writer thread named `name` on its own connection; returns where its requests go.
pub(crate) fn spawn(
    name: &str,
    conn: Connection,
    ctx: WriterCtx,
) -> Result<mpsc::Sender<Op>, StoreError> {
    let (tx, rx) = mpsc::channel();
    let root = ctx.dir.root().to_path_buf();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || writer_loop(conn, ctx, rx))
        .map_err(|e| StoreError::io(root, e))?;
    Ok(tx)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory;
    use crate::handle::Store;
    use crate::ids::unix_now;
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
                ..Default::default()
            }],
            size: 5,
            message_id: None,
            body: None,
            smtputf8: false,
            requiretls: false,
            ret: None,
            envid: None,
            auth_user: None,
            remote_ip: "127.0.0.1".into(),
            session: "s".into(),
            ..Default::default()
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
            flags: Default::default(),
            copy: 0,
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

    /// Issue 12, item 8: a body too big for memory is received into `spool/tmp/` and the
    /// commit publishes it as the spool file, byte for byte; an aborted one leaves nothing.
    #[tokio::test]
    async fn a_body_received_into_a_temporary_file_is_queued_under_its_id() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(DataDir::new(tmp.path()), &[], "host").unwrap();
        let id = crate::ids::queue_id();
        let mut temp = store.spool_temp(&id).unwrap();
        let mut expected = b"Received: from c.test\r\n".to_vec();
        temp.append(&expected).unwrap();
        for i in 0..64u8 {
            let piece = vec![b'a' + i % 26; 16 * 1024];
            temp.append(&piece).unwrap();
            expected.extend_from_slice(&piece);
        }
        let mut env = envelope(&id);
        env.size = temp.len();
        assert!(
            store
                .enqueue_spooled(envelope("OtherId"), store.spool_temp("Tmp2").unwrap())
                .await
                .is_err(),
            "queued under another ID"
        );
        store.enqueue_spooled(env, temp).await.unwrap();
        let spool_tmp = store.data_dir().spool_tmp_dir();
        assert_eq!(std::fs::read_dir(&spool_tmp).unwrap().count(), 0);
        assert_eq!(
            std::fs::read(store.data_dir().spool_file(&id)).unwrap(),
            expected
        );
        assert_eq!(store.read_spool(&id).unwrap(), expected);
        assert_eq!(
            crate::queue::get(&store.conn(), &id)
                .unwrap()
                .unwrap()
                .envelope
                .size,
            expected.len() as u64
        );
        assert_eq!(store.recover().unwrap(), 0);

        // Aborted (RSET, disconnect, size exceeded, refused): dropping it deletes it.
        let mut aborted = store.spool_temp(&crate::ids::queue_id()).unwrap();
        aborted.append(b"half a message").unwrap();
        drop(aborted);
        assert_eq!(std::fs::read_dir(&spool_tmp).unwrap().count(), 0);

        // A crash while receiving leaves a temporary file; the next start deletes it.
        let crashed = store.spool_temp(&crate::ids::queue_id()).unwrap();
        std::mem::forget(crashed);
        assert_eq!(store.recover().unwrap(), 1);
        assert_eq!(std::fs::read_dir(&spool_tmp).unwrap().count(), 0);
        assert_eq!(store.read_spool(&id).unwrap(), expected, "queued body kept");
    }

    #[test]
    fn recover_removes_uncommitted_spool_files() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(DataDir::new(tmp.path()), &[], "host").unwrap();
        std::fs::write(store.data_dir().spool_file("orphan1"), b"x").unwrap();
        assert_eq!(store.recover().unwrap(), 1);
    }
}
