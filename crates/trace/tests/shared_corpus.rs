//! Every message of the shared public corpus is analysed without a panic, and ordinary
//! messages from it raise no `critical` finding.

use mailward_trace::{AnalyzeOptions, Severity, analyze};
use std::path::{Path, PathBuf};

fn shared_testdata() -> Option<PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ));
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        println!("skipping: ../shared/testdata not found beside the repository");
        None
    }
}

fn message_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            message_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "eml") {
            out.push(path);
        }
    }
}

#[test]
fn every_shared_message_is_analysed_without_panic() {
    let Some(dir) = shared_testdata() else { return };
    let mut files = Vec::new();
    message_files(&dir, &mut files);
    files.sort();
    assert!(
        files.len() >= 100,
        "expected the shared corpus, found {} files",
        files.len()
    );
    let opts = AnalyzeOptions { now: 1_795_000_000 };
    let mut critical = Vec::new();
    for path in &files {
        let raw = std::fs::read(path).expect("readable test file");
        let report = analyze(&raw, &path.display().to_string(), &opts);
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Critical)
        {
            critical.push(format!("{}: {} {}", path.display(), f.code, f.message));
        }
        if std::env::var_os("MAILWARD_TRACE_DUMP").is_some() {
            let codes: Vec<_> = report
                .findings
                .iter()
                .map(|f| format!("{}:{}", f.code, f.severity.as_str()))
                .collect();
            println!(
                "{} hops={} origin={:?} provider={:?} {:?} warn={:?}",
                path.display(),
                report.hops.len(),
                report.origin.as_ref().and_then(|o| o.ip),
                report.provider.as_ref().map(|p| &p.name),
                codes,
                report.warnings
            );
        }
    }
    assert!(
        critical.is_empty(),
        "ordinary messages flagged critical:\n{}",
        critical.join("\n")
    );
}
