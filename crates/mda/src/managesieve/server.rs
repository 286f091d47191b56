//! The ManageSieve listener (RFC 5804): one tokio task per connection driving a
//! [`Session`], STARTTLS by tokio-rustls, password checks through the shared
//! authentication ledger, script operations on blocking threads, per-IP limits from
//! `mailward-net`.

use super::checker::ScriptChecker;
use super::ops;
use super::session::{LoginOutcome, Session, SessionConfig, Step};
use super::wire::{self, Parsed};
use mailward_event::{Event, Protocol, Reason};
use mailward_net::auth_ledger::Denied;
use mailward_net::cidr::{Cidr, in_networks};
use mailward_net::connection::{self, Ended, Gate, Refusal};
use mailward_net::deadline;
use mailward_net::limits::{Limiter, Refused};
use mailward_store::{DirectoryStore, SieveScripts};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The listener's name in events and the configuration (`[listen] managesieve`).
pub const LISTENER: &str = "managesieve";

/// Everything the server needs from the configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub session: SessionConfig,
    pub listeners: Vec<SocketAddr>,
    /// Inactivity before the server says BYE and closes (RFC 5804 has no minimum).
    pub idle_timeout: Duration,
    /// A client that has not logged in this long after connecting is dropped.
    pub login_timeout: Duration,
    pub tls_timeout: Duration,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Networks exempt from the per-IP connection count and rate.
    pub trusted_networks: Vec<Cidr>,
}

/// The running ManageSieve service.
pub struct Server {
    cfg: ServerConfig,
    directory: Arc<dyn DirectoryStore>,
    scripts: Arc<dyn SieveScripts>,
    checker: Arc<dyn ScriptChecker>,
    limiter: Arc<Limiter>,
    active: AtomicUsize,
}

enum Exit {
    Closed,
    StartTls,
}

/// What a client refused at connect is told (RFC 5804 §1.3 `TRYLATER`).
fn refusal(why: Refused) -> Refusal {
    let line = match why {
        Refused::TooManyConnections => {
            "BYE (TRYLATER) \"too many connections from your address\"\r\n"
        }
        Refused::RateExceeded => "BYE (TRYLATER) \"too many connections, slow down\"\r\n",
        Refused::Blocked => "BYE (TRYLATER) \"too many authentication failures, try later\"\r\n",
    };
    Refusal {
        line: line.as_bytes().to_vec(),
        code: "BYE (TRYLATER)".into(),
    }
}

fn listener_name(_: ()) -> &'static str {
    LISTENER
}

impl Server {
    pub fn new(
        cfg: ServerConfig,
        directory: Arc<dyn DirectoryStore>,
        scripts: Arc<dyn SieveScripts>,
        checker: Arc<dyn ScriptChecker>,
        limiter: Arc<Limiter>,
    ) -> Arc<Server> {
        Arc::new(Server {
            cfg,
            directory,
            scripts,
            checker,
            limiter,
            active: AtomicUsize::new(0),
        })
    }

    /// Sessions still open.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    /// Binds every configured address (errors surface before serving starts).
    pub async fn bind(&self) -> std::io::Result<Vec<((), TcpListener)>> {
        let wanted = self.cfg.listeners.iter().map(|a| ((), *a));
        mailward_net::listen::bind_all(Protocol::ManageSieve, wanted, listener_name).await
    }

    /// Accepts connections until `shutdown` turns true.
    pub async fn run(
        self: Arc<Self>,
        listeners: Vec<((), TcpListener)>,
        shutdown: watch::Receiver<bool>,
    ) {
        let handle =
            move |_: (), tcp: TcpStream, peer: SocketAddr| self.clone().connection(tcp, peer);
        mailward_net::listen::accept_all(
            Protocol::ManageSieve,
            listeners,
            shutdown,
            listener_name,
            handle,
        )
        .await;
    }

    async fn connection(self: Arc<Self>, tcp: TcpStream, peer: SocketAddr) {
        let gate = Gate {
            protocol: Protocol::ManageSieve,
            listener: LISTENER,
            limiter: &self.limiter,
            active: &self.active,
            exempt: in_networks(&self.cfg.trusted_networks, peer.ip()),
            refusal: Some(refusal as _),
        };
        let server = &*self;
        connection::serve(gate, tcp, peer, |scope, tcp| async move {
            let mut scfg = server.cfg.session.clone();
            scfg.tls_available = server.cfg.tls.is_some();
            let mut session = Session::new(Arc::new(scfg), scope, false);
            let error = server.serve(tcp, &mut session).await.err();
            Ended {
                commands: session.commands,
                user: session.user().map(str::to_owned),
                error,
                suppressed: Vec::new(),
            }
        })
        .await;
    }

