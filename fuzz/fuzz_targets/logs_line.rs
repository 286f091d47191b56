//! Fuzz target: any bytes, as log lines, through every `mailward logs` parser and the flow
//! engine. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_logs::{Analyzer, Timestamp, YearRef};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let year = YearRef::new(Timestamp::from_secs(1_780_000_000));
    let mut an = Analyzer::new(true, true, true);
    for line in text.lines() {
        let _ = mailward_logs::parse::parse_line(line, &year);
        an.line(line, &year, &mut |_| {});
    }
    let _ = an.finish(10, &mut |_| {});
});
