//! The security gateway's antivirus end to end (issue 17): a real clamd from Debian's
//! clamav-daemon, started offline by the test with our signatures; messages sent with
//! Python's smtplib to `mailward serve`.
//!
//! - EICAR in a ZIP in a base64 attachment is refused with `554 5.7.1`;
//! - every sample of Debian's clamav-testfiles, attached, is refused;
//! - a clean message passes with `X-Mailward-Antivirus: clean (clamd)`;
//! - with clamd stopped, a message is deferred with `451 4.7.1` (fail closed).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_clamd;
mod common_serve;

use base64::Engine as _;
use common_clamd::{TESTFILES, eicar, start_clamd};
use common_serve::Mailward;
use std::path::Path;
use std::process::Command;

fn message(subject: &str, name: &str, data: &[u8]) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: alice@sender.test\r\nTo: bob@example.test\r\nSubject: {subject}\r\n\
Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"sep\"\r\n\r\n\
--sep\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n\
--sep\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--sep--\r\n",
        lines.join("\r\n")
    )
    .into_bytes()
}

fn zipped(name: &str, data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    zip.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(data).unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

fn send_all(m: &Mailward, dir: &Path) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/filter_send.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(m.smtp.to_string())
        .arg(dir)
        .args(["alice@sender.test", "bob@example.test"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap()
}

#[test]
fn clamd_refuses_every_virus_passes_clean_mail_and_its_absence_defers() {
    let Some(mut clamd) = start_clamd() else {
        return;
    };
    // The file block list is off here: every refusal below is clamd's.
    let extra = format!(
        "[filter]\nenabled = true\n\n[filter.attachments]\nenabled = false\n\n\
[filter.antivirus]\nclamd = \"{}\"\ntimeout = \"20s\"\n",
        clamd.tcp
    );
    let m = Mailward::start_edited(&extra, |text| {
        text.replace("message_size = \"100K\"", "message_size = \"4M\"")
    });
    m.add_account("bob@example.test", None);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("eicar-zip.eml"),
        message("eicar", "invoice.zip", &zipped("invoice.txt", &eicar())),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("clean.eml"),
        message("clean", "notes.txt", b"nothing to see\r\n"),
    )
    .unwrap();
    let mut samples = Vec::new();
    if let Ok(rd) = std::fs::read_dir(TESTFILES) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let data = std::fs::read(e.path()).unwrap();
            std::fs::write(
                dir.path().join(format!("sample-{name}.eml")),
                message(&format!("sample {name}"), &name, &data),
            )
            .unwrap();
            samples.push(name);
        }
    }
    assert!(
        samples.len() >= 40 || std::env::var("MAILWARD_SKIP_PEERS").as_deref() == Ok("1"),
        "clamav-testfiles is not installed: apt-get install clamav-testfiles"
    );
    let replies = send_all(&m, dir.path());
    let eicar = &replies["eicar-zip.eml"];
    assert_eq!(eicar[0], 554, "{eicar}");
    let text = eicar[1].as_str().unwrap();
    assert!(
        text.starts_with("5.7.1 ") && text.contains("Mailward-Test-Eicar"),
        "{text}"
    );
    for name in &samples {
        let r = &replies[format!("sample-{name}.eml")];
        assert_eq!(r[0], 554, "{name} was not refused: {r}");
    }
    assert_eq!(replies["clean.eml"][0], 250, "{replies}");
    let clean = m.wait_for_mail("bob", "Subject: clean");
    assert!(
        clean.contains("X-Mailward-Antivirus: clean (clamd)"),
        "{clean}"
    );
    assert_eq!(m.inbox("bob").len(), 1, "only the clean message arrives");

    // clamd gone: fail closed, the sender is told to try again.
    clamd.stop();
    let again = tempfile::tempdir().unwrap();
    std::fs::write(
        again.path().join("later.eml"),
        message("later", "notes.txt", b"nothing to see\r\n"),
    )
    .unwrap();
    let replies = send_all(&m, again.path());
    let later = &replies["later.eml"];
    assert_eq!(later[0], 451, "{later}");
    assert!(later[1].as_str().unwrap().starts_with("4.7.1 "), "{later}");
}
