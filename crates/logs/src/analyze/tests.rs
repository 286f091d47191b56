//! Reading one input on several threads gives what reading it line by line gives: the same
//! flows, summary and unparsed lines, for any cut of the input into segments and chunks.

use super::*;
use crate::input::for_each_line;
use crate::parallel::{self, Plan};
use crate::time::Timestamp;
use std::io;
use std::path::Path;

/// A log of every kind of line, interleaved: Postfix messages with deferrals, bounces and
/// their notifications, content-filter hand-offs logged in either order and some further
/// apart than the hold window, NOQUEUE rejects, a SASL burst, other programs, mailward
/// JSON and Exim lines, junk, blank lines, CRLF endings and invalid UTF-8.
fn mixed_log() -> Vec<u8> {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let mut lines: Vec<(u64, Vec<u8>)> = Vec::new();
    let stamp = |t: u64| {
        format!(
            "Mar {:2} {:02}:{:02}:{:02}",
            1 + t / 86_400,
            t / 3600 % 24,
            t / 60 % 60,
            t % 60
        )
    };
    let mut push = |t: u64, text: String| lines.push((t, text.into_bytes()));
    for i in 0..1500u64 {
        let t = i * 7 + next(5);
        let q = format!("{:X}", 0xA0000 + i * 2);
        let q2 = format!("{:X}", 0xA0001 + i * 2);
        let ip = format!("198.51.100.{}", next(200) + 1);
        let pf = |t: u64, d: &str, m: &str| {
            format!("{} mx postfix/{d}[{}]: {m}", stamp(t), 100 + t % 50)
        };
        push(
            t,
            pf(t, "smtpd", &format!("connect from h{i}.example[{ip}]")),
        );
        push(
            t,
            pf(t, "smtpd", &format!("{q}: client=h{i}.example[{ip}]")),
        );
        push(
            t,
            pf(t, "cleanup", &format!("{q}: message-id=<{i}@example.org>")),
        );
        let nrcpt = 1 + next(3);
        push(
            t + 1,
            pf(
                t + 1,
                "qmgr",
                &format!(
                    "{q}: from=<S{}@Example.org>, size={}, nrcpt={nrcpt} (queue active)",
                    next(40),
                    1000 + next(9000)
                ),
            ),
        );
        let mut end = t + 2;
        for r in 0..nrcpt {
            let to = format!("u{}@example.test", next(60));
            let dt = t + 2 + r;
            match next(6) {
                0 => {
                    push(
                        dt,
                        pf(
                            dt,
                            "smtp",
                            &format!(
                                "{q}: to=<{to}>, relay=mx.remote.example[203.0.113.5]:25, delay=1.5, delays=0.5/0/0.2/0.8, dsn=4.7.1, status=deferred (host mx.remote.example[203.0.113.5] said: 450 4.7.1 greylisted (in reply to RCPT TO command))"
                            ),
                        ),
                    );
                    let later = dt + 300 + next(100);
                    push(
                        later,
                        pf(
                            later,
                            "smtp",
                            &format!(
                                "{q}: to=<{to}>, relay=mx.remote.example[203.0.113.5]:25, delay=301.25, delays=300/0/0.5/0.75, dsn=2.0.0, status=sent (250 ok)"
                            ),
                        ),
                    );
                    end = end.max(later);
                }
                1 => {
                    let n = format!("{:X}", 0xF00000 + i * 8 + r);
                    push(
                        dt,
                        pf(
                            dt,
                            "smtp",
                            &format!(
                                "{q}: to=<{to}>, relay=mx.remote.example[203.0.113.5]:25, delay=0.7, delays=0.1/0/0.3/0.3, dsn=5.1.1, status=bounced (host mx.remote.example[203.0.113.5] said: 550 5.1.1 unknown (in reply to RCPT TO command))"
                            ),
                        ),
                    );
                    push(
                        dt,
                        pf(dt, "cleanup", &format!("{n}: message-id=<b{i}.{r}@mx>")),
                    );
                    push(
                        dt,
                        pf(
                            dt,
                            "bounce",
                            &format!("{q}: sender non-delivery notification: {n}"),
                        ),
                    );
                    push(
                        dt + 1,
                        pf(
                            dt + 1,
                            "qmgr",
                            &format!("{n}: from=<>, size=2000, nrcpt=1 (queue active)"),
                        ),
                    );
                    push(
                        dt + 2,
                        pf(
                            dt + 2,
                            "smtp",
                            &format!(
                                "{n}: to=<s@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=1, delays=0.5/0/0/0.5, dsn=2.0.0, status=sent (250 ok)"
                            ),
                        ),
                    );
                    push(dt + 3, pf(dt + 3, "qmgr", &format!("{n}: removed")));
                }
                2 if r == 0 => {
                    // Content filter: the copy arrives before, or long after, the hand-off.
                    let copy_at = if next(2) == 0 {
                        dt
                    } else {
                        dt + 200 + next(300)
                    };
                    push(
                        dt,
                        pf(
                            dt,
                            "smtp",
                            &format!(
                                "{q}: to=<{to}>, relay=127.0.0.1[127.0.0.1]:10025, delay=0.4, delays=0.1/0/0/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {q2})"
                            ),
                        ),
                    );
                    push(
                        copy_at,
                        pf(
                            copy_at,
                            "smtpd",
                            &format!("{q2}: client=localhost[127.0.0.1]"),
                        ),
                    );
                    push(
                        copy_at,
                        pf(
                            copy_at,
                            "cleanup",
                            &format!("{q2}: message-id=<{i}@example.org>"),
                        ),
                    );
                    push(
                        copy_at + 1,
                        pf(
                            copy_at + 1,
                            "qmgr",
                            &format!(
                                "{q2}: from=<s@example.org>, size=3000, nrcpt=1 (queue active)"
                            ),
                        ),
                    );
                    push(
                        copy_at + 2,
                        pf(
                            copy_at + 2,
                            "virtual",
                            &format!(
                                "{q2}: to=<{to}>, relay=virtual, delay=0.25, delays=0.1/0/0/0.15, dsn=2.0.0, status=sent (delivered to maildir)"
                            ),
                        ),
                    );
                    push(
                        copy_at + 3,
                        pf(copy_at + 3, "qmgr", &format!("{q2}: removed")),
                    );
                }
                _ => push(
                    dt,
                    pf(
                        dt,
                        "lmtp",
                        &format!(
                            "{q}: to=<{to}>, relay=mx[private/dovecot-lmtp], delay=0.3, delays=0.1/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Saved)"
                        ),
                    ),
                ),
            }
        }
        push(end + 1, pf(end + 1, "qmgr", &format!("{q}: removed")));
        match next(12) {
            0 => push(
                t,
                pf(
                    t,
                    "smtpd",
                    &format!(
                        "NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; from=<x@spam.example> to=<u1@example.test> proto=ESMTP helo=<x>"
                    ),
                ),
            ),
            1 => push(
                t,
                format!("{} mx dovecot: imap-login: Login: user=<u{i}>", stamp(t)),
            ),
            2 => push(t, format!("junk line {i} \u{fffd}")),
            3 => push(t, String::new()),
            4 => push(
                t,
                format!(
                    "{{\"timestamp\":\"2026-03-01T10:00:{:02}Z\",\"event\":\"queued\",\"queue_id\":\"J{i}\",\"remote_ip\":\"192.0.2.9\",\"from\":\"a@example.org\",\"to\":\"b@example.test\",\"nrcpt\":1,\"message_id\":\"<j{i}@x>\"}}",
                    i % 60
                ),
            ),
            5 => push(
                t,
                format!(
                    "2026-03-01 10:00:{:02} 1hKx{i:02}-000{i:03}-Ab <= a@example.org H=h.example [192.0.2.8] P=esmtp S=100 id=e{i}@x",
                    i % 60
                ),
            ),
            _ => {}
        }
        if (400..440).contains(&i) {
            push(
                t,
                pf(
                    t,
                    "smtpd",
                    "warning: unknown[203.0.113.66]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
                ),
            );
        }
    }
    lines.sort_by_key(|(t, _)| *t);
    let mut out = Vec::new();
    for (n, (_, l)) in lines.into_iter().enumerate() {
        out.extend_from_slice(&l);
        match n % 97 {
            0 => out.extend_from_slice(b" \xff\xfe bytes\n"),
            1 => out.extend_from_slice(b"\r\n"),
            _ => out.push(b'\n'),
        }
    }
    out
}

