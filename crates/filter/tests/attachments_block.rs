//! The attachment block list on whole MIME messages, as the gateway reads them: parsed and
//! walked by `mime`, then judged by `attachments::check`. Archives are made here, or by the
//! real `7z`, `tar` and `genisoimage` programs when Debian's packages are installed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use base64::Engine;
use mailward_filter::attachments::{self, AttachmentSettings};
use mailward_filter::mime::{self, MimeLimits};
use mailward_filter::{Action, Context, Finding};
use std::io::Write;
use std::path::Path;
use std::process::Command;

fn pe() -> Vec<u8> {
    let mut v = vec![0u8; 0x200];
    v[..2].copy_from_slice(b"MZ");
    v[0x3C] = 0x80;
    v[0x80..0x84].copy_from_slice(b"PE\0\0");
    v
}

/// A multipart/mixed message with a text body and one base64 attachment whose
/// Content-Disposition parameters are `disposition` as written.
fn message(disposition: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(body);
    let mut lines = String::new();
    for chunk in b64.as_bytes().chunks(76) {
        lines.push_str(std::str::from_utf8(chunk).unwrap());
        lines.push_str("\r\n");
    }
    format!(
        "From: a@example.org\r\nTo: b@example.net\r\nSubject: files\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n\
--XX\r\nContent-Type: text/plain\r\n\r\nPlease see the attachment.\r\n\
--XX\r\nContent-Type: {content_type}\r\nContent-Disposition: attachment; {disposition}\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{lines}--XX--\r\n"
    )
    .into_bytes()
}

fn check(raw: &[u8]) -> Vec<Finding> {
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
    let parsed = mime::parse(raw).expect("parses");
    let walk = mime::walk(&parsed, raw, &MimeLimits::default());
    attachments::check(&walk, &ctx, &AttachmentSettings::default())
}

fn check_file(name: &str, body: &[u8]) -> Vec<Finding> {
    check(&message(
        &format!("filename=\"{name}\""),
        "application/octet-stream",
        body,
    ))
}

fn codes(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipping: {program} not installed");
    }
    found
}

fn run(dir: &Path, program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{program} {args:?}: {out:?}");
}

#[test]
fn an_rfc2231_name_is_decoded_before_it_is_judged() {
    let f = check(&message(
        "filename*=UTF-8''r%C3%A9sum%C3%A9.pdf.exe",
        "application/pdf",
        &pe(),
    ));
    assert_eq!(codes(&f), ["blocked_extension"]);
    assert_eq!(f[0].action, Action::Reject);
    assert_eq!(
        f[0].detail,
        "résumé.pdf.exe: a Windows executable (blocked file type)"
    );
    // Continued RFC 2231 parameters (§3) split the name in pieces.
    let f = check(&message(
        "filename*0=\"quarterly-report.pdf\"; filename*1=\".js\"",
        "application/octet-stream",
        b"WScript.Shell",
    ));
    assert_eq!(codes(&f), ["blocked_extension"], "{f:?}");
}

#[test]
fn an_encoded_word_name_is_decoded_before_it_is_judged() {
    // RFC 2047 §2: "invoice.vbs" in base64 in the Content-Type name.
    let raw = message(
        "size=10",
        "application/octet-stream; name=\"=?UTF-8?B?aW52b2ljZS52YnM=?=\"",
        b"MsgBox 1",
    );
    let f = check(&raw);
    assert_eq!(codes(&f), ["blocked_extension"], "{f:?}");
    assert!(f[0].detail.starts_with("invoice.vbs: "));
}

#[test]
fn a_right_to_left_override_in_an_encoded_name_is_refused() {
    // "photo\u{202E}gpj.exe", shown by a reader as "photoexe.jpg".
    let f = check(&message(
        "filename*=UTF-8''photo%E2%80%AEgpj.exe",
        "image/jpeg",
        &pe(),
    ));
    assert_eq!(codes(&f), ["bidi_name"]);
    assert_eq!(
        f[0].detail,
        "photo[U+202E]gpj.exe: the name holds a bidirectional control (U+202E) that disguises its extension"
    );
}

#[test]
fn an_executable_renamed_pdf_is_blocked() {
    let f = check_file("statement.pdf", &pe());
    assert_eq!(codes(&f), ["disguised_type"]);
    assert_eq!(f[0].action, Action::Reject);
}

#[test]
fn a_clean_message_has_no_findings() {
    assert!(check_file("report.pdf", b"%PDF-1.4\n%%EOF\n").is_empty());
}

