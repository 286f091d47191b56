//! The POP3 listeners: one tokio task per connection driving a [`Session`], TLS by
//! tokio-rustls (STLS on `pop3`, implicit TLS on `pop3s`), backend calls on blocking
//! threads, per-IP limits and authentication-failure throttling from `mailward-net`.

use crate::backend::LoginOutcome;
use crate::backend::{Backend, MailError, Mailbox};
use crate::session::{Action, Session, SessionConfig};
use mailward_event::{Event, Protocol, Reason};
use mailward_net::auth_ledger::Denied;
use mailward_net::cidr::{Cidr, in_networks};
use mailward_net::connection::{self, Ended, Gate, Refusal};
use mailward_net::limits::{Limiter, Refused};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// RFC 1939 §3: an autologout timer "MUST be of at least 10 minutes' duration".
pub const MIN_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// Output is written once this much has built up, even while pipelined commands remain.
const FLUSH_AT: usize = 64 * 1024;

/// Which listener a connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    /// Port 110: plaintext with STLS (RFC 2595 §4).
    Pop3,
    /// Port 995: TLS from the first byte (RFC 8314 §3.3).
    Pop3s,
}

impl ListenerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerKind::Pop3 => "pop3",
            ListenerKind::Pop3s => "pop3s",
        }
    }
}

/// Everything the server needs from the configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub session: SessionConfig,
    pub listeners: Vec<(ListenerKind, SocketAddr)>,
    /// RFC 1939 §3: the inactivity autologout (at least [`MIN_IDLE_TIMEOUT`] in service;
    /// tests use less). Writes that stall this long end the session too.
    pub idle_timeout: Duration,
    /// A client that has not logged in this long after connecting is dropped, however
    /// slowly it keeps sending (an absolute deadline; the autologout restarts with every
    /// read). Writes before login wait at most for what is left of it.
    pub login_timeout: Duration,
    /// TLS handshake timeout.
    pub tls_timeout: Duration,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Networks exempt from the per-IP connection count and rate (`[relay] networks`).
    pub trusted_networks: Vec<Cidr>,
}

/// The running POP3 service.
pub struct Server<B: Backend> {
    cfg: ServerConfig,
    backend: Arc<B>,
    limiter: Arc<Limiter>,
    active: AtomicUsize,
}

enum Exit {
    Closed,
    StartTls,
}

/// What a client refused at connect is told (RFC 3206 §5: `[SYS/TEMP]`), and the code.
fn refusal(why: Refused) -> Refusal {
    let line = match why {
        Refused::TooManyConnections => "-ERR [SYS/TEMP] too many connections from your address\r\n",
        Refused::RateExceeded => "-ERR [SYS/TEMP] too many connections, slow down\r\n",
        Refused::Blocked => "-ERR [SYS/TEMP] too many authentication failures, try later\r\n",
    };
    Refusal {
        line: line.as_bytes().to_vec(),
        code: "-ERR [SYS/TEMP]".into(),
    }
}

/// A connection's I/O, with the per-operation time limit.
struct Conn<'a, S> {
    io: &'a mut S,
    limit: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<'_, S> {
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let io = &mut *self.io;
        let wrote = async move {
            io.write_all(bytes).await?;
            io.flush().await
        };
        tokio::time::timeout(self.limit, wrote)
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "write timeout"))?
    }

    async fn close(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.io.shutdown()).await;
    }
}

impl<B: Backend> Server<B> {
    pub fn new(cfg: ServerConfig, backend: Arc<B>, limiter: Arc<Limiter>) -> Arc<Server<B>> {
        Arc::new(Server {
            cfg,
            backend,
            limiter,
            active: AtomicUsize::new(0),
        })
    }

