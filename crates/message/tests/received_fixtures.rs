//! Hand-written `Received:` values in the layouts each MTA writes, with the fields we must
//! read from them. Names and addresses are documentation values (RFC 2606, RFC 5737,
//! RFC 3849) or made up.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_message::Received;
use mailward_message::datetime::parse_rfc5322_date;
use std::net::IpAddr;

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().expect("test address"))
}

fn date(s: &str) -> Option<i64> {
    Some(parse_rfc5322_date(s).expect("test date").0)
}

fn tls(r: &Received) -> (Option<&str>, Option<&str>) {
    let t = r.tls.as_ref().expect("tls stated");
    (t.version.as_deref(), t.cipher.as_deref())
}

fn auth(r: &Received) -> (&str, Option<&str>) {
    let a = r.authenticated.as_ref().expect("authenticated");
    (a.evidence.as_str(), a.user.as_deref())
}

#[test]
fn postfix_with_tls_and_authenticated_sender() {
    let r = Received::parse(
        "from laptop.example.org (dsl-7.example.net [198.51.100.7])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n\t(No client certificate requested)\r\n\t(Authenticated sender: alice@example.org)\r\n\tby smtp.example.org (Postfix) with ESMTPSA id 4Rb0Kq2DzHz9sQ\r\n\tfor <bob@example.com>; Tue, 29 Aug 2023 18:20:10 +0200 (CEST)",
    );
    assert_eq!(r.from_host.as_deref(), Some("laptop.example.org"));
    assert_eq!(r.from_rdns.as_deref(), Some("dsl-7.example.net"));
    assert_eq!(r.from_ip, ip("198.51.100.7"));
    assert_eq!(r.by_host.as_deref(), Some("smtp.example.org"));
    assert_eq!(r.by_ip, None);
    assert_eq!(r.protocol.as_deref(), Some("ESMTPSA"));
    assert_eq!(r.id.as_deref(), Some("4Rb0Kq2DzHz9sQ"));
    assert_eq!(r.for_addr.as_deref(), Some("bob@example.com"));
    assert_eq!(tls(&r), (Some("TLSv1.3"), Some("TLS_AES_256_GCM_SHA384")));
    assert_eq!(
        auth(&r),
        ("Authenticated sender", Some("alice@example.org"))
    );
    assert_eq!(r.timestamp, date("Tue, 29 Aug 2023 16:20:10 +0000"));
    assert_eq!(r.tz_offset_minutes, Some(120));
    assert_eq!(r.parse_error, None);
}

#[test]
fn postfix_unknown_client_and_ipv6_literal() {
    let r = Received::parse(
        "from mail.example.com (unknown [IPv6:2001:db8:10::25])\r\n\tby mx.example.net (Postfix) with ESMTP id 3F2A1C0123\r\n\tfor <ops@example.net>; Mon, 4 Mar 2024 09:00:01 -0500 (EST)",
    );
    assert_eq!(r.from_host.as_deref(), Some("mail.example.com"));
    assert_eq!(r.from_rdns, None, "Postfix's `unknown` is no name");
    assert_eq!(r.from_ip, ip("2001:db8:10::25"));
    assert_eq!(r.tz_offset_minutes, Some(-300));
    assert_eq!(r.authenticated, None);
}

#[test]
fn sendmail_authenticated_bits_and_may_be_forged() {
    let r = Received::parse(
        "from workstation (host-12.example.net [203.0.113.12] (may be forged))\n\t(authenticated bits=0)\n\tby relay.example.edu (8.17.1/8.17.1) with ESMTP id 37TGK9xQ012345\n\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NO)\n\tfor <staff@example.edu>; Tue, 29 Aug 2023 12:20:10 -0400",
    );
    assert_eq!(r.from_host.as_deref(), Some("workstation"));
    assert_eq!(r.from_rdns.as_deref(), Some("host-12.example.net"));
    assert_eq!(r.from_ip, ip("203.0.113.12"));
    assert_eq!(r.by_host.as_deref(), Some("relay.example.edu"));
    assert_eq!(
        r.by_ip, None,
        "the Sendmail version 8.17.1 is not an address"
    );
    assert_eq!(r.id.as_deref(), Some("37TGK9xQ012345"));
    assert_eq!(tls(&r), (Some("TLSv1.3"), Some("TLS_AES_256_GCM_SHA384")));
    assert_eq!(auth(&r), ("authenticated", None));
}

