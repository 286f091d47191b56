//! The IMAP listeners: `imap` (STARTTLS, RFC 9051 §6.2.1) and `imaps` (implicit TLS,
//! RFC 8314 §3.3). One tokio task per connection drives a [`Session`]; the session's
//! backend calls (SQLite, Maildir, argon2) run on tokio's blocking pool, so no thread is
//! held by an idle or IDLE-ing connection. Per-IP limits and the authentication-failure
//! throttle come from `mailward-net`.

use crate::backend::{AuthOutcome, Authenticator, Subscription};
use crate::session::{Action, Session, SessionConfig};
use mailward_event::{Event, Protocol};
use mailward_net::auth_ledger::Denied;
use mailward_net::cidr::{Cidr, in_networks};
use mailward_net::connection::{self, Ended, Gate, Refusal};
use mailward_net::limits::{Limiter, Refused};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// Which listener a connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    /// Port 143: plaintext with STARTTLS.
    Imap,
    /// Port 993: TLS from the first byte.
    Imaps,
}

impl ListenerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerKind::Imap => "imap",
            ListenerKind::Imaps => "imaps",
        }
    }
}

/// Everything the server needs from the configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub session: SessionConfig,
    pub listeners: Vec<(ListenerKind, SocketAddr)>,
    pub tls_timeout: Duration,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Networks exempt from the per-IP connection count and rate (`[relay] networks`).
    pub trusted_networks: Vec<Cidr>,
}

/// The running IMAP service.
pub struct Server {
    cfg: ServerConfig,
    auth: Arc<dyn Authenticator>,
    limiter: Arc<Limiter>,
    active: AtomicUsize,
}

enum Exit {
    Closed,
    StartTls,
}

type Shared = Arc<Mutex<Session>>;

/// Pieces of a streamed response that may wait for the socket while the session goes on.
const STREAM_AHEAD: usize = 2;

fn lock(s: &Shared) -> MutexGuard<'_, Session> {
    match s.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// Runs `f` on the session on a blocking thread (backend calls may block).
async fn blocking<R: Send + 'static>(
    s: &Shared,
    f: impl FnOnce(&mut Session) -> R + Send + 'static,
) -> std::io::Result<R> {
    let s = s.clone();
    tokio::task::spawn_blocking(move || f(&mut lock(&s)))
        .await
        .map_err(|e| std::io::Error::other(format!("session task failed: {e}")))
}

struct Conn<'a, S> {
    io: &'a mut S,
    limit: Duration,
    /// A second handle on the TCP socket (a dup of its descriptor) to set TCP_QUICKACK.
    quick: Option<&'a std::net::TcpStream>,
}

/// A dup of the connection's socket, for [`quickack`].
fn quick_handle(tcp: &TcpStream) -> Option<std::net::TcpStream> {
    use std::os::fd::AsFd;
    tcp.as_fd()
        .try_clone_to_owned()
        .ok()
        .map(std::net::TcpStream::from)
}

