//! Differential SPF check: the same records, served by a private dnsmasq, and the same
//! clients, evaluated by `check_spf_mail_from` over a real resolver and by Debian's
//! python3-spf (pyspf, `spf.check2`), an independent implementation. Results must agree
//! except where listed in [`PYSPF_DIFFERS`] with the reason.
//!
//! Needs dnsmasq (Debian dnsmasq-base) and `/usr/bin/python3` with the `spf` module
//! (Debian python3-spf); without them the test prints `SKIPPED: ...` and passes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_dnsmasq;

use mailward_auth::Resolver;
use mailward_auth::verify::{Lookups, check_spf_mail_from};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::Duration;

const PYTHON: &str = "/usr/bin/python3";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/spf_pyspf.py");

/// The zone: (dnsmasq option, value). No record holds a comma (dnsmasq splits TXT strings
/// there).
const ZONE: &[(&str, &str)] = &[
    ("txt-record", "plain.test,v=spf1 ip4:192.0.2.0/24 -all"),
    ("txt-record", "mx.test,v=spf1 mx -all"),
    ("mx-host", "mx.test,mail.mx.test,10"),
    ("host-record", "mail.mx.test,192.0.2.20"),
    ("txt-record", "a.test,v=spf1 a/30 ~all"),
    ("host-record", "a.test,192.0.2.40"),
    ("txt-record", "inc.test,v=spf1 include:_spf.inc.test ?all"),
    ("txt-record", "_spf.inc.test,v=spf1 ip6:2001:db8::/32 -all"),
    ("txt-record", "loop.test,v=spf1 include:loop2.test -all"),
    ("txt-record", "loop2.test,v=spf1 include:loop.test -all"),
    ("txt-record", "two.test,v=spf1 ip4:192.0.2.0/24 -all"),
    ("txt-record", "two.test,v=spf1 -all"),
    ("txt-record", "syntax.test,v=spf1 ip4:192.0.2.0/33 -all"),
    (
        "txt-record",
        "void.test,v=spf1 a:n1.void.test mx:n2.void.test a:n3.void.test ip4:192.0.2.0/24 -all",
    ),
    (
        "txt-record",
        "many.test,v=spf1 a:h.many.test a:h.many.test a:h.many.test a:h.many.test a:h.many.test a:h.many.test a:h.many.test a:h.many.test a:h.many.test a:h.many.test a:h.many.test ip4:192.0.2.0/24 -all",
    ),
    ("host-record", "h.many.test,198.51.100.1"),
    ("txt-record", "redir.test,v=spf1 redirect=plain.test"),
    (
        "txt-record",
        "exists.test,v=spf1 exists:%{i}.ok.exists.test -all",
    ),
    ("host-record", "192.0.2.9.ok.exists.test,127.0.0.2"),
    ("txt-record", "exp.test,v=spf1 -all exp=why.exp.test"),
    ("txt-record", "why.exp.test,%{i} may not send for %{d}"),
    (
        "txt-record",
        "incnone.test,v=spf1 include:nothing.test -all",
    ),
    (
        "txt-record",
        "macro.test,v=spf1 exists:%{l}.users.macro.test -all",
    ),
    ("host-record", "alice.users.macro.test,127.0.0.2"),
    ("txt-record", "other.test,some verification token"),
    ("txt-record", "neutral.test,v=spf1 ?all"),
    (
        "txt-record",
        "mixed.test,v=spf1 -ip4:192.0.2.5 +ip4:192.0.2.0/24 ~all",
    ),
];

