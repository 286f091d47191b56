//! `Received:` parsing speed on a typical mix of headers (one per MTA family).
//! `mailward trace` needs ~50,000 messages/s × 5-10 headers on one core: < 2 µs a header.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailward_message::Received;
use std::hint::black_box;

const HEADERS: &[&str] = &[
    "from laptop.example.org (dsl-7.example.net [198.51.100.7])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\t(Authenticated sender: alice@example.org)\r\n\tby smtp.example.org (Postfix) with ESMTPSA id 4Rb0Kq2DzHz9sQ\r\n\tfor <bob@example.com>; Tue, 29 Aug 2023 18:20:10 +0200 (CEST)",
    "from mail.example.com (unknown [IPv6:2001:db8:10::25])\r\n\tby mx.example.net (Postfix) with ESMTP id 3F2A1C0123\r\n\tfor <ops@example.net>; Mon, 4 Mar 2024 09:00:01 -0500 (EST)",
    "from [203.0.113.50] (port=51324 helo=[192.168.0.23])\n\tby server.example.net with esmtpsa  (TLS1.3) tls TLS_AES_256_GCM_SHA384\n\t(Exim 4.97.1)\n\t(envelope-from <carol@example.net>)\n\tid 1rAbCd-000000001Gh-2xYz\n\tfor dave@example.com;\n\tWed, 10 Jan 2024 11:12:13 +0000",
    "from AM6PR04MB1234.eurprd04.prod.outlook.com (2603:10a6:20b:5e::12) by\r\n AM0PR04MB5678.eurprd04.prod.outlook.com (2603:10a6:208:16c::19) with\r\n Microsoft SMTP Server (version=TLS1_2,\r\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.5438.12 via Frontend\r\n Transport; Tue, 29 Aug 2023 16:20:10 +0000",
    "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\r\n        by mx.google.com with SMTPS id abc.123.2023.08.29.09.20.10\r\n        for <x@example.com>\r\n        (Google Transport Security);\r\n        Tue, 29 Aug 2023 09:20:10 -0700 (PDT)",
    "by 2002:a05:6a10:b0c2:b0:4a2:1a3b:5c6d with SMTP id b2csp123456pxb;\r\n        Tue, 29 Aug 2023 09:20:11 -0700 (PDT)",
    "from unknown (HELO relay.example.com) (198.51.100.3)\n  by mail.example.net with SMTP; 29 Aug 2023 16:20:10 -0000",
    "from workstation (host-12.example.net [203.0.113.12] (may be forged))\n\t(authenticated bits=0)\n\tby relay.example.edu (8.17.1/8.17.1) with ESMTP id 37TGK9xQ012345\n\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NO)\n\tfor <staff@example.edu>; Tue, 29 Aug 2023 12:20:10 -0400",
    "by filter0001p1las1.sendgrid.net with SMTP id abc-DEF_123 Tue, 29 Aug 2023 16:20:10 +0000 (UTC)",
    "(qmail 1234 invoked by uid 0); 29 Aug 2023 16:20:10 -0000",
];

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("received");
    g.throughput(Throughput::Elements(HEADERS.len() as u64));
    g.bench_function("parse_mix_10_headers", |b| {
        b.iter(|| {
            for h in HEADERS {
                black_box(Received::parse(black_box(h)));
            }
        })
    });
    let parsed: Vec<Received> = HEADERS.iter().map(|h| Received::parse(h)).collect();
    g.bench_function("write_mix_10_headers", |b| {
        b.iter(|| {
            for r in &parsed {
                black_box(r.to_header_value());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
