//! Fuzz the `mailward trace` entry point: any bytes must give a report, never a panic or
//! a hang, and the report must serialise. Inputs whose first byte is odd are wrapped as the
//! delivery-status part of a report (the rest split at the first NUL into the status fields
//! and the returned header), so the delivery report reader is reached too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_trace::{AnalyzeOptions, analyze};

fuzz_target!(|data: &[u8]| {
    let wrapped;
    let input = match data.split_first() {
        Some((first, rest)) if first & 1 == 1 => {
            let (status, returned) = match rest.iter().position(|&b| b == 0) {
                Some(nul) => (&rest[..nul], &rest[nul + 1..]),
                None => (rest, &b""[..]),
            };
            let mut m = b"From: MAILER-DAEMON@mx.example\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"=_f\"\r\n\r\n\
--=_f\r\nContent-Type: message/delivery-status\r\n\r\n"
                .to_vec();
            m.extend_from_slice(status);
            m.extend_from_slice(b"\r\n--=_f\r\nContent-Type: message/rfc822\r\n\r\n");
            m.extend_from_slice(returned);
            m.extend_from_slice(b"\r\n--=_f--\r\n");
            wrapped = m;
            &wrapped[..]
        }
        _ => data,
    };
    let report = analyze(input, "fuzz", &AnalyzeOptions { now: 1_795_000_000 });
    assert!(report.trust.trusted_hops <= report.hops.len());
    if let Some(dsn) = &report.dsn {
        assert!(dsn.recipients.len() <= 100);
        if let Some(back) = &dsn.returned {
            assert!(back.hops.len() <= 100);
            assert!(back.trust.trusted_hops <= back.hops.len());
        }
    }
    let _ = serde_json::to_string(&report);
});
