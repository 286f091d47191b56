//! The block list on files and archives built here.

use super::*;
use crate::mime::Part;
use std::borrow::Cow;
use std::io::Write;
use std::time::{Duration, Instant};

pub(crate) fn pe() -> Vec<u8> {
    let mut v = vec![0u8; 0x200];
    v[..2].copy_from_slice(b"MZ");
    v[0x3C] = 0x80;
    v[0x80..0x84].copy_from_slice(b"PE\0\0");
    v
}

fn part(name: Option<&str>, body: Vec<u8>) -> Part<'static> {
    Part {
        index: 0,
        section: "2".to_owned(),
        content_type: "application/octet-stream".to_owned(),
        filename: name.map(str::to_owned),
        is_attachment: true,
        body: Cow::Owned(body),
        depth: 0,
        raw: None,
        raw_body: None,
        encoding: "base64".to_owned(),
    }
}

fn run_to(
    rcpts: &[&str],
    files: Vec<Part<'static>>,
    settings: &AttachmentSettings,
) -> Vec<Finding> {
    let rcpts: Vec<String> = rcpts.iter().map(|r| (*r).to_owned()).collect();
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
        parts: files,
        truncated: false,
    };
    check(&walk, &ctx, settings)
}

fn run(files: Vec<Part<'static>>) -> Vec<Finding> {
    run_to(&["b@example.net"], files, &AttachmentSettings::default())
}

