//! Fuzz the gateway's spam score: any bytes, walked by the gateway's MIME walk, must be
//! scored without a panic, with a finite score equal to the sum of its rules. No DNS and no
//! rspamd (the I/O is bounded by time, not by input).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_filter::context::Context;
use mailward_filter::mime::{self, MimeLimits};
use mailward_filter::spam::{self, SpamSettings};

fuzz_target!(|data: &[u8]| {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let parsed = mime::parse(data);
    let walk = parsed
        .as_ref()
        .map(|m| mime::walk(m, data, &MimeLimits::default()))
        .unwrap_or_default();
    let rcpts = vec!["bob@example.org".to_owned()];
    let ctx = Context {
        queue_id: "FUZZ",
        client_ip: std::net::IpAddr::from([192, 0, 2, 1]),
        helo: "mail.example.com",
        mail_from: "alice@example.com",
        rcpts: &rcpts,
        auth_user: None,
        auth: None,
    };
    let report = rt.block_on(spam::score_at(
        data,
        &walk,
        &ctx,
        &SpamSettings::default(),
        None,
        1_795_000_000,
    ));
    assert!(report.score.is_finite());
    let sum: f64 = report.findings.iter().map(|f| f.score).sum::<f64>() + 0.0;
    assert!((report.score - sum).abs() < 1e-9);
});
