//! Fuzzes the ManageSieve wire format, command parser and session state machine
//! (`mailward_mda::managesieve`): arbitrary bytes, fed in arbitrary pieces, must never
//! panic; each framed command consumes bytes that were there, the buffer stays within the
//! wire limits, and a closed session reads nothing more.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_event::{Protocol, Scope};
use mailward_mda::managesieve::session::{LoginOutcome, Session, SessionConfig, Step};
use mailward_mda::managesieve::wire::{self, Parsed, WireLimits};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let limits = WireLimits {
        max_line: 256,
        max_literal: 512,
        max_args: 4,
    };
    let cfg = Arc::new(SessionConfig {
        tls_available: selector & 1 != 0,
        plaintext_auth_on_loopback: selector & 2 != 0,
        max_errors: 50,
        wire: limits,
        ..SessionConfig::default()
    });
    let ip = if selector & 4 != 0 { "127.0.0.1" } else { "198.51.100.7" };
    let scope = Scope::connection(
        Protocol::ManageSieve,
        "F",
        ip.parse().unwrap_or(std::net::IpAddr::from([127, 0, 0, 1])),
    );
    let mut s = Session::new(cfg, scope, selector & 8 != 0);
    let _ = s.greeting();
    let mut input = Vec::new();
    let piece = usize::from(selector >> 4) * 7 + 1;
    'feed: for chunk in rest.chunks(piece) {
        input.extend_from_slice(chunk);
        loop {
            let step = match wire::parse(&input, &limits) {
                Err(e) => {
                    assert!(e.fatal());
                    s.fatal(&e)
                }
                Ok(Parsed::Command(tokens, n)) => {
                    assert!(n > 0 && n <= input.len());
                    input.drain(..n);
                    s.line(tokens)
                }
                Ok(Parsed::Bad(e, n)) => {
                    assert!(n > 0 && n <= input.len());
                    input.drain(..n);
                    s.bad_line(&e)
                }
                Ok(Parsed::Incomplete) => {
                    assert!(input.len() <= 256 + 512 + 64, "unbounded buffer");
                    break;
                }
            };
            let step = match step {
                Step::Login { credentials, .. } => {
                    let outcome = if credentials.password == "secret" {
                        LoginOutcome::Ok(credentials.username.clone())
                    } else {
                        LoginOutcome::BadCredentials
                    };
                    s.login_result(&credentials.username, outcome)
                }
                Step::StartTls(_) => {
                    input.clear();
                    let _ = s.tls_established();
                    continue;
                }
                other => other,
            };
            if let Step::Close(_) = step {
                assert!(s.is_closed());
                break 'feed;
            }
        }
    }
});