#[test]
fn a_program_in_a_zip_in_a_zip_is_named_by_its_path() {
    let zip = |files: &[(&str, &[u8])]| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(body).unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    let inner = zip(&[("run.exe", &pe())]);
    let outer = zip(&[("note.txt", b"hi"), ("inner.zip", &inner)]);
    let f = check_file("invoices.zip", &outer);
    assert_eq!(codes(&f), ["blocked_in_archive"]);
    assert_eq!(
        f[0].detail,
        "invoices.zip/inner.zip/run.exe: a Windows executable (blocked file type)"
    );
}

#[test]
fn seven_zip_listings_are_judged_by_name() {
    if !have("7z") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("readme.txt"), "hello").unwrap();
    std::fs::write(dir.path().join("setup.scr"), pe()).unwrap();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/a.txt"), "a").unwrap();
    // The default packs the header with LZMA; -mhc=off leaves it plain.
    run(
        dir.path(),
        "7z",
        &["a", "-bd", "packed.7z", "readme.txt", "setup.scr", "docs"],
    );
    run(
        dir.path(),
        "7z",
        &[
            "a",
            "-bd",
            "-mhc=off",
            "plain.7z",
            "readme.txt",
            "setup.scr",
        ],
    );
    for name in ["packed.7z", "plain.7z"] {
        let f = check_file(name, &std::fs::read(dir.path().join(name)).unwrap());
        assert_eq!(codes(&f), ["blocked_in_archive"], "{name}: {f:?}");
        assert_eq!(
            f[0].detail,
            format!("{name}/setup.scr: a Windows screen saver (a program) (blocked file type)")
        );
    }
    run(
        dir.path(),
        "7z",
        &["a", "-bd", "clean.7z", "readme.txt", "docs"],
    );
    assert!(
        check_file(
            "clean.7z",
            &std::fs::read(dir.path().join("clean.7z")).unwrap()
        )
        .is_empty()
    );
}

#[test]
fn password_protected_archives_are_held() {
    if !have("7z") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contract.pdf"), "%PDF-1.4").unwrap();
    run(
        dir.path(),
        "7z",
        &["a", "-bd", "-pSECRET", "enc.7z", "contract.pdf"],
    );
    run(
        dir.path(),
        "7z",
        &[
            "a",
            "-bd",
            "-pSECRET",
            "-mhe=on",
            "names.7z",
            "contract.pdf",
        ],
    );
    run(
        dir.path(),
        "7z",
        &["a", "-bd", "-tzip", "-pSECRET", "enc.zip", "contract.pdf"],
    );
    run(
        dir.path(),
        "7z",
        &[
            "a",
            "-bd",
            "-tzip",
            "-pSECRET",
            "-mem=AES256",
            "aes.zip",
            "contract.pdf",
        ],
    );
    for name in ["enc.7z", "names.7z", "enc.zip", "aes.zip"] {
        let f = check_file(name, &std::fs::read(dir.path().join(name)).unwrap());
        assert_eq!(codes(&f), ["encrypted_archive"], "{name}: {f:?}");
        assert_eq!(f[0].action, Action::Quarantine);
    }
}

#[test]
fn tar_gz_made_by_tar_is_looked_into() {
    if !have("tar") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    std::fs::write(dir.path().join("bin/update"), b"#!/bin/sh\ncurl x | sh\n").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "notes").unwrap();
    run(
        dir.path(),
        "tar",
        &["czf", "backup.tar.gz", "notes.txt", "bin"],
    );
    let f = check_file(
        "backup.tar.gz",
        &std::fs::read(dir.path().join("backup.tar.gz")).unwrap(),
    );
    assert_eq!(codes(&f), ["blocked_in_archive"], "{f:?}");
    assert_eq!(
        f[0].detail,
        "backup.tar.gz/bin/update: a script (#! interpreter line) (blocked file type)"
    );
}

#[test]
fn an_iso_image_is_blocked_whatever_its_name() {
    if !have("genisoimage") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("content")).unwrap();
    std::fs::write(dir.path().join("content/readme.txt"), "hi").unwrap();
    run(
        dir.path(),
        "genisoimage",
        &["-quiet", "-o", "disk.iso", "content"],
    );
    let iso = std::fs::read(dir.path().join("disk.iso")).unwrap();
    assert_eq!(codes(&check_file("disk.iso", &iso)), ["blocked_extension"]);
    let f = check_file("scan.pdf", &iso);
    assert_eq!(codes(&f), ["disguised_type"]);
    assert!(f[0].detail.contains("ISO 9660"), "{}", f[0].detail);
}
