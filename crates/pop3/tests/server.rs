//! The tokio POP3 server over real sockets and real TLS, with the in-memory store: STLS
//! and implicit TLS, plaintext refusal, autologout, auth-failure throttling and per-IP
//! limits.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_net::auth_ledger::{AuthLedger, LedgerSettings};
use mailward_net::limits::{LimitSettings, Limiter};
use mailward_pop3::memory::MemoryBackend;
use mailward_pop3::{ListenerKind, Server, ServerConfig, SessionConfig};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;

const USER: &str = "bob@example.test";
const PASS: &str = "secret";
const MSG: &str = "Subject: hi\r\n\r\n.dot\r\nbody\r\n";

struct Running {
    pop3: SocketAddr,
    pop3s: SocketAddr,
    store: MemoryBackend,
    client_tls: tokio_rustls::TlsConnector,
    _stop: watch::Sender<bool>,
}

fn tls_pair() -> (Arc<rustls::ServerConfig>, tokio_rustls::TlsConnector) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert: CertificateDer<'static> = ck.cert.der().clone();
    let key = PrivateKeyDer::try_from(ck.signing_key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (
        Arc::new(server),
        tokio_rustls::TlsConnector::from(Arc::new(client)),
    )
}

async fn start(loopback_plaintext: bool, idle: Duration, limits: LimitSettings) -> Running {
    start_with_login(
        loopback_plaintext,
        idle,
        idle.max(Duration::from_secs(30)),
        limits,
    )
    .await
}

async fn start_with_login(
    loopback_plaintext: bool,
    idle: Duration,
    login: Duration,
    limits: LimitSettings,
) -> Running {
    let store = MemoryBackend::new(42);
    store.add_account(USER, PASS);
    store.deliver(USER, MSG.as_bytes());
    store.deliver(USER, MSG.as_bytes());
    let (tls, client_tls) = tls_pair();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = Server::new(
        ServerConfig {
            session: SessionConfig {
                hostname: "mx.example.test".into(),
                tls_available: true,
                plaintext_auth_on_loopback: loopback_plaintext,
                max_errors: 5,
            },
            listeners: vec![(ListenerKind::Pop3, any), (ListenerKind::Pop3s, any)],
            idle_timeout: idle,
            login_timeout: login,
            tls_timeout: Duration::from_secs(10),
            tls: Some(tls),
            trusted_networks: Vec::new(),
        },
        Arc::new(store.clone()),
        Arc::new(Limiter::new(
            limits,
            Arc::new(AuthLedger::new(LedgerSettings::new(
                3,
                Duration::from_secs(60),
                Duration::from_millis(200),
            ))),
        )),
    );
    let bound = server.bind().await.unwrap();
    let addr = |k| {
        bound
            .iter()
            .find(|(kind, _)| *kind == k)
            .map(|(_, l)| l.local_addr().unwrap())
            .unwrap()
    };
    let (pop3, pop3s) = (addr(ListenerKind::Pop3), addr(ListenerKind::Pop3s));
    let (stop, rx) = watch::channel(false);
    tokio::spawn(server.run(bound, rx));
    Running {
        pop3,
        pop3s,
        store,
        client_tls,
        _stop: stop,
    }
}

fn limits() -> LimitSettings {
    LimitSettings {
        max_connections_per_ip: 10,
        connection_rate_per_minute: 0,
    }
}

/// A line-oriented POP3 client over any stream.
struct Client<S> {
    io: BufReader<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    async fn line(&mut self) -> String {
        let mut l = String::new();
        tokio::time::timeout(Duration::from_secs(10), self.io.read_line(&mut l))
            .await
            .expect("server answered in time")
            .expect("read");
        l
    }

    async fn send(&mut self, text: &str) {
        self.io.get_mut().write_all(text.as_bytes()).await.unwrap();
        self.io.get_mut().flush().await.unwrap();
    }

    async fn cmd(&mut self, text: &str) -> String {
        self.send(&format!("{text}\r\n")).await;
        self.line().await
    }

