//! Inbound mail authentication end to end (issue 16): `mailward serve` with a private
//! dnsmasq serving the sender domains' SPF, DKIM and DMARC records, messages DKIM-signed by
//! an independent signer (python3-dkim) and sent with Python's smtplib to port 25.
//!
//! - an aligned signed message lands in INBOX with `spf=pass`, `dkim=pass`, `dmarc=pass`,
//!   and the `Authentication-Results:` forged in our name is gone;
//! - a message changed after signing is `dkim=fail`, `dmarc=fail` (its domain says `p=none`);
//! - a spoofed From of a `p=reject` domain is refused at DATA with `550 5.7.1`;
//! - one of a `p=quarantine` domain lands in Junk;
//! - a signed message past the spool threshold is checked from its spool file;
//! - mail from an authenticated client is not checked (submission, not inbound);
//! - a checked message that an alias forwards outside leaves ARC-sealed (RFC 8617), and
//!   python3-dkim validates the chain.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_dns;
mod common_outbound;
mod common_serve;

use common_dns::start_dns;
use common_outbound::{DOMAIN, Destination, route_to};
use common_serve::{Mailward, debian_tool};
use std::path::Path;
use std::process::Command;

fn txt(name: &str, value: &str) -> String {
    let parts: Vec<String> = value
        .as_bytes()
        .chunks(255)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    format!("--txt-record={name},{}", parts.join(","))
}

/// An RSA-2048 key in `dir/dkim.pem`; returns the DKIM record of its public half.
fn dkim_key(dir: &Path) -> String {
    let pem = dir.join("dkim.pem");
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&pem)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "openssl genpkey");
    let public = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&pem)
        .output()
        .unwrap();
    assert!(public.status.success());
    let base64: String = String::from_utf8(public.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    format!("v=DKIM1; k=rsa; p={base64}")
}

fn records(dkim: &str) -> Vec<String> {
    vec![
        "--host-record=sender.test,192.0.2.10".into(),
        txt("sender.test", "v=spf1 ip4:127.0.0.1 -all"),
        txt("sel._domainkey.sender.test", dkim),
        txt("_dmarc.sender.test", "v=DMARC1; p=none"),
        txt("other.test", "v=spf1 ip4:127.0.0.1 -all"),
        "--host-record=bank.test,192.0.2.20".into(),
        txt("bank.test", "v=spf1 ip4:192.0.2.20 -all"),
        txt("_dmarc.bank.test", "v=DMARC1; p=reject"),
        "--host-record=shop.test,192.0.2.30".into(),
        txt("shop.test", "v=spf1 ip4:192.0.2.30 -all"),
        txt("_dmarc.shop.test", "v=DMARC1; p=quarantine"),
    ]
}

