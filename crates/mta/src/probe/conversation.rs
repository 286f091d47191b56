//! The SMTP conversation of a probe: connect (each address in turn), TLS at once for
//! implicit TLS (RFC 8314 §3), the greeting (RFC 5321 §4.3.1), EHLO (HELO when EHLO is
//! refused, §3.2), STARTTLS when offered (RFC 3207) with the chain read and checked, EHLO
//! again over TLS (RFC 3207 §4.2), the relay test if asked, QUIT. Each step has the probe's
//! time-out, so a server that stalls ends the probe instead of hanging it.

use super::ProbeOptions;
use super::cert;
use super::lines::ReplyLines;
use super::relay;
use super::report::{ConnectAttempt, HelloReport, ProbeReport, TlsState};
use crate::outbound::ClientTls;
use crate::outbound::conn::Connection;
use crate::outbound::session::{self, SessionError};
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::{IpAddr, SocketAddr};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The most addresses tried before giving up.
pub const MAX_ADDRESSES: usize = 4;

/// Talks to `host` at `addresses`, filling `report`; returns the certificates presented.
pub async fn run(
    report: &mut ProbeReport,
    opts: &ProbeOptions,
    host: &str,
    addresses: &[IpAddr],
    tls: &ClientTls,
) -> Vec<CertificateDer<'static>> {
    let Some(mut conn) = connect(report, opts, host, addresses).await else {
        return Vec::new();
    };
    let started = Instant::now();
    let mut chain = Vec::new();
    if opts.implicit_tls {
        conn = match handshake(report, conn, host, opts, tls).await {
            Some((c, presented)) => {
                chain = presented;
                c
            }
            None => return chain,
        };
    }
    match conn.read_raw(opts.timeout, "greeting").await {
        Ok(raw) => match ReplyLines::parse(&raw) {
            Ok(banner) => {
                report.connect.banner_ms = Some(millis(started));
                let refused = banner.code != 220;
                report.banner = Some(banner);
                if refused {
                    session::quit(conn).await;
                    return chain;
                }
            }
            Err(e) => {
                report.error = Some(format!("greeting: {e}"));
                return chain;
            }
        },
        Err(e) => {
            report.error = Some(format!("no greeting: {e}"));
            return chain;
        }
    }
    let Some(caps) = hello(report, &mut conn, opts, false).await else {
        return chain;
    };
    if !opts.implicit_tls {
        if !caps.starttls() {
            report.tls.state = TlsState::NotOffered;
        } else if !opts.starttls {
            report.tls.state = TlsState::NotTried;
        } else {
            match starttls(report, &mut conn, opts).await {
                Some(true) => match handshake(report, conn, host, opts, tls).await {
                    Some((c, presented)) => {
                        conn = c;
                        chain = presented;
                        if hello(report, &mut conn, opts, true).await.is_none() {
                            return chain;
                        }
                    }
                    None => return chain,
                },
                Some(false) => {}
                None => return chain,
            }
        }
    }
    if let Some((from, to)) = &opts.relay_test {
        report.relay_test = Some(relay::run(&mut conn, from, to, opts.timeout).await);
    }
    session::quit(conn).await;
    chain
}

async fn connect(
    report: &mut ProbeReport,
    opts: &ProbeOptions,
    host: &str,
    addresses: &[IpAddr],
) -> Option<Connection> {
    for ip in addresses.iter().take(MAX_ADDRESSES) {
        let peer = SocketAddr::new(*ip, opts.port);
        let started = Instant::now();
        match Connection::connect(host, peer, opts.timeout).await {
            Ok(conn) => {
                report.connect.attempts.push(ConnectAttempt {
                    address: peer.to_string(),
                    error: None,
                });
                report.connect.address = Some(peer.to_string());
                report.connect.connect_ms = Some(millis(started));
                return Some(conn);
            }
            Err(e) => report.connect.attempts.push(ConnectAttempt {
                address: peer.to_string(),
                error: Some(e.to_string()),
            }),
        }
    }
    report.error = Some(if addresses.is_empty() {
        format!("{host} has no address")
    } else {
        format!("cannot connect to {host} port {}", opts.port)
    });
    None
}

