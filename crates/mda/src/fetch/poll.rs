//! One poll of one remote mailbox, and the loop that polls on an interval until shutdown.

use super::error::FetchError;
use super::imap::Imap;
use super::intake::{FetchContext, Intake};
use super::pop3::Pop3;
use super::state::State;
use super::wire::{Stream, Wire};
use super::{FetchAccount, Protocol, TlsMode, headers, tls};
use mailward_event::{Event, FetchDone, FetchFailed, FetchStarted, Scope};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

/// One session may last at most this long, however the server trickles its bytes.
const SESSION_LIMIT: Duration = Duration::from_secs(30 * 60);
/// Messages a remote listing may hold.
const MAX_LISTED: usize = 1_000_000;

/// What one poll did.
#[derive(Debug, Clone, Default)]
pub struct PollReport {
    /// Messages queued (or recognised as taken before a UIDVALIDITY change).
    pub fetched: usize,
    /// Messages skipped with an error (too large).
    pub errors: usize,
    /// Queue IDs of the messages queued.
    pub queued: Vec<String>,
    /// Why the poll stopped early, when it did.
    pub failed: Option<String>,
}

/// Polls `account` once, writing `fetch_started` and `fetch_done` or `fetch_failed`.
pub async fn poll_once(ctx: &FetchContext, account: &FetchAccount) -> PollReport {
    Scope::service().emit(Event::FetchStarted(FetchStarted {
        account: account.name.as_str().into(),
        remote_protocol: account.protocol.as_str().into(),
        host: account.host.as_str().into(),
    }));
    let mut report = PollReport::default();
    let result = match account.protocol {
        Protocol::Pop3 => poll_pop3(ctx, account, &mut report).await,
        Protocol::Imap => poll_imap(ctx, account, &mut report).await,
    };
    match result {
        Ok(()) => Scope::service().emit(Event::FetchDone(FetchDone {
            account: account.name.as_str().into(),
            count: report.fetched as u64,
            errors: report.errors as u64,
        })),
        Err(e) => {
            let reason = e.to_string();
            Scope::service().emit(Event::FetchFailed(FetchFailed {
                account: account.name.as_str().into(),
                reason: reason.as_str().into(),
                count: report.fetched as u64,
            }));
            report.failed = Some(reason);
        }
    }
    report
}

