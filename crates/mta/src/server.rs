//! The SMTP listeners: one tokio task per connection driving a [`Session`], TLS by
//! tokio-rustls (STARTTLS and implicit TLS), queueing through the store's group commit.

use crate::body::Body;
use crate::inbound::{self, InboundChecks};
use crate::limits::{Limiter, Refused};
use crate::policy::{self, Directory, RcptLookup};
use crate::received::{self, ReceivedInfo};
use crate::reply::Reply;
use crate::screen::{self, Arrival, Screened};
use crate::session::{Action, EnqueueOutcome, Session, SessionConfig, Submission};
use crate::spool_file::SpoolFile;
use mailward_auth::inbound::Decision;
use mailward_event::{Event, Protocol, Queued};
use mailward_filter::Gateway;
use mailward_filter::context::AuthVerdicts;
use mailward_net::auth_ledger::Denied;
use mailward_net::connection::{self, Ended, Gate, Refusal};
use mailward_store::queue::{Envelope, NoticeSender, QueueRcpt, QueuedNotice, RcptState};
use mailward_store::{DirectoryStore, QueueStore, Recipient, SpoolTemp, Store, ids};
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub use crate::session::ListenerKind;

/// Everything the server needs from the configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Template for sessions; `listener` is set per listener.
    pub session: SessionConfig,
    pub listeners: Vec<(ListenerKind, SocketAddr)>,
    /// RFC 5321 §4.5.3.2.7: the server waits at least 5 minutes for the next command.
    pub command_timeout: Duration,
    /// RFC 5321 §4.5.3.2.5/6: the data block and termination timeouts (3 and 10 minutes).
    pub data_timeout: Duration,
    /// A client that has neither authenticated nor started a mail transaction this long
    /// after connecting is dropped (an absolute deadline; the command timeout restarts with
    /// every read).
    pub start_timeout: Duration,
    /// TLS handshake timeout.
    pub tls_timeout: Duration,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// SPF/DKIM/ARC/DMARC on port 25 mail (`[verify]`); `None`: not checked.
    pub inbound: Option<Arc<InboundChecks>>,
    /// The security gateway (`[filter]`), run on every message; `None`: off.
    pub filter: Option<Arc<Gateway>>,
    /// A last check of a message with one local recipient (the recipient's Sieve
    /// `reject` at SMTP time); `None`: none.
    pub data_check: Option<Arc<dyn crate::DataCheck>>,
}

/// The policy's directory over the store's ([`DirectoryStore`]; SQLite by default).
#[derive(Debug, Clone)]
pub struct StoreDirectory<D = Store>(pub Arc<D>);

impl<D: DirectoryStore> Directory for StoreDirectory<D> {
    fn rcpt(&self, address: &str, size: u64) -> RcptLookup {
        match self.0.resolve(address) {
            Ok(Recipient::NotLocal) => RcptLookup::NotLocal,
            Ok(Recipient::Unknown) => RcptLookup::Unknown,
            Ok(Recipient::Local { accounts, .. }) => {
                let full = accounts
                    .iter()
                    // Full already, or unable to take the declared size.
                    .any(|a| {
                        a.quota
                            .is_some_and(|q| a.used >= q || a.used.saturating_add(size) > q)
                    });
                if full {
                    RcptLookup::OverQuota
                } else {
                    RcptLookup::Local
                }
            }
            Err(_) => RcptLookup::TempFail,
        }
    }

    fn may_send_as(&self, user: &str, address: &str) -> bool {
        match self.0.account(user) {
            Ok(Some(acct)) => self.0.owns_address(&acct, address).unwrap_or(false),
            _ => false,
        }
    }
}

/// The running SMTP service, over any store with a queue and a directory (SQLite by
/// default).
pub struct Server<B = Store> {
    cfg: ServerConfig,
    store: Arc<B>,
    dir: Arc<dyn Directory>,
    notify: NoticeSender,
    limiter: Arc<Limiter>,
    active: AtomicUsize,
}

enum Exit {
    Closed,
    StartTls,
}