fn codes(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

pub(crate) fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, body) in files {
        w.start_file(*name, opts).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Sets the "encrypted" flag (APPNOTE §4.4.4 bit 0) on every entry, as a password-protected
/// archive has it.
fn mark_encrypted(mut zip: Vec<u8>) -> Vec<u8> {
    for i in 0..zip.len().saturating_sub(4) {
        if zip[i..i + 4] == *b"PK\x03\x04" {
            zip[i + 6] |= 1;
        }
        if zip[i..i + 4] == *b"PK\x01\x02" {
            zip[i + 8] |= 1;
        }
    }
    zip
}

#[test]
fn a_double_extension_is_refused_with_a_readable_reason() {
    let f = run(vec![part(Some("invoice.pdf.exe"), pe())]);
    assert_eq!(codes(&f), ["blocked_extension"]);
    assert_eq!(f[0].action, Action::Reject);
    assert_eq!(
        f[0].detail,
        "invoice.pdf.exe: a Windows executable (blocked file type)"
    );
}

#[test]
fn a_renamed_program_is_caught_by_its_content() {
    let f = run(vec![part(Some("report.pdf"), pe())]);
    assert_eq!(codes(&f), ["disguised_type"]);
    assert_eq!(
        f[0].detail,
        "report.pdf: a Windows executable (PE) named as .pdf (disguised file type)"
    );
    let elf = b"\x7FELF\x02\x01\x01\0\0\0\0\0".to_vec();
    assert_eq!(
        codes(&run(vec![part(Some("photo.jpg"), elf)])),
        ["disguised_type"]
    );
    assert_eq!(codes(&run(vec![part(None, pe())])), ["blocked_type"]);
}

#[test]
fn trailing_dots_and_blanks_do_not_hide_the_extension() {
    for name in [
        "run.exe.",
        "run.exe  ",
        "run.exe . .",
        "invoice.pdf\u{200B}.js\u{200B}",
    ] {
        let f = run(vec![part(Some(name), b"x".to_vec())]);
        assert_eq!(codes(&f), ["blocked_extension"], "{name:?}");
    }
}

#[test]
fn a_right_to_left_override_is_always_refused() {
    // Shown by a mail reader as "invoicetxt.pdf".
    let f = run(vec![part(
        Some("invoice\u{202E}fdp.txt"),
        b"hello".to_vec(),
    )]);
    assert_eq!(codes(&f), ["bidi_name"]);
    assert!(f[0].detail.contains("[U+202E]"), "{}", f[0].detail);
    assert!(f[0].detail.contains("U+202E"));
    // Any bidi control, even on an allowed type.
    let f = run(vec![part(Some("a\u{2067}b.pdf"), b"%PDF-1.4".to_vec())]);
    assert_eq!(codes(&f), ["bidi_name"]);
}

#[test]
fn a_script_is_refused_by_content_only_when_its_name_hides_it() {
    let script = || b"#!/bin/sh\necho hello\n".to_vec();
    assert!(run(vec![part(Some("deploy.sh"), script())]).is_empty());
    assert_eq!(
        codes(&run(vec![part(Some("update"), script())])),
        ["blocked_type"]
    );
    assert_eq!(
        codes(&run(vec![part(Some("invoice.pdf"), script())])),
        ["disguised_type"]
    );
}

#[test]
fn an_attached_message_is_not_judged_by_its_bytes() {
    let mut msg = part(None, b"Subject: about <HTA:APPLICATION>\r\n\r\nMZ".to_vec());
    msg.content_type = "message/rfc822".into();
    msg.is_attachment = false;
    assert!(run(vec![msg]).is_empty());
}

#[test]
fn a_clsid_extension_is_refused() {
    let name = "report.pdf.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}";
    assert_eq!(
        codes(&run(vec![part(Some(name), b"<html>".to_vec())])),
        ["blocked_extension"]
    );
}

#[test]
fn ordinary_files_pass() {
    let f = run(vec![
        part(Some("report.pdf"), b"%PDF-1.7\n".to_vec()),
        part(
            Some("notes.docm"),
            zip_of(&[("word/document.xml", b"<w/>")]),
        ),
        part(
            Some("photos.zip"),
            zip_of(&[("a.jpg", b"\xFF\xD8\xFF"), ("b.txt", b"hi")]),
        ),
    ]);
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn shortcuts_images_installers_and_hta_are_refused_by_default() {
    for name in [
        "a.lnk", "b.url", "c.scf", "d.iso", "e.img", "f.vhd", "g.vhdx", "h.msi", "i.msix", "j.hta",
        "k.ps1", "l.vbs", "m.wsf", "n.bat",
    ] {
        assert_eq!(
            codes(&run(vec![part(Some(name), b"x".to_vec())])),
            ["blocked_extension"],
            "{name}"
        );
    }
    let mut iso = vec![0u8; 0x9000];
    iso[0x8001..0x8006].copy_from_slice(b"CD001");
    assert_eq!(
        codes(&run(vec![part(Some("scan.pdf"), iso)])),
        ["disguised_type"]
    );
    let hta = b"<html><HTA:APPLICATION id=a><script>x</script></html>".to_vec();
    assert_eq!(
        codes(&run(vec![part(Some("page.html"), hta)])),
        ["disguised_type"]
    );
}

#[test]
fn block_and_allow_take_extensions_and_type_names() {
    let settings = AttachmentSettings {
        block: vec!["docm".into(), "archive".into()],
        allow: vec!["exe".into(), "disk_image".into()],
        ..AttachmentSettings::default()
    };
    let go = |name: &str, body: Vec<u8>| {
        codes(&run_to(
            &["b@example.net"],
            vec![part(Some(name), body)],
            &settings,
        ))
        .join(",")
    };
    assert_eq!(go("a.docm", b"x".to_vec()), "blocked_extension");
    assert_eq!(go("a.zip", zip_of(&[("x.txt", b"x")])), "blocked_extension");
    assert_eq!(go("a.iso", b"x".to_vec()), "");
    // An allowed extension lets its own kind through, not a program named otherwise.
    assert_eq!(go("setup.exe", pe()), "");
    assert_eq!(go("setup.pdf", pe()), "disguised_type");
}

#[test]
fn domain_rules_apply_to_mail_for_that_domain() {
    let mut settings = AttachmentSettings::default();
    settings.domains.insert(
        "Dev.Example.net".into(),
        DomainRules {
            block: vec!["docm".into()],
            allow: vec!["exe".into()],
        },
    );
    let exe = || vec![part(Some("tool.exe"), pe())];
    let docm = || vec![part(Some("a.docm"), b"x".to_vec())];
    assert!(run_to(&["x@dev.example.net"], exe(), &settings).is_empty());
    assert_eq!(
        codes(&run_to(&["x@dev.example.net"], docm(), &settings)),
        ["blocked_extension"]
    );
    assert_eq!(
        codes(&run_to(&["x@example.net"], exe(), &settings)),
        ["blocked_extension"]
    );
    // One recipient elsewhere: what is refused for any recipient is refused.
    let both = ["x@dev.example.net", "y@example.net"];
    assert_eq!(
        codes(&run_to(&both, exe(), &settings)),
        ["blocked_extension"]
    );
    assert_eq!(
        codes(&run_to(&both, docm(), &settings)),
        ["blocked_extension"]
    );
}

#[test]
fn files_inside_nested_zips_are_named_by_their_path() {
    let inner = zip_of(&[("readme.txt", b"hi"), ("run.exe", &pe())]);
    let outer = zip_of(&[("inner.zip", &inner)]);
    let f = run(vec![part(Some("invoices.zip"), outer)]);
    assert_eq!(codes(&f), ["blocked_in_archive"]);
    assert_eq!(
        f[0].detail,
        "invoices.zip/inner.zip/run.exe: a Windows executable (blocked file type)"
    );
    // By content inside too.
    let f = run(vec![part(Some("a.zip"), zip_of(&[("scan.pdf", &pe())]))]);
    assert_eq!(
        f[0].detail,
        "a.zip/scan.pdf: a Windows executable (PE) named as .pdf (disguised file type)"
    );
    assert_eq!(codes(&f), ["blocked_in_archive"]);
}

#[test]
fn java_and_android_packages_are_programs_whatever_their_name() {
    let jar = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("a/B.txt", b"x"),
    ]);
    let f = run(vec![part(Some("invoice.zip"), jar)]);
    assert_eq!(codes(&f), ["disguised_type"]);
    assert!(
        f[0].detail.contains("a Java program (JAR)"),
        "{}",
        f[0].detail
    );
    let apk = zip_of(&[
        ("AndroidManifest.xml", b"x"),
        ("classes.dex", b"dex\n035\0"),
    ]);
    let f = run(vec![part(Some("app.dat"), apk)]);
    assert!(codes(&f).contains(&"disguised_type"), "{f:?}");
}

