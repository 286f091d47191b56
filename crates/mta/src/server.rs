//! The SMTP listeners: one tokio task per connection driving a [`Session`], TLS by
//! tokio-rustls (STARTTLS and implicit TLS), queueing through the store's group commit.

use crate::limits::{LimitSettings, Limiter, Refused};
use crate::policy::{self, Directory, RcptLookup};
use crate::received::{self, ReceivedInfo};
use crate::session::{Action, EnqueueOutcome, Session, SessionConfig, Submission, TlsInfo};
use mailward_store::queue::{Envelope, NoticeSender, QueueRcpt, QueuedNotice, RcptState};
use mailward_store::{DirectoryStore, QueueStore, Recipient, Store, ids};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

pub use crate::session::ListenerKind;

/// Everything the server needs from the configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Template for sessions; `listener` is set per listener.
    pub session: SessionConfig,
    pub listeners: Vec<(ListenerKind, SocketAddr)>,
    pub limits: LimitSettings,
    /// RFC 5321 §4.5.3.2.7: the server waits at least 5 minutes for the next command.
    pub command_timeout: Duration,
    /// RFC 5321 §4.5.3.2.5/6: the data block and termination timeouts (3 and 10 minutes).
    pub data_timeout: Duration,
    /// TLS handshake timeout.
    pub tls_timeout: Duration,
    /// Delay after a failed AUTH, multiplied by the IP's failures so far (at most 5x).
    pub auth_fail_delay: Duration,
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// The policy's directory over the store's ([`DirectoryStore`]; SQLite by default).
#[derive(Debug, Clone)]
pub struct StoreDirectory<D = Store>(pub Arc<D>);