#[test]
fn sendmail_ident_and_address_literal_helo() {
    let r = Received::parse(
        "from [192.168.1.20] (root@gw.example.net [198.51.100.40]) by mail.example.net (8.15.2/8.15.2) with ESMTP id x1AB2c3D004455; Thu, 1 Feb 2024 08:00:00 +0100",
    );
    assert_eq!(r.from_host.as_deref(), Some("[192.168.1.20]"));
    assert_eq!(r.from_rdns.as_deref(), Some("gw.example.net"));
    assert_eq!(
        r.from_ip,
        ip("198.51.100.40"),
        "the TCP-info address wins over the HELO literal"
    );
}

#[test]
fn exim_classic_and_long_ids() {
    let old = Received::parse(
        "from mx.example.org ([198.51.100.9] helo=smtp.example.org)\n\tby mail.example.com with esmtps (TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256)\n\t(Exim 4.92)\n\t(envelope-from <list@example.org>)\n\tid 1qXyZa-0001Ab-Cd\n\tfor user@example.com; Tue, 29 Aug 2023 17:20:10 +0100",
    );
    assert_eq!(old.from_host.as_deref(), Some("smtp.example.org"));
    assert_eq!(old.from_rdns.as_deref(), Some("mx.example.org"));
    assert_eq!(old.from_ip, ip("198.51.100.9"));
    assert_eq!(old.id.as_deref(), Some("1qXyZa-0001Ab-Cd"));
    assert_eq!(old.for_addr.as_deref(), Some("user@example.com"));
    assert_eq!(old.protocol_normalized(), Some("ESMTPS"));
    assert_eq!(
        tls(&old),
        (Some("TLS1.2"), Some("ECDHE_RSA_AES_256_GCM_SHA384"))
    );

    let new = Received::parse(
        "from [203.0.113.50] (port=51324 helo=[192.168.0.23])\n\tby server.example.net with esmtpsa  (TLS1.3) tls TLS_AES_256_GCM_SHA384\n\t(Exim 4.97.1)\n\t(envelope-from <carol@example.net>)\n\tid 1rAbCd-000000001Gh-2xYz\n\tfor dave@example.com;\n\tWed, 10 Jan 2024 11:12:13 +0000",
    );
    assert_eq!(new.from_host.as_deref(), Some("[192.168.0.23]"));
    assert_eq!(new.from_rdns, None);
    assert_eq!(new.from_ip, ip("203.0.113.50"));
    assert_eq!(new.id.as_deref(), Some("1rAbCd-000000001Gh-2xYz"));
    assert_eq!(new.protocol.as_deref(), Some("esmtpsa"));
    assert_eq!(tls(&new), (Some("TLS1.3"), Some("TLS_AES_256_GCM_SHA384")));
    assert_eq!(auth(&new), ("ESMTPSA", None));
    assert_eq!(new.timestamp, date("Wed, 10 Jan 2024 11:12:13 +0000"));
}

#[test]
fn exim_authenticated_comment_names_the_user() {
    let r = Received::parse(
        "from [198.51.100.77] (helo=laptop)\n\tby mail.example.org with esmtpa (Exim 4.96)\n\t(authenticated as erin@example.org)\n\t(envelope-from <erin@example.org>)\n\tid 1qZzZz-000Abc-9X; Tue, 29 Aug 2023 10:00:00 +0000",
    );
    assert_eq!(r.from_host.as_deref(), Some("laptop"));
    assert_eq!(r.from_ip, ip("198.51.100.77"));
    assert_eq!(auth(&r), ("authenticated", Some("erin@example.org")));
}

