//! Remote delivery of one message to the recipients at one domain: the route (a smarthost,
//! a `[[route]]`, or the domain's MX hosts, RFC 5321 §5.1), a session with the first host
//! that answers (TLS as the policy asks), one transaction, and an outcome per recipient:
//! sent, deferred (4xx, no host reachable, DNS trouble) or failed (5xx, no such domain,
//! null MX, a message the peer cannot take).

use super::config::{OutboundConfig, Smarthost, TlsPolicy};
use super::conn::Connection;
use super::error::ClientError;
use super::mta_sts::{Applies, Mode, MtaSts};
use super::pool::Pool;
use super::route::{self, NoRoute};
use super::session::{self, Capabilities, RcptReply, SessionError, Transaction, TxRcpt};
use super::tls::ClientTls;
use mailward_auth::{DnsError, Resolver};
use mailward_store::queue::{Envelope, RcptOutcome};
use rustls::pki_types::ServerName;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::Semaphore;

/// One message for some recipients at one domain.
pub struct Job<'a> {
    pub envelope: &'a Envelope,
    pub body: &'a [u8],
    /// The recipients' domain (lower case).
    pub domain: &'a str,
    /// Indexes into `envelope.rcpts`.
    pub rcpts: &'a [usize],
}

/// One host to try, with how to talk to it.
#[derive(Debug, Clone)]
struct Target {
    host: String,
    port: u16,
    tls: TlsPolicy,
    implicit_tls: bool,
    credentials: Option<(String, String)>,
}

/// The outbound transport: resolver, TLS, the idle-connection pool and the per-destination
/// limits, shared by every delivery.
pub struct Outbound {
    cfg: OutboundConfig,
    resolver: Resolver,
    tls: ClientTls,
    pool: Pool,
    destinations: Mutex<HashMap<String, Arc<Semaphore>>>,
    sts: MtaSts,
    /// Destinations none of whose hosts answered: until when, and why.
    dead: Mutex<HashMap<String, (std::time::Instant, String)>>,
    /// DKIM keys of the local domains (RFC 6376): mail whose `From:` is one of them is
    /// signed on its way out.
    signer: Option<Arc<mailward_auth::DkimSigner>>,
}

impl Outbound {
    /// Builds the transport; inside a tokio runtime it also starts the task that closes
    /// idle connections.
    pub fn new(cfg: OutboundConfig, resolver: Resolver, tls: ClientTls) -> Arc<Outbound> {
        Outbound::with_signer(cfg, resolver, tls, None)
    }

