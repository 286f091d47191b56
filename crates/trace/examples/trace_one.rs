//! Prints the JSON report of each file given, for quick inspection during development.
fn main() {
    for path in std::env::args().skip(1) {
        let raw = std::fs::read(&path).unwrap_or_default();
        let r = mailward_trace::analyze(
            &raw,
            &path,
            &mailward_trace::AnalyzeOptions { now: 1_795_000_000 },
        );
        println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
    }
}