/// A message after the inbound checks.
enum Verified<'m> {
    /// Not inbound mail, or checks are off.
    Unchecked,
    /// The fields to add, the message without forged results, the Junk reason if any, the
    /// results for the gateway.
    Checked {
        fields: String,
        message: Cow<'m, [u8]>,
        junk: Option<String>,
        auth: AuthVerdicts,
    },
    Refused(EnqueueOutcome),
}

/// A spooled message after the inbound checks and the gateway.
enum Spooled {
    Ready {
        temp: SpoolTemp,
        junk: Option<String>,
    },
    /// Kept in quarantine (the spool file is dropped).
    Held,
    Refused(EnqueueOutcome),
}

/// What a client refused at connect is told (RFC 5321 §3.8: 421, and close).
fn refusal(why: Refused) -> Refusal {
    let reply = match why {
        Refused::TooManyConnections => Reply::TOO_MANY_CONNECTIONS,
        Refused::RateExceeded => Reply::CONNECTION_RATE_EXCEEDED,
        Refused::Blocked => Reply::TOO_MANY_AUTH_FAILURES,
    };
    Refusal {
        line: reply.to_bytes(),
        code: reply.status().to_string(),
    }
}

impl<B: QueueStore + DirectoryStore> Server<B> {
    /// `limiter` is this service's; its ledger is shared with the other protocols.
    pub fn new(
        cfg: ServerConfig,
        store: Arc<B>,
        notify: NoticeSender,
        limiter: Arc<Limiter>,
    ) -> Arc<Server<B>> {
        let dir: Arc<dyn Directory> = Arc::new(StoreDirectory(store.clone()));
        Arc::new(Server {
            cfg,
            store,
            dir,
            notify,
            limiter,
            active: AtomicUsize::new(0),
        })
    }

    /// Sessions still open.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    /// Binds every configured listener (errors surface before serving starts);
    /// `submissions` needs a TLS configuration and is skipped without one.
    pub async fn bind(&self) -> std::io::Result<Vec<(ListenerKind, TcpListener)>> {
        let wanted = self
            .cfg
            .listeners
            .iter()
            .filter(|(kind, _)| !(*kind == ListenerKind::Submissions && self.cfg.tls.is_none()))
            .copied();
        mailward_net::listen::bind_all(mailward_event::Protocol::Smtp, wanted, ListenerKind::as_str)
            .await
    }

    /// Accepts connections until `shutdown` turns true.
    pub async fn run(
        self: Arc<Self>,
        listeners: Vec<(ListenerKind, TcpListener)>,
        shutdown: watch::Receiver<bool>,
    ) {
        let handle = move |kind: ListenerKind, tcp: TcpStream, peer: SocketAddr| {
            self.clone().connection(kind, tcp, peer)
        };
        mailward_net::listen::accept_all(
            mailward_event::Protocol::Smtp,
            listeners,
            shutdown,
            ListenerKind::as_str,
            handle,
        )
        .await;
    }

    async fn connection(self: Arc<Self>, kind: ListenerKind, tcp: TcpStream, peer: SocketAddr) {
        let ip = peer.ip().to_canonical();
        let gate = Gate {
            protocol: Protocol::Smtp,
            listener: kind.as_str(),
            limiter: &self.limiter,
            active: &self.active,
            exempt: policy::in_networks(&self.cfg.session.relay_networks, ip),
            refusal: (kind != ListenerKind::Submissions).then_some(refusal as _),
        };
        let server = &*self;
        connection::serve(gate, tcp, peer, |scope, tcp| async move {
            let mut scfg = server.cfg.session.clone();
            scfg.listener = kind;
            scfg.tls_available = server.cfg.tls.is_some();
            let mut session = Session::new(
                Arc::new(scfg),
                server.dir.clone(),
                scope.session_id().to_owned(),
                ip,
            );
            session.set_start_deadline(std::time::Instant::now() + server.cfg.start_timeout);
            let error = server.serve(kind, tcp, &mut session).await.err();
            Ended {
                commands: session.commands,
                user: session.auth_user().map(str::to_owned),
                error,
                suppressed: session.suppressed(),
            }
        })
        .await;
    }