#[test]
fn qmail_forms() {
    let net = Received::parse(
        "from unknown (HELO relay.example.com) (198.51.100.3)\n  by mail.example.net with SMTP; 29 Aug 2023 16:20:10 -0000",
    );
    assert_eq!(net.from_host.as_deref(), Some("relay.example.com"));
    assert_eq!(net.from_rdns, None);
    assert_eq!(net.from_ip, ip("198.51.100.3"));
    assert_eq!(net.by_host.as_deref(), Some("mail.example.net"));
    assert_eq!(net.tz_offset_minutes, Some(0));

    let ident = Received::parse(
        "from host.example.com (EHLO client.example.com) (frank@[203.0.113.8])\n  by mx.example.net with SMTP; 29 Aug 2023 16:20:10 -0000",
    );
    assert_eq!(ident.from_host.as_deref(), Some("client.example.com"));
    assert_eq!(ident.from_rdns.as_deref(), Some("host.example.com"));
    assert_eq!(ident.from_ip, ip("203.0.113.8"));

    for local in [
        "(qmail 1234 invoked by uid 0); 29 Aug 2023 16:20:10 -0000",
        "(qmail invoked from network); 29 Aug 2023 16:20:10 -0000",
    ] {
        let r = Received::parse(local);
        assert_eq!(
            (r.from_host.as_deref(), r.by_host.as_deref(), r.from_ip),
            (None, None, None)
        );
        assert_eq!(r.timestamp, date("29 Aug 2023 16:20:10 +0000"));
        assert_eq!(r.parse_error, None, "{local}");
    }
}

#[test]
fn microsoft_365_parenthesised_ipv6_and_version_id() {
    let r = Received::parse(
        "from AM6PR04MB1234.eurprd04.prod.outlook.com (2603:10a6:20b:5e::12) by\r\n AM0PR04MB5678.eurprd04.prod.outlook.com (2603:10a6:208:16c::19) with\r\n Microsoft SMTP Server (version=TLS1_2,\r\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.5438.12 via Frontend\r\n Transport; Tue, 29 Aug 2023 16:20:10 +0000",
    );
    assert_eq!(
        r.from_host.as_deref(),
        Some("AM6PR04MB1234.eurprd04.prod.outlook.com")
    );
    assert_eq!(r.from_ip, ip("2603:10a6:20b:5e::12"));
    assert_eq!(
        r.by_host.as_deref(),
        Some("AM0PR04MB5678.eurprd04.prod.outlook.com")
    );
    assert_eq!(r.by_ip, ip("2603:10a6:208:16c::19"));
    assert_eq!(r.protocol.as_deref(), Some("Microsoft SMTP Server"));
    assert_eq!(r.via.as_deref(), Some("Frontend Transport"));
    assert_eq!(r.id.as_deref(), Some("15.20.5438.12"));
    assert_eq!(
        tls(&r),
        (
            Some("TLS1_2"),
            Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        )
    );
    assert_eq!(r.timestamp, date("Tue, 29 Aug 2023 16:20:10 +0000"));
}

#[test]
fn exchange_ipv4_and_mapi() {
    let r = Received::parse(
        "from EXCH01.corp.example.com (10.1.2.3) by EXCH02.corp.example.com (10.1.2.4)\r\n with Microsoft SMTP Server (TLS) id 14.3.498.0; Mon, 5 Jun 2023 10:17:08 +0200",
    );
    assert_eq!(r.from_ip, ip("10.1.2.3"));
    assert_eq!(r.by_ip, ip("10.1.2.4"));
    assert_eq!(r.id.as_deref(), Some("14.3.498.0"));
    assert_eq!(tls(&r), (None, None));

    let mapi = Received::parse(
        "from AM5PR0402MB2836.eurprd04.prod.outlook.com ([fe80::19bd:c588:dd17:5226]) by\r\n AM5PR0402MB2836.eurprd04.prod.outlook.com ([fe80::19bd:c588:dd17:5226%6]) with\r\n mapi id 15.20.1943.023; Wed, 5 Jun 2019 10:17:08 +0000",
    );
    assert_eq!(mapi.from_ip, ip("fe80::19bd:c588:dd17:5226"));
    assert_eq!(mapi.by_ip, ip("fe80::19bd:c588:dd17:5226"));
    assert_eq!(mapi.id.as_deref(), Some("15.20.1943.023"));
    assert_eq!(auth(&mapi), ("MAPI", None));
}

