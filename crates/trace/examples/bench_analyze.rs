//! Single-thread throughput of `analyze` over the test fixtures, repeated:
//! `cargo run --release -p mailward-trace --example bench_analyze`.
use std::time::Instant;

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut messages = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if let Ok(raw) = std::fs::read(entry.path()) {
            messages.push(raw);
        }
    }
    let opts = mailward_trace::AnalyzeOptions { now: 1_795_000_000 };
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20_000);
    let start = Instant::now();
    let mut hops = 0usize;
    for _ in 0..rounds {
        for m in &messages {
            hops += mailward_trace::analyze(m, "bench", &opts).hops.len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = (rounds * messages.len()) as f64;
    println!(
        "{n} messages, {hops} hops in {secs:.2} s: {:.0} messages/s on one thread",
        n / secs
    );
}