#[test]
fn an_encrypted_zip_is_held_and_its_names_still_judged() {
    let zip = mark_encrypted(zip_of(&[("contract.pdf", b"%PDF-1.4")]));
    let f = run(vec![part(Some("secret.zip"), zip)]);
    assert_eq!(codes(&f), ["encrypted_archive"]);
    assert_eq!(f[0].action, Action::Quarantine);
    let zip = mark_encrypted(zip_of(&[("payload.exe", b"anything")]));
    let f = run(vec![part(Some("secret.zip"), zip)]);
    assert_eq!(codes(&f), ["blocked_in_archive", "encrypted_archive"]);
    assert_eq!(
        f[0].detail,
        "secret.zip/payload.exe: a Windows executable (blocked file type)"
    );
}

#[test]
fn tar_and_tar_gz_are_looked_into() {
    let tar = archive::tar::tests::tar_of(&[("docs/a.txt", b"hello"), ("bin/update.js", b"x")]);
    let f = run(vec![part(Some("backup.tar"), tar.clone())]);
    assert_eq!(codes(&f), ["blocked_in_archive"]);
    assert_eq!(
        f[0].detail,
        "backup.tar/bin/update.js: a JScript file (blocked file type)"
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    let tgz = gz.finish().unwrap();
    let f = run(vec![part(Some("backup.tgz"), tgz)]);
    assert_eq!(
        f[0].detail,
        "backup.tgz/bin/update.js: a JScript file (blocked file type)"
    );
    // A single gzipped file.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&pe()).unwrap();
    let f = run(vec![part(Some("tool.exe.gz"), gz.finish().unwrap())]);
    assert_eq!(
        f[0].detail,
        "tool.exe.gz/tool.exe: a Windows executable (blocked file type)"
    );
}

#[test]
fn an_ole_package_object_carrying_a_program_is_refused() {
    let mut file = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    file.create_storage("/ObjectPool").unwrap();
    file.create_storage("/ObjectPool/_1234").unwrap();
    let mut s = file
        .create_stream("/ObjectPool/_1234/\u{1}Ole10Native")
        .unwrap();
    s.write_all(&archive::ole::tests::package_stream("run.exe", &pe()))
        .unwrap();
    drop(s);
    let mut w = file.create_stream("/WordDocument").unwrap();
    w.write_all(b"plain text").unwrap();
    drop(w);
    file.flush().unwrap();
    let doc = file.into_inner().into_inner();
    let f = run(vec![part(Some("letter.doc"), doc)]);
    assert_eq!(codes(&f), ["blocked_in_archive"]);
    assert_eq!(
        f[0].detail,
        "letter.doc/ObjectPool/_1234/Ole10Native/run.exe: a Windows executable (blocked file type)"
    );
}

/// An OLE object embedded in a Word document (OOXML `word/embeddings/`) that packages a
/// program: zip, then OLE, then the package's file.
#[test]
fn a_program_packaged_in_a_docx_is_refused() {
    let mut file = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    let mut s = file.create_stream("/\u{1}Ole10Native").unwrap();
    s.write_all(&archive::ole::tests::package_stream(
        "invoice.pdf.scr",
        &pe(),
    ))
    .unwrap();
    drop(s);
    file.flush().unwrap();
    let ole = file.into_inner().into_inner();
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", b"<w:document/>"),
        ("word/embeddings/oleObject1.bin", &ole),
    ]);
    let f = run(vec![part(Some("offer.docx"), docx)]);
    assert_eq!(codes(&f), ["blocked_in_archive"]);
    assert_eq!(
        f[0].detail,
        "offer.docx/word/embeddings/oleObject1.bin/Ole10Native/invoice.pdf.scr: a Windows screen saver (a program) (blocked file type)"
    );
}