    /// [`Outbound::new`] with DKIM signing.
    pub fn with_signer(
        cfg: OutboundConfig,
        resolver: Resolver,
        tls: ClientTls,
        signer: Option<Arc<mailward_auth::DkimSigner>>,
    ) -> Arc<Outbound> {
        let out = Arc::new(Outbound {
            cfg,
            resolver,
            tls,
            pool: Pool::default(),
            destinations: Mutex::new(HashMap::new()),
            sts: MtaSts::default(),
            dead: Mutex::new(HashMap::new()),
            signer: signer.filter(|s| !s.is_empty()),
        });
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(reap_idle(Arc::downgrade(&out)));
        }
        out
    }

    /// The DKIM keys it signs with (also the keys that ARC-seal forwarded mail).
    pub fn signer(&self) -> Option<&Arc<mailward_auth::DkimSigner>> {
        self.signer.as_ref()
    }

    /// The shared resolver.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    pub fn config(&self) -> &OutboundConfig {
        &self.cfg
    }

    fn destination_slots(&self, key: &str) -> Arc<Semaphore> {
        let mut map = self.destinations.lock().unwrap_or_else(|p| p.into_inner());
        // Destinations nobody is sending to give their entry back (the map would otherwise
        // grow with every domain ever written to).
        if map.len() > 4096 {
            map.retain(|_, s| Arc::strong_count(s) > 1);
        }
        map.entry(key.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.cfg.per_destination.max(1))))
            .clone()
    }

    /// Delivers `job`; one outcome per index of `job.rcpts`, in that order.
    pub async fn deliver(&self, job: Job<'_>) -> Vec<(usize, RcptOutcome)> {
        let signed = self.sign(&job);
        let job = match &signed {
            Some(body) => Job { body, ..job },
            None => job,
        };
        let all = |o: RcptOutcome| job.rcpts.iter().map(|&i| (i, o.clone())).collect();
        // RFC 5321 §6.3: a message that went round more than `max_hops` times is looping.
        let hops = received_count(job.body);
        if hops > self.cfg.max_hops {
            return all(RcptOutcome::Failed {
                reason: format!("mail loop: {hops} Received: fields"),
                status: "5.4.6".into(),
                relay: None,
                reply: None,
            });
        }
        let key = match &self.cfg.smarthost {
            Some(s) if self.cfg.route_for(job.domain).is_none() => format!("relay:{}", s.host),
            _ => job.domain.to_string(),
        };
        let slots = self.destination_slots(&key);
        let Ok(_permit) = slots.acquire_owned().await else {
            return all(deferred("delivery is shutting down", None));
        };
        // Checked after the wait for a slot: the attempts that held the slots may just
        // have found the destination dead.
        if let Some(reason) = self.dead_reason(&key) {
            return all(deferred(
                &format!("delivery to {key} temporarily suspended: {reason}"),
                None,
            ));
        }
        // RFC 8689 §4.2.1: REQUIRETLS wants verified TLS at every hop; §5: a message
        // marked `TLS-Required: No` is sent without regard to MTA-STS (opportunistic TLS
        // still applies).
        let requiretls = job.envelope.requiretls;
        let ignore_policy = !requiretls && tls_required_no(job.body);
        let targets = match self.targets(job.domain, requiretls, ignore_policy).await {
            Ok(t) => t,
            Err(outcome) => return all(outcome),
        };
        let mut last = deferred(
            &format!("no mail exchanger of {} could be reached", job.domain),
            None,
        );
        for target in &targets {
            match self.try_target(target, &job).await {
                Ok(results) => return results,
                Err(outcome) => last = outcome,
            }
        }
        if let RcptOutcome::Deferred { reason, .. } = &last {
            self.mark_dead(&key, reason);
        }
        all(last)
    }

    fn dead_reason(&self, key: &str) -> Option<String> {
        let mut map = self.dead.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((until, reason)) if *until > std::time::Instant::now() => Some(reason.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    fn mark_dead(&self, key: &str, reason: &str) {
        if self.cfg.dead_time.is_zero() {
            return;
        }
        let mut map = self.dead.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (until, _)| *until > std::time::Instant::now());
        map.insert(
            key.to_string(),
            (
                std::time::Instant::now() + self.cfg.dead_time,
                reason.to_string(),
            ),
        );
    }

    /// The message with its `DKIM-Signature:` fields in front, when a local domain's key
    /// fits its `From:`; `None` to send it as it is.
    fn sign(&self, job: &Job<'_>) -> Option<Vec<u8>> {
        let signer = self.signer.as_ref()?;
        match signer.sign(job.body) {
            Ok(Some(fields)) => {
                let mut out = Vec::with_capacity(fields.len() + job.body.len());
                out.extend_from_slice(&fields);
                out.extend_from_slice(job.body);
                Some(out)
            }
            Ok(None) => None,
            Err(e) => {
                mailward_event::Scope::message(&job.envelope.id).emit(
                    mailward_event::Event::DkimSignFailed(mailward_event::Reason::new(
                        e.to_string(),
                    )),
                );
                None
            }
        }
    }

    /// Where mail for `domain` goes, or the outcome for all its recipients when nowhere.
    async fn targets(
        &self,
        domain: &str,
        requiretls: bool,
        ignore_policy: bool,
    ) -> Result<Vec<Target>, RcptOutcome> {
        let mut targets = self.targets_by_policy(domain, ignore_policy).await?;
        if requiretls {
            for t in &mut targets {
                t.tls = TlsPolicy::Verify;
            }
        }
        Ok(targets)
    }

    async fn targets_by_policy(
        &self,
        domain: &str,
        ignore_policy: bool,
    ) -> Result<Vec<Target>, RcptOutcome> {
        // A route for the domain wins over the smarthost (internal domains go direct while
        // the rest leaves through the relay), as Postfix's transport map wins over relayhost.
        if let Some(r) = self.cfg.route_for(domain) {
            return Ok(vec![Target {
                host: r.host.clone(),
                port: r.port,
                tls: r.tls.unwrap_or(self.cfg.tls),
                implicit_tls: false,
                credentials: None,
            }]);
        }
        if let Some(s) = &self.cfg.smarthost {
            return Ok(vec![smarthost_target(s)]);
        }
        let answer = self
            .resolver
            .mx(domain)
            .await
            .map_err(|e| deferred(&e.to_string(), None))?;
        let hops = route::plan(domain, &answer, &self.cfg.ourselves, shuffle).map_err(|e| {
            let status = match e {
                NoRoute::NullMx(_) => "5.1.10",
                NoRoute::NoSuchDomain(_) => "5.1.2",
                NoRoute::LoopsBack(_) => "5.4.6",
            };
            RcptOutcome::Failed {
                reason: e.to_string(),
                status: status.into(),
                relay: None,
                reply: None,
            }
        })?;
        let mut hops = hops;
        let mut tls = self.cfg.tls;
        if self.cfg.mta_sts
            && !ignore_policy
            && let Applies::Policy(p) = self.sts.policy_for(domain, &self.resolver, &self.tls).await
            && p.mode == Mode::Enforce
        {
            // RFC 8461 §4.1-4.2: only MX hosts the policy names, over TLS with a
            // certificate valid for the MX name; anything else waits.
            hops.retain(|h| p.matches(&h.host));
            if hops.is_empty() {
                return Err(deferred(
                    &format!("MTA-STS (enforce): no MX host of {domain} matches its policy"),
                    None,
                ));
            }
            tls = TlsPolicy::Verify;
        }
        Ok(hops
            .into_iter()
            .map(|h| Target {
                host: h.host,
                port: self.cfg.port,
                tls,
                implicit_tls: false,
                credentials: None,
            })
            .collect())
    }

    /// The MTA-STS policy cache (its port can be moved for tests).
    pub fn mta_sts(&self) -> &MtaSts {
        &self.sts
    }

    /// The message to one host: a pooled connection or a new one to each of its addresses
    /// in turn. `Err` means this host could not take it (try the next).
    async fn try_target(
        &self,
        target: &Target,
        job: &Job<'_>,
    ) -> Result<Vec<(usize, RcptOutcome)>, RcptOutcome> {
        let keep = self.cfg.idle_keep;
        // A kept connection is used without a probe: if the server closed it meanwhile,
        // the MAIL reply never comes, nothing was taken, and a fresh connection follows.
        while let Some(idle) = self.pool.take(&target.host, target.port, keep) {
            // A connection opened for a laxer policy (plaintext, or TLS not verified) never
            // carries a message that needs more.
            if !satisfies(&idle.conn, target.tls) {
                tokio::spawn(session::quit(idle.conn));
                continue;
            }
            if let Some(results) = self.transact(target, idle.conn, idle.caps, job, true).await {
                return Ok(results);
            }
        }
        let addresses = match self.resolver.addresses(&target.host).await {
            Ok(a) => a,
            Err(e @ DnsError::Temporary(..)) => return Err(deferred(&e.to_string(), None)),
            Err(e) => {
                return Err(deferred(
                    &format!("mail exchanger {}: {e}", target.host),
                    None,
                ));
            }
        };
        let mut last = deferred(&format!("{}: no address", target.host), None);
        for ip in addresses {
            match self.open(target, ip).await {
                Ok((conn, caps)) => {
                    if let Some(results) = self.transact(target, conn, caps, job, false).await {
                        return Ok(results);
                    }
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// A ready session with `target` at `ip`: greeting, EHLO, TLS as the policy asks (a
    /// failed opportunistic handshake is tried again in plaintext, RFC 7435 §3), AUTH.
    async fn open(
        &self,
        target: &Target,
        ip: IpAddr,
    ) -> Result<(Connection, Capabilities), RcptOutcome> {
        let peer = SocketAddr::new(ip, target.port);
        let relay = format!("{}[{}]:{}", target.host, ip, target.port);
        let mut policy = target.tls;
        loop {
            match self.open_with(target, peer, policy).await {
                Ok(ok) => return Ok(ok),
                Err(SessionError::Client(e @ super::error::ClientError::Tls(_)))
                    if policy == TlsPolicy::May =>
                {
                    // Opportunistic: the next try is in plaintext.
                    let _ = e;
                    policy = TlsPolicy::None;
                }
                Err(SessionError::Refused { stage, reply })
                    if reply.is_permanent() && stage == "AUTH" =>
                {
                    return Err(RcptOutcome::Failed {
                        reason: format!("host {relay} refused AUTH: {}", reply.one_line()),
                        status: reply.status_text(),
                        relay: Some(relay),
                        reply: Some(reply.one_line()),
                    });
                }
                Err(e) => return Err(deferred(&format!("{relay}: {e}"), Some(relay))),
            }
        }
    }

    async fn open_with(
        &self,
        target: &Target,
        peer: SocketAddr,
        policy: TlsPolicy,
    ) -> Result<(Connection, Capabilities), SessionError> {
        let t = &self.cfg.timeouts;
        let mut conn = Connection::connect(&target.host, peer, t.connect).await?;
        let name = server_name(&target.host, peer.ip());
        if target.implicit_tls {
            conn = conn
                .start_tls(
                    &self.tls,
                    policy == TlsPolicy::Verify,
                    name.clone(),
                    t.command,
                )
                .await?;
        }
        let mut caps = session::open(&mut conn, &self.cfg.helo_name, t.greeting, t.command).await?;
        if conn.tls.is_none() && policy != TlsPolicy::None {
            if caps.starttls() && session::starttls(&mut conn, t.command).await? {
                conn = conn
                    .start_tls(&self.tls, policy == TlsPolicy::Verify, name, t.command)
                    .await?;
                // RFC 3207 §4.2: everything learnt before TLS is forgotten.
                caps = session::ehlo(&mut conn, &self.cfg.helo_name, t.command).await?;
            } else if policy.required() {
                return Err(SessionError::NoStartTls(conn.relay()));
            }
        }
        if let Some((user, password)) = &target.credentials {
            // Credentials never travel in the clear (RFC 4954 §4 advice).
            if conn.tls.is_none() {
                return Err(SessionError::NoStartTls(conn.relay()));
            }
            session::authenticate(&mut conn, &caps, user, password, t.command).await?;
        }
        Ok((conn, caps))
    }

    /// One transaction on a ready session; the connection goes back to the pool after it.
    /// `None` when a `reused` connection turned out closed before MAIL was answered.
    async fn transact(
        &self,
        target: &Target,
        mut conn: Connection,
        caps: Capabilities,
        job: &Job<'_>,
        reused: bool,
    ) -> Option<Vec<(usize, RcptOutcome)>> {
        let relay = conn.relay();
        let env = job.envelope;
        let all = |o: RcptOutcome| {
            job.rcpts
                .iter()
                .map(|&i| (i, o.clone()))
                .collect::<Vec<_>>()
        };
        let tx = match prepare(env, job, &caps) {
            Ok(tx) => tx,
            Err((reason, status)) => {
                self.release(target, conn, caps);
                return Some(all(RcptOutcome::Failed {
                    reason: format!("{relay}: {reason}"),
                    status: status.into(),
                    relay: Some(relay),
                    reply: None,
                }));
            }
        };
        let replies = session::send(&mut conn, &caps, &tx, &self.cfg.timeouts).await;
        let tls = conn.tls.as_ref().map(|t| t.to_string());
        match replies {
            Ok(replies) => {
                let dsn_passed = caps.has(smtp_proto::EXT_DSN);
                let out = job
                    .rcpts
                    .iter()
                    .zip(replies)
                    .map(|(&i, r)| (i, outcome_of(r, &relay, tls.clone(), dsn_passed)))
                    .collect();
                self.release(target, conn, caps);
                Some(out)
            }
            // A kept connection the server closed meanwhile, or one it chattered on while
            // idle: nothing was sent, a fresh connection takes the message.
            Err(
                ClientError::Closed("MAIL")
                | ClientError::Io("MAIL", _)
                | ClientError::Unsolicited("MAIL"),
            ) if reused => None,
            Err(e) => Some(all(deferred(&format!("{relay}: {e}"), Some(relay.clone())))),
        }
    }

    /// Keeps a connection for the next message, or says QUIT when it has sent enough.
    fn release(&self, target: &Target, conn: Connection, caps: Capabilities) {
        if conn.messages < self.cfg.messages_per_connection && !self.cfg.idle_keep.is_zero() {
            self.pool.put(&target.host, target.port, conn, caps);
        } else {
            tokio::spawn(session::quit(conn));
        }
    }
}

/// Does `conn` give what `policy` asks of TLS?
fn satisfies(conn: &Connection, policy: TlsPolicy) -> bool {
    match policy {
        TlsPolicy::None | TlsPolicy::May => true,
        TlsPolicy::Encrypt => conn.tls.is_some(),
        TlsPolicy::Verify => conn.tls.as_ref().is_some_and(|t| t.verified),
    }
}

fn smarthost_target(s: &Smarthost) -> Target {
    Target {
        host: s.host.clone(),
        port: s.port,
        tls: s.tls,
        implicit_tls: s.implicit_tls,
        credentials: match (&s.username, &s.password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            _ => None,
        },
    }
}

fn deferred(reason: &str, relay: Option<String>) -> RcptOutcome {
    RcptOutcome::Deferred {
        reason: reason.to_string(),
        relay,
    }
}

fn outcome_of(r: RcptReply, relay: &str, tls: Option<String>, dsn_passed: bool) -> RcptOutcome {
    match r {
        RcptReply::Accepted(reply) => RcptOutcome::Sent {
            relay: relay.to_string(),
            reply: reply.one_line(),
            tls,
            dsn_passed,
        },
        RcptReply::Refused(reply) if reply.is_permanent() => RcptOutcome::Failed {
            reason: format!("host {relay} said: {}", reply.one_line()),
            status: reply.status_text(),
            relay: Some(relay.to_string()),
            reply: Some(reply.one_line()),
        },
        RcptReply::Refused(reply) => RcptOutcome::Deferred {
            reason: format!("host {relay} said: {}", reply.one_line()),
            relay: Some(relay.to_string()),
        },
    }
}

/// The transaction for this peer, or why the peer cannot take the message (a permanent
/// failure: the same peer will not change its mind).
fn prepare<'a>(
    env: &'a Envelope,
    job: &'a Job<'a>,
    caps: &Capabilities,
) -> Result<Transaction<'a>, (String, &'static str)> {
    use smtp_proto::{EXT_8BIT_MIME, EXT_BINARY_MIME, EXT_CHUNKING, EXT_SIZE, EXT_SMTP_UTF8};
    let body = job.body;
    // RFC 1870 §6.1: do not send what the peer's SIZE refuses.
    if caps.has(EXT_SIZE) && caps.size > 0 && body.len() > caps.size {
        return Err((
            format!(
                "message of {} octets is larger than the {} the server accepts (SIZE)",
                body.len(),
                caps.size
            ),
            "5.3.4",
        ));
    }
    let eight_bit = body.iter().any(|b| *b >= 0x80);
    let body_type = match env.body.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("BINARYMIME") => {
            // RFC 3030 §3: BINARYMIME only with CHUNKING, to a peer that offers both.
            if !(caps.has(EXT_BINARY_MIME) && caps.has(EXT_CHUNKING)) {
                return Err((
                    "binary message and the server lacks BINARYMIME".into(),
                    "5.6.3",
                ));
            }
            Some("BINARYMIME")
        }
        _ if eight_bit => {
            // RFC 6152 §3: 8-bit data only to a peer that offers 8BITMIME; mailward does not
            // convert to 7 bits, so the sender is told instead.
            if !caps.has(EXT_8BIT_MIME) {
                return Err((
                    "8-bit message and the server lacks 8BITMIME".into(),
                    "5.6.3",
                ));
            }
            Some("8BITMIME")
        }
        Some("8BITMIME") if caps.has(EXT_8BIT_MIME) => Some("8BITMIME"),
        _ => None,
    };
    // RFC 8689 §4.2.1: the next hop must offer REQUIRETLS, or the message is returned.
    if env.requiretls && !caps.has(smtp_proto::EXT_REQUIRE_TLS) {
        return Err((
            "REQUIRETLS message and the server does not offer REQUIRETLS".into(),
            "5.7.30",
        ));
    }
    let mut smtputf8 = false;
    if env.smtputf8 {
        let needs = !env.sender.is_ascii()
            || job
                .rcpts
                .iter()
                .filter_map(|&i| env.rcpts.get(i))
                .any(|r| !r.address.is_ascii())
            || !header_section(body).is_ascii();
        if caps.has(EXT_SMTP_UTF8) {
            smtputf8 = true;
        } else if needs {
            // RFC 6531 §3.2: an internationalised message may not go to a peer without
            // SMTPUTF8; mailward does not downgrade (RFC 6857), so it is refused, not mangled.
            return Err((
                "internationalised message and the server lacks SMTPUTF8".into(),
                "5.6.7",
            ));
        }
    }
    let rcpts = job
        .rcpts
        .iter()
        .filter_map(|&i| env.rcpts.get(i))
        .map(|r| TxRcpt {
            address: &r.address,
            notify: &r.notify,
            orcpt: r.orcpt.as_deref(),
        })
        .collect();
    Ok(Transaction {
        sender: &env.sender,
        rcpts,
        body,
        body_type,
        smtputf8,
        requiretls: env.requiretls,
        ret: env.ret.as_deref(),
        envid: env.envid.as_deref(),
    })
}

/// The header section of a message (up to the empty line).
fn header_section(msg: &[u8]) -> &[u8] {
    let end = memchr::memmem::find(msg, b"\r\n\r\n")
        .or_else(|| memchr::memmem::find(msg, b"\n\n"))
        .unwrap_or(msg.len());
    msg.get(..end).unwrap_or(msg)
}

/// RFC 8689 §5: `TLS-Required: No` in the header.
fn tls_required_no(msg: &[u8]) -> bool {
    header_section(msg).split(|&b| b == b'\n').any(|l| {
        l.get(..13)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"tls-required:"))
            && l.get(13..)
                .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"no"))
    })
}