/// (client IP, MAIL FROM, HELO).
const CASES: &[(&str, &str, &str)] = &[
    ("192.0.2.5", "bob@plain.test", "mta.test"),
    ("198.51.100.1", "bob@plain.test", "mta.test"),
    ("::ffff:192.0.2.5", "bob@plain.test", "mta.test"),
    ("2001:db8::1", "bob@plain.test", "mta.test"),
    ("192.0.2.20", "bob@mx.test", "mta.test"),
    ("192.0.2.21", "bob@mx.test", "mta.test"),
    ("192.0.2.41", "bob@a.test", "mta.test"),
    ("192.0.2.50", "bob@a.test", "mta.test"),
    ("2001:db8::5", "bob@inc.test", "mta.test"),
    ("192.0.2.1", "bob@inc.test", "mta.test"),
    ("192.0.2.1", "bob@loop.test", "mta.test"),
    ("192.0.2.1", "bob@two.test", "mta.test"),
    ("192.0.2.1", "bob@syntax.test", "mta.test"),
    ("192.0.2.5", "bob@void.test", "mta.test"),
    ("192.0.2.5", "bob@many.test", "mta.test"),
    ("192.0.2.5", "bob@redir.test", "mta.test"),
    ("203.0.113.1", "bob@redir.test", "mta.test"),
    ("192.0.2.9", "bob@exists.test", "mta.test"),
    ("192.0.2.10", "bob@exists.test", "mta.test"),
    ("192.0.2.10", "bob@exp.test", "mta.test"),
    ("192.0.2.10", "bob@incnone.test", "mta.test"),
    ("192.0.2.10", "alice@macro.test", "mta.test"),
    ("192.0.2.10", "bob@macro.test", "mta.test"),
    ("192.0.2.10", "bob@nowhere.test", "mta.test"),
    ("192.0.2.10", "bob@other.test", "mta.test"),
    ("192.0.2.10", "bob@neutral.test", "mta.test"),
    ("192.0.2.5", "bob@mixed.test", "mta.test"),
    ("192.0.2.6", "bob@mixed.test", "mta.test"),
    ("198.51.100.9", "bob@mixed.test", "mta.test"),
    ("192.0.2.5", "", "plain.test"),
];

/// Cases where pyspf is wrong and we are right, with why: (MAIL FROM, client, pyspf's result).
const PYSPF_DIFFERS: &[(&str, &str, &str, &str)] = &[];

fn pyspf_available() -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import spf, dns.resolver"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("SKIPPED: {PYTHON} cannot import spf (Debian package python3-spf)");
    }
    ok
}

fn pyspf(port: u16) -> Vec<(String, String)> {
    let input: Vec<serde_json::Value> = CASES
        .iter()
        .map(|(ip, sender, helo)| {
            serde_json::json!({
                "ip": ip,
                "sender": if sender.is_empty() { format!("postmaster@{helo}") } else { sender.to_string() },
                "helo": helo,
            })
        })
        .collect();
    let mut child = Command::new(PYTHON)
        .arg(SCRIPT)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "pyspf: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<(String, String)>>(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn spf_results_agree_with_pyspf() {
    if !pyspf_available() {
        return;
    }
    let options: Vec<String> = ZONE.iter().map(|(k, v)| format!("--{k}={v}")).collect();
    let Some(dns) = common_dnsmasq::start_dns(&options) else {
        return;
    };
    let server: SocketAddr = ([127, 0, 0, 1], dns.port).into();
    let resolver = Resolver::with_servers(&[server]).unwrap();
    let lookups = Lookups::live(&resolver);
    let port = dns.port;
    let theirs = tokio::task::spawn_blocking(move || pyspf(port))
        .await
        .unwrap();
    assert_eq!(theirs.len(), CASES.len());
    let mut differences = Vec::new();
    for ((ip, sender, helo), (their_result, their_exp)) in CASES.iter().zip(&theirs) {
        let client: IpAddr = ip.parse().unwrap();
        let ours = tokio::time::timeout(
            Duration::from_secs(20),
            check_spf_mail_from(&lookups, client, helo, sender, "mx.test"),
        )
        .await
        .expect("our check hung");
        let our_result = ours.verdict.status.as_str();
        println!(
            "{sender:<18} {ip:<18} ours {our_result:<9} pyspf {their_result:<9} {}",
            ours.verdict.reason.as_deref().unwrap_or("")
        );
        let listed = PYSPF_DIFFERS
            .iter()
            .any(|(s, i, r, _)| s == sender && i == ip && r == their_result);
        if our_result != their_result && !listed {
            differences.push(format!(
                "{sender} from {ip}: ours {our_result} ({:?}), pyspf {their_result} ({their_exp})",
                ours.verdict.reason
            ));
        }
        if *sender == "bob@exp.test" {
            assert_eq!(
                ours.explanation.as_deref(),
                Some("192.0.2.10 may not send for exp.test"),
                "the exp= text, macros expanded (RFC 7208 §6.2)"
            );
        }
        // The explanation of a fail (RFC 7208 §6.2) is the same text.
        if our_result == "fail"
            && their_result == "fail"
            && let Some(exp) = &ours.explanation
        {
            assert_eq!(exp, their_exp, "{sender} from {ip}: explanations differ");
        }
    }
    assert!(
        differences.is_empty(),
        "ours and pyspf differ:\n{}",
        differences.join("\n")
    );
}
