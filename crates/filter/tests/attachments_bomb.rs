//! Decompression bombs are refused quickly and in bounded memory: the peak resident size of
//! this test process (Linux `/proc/self/status` VmHWM, reset through `/proc/self/clear_refs`)
//! grows by less than the budget while the block list looks at them.
//!
//! One test function on purpose: tests of one binary run on parallel threads, and the
//! peak is the process's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_filter::attachments::{self, AttachmentSettings};
use mailward_filter::mime::{Part, Walk};
use mailward_filter::{Action, Context, Finding};
use std::borrow::Cow;
use std::io::Write;
use std::time::{Duration, Instant};

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in files {
        w.start_file(*name, opts).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// One entry of `mib` MiB of zeros, written in pieces (never whole in memory).
fn zeros_zip(mib: usize) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    w.start_file("zeros.txt", opts).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..mib {
        w.write_all(&chunk).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Makes the headers claim `size` bytes expanded (APPNOTE §4.3.7 local header at +22,
/// §4.3.12 central header at +24), as a bomb that lies about itself does.
fn lie_about_size(mut zip: Vec<u8>, size: u32) -> Vec<u8> {
    for i in 0..zip.len().saturating_sub(28) {
        if zip[i..i + 4] == *b"PK\x03\x04" {
            zip[i + 22..i + 26].copy_from_slice(&size.to_le_bytes());
        }
        if zip[i..i + 4] == *b"PK\x01\x02" {
            zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
        }
    }
    zip
}

fn check(name: &str, body: Vec<u8>) -> Vec<Finding> {
    let rcpts = vec!["b@example.net".to_owned()];
    let ctx = Context {
        queue_id: "Q1",
        client_ip: "192.0.2.1".parse().unwrap(),
        helo: "client.example",
        mail_from: "a@example.org",
        rcpts: &rcpts,
        auth_user: None,
        auth: None,
    };
    let walk = Walk {
        parts: vec![Part {
            index: 0,
            section: "2".to_owned(),
            content_type: "application/zip".to_owned(),
            filename: Some(name.to_owned()),
            is_attachment: true,
            body: Cow::Owned(body),
            depth: 0,
            raw: None,
            raw_body: None,
            encoding: "base64".to_owned(),
        }],
        truncated: false,
    };
    attachments::check(&walk, &ctx, &AttachmentSettings::default())
}

/// The peak resident size in KiB, reset to the current size first when `reset`.
fn peak_kib(reset: bool) -> Option<u64> {
    if reset {
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn zip_bombs_are_refused_quickly_in_bounded_memory() {
    // 42.zip's shape: each level holds 16 copies of the one below, 1 MiB of zeros at the
    // bottom (16^5 MiB, a terabyte, expanded).
    let mut nested = zip_of(&[("0.dat", &vec![0u8; 1 << 20])]);
    for _ in 0..5 {
        let copies: Vec<(String, Vec<u8>)> = (0..16)
            .map(|i| (format!("{i}.zip"), nested.clone()))
            .collect();
        let refs: Vec<(&str, &[u8])> = copies
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        nested = zip_of(&refs);
    }
    // One entry of 256 MiB of zeros (about 1000:1), honest and lying about its size.
    let ratio = zeros_zip(256);
    let liar = lie_about_size(ratio.clone(), 1000);

    let cases = [("42.zip", nested), ("zeros.zip", ratio), ("liar.zip", liar)];
    for (name, bomb) in cases {
        let input_kib = bomb.len() as u64 / 1024;
        let before = peak_kib(true);
        let started = Instant::now();
        let findings = check(name, bomb);
        let took = started.elapsed();
        let after = peak_kib(false);
        assert!(took < Duration::from_secs(10), "{name}: {took:?}");
        let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["archive_bomb"], "{name}: {findings:?}");
        assert_eq!(findings[0].action, Action::Reject);
        match (before, after) {
            (Some(before), Some(after)) => {
                // Well under the 64 MiB budget: what is kept of a plain file is its first
                // 64 KiB, and nested archives are small until the bottom.
                let grew = after.saturating_sub(before);
                eprintln!("{name}: {took:?}, peak resident size grew by {grew} KiB");
                assert!(
                    grew < 32 * 1024 + input_kib,
                    "{name}: the peak grew by {grew} KiB"
                );
            }
            _ => eprintln!("skipping the memory bound: no /proc/self/clear_refs"),
        }
    }
}