#[test]
fn never_an_ip_from_an_id_or_a_version() {
    for h in [
        "by mx.example.com with SMTP id 192.0.2.55; Tue, 29 Aug 2023 16:20:10 +0000",
        "from a.example (a.example) by b.example with ESMTP id 10.0.0.1.1234 for <x@example.com>; Tue, 29 Aug 2023 16:20:10 +0000",
        "from c.example by d.example (8.14.7/8.14.7) with SMTP id <198.51.100.1@d.example>; Tue, 29 Aug 2023 16:20:10 +0000",
        "from e.example by f.example via smtpd (for [203.0.113.9]) with ESMTP; Tue, 29 Aug 2023 16:20:10 +0000",
        "from g.example by h.example with Microsoft SMTPSVC(6.0.3790.4675); Tue, 29 Aug 2023 16:20:10 +0000",
    ] {
        let r = Received::parse(h);
        assert_eq!((r.from_ip, r.by_ip), (None, None), "{h}");
    }
}

#[test]
fn gmail_external_and_internal_hops() {
    let ext = Received::parse(
        "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\r\n        by mx.google.com with SMTPS id abc.123.2023.08.29.09.20.10\r\n        for <x@example.com>\r\n        (Google Transport Security);\r\n        Tue, 29 Aug 2023 09:20:10 -0700 (PDT)",
    );
    assert_eq!(ext.from_host.as_deref(), Some("mail-sor-f41.google.com"));
    assert_eq!(ext.from_rdns.as_deref(), Some("mail-sor-f41.google.com"));
    assert_eq!(ext.from_ip, ip("209.85.220.41"));
    assert_eq!(ext.id.as_deref(), Some("abc.123.2023.08.29.09.20.10"));
    assert_eq!(ext.for_addr.as_deref(), Some("x@example.com"));
    assert_eq!(ext.protocol.as_deref(), Some("SMTPS"));
    assert_eq!(ext.tls, None);

    let int = Received::parse(
        "by 2002:a05:6a10:b0c2:b0:4a2:1a3b:5c6d with SMTP id b2csp123456pxb;\r\n        Tue, 29 Aug 2023 09:20:11 -0700 (PDT)",
    );
    assert_eq!(
        int.by_host.as_deref(),
        Some("2002:a05:6a10:b0c2:b0:4a2:1a3b:5c6d")
    );
    assert_eq!(int.by_ip, ip("2002:a05:6a10:b0c2:b0:4a2:1a3b:5c6d"));
    assert_eq!(int.id.as_deref(), Some("b2csp123456pxb"));
    assert_eq!(int.from_ip, None);

    let sub = Received::parse(
        "from [192.168.1.10] ([198.51.100.20])\r\n        by smtp.gmail.com with ESMTPSA id z3-2002.1.2023.08.29\r\n        for <y@example.com>\r\n        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\r\n        Tue, 29 Aug 2023 09:20:09 -0700 (PDT)",
    );
    assert_eq!(sub.from_host.as_deref(), Some("[192.168.1.10]"));
    assert_eq!(sub.from_ip, ip("198.51.100.20"));
    assert_eq!(tls(&sub), (Some("TLS1_3"), Some("TLS_AES_256_GCM_SHA384")));
    assert_eq!(auth(&sub), ("ESMTPSA", None));
}

#[test]
fn yahoo_amazon_ses_and_sendgrid() {
    let y = Received::parse(
        "from 198.51.100.66 (EHLO [10.0.0.5]) ([198.51.100.66])\r\n  by smtp417.mail.ir2.yahoo.com with ESMTPA; Tue, 29 Aug 2023 16:20:10 +0000",
    );
    assert_eq!(y.from_host.as_deref(), Some("[10.0.0.5]"));
    assert_eq!(y.from_ip, ip("198.51.100.66"));
    assert_eq!(auth(&y), ("ESMTPA", None));

    let ses = Received::parse(
        "from a8-30.smtp-out.amazonses.com (a8-30.smtp-out.amazonses.com [54.240.8.30])\r\n\tby mx.example.net (Postfix) with ESMTPS id 4RbXyz1abcz2xyZ\r\n\tfor <z@example.net>; Tue, 29 Aug 2023 16:20:10 +0000 (UTC)",
    );
    assert_eq!(
        ses.from_host.as_deref(),
        Some("a8-30.smtp-out.amazonses.com")
    );
    assert_eq!(
        ses.from_rdns.as_deref(),
        Some("a8-30.smtp-out.amazonses.com")
    );
    assert_eq!(ses.from_ip, ip("54.240.8.30"));

    let sg = Received::parse(
        "by filter0001p1las1.sendgrid.net with SMTP id abc-DEF_123 Tue, 29 Aug 2023 16:20:10 +0000 (UTC)",
    );
    assert_eq!(sg.by_host.as_deref(), Some("filter0001p1las1.sendgrid.net"));
    assert_eq!(sg.id.as_deref(), Some("abc-DEF_123"));
    assert_eq!(sg.timestamp, date("Tue, 29 Aug 2023 16:20:10 +0000"));
    assert_eq!(sg.parse_error, None);
}

