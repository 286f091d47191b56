//! Inbound checks per message with warm caches (issue 16: under 1 ms a message).
//!
//! The DNS answers come from an in-memory zone (`StaticDns`), which stands in for a warm
//! resolver cache: no network, one hash look-up and one record parse per question (a warm
//! hickory/mail-auth cache keeps records parsed, so this costs a little more than it does).
//! Measured: SPF alone, DKIM alone (RSA-2048 and Ed25519 signatures), and the whole
//! `inbound::assess` (SPF, DKIM, ARC, DMARC, the decision) on a signed 2 KiB message.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark: a panic is a failure.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailward_auth::dkim::{KeyAlgorithm, Signer, keygen, store_new_key};
use mailward_auth::inbound::{Client, InboundSettings, assess};
use mailward_auth::verify::{Lookups, StaticDns, check_spf_mail_from, verify_dkim};
use std::hint::black_box;

fn message() -> Vec<u8> {
    let mut m = String::from(
        "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: quarterly figures\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <bench@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
    );
    while m.len() < 2048 {
        m.push_str("The figures for the quarter are attached, with the notes we discussed.\r\n");
    }
    m.into_bytes()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let keys = tempfile::tempdir().unwrap();
    store_new_key(
        keys.path(),
        "example.com",
        "rsa",
        &keygen::generate(KeyAlgorithm::Rsa).unwrap(),
    )
    .unwrap();
    store_new_key(
        keys.path(),
        "example.com",
        "ed",
        &keygen::generate(KeyAlgorithm::Ed25519).unwrap(),
    )
    .unwrap();
    let signer = Signer::load(keys.path()).unwrap();
    let mut dns = StaticDns::new();
    for key in signer.keys() {
        dns.add_txt(&key.dns_name(), key.txt_record());
    }
    dns.add_txt(
        "example.com",
        "v=spf1 ip4:198.51.100.0/24 include:_spf.example.com -all",
    );
    dns.add_txt("_spf.example.com", "v=spf1 ip4:192.0.2.0/24 ~all");
    dns.add_a("example.com", "192.0.2.1".parse().unwrap());
    dns.add_txt(
        "_dmarc.example.com",
        "v=DMARC1; p=reject; rua=mailto:d@example.com",
    );
    let body = message();
    let signed = [signer.sign(&body).unwrap().unwrap(), body].concat();
    let authenticator = rt
        .block_on(async { StaticDns::offline_authenticator() })
        .unwrap();
    let lookups = Lookups::fixed(&authenticator, &dns);
    let settings = InboundSettings::new("mx.example.org");
    let client = Client {
        ip: "192.0.2.7".parse().unwrap(),
        helo: "mta.example.com",
        mail_from: "alice@example.com",
        trusted: None,
    };

    let mut g = c.benchmark_group("inbound");
    g.throughput(Throughput::Elements(1));
    g.bench_function("spf_include_pass", |b| {
        b.iter(|| {
            rt.block_on(check_spf_mail_from(
                &lookups,
                client.ip,
                client.helo,
                black_box(client.mail_from),
                "mx.example.org",
            ))
        })
    });
    g.bench_function("dkim_rsa2048_and_ed25519", |b| {
        b.iter(|| rt.block_on(verify_dkim(&lookups, black_box(&signed))))
    });
    g.bench_function("assess_signed_2k_message", |b| {
        b.iter(|| rt.block_on(assess(&lookups, &client, black_box(&signed), &settings)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
