//! Shared by the verification suites: where the shared test data is, and line ends.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `shared/testdata/<relative>` beside the repository, or `None` (with a printed notice)
/// when it is not there.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata")
        .join(relative);
    if path.exists() {
        Some(path)
    } else {
        println!(
            "SKIPPED: {} is absent (shared test data not installed)",
            path.display()
        );
        None
    }
}

/// Bare LF → CRLF (the suites store messages with LF; RFC 5322 §2.1 says CRLF).
pub fn crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 20);
    let mut previous = 0u8;
    for &b in text {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    out
}
