//! Properties: the parser never panics on any input, and what the writer writes reads back
//! to the same fields.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_message::datetime::{civil_from_days, format_rfc5322, parse_rfc5322_date};
use mailward_message::{Received, ReceivedAuth, ReceivedTls};
use proptest::prelude::*;
use std::net::IpAddr;

/// Realistic values to mutate (hand-written, one per layout family).
const SEEDS: &[&str] = &[
    "from a.example (b.example [192.0.2.1])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\t(Authenticated sender: u@example.org)\r\n\tby mx.example (Postfix) with ESMTPSA id 4Rb0Kq\r\n\tfor <v@example.com>; Tue, 29 Aug 2023 18:20:10 +0200 (CEST)",
    "from unknown (HELO x.example) (192.0.2.9) by y.example with SMTP; 29 Aug 2023 16:20:10 -0000",
    "from [192.0.2.3] (port=5 helo=[10.0.0.1]) by z.example with esmtpsa (TLS1.3) tls TLS_AES_128_GCM_SHA256 (Exim 4.97) (envelope-from <a@b>) id 1rAbCd-000000001Gh-2xYz for c@d; Wed, 10 Jan 2024 11:12:13 +0000",
    "from AM6PR.outlook.com (2603:10a6:20b::12) by AM0PR.outlook.com (2603:10a6:208::19) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.5438.12 via Frontend Transport; Tue, 29 Aug 2023 16:20:10 +0000",
    "by filter01.example.net with SMTP id abc Tue, 29 Aug 2023 16:20:10 +0000 (UTC)",
    "(qmail 1234 invoked by uid 0); 29 Aug 2023 16:20:10 -0000",
    "from mail-f41.example.com (mail-f41.example.com. [IPv6:2001:db8::41]) by mx.example.com with SMTPS id x.1.2023 for <q@example.com> (Transport Security); Fri Feb 07 10:18:12 2003 -0800",
];

fn mutate(seed: &str, edits: &[(usize, u8, char)]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for &(pos, op, c) in edits {
        if chars.is_empty() {
            chars.push(c);
            continue;
        }
        let i = pos % chars.len();
        match op % 4 {
            0 => chars.insert(i, c),
            1 => {
                chars.remove(i);
            }
            2 => chars[i] = c,
            _ => {
                // Duplicate a slice: repeats clauses, parentheses, brackets.
                let end = (i + 1 + pos % 17).min(chars.len());
                let dup: Vec<char> = chars[i..end].to_vec();
                chars.splice(i..i, dup);
            }
        }
    }
    chars.into_iter().collect()
}

fn structural_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(vec![
            '(', ')', '[', ']', '<', '>', ';', ':', ',', '"', '\\', ' ', '\r', '\n', '\t', '.',
            '@', '=', '%', '-', '+', '9', '0'
        ]),
        any::<char>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_parses_without_panic(s in ".{0,400}") {
        let r = Received::parse(&s);
        prop_assert_eq!(r.raw, s);
    }

    #[test]
    fn any_bytes_parse_without_panic(b in prop::collection::vec(any::<u8>(), 0..400)) {
        let s = String::from_utf8_lossy(&b);
        let _ = Received::parse(&s);
        let _ = parse_rfc5322_date(&s);
    }

    #[test]
    fn mutated_real_headers_parse_without_panic(
        seed in 0..SEEDS.len(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), structural_char()), 0..12),
    ) {
        let s = mutate(SEEDS[seed], &edits);
        let r = Received::parse(&s);
        // Anything produced is well-formed: writing it never panics either.
        let _ = r.to_header_value();
    }

    #[test]
    fn dates_round_trip(t in 0i64..253_000_000_000, off in -1439i32..=1439) {
        prop_assert_eq!(parse_rfc5322_date(&format_rfc5322(t, off)), Some((t, off)));
    }

    /// Go's default layout and the US numeric layout (12-hour clock) read back the instant
    /// they were written from; month-first is right here because we write month first.
    #[test]
    fn mta_layouts_read_the_instant_they_were_written_from(
        t in 0i64..253_000_000_000,
        off in -1439i32..=1439,
    ) {
        let local = t + i64::from(off) * 60;
        let (y, m, d) = civil_from_days(local.div_euclid(86_400));
        let secs = local.rem_euclid(86_400);
        let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let sign = if off < 0 { '-' } else { '+' };
        let zone = format!("{sign}{:02}{:02}", off.unsigned_abs() / 60, off.unsigned_abs() % 60);
        let go = format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.270951634 {zone} UTC");
        prop_assert_eq!(parse_rfc5322_date(&go), Some((t, off)), "{}", go);
        let (h12, marker) = match h {
            0 => (12, "AM"),
            1..=11 => (h, "AM"),
            12 => (12, "PM"),
            _ => (h - 12, "PM"),
        };
        let us = format!("{m}/{d}/{y} {h12}:{mi:02}:{s:02} {marker} {zone}");
        prop_assert_eq!(parse_rfc5322_date(&us), Some((t, off)), "{}", us);
    }
}

