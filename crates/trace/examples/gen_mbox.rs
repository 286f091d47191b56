//! Writes a large synthetic mbox for benchmarking `mailward trace`.
//!
//! `cargo run --release -p mailward-trace --example gen_mbox -- OUT.mbox [COUNT]`
//!
//! Messages imitate the header chains of Gmail, Microsoft 365, Postfix, Exim and Amazon SES
//! senders (plus some forged chains), with Authentication-Results, DKIM-Signature and
//! ARC headers, varied body sizes and mboxrd-quoted `>From ` body lines. A fixed-seed
//! generator makes the file identical on every run.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};

/// xorshift64*: small, fast, deterministic; quality is irrelevant here.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items
            .get(self.below(items.len() as u64) as usize)
            .copied()
            .unwrap_or("")
    }
    fn ip(&mut self, prefixes: &[&str]) -> String {
        let mut ip = self.pick(prefixes).to_string();
        for _ in ip.matches('.').count()..3 {
            let _ = write!(ip, ".{}", self.below(254) + 1);
        }
        ip
    }
    fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let _ = write!(s, "{:016X}", self.next());
        }
        s.truncate(len);
        s
    }
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const USERS: [&str; 8] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
];
const DOMAINS: [&str; 8] = [
    "example.com",
    "example.org",
    "example.net",
    "shop.example",
    "news.example",
    "bank.example",
    "corp.example",
    "mail.example",
];
const SUBJECTS: [&str; 8] = [
    "Quarterly report",
    "Re: lunch?",
    "Your invoice #{n}",
    "Password reset",
    "Meeting notes",
    "=?UTF-8?B?w4RydGVyIMO8YmVyIFLDpHVtZQ==?=",
    "Shipping update {n}",
    "URGENT: verify account",
];