    async fn serve(
        &self,
        kind: ListenerKind,
        mut tcp: TcpStream,
        session: &mut Session,
    ) -> std::io::Result<()> {
        let acceptor = self.cfg.tls.as_ref();
        if kind == ListenerKind::Submissions {
            let Some(acceptor) = acceptor else {
                return Ok(());
            };
            let mut tls = mailward_net::tls::handshake(acceptor, tcp, self.cfg.tls_timeout).await?;
            session.set_tls(mailward_net::tls::negotiated(tls.get_ref().1));
            session.greeting();
            self.drive(&mut tls, session).await?;
            return Ok(());
        }
        session.greeting();
        match self.drive(&mut tcp, session).await? {
            Exit::Closed => Ok(()),
            Exit::StartTls => {
                let Some(acceptor) = acceptor else {
                    return Ok(());
                };
                let mut tls =
                    mailward_net::tls::handshake(acceptor, tcp, self.cfg.tls_timeout).await?;
                session.tls_established(mailward_net::tls::negotiated(tls.get_ref().1));
                self.drive(&mut tls, session).await?;
                Ok(())
            }
        }
    }

    /// Writes replies within the command timeout (RFC 5321 §4.5.3.2 gives the server 5
    /// minutes for a command; a client that stops reading gets no longer).
    async fn write<S: AsyncWrite + Unpin>(&self, io: &mut S, bytes: &[u8]) -> std::io::Result<()> {
        mailward_net::deadline::write_within(io, bytes, self.cfg.command_timeout).await
    }