    /// Sessions still open.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    /// Binds every configured listener (errors surface before serving starts);
    /// `pop3s` needs a TLS configuration and is skipped without one.
    pub async fn bind(&self) -> std::io::Result<Vec<(ListenerKind, TcpListener)>> {
        let wanted = self
            .cfg
            .listeners
            .iter()
            .filter(|(kind, _)| !(*kind == ListenerKind::Pop3s && self.cfg.tls.is_none()))
            .copied();
        mailward_net::listen::bind_all(Protocol::Pop3, wanted, ListenerKind::as_str).await
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
            Protocol::Pop3,
            listeners,
            shutdown,
            ListenerKind::as_str,
            handle,
        )
        .await;
    }

    async fn connection(self: Arc<Self>, kind: ListenerKind, tcp: TcpStream, peer: SocketAddr) {
        let gate = Gate {
            protocol: Protocol::Pop3,
            listener: kind.as_str(),
            limiter: &self.limiter,
            active: &self.active,
            exempt: in_networks(&self.cfg.trusted_networks, peer.ip()),
            refusal: (kind == ListenerKind::Pop3).then_some(refusal as _),
        };
        let server = &*self;
        connection::serve(gate, tcp, peer, |scope, tcp| async move {
            let mut scfg = server.cfg.session.clone();
            scfg.tls_available = server.cfg.tls.is_some();
            let ip = scope.remote_ip.unwrap_or(peer.ip());
            let mut session = Session::new(Arc::new(scfg), scope.session_id().to_owned(), ip);
            let mut mailbox: Option<Arc<B::Mailbox>> = None;
            let error = server
                .serve(kind, tcp, &mut session, &mut mailbox)
                .await
                .err();
            let user = session.account().map(str::to_owned);
            // A session that ends without QUIT removes nothing (RFC 1939 §6).
            session.finish("closed");
            drop(mailbox);
            Ended {
                commands: session.commands,
                user,
                error,
                suppressed: Vec::new(),
            }
        })
        .await;
    }

    async fn serve(
        &self,
        kind: ListenerKind,
        tcp: TcpStream,
        session: &mut Session,
        mailbox: &mut Option<Arc<B::Mailbox>>,
    ) -> std::io::Result<()> {
        let acceptor = self.cfg.tls.as_ref();
        let login_by = Instant::now() + self.cfg.login_timeout;
        if kind == ListenerKind::Pop3s {
            let Some(acceptor) = acceptor else {
                return Ok(());
            };
            let mut tls = mailward_net::tls::handshake(acceptor, tcp, self.cfg.tls_timeout).await?;
            session.set_tls(mailward_net::tls::negotiated(tls.get_ref().1));
            session.greeting();
            self.drive(&mut tls, session, mailbox, login_by).await?;
            return Ok(());
        }
        let mut tcp = tcp;
        session.greeting();
        match self.drive(&mut tcp, session, mailbox, login_by).await? {
            Exit::Closed => Ok(()),
            Exit::StartTls => {
                let Some(acceptor) = acceptor else {
                    return Ok(());
                };
                let mut tls =
                    mailward_net::tls::handshake(acceptor, tcp, self.cfg.tls_timeout).await?;
                session.tls_established(mailward_net::tls::negotiated(tls.get_ref().1));
                self.drive(&mut tls, session, mailbox, login_by).await?;
                Ok(())
            }
        }
    }

    async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: &mut S,
        session: &mut Session,
        mailbox: &mut Option<Arc<B::Mailbox>>,
        login_by: Instant,
    ) -> std::io::Result<Exit> {
        let mut conn = Conn {
            io,
            limit: self.cfg.idle_timeout,
        };
        let mut buf = vec![0u8; 8 * 1024];
        loop {
            // Before login, reads and writes wait at most until the login deadline.
            let (limit, before_login) = match session.account() {
                Some(_) => (self.cfg.idle_timeout, false),
                None => (
                    self.cfg
                        .idle_timeout
                        .min(login_by.saturating_duration_since(Instant::now())),
                    true,
                ),
            };
            conn.limit = limit.max(Duration::from_millis(1));
            let action = session.advance();
            if session.output_len() >= FLUSH_AT || action.is_none() {
                // RFC 2449 §6.6 (PIPELINING): responses may wait while more commands are
                // buffered; they are written when the input is used up.
                conn.write(&session.take_output()).await?;
            }
            match action {
                None => {
                    if session.is_closed() {
                        conn.close().await;
                        return Ok(Exit::Closed);
                    }
                    match tokio::time::timeout(conn.limit, conn.io.read(&mut buf)).await {
                        Err(_) => {
                            // RFC 1939 §3: autologout, no response, nothing removed.
                            let why = if before_login {
                                "login timeout"
                            } else {
                                "idle timeout"
                            };
                            session.scope.emit(Event::Closed(Reason::new(why)));
                            session.timeout();
                            conn.close().await;
                            return Ok(Exit::Closed);
                        }
                        Ok(Ok(0)) => return Ok(Exit::Closed),
                        Ok(Ok(n)) => session.feed(buf.get(..n).unwrap_or(&[])),
                        Ok(Err(e)) => return Err(e),
                    }
                }
                Some(Action::Close) => {
                    conn.write(&session.take_output()).await?;
                    conn.close().await;
                    return Ok(Exit::Closed);
                }
                Some(Action::StartTls) => {
                    conn.write(&session.take_output()).await?;
                    return Ok(Exit::StartTls);
                }
                Some(Action::Login {
                    method: _,
                    user,
                    password,
                }) => {
                    if self.login(session, mailbox, user, password).await {
                        conn.write(&session.take_output()).await?;
                        conn.write(
                            b"-ERR [SYS/TEMP] too many authentication failures, try later\r\n",
                        )
                        .await?;
                        session.timeout();
                        conn.close().await;
                        return Ok(Exit::Closed);
                    }
                }
                Some(Action::Fetch { uid, mark_seen }) => {
                    let result = match mailbox.clone() {
                        Some(m) => blocking(move || m.fetch(uid, mark_seen)).await,
                        None => Err(MailError::Temporary("no maildrop".into())),
                    };
                    session.fetch_result(result);
                }
                Some(Action::Commit { uids }) => {
                    let result = match mailbox.clone() {
                        Some(m) => blocking(move || m.remove(&uids)).await,
                        None => Err(MailError::Temporary("no maildrop".into())),
                    };
                    if let Err(e) = &result {
                        session
                            .scope
                            .emit(Event::CommitFailed(Reason::new(e.to_string())));
                    }
                    session.commit_result(result);
                }
            }
        }
    }

    /// Checks a login through the shared ledger (mailward-net): admitted first (a blocked
    /// address is refused before the password is looked at, and checks per address are
    /// bounded), checked on a blocking thread, a failure answered only after its delay.
    /// Returns true when the IP is now refused (the caller answers and closes).
    async fn login(
        &self,
        session: &mut Session,
        mailbox: &mut Option<Arc<B::Mailbox>>,
        user: String,
        password: String,
    ) -> bool {
        let ip = session.remote_ip;
        let attempt = match self.limiter.ledger().admit(ip).await {
            Ok(attempt) => attempt,
            Err(Denied::Blocked) => {
                refused(session);
                return true;
            }
            Err(Denied::Busy) => {
                session.login_result(
                    &user,
                    LoginOutcome::TempFail("too many logins at once from your address".into()),
                );
                return false;
            }
        };
        let backend = self.backend.clone();
        let u = user.clone();
        let login = tokio::task::spawn_blocking(move || backend.login(&u, &password).split())
            .await
            .unwrap_or_else(|e| (LoginOutcome::TempFail(e.to_string()), None));
        let (outcome, opened) = login;
        let blocked = match &outcome {
            LoginOutcome::BadCredentials => attempt.failed().await.blocked,
            // The password was right even when the maildrop is in use.
            LoginOutcome::Ok { .. } | LoginOutcome::InUse => {
                attempt.succeeded();
                false
            }
            LoginOutcome::TempFail(_) => {
                drop(attempt);
                false
            }
        };
        *mailbox = opened.map(Arc::new);
        session.login_result(&user, outcome);
        if blocked {
            refused(session);
        }
        blocked
    }
}

/// Logs that the address is refused after too many authentication failures.
fn refused(session: &Session) {
    session.scope.emit(Event::Refused(mailward_event::Refused {
        listener: None,
        code: "-ERR [SYS/TEMP]".into(),
        reason: "too many authentication failures".into(),
    }));
}

/// Runs a backend call on a blocking thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, MailError> + Send + 'static,
) -> Result<T, MailError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(MailError::Temporary(e.to_string())))
}