    async fn serve(&self, mut tcp: TcpStream, session: &mut Session) -> std::io::Result<()> {
        let login_by = Instant::now() + self.cfg.login_timeout;
        let mut input = Vec::new();
        deadline::write_within(&mut tcp, &session.greeting(), self.cfg.idle_timeout).await?;
        match self.drive(&mut tcp, session, login_by, &mut input).await? {
            Exit::Closed => Ok(()),
            Exit::StartTls => {
                let Some(acceptor) = self.cfg.tls.as_ref() else {
                    return Ok(());
                };
                let mut tls =
                    mailward_net::tls::handshake(acceptor, tcp, self.cfg.tls_timeout).await?;
                let info = mailward_net::tls::negotiated(tls.get_ref().1);
                session.scope.emit(info.event());
                // Anything sent before the handshake was discarded (no command injection
                // across STARTTLS).
                input.clear();
                let greeting = session.tls_established();
                deadline::write_within(&mut tls, &greeting, self.cfg.idle_timeout).await?;
                self.drive(&mut tls, session, login_by, &mut input).await?;
                Ok(())
            }
        }
    }

    async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: &mut S,
        session: &mut Session,
        login_by: Instant,
        input: &mut Vec<u8>,
    ) -> std::io::Result<Exit> {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let limit = match session.user() {
                Some(_) => self.cfg.idle_timeout,
                None => self
                    .cfg
                    .idle_timeout
                    .min(login_by.saturating_duration_since(Instant::now())),
            }
            .max(Duration::from_millis(1));
            let mut step = match wire::parse(input, session.wire_limits()) {
                Err(e) => session.fatal(&e),
                Ok(Parsed::Command(tokens, n)) => {
                    input.drain(..n);
                    session.line(tokens)
                }
                Ok(Parsed::Bad(e, n)) => {
                    input.drain(..n);
                    session.bad_line(&e)
                }
                Ok(Parsed::Incomplete) => {
                    match tokio::time::timeout(limit, io.read(&mut buf)).await {
                        Err(_) => {
                            session
                                .scope
                                .emit(Event::Closed(Reason::new("idle timeout")));
                            let bye = session.timeout();
                            let _ = deadline::write_within(io, &bye, Duration::from_secs(5)).await;
                            deadline::shutdown(io).await;
                            return Ok(Exit::Closed);
                        }
                        Ok(Ok(0)) => return Ok(Exit::Closed),
                        Ok(Ok(n)) => input.extend_from_slice(buf.get(..n).unwrap_or_default()),
                        Ok(Err(e)) => return Err(e),
                    }
                    continue;
                }
            };
            loop {
                match step {
                    Step::Reply(bytes) => {
                        deadline::write_within(io, &bytes, limit).await?;
                        break;
                    }
                    Step::Close(bytes) => {
                        deadline::write_within(io, &bytes, limit).await?;
                        deadline::shutdown(io).await;
                        return Ok(Exit::Closed);
                    }
                    Step::StartTls(bytes) => {
                        deadline::write_within(io, &bytes, limit).await?;
                        return Ok(Exit::StartTls);
                    }
                    Step::Login {
                        mechanism: _,
                        credentials,
                    } => {
                        let user = credentials.username.clone();
                        let outcome = self.login(session, credentials).await;
                        step = session.login_result(&user, outcome);
                    }
                    Step::Run { user, op } => {
                        let scripts = self.scripts.clone();
                        let checker = self.checker.clone();
                        let scope = session.scope.clone();
                        let answer = tokio::task::spawn_blocking(move || {
                            ops::run(op, &user, &*scripts, &*checker, &scope)
                        })
                        .await
                        .unwrap_or_else(|_| {
                            b"NO (TRYLATER) \"internal error, try again later\"\r\n".to_vec()
                        });
                        step = Step::Reply(answer);
                    }
                }
            }
        }
    }

    /// Checks a password through the shared ledger (mailward-net): a blocked address is
    /// refused before the password is looked at, a failure is answered after its delay.
    async fn login(
        &self,
        session: &Session,
        credentials: mailward_net::sasl::Credentials,
    ) -> LoginOutcome {
        let Some(ip) = session.scope.remote_ip else {
            return LoginOutcome::TempFail("no client address".into());
        };
        let attempt = match self.limiter.ledger().admit(ip).await {
            Ok(a) => a,
            Err(Denied::Blocked) => return LoginOutcome::Blocked,
            Err(Denied::Busy) => {
                return LoginOutcome::TempFail("too many logins at once from your address".into());
            }
        };
        let directory = self.directory.clone();
        let checked = tokio::task::spawn_blocking(move || {
            directory.authenticate(&credentials.username, &credentials.password)
        })
        .await;
        match checked {
            Ok(Ok(Some(account))) => {
                attempt.succeeded();
                LoginOutcome::Ok(account.address)
            }
            Ok(Ok(None)) => {
                if attempt.failed().await.blocked {
                    LoginOutcome::Blocked
                } else {
                    LoginOutcome::BadCredentials
                }
            }
            Ok(Err(e)) => {
                session
                    .scope
                    .emit(Event::AuthUnavailable(Reason::new(e.to_string())));
                drop(attempt);
                LoginOutcome::TempFail("the account store is unavailable".into())
            }
            Err(e) => {
                drop(attempt);
                LoginOutcome::TempFail(e.to_string())
            }
        }
    }
}