    async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: &mut S,
        session: &mut Session,
    ) -> std::io::Result<Exit> {
        let mut buf = vec![0u8; 32 * 1024];
        // The spool file of the transaction in progress, once its body passed the threshold.
        let mut spool: Option<SpoolFile> = None;
        loop {
            let action = session.advance();
            let queues_spooled = matches!(&action,
                Some(Action::Enqueue(sub)) if matches!(sub.body, Body::Spooled { .. }));
            if !session.spooling() && !queues_spooled {
                // The transaction ended without queueing its spool file: it goes.
                spool = None;
            }
            match action {
                None => {
                    // RFC 2920 §3.1: replies may wait while more input is buffered; flush
                    // when the input is used up.
                    if session.has_output() {
                        self.write(io, &session.take_output()).await?;
                    }
                    if session.is_closed() {
                        mailward_net::deadline::shutdown(io).await;
                        return Ok(Exit::Closed);
                    }
                    let mut limit = if session.in_data() {
                        self.cfg.data_timeout
                    } else {
                        self.cfg.command_timeout
                    };
                    if let Some(left) = session.time_to_start() {
                        limit = limit.min(left);
                    }
                    match tokio::time::timeout(limit, io.read(&mut buf)).await {
                        Err(_) => {
                            session.timeout();
                            self.write(io, &session.take_output()).await?;
                            mailward_net::deadline::shutdown(io).await;
                            return Ok(Exit::Closed);
                        }
                        Ok(Ok(0)) => return Ok(Exit::Closed),
                        Ok(Ok(n)) => session.feed(buf.get(..n).unwrap_or(&[])),
                        Ok(Err(e)) => return Err(e),
                    }
                }
                Some(Action::Close) => {
                    self.write(io, &session.take_output()).await?;
                    mailward_net::deadline::shutdown(io).await;
                    return Ok(Exit::Closed);
                }
                Some(Action::StartTls) => {
                    self.write(io, &session.take_output()).await?;
                    return Ok(Exit::StartTls);
                }
                Some(Action::Authenticate {
                    mechanism,
                    user,
                    password,
                }) => {
                    if let Some(exit) = self
                        .authenticate(io, session, mechanism, user, password)
                        .await?
                    {
                        return Ok(exit);
                    }
                }
                Some(Action::Spool { bytes, start }) => {
                    let written = match (start, spool.as_mut()) {
                        (Some(sub), _) => {
                            spool = None;
                            self.start_spool(&sub, bytes).await.map(|f| spool = Some(f))
                        }
                        (None, Some(file)) => file.append(bytes).await,
                        (None, None) => Err(crate::spool_file::SpoolError::Missing),
                    };
                    if written.is_err() {
                        spool = None;
                    }
                    session.spool_result(written.map_err(|e| e.to_string()));
                }
                Some(Action::Enqueue(sub)) => {
                    let outcome = self.enqueue(*sub, spool.take()).await;
                    session.enqueue_result(outcome);
                }
            }
        }
    }

    /// One password check through the shared ledger (mailward-net): admitted first (a
    /// blocked address is refused before the password is looked at, and checks per address
    /// are bounded), checked on a blocking thread, and a failure answered only after its
    /// delay. Returns `Some` when the connection is to be closed.
    async fn authenticate<S: AsyncWrite + Unpin>(
        &self,
        io: &mut S,
        session: &mut Session,
        mechanism: &'static str,
        user: String,
        password: String,
    ) -> std::io::Result<Option<Exit>> {
        let ledger = self.limiter.ledger();
        let attempt = match ledger.admit(session.remote_ip).await {
            Ok(attempt) => attempt,
            Err(Denied::Blocked) => return self.refuse_blocked(io, session).await.map(Some),
            Err(Denied::Busy) => {
                session.auth_unavailable("too many authentications at once from the address");
                return Ok(None);
            }
        };
        let store = self.store.clone();
        let u = user.clone();
        let checked = tokio::task::spawn_blocking(move || store.authenticate(&u, &password)).await;
        let checked = match checked {
            Ok(Ok(account)) => Ok(account),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let account = match checked {
            Ok(account) => account.map(|a| a.address),
            // The check could not be made: the slot goes back, nothing is counted.
            Err(why) => {
                drop(attempt);
                session.auth_unavailable(&why);
                return Ok(None);
            }
        };
        let blocked = match &account {
            Some(_) => {
                attempt.succeeded();
                false
            }
            None => attempt.failed().await.blocked,
        };
        if let Some(Action::Close) = session.auth_result(mechanism, &user, account) {
            self.write(io, &session.take_output()).await?;
            mailward_net::deadline::shutdown(io).await;
            return Ok(Some(Exit::Closed));
        }
        if blocked {
            return self.refuse_blocked(io, session).await.map(Some);
        }
        Ok(None)
    }

    /// RFC 5321 §3.8: `421` and close, for an address the ledger has blocked.
    async fn refuse_blocked<S: AsyncWrite + Unpin>(
        &self,
        io: &mut S,
        session: &mut Session,
    ) -> std::io::Result<Exit> {
        let reply = Reply::TOO_MANY_AUTH_FAILURES;
        session.scope.emit(Event::Refused(mailward_event::Refused {
            listener: None,
            code: reply.status().to_string().into(),
            reason: "too many authentication failures".into(),
        }));
        let mut out = session.take_output();
        reply.write_to(&mut out);
        self.write(io, &out).await?;
        mailward_net::deadline::shutdown(io).await;
        Ok(Exit::Closed)
    }

    /// The `Received:` header (RFC 5321 §4.4) this server adds to `sub`.
    fn received(&self, sub: &Submission, queue_id: &str, now: i64) -> String {
        let tls = sub.tls.as_ref();
        let for_rcpt = match sub.rcpts.as_slice() {
            [one] => Some(one.address.as_str()),
            _ => None,
        };
        received::header(&ReceivedInfo {
            helo: &sub.helo,
            rdns: None,
            remote_ip: sub.remote_ip,
            tls_version: tls.map(|t| t.version.as_str()),
            tls_cipher: tls.map(|t| t.cipher.as_str()),
            auth_user: sub.auth_user.as_deref(),
            by_host: &self.cfg.session.hostname,
            protocol: received::protocol_word(sub.esmtp, tls.is_some(), sub.auth_user.is_some()),
            queue_id,
            for_rcpt,
            timestamp: now,
        })
    }

    /// Starts the spool file of the transaction `sub` (its body is past the threshold): it
    /// gets its queue ID and `Received:` now, then the body's first `bytes`.
    async fn start_spool(
        &self,
        sub: &Submission,
        bytes: Vec<u8>,
    ) -> Result<SpoolFile, crate::spool_file::SpoolError> {
        let queue_id = ids::queue_id();
        let now_ms = ids::unix_now_ms();
        let header = self.received(sub, &queue_id, now_ms.div_euclid(1000));
        SpoolFile::start(&self.store, queue_id, now_ms, header, bytes).await
    }

    /// Adds `Received:` (RFC 5321 §4.4), checks inbound mail ([`InboundChecks`]: its fields
    /// go below `Received:`, a DMARC `p=reject` failure is refused here), queues durably,
    /// logs `queued`, wakes the runner. A body past the spool threshold is in `spool`
    /// already, behind its `Received:`.
    async fn enqueue(&self, mut sub: Submission, spool: Option<SpoolFile>) -> EnqueueOutcome {
        let message_id = crate::headers::message_id(sub.body.headers());
        let body = std::mem::replace(&mut sub.body, Body::Memory(Vec::new()));
        let queued = match (body, spool) {
            (Body::Memory(body), _) => {
                let queue_id = ids::queue_id();
                let now_ms = ids::unix_now_ms();
                let header = self.received(&sub, &queue_id, now_ms.div_euclid(1000));
                let (fields, body, junk, auth) =
                    match self.authenticate_message(&sub, &queue_id, &body).await {
                        Verified::Refused(outcome) => return outcome,
                        Verified::Checked {
                            fields,
                            message,
                            junk,
                            auth,
                        } => (fields, message, junk, Some(auth)),
                        Verified::Unchecked => {
                            (String::new(), Cow::Borrowed(body.as_slice()), None, None)
                        }
                    };
                let arrival = Arrival {
                    queue_id: &queue_id,
                    arrived: now_ms.div_euclid(1000),
                    received: header.as_bytes(),
                    auth_fields: &fields,
                    message: &body,
                    auth,
                };
                let (filter_fields, rebuilt, filter_junk) =
                    match self.screen_message(&sub, arrival).await {
                        Screened::Refused(outcome) => return outcome,
                        Screened::Held => return EnqueueOutcome::Queued { queue_id },
                        Screened::Queue {
                            fields,
                            message,
                            junk,
                        } => (fields, message, junk),
                    };
                let body: &[u8] = rebuilt.as_deref().unwrap_or(&body);
                let mut data = Vec::with_capacity(
                    header.len() + fields.len() + filter_fields.len() + body.len(),
                );
                data.extend_from_slice(header.as_bytes());
                data.extend_from_slice(fields.as_bytes());
                data.extend_from_slice(filter_fields.as_bytes());
                data.extend_from_slice(body);
                let data = Arc::new(data);
                if let Some(refused) = self.check_data(&sub, &data).await {
                    return refused;
                }
                let mut envelope =
                    self.envelope(&sub, &queue_id, now_ms, data.len() as u64, &message_id);
                envelope.junk = junk.or(filter_junk);
                self.store
                    .enqueue(envelope.clone(), data)
                    .await
                    .map(|()| envelope)
                    .map_err(|e| e.to_string())
            }
            (Body::Spooled { .. }, None) => Err(crate::spool_file::SpoolError::Missing.to_string()),
            (Body::Spooled { tail, .. }, Some(file)) => {
                let (queue_id, now_ms) = (file.queue_id.clone(), file.arrival_ms);
                let finished = match file.finish(tail).await {
                    Ok(temp) => {
                        self.authenticate_spooled(&sub, &queue_id, now_ms.div_euclid(1000), temp)
                            .await
                    }
                    Err(e) => Err(e.to_string()),
                };
                match finished {
                    Err(e) => Err(e),
                    Ok(Spooled::Refused(outcome)) => return outcome,
                    Ok(Spooled::Held) => return EnqueueOutcome::Queued { queue_id },
                    Ok(Spooled::Ready { temp, junk }) => {
                        let mut envelope =
                            self.envelope(&sub, &queue_id, now_ms, temp.len(), &message_id);
                        envelope.junk = junk;
                        self.store
                            .enqueue_spooled(envelope.clone(), temp)
                            .await
                            .map(|()| envelope)
                            .map_err(|e| e.to_string())
                    }
                }
            }
        };
        match queued {
            Ok(envelope) => {
                let queue_id = envelope.id.clone();
                let to: Vec<&str> = sub.rcpts.iter().map(|r| r.address.as_str()).collect();
                // Borrowed, not rebuilt: no allocation per message for the log's scope.
                let scope = mailward_event::Scope {
                    protocol: Some(Protocol::Smtp),
                    session: Some(sub.session.as_str().into()),
                    remote_ip: Some(sub.remote_ip.to_canonical()),
                    queue_id: Some(queue_id.as_str().into()),
                };
                scope.emit(Event::Queued(Queued {
                    from: sub.from.as_str().into(),
                    to: to.join(",").into(),
                    nrcpt: sub.rcpts.len() as u64,
                    size: envelope.size,
                    message_id: message_id.as_deref().map(Into::into),
                    user: sub.auth_user.as_deref().map(Into::into),
                }));
                // Never waits: when the runner's channel is full the notice is dropped and
                // the runner scans for the message (it is durable already).
                self.notify.send(QueuedNotice { envelope });
                EnqueueOutcome::Queued { queue_id }
            }
            Err(e) => EnqueueOutcome::TempFail(e),
        }
    }

    /// Checks `sub`'s `message` when it is inbound mail ([`InboundChecks::applies`]).
    async fn authenticate_message<'m>(
        &self,
        sub: &Submission,
        queue_id: &str,
        message: &'m [u8],
    ) -> Verified<'m> {
        let Some(checks) = self.cfg.inbound.as_ref() else {
            return Verified::Unchecked;
        };
        if !InboundChecks::applies(sub) {
            return Verified::Unchecked;
        }
        let scope = mailward_event::Scope {
            protocol: Some(Protocol::Smtp),
            session: Some(sub.session.as_str().into()),
            remote_ip: Some(sub.remote_ip.to_canonical()),
            queue_id: Some(queue_id.into()),
        };
        let checked = checks.check(sub, message, &scope).await;
        let junk = match &checked.assessment.decision {
            Decision::Reject { reason } => {
                let domain = inbound::reply_domain(&checked.assessment.dmarc.from_domain);
                return Verified::Refused(EnqueueOutcome::Refused {
                    reply: Reply::dmarc_policy_reject(domain),
                    reason: reason.clone(),
                });
            }
            Decision::Junk { reason } => Some(reason.clone()),
            Decision::Deliver => None,
        };
        Verified::Checked {
            auth: inbound::auth_verdicts(&checked.assessment),
            fields: checked.fields,
            message: checked.message,
            junk,
        }
    }

    /// The spooled message in `temp` (our `Received:`, then the message as received),
    /// checked like one in memory: it is read back whole (the checks need all of it), and
    /// when fields are to be added or the message changes, the file is written again with
    /// them below `Received:`.
    async fn authenticate_spooled(
        &self,
        sub: &Submission,
        queue_id: &str,
        arrived: i64,
        temp: SpoolTemp,
    ) -> Result<Spooled, String> {
        let verify = self.cfg.inbound.is_some() && InboundChecks::applies(sub);
        if !verify && self.cfg.filter.is_none() {
            return Ok(Spooled::Ready { temp, junk: None });
        }
        let (temp, content) = tokio::task::spawn_blocking(move || {
            let content = temp.read_all();
            (temp, content)
        })
        .await
        .map_err(|e| e.to_string())?;
        let content = content.map_err(|e| e.to_string())?;
        let received_len = received::field_len(&content);
        let (received, message) = content.split_at(received_len.min(content.len()));
        let (fields, message, junk, auth) =
            match self.authenticate_message(sub, queue_id, message).await {
                Verified::Unchecked => (String::new(), Cow::Borrowed(message), None, None),
                Verified::Refused(outcome) => return Ok(Spooled::Refused(outcome)),
                Verified::Checked {
                    fields,
                    message,
                    junk,
                    auth,
                } => (fields, message, junk, Some(auth)),
            };
        let arrival = Arrival {
            queue_id,
            arrived,
            received,
            auth_fields: &fields,
            message: &message,
            auth,
        };
        let (filter_fields, rebuilt, filter_junk) = match self.screen_message(sub, arrival).await {
            Screened::Refused(outcome) => return Ok(Spooled::Refused(outcome)),
            Screened::Held => return Ok(Spooled::Held),
            Screened::Queue {
                fields,
                message,
                junk,
            } => (fields, message, junk),
        };
        let junk = junk.or(filter_junk);
        let unchanged = fields.is_empty()
            && filter_fields.is_empty()
            && rebuilt.is_none()
            && matches!(message, Cow::Borrowed(_));
        if unchanged {
            return Ok(Spooled::Ready { temp, junk });
        }
        // The message is copied only when the checks changed it (forged results taken
        // out, parts disarmed).
        let changed: Option<Vec<u8>> = match (rebuilt, message) {
            (Some(m), _) => Some(m),
            (None, Cow::Owned(m)) => Some(m),
            (None, Cow::Borrowed(_)) => None,
        };
        let temp = tokio::task::spawn_blocking(move || {
            let mut temp = temp;
            let (received, rest) = content.split_at(received_len.min(content.len()));
            let message = changed.as_deref().unwrap_or(rest);
            temp.rewrite(&[
                received,
                fields.as_bytes(),
                filter_fields.as_bytes(),
                message,
            ])
            .map(|()| temp)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        Ok(Spooled::Ready { temp, junk })
    }

    /// Runs the security gateway on `arrival` when it is on.
    async fn screen_message(&self, sub: &Submission, arrival: Arrival<'_>) -> Screened {
        let Some(gateway) = self.cfg.filter.as_ref() else {
            return Screened::Queue {
                fields: String::new(),
                message: None,
                junk: None,
            };
        };
        let scope = mailward_event::Scope {
            protocol: Some(Protocol::Smtp),
            session: Some(sub.session.as_str().into()),
            remote_ip: Some(sub.remote_ip.to_canonical()),
            queue_id: Some(arrival.queue_id.into()),
        };
        screen::screen(gateway, sub, arrival, &scope).await
    }

    /// [`crate::DataCheck`] for a message with exactly one recipient, a local one (RFC 5429
    /// §2.1: with several, one recipient's refusal cannot be told apart at DATA, so those
    /// are refused later by a delivery status notification). Messages spooled to disk
    /// (past the in-memory size) are not checked here.
    async fn check_data(&self, sub: &Submission, data: &Arc<Vec<u8>>) -> Option<EnqueueOutcome> {
        let check = self.cfg.data_check.clone()?;
        let [rcpt] = sub.rcpts.as_slice() else {
            return None;
        };
        if !rcpt.local {
            return None;
        }
        let sender = sub.from.clone();
        let address = rcpt.address.clone();
        let remote_ip = sub.remote_ip.to_canonical().to_string();
        let message = data.clone();
        let reason = tokio::task::spawn_blocking(move || {
            check.refuse(&sender, &address, &message, &remote_ip)
        })
        .await
        .ok()
        .flatten()?;
        Some(EnqueueOutcome::Refused {
            reply: Reply::sieve_refused(&reason),
            reason: format!("sieve reject: {reason}"),
        })
    }

    /// The queue record of `sub` as queued under `queue_id` at `now_ms` (`size` octets with
    /// the `Received:` header).
    fn envelope(
        &self,
        sub: &Submission,
        queue_id: &str,
        now_ms: i64,
        size: u64,
        message_id: &Option<String>,
    ) -> Envelope {
        Envelope {
            id: queue_id.to_owned(),
            created: now_ms.div_euclid(1000),
            created_ms: now_ms,
            sender: sub.from.clone(),
            rcpts: sub
                .rcpts
                .iter()
                .map(|r| QueueRcpt {
                    address: r.address.clone(),
                    orcpt: r.orcpt.clone(),
                    notify: r.notify.clone(),
                    state: RcptState::Pending,
                    attempts: 0,
                    last_error: None,
                    ..Default::default()
                })
                .collect(),
            size,
            message_id: message_id.clone(),
            body: sub.body_type.clone(),
            smtputf8: sub.smtputf8,
            requiretls: sub.requiretls,
            ret: sub.ret.clone(),
            envid: sub.envid.clone(),
            auth_user: sub.auth_user.clone(),
            remote_ip: sub.remote_ip.to_string(),
            session: sub.session.clone(),
            helo: sub.helo.clone(),
            junk: None,
        }
    }
}