#[test]
fn bracket_forms_ports_and_helo_comments() {
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        (
            "from x.example ([IPv6:2001:db8::1]) by y.example; 1 Jan 2024 00:00:00 +0000",
            Some("x.example"),
            Some("2001:db8::1"),
        ),
        (
            "from x.example ([2001:db8::1]) by y.example; 1 Jan 2024 00:00:00 +0000",
            Some("x.example"),
            Some("2001:db8::1"),
        ),
        (
            "from x.example (2001:db8::1) by y.example; 1 Jan 2024 00:00:00 +0000",
            Some("x.example"),
            Some("2001:db8::1"),
        ),
        (
            "from [192.0.2.1] (helo=x.example) by y.example; 1 Jan 2024 00:00:00 +0000",
            Some("x.example"),
            Some("192.0.2.1"),
        ),
        (
            "from r.example (HELO x.example) (192.0.2.1) by y.example; 1 Jan 2024 00:00:00 +0000",
            Some("x.example"),
            Some("192.0.2.1"),
        ),
        (
            "from r.example (EHLO x.example) [192.0.2.1] by y.example; 1 Jan 2024 00:00:00 +0000",
            Some("x.example"),
            Some("192.0.2.1"),
        ),
        (
            "from x.example (ident@r.example [192.0.2.1]) by y.example; 1 Jan 2024 00:00:00 +0000",
            Some("x.example"),
            Some("192.0.2.1"),
        ),
        (
            "from x.example (r.example [192.0.2.1] (may be forged)) by y.example; 1 Jan 2024 00:00:00 +0000",
            Some("x.example"),
            Some("192.0.2.1"),
        ),
        (
            "from x.example ([192.0.2.1]:5678 port=5678) by y.example; 1 Jan 2024 00:00:00 +0000",
            Some("x.example"),
            Some("192.0.2.1"),
        ),
        (
            "from [192.0.2.1]:5678 (port=1234) by y.example; 1 Jan 2024 00:00:00 +0000",
            Some("[192.0.2.1]"),
            Some("192.0.2.1"),
        ),
    ];
    for (h, host, addr) in cases {
        let r = Received::parse(h);
        assert_eq!(r.from_host.as_deref(), *host, "{h}");
        assert_eq!(r.from_ip, addr.and_then(ip), "{h}");
        assert_eq!(r.by_host.as_deref(), Some("y.example"), "{h}");
    }
}

#[test]
fn other_authentication_forms() {
    let courier = Received::parse(
        "from client.example ([198.51.100.4])\n  (AUTH: PLAIN grace@example.com, TLS: TLSv1.3,256bits,TLS_AES_256_GCM_SHA384)\n  by mail.example.com with ESMTPSA; Tue, 29 Aug 2023 16:20:10 +0000",
    );
    assert_eq!(auth(&courier), ("AUTH", Some("grace@example.com")));
    assert_eq!(
        tls(&courier),
        (Some("TLSv1.3"), Some("TLS_AES_256_GCM_SHA384"))
    );

    let pass = Received::parse(
        "from host.example (host.example [198.51.100.5]) (auth=pass smtp.auth=heidi@example.com)\n  by relay.example.com with ESMTP id Q1; Tue, 29 Aug 2023 16:20:10 +0000",
    );
    assert_eq!(auth(&pass), ("auth=pass", Some("heidi@example.com")));

    let lmtp = Received::parse("from a.example by b.example with LMTPA; 1 Jan 2024 00:00:00 +0000");
    assert_eq!(auth(&lmtp), ("LMTPA", None));
    let utf8 = Received::parse(
        "from a.example by b.example with UTF8SMTPSA id X; 1 Jan 2024 00:00:00 +0000",
    );
    assert_eq!(auth(&utf8), ("UTF8SMTPSA", None));
    let plain =
        Received::parse("from a.example by b.example with ESMTPS id X; 1 Jan 2024 00:00:00 +0000");
    assert_eq!(plain.authenticated, None);
}

