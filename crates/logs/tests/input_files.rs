//! The I/O edge: compressed files, several files merged in time order, follow.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_logs::input::{Follower, Input, for_each_line};
use std::io::Write;

const A: &str = "Mar  1 10:00:00 mx postfix/qmgr[1]: AAAAA1: removed\nMar  1 10:00:02 mx postfix/qmgr[1]: AAAAA3: removed\n";
const B: &str = "Mar  1 10:00:01 mx postfix/qmgr[1]: AAAAA2: removed\nMar  1 10:00:03 mx postfix/qmgr[1]: AAAAA4: removed";

fn lines_of(paths: &[std::path::PathBuf]) -> Vec<String> {
    let inputs: Vec<Input> = paths
        .iter()
        .map(|p| Input::open(p, None).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let mut out = Vec::new();
    for_each_line(inputs, |l, _| out.push(l.to_owned())).unwrap_or_else(|e| panic!("{e}"));
    out
}

#[test]
fn gzip_and_xz_files_read_like_plain_ones_and_merge_in_time_order() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let gz = dir.path().join("a.log.1");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap_or_else(|e| panic!("{e}")),
        flate2::Compression::fast(),
    );
    enc.write_all(A.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    enc.finish().unwrap_or_else(|e| panic!("{e}"));
    let xz = dir.path().join("b.log");
    let mut enc = xz2::write::XzEncoder::new(
        std::fs::File::create(&xz).unwrap_or_else(|e| panic!("{e}")),
        1,
    );
    enc.write_all(B.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    enc.finish().unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<String> = lines_of(&[gz, xz])
        .iter()
        .map(|l| l.get(36..42).unwrap_or("").to_owned())
        .collect();
    assert_eq!(got, ["AAAAA1", "AAAAA2", "AAAAA3", "AAAAA4"]);
}

#[test]
fn crlf_endings_invalid_utf8_and_a_missing_last_newline_are_not_fatal() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let p = dir.path().join("m.log");
    std::fs::write(&p, b"line one\r\nbad \xff byte\nlast").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lines_of(&[p]), ["line one", "bad \u{fffd} byte", "last"]);
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let err = Input::open(std::path::Path::new("/nonexistent/mail.log"), None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("/nonexistent/mail.log"), "{err}");
}

#[test]
fn follow_sees_appended_lines_and_survives_truncation() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let p = dir.path().join("live.log");
    std::fs::write(&p, "old line\n").unwrap_or_else(|e| panic!("{e}"));
    let mut f = Follower::new(&p, false).unwrap_or_else(|e| panic!("{e}"));
    let mut seen = Vec::new();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&p)
        .unwrap_or_else(|e| panic!("{e}"));
    file.write_all(b"new one\nhalf")
        .unwrap_or_else(|e| panic!("{e}"));
    f.poll(|l| seen.push(l.to_owned()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        seen,
        ["new one"],
        "the old line is skipped, the half line waits"
    );
    file.write_all(b" done\n").unwrap_or_else(|e| panic!("{e}"));
    f.poll(|l| seen.push(l.to_owned()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(seen.last().map(String::as_str), Some("half done"));
    std::fs::write(&p, "after truncate\n").unwrap_or_else(|e| panic!("{e}"));
    f.poll(|l| seen.push(l.to_owned()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(seen.last().map(String::as_str), Some("after truncate"));
}