/// RFC 5322 date for `t` (Unix seconds), with a zone offset.
fn date(t: i64, offset_minutes: i64) -> String {
    let local = t + offset_minutes * 60;
    let days = local.div_euclid(86400);
    let secs = local.rem_euclid(86400);
    // Civil-from-days (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let wd = DAYS[(days + 3).rem_euclid(7) as usize];
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.abs();
    format!(
        "{wd}, {d} {} {y} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

fn received_postfix(
    from: &str,
    ip: &str,
    by: &str,
    id: &str,
    tls: bool,
    rcpt: &str,
    t: i64,
) -> String {
    let tls = if tls {
        "\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n\t key-exchange X25519 server-signature RSA-PSS (2048 bits))"
    } else {
        ""
    };
    format!(
        "Received: from {from} ({from} [{ip}]){tls}\n\tby {by} (Postfix) with ESMTP{} id {id}\n\tfor <{rcpt}>; {}\n",
        if tls.is_empty() { "" } else { "S" },
        date(t, 0)
    )
}

fn message(rng: &mut Rng, n: u64, out: &mut String) {
    let t = 1_704_067_200 + (n as i64) * 37 + rng.below(3600) as i64;
    let user = rng.pick(&USERS);
    let domain = rng.pick(&DOMAINS);
    let rcpt_user = rng.pick(&USERS);
    let rcpt = format!("{rcpt_user}@corp.example");
    let subject = rng.pick(&SUBJECTS).replace("{n}", &n.to_string());
    let mid = format!("<{}.{n}@{domain}>", rng.hex(16));
    let kind = rng.below(6);
    let mut h = String::with_capacity(4096);
    let inbound_ip = rng.ip(&["203.0.113", "81.2.69", "89.160.20", "216.160.83"]);
    let mx_id = rng.hex(10);
    let mut from_addr = format!("{user}@{domain}");
    let mut auth = "spf=pass smtp.mailfrom={domain}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}".to_string();
    match kind {
        0 => {
            // Gmail.
            from_addr = format!("{user}.{}@gmail.com", rng.below(999));
            let gip = rng.ip(&["209.85", "74.125"]);
            let _ = write!(
                h,
                "Received: from mail-{}.google.com (mail-{0}.google.com [{gip}])\n\tby mx.corp.example (Postfix) with ESMTPS id {mx_id}\n\tfor <{rcpt}>; {}\n\
                 Received: by mail-{0}.google.com with SMTP id {}so{}.{};\n        {}\n\
                 X-Google-DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=1e100.net; s=20230601; t={}; bh={}=; b={}\n\
                 X-Gm-Message-State: {}\n\
                 Received: from [192.168.1.{}] ([{}])\n\tby smtp.gmail.com with ESMTPSA id {};\n        {}\n",
                rng.hex(6).to_lowercase(),
                date(t + 2, 0),
                rng.hex(6).to_lowercase(),
                rng.below(99999),
                rng.below(9),
                date(t + 1, -480),
                t,
                rng.hex(43),
                rng.hex(120),
                rng.hex(60),
                rng.below(250) + 2,
                rng.ip(&["81.2.69", "1.128", "89.160.20"]),
                rng.hex(12).to_lowercase(),
                date(t, -480),
            );
            auth = "spf=pass (google.com: domain of sender designates ip as permitted sender) smtp.mailfrom=gmail.com; dkim=pass header.d=gmail.com; dmarc=pass (p=NONE) header.from=gmail.com".into();
        }
        1 => {
            // Microsoft 365.
            let oip = rng.ip(&["40.107", "52.100"]);
            let _ = write!(
                h,
                "Received: from EUR05-AM6-obe.outbound.protection.outlook.com ({oip})\n\tby mx.corp.example (Postfix) with ESMTPS id {mx_id}\n\tfor <{rcpt}>; {}\n\
                 Received: from AM0PR07MB{}.eurprd07.prod.outlook.com\n (2603:10a6:208:15d::{:x}) by DB9PR07MB{}.eurprd07.prod.outlook.com\n (2603:10a6:10:2b6::{:x}) with Microsoft SMTP Server (version=TLS1_2,\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.{}.{}; {}\n\
                 X-MS-Exchange-Organization-AuthAs: Internal\n\
                 X-MS-Exchange-CrossTenant-Id: {}\n\
                 X-Originating-IP: [{}]\n",
                date(t + 3, 0),
                rng.below(9999),
                rng.below(65535),
                rng.below(9999),
                rng.below(65535),
                rng.below(9999),
                rng.below(99),
                date(t + 1, 0),
                rng.hex(32).to_lowercase(),
                rng.ip(&["81.2.69", "2.125.160"]),
            );
        }
        2 => {
            // Postfix relay chain with submission.
            let relay = format!("smtp.{domain}");
            let _ = write!(
                h,
                "{}{}",
                received_postfix(
                    &relay,
                    &inbound_ip,
                    "mx.corp.example",
                    &mx_id,
                    true,
                    &rcpt,
                    t + 4
                ),
                format_args!(
                    "Received: from [10.0.{}.{}] (unknown [{}])\n\t(Authenticated sender: {user}@{domain})\n\tby {relay} (Postfix) with ESMTPSA id {};\n\t{}\n",
                    rng.below(255),
                    rng.below(255),
                    rng.ip(&["81.2.69", "89.160.20"]),
                    rng.hex(10),
                    date(t, 60)
                ),
            );
        }
        3 => {
            // Exim.
            let _ = write!(
                h,
                "Received: from mail.{domain} ([{inbound_ip}]:{})\n\tby mx.corp.example with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\n\t(Exim 4.97)\n\t(envelope-from <{user}@{domain}>)\n\tid 1r{}-00{}-AB\n\tfor {rcpt};\n\t{}\n\
                 Received: from [127.0.0.1] (helo=localhost)\n\tby mail.{domain} with esmtpa (Exim 4.96)\n\tid 1r{}-000{}-Q1;\n\t{}\n",
                rng.below(60000) + 1024,
                rng.hex(5),
                rng.below(999),
                date(t + 2, 0),
                rng.hex(5),
                rng.below(9),
                date(t, 0),
            );
        }
        4 => {
            // Amazon SES.
            let sip = rng.ip(&["54.240", "23.251"]);
            let _ = write!(
                h,
                "Received: from a{}-{}.smtp-out.amazonses.com (a{0}-{1}.smtp-out.amazonses.com [{sip}])\n\tby mx.corp.example (Postfix) with ESMTPS id {mx_id}\n\tfor <{rcpt}>; {}\n\
                 Feedback-ID: 1.us-east-1.{}=:AmazonSES\n\
                 X-SES-Outgoing: 2024.01.01-{sip}\n",
                rng.below(99),
                rng.below(99),
                date(t + 1, 0),
                rng.hex(40),
            );
            from_addr = format!("no-reply@{domain}");
            auth = format!(
                "spf=pass smtp.mailfrom=amazonses.com; dkim=pass header.d={domain}; dkim=pass header.d=amazonses.com; dmarc=pass header.from={domain}"
            );
        }
        _ => {
            // Forged chain: a fake "trusted" hop below the real one, odd clock, failing auth.
            let _ = write!(
                h,
                "{}Received: from mail.bank.example (mail.bank.example [10.1.1.1])\n\tby relay.bank.example with ESMTP id FAKE{}; {}\n",
                received_postfix(
                    "bank-secure.example",
                    &rng.ip(&["1.128", "12.81.92"]),
                    "mx.corp.example",
                    &mx_id,
                    false,
                    &rcpt,
                    t
                ),
                rng.below(999),
                date(t + 7200, 0),
            );
            from_addr = "security@bank.example".into();
            auth = "spf=fail smtp.mailfrom=bank-secure.example; dkim=none; dmarc=fail (p=REJECT) header.from=bank.example".into();
        }
    }
    let auth = auth.replace("{domain}", domain);
    let _ = write!(
        out,
        "From {from_addr} {}\n\
         Return-Path: <{from_addr}>\n\
         Delivered-To: {rcpt}\n\
         Authentication-Results: mx.corp.example;\n\t{auth}\n\
         {h}\
         DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=s{};\n\tt={t}; h=from:to:subject:date:message-id;\n\tbh={}=;\n\tb={}\n\t {}\n\
         From: {} <{from_addr}>\n\
         To: <{rcpt}>\n\
         Subject: {subject}\n\
         Date: {}\n\
         Message-ID: {mid}\n\
         MIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\n\
         \n",
        date(t, 0).replace(',', ""),
        rng.below(2024),
        rng.hex(43),
        rng.hex(76),
        rng.hex(100),
        user,
        date(t, if kind == 0 { -480 } else { 60 }),
    );
    let lines = 4 + rng.below(40);
    for i in 0..lines {
        if i == 2 && rng.below(8) == 0 {
            out.push_str(">From the desk of the sender, a quoted line.\n");
        }
        let _ = writeln!(
            out,
            "Line {i} of a plausible body with some words {} and more text to fill.",
            rng.hex(12)
        );
    }
    out.push('\n');
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: gen_mbox OUT.mbox [COUNT]");
        std::process::exit(2);
    };
    let count: u64 = args.next().and_then(|c| c.parse().ok()).unwrap_or(100_000);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut buf = String::with_capacity(16 << 10);
    for n in 0..count {
        buf.clear();
        message(&mut rng, n, &mut buf);
        out.write_all(buf.as_bytes())?;
    }
    out.flush()
}
