//! `mailward serve` URLAUTH (RFC 4467) and URLAUTH=BINARY (RFC 5524) end to end: a client
//! (Python imaplib's connection) makes URLs with GENURLAUTH, reads the message and a
//! decoded part with URLFETCH, sees a forged URL and URLs after RESETKEY give NIL, against
//! the real binary on a loopback port.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::Mailward;
use serde_json::json;

#[test]
fn imaplib_fetches_urlauth_urls_until_the_key_is_reset() {
    let m = Mailward::start_with_listeners(
        "",
        "imap = \"127.0.0.1:0\"\nimaps = []\npop3 = []\npop3s = []",
    );
    let imap = m.listener_port("imap");
    m.add_account("bob@example.test", None);
    let out = m.run_py("imap_urlauth.py", "urlauth", &[imap]);

    assert_eq!(out["token"].as_str().map(str::len), Some(32), "{out}");
    assert_eq!(out["whole"], json!(true), "{out}");
    assert_eq!(out["forged"], "NIL", "{out}");
    // BINARY undoes the base64 (RFC 5524); the structure describes the 4 decoded octets.
    assert_eq!(out["binary"], json!([0, 1, 2, 255]), "{out}");
    assert_eq!(
        out["binary_structure"],
        "(BODYPARTSTRUCTURE (\"application\" \"octet-stream\" NIL NIL NIL \"base64\" 4 NIL NIL NIL NIL)",
        "{out}"
    );
    assert!(
        out["other_user"].as_str().unwrap_or("").starts_with("NO "),
        "{out}"
    );
    assert!(
        out["bad_syntax"].as_str().unwrap_or("").starts_with("BAD "),
        "{out}"
    );
    assert_eq!(out["after_reset"], "NIL", "{out}");
}
