//! Pigeonhole's own test suite (`../shared/testdata/sieve/pigeonhole/tests/`, read in
//! place), run through our implementation of its `vnd.dovecot.testsuite` extension.
//! Every `.svtest` file runs; files in [`SKIPPED`] are reported as skipped with their
//! reason; a failure in any other file fails this test.

use std::path::{Path, PathBuf};

/// Files not expected to pass, each with the reason.
const SKIPPED: &[(&str, &str)] = &[];

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/sieve/pigeonhole/tests")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "svtest") {
            out.push(path);
        }
    }
}

#[test]
fn pigeonhole_suite() {
    let dir = suite_dir();
    if !dir.is_dir() {
        println!("pigeonhole suite: {} absent, skipped", dir.display());
        return;
    }
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    let (mut passed, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    let mut unexpected = Vec::new();
    let mut stale_skips = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&dir)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let skip = SKIPPED.iter().find(|(name, _)| *name == relative);
        let verdict = std::panic::catch_unwind(|| mailward_sieve::testsuite::run_file(file, None));
        let reports = match verdict {
            Ok(Ok(reports)) => reports,
            Ok(Err(compile)) => vec![mailward_sieve::testsuite::TestReport {
                name: "(compile)".into(),
                failure: Some(compile),
            }],
            Err(_) => vec![mailward_sieve::testsuite::TestReport {
                name: "(panic)".into(),
                failure: Some("the interpreter panicked".into()),
            }],
        };
        let failures: Vec<_> = reports.iter().filter(|r| r.failure.is_some()).collect();
        if let Some((_, reason)) = skip {
            skipped += reports.len().max(1);
            if failures.is_empty() && !reports.is_empty() {
                stale_skips.push(relative.clone());
            }
            println!("SKIP {relative}: {reason}");
            continue;
        }
        passed += reports.len() - failures.len();
        failed += failures.len();
        for failure in failures {
            println!(
                "FAIL {relative} [{}]: {}",
                failure.name,
                failure.failure.as_deref().unwrap_or("")
            );
            unexpected.push(relative.clone());
        }
    }
    println!("pigeonhole suite: {passed} passed, {failed} failed, {skipped} skipped");
    for stale in &stale_skips {
        println!("note: {stale} is skipped but passes now");
    }
    unexpected.dedup();
    assert!(unexpected.is_empty(), "files failed: {unexpected:?}");
}
