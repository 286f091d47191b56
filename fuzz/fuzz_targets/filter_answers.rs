//! Fuzzes the readers of what the gateway's peers answer: clamd's INSTREAM reply
//! (`mailward_filter::antivirus::reply`) and an HTTP/1.1 answer (sandbox hook, rspamd:
//! `mailward_filter::http::parse_response`). Neither may panic, and an answer's body is
//! never longer than the bound it is read with, whatever the bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_filter::antivirus::reply::parse_reply;
use mailward_filter::http::parse_response;

fuzz_target!(|data: &[u8]| {
    let _ = parse_reply(data);
    let bound = data.first().map_or(0, |b| usize::from(*b) * 16);
    for eof in [false, true] {
        if let Ok(Some(answer)) = parse_response(data, eof, bound) {
            assert!(answer.body.len() <= bound);
            assert!((100..1000).contains(&answer.status));
        }
    }
});
