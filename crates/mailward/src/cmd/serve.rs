//! `mailward serve`: the SMTP, POP3 and IMAP listeners, the durable queue and local delivery.

use crate::config::{self, Loaded};
use anyhow::Context;
use mailward_event::{Event, MaildirTmpCleaned, NoFields, Recovered, Scope, Started};
use mailward_mda::{QueueRunner, RetrySettings};
use mailward_mta::inbound::InboundChecks;
use mailward_mta::limits::{LimitSettings, Limiter};
use mailward_mta::{ListenerKind, Server, ServerConfig, SessionConfig, tls};
use mailward_net::auth_ledger::{AuthLedger, LedgerSettings};
use mailward_pop3::StoreBackend;
use mailward_store::queue::{NOTICE_CAPACITY, notice_channel};
use mailward_store::{DataDir, Store, directory};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Arguments of `mailward serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

/// Sets up the event log (docs/log-format.md): JSON lines to the configured file or to
/// standard output, readable lines when standard output is a terminal; lines that
/// libraries log come out as `library` events in the same shape.
pub(crate) fn init_logging(loaded: &Loaded) -> anyhow::Result<()> {
    use mailward_event::{Format, Level, LibraryLayer, Sink};
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let logging = &loaded.config.logging;
    let level = Level::parse(&logging.level).unwrap_or(Level::Info);
    let (out, format): (Box<dyn std::io::Write + Send>, Format) = match &logging.file {
        Some(f) => {
            let path = loaded.resolve(f);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("{}: cannot create", dir.display()))?;
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("{}: cannot open log file", path.display()))?;
            (Box::new(file), Format::Json)
        }
        None => {
            let format = match logging.format {
                config::LogFormat::Json => Format::Json,
                config::LogFormat::Text => Format::Human,
                config::LogFormat::Auto if std::io::stdout().is_terminal() => Format::Human,
                config::LogFormat::Auto => Format::Json,
            };
            (Box::new(std::io::stdout()), format)
        }
    };
    mailward_event::install(Sink::new(out, format, level));
    // Libraries: warnings and errors only (rustls reports every odd ClientHello at
    // debug), unless the configured level asks for less.
    let library_level = if level >= Level::Debug {
        logging.level.as_str()
    } else {
        "warn"
    };
    let filter = EnvFilter::new(library_level);
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(LibraryLayer)
        .try_init();
    Ok(())
}

pub fn run(config_path: Option<PathBuf>, _args: ServeArgs) -> anyhow::Result<ExitCode> {
    let loaded = config::load(config_path.as_deref())?;
    init_logging(&loaded)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(serve(loaded))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(loaded: Loaded) -> anyhow::Result<()> {
    let cfg = &loaded.config;
    let data = DataDir::new(loaded.data_dir());
    let store = Store::open(data.clone(), &loaded.domains(), &cfg.server.hostname)
        .with_context(|| format!("{}: cannot open the data directory", data.root().display()))?;
    let orphans = store.recover()?;
    if orphans > 0 {
        Scope::service().emit(Event::Recovered(Recovered {
            removed_spool_files: orphans as u64,
        }));
    }
    if cfg.search.full_text_index {
        let extract: mailward_store::fulltext::Extractor =
            Arc::new(mailward_imap::message::search::index_text);
        store.start_fulltext(extract).with_context(|| {
            format!("{}: cannot open the full-text index", data.root().display())
        })?;
    }
    let stale = store.clean_maildir_tmp();
    if stale > 0 {
        Scope::service().emit(Event::MaildirTmpCleaned(MaildirTmpCleaned {
            removed_tmp_files: stale as u64,
        }));
    }
    let tls_cfg = match &cfg.tls {
        Some(t) => tls::load(&loaded.resolve(&t.cert), &loaded.resolve(&t.key))?,
        None => {
            let mut names = vec![cfg.server.hostname.clone()];
            if cfg.server.hostname != "localhost" {
                names.push("localhost".into());
            }
            tls::self_signed(&names)?
        }
    };
    let mut listeners = Vec::new();
    for a in &cfg.listen.smtp {
        listeners.push((ListenerKind::Smtp, *a));
    }
    for a in &cfg.listen.submission {
        listeners.push((ListenerKind::Submission, *a));
    }
    for a in &cfg.listen.submissions {
        listeners.push((ListenerKind::Submissions, *a));
    }
    let postmaster_domain = loaded
        .domains()
        .into_iter()
        .next()
        .unwrap_or_else(|| cfg.server.hostname.clone());
    // RFC 5464 §3.2.1.1 `/shared/admin`: the postmaster SMTP accepts (RFC 5321 §4.5.1).
    let imap_admin = format!("mailto:postmaster@{postmaster_domain}");
    // One resolver (and one DNS cache) for the inbound checks and outbound delivery.
    let resolver = crate::outbound::resolver(cfg)?;
    let inbound = if cfg.verify.inbound {
        let mut trusted = cfg.relay.networks.clone();
        trusted.extend(cfg.verify.trusted_forwarders.iter().cloned());
        // Every DMARC evaluation is kept for the aggregate reports (`[dmarc]`,
        // `mailward dmarc report`).
        let dmarc_dir = crate::dmarc_reports::dmarc_dir(&loaded.data_dir());
        let recorder = mailward_auth::aggregate::Recorder::open(&dmarc_dir)
            .with_context(|| format!("{}: cannot record DMARC evaluations", dmarc_dir.display()))?;
        Some(Arc::new(
            InboundChecks::new(
                resolver.clone(),
                cfg.verify.settings(&cfg.server.hostname),
                trusted,
            )
            .with_recorder(recorder),
        ))
    } else {
        None
    };
    let filter = if cfg.filter.enabled {
        let settings = cfg.filter.settings().map_err(anyhow::Error::msg)?;
        let dir = loaded.data_dir().join("quarantine");
        let quarantine = mailward_filter::quarantine::Quarantine::open(&dir)
            .with_context(|| format!("{}: cannot open the quarantine", dir.display()))?;
        Some(Arc::new(mailward_filter::Gateway::new(
            settings,
            Some(resolver.clone()),
            quarantine,
        )))
    } else {
        None
    };
    // Sieve in delivery (issue 18), and its reject at SMTP time.
    let sieve = crate::sieve_delivery::start(cfg, &store)?;
    let data_check = crate::sieve_delivery::data_check(cfg, sieve.as_ref(), &store);
    let server_cfg = ServerConfig {
        session: SessionConfig {
            hostname: cfg.server.hostname.clone(),
            listener: ListenerKind::Smtp,
            max_message_size: usize::try_from(cfg.limits.message_size).unwrap_or(usize::MAX),
            spool_threshold: usize::try_from(cfg.limits.spool_threshold).unwrap_or(usize::MAX),
            max_recipients: cfg.limits.recipients,
            max_errors: cfg.limits.errors,
            relay_networks: cfg.relay.networks.clone(),
            tls_available: true,
            plaintext_auth_on_loopback: cfg.relay.plaintext_auth_on_loopback,
            postmaster_domain,
            header_from_policy: match cfg.submission.header_from_policy {
                config::HeaderFromPolicy::Reject => mailward_mta::HeaderFromPolicy::Reject,
                config::HeaderFromPolicy::Allow => mailward_mta::HeaderFromPolicy::Allow,
            },
        },
        listeners,
        command_timeout: cfg.limits.command_timeout,
        data_timeout: cfg.limits.data_timeout,
        start_timeout: cfg.limits.start_timeout,
        tls_timeout: Duration::from_secs(60),
        tls: Some(tls_cfg.clone()),
        inbound,
        filter,
        data_check,
    };
    // One ledger of password checks for every protocol: an IP has one budget of guesses.
    let ledger = Arc::new(auth_ledger(cfg));
    let (notify_tx, notify_rx) = notice_channel(NOTICE_CAPACITY);
    let fetch_notices = notify_tx.clone();
    let server = Server::new(
        server_cfg,
        store.clone(),
        notify_tx,
        Arc::new(Limiter::new(limit_settings(cfg), ledger.clone())),
    );
    let bound = server.bind().await?;
    let imap = imap_server(cfg, &store, tls_cfg.clone(), &ledger, imap_admin);
    let imap_bound = imap.bind().await?;
    let managesieve = managesieve_server(cfg, &store, tls_cfg.clone(), &ledger);
    let managesieve_bound = managesieve.bind().await?;
    let pop3 = pop3_server(cfg, &store, tls_cfg, &ledger);
    let pop3_bound = pop3.bind().await?;

    let accounts = directory::list_accounts(&store.conn())?.len();
    if accounts == 0 {
        let mut ports: Vec<(&str, SocketAddr)> = Vec::new();
        for (kind, l) in &bound {
            if let Ok(a) = l.local_addr() {
                ports.push((kind.as_str(), a));
            }
        }
        for (kind, l) in &pop3_bound {
            if let Ok(a) = l.local_addr() {
                ports.push((kind.as_str(), a));
            }
        }
        for (kind, l) in &imap_bound {
            if let Ok(a) = l.local_addr() {
                ports.push((kind.as_str(), a));
            }
        }
        for (_, l) in &managesieve_bound {
            if let Ok(a) = l.local_addr() {
                ports.push((mailward_mda::managesieve::server::LISTENER, a));
            }
        }
        print_hint(&loaded, &ports);
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let outbound = crate::outbound::transport(&loaded, resolver)?;
    let runner = QueueRunner::with_remote(
        store.clone(),
        RetrySettings {
            initial_delay: cfg.queue.retry_initial,
            max_delay: cfg.queue.retry_max,
            max_age: cfg.queue.max_age,
            scan_interval: cfg.queue.scan_interval,
            concurrency: cfg.queue.concurrency,
            delay_warning: cfg.queue.delay_warning,
            hostname: cfg.server.hostname.clone(),
        },
        Some(Arc::new(crate::outbound::Remote::new(
            outbound,
            cfg.verify.settings(&cfg.server.hostname).authserv_id,
        ))),
    );
    if let Some(sieve) = sieve {
        runner.set_sieve(sieve);
    }
    let runner_task = tokio::spawn(runner.run(notify_rx, stop_rx.clone()));
    // Remote retrieval (issue 18): one poller per [[fetch]] entry.
    let fetch_tasks =
        super::fetch::start_pollers(&loaded, store.clone(), fetch_notices, stop_rx.clone())?;
    // DMARC aggregate reports out (issue 16), when `[dmarc] send_reports` is on.
    let _dmarc_reports = crate::dmarc_reports::start(&loaded, store.clone(), stop_rx.clone());
    let pop3_task = tokio::spawn(pop3.clone().run(pop3_bound, stop_rx.clone()));
    let imap_task = tokio::spawn(imap.clone().run(imap_bound, stop_rx.clone()));
    let managesieve_task =
        tokio::spawn(managesieve.clone().run(managesieve_bound, stop_rx.clone()));
    let server_task = tokio::spawn(server.clone().run(bound, stop_rx));
    Scope::service().emit(Event::Started(Started {
        data_dir: data.root().display().to_string().into(),
        hostname: cfg.server.hostname.as_str().into(),
    }));

    wait_for_signal().await;
    Scope::service().emit(Event::Stopping(NoFields {}));
    let _ = stop_tx.send(true);
    let _ = server_task.await;
    let _ = pop3_task.await;
    let _ = imap_task.await;
    let _ = managesieve_task.await;
    for task in fetch_tasks {
        let _ = task.await;
    }
    // Let sessions in progress finish their reply (at most 10 s), then stop the runner.
    // POP3 sessions still open then end without QUIT, so they remove nothing.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.active() + pop3.active() + imap.active() + managesieve.active() > 0
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = runner_task.await;
    Scope::service().emit(Event::Stopped(NoFields {}));
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Per-IP connection limits of `[limits]`, the same for every protocol (each protocol
/// counts its own connections).
fn limit_settings(cfg: &config::Config) -> LimitSettings {
    LimitSettings {
        max_connections_per_ip: cfg.limits.connections_per_ip,
        connection_rate_per_minute: cfg.limits.connection_rate_per_minute,
    }
}

/// The authentication ledger of `[limits]` (auth_failures, auth_block, auth_fail_delay,
/// auth_checks_per_ip), shared by SMTP, IMAP and POP3.
fn auth_ledger(cfg: &config::Config) -> AuthLedger {
    AuthLedger::new(LedgerSettings {
        concurrent_per_ip: cfg.limits.auth_checks_per_ip.max(1),
        ..LedgerSettings::new(
            cfg.limits.auth_failures,
            cfg.limits.auth_block,
            cfg.limits.auth_fail_delay,
        )
    })
}

/// The IMAP service (`[listen] imap`, `imaps`) over the store's mailboxes, with the same
/// TLS certificate, accounts and `[limits]` as SMTP.
fn imap_server(
    cfg: &config::Config,
    store: &Arc<Store>,
    tls_cfg: tls::Config,
    ledger: &Arc<AuthLedger>,
    admin: String,
) -> Arc<mailward_imap::Server> {
    use mailward_imap::ListenerKind as ImapKind;
    let mut listeners = Vec::new();
    for a in &cfg.listen.imap {
        listeners.push((ImapKind::Imap, *a));
    }
    for a in &cfg.listen.imaps {
        listeners.push((ImapKind::Imaps, *a));
    }
    let mut session = mailward_imap::SessionConfig::new(cfg.server.hostname.clone());
    session.tls_available = true;
    session.plaintext_auth_on_loopback = cfg.relay.plaintext_auth_on_loopback;
    session.admin = Some(admin);
    let imap_cfg = mailward_imap::ServerConfig {
        session,
        listeners,
        tls_timeout: Duration::from_secs(60),
        tls: Some(tls_cfg),
        trusted_networks: cfg.relay.networks.clone(),
    };
    mailward_imap::Server::new(
        imap_cfg,
        Arc::new(mailward_imap::StoreAuthenticator::new(store.clone())),
        Arc::new(Limiter::new(limit_settings(cfg), ledger.clone())),
    )
}

/// The POP3 service (`[listen] pop3`, `pop3s`) over the store's INBOXes, with the same
/// TLS certificate, accounts and `[limits]` as SMTP.
fn pop3_server(
    cfg: &config::Config,
    store: &Arc<Store>,
    tls_cfg: tls::Config,
    ledger: &Arc<AuthLedger>,
) -> Arc<mailward_pop3::Server<StoreBackend>> {
    use mailward_pop3::ListenerKind as Pop3Kind;
    let mut listeners = Vec::new();
    for a in &cfg.listen.pop3 {
        listeners.push((Pop3Kind::Pop3, *a));
    }
    for a in &cfg.listen.pop3s {
        listeners.push((Pop3Kind::Pop3s, *a));
    }
    let pop3_cfg = mailward_pop3::ServerConfig {
        session: mailward_pop3::SessionConfig {
            hostname: cfg.server.hostname.clone(),
            tls_available: true,
            plaintext_auth_on_loopback: cfg.relay.plaintext_auth_on_loopback,
            max_errors: cfg.limits.errors,
        },
        listeners,
        // RFC 1939 §3: the autologout timer is at least 10 minutes.
        idle_timeout: mailward_pop3::MIN_IDLE_TIMEOUT,
        // As IMAP's: a minute to log in, counted from connect.
        login_timeout: Duration::from_secs(60),
        tls_timeout: Duration::from_secs(60),
        tls: Some(tls_cfg),
        trusted_networks: cfg.relay.networks.clone(),
    };
    mailward_pop3::Server::new(
        pop3_cfg,
        Arc::new(StoreBackend::new(store.clone())),
        Arc::new(Limiter::new(limit_settings(cfg), ledger.clone())),
    )
}

/// The ManageSieve service (`[listen] managesieve`, RFC 5804): users' Sieve scripts in
/// the store under the `[sieve]` quotas, checked by the Sieve compiler, with the same TLS
/// certificate, accounts and `[limits]` as the other listeners.
fn managesieve_server(
    cfg: &config::Config,
    store: &Arc<Store>,
    tls_cfg: tls::Config,
    ledger: &Arc<AuthLedger>,
) -> Arc<mailward_mda::managesieve::Server> {
    use mailward_mda::managesieve::{self as ms, SieveCompiler};
    // The same options delivery compiles users' scripts with: programs only when the
    // administrator lets user scripts run them, the configured redirect limit.
    let options = mailward_sieve::CompileOptions {
        extprograms: cfg.sieve.user_programs && cfg.sieve.program_dir.is_some(),
        limits: mailward_sieve::Limits {
            max_redirects: cfg.sieve.max_redirects,
            ..mailward_sieve::Limits::default()
        },
        ..mailward_sieve::CompileOptions::default()
    };
    let session = ms::SessionConfig {
        implementation: format!("mailward {}", env!("CARGO_PKG_VERSION")),
        sieve_extensions: ms::sieve_capability(options.extprograms),
        notify_methods: "mailto".into(),
        max_redirects: options.limits.max_redirects,
        tls_available: true,
        plaintext_auth_on_loopback: cfg.relay.plaintext_auth_on_loopback,
        max_errors: cfg.limits.errors,
        wire: ms::wire::WireLimits {
            // Room for a script at the quota's limit; a bigger one is refused with
            // QUOTA/MAXSIZE by the store, a far bigger literal ends the session.
            max_literal: usize::try_from(cfg.sieve.max_script_size)
                .unwrap_or(usize::MAX)
                .saturating_add(64 * 1024),
            ..ms::wire::WireLimits::default()
        },
    };
    let ms_cfg = ms::ServerConfig {
        session,
        listeners: cfg.listen.managesieve.clone(),
        idle_timeout: cfg.limits.command_timeout,
        login_timeout: Duration::from_secs(60),
        tls_timeout: Duration::from_secs(60),
        tls: Some(tls_cfg),
        trusted_networks: cfg.relay.networks.clone(),
    };
    ms::Server::new(
        ms_cfg,
        store.clone(),
        Arc::new(store.sieve_scripts(cfg.sieve.quota())),
        Arc::new(SieveCompiler { options }),
        Arc::new(Limiter::new(limit_settings(cfg), ledger.clone())),
    )
}

fn print_hint(loaded: &Loaded, bound: &[(&str, SocketAddr)]) {
    let domain = loaded
        .domains()
        .into_iter()
        .next()
        .unwrap_or_else(|| "localhost".into());
    let cfg_flag = loaded
        .path
        .as_ref()
        .map(|p| format!(" --config {}", p.display()))
        .unwrap_or_default();
    // The binary that is running: `cargo run` leaves no `mailward` on the PATH.
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "mailward".into());
    let mut ports = String::new();
    for (kind, a) in bound {
        ports.push_str(&format!("  {kind:<12} {a}\n"));
    }
    let read_hint = bound
        .iter()
        .find(|(k, _)| *k == "imap")
        .map(|(_, a)| {
            format!("\nRead it with any IMAP client (STARTTLS, user you@{domain}) at {a}")
        })
        .unwrap_or_default();
    eprintln!(
        "mailward: serving mail for {domain}; data in {}\n{ports}No accounts yet. Add one:\n  echo 'secret' | {exe} account add you@{domain} --password-stdin{cfg_flag}\nThen send with STARTTLS+AUTH on the submission port, e.g.:\n  swaks --server {} --tls --auth-user you@{domain} --auth-password secret --from you@{domain} --to you@{domain}\nMail arrives in {}/mail/{domain}/you/Maildir{read_hint}",
        loaded.data_dir().display(),
        bound
            .iter()
            .find(|(k, _)| *k == ListenerKind::Submission.as_str())
            .map(|(_, a)| a.to_string())
            .unwrap_or_else(|| "127.0.0.1:2587".into()),
        loaded.data_dir().display(),
    );
}