/// How many `Received:` fields the header has.
fn received_count(msg: &[u8]) -> usize {
    header_section(msg)
        .split(|&b| b == b'\n')
        .filter(|l| {
            l.get(..9)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"received:"))
        })
        .count()
}

/// The TLS server name: the host's DNS name, or its address for a literal.
fn server_name(host: &str, ip: IpAddr) -> ServerName<'static> {
    ServerName::try_from(host.to_string()).unwrap_or(ServerName::IpAddress(ip.into()))
}

/// RFC 5321 §5.1: equal preferences in random order.
fn shuffle(hops: &mut [route::Hop]) {
    let mut seed = [0u8; 8];
    if getrandom::getrandom(&mut seed).is_err() {
        return;
    }
    let mut x = u64::from_le_bytes(seed) | 1;
    for i in (1..hops.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = (x % (i as u64 + 1)) as usize;
        hops.swap(i, j);
    }
}

/// Closes connections idle longer than `idle_keep`, until the transport is dropped.
async fn reap_idle(out: Weak<Outbound>) {
    loop {
        let keep = match out.upgrade() {
            Some(o) => o.cfg.idle_keep,
            None => return,
        };
        tokio::time::sleep(keep.max(std::time::Duration::from_millis(500)) / 2).await;
        let Some(o) = out.upgrade() else { return };
        for conn in o.pool.expired(keep) {
            tokio::spawn(session::quit(conn));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn regress_a_kept_connection_never_carries_mail_that_needs_more_tls() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut conn = Connection::connect("mx.test", addr, std::time::Duration::from_secs(2))
            .await
            .unwrap();
        // Plaintext (STARTTLS not offered, or an opportunistic handshake that failed).
        assert!(satisfies(&conn, TlsPolicy::May));
        assert!(!satisfies(&conn, TlsPolicy::Encrypt));
        assert!(!satisfies(&conn, TlsPolicy::Verify));
        conn.tls = Some(super::super::conn::TlsInfo {
            version: "TLSv1_3".into(),
            cipher: "x".into(),
            verified: false,
            chain: Vec::new(),
        });
        assert!(satisfies(&conn, TlsPolicy::Encrypt));
        assert!(
            !satisfies(&conn, TlsPolicy::Verify),
            "MTA-STS enforce needs verified TLS"
        );
    }

    #[test]
    fn received_fields_are_counted_in_the_header_only() {
        let m = b"Received: a\r\nreceived: b\r\nSubject: x\r\n\r\nReceived: body\r\n";
        assert_eq!(received_count(m), 2);
    }
}
