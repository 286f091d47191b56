//! Fuzzes the POP3 command parser and session state machine (`mailward_pop3::session`):
//! arbitrary bytes, fed in arbitrary pieces, against the in-memory store, must never panic;
//! a closed session stays closed and silent, and nothing is removed without QUIT.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_pop3::blocking::BlockingDriver;
use mailward_pop3::memory::MemoryBackend;
use mailward_pop3::{Session, SessionConfig, TlsInfo};
use std::sync::Arc;

const USER: &str = "bob@example.test";

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let store = MemoryBackend::new(7);
    store.add_account(USER, "secret");
    store.deliver(USER, b"Subject: a\r\n\r\n.dot\r\nbody\r\n");
    store.deliver(USER, b"no header end\n.\n..\nx");
    store.deliver(USER, b"");
    store.fail_reads(selector & 32 != 0);
    store.fail_removals(selector & 64 != 0);
    let cfg = Arc::new(SessionConfig {
        hostname: "mx.fuzz.test".into(),
        tls_available: selector & 1 != 0,
        plaintext_auth_on_loopback: selector & 2 != 0,
        max_errors: 50,
    });
    let ip = if selector & 4 != 0 {
        "127.0.0.1"
    } else {
        "198.51.100.7"
    };
    let mut s = Session::new(
        cfg,
        "F".into(),
        ip.parse().unwrap_or(std::net::IpAddr::from([127, 0, 0, 1])),
    );
    if selector & 8 != 0 {
        s.set_tls(TlsInfo::default());
    }
    s.greeting();
    let _ = s.take_output();
    let mut driver = BlockingDriver::new(store.clone());
    // Piece sizes come from the selector so pipelining and split lines are both covered.
    let piece = usize::from(selector >> 4) * 11 + 1;
    for chunk in rest.chunks(piece) {
        let was_closed = s.is_closed();
        let out = driver.run(&mut s, chunk);
        assert!(!was_closed || out.is_empty(), "a closed session answered");
    }
    driver.drop_connection(&mut s);
    let quit = rest.windows(4).any(|w| w.eq_ignore_ascii_case(b"QUIT"));
    if !quit {
        assert_eq!(store.messages(USER).len(), 3, "removed without QUIT");
    }
});
