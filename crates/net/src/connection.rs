//! The life of one connection, the same in every protocol: limiter check (and refusal),
//! session ID, `connect`, the protocol's session in the connection's event scope,
//! `connection_error`, limiter release, `disconnect`.

use crate::limits::{Limiter, Refused};
use mailward_event::{Connect, Disconnect, Event, Protocol, Reason, Scope, Suppressed, in_session};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// How long a refusal may take to write before the socket is dropped.
const REFUSAL_WRITE_LIMIT: Duration = Duration::from_secs(5);

/// What a protocol tells the connection skeleton about itself.
pub struct Gate<'a> {
    pub protocol: Protocol,
    /// The listener's name (`smtp`, `imaps`, …).
    pub listener: &'static str,
    pub limiter: &'a Limiter,
    /// Sessions open now (the service waits for them at shutdown).
    pub active: &'a AtomicUsize,
    /// Exempt from the per-IP limits (a trusted network).
    pub exempt: bool,
    /// On a plaintext listener, what a refused client is told; `None` on an implicit-TLS
    /// listener, where nothing can be said before the handshake.
    pub refusal: Option<fn(Refused) -> Refusal>,
}

/// The answer to a refused connection.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The line written (with CRLF).
    pub line: Vec<u8>,
    /// Its code for the `refused` event: `421 4.7.0`, `* BYE [UNAVAILABLE]`.
    pub code: String,
}

/// How a session ended, for the `disconnect` event.
#[derive(Debug, Default)]
pub struct Ended {
    pub commands: u64,
    /// The account, when one logged in.
    pub user: Option<String>,
    /// The I/O error that ended it, if any (`connection_error`).
    pub error: Option<std::io::Error>,
    /// Events counted rather than written (a `suppressed` event each).
    pub suppressed: Vec<(&'static str, u64)>,
}

/// A new session ID: 8 characters of `[0-9A-Za-z]`, random.
pub fn session_id() -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        // The clock instead: unique enough for a log, and a session ID is no secret.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (nanos >> (i * 8)) as u8;
        }
    }
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// Counts a session as active for as long as it lives, even if its task panics.
struct ActiveGuard<'a>(&'a AtomicUsize);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs one connection: `session` gets the connection's scope and socket and runs the
/// protocol; everything around it is here.
pub async fn serve<F, Fut>(gate: Gate<'_>, mut tcp: TcpStream, peer: SocketAddr, session: F)
where
    F: FnOnce(Scope<'static>, TcpStream) -> Fut,
    Fut: Future<Output = Ended>,
{
    let ip = peer.ip().to_canonical();
    let started = Instant::now();
    if let Err(why) = gate.limiter.connect(ip, gate.exempt) {
        let scope = Scope {
            remote_ip: Some(ip),
            ..Scope::protocol(gate.protocol)
        };
        let refusal = gate.refusal.map(|r| r(why));
        scope.emit(Event::Refused(mailward_event::Refused {
            listener: Some(gate.listener.into()),
            code: refusal.as_ref().map_or("", |r| r.code.as_str()).into(),
            reason: format!("{why:?}").into(),
        }));
        if let Some(r) = refusal {
            let _ = tokio::time::timeout(REFUSAL_WRITE_LIMIT, tcp.write_all(&r.line)).await;
        }
        return;
    }
    gate.active.fetch_add(1, Ordering::Relaxed);
    let _active = ActiveGuard(gate.active);
    let _ = tcp.set_nodelay(true);
    let scope = Scope::connection(gate.protocol, session_id(), ip);
    scope.emit(Event::Connect(Connect {
        listener: gate.listener.into(),
        remote_port: peer.port(),
    }));
    let ended = in_session(scope.clone(), session(scope.clone(), tcp)).await;
    if let Some(e) = &ended.error {
        scope.emit(Event::ConnectionError(Reason::new(e.to_string())));
    }
    for (event, count) in ended.suppressed {
        scope.emit(Event::Suppressed(Suppressed {
            suppressed: event.into(),
            count,
        }));
    }
    gate.limiter.disconnect(ip);
    scope.emit(Event::Disconnect(Disconnect {
        user: ended.user.map(Into::into),
        commands: ended.commands,
        duration: started.elapsed().as_secs_f64(),
    }));
}
