//! The hand-off of a just-queued message from the SMTP server to the queue runner.
//!
//! DESIGN.md ("Back-pressure over buffering: channels between parts are bounded"): the
//! channel holds at most [`NOTICE_CAPACITY`] notices, and a notice carries the envelope
//! only: the runner reads the body back from the queue when a delivery slot is free (a
//! 2 KiB body from its row costs about 10 µs, a 1 MiB spool file about 90 µs), so memory
//! does not grow with the backlog of bodies.
//!
//! [`NoticeSender::send`] never waits: the SMTP session's `250` must not wait for the
//! runner. When the channel is full the notice is dropped, which loses nothing (the
//! message is durable in the queue before the notice is sent); the sender then wakes the
//! runner with [`Notice::Missed`], and the runner scans the queue for new messages at once
//! instead of waiting for their first scheduled attempt ([`crate::FRESH_GRACE_SECS`]).

use super::Envelope;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Notify;
use tokio::sync::mpsc::{self, error::TrySendError};

/// Notices the channel holds before new ones are dropped (and found by a scan).
pub const NOTICE_CAPACITY: usize = 1024;

/// A message just queued, handed to the queue runner so it need not wait for a scan.
#[derive(Debug, Clone)]
pub struct QueuedNotice {
    pub envelope: Envelope,
}

/// What the sender and the receiver share besides the channel.
#[derive(Debug, Default)]
struct Missed {
    /// Wakes the receiver after a notice was dropped (one stored permit covers a burst).
    wake: Notify,
    /// Notices dropped so far.
    dropped: AtomicU64,
}

/// The server's end: cheap to clone, one per listener or session.
#[derive(Debug, Clone)]
pub struct NoticeSender {
    tx: mpsc::Sender<QueuedNotice>,
    missed: Arc<Missed>,
}

/// The runner's end.
#[derive(Debug)]
pub struct NoticeReceiver {
    rx: mpsc::Receiver<QueuedNotice>,
    missed: Arc<Missed>,
}

/// What the runner learns from [`NoticeReceiver::recv`].
#[derive(Debug)]
pub enum Notice {
    /// A message to deliver now.
    Queued(Box<QueuedNotice>),
    /// Notices were dropped: scan the queue for new messages.
    Missed,
    /// Every sender is gone.
    Closed,
}

/// A bounded notice channel holding at most `capacity` notices (at least one).
pub fn notice_channel(capacity: usize) -> (NoticeSender, NoticeReceiver) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let missed = Arc::new(Missed::default());
    (
        NoticeSender {
            tx,
            missed: missed.clone(),
        },
        NoticeReceiver { rx, missed },
    )
}

impl NoticeSender {
    /// Hands a notice over without waiting. Returns false when it was dropped: the channel
    /// was full (the receiver is then told to scan) or the runner has stopped.
    pub fn send(&self, notice: QueuedNotice) -> bool {
        match self.tx.try_send(notice) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.missed.dropped.fetch_add(1, Ordering::Relaxed);
                self.missed.wake.notify_one();
                false
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// Notices dropped because the channel was full, since it was made.
    pub fn dropped(&self) -> u64 {
        self.missed.dropped.load(Ordering::Relaxed)
    }
}

impl NoticeReceiver {
    /// The next notice, or [`Notice::Missed`] when some were dropped since the last one.
    pub async fn recv(&mut self) -> Notice {
        tokio::select! {
            biased;
            n = self.rx.recv() => match n {
                Some(n) => Notice::Queued(Box::new(n)),
                None => Notice::Closed,
            },
            _ = self.missed.wake.notified() => Notice::Missed,
        }
    }

    /// A notice already waiting, if any.
    pub fn try_recv(&mut self) -> Option<QueuedNotice> {
        self.rx.try_recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::RcptState;

    fn notice(id: &str) -> QueuedNotice {
        QueuedNotice {
            envelope: Envelope {
                id: id.into(),
                created: 0,
                created_ms: 0,
                sender: String::new(),
                rcpts: vec![crate::queue::QueueRcpt {
                    address: "bob@example.test".into(),
                    orcpt: None,
                    notify: vec![],
                    state: RcptState::Pending,
                    attempts: 0,
                    last_error: None,
                    ..Default::default()
                }],
                size: 0,
                message_id: None,
                body: None,
                smtputf8: false,
                requiretls: false,
                ret: None,
                envid: None,
                auth_user: None,
                remote_ip: String::new(),
                session: String::new(),
                ..Default::default()
            },
        }
    }

    #[tokio::test]
    async fn a_full_channel_drops_without_waiting_and_asks_for_a_scan() {
        let (tx, mut rx) = notice_channel(2);
        assert!(tx.send(notice("a")));
        assert!(tx.send(notice("b")));
        assert!(!tx.send(notice("c")));
        assert!(!tx.send(notice("d")));
        assert_eq!(tx.dropped(), 2);
        assert!(matches!(rx.recv().await, Notice::Queued(n) if n.envelope.id == "a"));
        assert!(matches!(rx.recv().await, Notice::Queued(n) if n.envelope.id == "b"));
        // Two drops, one wake-up: the scan finds both.
        assert!(matches!(rx.recv().await, Notice::Missed));
        drop(tx);
        assert!(matches!(rx.recv().await, Notice::Closed));
    }
}