fn host() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9]{0,6}){1,2}\\.[a-z]{2,4}"
}

fn ip_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u16; 8]>().prop_map(IpAddr::from),
        // IPv4-mapped (`::ffff:a.b.c.d`), as a dual-stack listener reports IPv4 clients.
        any::<[u8; 4]>().prop_map(|o| IpAddr::V6(std::net::Ipv4Addr::from(o).to_ipv6_mapped())),
    ]
}

const PROTOCOLS: &[&str] = &[
    "SMTP",
    "ESMTP",
    "ESMTPS",
    "ESMTPA",
    "ESMTPSA",
    "LMTP",
    "LMTPA",
    "UTF8SMTPSA",
    "HTTP",
    "Microsoft SMTP Server",
];

prop_compose! {
    fn received()(
        from_host in prop::option::of(host()),
        from_rdns in prop::option::of(host()),
        from_ip in prop::option::of(ip_addr()),
        by_host in prop::option::of(host()),
        by_ip in prop::option::of(ip_addr()),
        via in prop::option::of(prop::sample::select(vec!["Frontend Transport", "smtpd", "HTTP"])),
        protocol in prop::option::of(prop::sample::select(PROTOCOLS.to_vec())),
        id in prop::option::of("[A-Za-z0-9][A-Za-z0-9.-]{3,20}"),
        for_addr in prop::option::of("[a-z]{1,10}@[a-z]{1,10}\\.example"),
        tls in prop::option::of((
            prop::option::of(prop::sample::select(vec!["TLSv1.3", "TLSv1.2", "TLS1_2"])),
            prop::option::of(prop::sample::select(vec!["TLS_AES_256_GCM_SHA384", "ECDHE-RSA-AES128-GCM-SHA256", "TLS_CHACHA20_POLY1305_SHA256"])),
        )),
        auth in prop::option::of(prop::option::of("[a-z]{1,8}(@[a-z]{1,8}\\.example)?")),
        date in prop::option::of((0i64..253_000_000_000, -1439i32..=1439)),
    ) -> Received {
        let auth_protocol = protocol.is_some_and(|p| p.ends_with("SA") || p.ends_with("PA"));
        let auth = if auth_protocol { Some(auth.flatten()) } else { auth };
        // A `by` address needs a `by` domain to hang on (RFC 5321 §4.4 By-domain).
        let by_ip = by_ip.filter(|_| by_host.is_some());
        Received {
            from_host,
            from_rdns,
            from_ip,
            by_host,
            by_ip,
            via: via.map(str::to_owned),
            protocol: protocol.map(str::to_owned),
            id,
            for_addr,
            tls: tls.map(|(version, cipher)| ReceivedTls {
                version: version.map(str::to_owned),
                cipher: cipher.map(str::to_owned),
            }),
            authenticated: auth.map(|user| ReceivedAuth { evidence: "Authenticated sender".into(), user }),
            timestamp: date.map(|d| d.0),
            tz_offset_minutes: date.map(|d| d.1),
            parse_error: None,
            raw: String::new(),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn written_headers_read_back_to_the_same_fields(r in received()) {
        let value = r.to_header_value();
        let back = Received::parse(&value);
        prop_assert_eq!(&back.from_host, &r.from_host, "{}", value);
        prop_assert_eq!(&back.from_rdns, &r.from_rdns, "{}", value);
        // An IPv4-mapped address is written and read as its IPv4 address (RFC 4291 §2.5.5.2).
        prop_assert_eq!(back.from_ip, r.from_ip.map(|ip| ip.to_canonical()), "{}", value);
        prop_assert_eq!(&back.by_host, &r.by_host, "{}", value);
        prop_assert_eq!(back.by_ip, r.by_ip.map(|ip| ip.to_canonical()), "{}", value);
        prop_assert_eq!(&back.via, &r.via, "{}", value);
        prop_assert_eq!(&back.protocol, &r.protocol, "{}", value);
        prop_assert_eq!(&back.id, &r.id, "{}", value);
        prop_assert_eq!(&back.for_addr, &r.for_addr, "{}", value);
        prop_assert_eq!(&back.tls, &r.tls, "{}", value);
        prop_assert_eq!(
            back.authenticated.as_ref().map(|a| &a.user),
            r.authenticated.as_ref().map(|a| &a.user),
            "{}", value
        );
        prop_assert_eq!(back.timestamp, r.timestamp, "{}", value);
        prop_assert_eq!(back.tz_offset_minutes, r.tz_offset_minutes, "{}", value);
        // Folded with CRLF + TAB only; no bare CR or LF.
        prop_assert!(!value.replace("\r\n\t", "").contains(['\r', '\n']), "{}", value);
    }
}

#[test]
fn writer_matches_the_postfix_layout() {
    let r = Received {
        from_host: Some("helo.example".into()),
        from_rdns: Some("rdns.example".into()),
        from_ip: "192.0.2.1".parse().ok(),
        by_host: Some("mx.example.test".into()),
        protocol: Some("ESMTPSA".into()),
        id: Some("4XgK2B1Zq9".into()),
        for_addr: Some("bob@example.test".into()),
        tls: Some(ReceivedTls {
            version: Some("TLSv1.3".into()),
            cipher: Some("TLS_AES_256_GCM_SHA384".into()),
        }),
        authenticated: Some(ReceivedAuth {
            evidence: "Authenticated sender".into(),
            user: Some("alice@example.test".into()),
        }),
        timestamp: Some(1_795_373_030),
        tz_offset_minutes: Some(0),
        ..Received::default()
    };
    assert_eq!(
        r.to_header_value(),
        "from helo.example (rdns.example [192.0.2.1])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\t(Authenticated sender: alice@example.test)\r\n\tby mx.example.test (mailward) with ESMTPSA id 4XgK2B1Zq9\r\n\tfor <bob@example.test>; Sun, 22 Nov 2026 18:43:50 +0000"
    );
}

#[test]
fn writer_neutralises_hostile_helo() {
    let r = Received {
        from_host: Some("evil\r\nBcc: x@example.com (by a.example; Mon".into()),
        from_ip: "198.51.100.1".parse().ok(),
        by_host: Some("mx.example".into()),
        protocol: Some("ESMTP".into()),
        timestamp: Some(0),
        tz_offset_minutes: Some(0),
        ..Received::default()
    };
    let v = r.to_header_value();
    assert!(!v.contains("\r\nBcc"), "{v}");
    let back = Received::parse(&v);
    assert_eq!(back.by_host.as_deref(), Some("mx.example"));
    assert_eq!(back.from_ip, r.from_ip);
    assert_eq!(back.timestamp, Some(0));
}

/// Fuzz finding: a HELO read as `from` was written as `from from (...)`, and the second
/// `from` restarted the clause, losing the client address on re-reading.
#[test]
fn writer_keeps_the_client_address_when_helo_is_a_keyword() {
    for helo in ["from", "BY", "with", "id", "for", "via"] {
        let r = Received {
            from_host: Some(helo.into()),
            from_ip: "10.128.128.81".parse().ok(),
            by_host: Some("mx.example".into()),
            timestamp: Some(1_000_000_000),
            tz_offset_minutes: Some(0),
            ..Received::default()
        };
        let back = Received::parse(&r.to_header_value());
        assert_eq!(back.from_ip, r.from_ip, "{helo}");
        assert_eq!(back.by_host.as_deref(), Some("mx.example"), "{helo}");
    }
}