#[test]
fn a_gzipped_program_without_a_name_is_named_by_its_place() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&pe()).unwrap();
    let f = run(vec![part(Some("data.bin"), gz.finish().unwrap())]);
    assert_eq!(codes(&f), ["blocked_in_archive"]);
    assert_eq!(
        f[0].detail,
        "data.bin/(its content): a Windows executable (PE) (blocked file type)"
    );
}

#[test]
fn an_msi_is_an_installer_by_its_class() {
    let mut file = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    file.create_stream("/Property").unwrap();
    file.flush().unwrap();
    let mut msi = file.into_inner().into_inner();
    // MS-CFB §2.6.1: the root directory entry's CLSID at offset 0x50, little-endian GUID
    // fields ({000C1084-0000-0000-C000-000000000046}).
    let root: Vec<u8> = "Root Entry"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let at = msi
        .windows(root.len())
        .position(|w| w == root.as_slice())
        .unwrap();
    msi[at + 0x50..at + 0x60].copy_from_slice(b"\x84\x10\x0C\0\0\0\0\0\xC0\0\0\0\0\0\0\x46");
    let f = run(vec![part(Some("update.dat"), msi)]);
    assert_eq!(codes(&f), ["disguised_type"]);
    assert!(f[0].detail.contains("(MSI)"));
}

/// 42.zip's shape: each level holds 16 copies of the one below.
#[test]
fn a_nested_zip_bomb_is_refused_quickly() {
    let mut level = zip_of(&[("0.dat", &vec![0u8; 1 << 20])]);
    for _ in 0..5 {
        let copies: Vec<(String, Vec<u8>)> = (0..16)
            .map(|i| (format!("{i}.zip"), level.clone()))
            .collect();
        let refs: Vec<(&str, &[u8])> = copies
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        level = zip_of(&refs);
    }
    let started = Instant::now();
    let f = run(vec![part(Some("42.zip"), level)]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(codes(&f), ["archive_bomb"]);
    assert_eq!(f[0].action, Action::Reject);
    assert!(
        f[0].detail
            .starts_with("42.zip: archives nested more than 3 deep"),
        "{}",
        f[0].detail
    );
}

/// One entry of zeros expanding about 1000:1: refused once the ratio shows, without
/// expanding all of it.
#[test]
fn a_high_ratio_zip_bomb_is_refused_quickly() {
    let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated)
        .large_file(true);
    w.start_file("zeros.txt", opts).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..100 {
        w.write_all(&chunk).unwrap();
    }
    let bomb = w.finish().unwrap().into_inner();
    assert!(bomb.len() < 1 << 20);
    let started = Instant::now();
    let f = run(vec![part(Some("bomb.zip"), bomb)]);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(codes(&f), ["archive_bomb"]);
}

/// The budget is the message's, not each archive's: two archives that each fit do not both.
#[test]
fn regress_the_expansion_budget_spans_the_whole_message() {
    let settings = AttachmentSettings {
        archives: ArchiveLimits {
            max_expanded: 8 << 20,
            max_ratio: u64::MAX,
            ..ArchiveLimits::default()
        },
        ..AttachmentSettings::default()
    };
    let zeros = vec![0u8; 5 << 20];
    let one = || part(Some("a.zip"), zip_of(&[("zeros.bin", &zeros)]));
    assert!(run_to(&["b@example.net"], vec![one()], &settings).is_empty());
    let f = run_to(&["b@example.net"], vec![one(), one(), one()], &settings);
    assert_eq!(codes(&f), ["archive_bomb"]);
    assert!(
        f[0].detail.starts_with("a.zip: expands to more than 8 MiB"),
        "{}",
        f[0].detail
    );
    // The files after the bomb are still judged by name.
    let f = run_to(
        &["b@example.net"],
        vec![one(), one(), part(Some("x.exe"), vec![])],
        &settings,
    );
    assert_eq!(codes(&f), ["archive_bomb", "blocked_extension"]);
}

