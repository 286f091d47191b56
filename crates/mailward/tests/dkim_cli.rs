//! `mailward dkim keygen`, run as a user runs it: the key lands in the data directory,
//! private, and the record it prints is the key's: a signature made with the written key
//! verifies in python3-dkim against the printed `p=` (skipped with a notice when
//! `/usr/bin/python3` lacks the `dkim` module, Debian package python3-dkim).
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{BIN, config_text};
use mailward_auth::dkim::Signer;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PYTHON: &str = "/usr/bin/python3";

struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("mailward.toml");
        std::fs::write(&config, config_text(dir.path(), "")).unwrap();
        Setup { dir, config }
    }

    fn keygen(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .args(["dkim", "keygen"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn key_dir(&self) -> PathBuf {
        self.dir.path().join("data").join("dkim")
    }
}

/// The printed `Name:` and `Value:`, and the zone-file strings joined.
fn printed_record(stdout: &str) -> (String, String, String) {
    let field = |label: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label} line in:\n{stdout}"))
            .trim()
            .to_string()
    };
    let zone = stdout
        .split_once("IN TXT ")
        .unwrap_or_else(|| panic!("no zone-file line in:\n{stdout}"))
        .1;
    let mut joined = String::new();
    for (i, part) in zone.split('"').enumerate() {
        if i % 2 == 1 {
            assert!(part.len() <= 255, "a TXT string over 255 octets: {part}");
            joined.push_str(part);
        }
    }
    (field("Name:"), field("Value:"), joined)
}

fn python_dkim() -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import dkim, nacl.signing"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("SKIPPED: {PYTHON} cannot import dkim and nacl (Debian: python3-dkim)");
    }
    ok
}

fn python_verify(message: &[u8], records: &BTreeMap<String, String>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let msg = dir.path().join("message.eml");
    let rec = dir.path().join("records.json");
    std::fs::write(&msg, message).unwrap();
    std::fs::write(&rec, serde_json::to_vec(records).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../auth/tests/dkim_verify.py");
    let out = Command::new(PYTHON)
        .arg(&script)
        .arg(&msg)
        .arg(&rec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn keygen_prints_the_record_of_the_key_it_writes() {
    for algorithm in ["rsa", "ed25519"] {
        let s = Setup::new();
        let out = s.keygen(&[
            "Example.TEST.",
            "--selector",
            "s1",
            "--algorithm",
            algorithm,
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = s.key_dir().join("example.test").join("s1.pem");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{algorithm} key mode");
        let (name, value, zone) = printed_record(&stdout);
        assert_eq!(name, "s1._domainkey.example.test");
        assert!(
            value.starts_with(&format!("v=DKIM1; k={algorithm}; p=")),
            "{value}"
        );
        assert_eq!(zone, value, "the zone-file strings join to the record");
        if algorithm == "rsa" {
            assert!(
                value.len() > 255,
                "an RSA-2048 record needs several strings"
            );
        }

        if !python_dkim() {
            continue;
        }
        // Sign with the written key; verify against what was printed, nothing else.
        let signer = Signer::load(&s.key_dir()).unwrap();
        let msg = b"From: Ann <ann@example.test>\r\nTo: bob@example.net\r\nSubject: Hi\r\n\
Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\nHello.\r\n";
        let fields = signer
            .sign(msg)
            .unwrap()
            .expect("a signature for example.test");
        let signed = [fields, msg.to_vec()].concat();
        let records = BTreeMap::from([(name.clone(), value.clone())]);
        assert_eq!(python_verify(&signed, &records), ["0 pass"], "{algorithm}");
        // A record with another key's p= must not verify (the check can fail).
        let other = Setup::new();
        let out = other.keygen(&["example.test", "--selector", "s1", "--algorithm", algorithm]);
        let (_, other_value, _) = printed_record(&String::from_utf8_lossy(&out.stdout));
        let records = BTreeMap::from([(name, other_value)]);
        let verdict = python_verify(&signed, &records);
        assert!(verdict[0].starts_with("0 fail"), "{algorithm}: {verdict:?}");
    }
}

#[test]
fn keygen_never_replaces_a_key() {
    let s = Setup::new();
    let first = s.keygen(&["example.test", "--selector", "s1", "--algorithm", "ed25519"]);
    assert!(first.status.success());
    let path = s.key_dir().join("example.test").join("s1.pem");
    let before = std::fs::read(&path).unwrap();
    let again = s.keygen(&["example.test", "--selector", "s1", "--algorithm", "rsa"]);
    assert_eq!(again.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("exists already"), "{stderr}");
    assert!(
        again.stdout.is_empty(),
        "no record printed for a refused key"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn keygen_defaults_to_rsa_with_a_year_month_selector() {
    let s = Setup::new();
    let out = s.keygen(&["example.test"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (name, value, _) = printed_record(&stdout);
    let selector = name.strip_suffix("._domainkey.example.test").unwrap();
    assert!(
        selector.len() == 6 && selector.bytes().all(|b| b.is_ascii_digit()),
        "{selector}"
    );
    let month: u32 = selector[4..].parse().unwrap();
    assert!(
        (1..=12).contains(&month) && selector >= "202601",
        "{selector}"
    );
    assert!(value.starts_with("v=DKIM1; k=rsa; p="), "{value}");
    assert!(
        s.key_dir()
            .join("example.test")
            .join(format!("{selector}.pem"))
            .exists()
    );
}

#[test]
fn keygen_refuses_names_that_are_not_names() {
    let s = Setup::new();
    for args in [
        &["../evil", "--selector", "s1"][..],
        &["example.test", "--selector", "../../x"],
        &["example.test", "--algorithm", "dsa"],
    ] {
        let out = s.keygen(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(!s.key_dir().exists() || std::fs::read_dir(s.key_dir()).unwrap().next().is_none());
}
