//! Fuzzes the SMTP command parser and session state machine (`mailward_mta::session`):
//! arbitrary bytes, fed in arbitrary pieces, with every action answered both ways, must
//! never panic, and a closed session must stay closed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_mta::policy::{Directory, RcptLookup};
use mailward_mta::session::{
    Action, EnqueueOutcome, ListenerKind, Session, SessionConfig, TlsInfo,
};
use std::sync::Arc;

struct Dir;

impl Directory for Dir {
    fn rcpt(&self, address: &str, _size: u64) -> RcptLookup {
        match address.len() % 5 {
            0 => RcptLookup::Local,
            1 => RcptLookup::Unknown,
            2 => RcptLookup::NotLocal,
            3 => RcptLookup::OverQuota,
            _ => RcptLookup::TempFail,
        }
    }
    fn may_send_as(&self, user: &str, address: &str) -> bool {
        user.len() % 2 == address.len() % 2
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let listener = match selector % 3 {
        0 => ListenerKind::Smtp,
        1 => ListenerKind::Submission,
        _ => ListenerKind::Submissions,
    };
    let cfg = Arc::new(SessionConfig {
        hostname: "mx.fuzz.test".into(),
        listener,
        max_message_size: 4096,
        // Some sessions spool past 256 octets, so the spooling path is fuzzed too.
        spool_threshold: if selector & 2 != 0 { 256 } else { 1 << 20 },
        max_recipients: 8,
        max_errors: 50,
        relay_networks: vec![],
        tls_available: selector & 4 != 0,
        plaintext_auth_on_loopback: selector & 8 != 0,
        postmaster_domain: "fuzz.test".into(),
        header_from_policy: Default::default(),
    });
    let ip = if selector & 16 != 0 {
        "127.0.0.1"
    } else {
        "198.51.100.7"
    };
    let mut s = Session::new(
        cfg,
        Arc::new(Dir),
        "F".into(),
        ip.parse().unwrap_or(std::net::IpAddr::from([127, 0, 0, 1])),
    );
    s.greeting();
    // Piece sizes come from the selector so pipelining and split lines are both covered.
    let piece = usize::from(selector >> 5) * 7 + 1;
    let mut toggle = false;
    for chunk in rest.chunks(piece) {
        if s.is_closed() {
            break;
        }
        s.feed(chunk);
        let mut guard = 0;
        while let Some(action) = s.advance() {
            guard += 1;
            if guard > 10_000 {
                panic!("advance loops without consuming input");
            }
            toggle = !toggle;
            match action {
                Action::StartTls => s.tls_established(TlsInfo::default()),
                Action::Authenticate {
                    mechanism, user, ..
                } => {
                    let ok = toggle.then(|| user.clone());
                    if let Some(Action::Close) = s.auth_result(mechanism, &user, ok) {
                        break;
                    }
                }
                Action::Spool { bytes, .. } => {
                    assert!(s.spooling(), "spooling without a spooled transaction");
                    assert!(!bytes.is_empty(), "an empty piece to spool");
                    s.spool_result(if toggle {
                        Ok(())
                    } else {
                        Err("disk full".into())
                    });
                }
                Action::Enqueue(sub) => {
                    assert!(sub.body.len() <= 4096 + 2, "body over the size limit");
                    s.enqueue_result(if toggle {
                        EnqueueOutcome::Queued {
                            queue_id: "Q".into(),
                        }
                    } else {
                        EnqueueOutcome::TempFail("queue full".into())
                    });
                }
                Action::Close => break,
            }
        }
        let _ = s.take_output();
    }
});