    /// The lines of a multi-line response up to (not including) the "." line.
    async fn body(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let l = self.line().await;
            if l == ".\r\n" || l.is_empty() {
                return out;
            }
            out.push(l);
        }
    }

    /// True when the server closed the connection (EOF) within `wait`.
    async fn closed_within(&mut self, wait: Duration) -> bool {
        let mut l = String::new();
        matches!(
            tokio::time::timeout(wait, self.io.read_line(&mut l)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}

async fn plain(addr: SocketAddr) -> Client<TcpStream> {
    let mut c = Client {
        io: BufReader::new(TcpStream::connect(addr).await.unwrap()),
    };
    let greeting = c.line().await;
    assert!(greeting.starts_with("+OK "), "{greeting}");
    c
}

#[tokio::test]
async fn stls_upgrade_then_login_retr_dele_quit() {
    let r = start(false, Duration::from_secs(30), limits()).await;
    let mut c = plain(r.pop3).await;
    assert!(c.cmd("CAPA").await.starts_with("+OK"));
    let caps = c.body().await;
    assert!(caps.contains(&"STLS\r\n".to_string()), "{caps:?}");
    assert!(!caps.contains(&"USER\r\n".to_string()), "{caps:?}");
    // Loopback is not exempt in this configuration: plaintext logins are refused.
    let refused = c.cmd(&format!("USER {USER}")).await;
    assert!(refused.starts_with("-ERR [AUTH]"), "{refused}");
    // STLS with a pipelined command: the command is dropped, not run after the handshake.
    c.send(&format!("STLS\r\nUSER {USER}\r\n")).await;
    assert_eq!(c.line().await, "+OK Begin TLS negotiation\r\n");
    let tcp = c.io.into_inner();
    let tls = r
        .client_tls
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let mut c = Client {
        io: BufReader::new(tls),
    };
    assert_eq!(
        c.cmd(&format!("PASS {PASS}")).await,
        "-ERR send USER first\r\n"
    );
    assert!(c.cmd("CAPA").await.starts_with("+OK"));
    let caps = c.body().await;
    assert!(caps.contains(&"USER\r\n".to_string()) && !caps.contains(&"STLS\r\n".to_string()));
    assert_eq!(c.cmd(&format!("USER {USER}")).await, "+OK send PASS\r\n");
    let ok = c.cmd(&format!("PASS {PASS}")).await;
    assert!(
        ok.starts_with("+OK Logged in; maildrop has 2 messages"),
        "{ok}"
    );
    assert_eq!(
        c.cmd("RETR 1").await,
        format!("+OK {} octets\r\n", MSG.len())
    );
    assert_eq!(
        c.body().await,
        ["Subject: hi\r\n", "\r\n", "..dot\r\n", "body\r\n"]
    );
    assert_eq!(c.cmd("DELE 1").await, "+OK message 1 deleted\r\n");
    assert!(c.cmd("QUIT").await.starts_with("+OK"));
    assert!(c.closed_within(Duration::from_secs(5)).await);
    assert_eq!(r.store.messages(USER).len(), 1);
    assert!(r.store.messages(USER).values().all(|m| !m.seen));
}

#[tokio::test]
async fn pop3s_is_tls_from_the_first_byte() {
    let r = start(false, Duration::from_secs(30), limits()).await;
    let tcp = TcpStream::connect(r.pop3s).await.unwrap();
    let tls = r
        .client_tls
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let mut c = Client {
        io: BufReader::new(tls),
    };
    assert!(c.line().await.starts_with("+OK"));
    // "\0bob@example.test\0secret"
    let ok = c.cmd("AUTH PLAIN AGJvYkBleGFtcGxlLnRlc3QAc2VjcmV0").await;
    assert!(ok.starts_with("+OK Logged in"), "{ok}");
    assert_eq!(
        c.cmd("STLS").await,
        "-ERR command not valid in the TRANSACTION state\r\n"
    );
    assert!(c.cmd("QUIT").await.starts_with("+OK"));
}

#[tokio::test]
async fn loopback_may_use_user_pass_without_tls_when_allowed() {
    let r = start(true, Duration::from_secs(30), limits()).await;
    let mut c = plain(r.pop3).await;
    assert_eq!(c.cmd(&format!("USER {USER}")).await, "+OK send PASS\r\n");
    assert!(
        c.cmd(&format!("PASS {PASS}"))
            .await
            .starts_with("+OK Logged in")
    );
}

#[tokio::test]
async fn idle_sessions_are_logged_out_without_removing_anything() {
    let r = start(true, Duration::from_millis(400), limits()).await;
    let mut c = plain(r.pop3).await;
    c.cmd(&format!("USER {USER}")).await;
    assert!(c.cmd(&format!("PASS {PASS}")).await.starts_with("+OK"));
    assert!(c.cmd("DELE 1").await.starts_with("+OK"));
    assert!(c.closed_within(Duration::from_secs(5)).await, "autologout");
    assert_eq!(r.store.messages(USER).len(), 2);
    // The maildrop lock went with the session.
    let deadline = Instant::now() + Duration::from_secs(5);
    while r.store.is_locked(USER) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!r.store.is_locked(USER));
}

#[tokio::test]
async fn failed_logins_are_slowed_then_the_ip_is_refused() {
    let r = start(true, Duration::from_secs(30), limits()).await;
    let mut c = plain(r.pop3).await;
    let t = Instant::now();
    c.cmd(&format!("USER {USER}")).await;
    assert_eq!(
        c.cmd("PASS wrong").await,
        "-ERR [AUTH] Authentication failed\r\n"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    c.cmd(&format!("USER {USER}")).await;
    assert_eq!(
        c.cmd("PASS wrong").await,
        "-ERR [AUTH] Authentication failed\r\n"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "second failure waits longer"
    );
    c.cmd(&format!("USER {USER}")).await;
    assert_eq!(
        c.cmd("PASS wrong").await,
        "-ERR [AUTH] Authentication failed\r\n"
    );
    assert_eq!(
        c.line().await,
        "-ERR [SYS/TEMP] too many authentication failures, try later\r\n"
    );
    assert!(c.closed_within(Duration::from_secs(5)).await);
    // New connections from the IP are refused, even with the right password.
    let mut c = Client {
        io: BufReader::new(TcpStream::connect(r.pop3).await.unwrap()),
    };
    assert_eq!(
        c.line().await,
        "-ERR [SYS/TEMP] too many authentication failures, try later\r\n"
    );
}

#[tokio::test]
async fn connections_per_ip_are_limited() {
    let mut l = limits();
    l.max_connections_per_ip = 1;
    let r = start(true, Duration::from_secs(30), l).await;
    let _first = plain(r.pop3).await;
    let mut second = Client {
        io: BufReader::new(TcpStream::connect(r.pop3).await.unwrap()),
    };
    assert_eq!(
        second.line().await,
        "-ERR [SYS/TEMP] too many connections from your address\r\n"
    );
}

#[tokio::test]
async fn long_lines_and_repeated_errors_close_the_connection() {
    let r = start(true, Duration::from_secs(30), limits()).await;
    let mut c = plain(r.pop3).await;
    assert_eq!(c.cmd(&"A".repeat(1000)).await, "-ERR line too long\r\n");
    assert_eq!(c.cmd("CAPA").await, "+OK Capability list follows\r\n");
    c.body().await;
    for _ in 0..4 {
        assert_eq!(c.cmd("XYZZY").await, "-ERR unknown command\r\n");
    }
    assert_eq!(
        c.line().await,
        "-ERR too many errors, closing connection\r\n"
    );
    assert!(c.closed_within(Duration::from_secs(5)).await);
}

/// Before login the autologout restarted with every read, so a client sending a byte now
/// and then stayed connected without ever logging in. Now the login has an absolute
/// deadline from connect.
#[tokio::test]
async fn regress_a_client_that_never_logs_in_is_dropped_at_the_login_deadline() {
    let r = start_with_login(
        true,
        Duration::from_secs(30),
        Duration::from_millis(1500),
        limits(),
    )
    .await;
    let mut c = Client {
        io: BufReader::new(TcpStream::connect(r.pop3).await.unwrap()),
    };
    assert!(c.line().await.starts_with("+OK"));
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(10) {
        if c.io.get_mut().write_all(b"N").await.is_err() {
            closed = true;
            break;
        }
        let mut byte = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(300), c.io.read(&mut byte)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    assert!(closed, "still connected after {:?}", started.elapsed());
    let held = started.elapsed();
    assert!(
        held >= Duration::from_millis(1200) && held < Duration::from_secs(5),
        "{held:?}"
    );
}
