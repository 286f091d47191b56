//! Idle connections kept for the next message to the same host (Postfix's connection
//! cache): a queue of many messages to one destination pays for TCP, EHLO and TLS once.
//! A connection waits at most `idle_keep`; a reused one is probed with RSET first.

use super::conn::Connection;
use super::session::Capabilities;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A connection ready for its next transaction.
pub struct Idle {
    pub conn: Connection,
    pub caps: Capabilities,
    since: Instant,
}

#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<(String, u16), Vec<Idle>>>,
}

impl Pool {
    /// The most recently used live connection to `host:port`, if one waits.
    pub fn take(&self, host: &str, port: u16, keep: Duration) -> Option<Idle> {
        let mut map = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.get_mut(&(host.to_string(), port))?;
        while let Some(idle) = list.pop() {
            if idle.since.elapsed() < keep {
                return Some(idle);
            }
        }
        None
    }

    pub fn put(&self, host: &str, port: u16, conn: Connection, caps: Capabilities) {
        let mut map = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((host.to_string(), port)).or_default().push(Idle {
            conn,
            caps,
            since: Instant::now(),
        });
    }

    /// Takes out every connection idle longer than `keep` (the caller says QUIT).
    pub fn expired(&self, keep: Duration) -> Vec<Connection> {
        let mut map = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        for list in map.values_mut() {
            let (old, fresh): (Vec<Idle>, Vec<Idle>) =
                list.drain(..).partition(|i| i.since.elapsed() >= keep);
            *list = fresh;
            out.extend(old.into_iter().map(|i| i.conn));
        }
        map.retain(|_, l| !l.is_empty());
        out
    }
}
