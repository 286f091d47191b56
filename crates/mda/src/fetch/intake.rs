//! A fetched message into the local queue: the same path as SMTP mail (the queue runner
//! delivers it, Sieve included), with a `Received:` field naming the remote server and the
//! protocol. The order makes a crash at any point lose nothing and duplicate nothing:
//! `pending` recorded, message queued (fsynced by the store), `done` recorded; only then
//! may the remote copy be deleted.

use super::FetchAccount;
use super::error::FetchError;
use super::headers;
use super::state::{Pending, State};
use mailward_event::{Event, FetchMessage, Scope};
use mailward_store::queue::{Envelope, NoticeSender, QueueRcpt, QueuedNotice};
use mailward_store::{QueueStore, Store, ids};
use std::sync::Arc;

/// Where fetched messages go.
#[derive(Clone)]
pub struct FetchContext {
    pub store: Arc<Store>,
    /// The running server's queue runner; `None` when the caller delivers otherwise.
    pub notices: Option<NoticeSender>,
    /// This server's name, for `Received: ... by`.
    pub hostname: String,
}

/// Queues messages for one account and records them in its state.
pub struct Intake<'a> {
    pub ctx: &'a FetchContext,
    pub account: &'a FetchAccount,
    pub state: State,
    /// The remote server's address, for `Received: from` and the envelope.
    pub peer_ip: String,
    /// `POP3`, `POP3S`, `IMAP`, `IMAPS`: the `with` of `Received:`.
    pub protocol_word: &'static str,
}

impl Intake<'_> {
    /// Queues `message`, fetched under `key` (a UIDL, or UIDVALIDITY.UID), unless it is
    /// recorded done already. On return it is safe to delete the remote copy. Returns the
    /// queue ID, `None` when the message was taken before.
    pub async fn take(
        &mut self,
        key: &str,
        message: Vec<u8>,
    ) -> Result<Option<String>, FetchError> {
        if self.state.is_done(key) {
            return Ok(None);
        }
        let pending = match self.state.pending(key) {
            // Queued (perhaps delivered) before a crash: again under the same ID and
            // arrival, which the store recognises.
            Some(p) => p.clone(),
            None => {
                let p = Pending {
                    queue_id: ids::queue_id(),
                    arrival_ms: ids::unix_now_ms(),
                };
                self.state.begin(key, p.clone())?;
                p
            }
        };
        let message_id = headers::message_id(&message);
        let size = message.len() as u64;
        let already = self
            .ctx
            .store
            .queued(&pending.queue_id)
            .map_err(|e| FetchError::Queue(e.to_string()))?
            .is_some();
        if !already {
            let data = self.with_received(&pending, &message);
            let envelope = Envelope {
                id: pending.queue_id.clone(),
                created: pending.arrival_ms.div_euclid(1000),
                created_ms: pending.arrival_ms,
                sender: headers::return_path(&message).unwrap_or_default(),
                rcpts: vec![QueueRcpt {
                    address: self.account.deliver_to.clone(),
                    ..Default::default()
                }],
                size: data.len() as u64,
                message_id: message_id.clone(),
                remote_ip: self.peer_ip.clone(),
                helo: self.account.host.clone(),
                ..Default::default()
            };
            self.ctx
                .store
                .enqueue(envelope.clone(), Arc::new(data))
                .await
                .map_err(|e| FetchError::Queue(e.to_string()))?;
            if let Some(n) = &self.ctx.notices {
                n.send(QueuedNotice { envelope });
            }
        }
        self.state.finish(key, size, message_id.as_deref())?;
        Scope::message(&pending.queue_id).emit(Event::FetchMessage(FetchMessage {
            account: self.account.name.as_str().into(),
            remote_uid: key.into(),
            size,
        }));
        Ok(Some(pending.queue_id))
    }

    /// `Received: from HOST (IP) by US with PROTO id QID for <TO>; DATE` (RFC 5321 §4.4,
    /// RFC 5322 §3.6.7), then the message.
    fn with_received(&self, pending: &Pending, message: &[u8]) -> Vec<u8> {
        let date =
            mailward_message::datetime::format_rfc5322(pending.arrival_ms.div_euclid(1000), 0);
        let field = format!(
            "Received: from {} ([{}])\r\n\tby {} with {} id {}\r\n\tfor <{}>; {date}\r\n",
            self.account.host,
            self.peer_ip,
            self.ctx.hostname,
            self.protocol_word,
            pending.queue_id,
            self.account.deliver_to,
        );
        let mut data = Vec::with_capacity(field.len() + message.len());
        data.extend_from_slice(field.as_bytes());
        data.extend_from_slice(message);
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::{Protocol, TlsMode};
    use mailward_store::{DataDir, directory};
    use std::time::Duration;

    fn account(dir: &std::path::Path) -> FetchAccount {
        FetchAccount {
            name: "remote".into(),
            protocol: Protocol::Pop3,
            host: "pop.example.test".into(),
            port: 995,
            tls: TlsMode::Implicit,
            user: "u".into(),
            password: "p".into(),
            folder: "INBOX".into(),
            deliver_to: "bob@example.test".into(),
            interval: Duration::from_secs(60),
            keep: false,
            max_messages_per_poll: 0,
            tls_verify: true,
            ca_file: None,
            max_message_size: 1 << 20,
            timeout: Duration::from_secs(5),
            state_dir: dir.join("fetch"),
        }
    }

    #[tokio::test]
    async fn regress_a_message_queued_before_a_crash_is_not_queued_twice() {
        let tmp = tempfile::tempdir().unwrap();
        let store =
            Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
        directory::add_account(&store.conn(), "bob@example.test", "x", None).unwrap();
        let ctx = FetchContext {
            store: store.clone(),
            notices: None,
            hostname: "mx.example.test".into(),
        };
        let account = account(tmp.path());
        let message = b"Message-ID: <m1@remote.test>\r\n\r\nhi\r\n".to_vec();
        // The first run recorded `pending` and died before `done` (queued or not).
        let mut state = State::open(&account.state_path()).unwrap();
        let pending = Pending {
            queue_id: ids::queue_id(),
            arrival_ms: ids::unix_now_ms(),
        };
        state.begin("u1", pending.clone()).unwrap();
        drop(state);
        let mut first = Intake {
            ctx: &ctx,
            account: &account,
            state: State::open(&account.state_path()).unwrap(),
            peer_ip: "192.0.2.1".into(),
            protocol_word: "POP3S",
        };
        // Queued under the pending record's ID and arrival.
        let id = first.take("u1", message.clone()).await.unwrap();
        assert_eq!(id.as_deref(), Some(pending.queue_id.as_str()));
        let queued = store.queued(&pending.queue_id).unwrap().unwrap();
        assert_eq!(queued.envelope.created_ms, pending.arrival_ms);
        // Taken again (the remote copy was not deleted): recorded done, nothing new queued.
        let mut second = Intake {
            ctx: &ctx,
            account: &account,
            state: State::open(&account.state_path()).unwrap(),
            peer_ip: "192.0.2.1".into(),
            protocol_word: "POP3S",
        };
        assert_eq!(second.take("u1", message).await.unwrap(), None);
        assert_eq!(store.due(i64::MAX, 100).unwrap().len(), 1);
        let body = store.read_body(&pending.queue_id).unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.starts_with("Received: from pop.example.test ([192.0.2.1])")
                && text.contains("with POP3S id ")
                && text.contains("for <bob@example.test>;"),
            "{text}"
        );
    }
}