fn year() -> YearRef {
    YearRef::new(Timestamp::from_civil(2026, 12, 1, 0, 0, 0, 0).unwrap_or_default())
}

fn sorted(mut flows: Vec<Flow>) -> Vec<Flow> {
    flows.sort_by(|a, b| {
        a.first_seen
            .cmp(&b.first_seen)
            .then_with(|| a.queue_ids.cmp(&b.queue_ids))
    });
    flows
}

fn one_thread(log: &[u8], an: Analyzer) -> (Summary, Vec<Flow>, Vec<String>) {
    let mut an = an;
    let mut flows = Vec::new();
    let input = Input::from_reader("t", Box::new(io::Cursor::new(log.to_vec())), year());
    let read = for_each_line(vec![input], |l, y| an.line(l, y, &mut |f| flows.push(f)));
    assert!(read.is_ok());
    let (s, unparsed) = an.finish(10, &mut |f| flows.push(f));
    (s, sorted(flows), unparsed)
}

fn threads(log: &[u8], an: Analyzer, plan: Plan) -> (Summary, Vec<Flow>, Vec<String>) {
    let mut an = an;
    let mut flows = Vec::new();
    let summarize = an.summarize_flows;
    let read = parallel::read(
        &mut an,
        Box::new(io::Cursor::new(log.to_vec())),
        Vec::new(),
        Path::new("t"),
        &year(),
        plan,
        summarize,
        &mut |f| flows.push(f),
        &mut || {},
    );
    assert!(read.is_ok());
    let (s, unparsed) = an.finish(10, &mut |f| flows.push(f));
    (s, sorted(flows), unparsed)
}

