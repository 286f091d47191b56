//! SEARCH with the full-text index gives the same answers as SEARCH without it: two stores
//! hold the same messages (generated ones in many encodings, and the real mail of the
//! shared test data when it is there), one with the index built, one scanning; the same
//! random needles (substrings of the messages' text in random case, and random strings)
//! go to both through real IMAP sessions, under every content key and under AND, OR and
//! NOT.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_imap::message::search;
use mailward_imap::{Action, Session, SessionConfig, StoreAuthenticator};
use mailward_store::access::MailAccess;
use mailward_store::{DataDir, Store, directory, password};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "invoice",
    "meeting",
    "Grüße",
    "naïve",
    "hello",
    "world",
    "Zürich",
    "budget",
    "résumé",
    "quarterly",
    "report",
    "needle",
    "haystack",
    "straße",
    "ÄÖÜ",
    "日本語",
    "tea",
    "the",
    "release",
    "α-beta",
    "fix",
    "x",
    "déjà",
    "vu",
];

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn qp(text: &str) -> String {
    let mut out = String::new();
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b == b' ' {
            out.push(b as char);
        } else {
            out.push_str(&format!("={b:02X}"));
        }
    }
    out
}

fn sentence(rng: &mut Rng, words: usize) -> String {
    (0..words)
        .map(|_| WORDS[rng.below(WORDS.len())])
        .collect::<Vec<_>>()
        .join(if rng.below(4) == 0 { "  " } else { " " })
}

/// A message in one of several shapes: plain, quoted-printable, base64, Latin-1,
/// encoded-word subject, multipart with an HTML part and an attachment, an embedded
/// message, a folded subject.
fn generated(rng: &mut Rng, i: usize) -> Vec<u8> {
    let subject = sentence(rng, 3);
    let body = sentence(rng, 12);
    let from = format!(
        "{} <user{}@example.test>",
        WORDS[rng.below(WORDS.len())],
        i % 7
    );
    let head = |subject_field: String, ctype: &str, cte: &str| {
        format!(
            "From: {from}\r\nTo: list{}@example.org\r\nSubject: {subject_field}\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n",
            i % 3
        )
    };
    let raw = match i % 8 {
        0 => head(subject.clone(), "text/plain; charset=utf-8", "8bit") + &body,
        1 => {
            head(
                subject.clone(),
                "text/plain; charset=utf-8",
                "quoted-printable",
            ) + &qp(&body)
        }
        2 => head(subject.clone(), "text/plain; charset=utf-8", "base64") + &b64(body.as_bytes()),
        3 => {
            let latin: Vec<u8> = body
                .chars()
                .map(|c| if (c as u32) < 256 { c as u8 } else { b'?' })
                .collect();
            let mut m =
                head(subject.clone(), "text/plain; charset=iso-8859-1", "8bit").into_bytes();
            m.extend_from_slice(&latin);
            return m;
        }
        4 => {
            head(
                format!("=?UTF-8?B?{}?=", b64(subject.as_bytes())),
                "text/plain; charset=utf-8",
                "7bit",
            ) + "plain ascii body with invoice and report"
        }
        5 => {
            head(subject.clone(), "multipart/mixed; boundary=\"b1\"", "7bit")
                + "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>"
                + &body
                + "</p>\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + &b64(b"binary needle in an attachment is not text")
                + "\r\n--b1--\r\n"
        }
        6 => {
            head(subject.clone(), "message/rfc822", "7bit")
                + &format!(
                    "From: inner@example.net\r\nSubject: inner {}\r\n\r\n{}\r\n",
                    sentence(rng, 2),
                    body
                )
        }
        _ => {
            head(
                format!("{}\r\n\t{}", subject, sentence(rng, 2)),
                "text/plain",
                "7bit",
            ) + &body.replace(' ', "\r\n")
        }
    };
    raw.into_bytes()
}

fn shared_mail(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            out.extend(shared_mail(&p));
        } else if p.extension().is_some_and(|e| e == "eml")
            && let Ok(b) = std::fs::read(&p)
        {
            out.push(b);
        }
    }
    out
}

fn corpus() -> Vec<Vec<u8>> {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut all: Vec<Vec<u8>> = (0..240).map(|i| generated(&mut rng, i)).collect();
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/eml");
    let real = shared_mail(&shared);
    if real.is_empty() {
        eprintln!(
            "notice: {} is absent; generated messages only",
            shared.display()
        );
    }
    all.extend(real);
    all
}

