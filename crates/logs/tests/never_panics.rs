//! Property tests: random line soups never make a parser or the flow engine panic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_logs::{Analyzer, Timestamp, YearRef};
use proptest::prelude::*;

fn year() -> YearRef {
    YearRef::new(Timestamp::from_secs(1_780_000_000))
}

/// Pieces of real lines, so the soup reaches deep into the parsers.
const PIECES: &[&str] = &[
    "Jan  1 00:00:00 mx postfix/smtpd[1]: ",
    "Dec 31 23:59:59 mx postfix/smtp[2]: ",
    "2026-01-02T03:04:05.5+01:00 mx postfix/qmgr[3]: ",
    "0F5383D: ",
    "48rT2v1hQrz1J0N: ",
    "NOQUEUE: ",
    "reject: RCPT from ",
    "unknown[",
    "]:",
    "[",
    "]",
    "<",
    ">",
    ", ",
    "; ",
    "client=",
    "message-id=",
    "from=<",
    "to=<",
    "relay=",
    "delay=",
    "delays=",
    "0.1/0/0/",
    "dsn=",
    "status=",
    "sent (",
    "deferred",
    "bounced",
    "expired",
    "queued as ",
    "forwarded as ",
    "removed",
    "warning: ",
    "SASL LOGIN authentication failed",
    "sasl_username=",
    " notification: ",
    "milter-reject: ",
    "orig_queue_id=",
    "2020-06-19 04:51:49 ",
    "+0200 ",
    "[123] ",
    "1jmFYj-00039V-QX ",
    "1x8yvQ-0000000AutF-1xus ",
    "<= ",
    "=> ",
    "-> ",
    "** ",
    "== ",
    "*> ",
    "Completed",
    "H=",
    "(helo) ",
    "S=",
    "id=",
    "A=x:",
    "R=",
    "T=\"",
    "C=\"",
    "\"",
    "defer (",
    "): ",
    "SMTP error from remote mail server after ",
    "550 5.1.1 ",
    "rejected RCPT ",
    "authenticator failed for ",
    "(set_id=",
    "{\"timestamp\":\"2026-11-22T18:43:50Z\",\"event\":\"",
    "queued",
    "delivered",
    "\",\"queue_id\":\"Q1\"",
    ",\"to\":\"a@b\"",
    "}",
    "é",
    "\u{0}",
    " ",
    ":",
    "=",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![3 => prop::sample::select(PIECES).prop_map(str::to_owned), 1 => ".{0,12}"],
        0..40,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn postfix_parser_never_panics(line in soup()) {
        let _ = mailward_logs::postfix::parse_line(&line, &year());
    }

    #[test]
    fn exim_parser_never_panics(line in soup()) {
        let _ = mailward_logs::exim::parse_line(&line);
        let with_stamp = format!("2020-06-19 04:51:49 {line}");
        let _ = mailward_logs::exim::parse_line(&with_stamp);
    }

    #[test]
    fn json_parser_never_panics(line in soup()) {
        let _ = mailward_logs::jsonlog::parse_line(&line);
    }

    #[test]
    fn flow_engine_and_summary_never_panic(lines in prop::collection::vec(soup(), 0..30)) {
        let mut an = Analyzer::new(true, true, true);
        for l in &lines {
            an.line(l, &year(), &mut |_| {});
        }
        let (s, _) = an.finish(5, &mut |_| {});
        prop_assert_eq!(s.lines.total, lines.iter().filter(|l| !l.trim().is_empty()).count() as u64);
    }
}
