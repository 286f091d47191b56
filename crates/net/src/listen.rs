//! Binding listeners and accepting connections: the same for every server, so each
//! protocol crate keeps only what happens on a connection.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracing::{info, warn};

/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again, so
/// the loop does not spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// Binds every `(kind, address)` in order, so configuration errors surface before serving
/// starts; the error names the address and the listener. Logs one `listening` event each
/// (with `protocol` when given).
pub async fn bind_all<K: Copy>(
    protocol: Option<&'static str>,
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
        info!(event = "listening", protocol, listener = name(kind), address = %local);
        out.push((kind, l));
    }
    Ok(out)
}

/// Accepts on every listener until `shutdown` turns true, running `handle` for each
/// connection on its own task. Returns when every accept loop has stopped.
pub async fn accept_all<K, F, Fut>(
    protocol: Option<&'static str>,
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
                            warn!(event = "accept_error", protocol, listener = name(kind), reason = %e);
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