#[test]
fn obsolete_and_broken_dates() {
    let d = |h: &str| {
        let r = Received::parse(h);
        (r.timestamp, r.tz_offset_minutes, r.parse_error.is_some())
    };
    let t = date("Tue, 29 Aug 2023 16:20:10 +0000");
    assert_eq!(
        d("by x.example; 29 Aug 2023 16:20:10 +0000"),
        (t, Some(0), false)
    );
    assert_eq!(
        d("by x.example; Tue, 29 Aug 23 09:20:10 PDT"),
        (t, Some(-420), false)
    );
    assert_eq!(
        d("by x.example; Tue, 29 Aug 2023 16:20:10 GMT"),
        (t, Some(0), false)
    );
    assert_eq!(
        d("by x.example; Tue, 29 Aug 2023 16:20:10 UT"),
        (t, Some(0), false)
    );
    assert_eq!(
        d("by x.example; Tue, 29 Aug 2023 16:20:10 Z"),
        (t, Some(0), false)
    );
    assert_eq!(
        d("by x.example; Tue, 29 Aug 2023 11:20:10 EST"),
        (t, Some(-300), false)
    );
    assert_eq!(
        d("by x.example; Tue, 29 Aug 2023 10:20:10 MDT"),
        (t, Some(-360), false)
    );
    assert_eq!(
        d("by x.example; Tue, 29 Aug 2023 16:20:10 -0000"),
        (t, Some(0), false)
    );
    assert_eq!(
        d("by x.example; Tue, 29 Aug 2023 09:20:10 -0700 (PDT)"),
        (t, Some(-420), false)
    );
    for bad in [
        "by x.example; Tue, 32 Aug 2023 16:20:10 +0000",
        "by x.example; Tue, 29 Aug 2023 25:20:10 +0000",
        "by x.example; Tue, 29 Aug 2023 16:20:10 +9999",
        "by x.example; Tue, 29 Aug 99999999999999999999 16:20:10 +0000",
        "by x.example; yesterday",
        "by x.example;",
        "by x.example",
    ] {
        let (ts, off, err) = d(bad);
        assert_eq!((ts, off), (None, None), "{bad}");
        assert!(err, "a note is left for {bad}");
    }
}

#[test]
fn garbage_is_noted_not_fatal() {
    for h in [
        "",
        ";;;",
        "(((",
        "hello world",
        "from",
        "by ;",
        "\u{0}\u{fffd}(é[",
        "from [ by ( with",
    ] {
        let r = Received::parse(h);
        assert_eq!(r.raw, h);
        assert!(r.parse_error.is_some(), "{h:?}");
    }
}