#[test]
fn too_many_entries_are_held_not_refused() {
    let names: Vec<String> = (0..50).map(|i| format!("f{i}.txt")).collect();
    let files: Vec<(&str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), b"x".as_slice()))
        .collect();
    let settings = AttachmentSettings {
        archives: ArchiveLimits {
            max_entries: 10,
            ..ArchiveLimits::default()
        },
        ..AttachmentSettings::default()
    };
    let f = run_to(
        &["b@example.net"],
        vec![part(Some("many.zip"), zip_of(&files))],
        &settings,
    );
    assert_eq!(codes(&f), ["archive_limits"]);
    assert_eq!(f[0].action, Action::Quarantine);
}

#[test]
fn disabled_finds_nothing() {
    let settings = AttachmentSettings {
        enabled: false,
        ..AttachmentSettings::default()
    };
    assert!(
        run_to(
            &["b@example.net"],
            vec![part(Some("a.exe"), pe())],
            &settings
        )
        .is_empty()
    );
}

#[test]
fn text_bodies_are_not_files() {
    let mut body = part(None, b"#!/bin/sh\necho hi\n".to_vec());
    body.content_type = "text/plain".into();
    body.is_attachment = false;
    assert!(run(vec![body]).is_empty());
}

mod arbitrary_bytes {
    use super::*;
    use proptest::prelude::*;

    const SEVEN_ZIP_PACKED: &[u8] = include_bytes!("../../tests/data/attachments/packed.7z");
    const SEVEN_ZIP_PLAIN: &[u8] = include_bytes!("../../tests/data/attachments/plain.7z");

    #[test]
    fn the_7z_fixtures_list_their_files() {
        for data in [SEVEN_ZIP_PACKED, SEVEN_ZIP_PLAIN] {
            let mut names = Vec::new();
            let mut budget = Budget::new(ArchiveLimits::default());
            archive::sevenz::list(data, &mut budget, &mut |e, _| {
                names.push(e.name.clone());
                Ok(())
            })
            .unwrap();
            names.sort();
            assert_eq!(names, ["d/readme.txt", "run.exe"]);
        }
    }

    /// The signatures that send bytes to each reader.
    const PREFIXES: [&[u8]; 7] = [
        b"PK\x03\x04",
        b"7z\xBC\xAF\x27\x1C\0\x04",
        b"Rar!\x1A\x07\x00",
        b"Rar!\x1A\x07\x01\x00",
        b"\x1F\x8B\x08\0",
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        b"",
    ];

    fn readers(data: &[u8]) {
        let limits = ArchiveLimits {
            max_entries: 100,
            max_expanded: 1 << 20,
            ..ArchiveLimits::default()
        };
        let mut visit = |e: Entry<'_>, _: &mut Budget| {
            assert!(e.data.len() <= 1 << 20);
            Ok(())
        };
        // Each reader directly (not behind `guarded`), so a panic fails the test.
        let _ = archive::zip::list(data, &mut Budget::new(limits), &mut visit);
        let _ = archive::sevenz::list(data, &mut Budget::new(limits), &mut visit);
        let _ = archive::rar::list(data, &mut Budget::new(limits), &mut visit);
        let _ = archive::tar::list(data, &mut Budget::new(limits), &mut visit);
        let _ = archive::gzip::decompress(data, &mut Budget::new(limits));
        let _ = archive::ole::list(data, &mut Budget::new(limits), &mut visit);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn the_readers_never_panic(which in 0..PREFIXES.len(), tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut data = PREFIXES[which].to_vec();
            data.extend_from_slice(&tail);
            readers(&data);
            let f = run(vec![part(Some("x.bin"), data)]);
            prop_assert!(f.len() <= 100);
        }

        /// Real archives with bytes flipped: the readers get past the signature checks.
        #[test]
        fn damaged_archives_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), which in 0..6usize) {
            let mut data = match which {
                0 => zip_of(&[("a.txt", b"hello"), ("b.exe", &pe())]),
                1 => archive::tar::tests::tar_of(&[("a.txt", b"hello"), ("b.exe", b"MZ")]),
                2 => archive::rar::tests::rar5_of(&["a.txt", "b.exe"], false),
                3 => archive::rar::tests::rar4_of(&["a.txt", "b.exe"]),
                // Made by 7-Zip 26.02 (`7z a`, and `7z a -mhc=off`): run.exe and d/readme.txt.
                4 => SEVEN_ZIP_PACKED.to_vec(),
                _ => SEVEN_ZIP_PLAIN.to_vec(),
            };
            for (at, byte) in flips {
                let len = data.len();
                data[at % len] = byte;
            }
            readers(&data);
        }
    }
}
