//! Where a probe connects: `HOST[:PORT]` as typed (`mx.example.com`, `mx.example.com:587`,
//! `192.0.2.1:25`, `[2001:db8::1]:465`, `2001:db8::1`), and the host's addresses, from the
//! configured resolver when there is one, else from the system (`/etc/hosts` included).

use mailward_auth::Resolver;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Splits `HOST[:PORT]`; the port is `None` when not given.
pub fn parse(target: &str) -> Result<(String, Option<u16>), String> {
    let t = target.trim();
    if t.is_empty() {
        return Err("empty host".into());
    }
    if let Ok(sa) = t.parse::<SocketAddr>() {
        return Ok((sa.ip().to_string(), Some(sa.port())));
    }
    if let Ok(ip) = t
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok((ip.to_string(), None));
    }
    match t.rsplit_once(':') {
        Some((host, port)) => {
            let port = port
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("invalid port in {t:?}"))?;
            check_name(host)?;
            Ok((host.to_string(), Some(port)))
        }
        None => {
            check_name(t)?;
            Ok((t.to_string(), None))
        }
    }
}

/// A host name: letters, digits, `-`, `_` and dots, at most 253 octets (RFC 1035 §2.3.4).
fn check_name(host: &str) -> Result<(), String> {
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(format!("{host:?} is not a host name"))
    }
}

/// The addresses of `host` (an address literal is its own).
pub async fn addresses(
    host: &str,
    port: u16,
    resolver: Option<&Resolver>,
    timeout: Duration,
) -> Result<Vec<IpAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let found = match resolver {
        Some(r) => tokio::time::timeout(timeout, r.addresses(host))
            .await
            .map_err(|_| format!("{host}: address lookup timed out"))?
            .map_err(|e| e.to_string())?,
        None => tokio::time::timeout(timeout, tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| format!("{host}: address lookup timed out"))?
            .map_err(|e| format!("{host}: {e}"))?
            .map(|sa| sa.ip())
            .collect(),
    };
    let mut out: Vec<IpAddr> = Vec::new();
    for ip in found {
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn targets_are_split() {
        assert_eq!(parse("mx.b.test").unwrap(), ("mx.b.test".into(), None));
        assert_eq!(
            parse("mx.b.test:587").unwrap(),
            ("mx.b.test".into(), Some(587))
        );
        assert_eq!(
            parse("127.0.0.1:25").unwrap(),
            ("127.0.0.1".into(), Some(25))
        );
        assert_eq!(parse("[::1]:465").unwrap(), ("::1".into(), Some(465)));
        assert_eq!(parse("::1").unwrap(), ("::1".into(), None));
        assert_eq!(parse("[::1]").unwrap(), ("::1".into(), None));
    }

    #[test]
    fn bad_targets_are_refused() {
        for bad in [
            "",
            "mx:0",
            "mx:99999",
            "mx:x",
            "a b",
            "mx.test:25:25",
            "x\r\ny",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
