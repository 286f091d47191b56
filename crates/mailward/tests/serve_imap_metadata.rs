//! `mailward serve` METADATA (RFC 5464) end to end: server and mailbox annotations set and
//! read by Python imaplib (and raw commands on its connection for literals), with DEPTH,
//! MAXSIZE, NIL removal, binary values, the read-only `/shared/admin`, RENAME, DELETE and
//! `/private/specialuse` (RFC 6154 §4), against the real binary on a loopback port.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::Mailward;
use serde_json::{Value, json};

const USER: &str = "bob@example.test";

fn start() -> (Mailward, u16) {
    let m = Mailward::start_with_listeners(
        "",
        "imap = \"127.0.0.1:0\"\nimaps = []\npop3 = []\npop3s = []",
    );
    let imap = m.listener_port("imap");
    m.add_account(USER, None);
    (m, imap)
}

fn run(m: &Mailward, imap: u16, scenario: &str) -> Value {
    m.run_py("imap_metadata.py", scenario, &[imap])
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

#[test]
fn imaplib_sets_and_reads_annotations() {
    let (m, imap) = start();

    let out = run(&m, imap, "server");
    // imaplib's own parse of `* METADATA "" (...)`.
    assert_eq!(
        out["imaplib_get"],
        json!(["\"\" (/private/vendor/test/x \"1\" /shared/comment \"Shared comment\")"]),
        "{out}"
    );
    assert!(text(&out["admin_set"]).starts_with("NO [NOPERM]"), "{out}");
    assert_eq!(out["bad"].as_array().map(Vec::len), Some(4), "{out}");
    assert!(
        text(&out["nonexistent"]).starts_with("NO [NONEXISTENT]"),
        "{out}"
    );

    let out = run(&m, imap, "mailbox");
    assert_eq!(
        out["depth1"],
        json!([
            "/private/filters/values",
            "/private/filters/values/boss",
            "/private/filters/values/small"
        ]),
        "{out}"
    );
    assert_eq!(
        out["depth_infinity"],
        json!([
            "/private/comment",
            "/private/filters/values/boss",
            "/private/filters/values/boss/deep",
            "/private/filters/values/small"
        ]),
        "{out}"
    );
    assert!(
        text(&out["maxsize"]).starts_with("OK [METADATA LONGENTRIES 2199]"),
        "{out}"
    );
    assert_eq!(out["after_delete"], json!({}), "{out}");
    assert!(
        text(&out["too_big"]).starts_with("NO [METADATA MAXSIZE 65536]"),
        "{out}"
    );

    let out = run(&m, imap, "specialuse");
    assert_eq!(out["sent"], "\\Sent", "{out}");
    assert!(text(&out["list"][0]).contains("\\Archive"), "{out}");
    assert!(text(&out["useattr"]).starts_with("NO [USEATTR]"), "{out}");
    assert!(
        out["list_after"]
            .as_array()
            .is_some_and(|l| l.iter().all(|x| !text(x).contains("\\Archive"))),
        "{out}"
    );
}
