//! The gateway's cost per message (issue 17: a message without attachments must cost the
//! whole gateway under 100 µs), with the default settings (no clamd, no sandbox, no DNS
//! lists): `Gateway::inspect` on a 2 KiB plain message and on one with a 100 KiB base64
//! attachment, and `spam::score` alone on the plain one.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark: a panic is a failure.

use base64::Engine as _;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailward_event::Scope;
use mailward_filter::context::Context;
use mailward_filter::mime::{self, MimeLimits};
use mailward_filter::quarantine::Quarantine;
use mailward_filter::spam::{self, SpamSettings};
use mailward_filter::{Gateway, GatewaySettings};
use std::hint::black_box;

const HEADER: &str = "Return-Path: <alice@example.com>\r\n\
Received: from mail.example.com (mail.example.com [198.51.100.7]) by mx.example.org with ESMTPS id 4Q6730; Mon, 7 Dec 2026 10:00:01 +0000\r\n\
From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: quarterly figures\r\n\
Date: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <bench@example.com>\r\nMIME-Version: 1.0\r\n";

const LINE: &str = "The figures for the quarter are attached, with the notes we discussed.\r\n";

/// A 2 KiB plain-text message.
fn plain() -> Vec<u8> {
    let mut m = format!("{HEADER}Content-Type: text/plain; charset=utf-8\r\n\r\n");
    while m.len() < 2048 {
        m.push_str(LINE);
    }
    m.into_bytes()
}

/// A short text and a 100 KiB PDF-like attachment in base64.
fn with_attachment() -> Vec<u8> {
    let mut m = format!(
        "{HEADER}Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n{LINE}{LINE}\r\n--b1\r\n\
Content-Type: application/pdf; name=\"figures.pdf\"\r\n\
Content-Disposition: attachment; filename=\"figures.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
    );
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut x: u32 = 1;
    while pdf.len() < 100 * 1024 {
        // A deterministic, incompressible-looking filler.
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        pdf.extend_from_slice(&x.to_le_bytes());
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(&pdf);
    for chunk in encoded.as_bytes().chunks(76) {
        m.push_str(std::str::from_utf8(chunk).unwrap());
        m.push_str("\r\n");
    }
    m.push_str("--b1--\r\n");
    m.into_bytes()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::new(
        GatewaySettings::default(),
        None,
        Quarantine::open(dir.path().join("quarantine")).unwrap(),
    );
    let rcpts = vec!["bob@example.org".to_owned()];
    let ctx = Context {
        queue_id: "BENCH1",
        client_ip: "198.51.100.7".parse().unwrap(),
        helo: "mail.example.com",
        mail_from: "alice@example.com",
        rcpts: &rcpts,
        auth_user: None,
        auth: None,
    };
    let scope = Scope::message("BENCH1");
    let plain = plain();
    let attached = with_attachment();

    let mut g = c.benchmark_group("gateway");
    g.throughput(Throughput::Elements(1));
    g.bench_function("inspect_plain_2k", |b| {
        b.iter(|| rt.block_on(gateway.inspect(&ctx, black_box(&plain), &scope)));
    });
    g.bench_function("inspect_attachment_100k", |b| {
        b.iter(|| rt.block_on(gateway.inspect(&ctx, black_box(&attached), &scope)));
    });
    let parsed = mime::parse(&plain).unwrap();
    let walk = mime::walk(&parsed, &plain, &MimeLimits::default());
    let settings = SpamSettings::default();
    g.bench_function("spam_score_plain_2k", |b| {
        b.iter(|| rt.block_on(spam::score(black_box(&plain), &walk, &ctx, &settings, None)));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