/// Polls `account` every `interval` until `shutdown` turns true. A poll in progress is
/// dropped at shutdown: the state file makes that safe.
pub async fn run_poller(
    ctx: FetchContext,
    account: FetchAccount,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            _ = poll_once(&ctx, &account) => {}
            _ = shutdown.changed() => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(account.interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The connection, after implicit TLS if asked, and the peer's address.
async fn connect(
    account: &FetchAccount,
    connector: &TlsConnector,
) -> Result<(Stream, String), FetchError> {
    let target = format!("{}:{}", account.host, account.port);
    let tcp = tokio::time::timeout(
        account.timeout,
        TcpStream::connect((account.host.as_str(), account.port)),
    )
    .await
    .map_err(|_| FetchError::Connect(target.clone(), "timed out".into()))?
    .map_err(|e| FetchError::Connect(target.clone(), e.to_string()))?;
    let peer = tcp.peer_addr()?.ip().to_canonical();
    // Never a password in plain text over the network: only to this machine.
    if account.tls == TlsMode::None && !peer.is_loopback() {
        return Err(FetchError::PlainTextNotLoopback(target));
    }
    let stream = match account.tls {
        TlsMode::Implicit => tls::handshake(connector, &account.host, tcp, account.timeout).await?,
        _ => Stream::Plain(tcp),
    };
    Ok((stream, peer.to_string()))
}

/// After STARTTLS/STLS: the handshake on the same connection.
async fn upgrade(
    wire: Wire<Stream>,
    account: &FetchAccount,
    connector: &TlsConnector,
) -> Result<Wire<Stream>, FetchError> {
    let (timeout, deadline) = (wire.timeout(), wire.deadline());
    let Stream::Plain(tcp) = wire.into_stream()? else {
        return Err(FetchError::Tls("STARTTLS inside TLS".into()));
    };
    let tls = tls::handshake(connector, &account.host, tcp, account.timeout).await?;
    Ok(Wire::new(tls, timeout, deadline))
}

fn protocol_word(account: &FetchAccount) -> &'static str {
    match (account.protocol, account.tls) {
        (Protocol::Pop3, TlsMode::None) => "POP3",
        (Protocol::Pop3, _) => "POP3S",
        (Protocol::Imap, TlsMode::None) => "IMAP",
        (Protocol::Imap, _) => "IMAPS",
    }
}

fn limit_reached(account: &FetchAccount, taken: usize) -> bool {
    account.max_messages_per_poll > 0 && taken >= account.max_messages_per_poll
}

async fn poll_pop3(
    ctx: &FetchContext,
    account: &FetchAccount,
    report: &mut PollReport,
) -> Result<(), FetchError> {
    let state = State::open(&account.state_path())?;
    let connector = tls::connector(account.tls_verify, account.ca_file.as_deref())?;
    let (stream, peer_ip) = connect(account, &connector).await?;
    let deadline = Instant::now() + SESSION_LIMIT;
    let mut pop = Pop3::new(Wire::new(stream, account.timeout, deadline));
    pop.greeting().await?;
    if account.tls == TlsMode::StartTls {
        pop.stls().await?;
        pop = Pop3::new(upgrade(pop.into_wire(), account, &connector).await?);
    }
    pop.login(&account.user, &account.password).await?;
    // RFC 1939 §7: UIDL is optional; without it nothing can be remembered safely.
    let listing = pop.uidl(MAX_LISTED).await.map_err(|e| match e {
        FetchError::Refused(..) => FetchError::Unsupported("the POP3 server lacks UIDL".into()),
        other => other,
    })?;
    let sizes: HashMap<u32, u64> = pop.list(MAX_LISTED).await?.into_iter().collect();
    let mut intake = Intake {
        ctx,
        account,
        state,
        peer_ip,
        protocol_word: protocol_word(account),
    };
    let mut taken = 0;
    for (number, uid) in listing {
        if intake.state.is_done(&uid) {
            // Taken by an earlier poll that did not get to delete it.
            if !account.keep {
                pop.dele(number).await?;
            }
            continue;
        }
        if limit_reached(account, taken) {
            continue;
        }
        if sizes.get(&number).copied().unwrap_or(0) > account.max_message_size {
            report.errors += 1;
            continue;
        }
        let message = pop.retr(number, account.max_message_size).await?;
        if let Some(id) = intake.take(&uid, message).await? {
            report.queued.push(id);
        }
        taken += 1;
        report.fetched += 1;
        if !account.keep {
            pop.dele(number).await?;
        }
    }
    // RFC 1939 §6: the deletions happen now.
    pop.quit().await
}

async fn poll_imap(
    ctx: &FetchContext,
    account: &FetchAccount,
    report: &mut PollReport,
) -> Result<(), FetchError> {
    let state = State::open(&account.state_path())?;
    let connector = tls::connector(account.tls_verify, account.ca_file.as_deref())?;
    let (stream, peer_ip) = connect(account, &connector).await?;
    let deadline = Instant::now() + SESSION_LIMIT;
    let mut imap = Imap::new(
        Wire::new(stream, account.timeout, deadline),
        account.max_message_size,
    );
    imap.greeting().await?;
    imap.capability().await?;
    if account.tls == TlsMode::StartTls {
        imap.starttls().await?;
        imap = Imap::new(
            upgrade(imap.into_wire(), account, &connector).await?,
            account.max_message_size,
        );
        // RFC 9051 §6.2.1: capabilities learnt before TLS are discarded.
        imap.capability().await?;
    }
    imap.login(&account.user, &account.password).await?;
    let validity = imap.select(&account.folder).await?;
    let uids = imap.all_uids().await?;
    let oversized: HashSet<u32> = imap
        .larger_than(account.max_message_size)
        .await?
        .into_iter()
        .collect();
    let prefix = format!("{validity}.");
    // RFC 9051 §2.3.1.1: a new UIDVALIDITY means old UIDs name nothing; messages taken
    // before are recognised by size and Message-ID instead (those without one are taken
    // again).
    let validity_changed = state.has_keys_outside(&prefix);
    let mut intake = Intake {
        ctx,
        account,
        state,
        peer_ip,
        protocol_word: protocol_word(account),
    };
    let mut taken = 0;
    let mut delete = Vec::new();
    for uid in uids {
        let key = format!("{prefix}{uid}");
        if intake.state.is_done(&key) {
            if !account.keep {
                delete.push(uid);
            }
            continue;
        }
        if limit_reached(account, taken) {
            continue;
        }
        if oversized.contains(&uid) {
            report.errors += 1;
            continue;
        }
        let Some(message) = imap.fetch(uid).await? else {
            continue;
        };
        let message_id = headers::message_id(&message);
        let size = message.len() as u64;
        let seen_before = validity_changed
            && message_id
                .as_deref()
                .is_some_and(|m| intake.state.has_content(size, m));
        if seen_before {
            intake.state.finish(&key, size, message_id.as_deref())?;
        } else if let Some(id) = intake.take(&key, message).await? {
            report.queued.push(id);
        }
        taken += 1;
        report.fetched += 1;
        if !account.keep {
            delete.push(uid);
        }
    }
    if !delete.is_empty() {
        imap.delete(&delete).await?;
    }
    imap.logout().await
}
