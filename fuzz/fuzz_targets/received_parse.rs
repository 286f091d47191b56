//! `Received:` parsing must never panic, and whatever it reads must be writable and
//! readable again without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_message::Received;
use mailward_message::datetime;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let r = Received::parse(&text);
    assert_eq!(r.raw, text);
    let again = Received::parse(&r.to_header_value());
    // Whatever a header's text held, re-writing it never loses the client address or date.
    // (An address-literal HELO with no other address gains `from_ip`; that is by design.)
    if r.from_ip.is_some() {
        assert_eq!(again.from_ip, r.from_ip);
    }
    if r.timestamp.is_some() {
        assert_eq!(again.timestamp, r.timestamp);
    }
    if let Some(t) = r.timestamp {
        let _ = datetime::format_rfc3339_utc(t);
    }
    let _ = datetime::parse_rfc5322_date(&text);
});
