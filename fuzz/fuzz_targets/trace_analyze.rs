//! Fuzz the `mailward trace` entry point: any bytes must give a report, never a panic or
//! a hang, and the report must serialise.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_trace::{AnalyzeOptions, analyze};

fuzz_target!(|data: &[u8]| {
    let report = analyze(data, "fuzz", &AnalyzeOptions { now: 1_795_000_000 });
    assert!(report.trust.trusted_hops <= report.hops.len());
    let _ = serde_json::to_string(&report);
});