/// Issue 11: a dual-stack listener writes an IPv4 client as `::ffff:a.b.c.d`; the tracer
/// reported `from_ip` `::ffff:218.11.152.141` where every other tool says `218.11.152.141`.
#[test]
fn regress_ipv4_mapped_client_address_is_read_as_ipv4() {
    // Courier-style TCP-info comment, a qmail-style bare address, and a `by` literal.
    let courier = Received::parse(
        "from mail.example.net (mail.example.net [::ffff:218.11.152.141])\r\n  (AUTH: LOGIN alice, TLS: TLSv1/SSLv3,256bits,AES256-SHA)\r\n  by mx.example.org with ESMTPSA; Tue, 20 Mar 2018 08:14:37 +0100\r\n  id 00000000001A2B3C.5AB0B4BD.00004C1E",
    );
    assert_eq!(courier.from_ip, ip("218.11.152.141"));
    assert_eq!(courier.from_rdns.as_deref(), Some("mail.example.net"));

    let qmail = Received::parse(
        "from unknown (HELO relay.example.com) (::ffff:218.11.152.141)\r\n  by mail.example.net with SMTP; 20 Mar 2018 07:14:37 -0000",
    );
    assert_eq!(qmail.from_ip, ip("218.11.152.141"));
    assert_eq!(qmail.from_host.as_deref(), Some("relay.example.com"));

    let literal = Received::parse(
        "from [IPv6:::ffff:198.51.100.7] (port=50000 helo=[IPv6:::ffff:198.51.100.7])\r\n\tby mx.example.org ([::ffff:192.0.2.25]) with esmtp id 1rAbCd-0001\r\n\tfor a@example.org; Tue, 20 Mar 2018 07:14:37 +0000",
    );
    assert_eq!(literal.from_ip, ip("198.51.100.7"));
    assert_eq!(literal.by_ip, ip("192.0.2.25"));

    // Written back, the address is the IPv4 one and reads back the same.
    let again = Received::parse(&courier.to_header_value());
    assert_eq!(again.from_ip, ip("218.11.152.141"));
    assert!(courier.to_header_value().contains("[218.11.152.141]"));

    // Real IPv6 clients stay IPv6.
    let v6 = Received::parse(
        "from mail.example.com (mail.example.com [IPv6:2001:db8::25]) by mx.example.org with ESMTPS; Tue, 20 Mar 2018 07:14:37 +0000",
    );
    assert_eq!(v6.from_ip, ip("2001:db8::25"));
}

/// Issue 11: dates real MTAs write outside RFC 5322 left the hop with no time (and so no
/// delay). Each layout in a whole header, as the MTA writes it.
#[test]
fn regress_received_dates_outside_rfc5322_give_the_hop_a_time() {
    // SendGrid's filter hosts: Go's default time format, and no `;` before it.
    let sg = Received::parse(
        "by filter0225p1mdw1.sendgrid.net with SMTP id filter0225p1mdw1-13879-5AB8F6F8-1\r\n        2018-03-26 13:35:36.270951634 +0000 UTC",
    );
    assert_eq!(sg.timestamp, date("Mon, 26 Mar 2018 13:35:36 +0000"));
    assert_eq!(sg.tz_offset_minutes, Some(0));
    assert_eq!(sg.id.as_deref(), Some("filter0225p1mdw1-13879-5AB8F6F8-1"));
    assert_eq!(sg.parse_error, None);
    // The same with a `;`.
    let sg = Received::parse(
        "from example.net (unknown [198.51.100.7]) by ismtpd0001p1iad2.sendgrid.net (SG) with ESMTP id abcDEF123; 2018-03-26 13:35:36.270951634 +0000 UTC",
    );
    assert_eq!(sg.timestamp, date("Mon, 26 Mar 2018 13:35:36 +0000"));
    assert_eq!(sg.protocol.as_deref(), Some("ESMTP"));

    let cases = [
        (
            "from mail.example.com ([198.51.100.7]) by mx.example.net with ESMTP; Apr 21 2018 03:01:04 +0000",
            "Sat, 21 Apr 2018 03:01:04 +0000",
            0,
        ),
        (
            "from mail.example.com ([198.51.100.7]) by mx.example.net with ESMTP; 4/20/2018 23:01:06 -0400 (EDT)",
            "Fri, 20 Apr 2018 23:01:06 -0400",
            -240,
        ),
        (
            "from mail.example.com ([198.51.100.7]) by mx.example.net with ESMTP id 7E2A; 4/20/2018 11:01:16 PM -0400",
            "Fri, 20 Apr 2018 23:01:16 -0400",
            -240,
        ),
    ];
    for (header, want, offset) in cases {
        let r = Received::parse(header);
        assert_eq!(r.timestamp, date(want), "{header}");
        assert_eq!(r.tz_offset_minutes, Some(offset), "{header}");
        assert_eq!(r.parse_error, None, "{header}");
        assert_eq!(r.from_ip, ip("198.51.100.7"), "{header}");
    }
}
