//! The seam between the queue runner and outbound delivery: the runner groups a message's
//! remote recipients by domain and hands each group to a [`RemoteTransport`] (the SMTP
//! client of `mailward-mta`, connected by the binary, since protocol crates do not depend on
//! each other).

use mailward_store::queue::{Envelope, RcptOutcome};
use std::future::Future;
use std::pin::Pin;

/// A future the transport returns.
pub type Delivery<'a> = Pin<Box<dyn Future<Output = Vec<(usize, RcptOutcome)>> + Send + 'a>>;

/// Delivers a message to recipients at one remote domain.
pub trait RemoteTransport: Send + Sync + 'static {
    /// One outcome per index of `rcpts` (indexes into `envelope.rcpts`).
    fn deliver<'a>(
        &'a self,
        envelope: &'a Envelope,
        body: &'a [u8],
        domain: &'a str,
        rcpts: &'a [usize],
    ) -> Delivery<'a>;

    /// [`RemoteTransport::deliver`] for the copy that the local `alias` forwards: the
    /// transport may ARC-seal it first (RFC 8617 §5.1). Plain delivery by default.
    fn forward<'a>(
        &'a self,
        envelope: &'a Envelope,
        body: &'a [u8],
        domain: &'a str,
        rcpts: &'a [usize],
        alias: &'a str,
    ) -> Delivery<'a> {
        let _ = alias;
        self.deliver(envelope, body, domain, rcpts)
    }
}

/// The domain of an address, lower case (`bob@B.test` → `b.test`); empty when none.
pub fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('.').to_ascii_lowercase())
        .unwrap_or_default()
}