impl<D: DirectoryStore> Directory for StoreDirectory<D> {
    fn rcpt(&self, address: &str) -> RcptLookup {
        match self.0.resolve(address) {
            Ok(Recipient::NotLocal) => RcptLookup::NotLocal,
            Ok(Recipient::Unknown) => RcptLookup::Unknown,
            Ok(Recipient::Local { accounts, .. }) => {
                let full = accounts
                    .iter()
                    .any(|a| a.quota.is_some_and(|q| a.used >= q));
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
    limiter: Limiter,
    active: AtomicUsize,
}

enum Exit {
    Closed,
    StartTls,
}

fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn tls_info(conn: &rustls::ServerConnection) -> TlsInfo {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
        Some(v) => format!("{v:?}"),
        None => "unknown".to_string(),
    };
    let cipher = conn
        .negotiated_cipher_suite()
        .and_then(|s| s.suite().as_str())
        .map(|s| s.replacen("TLS13_", "TLS_", 1))
        .unwrap_or_else(|| "unknown".to_string());
    let bits = if cipher.contains("AES_128") { 128 } else { 256 };
    TlsInfo {
        version,
        cipher,
        bits,
    }
}

impl<B: QueueStore + DirectoryStore> Server<B> {
    pub fn new(cfg: ServerConfig, store: Arc<B>, notify: NoticeSender) -> Arc<Server<B>> {
        let limiter = Limiter::new(cfg.limits.clone());
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
        mailward_net::listen::bind_all(None, wanted, ListenerKind::as_str).await
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
        mailward_net::listen::accept_all(None, listeners, shutdown, ListenerKind::as_str, handle)
            .await;
    }

    async fn connection(self: Arc<Self>, kind: ListenerKind, mut tcp: TcpStream, peer: SocketAddr) {
        let ip = normalize(peer.ip());
        let started = Instant::now();
        let exempt = policy::in_networks(&self.cfg.session.relay_networks, ip);
        if let Err(why) = self.limiter.connect(ip, exempt) {
            let text = match why {
                Refused::TooManyConnections => {
                    "421 4.7.0 Error: too many connections from your address\r\n"
                }
                Refused::RateExceeded => "421 4.7.0 Error: too many connections, slow down\r\n",
                Refused::Blocked => {
                    "421 4.7.0 Error: too many authentication failures, try later\r\n"
                }
            };
            info!(event = "rejected", remote_ip = %ip, code = "421 4.7.0", reason = ?why);
            if kind != ListenerKind::Submissions {
                let _ = tcp.write_all(text.as_bytes()).await;
            }
            return;
        }
        self.active.fetch_add(1, Ordering::Relaxed);
        let _ = tcp.set_nodelay(true);
        let mut scfg = self.cfg.session.clone();
        scfg.listener = kind;
        scfg.tls_available = self.cfg.tls.is_some();
        let sid = ids::session_id();
        info!(event = "connect", session = %sid, remote_ip = %ip, listener = kind.as_str(), remote_port = peer.port());
        let mut session = Session::new(Arc::new(scfg), self.dir.clone(), sid.clone(), ip);
        let result = self.serve(kind, tcp, &mut session).await;
        if let Err(e) = result {
            info!(event = "connection_error", session = %sid, remote_ip = %ip, reason = %e);
        }
        self.limiter.disconnect(ip);
        self.active.fetch_sub(1, Ordering::Relaxed);
        info!(event = "disconnect", session = %sid, remote_ip = %ip, commands = session.commands, duration = started.elapsed().as_secs_f64());
    }

    async fn serve(
        &self,
        kind: ListenerKind,
        mut tcp: TcpStream,
        session: &mut Session,
    ) -> std::io::Result<()> {
        let acceptor = self.cfg.tls.clone().map(TlsAcceptor::from);
        if kind == ListenerKind::Submissions {
            let Some(acceptor) = acceptor else {
                return Ok(());
            };
            let mut tls = tokio::time::timeout(self.cfg.tls_timeout, acceptor.accept(tcp))
                .await
                .map_err(|_| std::io::Error::other("TLS handshake timeout"))??;
            session.set_tls(tls_info(tls.get_ref().1));
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
                let mut tls = tokio::time::timeout(self.cfg.tls_timeout, acceptor.accept(tcp))
                    .await
                    .map_err(|_| std::io::Error::other("TLS handshake timeout"))??;
                session.tls_established(tls_info(tls.get_ref().1));
                self.drive(&mut tls, session).await?;
                Ok(())
            }
        }
    }

    async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: &mut S,
        session: &mut Session,
    ) -> std::io::Result<Exit> {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match session.advance() {
                None => {
                    // RFC 2920 §3.1: replies may wait while more input is buffered; flush
                    // when the input is used up.
                    if session.has_output() {
                        io.write_all(&session.take_output()).await?;
                        io.flush().await?;
                    }
                    if session.is_closed() {
                        let _ = io.shutdown().await;
                        return Ok(Exit::Closed);
                    }
                    let limit = if session.in_data() {
                        self.cfg.data_timeout
                    } else {
                        self.cfg.command_timeout
                    };
                    match tokio::time::timeout(limit, io.read(&mut buf)).await {
                        Err(_) => {
                            session.timeout();
                            io.write_all(&session.take_output()).await?;
                            let _ = io.shutdown().await;
                            return Ok(Exit::Closed);
                        }
                        Ok(Ok(0)) => return Ok(Exit::Closed),
                        Ok(Ok(n)) => session.feed(buf.get(..n).unwrap_or(&[])),
                        Ok(Err(e)) => return Err(e),
                    }
                }
                Some(Action::Close) => {
                    io.write_all(&session.take_output()).await?;
                    io.flush().await?;
                    let _ = io.shutdown().await;
                    return Ok(Exit::Closed);
                }
                Some(Action::StartTls) => {
                    io.write_all(&session.take_output()).await?;
                    io.flush().await?;
                    return Ok(Exit::StartTls);
                }
                Some(Action::Authenticate {
                    mechanism,
                    user,
                    password,
                }) => {
                    let store = self.store.clone();
                    let u = user.clone();
                    let checked =
                        tokio::task::spawn_blocking(move || store.authenticate(&u, &password))
                            .await;
                    let account = match checked {
                        Ok(Ok(Some(a))) => Some(a.address),
                        _ => None,
                    };
                    if account.is_some() {
                        self.limiter.auth_ok(session.remote_ip);
                    } else {
                        // Slow down guessing: each failure from this IP waits longer.
                        let n = self.limiter.auth_failed(session.remote_ip);
                        let factor = n.clamp(1, 5);
                        tokio::time::sleep(self.cfg.auth_fail_delay * factor).await;
                    }
                    let failed = account.is_none();
                    if let Some(Action::Close) = session.auth_result(mechanism, &user, account) {
                        io.write_all(&session.take_output()).await?;
                        let _ = io.shutdown().await;
                        return Ok(Exit::Closed);
                    }
                    if failed && self.limiter.is_blocked(session.remote_ip) {
                        info!(event = "rejected", session = %session.id, remote_ip = %session.remote_ip, code = "421 4.7.0", reason = "too many authentication failures");
                        let mut out = session.take_output();
                        out.extend_from_slice(
                            b"421 4.7.0 Error: too many authentication failures, try later\r\n",
                        );
                        io.write_all(&out).await?;
                        let _ = io.shutdown().await;
                        return Ok(Exit::Closed);
                    }
                }
                Some(Action::Enqueue(sub)) => {
                    let outcome = self.enqueue(*sub).await;
                    session.enqueue_result(outcome);
                }
            }
        }
    }

    /// Adds `Received:` (RFC 5321 §4.4), queues durably, logs `queued`, wakes the runner.
    async fn enqueue(&self, sub: Submission) -> EnqueueOutcome {
        let queue_id = ids::queue_id();
        let now_ms = ids::unix_now_ms();
        let now = now_ms.div_euclid(1000);
        let tls = sub.tls.as_ref();
        let for_rcpt = match sub.rcpts.as_slice() {
            [one] => Some(one.address.as_str()),
            _ => None,
        };
        let header = received::header(&ReceivedInfo {
            helo: &sub.helo,
            rdns: None,
            remote_ip: sub.remote_ip,
            tls_version: tls.map(|t| t.version.as_str()),
            tls_cipher: tls.map(|t| t.cipher.as_str()),
            auth_user: sub.auth_user.as_deref(),
            by_host: &self.cfg.session.hostname,
            protocol: received::protocol_word(sub.esmtp, tls.is_some(), sub.auth_user.is_some()),
            queue_id: &queue_id,
            for_rcpt,
            timestamp: now,
        });
        let message_id = crate::headers::message_id(&sub.body);
        let mut data = Vec::with_capacity(header.len() + sub.body.len());
        data.extend_from_slice(header.as_bytes());
        data.extend_from_slice(&sub.body);
        let size = data.len() as u64;
        let envelope = Envelope {
            id: queue_id.clone(),
            created: now,
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
                })
                .collect(),
            size,
            message_id: message_id.clone(),
            body: sub.body_type.clone(),
            smtputf8: sub.smtputf8,
            ret: sub.ret.clone(),
            envid: sub.envid.clone(),
            auth_user: sub.auth_user.clone(),
            remote_ip: sub.remote_ip.to_string(),
            session: sub.session.clone(),
        };
        let body = Arc::new(data);
        match self.store.enqueue(envelope.clone(), body).await {
            Ok(()) => {
                let to: Vec<&str> = sub.rcpts.iter().map(|r| r.address.as_str()).collect();
                info!(
                    event = "queued",
                    session = %sub.session,
                    remote_ip = %sub.remote_ip,
                    queue_id = %queue_id,
                    from = %sub.from,
                    to = %to.join(","),
                    nrcpt = sub.rcpts.len(),
                    size = size,
                    message_id = message_id.as_deref().unwrap_or(""),
                    user = sub.auth_user.as_deref(),
                );
                // Never waits: when the runner's channel is full the notice is dropped and
                // the runner scans for the message (it is durable already).
                self.notify.send(QueuedNotice { envelope });
                EnqueueOutcome::Queued { queue_id }
            }
            Err(e) => {
                warn!(event = "rejected", session = %sub.session, remote_ip = %sub.remote_ip, code = "451 4.3.0", reason = %format!("queue write failed: {e}"));
                EnqueueOutcome::TempFail
            }
        }
    }
}