/// Acknowledges what arrives next at once rather than after the delayed-ACK timer. Clients
/// that send a literal and its closing CRLF in two writes with Nagle's algorithm on
/// (Python's imaplib, many others) hold the CRLF until the literal is acknowledged; with
/// delayed ACKs each APPEND would wait ~40 ms. The kernel leaves quick-ACK mode by itself,
/// so it is set again before every read.
fn quickack(quick: Option<&std::net::TcpStream>) {
    if let Some(q) = quick {
        use std::os::linux::net::TcpStreamExt;
        let _ = q.set_quickack(true);
    }
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

impl Server {
    pub fn new(
        cfg: ServerConfig,
        auth: Arc<dyn Authenticator>,
        limiter: Arc<Limiter>,
    ) -> Arc<Server> {
        Arc::new(Server {
            cfg,
            auth,
            limiter,
            active: AtomicUsize::new(0),
        })
    }

    /// Sessions still open.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    /// Binds every configured listener (errors surface before serving starts);
    /// `imaps` needs a TLS configuration and is skipped without one.
    pub async fn bind(&self) -> std::io::Result<Vec<(ListenerKind, TcpListener)>> {
        let wanted = self
            .cfg
            .listeners
            .iter()
            .filter(|(kind, _)| !(*kind == ListenerKind::Imaps && self.cfg.tls.is_none()))
            .copied();
        mailward_net::listen::bind_all(Protocol::Imap, wanted, ListenerKind::as_str).await
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
            Protocol::Imap,
            listeners,
            shutdown,
            ListenerKind::as_str,
            handle,
        )
        .await;
    }

    async fn connection(self: Arc<Self>, kind: ListenerKind, tcp: TcpStream, peer: SocketAddr) {
        let gate = Gate {
            protocol: Protocol::Imap,
            listener: kind.as_str(),
            limiter: &self.limiter,
            active: &self.active,
            exempt: in_networks(&self.cfg.trusted_networks, peer.ip()),
            refusal: (kind == ListenerKind::Imap).then_some(refusal as _),
        };
        let server = &*self;
        connection::serve(gate, tcp, peer, |scope, tcp| async move {
            let mut scfg = server.cfg.session.clone();
            scfg.tls_available = server.cfg.tls.is_some();
            let ip = scope.remote_ip.unwrap_or(peer.ip());
            let session: Shared = Arc::new(Mutex::new(Session::new(
                Arc::new(scfg),
                server.auth.clone(),
                scope.session_id().to_owned(),
                ip,
            )));
            let error = server.serve(kind, tcp, &session).await.err();
            let s = lock(&session);
            Ended {
                commands: s.commands,
                user: s.user().map(str::to_owned),
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
        session: &Shared,
    ) -> std::io::Result<()> {
        let acceptor = self.cfg.tls.as_ref();
        let quick = quick_handle(&tcp);
        let quick = quick.as_ref();
        if kind == ListenerKind::Imaps {
            let Some(acceptor) = acceptor else {
                return Ok(());
            };
            let mut tls = mailward_net::tls::handshake(acceptor, tcp, self.cfg.tls_timeout).await?;
            log_tls(session, tls.get_ref().1);
            {
                let mut s = lock(session);
                s.set_tls();
                s.greeting();
            }
            self.drive(&mut tls, session, quick).await?;
            return Ok(());
        }
        let mut tcp = tcp;
        lock(session).greeting();
        match self.drive(&mut tcp, session, quick).await? {
            Exit::Closed => Ok(()),
            Exit::StartTls => {
                let Some(acceptor) = acceptor else {
                    return Ok(());
                };
                let mut tls =
                    mailward_net::tls::handshake(acceptor, tcp, self.cfg.tls_timeout).await?;
                log_tls(session, tls.get_ref().1);
                lock(session).tls_established();
                self.drive(&mut tls, session, quick).await?;
                Ok(())
            }
        }
    }

    async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: &mut S,
        session: &Shared,
        quick: Option<&std::net::TcpStream>,
    ) -> std::io::Result<Exit> {
        let mut conn = Conn {
            io,
            limit: lock(session).write_timeout(),
            quick,
        };
        // Allocated while the session reads commands; given back during IDLE, so thousands
        // of idling connections hold no large buffer.
        let mut buf: Vec<u8> = Vec::new();
        let ip: IpAddr = lock(session).remote_ip;
        // A long response (FETCH 1:* of a large mailbox) reaches the client in pieces while
        // the session is still producing it, so the client parses while the server works.
        let (stream_tx, mut streamed) = tokio::sync::mpsc::channel::<Vec<u8>>(STREAM_AHEAD);
        lock(session).set_output_stream(Some(Box::new(move |piece| {
            stream_tx.blocking_send(piece).is_ok()
        })));
        // RFC 5465 NOTIFY: woken by the account's changes while waiting for a command.
        let mut notify_wait: Option<(Subscription, Arc<Notify>)> = None;
        // When the wait for the next command ends (notifications sent meanwhile do not move
        // the autologout timer: it counts the client's silence).
        let mut read_deadline: Option<tokio::time::Instant> = None;
        loop {
            let (out, authenticated) = {
                let mut s = lock(session);
                conn.limit = s.write_timeout();
                (s.take_output(), s.user().is_some())
            };
            conn.write(&out).await?;
            // A light command (a FETCH of a message or two that changes nothing) runs right
            // here: handing it to a blocking thread would cost more than the command.
            let light = if authenticated {
                lock(session).advance_light()
            } else {
                None
            };
            let action = if let Some(action) = light {
                if action.is_none() && lock(session).has_pending_input() {
                    continue;
                }
                action
            } else if authenticated {
                let advancing = blocking(session, |s| s.advance());
                tokio::pin!(advancing);
                loop {
                    tokio::select! {
                        biased;
                        done = &mut advancing => break done?,
                        Some(piece) = streamed.recv() => conn.write(&piece).await?,
                    }
                }
            } else {
                // Before login nothing blocks (the password check is Action::Authenticate,
                // bounded by the ledger) and a command is at most 16 KiB: run it here, so
                // a crowd of connections that have not logged in holds no blocking threads.
                lock(session).advance()
            };
            while let Ok(piece) = streamed.try_recv() {
                conn.write(&piece).await?;
            }
            let out = lock(session).take_output();
            conn.write(&out).await?;
            match action {
                None | Some(Action::Idle) => {
                    let (closed, idling, timeout) = {
                        let s = lock(session);
                        (s.is_closed(), s.is_idling(), s.read_timeout())
                    };
                    if closed {
                        conn.close().await;
                        return Ok(Exit::Closed);
                    }
                    if idling {
                        buf = Vec::new();
                        let mut small = [0u8; 512];
                        if !self.idle(&mut conn, session, &mut small).await? {
                            return Ok(Exit::Closed);
                        }
                        continue;
                    }
                    if buf.is_empty() {
                        buf.resize(16 * 1024, 0);
                    }
                    quickack(conn.quick);
                    self.follow_notify(session, &mut notify_wait).await?;
                    // RFC 9051 §5.4: the autologout timer (30 minutes once authenticated).
                    let deadline =
                        *read_deadline.get_or_insert_with(|| tokio::time::Instant::now() + timeout);
                    let read = tokio::time::timeout_at(deadline, conn.io.read(&mut buf));
                    let read = match &notify_wait {
                        Some((_, woken)) => tokio::select! {
                            r = read => Some(r),
                            _ = woken.notified() => None,
                        },
                        None => Some(read.await),
                    };
                    let Some(read) = read else {
                        // RFC 5465 §5: notifications go out between commands too.
                        blocking(session, |s| s.poll_unsolicited()).await?;
                        continue;
                    };
                    read_deadline = None;
                    match read {
                        Err(_) => {
                            let out = {
                                let mut s = lock(session);
                                s.idle_timed_out();
                                s.take_output()
                            };
                            let _ = conn.write(&out).await;
                            conn.close().await;
                            return Ok(Exit::Closed);
                        }
                        Ok(Ok(0)) => return Ok(Exit::Closed),
                        Ok(Ok(n)) => lock(session).feed(buf.get(..n).unwrap_or(&[])),
                        Ok(Err(e)) => return Err(e),
                    }
                }
                Some(Action::Close) => {
                    conn.close().await;
                    return Ok(Exit::Closed);
                }
                Some(Action::StartTls) => return Ok(Exit::StartTls),
                Some(Action::Authenticate) => {
                    if self.authenticate(&mut conn, session, ip).await? {
                        return Ok(Exit::Closed);
                    }
                }
                Some(Action::AuthFailed { .. }) => {
                    // Nothing was checked (malformed exchange): counted, no delay.
                    if self.limiter.ledger().record_failure(ip).blocked {
                        self.refuse_blocked(&mut conn, session).await?;
                        return Ok(Exit::Closed);
                    }
                }
            }
        }
    }

    /// Keeps a watch on the account while the session uses NOTIFY (and drops it after).
    async fn follow_notify(
        &self,
        session: &Shared,
        wait: &mut Option<(Subscription, Arc<Notify>)>,
    ) -> std::io::Result<()> {
        if !lock(session).notify_active() {
            *wait = None;
            return Ok(());
        }
        if wait.is_some() {
            return Ok(());
        }
        let woken = Arc::new(Notify::new());
        let wake = {
            let n = woken.clone();
            Box::new(move || n.notify_one()) as Box<dyn Fn() + Send + Sync>
        };
        if let Some(sub) = blocking(session, move |s| s.watch(wake)).await? {
            *wait = Some((sub, woken));
        }
        Ok(())
    }

    /// One password check through the shared ledger (mailward-net): admitted first (a
    /// blocked address is refused before the password is looked at, and checks per address
    /// are bounded), checked on a blocking thread, and a failure answered only after its
    /// delay. Returns true when the connection was closed.
    async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut Conn<'_, S>,
        session: &Shared,
        ip: IpAddr,
    ) -> std::io::Result<bool> {
        let attempt = match self.limiter.ledger().admit(ip).await {
            Ok(attempt) => attempt,
            Err(Denied::Blocked) => {
                lock(session).auth_answer(AuthOutcome::Unavailable(
                    "the address is blocked after too many authentication failures".into(),
                ));
                self.refuse_blocked(conn, session).await?;
                return Ok(true);
            }
            Err(Denied::Busy) => {
                lock(session).auth_answer(AuthOutcome::Unavailable(
                    "too many authentications at once from the address".into(),
                ));
                return Ok(false);
            }
        };
        let outcome = blocking(session, |s| s.check_credentials()).await?;
        let blocked = match &outcome {
            AuthOutcome::Success(_) => {
                attempt.succeeded();
                false
            }
            AuthOutcome::Failed => attempt.failed().await.blocked,
            AuthOutcome::Unavailable(_) => {
                drop(attempt);
                false
            }
        };
        let next = lock(session).auth_answer(outcome);
        if next == Some(Action::Close) {
            let out = lock(session).take_output();
            conn.write(&out).await?;
            conn.close().await;
            return Ok(true);
        }
        if blocked {
            self.refuse_blocked(conn, session).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// `* BYE [UNAVAILABLE]` and close, for an address the ledger has blocked.
    async fn refuse_blocked<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut Conn<'_, S>,
        session: &Shared,
    ) -> std::io::Result<()> {
        let out = {
            let mut s = lock(session);
            s.scope.emit(Event::Refused(mailward_event::Refused {
                listener: None,
                code: "* BYE [UNAVAILABLE]".into(),
                reason: "too many authentication failures".into(),
            }));
            s.take_output()
        };
        conn.write(&out).await?;
        conn.write(b"* BYE [UNAVAILABLE] Too many authentication failures, try later\r\n")
            .await?;
        conn.close().await;
        Ok(())
    }

    /// Waits in IDLE (RFC 2177): pushes the selected mailbox's changes as they are
    /// announced, until the client sends input (then returns true to let the session
    /// read it) or the IDLE timeout ends the session (false).
    async fn idle<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut Conn<'_, S>,
        session: &Shared,
        buf: &mut [u8],
    ) -> std::io::Result<bool> {
        let notify = Arc::new(Notify::new());
        let wake = {
            let n = notify.clone();
            Box::new(move || n.notify_one()) as Box<dyn Fn() + Send + Sync>
        };
        let sub = blocking(session, move |s| s.watch(wake)).await?;
        // Changes made before the watch started.
        blocking(session, |s| s.poll_changes()).await?;
        let out = lock(session).take_output();
        conn.write(&out).await?;
        let limit = lock(session).read_timeout();
        let deadline = tokio::time::Instant::now() + limit;
        let result = loop {
            tokio::select! {
                r = conn.io.read(buf) => match r {
                    Ok(0) => break Ok(false),
                    Ok(n) => {
                        lock(session).feed(buf.get(..n).unwrap_or(&[]));
                        break Ok(true);
                    }
                    Err(e) => break Err(e),
                },
                _ = notify.notified() => {
                    blocking(session, |s| s.poll_changes()).await?;
                    let out = lock(session).take_output();
                    conn.write(&out).await?;
                }
                _ = tokio::time::sleep_until(deadline) => {
                    let out = {
                        let mut s = lock(session);
                        s.idle_timed_out();
                        s.take_output()
                    };
                    let _ = conn.write(&out).await;
                    conn.close().await;
                    break Ok(false);
                }
            }
        };
        drop(sub);
        result
    }
}

fn log_tls(session: &Shared, conn: &rustls::ServerConnection) {
    let n = mailward_net::tls::negotiated(conn);
    lock(session).scope.emit(n.event());
}

/// What a client refused at connect is told (RFC 9051 §7.1.5 BYE, RFC 5530 UNAVAILABLE).
fn refusal(why: Refused) -> Refusal {
    let line = match why {
        Refused::TooManyConnections => {
            "* BYE [UNAVAILABLE] Too many connections from your address\r\n"
        }
        Refused::RateExceeded => "* BYE [UNAVAILABLE] Too many connections, slow down\r\n",
        Refused::Blocked => "* BYE [UNAVAILABLE] Too many authentication failures, try later\r\n",
    };
    Refusal {
        line: line.as_bytes().to_vec(),
        code: "* BYE [UNAVAILABLE]".into(),
    }
}