/// Files in `new/` of the folder directory `dir`, as text.
fn messages_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("new"))
        .map(|rd| {
            rd.flatten()
                .map(|e| String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn spf_dkim_dmarc_are_checked_and_the_policy_applied() {
    let Some(python) = debian_tool("python3", "python3") else {
        return;
    };
    let has_dkim = Command::new(&python)
        .args(["-c", "import dkim"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_dkim {
        assert!(
            std::env::var("MAILWARD_SKIP_PEERS").as_deref() == Ok("1"),
            "python3-dkim is not installed: apt-get install python3-dkim"
        );
        eprintln!("SKIPPED: python3-dkim not installed; MAILWARD_SKIP_PEERS=1");
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let dkim = dkim_key(keys.path());
    let Some(dns) = start_dns(&records(&dkim)) else {
        return;
    };
    // Loopback is not a trusted network here, so DMARC failures from it are enforced.
    let extra = format!(
        "[dns]\nresolver = \"127.0.0.1:{}\"\n\n[relay]\nnetworks = []\n\n[verify]\ntimeout = \"10s\"\n",
        dns.port
    );
    let m = Mailward::start_edited(&extra, |text| {
        text.replace("[dns]\nresolver = \"127.0.0.1:9\"\n", "")
            .replace(
                "message_size = \"100K\"",
                "message_size = \"2M\"\nspool_threshold = \"64K\"",
            )
    });
    m.add_account("bob@example.test", None);

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/verify_send.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(m.smtp.to_string())
        .arg(keys.path().join("dkim.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}\nlog: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        m.log_tail(30)
    );
    let replies: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    let code = |case: &str| replies[case][0].as_u64().unwrap();
    let text = |case: &str| replies[case][1].as_str().unwrap().to_string();
    for case in ["aligned", "tampered", "quarantine", "big"] {
        assert_eq!(code(case), 250, "{case}: {}", text(case));
    }
    assert_eq!(code("reject"), 550, "{}", text("reject"));
    assert!(
        text("reject").starts_with("5.7.1 ") && text("reject").contains("bank.test"),
        "{}",
        text("reject")
    );

    let aligned = m.wait_for_mail("bob", "Subject: aligned");
    for expected in [
        "Received-SPF: pass (mx.example.test: ",
        "Authentication-Results: mx.example.test;\r\n\tspf=pass smtp.mailfrom=alice@sender.test;",
        "dkim=pass header.d=sender.test header.s=sel header.a=rsa-sha256",
        "dmarc=pass header.from=sender.test policy.dmarc=none",
    ] {
        assert!(
            aligned.contains(expected),
            "{expected:?} missing:\n{aligned}"
        );
    }
    assert!(!aligned.contains("forged by the sender"), "{aligned}");
    assert_eq!(aligned.matches("Authentication-Results:").count(), 1);
    // Our Received: comes first, then the results, then the message as it arrived.
    let received = aligned.find("Received: from").unwrap();
    let results = aligned.find("Authentication-Results:").unwrap();
    let signature = aligned.find("DKIM-Signature:").unwrap();
    assert!(received < results && results < signature, "{aligned}");

    let tampered = m.wait_for_mail("bob", "Subject: tampered");
    assert!(
        tampered.contains("spf=pass smtp.mailfrom=bounce@other.test"),
        "{tampered}"
    );
    assert!(
        tampered.contains("dkim=fail reason=\"body hash did not verify"),
        "{tampered}"
    );
    assert!(tampered.contains("dmarc=fail"), "{tampered}");

    let big = m.wait_for_mail("bob", "Subject: big");
    assert!(big.contains("dkim=pass header.d=sender.test"), "{big}");
    assert!(big.len() > 300_000);

    // Mail from an authenticated client is submission, not inbound: not checked.
    let submitted = m.wait_for_mail("bob", "Subject: submitted");
    assert!(
        !submitted.contains("Authentication-Results:"),
        "{submitted}"
    );
    assert!(!submitted.contains("Received-SPF:"), "{submitted}");

    // p=quarantine: into Junk, not INBOX.
    let junk = m.maildir("bob").join(".Junk");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while messages_in(&junk).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let junked = messages_in(&junk);
    assert_eq!(junked.len(), 1, "Junk: {junked:?}");
    assert!(junked[0].contains("dmarc=fail") && junked[0].contains("policy.dmarc=quarantine"));
    assert!(
        m.inbox("bob")
            .iter()
            .all(|(_, t)| !t.contains("Subject: quarantine"))
    );
    assert!(
        m.inbox("bob")
            .iter()
            .all(|(_, t)| !t.contains("Subject: reject"))
    );

    // Each evaluation is recorded for the DMARC aggregate reports (RFC 9990).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let report = loop {
        let out = m.cli(
            &["dmarc", "report", "--domain", "bank.test", "--json"],
            None,
        );
        let json: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        if json["reports"][0]["messages"] == 1 {
            break json;
        }
        assert!(std::time::Instant::now() < deadline, "not recorded: {out}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let row = &report["reports"][0]["rows"][0]["row"];
    assert_eq!(row["disposition"], "reject", "{report:#}");
    assert_eq!(row["source_ip"], "127.0.0.1", "{report:#}");
    assert_eq!(row["header_from"], "bank.test", "{report:#}");

    // The log says what was checked and done.
    let lines = m.log_lines();
    let auth: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["event"] == "mail_auth").collect();
    assert_eq!(auth.len(), 5, "{auth:?}");
    let action = |domain: &str, subject_spf: &str| {
        auth.iter()
            .find(|l| l["from_domain"] == domain && l["spf_domain"] == subject_spf)
            .map(|l| l["action"].as_str().unwrap().to_string())
    };
    assert_eq!(action("bank.test", "bank.test").as_deref(), Some("reject"));
    assert_eq!(
        action("shop.test", "shop.test").as_deref(),
        Some("quarantine")
    );
    assert!(
        lines
            .iter()
            .any(|l| l["event"] == "rejected" && l["code"] == "550 5.7.1"),
        "{}",
        m.log_tail(30)
    );
}

/// python3-dkim's `arc_verify` verdict (`pass ...`), with `records` (name → TXT) as DNS.
fn python_arc_verify(python: &Path, message: &str, records: &serde_json::Value) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.eml"), message).unwrap();
    std::fs::write(dir.path().join("r.json"), records.to_string()).unwrap();
    // The same independent check the auth crate's ARC tests use.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../auth/tests/arc_verify.py");
    let out = Command::new(python)
        .arg(script)
        .arg(dir.path().join("m.eml"))
        .arg(dir.path().join("r.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_checked_message_forwarded_by_an_alias_leaves_arc_sealed() {
    let Some(python) = debian_tool("python3", "python3") else {
        return;
    };
    if !Command::new(&python)
        .args(["-c", "import dkim"])
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("SKIPPED: python3-dkim not installed");
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let dkim = dkim_key(keys.path());
    let Some(dns) = start_dns(&records(&dkim)) else {
        return;
    };
    let dest = Destination::start("accept", 0);
    let extra = format!(
        "[dns]\nresolver = \"127.0.0.1:{}\"\n\n[verify]\ntimeout = \"10s\"\n{}",
        dns.port,
        route_to(dest.port, None)
    );
    let mut m = Mailward::start_edited(&extra, |text| {
        text.replace("[dns]\nresolver = \"127.0.0.1:9\"\n", "")
    });
    // example.test's RSA key seals (keys are read at start: restart after keygen).
    let keygen = m.cli(
        &[
            "dkim",
            "keygen",
            "example.test",
            "--selector",
            "arc",
            "--algorithm",
            "rsa",
        ],
        None,
    );
    let field = |key: &str| {
        keygen
            .lines()
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {key} in keygen output: {keygen}"))
    };
    let records = serde_json::json!({
        field("Name:"): field("Value:"),
        "sel._domainkey.sender.test": dkim,
    });
    m.kill9();
    m.spawn();
    m.cli(
        &[
            "alias",
            "add",
            "team@example.test",
            &format!("far@{DOMAIN}"),
        ],
        None,
    );

    let script = r#"
import dkim, smtplib, sys
key = open(sys.argv[2], 'rb').read()
msg = (b"From: <alice@sender.test>\r\nTo: <team@example.test>\r\nSubject: for the team\r\n"
       b"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <team@test>\r\n\r\nHello team.\r\n")
msg = dkim.sign(msg, b"sel", b"sender.test", key, canonicalize=(b"relaxed", b"relaxed"),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"]) + msg
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60)
s.ehlo("mta.sender.test")
s.sendmail("alice@sender.test", ["team@example.test"], msg)
s.quit()
"#;
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(m.smtp.to_string())
        .arg(keys.path().join("dkim.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let message = loop {
        if let Some(text) = dest
            .events()
            .iter()
            .find(|e| e["event"] == "accepted")
            .and_then(|e| e["message"].as_str().map(str::to_string))
        {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not forwarded: {}",
            m.log_tail(20)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        message.starts_with("ARC-Seal: i=1; a=rsa-sha256;"),
        "{message}"
    );
    assert!(message.contains("d=example.test"), "{message}");
    assert!(
        message.contains("ARC-Authentication-Results: i=1; mx.example.test;"),
        "{message}"
    );
    let verdict = python_arc_verify(&python, &message, &records);
    assert!(
        verdict.starts_with("pass"),
        "python3-dkim arc_verify: {verdict}\n{message}"
    );
}
