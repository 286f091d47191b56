//! What mailward signs, verified by independent verifiers: Debian's python3-dkim (RSA and
//! Ed25519, RFC 8463) and, when the machine allows a private network namespace,
//! `opendkim-testmsg` (libopendkim) reading the key records from a private dnsmasq.
//!
//! `opendkim-testmsg` looks keys up in the DNS, through `/etc/resolv.conf`: it runs in a
//! private network and mount namespace (`unshare`, as root) where `/etc/resolv.conf` names
//! a dnsmasq on 127.0.0.1 that serves the TXT records `keygen` prints, split into 255-octet
//! strings as in a zone. Without `unshare`, `ip`, `dnsmasq` or `opendkim-testmsg`
//! (Debian: util-linux, iproute2, dnsmasq-base, opendkim-tools) those checks print
//! `SKIPPED: ...`.
//!
//! Tests that need python3-dkim print `SKIPPED: ...` and pass when `/usr/bin/python3`
//! lacks the `dkim` module (Debian package python3-dkim, with python3-nacl for Ed25519).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_auth::dkim::{KeyAlgorithm, Signer, keygen, store_new_key};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const PYTHON: &str = "/usr/bin/python3";
const DOMAIN: &str = "example.com";

/// python3-dkim with nacl (Ed25519) importable?
fn python_dkim() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    let ready = *READY.get_or_init(|| {
        Command::new(PYTHON)
            .args(["-c", "import dkim, nacl.signing"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !ready {
        println!("SKIPPED: {PYTHON} cannot import dkim and nacl (Debian: python3-dkim)");
    }
    ready
}

/// One RSA and one Ed25519 key for the whole run (RSA generation takes a while).
fn pem(algorithm: KeyAlgorithm) -> Vec<u8> {
    static RSA: OnceLock<Vec<u8>> = OnceLock::new();
    static ED25519: OnceLock<Vec<u8>> = OnceLock::new();
    let cell = match algorithm {
        KeyAlgorithm::Rsa => &RSA,
        KeyAlgorithm::Ed25519 => &ED25519,
    };
    cell.get_or_init(|| keygen::generate(algorithm).unwrap())
        .clone()
}

/// A key directory with `keys` ((domain, selector, algorithm)) and the signer loaded from it.
struct Keys {
    dir: tempfile::TempDir,
    signer: Signer,
}

impl Keys {
    fn new(keys: &[(&str, &str, KeyAlgorithm)]) -> Keys {
        let dir = tempfile::tempdir().unwrap();
        for (domain, selector, algorithm) in keys {
            store_new_key(dir.path(), domain, selector, &pem(*algorithm)).unwrap();
        }
        let signer = Signer::load(dir.path()).unwrap();
        Keys { dir, signer }
    }

    /// Both algorithms for example.com, the RFC 8463 §3 pair.
    fn pair() -> Keys {
        Keys::new(&[
            (DOMAIN, "rsa1", KeyAlgorithm::Rsa),
            (DOMAIN, "ed1", KeyAlgorithm::Ed25519),
        ])
    }

    /// DNS name -> TXT record, as `keygen` prints them.
    fn records(&self) -> BTreeMap<String, String> {
        self.signer
            .keys()
            .iter()
            .map(|k| (k.dns_name(), k.txt_record()))
            .collect()
    }

    /// The message as it goes out: the signature fields, then the message unchanged.
    fn signed(&self, message: &[u8]) -> Vec<u8> {
        let fields = self
            .signer
            .sign(message)
            .unwrap()
            .expect("a key for the From domain");
        [fields, message.to_vec()].concat()
    }
}

/// python3-dkim's verdict on each signature: `"pass"` or `"fail <reason>"`.
fn python_verify(message: &[u8], records: &BTreeMap<String, String>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let msg = dir.path().join("message.eml");
    let rec = dir.path().join("records.json");
    std::fs::write(&msg, message).unwrap();
    std::fs::write(&rec, serde_json::to_vec(records).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dkim_verify.py");
    let out = Command::new(PYTHON)
        .arg(&script)
        .arg(&msg)
        .arg(&rec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dkim_verify.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, v)| v).to_string())
        .collect()
}

/// What `opendkim-testmsg` run in verify mode says of a message with one signature:
/// `Some(Ok(()))` verified, `Some(Err(why))` refused, `None` when it cannot run here.
fn opendkim_verify(
    message: &[u8],
    records: &BTreeMap<String, String>,
) -> Option<Result<(), String>> {
    let have = |program: &str, arg: &str| {
        Command::new(program)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    if !have("opendkim-testmsg", "-h") || !have("dnsmasq", "--version") || !have("ip", "-V") {
        println!("SKIPPED: opendkim-testmsg, dnsmasq or ip is not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("resolv.conf"), "nameserver 127.0.0.1\n").unwrap();
    std::fs::write(d.join("message.eml"), message).unwrap();
    // Exit 97/98: the namespace or the name server could not be set up (skip, not fail).
    let script = r#"
        d="$1"; shift
        ip link set lo up || exit 97
        mount --bind "$d/resolv.conf" /etc/resolv.conf || exit 97
        dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --user=root \
            --listen-address=127.0.0.1 --bind-interfaces --port=53 \
            --pid-file="$d/dnsmasq.pid" "$@" || exit 98
        opendkim-testmsg < "$d/message.eml"; rc=$?
        kill "$(cat "$d/dnsmasq.pid")"
        exit $rc
    "#;
    let mut cmd = Command::new("unshare");
    cmd.args(["--net", "--mount", "sh", "-c", script, "sh"])
        .arg(d);
    for (name, record) in records {
        // RFC 1035 §3.3.14: one TXT record, strings of at most 255 octets (joined by the
        // verifier, RFC 6376 §3.6.2.2); dnsmasq takes them comma-separated.
        let strings: Vec<&str> = record
            .as_bytes()
            .chunks(255)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        cmd.arg(format!("--txt-record={name},{}", strings.join(",")));
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    match out.status.code() {
        Some(0) => Some(Ok(())),
        Some(97 | 98) | None => {
            println!("SKIPPED: no private network namespace with dnsmasq here: {stderr}");
            None
        }
        Some(1) if stderr.contains("unshare") => {
            println!("SKIPPED: unshare refused (not root?): {stderr}");
            None
        }
        Some(code) => Some(Err(format!("exit {code}: {stderr}"))),
    }
}

fn message(extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "From: Alice <alice@{DOMAIN}>\r\nTo: Bob <bob@example.net>\r\nSubject: Hello\r\n\
Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@{DOMAIN}>\r\n{extra_headers}\r\n"
    )
    .into_bytes();
    m.extend_from_slice(body);
    m
}

/// The message as the receiver gets it: an SMTP client ends the last line with CRLF before
/// the final "." (RFC 5321 §4.1.1.4), so a body never arrives without one.
fn wire_form(message: &[u8]) -> Vec<u8> {
    let mut m = message.to_vec();
    if !m.ends_with(b"\r\n") {
        m.extend_from_slice(b"\r\n");
    }
    m
}

fn assert_all_pass(verdicts: &[String], what: &str) {
    assert_eq!(
        verdicts.len(),
        2,
        "{what}: one RSA and one Ed25519 signature: {verdicts:?}"
    );
    assert!(
        verdicts.iter().all(|v| v == "pass"),
        "{what}: python3-dkim says {verdicts:?}"
    );
}

#[test]
fn rsa_and_ed25519_signatures_verify_in_python_dkim() {
    if !python_dkim() {
        return;
    }
    let keys = Keys::pair();
    let msg = message("", b"Hello Bob.\r\n");
    let fields = keys.signer.sign(&msg).unwrap().unwrap();
    let text = String::from_utf8(fields.clone()).unwrap();
    assert_eq!(text.matches("DKIM-Signature:").count(), 2, "{text}");
    assert!(
        text.contains("a=rsa-sha256") && text.contains("a=ed25519-sha256"),
        "{text}"
    );
    assert!(
        text.contains("c=relaxed/relaxed") && text.contains("t="),
        "{text}"
    );
    // CRLF-terminated fields, folded lines, no bare LF.
    assert!(fields.ends_with(b"\r\n"));
    assert_eq!(
        fields.iter().filter(|&&b| b == b'\n').count(),
        text.matches("\r\n").count()
    );
    assert!(text.split("\r\n").all(|line| line.len() <= 998));
    assert_all_pass(
        &python_verify(&[fields, msg].concat(), &keys.records()),
        "plain",
    );
}

#[test]
fn bodies_that_trip_canonicalisation_verify() {
    if !python_dkim() {
        return;
    }
    let keys = Keys::pair();
    let long_subject = format!(
        "Subject: {}\r\n",
        (0..40)
            .map(|i| format!("word{i}"))
            .collect::<Vec<_>>()
            .join("\r\n ")
    );
    let long_to = format!(
        "Cc: {}\r\n",
        (0..30)
            .map(|i| format!("\"Person {i}\" <p{i}@example.net>"))
            .collect::<Vec<_>>()
            .join(",\r\n\t")
    );
    let cases: Vec<(&str, String, Vec<u8>)> = vec![
        (
            "trailing blank lines",
            String::new(),
            b"text\r\n\r\n\r\n\r\n".to_vec(),
        ),
        (
            "trailing whitespace-only lines",
            String::new(),
            b"text\r\n  \r\n\t\r\n".to_vec(),
        ),
        (
            "whitespace-only lines inside",
            String::new(),
            b"a\r\n \t \r\n\r\n  b  c\t\r\n".to_vec(),
        ),
        (
            "no trailing CRLF",
            String::new(),
            b"line one\r\nline two".to_vec(),
        ),
        ("empty body", String::new(), Vec::new()),
        ("body of blank lines", String::new(), b"\r\n\r\n".to_vec()),
        (
            "8-bit body",
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
                .to_string(),
            [
                "Gr\u{fc}\u{df}e, \u{e9}t\u{e9} \u{1f600}\r\nLatin-1: ".as_bytes(),
                &[0xe9, 0xff, b'\r', b'\n'],
            ]
            .concat(),
        ),
        (
            "long folded header fields",
            format!("{long_subject}{long_to}MIME-Version:   1.0\r\n"),
            b"body\r\n".to_vec(),
        ),
    ];
    for (what, headers, body) in cases {
        let msg = message(&headers, &body);
        let verdicts = python_verify(&keys.signed(&msg), &keys.records());
        assert_all_pass(&verdicts, what);
    }
}

/// mail-auth 0.13 hashes the body `"text\r\n  \r\n\t\r\n"` as if the whitespace-only
/// lines were lines of the body (RFC 6376 §3.4.4 says they are ignored), so `bh=` was
/// wrong for every verifier. The message is sent unchanged; only the hashed copy loses them.
#[test]
fn regress_trailing_whitespace_only_lines_break_bh() {
    if !python_dkim() {
        return;
    }
    let keys = Keys::pair();
    for body in [
        &b"text\r\n  \r\n\t\r\n"[..],
        b"text  \r\n \r\n",
        b" \r\n\t\r\n",
        // Unterminated whitespace-only last lines: verified as they arrive, CRLF-ended
        // (python3-dkim strips whitespace only before a CRLF, so it hashes the raw form
        // differently from RFC 6376 §3.4.4; no receiver ever sees the raw form).
        b"text\r\n\t",
        b"text  ",
    ] {
        let msg = message("", body);
        let signed = keys.signed(&msg);
        assert!(signed.ends_with(&msg), "the message itself is not changed");
        let verdicts = python_verify(&wire_form(&signed), &keys.records());
        assert_all_pass(&verdicts, &format!("{:?}", String::from_utf8_lossy(body)));
    }
}

#[test]
fn a_domain_without_a_key_is_not_signed() {
    let keys = Keys::pair();
    for from in [
        "a@example.org",
        "a@sub.example.com", // exact domain only, no parent's key
        "a@com",
    ] {
        let msg = format!("From: {from}\r\nSubject: x\r\n\r\nbody\r\n");
        assert_eq!(keys.signer.sign(msg.as_bytes()).unwrap(), None, "{from}");
    }
    // Upper case in the address still finds the key.
    let msg = b"From: A <a@EXAMPLE.Com>\r\n\r\nbody\r\n";
    assert!(keys.signer.sign(msg).unwrap().is_some());
    // No From field, or two: not signed.
    assert_eq!(
        keys.signer.sign(b"Subject: x\r\n\r\nbody\r\n").unwrap(),
        None
    );
    let two = format!("From: a@{DOMAIN}\r\nFrom: b@{DOMAIN}\r\n\r\nx\r\n");
    assert_eq!(keys.signer.sign(two.as_bytes()).unwrap(), None);
    // No keys at all: a missing key folder is an empty signer.
    let none = Signer::load(&keys.dir.path().join("absent")).unwrap();
    assert!(none.is_empty());
    assert_eq!(none.sign(&message("", b"x\r\n")).unwrap(), None);
}

#[test]
fn an_added_second_from_breaks_verification() {
    if !python_dkim() {
        return;
    }
    let keys = Keys::pair();
    let msg = message("", b"Pay the invoice.\r\n");
    let signed = keys.signed(&msg);
    let text = String::from_utf8(signed.clone()).unwrap();
    let h = text.split("h=").nth(1).unwrap().split(';').next().unwrap();
    let h: String = h.split_whitespace().collect();
    assert_eq!(h.to_ascii_lowercase().matches("from").count(), 2, "h={h}");

    // Control: a field that is not signed may be added.
    let mut with_other = signed.clone();
    with_other.splice(0..0, b"X-Relay-Note: seen\r\n".iter().copied());
    assert_all_pass(
        &python_verify(&with_other, &keys.records()),
        "added X- field",
    );

    // A second From, at the top (where a verifier looks first) or after the others.
    let evil = b"From: CEO <ceo@example.com>\r\n";
    let mut at_top = signed.clone();
    at_top.splice(0..0, evil.iter().copied());
    let body_at = signed.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 2;
    let mut at_bottom = signed.clone();
    at_bottom.splice(body_at..body_at, evil.iter().copied());
    for (what, forged) in [("top", at_top), ("bottom", at_bottom)] {
        let verdicts = python_verify(&forged, &keys.records());
        assert_eq!(verdicts.len(), 2);
        assert!(
            verdicts.iter().all(|v| v.starts_with("fail")),
            "a From added at the {what} must break both signatures: {verdicts:?}"
        );
    }
}

#[test]
fn the_newest_key_of_each_algorithm_signs() {
    let keys = Keys::new(&[
        (DOMAIN, "old", KeyAlgorithm::Rsa),
        (DOMAIN, "new", KeyAlgorithm::Rsa),
        (DOMAIN, "ed", KeyAlgorithm::Ed25519),
        ("other.example", "s1", KeyAlgorithm::Ed25519),
    ]);
    // "old" is written last but dated a year back: modification time decides, not names.
    let old = keys.dir.path().join(DOMAIN).join("old.pem");
    let year_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(365 * 86400);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(year_ago)
        .unwrap();
    let signer = Signer::load(keys.dir.path()).unwrap();
    assert_eq!(signer.keys().len(), 4);
    let signing: Vec<(&str, KeyAlgorithm)> = signer
        .signing_keys(DOMAIN)
        .map(|k| (k.selector(), k.algorithm()))
        .collect();
    assert_eq!(
        signing,
        [("new", KeyAlgorithm::Rsa), ("ed", KeyAlgorithm::Ed25519)]
    );
    let fields = String::from_utf8(signer.sign(&message("", b"x\r\n")).unwrap().unwrap()).unwrap();
    assert!(
        fields.contains("s=new;") && fields.contains("s=ed;"),
        "{fields}"
    );
    assert!(!fields.contains("s=old;"), "{fields}");
}

#[test]
fn a_bad_key_file_is_an_error_naming_it() {
    let keys = Keys::pair();
    let bad = keys.dir.path().join("example.org").join("broken.pem");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(
        &bad,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let err = Signer::load(keys.dir.path()).unwrap_err().to_string();
    assert!(err.contains("example.org/broken.pem"), "{err}");
    // Other files are not keys and are passed over.
    std::fs::remove_file(&bad).unwrap();
    std::fs::write(bad.with_extension("txt"), "notes").unwrap();
    std::fs::write(keys.dir.path().join("README"), "notes").unwrap();
    assert_eq!(Signer::load(keys.dir.path()).unwrap().keys().len(), 2);
}

#[test]
fn keys_are_stored_private_and_never_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let pem = pem(KeyAlgorithm::Ed25519);
    let path = store_new_key(dir.path(), DOMAIN, "s1", &pem).unwrap();
    assert_eq!(path, dir.path().join("example.com/s1.pem"));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let err = store_new_key(dir.path(), DOMAIN, "s1", b"other").unwrap_err();
    assert!(err.to_string().contains("exists already"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), pem);
    assert!(store_new_key(dir.path(), "../etc", "s1", &pem).is_err());
    assert!(store_new_key(dir.path(), DOMAIN, "../../x", &pem).is_err());
}

#[test]
fn opendkim_verifies_rsa_and_ed25519_signatures() {
    // One key per signer, so that each verdict is about one signature.
    for (selector, algorithm) in [("rsa1", KeyAlgorithm::Rsa), ("ed1", KeyAlgorithm::Ed25519)] {
        let keys = Keys::new(&[(DOMAIN, selector, algorithm)]);
        for body in [
            &b"Hello Bob.\r\n"[..],
            b"text\r\n  \r\n\t\r\n",
            b"trailing blank lines\r\n\r\n\r\n",
            b"",
        ] {
            let signed = wire_form(&keys.signed(&message("", body)));
            let what = format!("{algorithm} {:?}", String::from_utf8_lossy(body));
            match opendkim_verify(&signed, &keys.records()) {
                None => return,
                Some(verdict) => assert_eq!(verdict, Ok(()), "{what}"),
            }
            // The same check refuses a changed body, so a pass means something.
            let mut changed = signed.clone();
            changed.extend_from_slice(b"P.S. added on the way\r\n");
            let verdict = opendkim_verify(&changed, &keys.records());
            assert!(matches!(verdict, Some(Err(_))), "{what}: {verdict:?}");
        }
    }
}