/// EHLO (HELO after a refused EHLO); `None` when the session cannot go on.
async fn hello(
    report: &mut ProbeReport,
    conn: &mut Connection,
    opts: &ProbeOptions,
    after_tls: bool,
) -> Option<session::Capabilities> {
    let stage = if after_tls { "EHLO after TLS" } else { "EHLO" };
    match session::ehlo_raw(conn, &opts.helo_name, opts.timeout).await {
        Ok((caps, raw)) => {
            let reply = match ReplyLines::parse(&raw) {
                Ok(r) => r,
                Err(e) => {
                    report.error = Some(format!("{stage}: {e}"));
                    return None;
                }
            };
            let (keywords, auth) = if caps.esmtp {
                (reply.keywords(), reply.auth_mechanisms())
            } else {
                (Vec::new(), Vec::new())
            };
            let h = HelloReport {
                esmtp: caps.esmtp,
                extensions: caps.names().into_iter().map(str::to_string).collect(),
                keywords,
                auth,
                size: (caps.size > 0).then_some(caps.size),
                reply,
            };
            if after_tls {
                report.ehlo_after_tls = Some(h);
            } else {
                report.ehlo = Some(h);
            }
            Some(caps)
        }
        Err(SessionError::Refused { stage, reply }) => {
            report.error = Some(format!("{stage} refused: {}", reply.one_line()));
            None
        }
        Err(e) => {
            report.error = Some(format!("{stage}: {e}"));
            None
        }
    }
}

/// STARTTLS (RFC 3207 §4): `Some(true)` to go on with the handshake, `Some(false)` when
/// the server refused (the session goes on in clear), `None` when it cannot go on.
async fn starttls(
    report: &mut ProbeReport,
    conn: &mut Connection,
    opts: &ProbeOptions,
) -> Option<bool> {
    match relay::command(conn, "STARTTLS", opts.timeout, "STARTTLS").await {
        Ok(r) if r.code == 220 => {
            // Nothing may follow the 220 before the handshake (the STARTTLS command
            // injection attacks, RFC 3207 §4 and RFC 2920 §3.1).
            if conn.has_unread() {
                report.tls.state = TlsState::Failed;
                report.tls.error =
                    Some("the server sent data after its 220 to STARTTLS (injection)".into());
                return None;
            }
            Some(true)
        }
        Ok(r) => {
            report.tls.state = TlsState::Refused;
            report.tls.refusal = Some(r);
            Some(false)
        }
        Err(e) => {
            report.error = Some(format!("STARTTLS: {e}"));
            None
        }
    }
}

/// The handshake (any certificate taken, then checked for `host`); `None` when it failed.
async fn handshake(
    report: &mut ProbeReport,
    conn: Connection,
    host: &str,
    opts: &ProbeOptions,
    tls: &ClientTls,
) -> Option<(Connection, Vec<CertificateDer<'static>>)> {
    let name = server_name(host);
    // A name that is neither a DNS name nor an address still gets a handshake (without
    // SNI, under a placeholder) but cannot be verified.
    let sni = name
        .clone()
        .or_else(|| ServerName::try_from("invalid").ok())?;
    let conn = match conn.start_tls(tls, false, sni, opts.timeout).await {
        Ok(c) => c,
        Err(e) => {
            report.tls.state = TlsState::Failed;
            report.tls.error = Some(e.to_string());
            return None;
        }
    };
    let Some(info) = conn.tls.clone() else {
        report.tls.state = TlsState::Failed;
        report.tls.error = Some("no TLS session".into());
        return None;
    };
    let t = &mut report.tls;
    t.state = TlsState::Established;
    t.version = Some(info.version.clone());
    t.cipher = Some(info.cipher.clone());
    t.verify_name = Some(host.to_string());
    match &name {
        Some(n) => match tls.verify_chain(&info.chain, n) {
            Ok(()) => t.verified = Some(true),
            Err(e) => {
                t.verified = Some(false);
                t.verify_error = Some(e);
            }
        },
        None => {
            t.verified = Some(false);
            t.verify_error = Some(format!("{host:?} is not a host name"));
        }
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    for (i, der) in info.chain.iter().enumerate() {
        match cert::summarize(der.as_ref(), now) {
            Ok(s) => t.chain.push(s),
            Err(e) => t.chain_errors.push(format!("certificate {i}: {e}")),
        }
    }
    Some((conn, info.chain))
}

/// The name to check the certificate for: a DNS name, or an address literal (RFC 6125
/// §6.2 names; rustls matches IP addresses against iPAddress entries).
pub fn server_name(host: &str) -> Option<ServerName<'static>> {
    let host = host.trim_end_matches('.');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(host.to_string()).ok()
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
