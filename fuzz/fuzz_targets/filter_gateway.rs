//! Fuzzes the security gateway (`mailward_filter::Gateway::inspect`) with its default
//! settings (file block list with archives, content disarm, spam rules; no clamd, no DNS) on
//! arbitrary message bytes: the MIME walk, the archive readers and the document rewriters
//! must never panic and must stay bounded; the fields it adds must be well formed (CRLF
//! lines under RFC 5322's 998 octets, each a `X-Mailward-` field or a folded continuation);
//! a message it rewrites must keep no `X-Mailward-` field of its own in its header.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_event::Scope;
use mailward_filter::quarantine::Quarantine;
use mailward_filter::{Context, Gateway, GatewaySettings};
use std::sync::OnceLock;

struct World {
    rt: tokio::runtime::Runtime,
    gateway: Gateway,
    _dir: std::path::PathBuf,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = std::env::temp_dir().join(format!("mailward-fuzz-q-{}", std::process::id()));
        let quarantine = Quarantine::open(&dir).expect("quarantine dir");
        World {
            rt,
            gateway: Gateway::new(GatewaySettings::default(), None, quarantine),
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let rcpts = vec!["bob@example.com".to_owned()];
    let ctx = Context {
        queue_id: "FUZZ",
        client_ip: "192.0.2.1".parse().expect("ip"),
        helo: "mx.example.org",
        mail_from: "alice@example.org",
        rcpts: &rcpts,
        auth_user: None,
        auth: None,
    };
    let inspection = w
        .rt
        .block_on(w.gateway.inspect(&ctx, data, &Scope::default()));
    assert!(inspection.fields.ends_with("\r\n"));
    for line in inspection.fields.split_terminator("\r\n") {
        assert!(line.len() < 998, "field line too long");
        assert!(
            line.starts_with("X-Mailward-") || line.starts_with('\t'),
            "not one of our fields: {line:?}"
        );
    }
    if let Some(m) = &inspection.message {
        let header = &m[..mailward_filter::headers::header_len(m)];
        assert!(
            !header
                .split(|&b| b == b'\n')
                .any(|l| l.len() >= 11 && l[..11].eq_ignore_ascii_case(b"x-mailward-")),
            "a rewritten message kept an X-Mailward- field"
        );
    }
});
