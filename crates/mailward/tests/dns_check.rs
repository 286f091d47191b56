//! `mailward dns check` against a real name server (Debian's dnsmasq) serving a domain set
//! up well and one set up badly: exit 0 with every item passing for the first, exit 1 with
//! each failure named for the second, and `--json` that parses.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_dns;
mod common_serve;

use common_dns::{Dns, start_dns};

use common_serve::{BIN, config_text};
use std::process::{Command, Output};

/// `--txt-record=NAME,STRING...` with the value cut into strings of at most 255 octets.
fn txt(name: &str, value: &str) -> String {
    let parts: Vec<String> = value
        .as_bytes()
        .chunks(255)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    format!("--txt-record={name},{}", parts.join(","))
}

/// The DKIM record `mailward dkim keygen` prints for good.test, selector `sel1`.
fn dkim_record(dir: &std::path::Path) -> String {
    let config = dir.join("mailward.toml");
    std::fs::write(&config, config_text(dir, "")).unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .args(["dkim", "keygen", "good.test", "--selector", "sel1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Value:"))
        .unwrap()
        .trim()
        .to_string()
}

fn check(dns: &Dns, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["dns", "check"])
        .args(args)
        .arg("--dns-server")
        .arg(format!("127.0.0.1:{}", dns.port))
        .output()
        .unwrap()
}

fn records(dkim: &str) -> Vec<String> {
    let mut r = vec![
        // good.test: everything right.
        "--mx-host=good.test,mx.good.test,10".to_string(),
        // A and the PTR back (forward-confirmed reverse DNS; not loopback, which dnsmasq
        // names localhost).
        "--host-record=mx.good.test,192.0.2.25".to_string(),
        txt("good.test", "v=spf1 mx include:_spf.good.test -all"),
        txt("_spf.good.test", "v=spf1 ip4:192.0.2.0/24 ~all"),
        txt(
            "_dmarc.good.test",
            "v=DMARC1; p=reject; rua=mailto:dmarc@good.test",
        ),
        txt("sel1._domainkey.good.test", dkim),
        txt("_mta-sts.good.test", "v=STSv1; id=20261207"),
        txt(
            "_smtp._tls.good.test",
            "v=TLSRPTv1; rua=mailto:tlsrpt@good.test",
        ),
        // bad.test: an MX host without an address, SPF with +all, an include loop and
        // too many lookups, two DMARC records, a DKIM key that is not a key.
        "--mx-host=bad.test,mx.bad.test,10".to_string(),
        txt(
            "bad.test",
            "v=spf1 include:loop1.bad.test a a a a a a a a a a +all",
        ),
        txt("loop1.bad.test", "v=spf1 include:loop2.bad.test -all"),
        txt("loop2.bad.test", "v=spf1 include:loop1.bad.test -all"),
        txt("_dmarc.bad.test", "v=DMARC1; p=none"),
        txt("_dmarc.bad.test", "v=DMARC1; p=reject"),
        txt(
            "broken._domainkey.bad.test",
            "v=DKIM1; k=rsa; p=bm90IGEga2V5",
        ),
    ];
    r.push("--txt-record=_mta-sts.bad.test,v=STSv1".to_string());
    r
}

#[test]
fn good_domain_passes_every_check() {
    let dir = tempfile::tempdir().unwrap();
    let dkim = dkim_record(dir.path());
    let Some(dns) = start_dns(&records(&dkim)) else {
        return;
    };
    let out = check(&dns, &["good.test", "--selector", "sel1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains("WARN") && !stdout.contains("FAIL"),
        "{stdout}"
    );
    for expected in [
        "10 mx.good.test",
        "resolves to 192.0.2.25",
        "reverse DNS mx.good.test resolves back to 192.0.2.25",
        "-all",
        "policy p=reject",
        "RSA key of 2048 bits",
        "id=20261207",
        "rua=mailto:tlsrpt@good.test",
    ] {
        assert!(stdout.contains(expected), "no {expected:?} in:\n{stdout}");
    }

    let out = check(&dns, &["good.test", "--selector", "sel1", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["domain"], "good.test");
    assert_eq!(v["summary"]["fail"], 0);
    assert_eq!(v["summary"]["warn"], 0);
    let items = v["items"].as_array().unwrap();
    for check in ["mx", "spf", "dmarc", "dkim", "mta-sts", "tls-rpt"] {
        assert!(
            items
                .iter()
                .any(|i| i["check"] == check && i["status"] == "pass"),
            "no passing {check} item"
        );
    }
}

#[test]
fn bad_domain_fails_with_each_failure_named() {
    let Some(dns) = start_dns(&records("v=DKIM1; p=")) else {
        return;
    };
    let out = check(&dns, &["bad.test", "--selector", "broken", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fails: Vec<(String, String)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "fail")
        .map(|i| {
            assert!(i["fix"].is_string(), "a failure without a fix: {i}");
            (
                i["check"].as_str().unwrap().to_string(),
                i["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |check: &str, text: &str| {
        assert!(
            fails.iter().any(|(c, r)| c == check && r.contains(text)),
            "no {check} failure mentioning {text:?} in {fails:#?}"
        );
    };
    has("mx", "the MX host has no address");
    has("spf", "+all");
    has("spf", "include loop");
    has("spf", "over the limit of 10");
    has("spf", "void lookups");
    has("dmarc", "2 DMARC records");
    has("dkim", "not an RSA public key");
    has("mta-sts", "no id=");

    // The text names them too, and a selector that is not there fails.
    let out = check(&dns, &["bad.test", "--selector", "missing"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAIL  missing._domainkey.bad.test"),
        "{stdout}"
    );
    assert!(stdout.contains("fix: "), "{stdout}");
}

#[test]
fn unknown_domain_and_guessed_selectors() {
    let Some(dns) = start_dns(&records("v=DKIM1; p=")) else {
        return;
    };
    // No DKIM selector given and none of the common ones there: a warning, not a failure.
    let out = check(&dns, &["good.test"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("WARN  good.test: no DKIM key at the common selectors"),
        "{stdout}"
    );
    // A domain that does not exist fails at its MX.
    let out = check(&dns, &["nowhere.test", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["items"][0]["reason"],
        "the domain does not exist (NXDOMAIN)"
    );
}