struct World {
    _tmp: tempfile::TempDir,
    store: Arc<Store>,
    session: Session,
}

fn world(messages: &[Vec<u8>], indexed: bool) -> World {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(DataDir::new(tmp.path()), &["example.test".into()], "host").unwrap();
    let hash = password::hash("secret").unwrap();
    let account = directory::add_account(&store.conn(), "bob@example.test", &hash, None).unwrap();
    let access = MailAccess::open(store.clone(), account).unwrap();
    for m in messages {
        access.append("INBOX", m, &[], Some(1_700_000_000)).unwrap();
    }
    if indexed {
        store.start_fulltext(Arc::new(search::index_text)).unwrap();
        let inbox = access.folder("INBOX").unwrap().unwrap();
        let last = u32::try_from(messages.len()).unwrap();
        let start = Instant::now();
        while store
            .fulltext()
            .and_then(|f| f.progress(inbox.id).ok().flatten())
            .is_none_or(|(_, through)| through < last)
        {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "the indexer never caught up"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let mut cfg = SessionConfig::new("mx.example.test");
    cfg.plaintext_auth_on_loopback = true;
    let mut session = Session::new(
        Arc::new(cfg),
        Arc::new(StoreAuthenticator::new(store.clone())),
        "t".into(),
        IpAddr::from([127, 0, 0, 1]),
    );
    send(&mut session, b"l LOGIN bob@example.test secret\r\n");
    let out = send(&mut session, b"s SELECT INBOX\r\n");
    assert!(out.contains("s OK"), "{out}");
    World {
        _tmp: tmp,
        store,
        session,
    }
}

fn send(s: &mut Session, input: &[u8]) -> String {
    s.feed(input);
    while let Some(a) = s.advance() {
        if a == Action::Authenticate {
            let outcome = s.check_credentials();
            s.auth_answer(outcome);
        }
    }
    String::from_utf8_lossy(&s.take_output()).into_owned()
}

/// `UID SEARCH CHARSET UTF-8 <criteria>` with each needle sent as a literal.
fn search(s: &mut Session, criteria: &[(&str, &str)], shape: &str) -> String {
    let mut cmd = b"q UID SEARCH CHARSET UTF-8".to_vec();
    let mut parts = Vec::new();
    for (key, needle) in criteria {
        let mut p = format!("{key} {{{}+}}\r\n", needle.len()).into_bytes();
        p.extend_from_slice(needle.as_bytes());
        parts.push(p);
    }
    let join = |a: &[u8], b: &[u8]| -> Vec<u8> {
        let mut v = a.to_vec();
        v.push(b' ');
        v.extend_from_slice(b);
        v
    };
    let body = match (shape, parts.as_slice()) {
        ("or", [a, b]) => {
            let mut v = b"OR ".to_vec();
            v.extend_from_slice(&join(a, b));
            v
        }
        ("not", [a, b]) => {
            let mut v = a.clone();
            v.extend_from_slice(b" NOT ");
            v.extend_from_slice(b);
            v
        }
        _ => parts.iter().fold(Vec::new(), |acc, p| {
            if acc.is_empty() {
                p.clone()
            } else {
                join(&acc, p)
            }
        }),
    };
    cmd.push(b' ');
    cmd.extend_from_slice(&body);
    cmd.extend_from_slice(b"\r\n");
    let out = send(s, &cmd);
    assert!(out.contains("q OK"), "{out}");
    out.lines()
        .find(|l| l.starts_with("* SEARCH"))
        .unwrap_or_default()
        .to_string()
}

/// A needle: a random substring of a message's searchable text (random case changes),
/// or a random short string.
fn needle(rng: &mut Rng, texts: &[String]) -> String {
    if rng.below(6) == 0 {
        let alphabet: Vec<char> = "aeinrst é日-".chars().collect();
        let n = 1 + rng.below(5);
        return (0..n)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
    }
    let text: Vec<char> = texts[rng.below(texts.len())].chars().collect();
    if text.is_empty() {
        return "x".into();
    }
    let len = 1 + rng.below(14);
    let at = rng.below(text.len());
    let s: String = text[at..(at + len).min(text.len())]
        .iter()
        .map(|c| {
            if rng.below(3) == 0 {
                c.to_uppercase().next().unwrap_or(*c)
            } else {
                *c
            }
        })
        .collect();
    // Line ends cannot be sent the way a client types a needle; make them spaces.
    s.replace(['\r', '\n'], " ")
}

#[test]
fn indexed_search_answers_as_the_scan_on_random_needles() {
    let messages = corpus();
    let texts: Vec<String> = messages
        .iter()
        .filter_map(|m| search::index_text(m))
        .collect();
    let mut with_index = world(&messages, true);
    let mut scanning = world(&messages, false);
    assert!(scanning.store.fulltext().is_none());
    let inbox = MailAccess::open(
        with_index.store.clone(),
        directory::get_account(&with_index.store.conn(), "bob@example.test")
            .unwrap()
            .unwrap(),
    )
    .unwrap()
    .folder("INBOX")
    .unwrap()
    .unwrap();
    let keys = ["TEXT", "BODY", "SUBJECT", "FROM", "TO", "HEADER Subject"];
    let mut rng = Rng(0x0dd_ba11_cafe_f00d);
    let mut narrowed = 0;
    let mut matched = 0;
    for round in 0..400 {
        let shape = ["and", "or", "not", "one"][rng.below(4)];
        let count = if shape == "one" { 1 } else { 2 };
        let needles: Vec<(String, String)> = (0..count)
            .map(|_| {
                (
                    keys[rng.below(keys.len())].to_string(),
                    needle(&mut rng, &texts),
                )
            })
            .collect();
        let criteria: Vec<(&str, &str)> = needles
            .iter()
            .map(|(k, n)| (k.as_str(), n.as_str()))
            .collect();
        let a = search(&mut with_index.session, &criteria, shape);
        let b = search(&mut scanning.session, &criteria, shape);
        assert_eq!(a, b, "round {round}: {shape} {criteria:?}");
        if a.len() > "* SEARCH".len() {
            matched += 1;
        }
        let folded = search::Needle::new(needles[0].1.as_bytes());
        if let Some(c) = with_index.store.fulltext().and_then(|f| {
            f.candidates(inbox.id, inbox.uidvalidity, folded.as_str())
                .unwrap()
        }) && c.uids.len() < messages.len()
        {
            narrowed += 1;
        }
    }
    // The test is worth something only if the index did narrow and needles did match.
    assert!(
        narrowed > 200,
        "the index narrowed only {narrowed} of 400 lookups"
    );
    assert!(
        matched > 100,
        "only {matched} of 400 searches found anything"
    );
}

/// Expunged messages leave the index; new ones join it; a search in between (index
/// behind) still finds the new ones by scanning the tail.
#[test]
fn index_follows_appends_and_expunges() {
    let mut rng = Rng(7);
    let messages: Vec<Vec<u8>> = (0..20).map(|i| generated(&mut rng, i)).collect();
    let mut w = world(&messages, true);
    let unique = b"From: a@example.test\r\nSubject: zebra crossing\r\n\r\nstripes\r\n";
    let mut cmd = format!("a APPEND INBOX {{{}+}}\r\n", unique.len()).into_bytes();
    cmd.extend_from_slice(unique);
    cmd.extend_from_slice(b"\r\n");
    assert!(send(&mut w.session, &cmd).contains("a OK"));
    // Found at once, whether or not the indexer got there yet.
    let out = send(&mut w.session, b"n NOOP\r\n");
    assert!(out.contains("n OK"), "{out}");
    let hit = send(&mut w.session, b"b UID SEARCH TEXT \"ZEBRA cross\"\r\n");
    assert!(hit.contains("* SEARCH 21\r\n"), "{hit}");
    let index = w.store.fulltext().unwrap().clone();
    let inbox_id = {
        let acct = directory::get_account(&w.store.conn(), "bob@example.test")
            .unwrap()
            .unwrap();
        MailAccess::open(w.store.clone(), acct)
            .unwrap()
            .folder("INBOX")
            .unwrap()
            .unwrap()
            .id
    };
    let wait = |want: &dyn Fn(&[u32]) -> bool| {
        let start = Instant::now();
        while !want(&index.indexed_uids(inbox_id).unwrap()) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the indexer did not follow"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait(&|u| u.contains(&21));
    assert!(send(&mut w.session, b"c UID STORE 21 +FLAGS (\\Deleted)\r\n").contains("c OK"));
    assert!(send(&mut w.session, b"d EXPUNGE\r\n").contains("d OK"));
    wait(&|u| !u.contains(&21) && u.len() == 20);
    let miss = send(&mut w.session, b"e UID SEARCH TEXT \"zebra cross\"\r\n");
    assert!(miss.contains("* SEARCH\r\n"), "{miss}");
}
