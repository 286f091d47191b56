//! Outbound delivery as `mailward serve` wires it: the shared resolver (`[dns]`), the SMTP
//! client (`[outbound]`, `[[route]]`, the smarthost in `[relay]`), and the adapter that lets
//! the queue runner (`mailward-mda`) hand remote recipients to it (`mailward-mta`): protocol
//! crates do not depend on each other, so the binary joins them.

use crate::config::{self, Loaded, split_host_port};
use anyhow::Context;
use mailward_auth::Resolver;
use mailward_auth::dkim::Arrival;
use mailward_auth::verify::Lookups;
use mailward_event::{Event, Reason, Scope};
use mailward_mda::{Delivery, RemoteTransport, domain_of};
use mailward_mta::outbound::{
    ClientTls, Job, Outbound, OutboundConfig, Route, Smarthost, Timeouts, TlsPolicy,
};
use mailward_store::queue::Envelope;
use std::sync::Arc;

/// The transport for the queue runner: the SMTP client, and ARC sealing of what aliases
/// forward.
pub struct Remote {
    outbound: Arc<Outbound>,
    /// Our authserv-id: a forwarded message is sealed only when it carries our
    /// `Authentication-Results:` (we checked it on arrival).
    authserv_id: String,
}

impl Remote {
    pub fn new(outbound: Arc<Outbound>, authserv_id: String) -> Remote {
        Remote {
            outbound,
            authserv_id,
        }
    }

    /// The ARC set for the copy `alias` forwards, when there is one to add: the message was
    /// checked on arrival (not submitted by a user), and the alias's domain has an RSA key.
    async fn arc_set(&self, envelope: &Envelope, body: &[u8], alias: &str) -> Option<Vec<u8>> {
        let signer = self.outbound.signer()?;
        if envelope.auth_user.is_some()
            || !mailward_auth::verify::has_our_authentication_results(body, &self.authserv_id)
        {
            return None;
        }
        let client_ip = envelope.remote_ip.parse().ok()?;
        let arrival = Arrival {
            client_ip,
            helo: &envelope.helo,
            mail_from: &envelope.sender,
        };
        let lookups = Lookups::live(self.outbound.resolver());
        match signer
            .arc_seal(
                &lookups,
                &domain_of(alias),
                &self.authserv_id,
                arrival,
                body,
            )
            .await
        {
            Ok(set) => set,
            Err(e) => {
                Scope::message(&envelope.id)
                    .emit(Event::DkimSignFailed(Reason::new(e.to_string())));
                None
            }
        }
    }
}

impl RemoteTransport for Remote {
    fn deliver<'a>(
        &'a self,
        envelope: &'a Envelope,
        body: &'a [u8],
        domain: &'a str,
        rcpts: &'a [usize],
    ) -> Delivery<'a> {
        Box::pin(self.outbound.deliver(Job {
            envelope,
            body,
            domain,
            rcpts,
        }))
    }

    fn forward<'a>(
        &'a self,
        envelope: &'a Envelope,
        body: &'a [u8],
        domain: &'a str,
        rcpts: &'a [usize],
        alias: &'a str,
    ) -> Delivery<'a> {
        Box::pin(async move {
            let sealed = self
                .arc_set(envelope, body, alias)
                .await
                .map(|set| [set.as_slice(), body].concat());
            self.outbound
                .deliver(Job {
                    envelope,
                    body: sealed.as_deref().unwrap_or(body),
                    domain,
                    rcpts,
                })
                .await
        })
    }
}

/// The resolver `[dns] resolver` names, or the system's. A machine without a usable
/// `/etc/resolv.conf` still serves (local mail needs no DNS): its resolver asks
/// 127.0.0.1:53, and remote mail waits until DNS answers.
pub fn resolver(cfg: &config::Config) -> anyhow::Result<Resolver> {
    if !cfg.dns.resolver.is_empty() {
        return Resolver::with_servers(&cfg.dns.resolver).context("cannot set up the DNS resolver");
    }
    match Resolver::system() {
        Ok(r) => Ok(r),
        Err(e) => {
            mailward_event::Scope::service().emit(mailward_event::Event::ResolverFallback(
                mailward_event::Reason::new(format!(
                    "system resolver unusable ({e}); asking 127.0.0.1:53"
                )),
            ));
            Resolver::with_servers(&[std::net::SocketAddr::from(([127, 0, 0, 1], 53))])
                .context("cannot set up the DNS resolver")
        }
    }
}

/// The SMTP client from the configuration.
pub fn transport(loaded: &Loaded, resolver: Resolver) -> anyhow::Result<Arc<Outbound>> {
    let cfg = &loaded.config;
    let o = &cfg.outbound;
    let mut out = OutboundConfig::new(cfg.server.hostname.clone());
    out.tls = o.tls;
    out.port = o.port;
    out.per_destination = o.per_destination.max(1);
    out.idle_keep = o.idle_keep;
    out.mta_sts = o.mta_sts;
    // A dead destination is left alone for a minute, and always for less than the first
    // retry: the message whose attempt found it dead connects again when its retry comes.
    out.dead_time = (cfg.queue.retry_initial / 2).min(std::time::Duration::from_secs(60));
    out.timeouts = Timeouts {
        connect: o.connect_timeout,
        greeting: o.command_timeout,
        command: o.command_timeout,
        data_init: o.command_timeout.min(Timeouts::default().data_init),
        data_block: o.command_timeout.min(Timeouts::default().data_block),
        data_end: o.data_timeout,
    };
    for r in &cfg.route {
        let (host, port) = split_host_port(&r.host, 25)
            .with_context(|| format!("[[route]] for {}: host {:?}", r.domain, r.host))?;
        out.routes.push(Route {
            domain: r.domain.trim_end_matches('.').to_ascii_lowercase(),
            host,
            port,
            tls: r.tls,
        });
    }
    if let Some(h) = &cfg.relay.host {
        let default_port = if cfg.relay.implicit_tls { 465 } else { 25 };
        let (host, port) =
            split_host_port(h, default_port).with_context(|| format!("[relay] host {h:?}"))?;
        let password = match (&cfg.relay.password, &cfg.relay.password_file) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(f)) => {
                let path = loaded.resolve(f);
                let text = std::fs::read_to_string(&path).with_context(|| {
                    format!("{}: cannot read the smarthost password", path.display())
                })?;
                Some(text.lines().next().unwrap_or_default().to_string())
            }
            (None, None) => None,
        };
        let has_credentials = cfg.relay.username.is_some() && password.is_some();
        out.smarthost = Some(Smarthost {
            host,
            port,
            implicit_tls: cfg.relay.implicit_tls,
            username: cfg.relay.username.clone(),
            password,
            tls: cfg.relay.tls.unwrap_or(if has_credentials {
                TlsPolicy::Encrypt
            } else {
                TlsPolicy::May
            }),
        });
    }
    let ca = o.ca_file.as_ref().map(|f| loaded.resolve(f));
    let tls = ClientTls::new(ca.as_deref()).context("cannot set up outbound TLS")?;
    // DKIM keys written by `mailward dkim keygen` (read once, at start).
    let keys = mailward_auth::dkim::key_dir(&loaded.data_dir());
    let signer = mailward_auth::DkimSigner::load(&keys)
        .with_context(|| format!("{}: cannot load the DKIM keys", keys.display()))?;
    Ok(Outbound::with_signer(
        out,
        resolver,
        tls,
        Some(Arc::new(signer)),
    ))
}
