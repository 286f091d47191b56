//! Binding listeners and accepting connections: the same for every server, so each
//! protocol crate keeps only what happens on a connection.

use mailward_event::{AcceptError, Event, Listening, Protocol, Scope};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again, so
/// the loop does not spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// Binds every `(kind, address)` in order, so configuration errors surface before serving
/// starts; the error names the address and the listener. Logs one `listening` event each
/// (with its `protocol`).
pub async fn bind_all<K: Copy>(
    protocol: Protocol,
    listeners: impl IntoIterator<Item = (K, SocketAddr)>,
    name: fn(K) -> &'static str,
) -> std::io::Result<Vec<(K, TcpListener)>> {
    let mut out = Vec::new();
    for (kind, addr) in listeners {
        let l = TcpListener::bind(addr).await.map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen on {addr} ({}): {e}", name(kind)),
            )
        })?;
        let local = l.local_addr()?;
        Scope::protocol(protocol).emit(Event::Listening(Listening {
            listener: name(kind).into(),
            address: local.to_string().into(),
        }));
        out.push((kind, l));
    }
    Ok(out)
}

/// Accepts on every listener until `shutdown` turns true, running `handle` for each
/// connection on its own task. Returns when every accept loop has stopped.
pub async fn accept_all<K, F, Fut>(
    protocol: Protocol,
    listeners: Vec<(K, TcpListener)>,
    shutdown: watch::Receiver<bool>,
    name: fn(K) -> &'static str,
    handle: F,
) where
    K: Copy + Send + 'static,
    F: Fn(K, TcpStream, SocketAddr) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut tasks = Vec::new();
    for (kind, listener) in listeners {
        let handle = handle.clone();
        let mut stop = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((tcp, peer)) => {
                            tokio::spawn(handle(kind, tcp, peer));
                        }
                        Err(e) => {
                            Scope::protocol(protocol).emit(Event::AcceptError(AcceptError {
                                listener: name(kind).into(),
                                reason: e.to_string().into(),
                            }));
                            tokio::time::sleep(ACCEPT_RETRY).await;
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}