#[test]
fn parallel_reading_gives_the_same_flows_summary_and_unparsed_lines() {
    let log = mixed_log();
    let (s1, f1, u1) = one_thread(&log, Analyzer::new(true, true, true));
    assert!(s1.handoffs > 100 && s1.notifications > 100 && !s1.brute_force.is_empty());
    assert!(
        s1.lines.unparsed > 10 && s1.lines.other_programs > 10,
        "{:?}",
        s1.lines
    );
    for (workers, segment, chunk) in [(3, 1500, 200), (2, 64 * 1024, 4096), (1, 100, 1)] {
        let (s2, f2, u2) = threads(
            &log,
            Analyzer::new(true, true, true),
            Plan {
                workers,
                segment,
                chunk,
            },
        );
        assert_eq!(
            s1, s2,
            "{workers} workers, segment {segment}, chunk {chunk}"
        );
        assert_eq!(u1, u2);
        assert_eq!(f1.len(), f2.len());
        for (a, b) in f1.iter().zip(&f2) {
            assert_eq!(a, b);
        }
    }
}

#[test]
fn a_summary_without_flow_details_is_the_same_summary() {
    let log = mixed_log();
    let (full, _, _) = one_thread(&log, Analyzer::new(false, true, false));
    let (lean, flows, _) = one_thread(&log, Analyzer::new(false, true, false).summary_only());
    assert_eq!(full, lean);
    assert!(flows.iter().all(|f| f.message_id.is_none()));
    let (par, _, _) = threads(
        &log,
        Analyzer::new(false, true, false).summary_only(),
        Plan {
            workers: 2,
            segment: 4096,
            chunk: 512,
        },
    );
    assert_eq!(full, par);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Any cut of any prefix of the log into segments and chunks, on any number of
    /// workers, reads like one thread: chunks that cross segment ends, segments of one
    /// chunk, chunks of one line.
    #[test]
    fn any_cut_reads_like_one_thread(
        keep in 0.05f64..1.0,
        workers in 1usize..4,
        segment in 1usize..20_000,
        chunk in 1usize..3_000,
    ) {
        let full = mixed_log();
        let end = full.len() * ((keep * 100.0) as usize) / 100;
        let cut = match full.get(..end).and_then(|p| memchr::memrchr(b'\n', p)) {
            Some(i) => full.get(..=i).unwrap_or_default().to_vec(),
            None => Vec::new(),
        };
        let (s1, f1, u1) = one_thread(&cut, Analyzer::new(true, true, true));
        let (s2, f2, u2) = threads(&cut, Analyzer::new(true, true, true), Plan { workers, segment, chunk });
        proptest::prop_assert_eq!(s1, s2);
        proptest::prop_assert_eq!(u1, u2);
        proptest::prop_assert_eq!(f1, f2);
    }
}
