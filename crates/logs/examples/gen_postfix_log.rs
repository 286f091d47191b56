//! Generates a large, realistic Postfix log for benchmarks: `gen_postfix_log LINES > mail.log`.
//!
//! The mix per message follows a busy inbound MX: postscreen and smtpd connection chatter,
//! `client=`, cleanup `message-id=`, qmgr `from=`, deliveries (local virtual, LMTP, remote
//! SMTP, some through a content filter that re-injects), deferrals with retries, bounces with
//! their notification, `removed`; between messages NOQUEUE rejects and SASL brute-force noise.
//! Deterministic (a fixed-seed xorshift), timestamps advance about 20 ms per line from
//! January 1st of the current year.

use std::io::{BufWriter, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [u64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

struct Gen<W: Write> {
    out: W,
    rng: Rng,
    ms: u64,
    lines: u64,
    qid: u64,
    pid: u64,
}

impl<W: Write> Gen<W> {
    fn stamp(&mut self) -> String {
        self.ms += 5 + self.rng.below(30);
        let mut secs = self.ms / 1000;
        let mut day = secs / 86_400;
        secs %= 86_400;
        let mut m = 0;
        while m < 11 && day >= DAYS[m] {
            day -= DAYS[m];
            m += 1;
        }
        format!(
            "{} {:>2} {:02}:{:02}:{:02}",
            MONTHS[m],
            day + 1,
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }

    fn line(&mut self, daemon: &str, msg: &str) -> std::io::Result<()> {
        let st = self.stamp();
        self.lines += 1;
        let pid = 1000 + self.pid % 5000;
        writeln!(self.out, "{st} mx1 postfix/{daemon}[{pid}]: {msg}")
    }

    fn new_qid(&mut self) -> String {
        self.qid += 1 + self.rng.below(7);
        format!("{:X}", 0x4A000000 + self.qid * 131)
    }

    fn message(&mut self) -> std::io::Result<()> {
        self.pid = self.rng.next();
        let a = self.rng.below(200) + 1;
        let b = self.rng.below(250) + 1;
        let ip = format!("198.{}.{}.{}", 18 + self.rng.below(2), a, b);
        let host = if self.rng.below(3) == 0 {
            "unknown".to_owned()
        } else {
            format!("mail{a}.sender{b}.example")
        };
        let port = 40000 + self.rng.below(20000);
        self.line(
            "postscreen",
            &format!("CONNECT from [{ip}]:{port} to [192.0.2.25]:25"),
        )?;
        self.line("postscreen", &format!("PASS OLD [{ip}]:{port}"))?;
        self.line("smtpd", &format!("connect from {host}[{ip}]"))?;
        let q = self.new_qid();
        let sasl = if self.rng.below(10) == 0 {
            format!(", sasl_method=PLAIN, sasl_username=user{a}@example.test")
        } else {
            String::new()
        };
        self.line("smtpd", &format!("{q}: client={host}[{ip}]{sasl}"))?;
        let n = self.rng.below(4);
        self.line(
            "cleanup",
            &format!("{q}: message-id=<{}.{}@sender{b}.example>", self.ms, n),
        )?;
        let size = 1500 + self.rng.below(80_000);
        let nrcpt = 1 + self.rng.below(3);
        let from = format!("news{}@sender{b}.example", self.rng.below(50));
        self.line(
            "qmgr",
            &format!("{q}: from=<{from}>, size={size}, nrcpt={nrcpt} (queue active)"),
        )?;
        self.line(
            "smtpd",
            &format!(
                "disconnect from {host}[{ip}] ehlo=1 mail=1 rcpt={nrcpt} data=1 quit=1 commands={}",
                4 + nrcpt
            ),
        )?;
        let filtered = self.rng.below(4) == 0;
        let mut final_q = q.clone();
        if filtered {
            // Content filter on 10025, re-injected on 10026 as a new queue ID.
            let q2 = self.new_qid();
            self.line("smtpd", "connect from localhost[127.0.0.1]")?;
            self.line("smtpd", &format!("{q2}: client=localhost[127.0.0.1]"))?;
            self.line(
                "cleanup",
                &format!("{q2}: message-id=<{}.{}@sender{b}.example>", self.ms, n),
            )?;
            self.line(
                "qmgr",
                &format!(
                    "{q2}: from=<{from}>, size={}, nrcpt={nrcpt} (queue active)",
                    size + 700
                ),
            )?;
            for r in 0..nrcpt {
                let (x, y) = (self.rng.below(9), self.rng.below(9));
                self.line("smtp", &format!("{q}: to=<user{}@example.test>, relay=127.0.0.1[127.0.0.1]:10025, delay=0.{x}, delays=0.1/0/0/0.{y}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {q2})", r + a))?;
            }
            self.line("qmgr", &format!("{q}: removed"))?;
            self.line("smtpd", "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")?;
            final_q = q2;
        }
        for r in 0..nrcpt {
            let roll = self.rng.below(100);
            let to = format!("user{}@example.test", r + a);
            let (d1, d4) = (self.rng.below(9), self.rng.below(99));
            if roll < 60 {
                self.line("virtual", &format!("{final_q}: to=<{to}>, relay=virtual, delay=0.{d4}, delays=0.{d1}/0/0/0.0{d1}, dsn=2.0.0, status=sent (delivered to maildir)"))?;
            } else if roll < 80 {
                self.line("lmtp", &format!("{final_q}: to=<{to}>, relay=mx1[private/dovecot-lmtp], delay=0.{d4}, delays=0.{d1}/0/0.01/0.0{d1}, dsn=2.0.0, status=sent (250 2.0.0 <{to}> Saved)"))?;
            } else if roll < 92 {
                let rto = format!("friend{}@remote{}.example", r, b);
                let rq = self.rng.below(1 << 40);
                self.line("smtp", &format!("Trusted TLS connection established to mx.remote{b}.example[203.0.113.{a}]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"))?;
                self.line("smtp", &format!("{final_q}: to=<{rto}>, orig_to=<{to}>, relay=mx.remote{b}.example[203.0.113.{a}]:25, delay=1.{d4}, delays=0.{d1}/0.01/0.3/0.{d4}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as R{rq:X})"))?;
            } else if roll < 97 {
                self.line("smtp", &format!("{final_q}: to=<x{r}@slow{b}.example>, relay=mx.slow{b}.example[203.0.113.{b}]:25, delay={d4}, delays={d4}/0.01/0.5/0, dsn=4.7.1, status=deferred (host mx.slow{b}.example[203.0.113.{b}] said: 450 4.7.1 Greylisted, try again later (in reply to RCPT TO command))"))?;
                self.line("smtp", &format!("{final_q}: to=<x{r}@slow{b}.example>, relay=mx.slow{b}.example[203.0.113.{b}]:25, delay=3{d4}, delays=30{d4}/0.01/0.5/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as S{}{:X})", a, b))?;
            } else {
                self.line("smtp", &format!("{final_q}: to=<nobody{r}@gone{b}.example>, relay=mx.gone{b}.example[203.0.113.{b}]:25, delay=0.{d4}, delays=0.{d1}/0/0.2/0.1, dsn=5.1.1, status=bounced (host mx.gone{b}.example[203.0.113.{b}] said: 550 5.1.1 User unknown (in reply to RCPT TO command))"))?;
                let nq = self.new_qid();
                self.line(
                    "cleanup",
                    &format!("{nq}: message-id=<{}.bounce@mx1.example.test>", self.ms),
                )?;
                self.line(
                    "bounce",
                    &format!("{final_q}: sender non-delivery notification: {nq}"),
                )?;
                self.line(
                    "qmgr",
                    &format!("{nq}: from=<>, size=3{d4}2, nrcpt=1 (queue active)"),
                )?;
                self.line("smtp", &format!("{nq}: to=<{from}>, relay=mx.sender{b}.example[198.51.100.{a}]:25, delay=0.{d4}, delays=0/0/0.1/0.1, dsn=2.0.0, status=sent (250 ok)"))?;
                self.line("qmgr", &format!("{nq}: removed"))?;
            }
        }
        self.line("qmgr", &format!("{final_q}: removed"))
    }

    fn noise(&mut self) -> std::io::Result<()> {
        self.pid = self.rng.next();
        let a = self.rng.below(250);
        let b = self.rng.below(250);
        match self.rng.below(4) {
            0 => {
                self.line("smtpd", &format!("connect from unknown[185.{a}.{b}.7]"))?;
                self.line("smtpd", &format!("NOQUEUE: reject: RCPT from unknown[185.{a}.{b}.7]: 554 5.7.1 Service unavailable; Client host [185.{a}.{b}.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/185.{a}.{b}.7; from=<spam{a}@spam.example> to=<user{b}@example.test> proto=ESMTP helo=<spam.example>"))?;
                self.line("smtpd", &format!("disconnect from unknown[185.{a}.{b}.7] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"))
            }
            1 => {
                self.line("smtpd", &format!("NOQUEUE: reject: RCPT from mail.ok{a}.example[192.0.2.{b}]: 550 5.1.1 <nouser{b}@example.test>: Recipient address rejected: User unknown in virtual mailbox table; from=<x@ok{a}.example> to=<nouser{b}@example.test> proto=ESMTP helo=<mail.ok{a}.example>"))
            }
            2 => {
                let ip = format!("45.{}.{}.9", a % 8, b % 8);
                self.line("smtpd", &format!("warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"))?;
                self.line("smtpd", &format!("lost connection after AUTH from unknown[{ip}]"))
            }
            _ => self.line("anvil", &format!("statistics: max connection rate 3/60s for (smtp:198.18.{a}.{b}) at Jan  1 00:00:00")),
        }
    }
}

fn main() -> std::io::Result<()> {
    let target: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let stdout = std::io::stdout();
    let mut g = Gen {
        out: BufWriter::with_capacity(1 << 20, stdout.lock()),
        rng: Rng(0x9E37_79B9_7F4A_7C15),
        ms: 0,
        lines: 0,
        qid: 0,
        pid: 0,
    };
    while g.lines < target {
        if g.rng.below(3) == 0 {
            g.noise()?;
        } else {
            g.message()?;
        }
    }
    g.out.flush()
}
