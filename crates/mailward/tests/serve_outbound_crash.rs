//! Issue 15: kill -9 during remote delivery. 200 messages go through mailward to a
//! destination (`tests/py/hostile_smtp.py accept`, which records each Message-ID before its
//! 250) behind a `[[route]]`; mailward is killed while it delivers and started again. When
//! the queue is empty every message arrived, and the only ones that arrived twice are those
//! that were in flight at the kill (at most one per delivery slot).
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_outbound;
mod common_serve;

use common_outbound::{DOMAIN, Destination, queue, route_to, send, wait_until};
use common_serve::Mailward;
use std::collections::{HashMap, HashSet};

const MESSAGES: usize = 200;
/// `[queue] concurrency`: messages in delivery at once, so at most this many can have
/// reached the destination without mailward having recorded it.
const CONCURRENCY: usize = 8;

#[test]
fn kill_9_during_remote_delivery_loses_nothing_and_resends_only_what_was_in_flight() {
    // 40 ms before each 250 with 4 connections: about 100 messages a second, so the kill
    // lands in the middle.
    let dest = Destination::start("accept", 40);
    let extra =
        route_to(dest.port, None).replacen("[outbound]\n", "[outbound]\nper_destination = 4\n", 1);
    let mut m = Mailward::start_edited(&extra, |text| {
        text.replacen(
            "[queue]\n",
            &format!("[queue]\nconcurrency = {CONCURRENCY}\n"),
            1,
        )
    });
    let (_, message_ids) = send(
        &m,
        "alice@remote.test",
        &format!("carol@{DOMAIN}"),
        MESSAGES,
        "crash",
    );
    assert_eq!(message_ids.len(), MESSAGES);

    wait_until(30, "deliveries to start", || dest.accepted().len() >= 40);
    m.kill9();
    // The destination finishes recording what it was accepting when the client vanished.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let before: Vec<String> = dest.accepted();
    assert!(
        before.len() < MESSAGES,
        "everything was delivered before the kill: the test proves nothing"
    );
    eprintln!("killed after {} of {MESSAGES} deliveries", before.len());

    m.spawn();
    wait_until(60, "the queue to drain", || queue(&m).is_empty());

    let all = dest.accepted();
    let mut times: HashMap<&str, usize> = HashMap::new();
    for id in &all {
        *times.entry(id.as_str()).or_default() += 1;
    }
    let lost: Vec<&String> = message_ids
        .iter()
        .filter(|id| !times.contains_key(id.as_str()))
        .collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    let twice: Vec<(&&str, &usize)> = times.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.iter().all(|(_, n)| **n == 2),
        "sent more than twice: {twice:?}"
    );
    // What arrived again after the restart had arrived before it: the deliveries in flight.
    let delivered_before: HashSet<&str> = before.iter().map(String::as_str).collect();
    let resent: Vec<&String> = all
        .get(before.len()..)
        .unwrap_or_default()
        .iter()
        .filter(|id| delivered_before.contains(id.as_str()))
        .collect();
    assert_eq!(
        resent.len(),
        twice.len(),
        "every duplicate is a resend after the restart"
    );
    assert!(
        resent.len() <= CONCURRENCY,
        "{} messages delivered before the kill were sent again (at most {CONCURRENCY} in flight): {resent:?}",
        resent.len()
    );
    assert_eq!(all.len(), MESSAGES + resent.len());
    eprintln!(
        "{} delivered before the kill, {} resent after the restart, none lost",
        before.len(),
        resent.len()
    );
    // The log agrees: each message delivered once per life of the process at most.
    let delivered_events = m
        .log_lines()
        .iter()
        .filter(|l| l["event"] == "delivered")
        .count();
    assert!(
        delivered_events <= all.len(),
        "{delivered_events} delivered events"
    );
}
