//! The hand-off from the SMTP server to the runner is bounded: when it is full, notices are
//! dropped, and the messages must still be delivered at once, not after their first
//! scheduled attempt (`FRESH_GRACE_SECS`) or the next periodic scan.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_mda::{QueueRunner, RetrySettings};
use mailward_store::queue::{self, Envelope, QueueRcpt, QueuedNotice, RcptState, notice_channel};
use mailward_store::{DataDir, Store, directory, ids};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

fn envelope(id: &str) -> Envelope {
    Envelope {
        id: id.to_string(),
        created: ids::unix_now(),
        created_ms: ids::unix_now_ms(),
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
        size: 20,
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
async fn a_full_notice_channel_loses_no_message_and_delays_none() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
    directory::add_account(&store.conn(), "bob@example.test", "x", None).unwrap();
    let (notices, receiver) = notice_channel(2);
    let (_stop_tx, stop) = watch::channel(false);
    let runner = QueueRunner::new(
        store.clone(),
        RetrySettings {
            initial_delay: Duration::from_secs(60),
            max_delay: Duration::from_secs(600),
            max_age: Duration::from_secs(86_400),
            // No periodic scan during the test: only the notices and the scan they ask
            // for can deliver.
            scan_interval: Duration::from_secs(3600),
            concurrency: 4,
            delay_warning: Duration::from_secs(4 * 3600),
            hostname: "mx.example.test".into(),
        },
    );
    // The runner starts on an empty queue (its start-up scan finds nothing).
    let runner_task = tokio::spawn(runner.run(receiver, stop));
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Queue 40 messages durably, as the server does before its 250, then hand the notices
    // over all at once: at most 2 fit, the rest are dropped.
    let mut queued = Vec::new();
    for i in 0..40 {
        let id = ids::queue_id();
        let body = format!("Subject: {i}\r\n\r\nhello\r\n").into_bytes();
        store.enqueue(envelope(&id), Arc::new(body)).await.unwrap();
        queued.push(id);
    }
    let mut dropped = 0;
    for id in &queued {
        if !notices.send(QueuedNotice {
            envelope: envelope(id),
        }) {
            dropped += 1;
        }
    }
    assert!(dropped > 0, "the channel never filled");
    assert_eq!(notices.dropped(), dropped);

    // Well within FRESH_GRACE_SECS (30 s) and the scan interval: every message delivered.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = queue::list(&store.conn()).unwrap().len();
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} of 40 messages still queued after dropped notices"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let new_dir = store.data_dir().maildir("example.test", "bob").join("new");
    assert_eq!(std::fs::read_dir(new_dir).unwrap().count(), 40);
    drop(notices);
    runner_task.await.unwrap();
}
