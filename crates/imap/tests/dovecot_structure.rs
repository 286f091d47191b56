//! Differential test against Dovecot (the reference IMAP server): for every message in
//! `../shared/testdata/eml`, ENVELOPE, BODY, BODYSTRUCTURE, RFC822.SIZE, a set of
//! BODY[section] results (every part's content and MIME header, HEADER, TEXT,
//! HEADER.FIELDS, partial ranges) and BINARY.SIZE must be equal to Dovecot's, and the
//! content SEARCH keys must select the same messages.
//!
//! Dovecot runs from `../shared/peers/dovecot_maildir.sh` on a free loopback port, over a
//! Maildir holding the messages (file names give the order, so UID n is message n). The
//! test needs root (the script does) and Debian's dovecot-imapd; without them, or without
//! `../shared`, it prints why and passes.
//!
//! Normalisations (the only ones; each is a legitimate difference of form, not content):
//! 1. Strings are compared by value: quoted and literal forms are the same string.
//! 2. The media type and subtype of BODY/BODYSTRUCTURE are compared case-insensitively
//!    (RFC 2045 §5.1: "matching of media type and subtype is ALWAYS case-insensitive");
//!    imap-codec writes `"TEXT"` and `"MESSAGE" "RFC822"` where Dovecot copies the header.
//! 3. The names inside `BODY[HEADER.FIELDS (...)]` keys are compared case-insensitively
//!    (RFC 9051 §6.4.5: field names are case-insensitive; Dovecot upper-cases them).
//! 4. SENTBEFORE/SENTON/SENTSINCE skip messages whose Date is a valid date-time before 1970
//!    or after 2106: Dovecot keeps sent dates as unsigned 32-bit times, so such a date wraps
//!    around there (a Dovecot defect); we treat it as an unusable date.
//!
//! Compared only where the behaviour is defined the same way:
//! - BINARY.SIZE only for leaf parts: for a multipart or message/rfc822 part Dovecot
//!   re-encodes the whole subtree (rewriting the Content-Transfer-Encoding fields), which
//!   RFC 3516 does not ask for; we send such parts as they are.
//! - Where Dovecot refuses BINARY with `NO [PARSE]`, we answer: Dovecot converts the whole
//!   message at once and refuses every part of a message in which any base64 body holds
//!   characters outside the alphabet; we decode each part on its own and leniently (RFC 2045
//!   §6.8: such characters "must be ignored"). These cases are printed as notes, not
//!   counted as differences.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use imap_codec::ResponseCodec;
use imap_codec::encode::Encoder;
use imap_codec::imap_types::core::{AString, Vec1};
use imap_codec::imap_types::fetch::{MessageDataItem, Part, Section};
use imap_codec::imap_types::response::{Data, Response};
use mailward_imap::imap_codec;
use mailward_imap::message::{Message, mime, search};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// A tiny IMAP value reader: atoms, strings (quoted or literal), NIL, lists.

#[derive(Debug, Clone, PartialEq, Eq)]
enum V {
    Nil,
    Atom(Vec<u8>),
    Str(Vec<u8>),
    List(Vec<V>),
}

impl V {
    fn show(&self) -> String {
        match self {
            V::Nil => "NIL".into(),
            V::Atom(a) => String::from_utf8_lossy(a).into_owned(),
            V::Str(s) => format!("{:?}", String::from_utf8_lossy(s)),
            V::List(l) => format!("({})", l.iter().map(V::show).collect::<Vec<_>>().join(" ")),
        }
    }
}

struct Reader<'a> {
    d: &'a [u8],
    p: usize,
}

impl Reader<'_> {
    fn skip_sp(&mut self) {
        while matches!(self.d.get(self.p), Some(b' ' | b'\r' | b'\n')) {
            self.p += 1;
        }
    }

    fn value(&mut self) -> Option<V> {
        self.skip_sp();
        match *self.d.get(self.p)? {
            b'(' => {
                self.p += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_sp();
                    if self.d.get(self.p) == Some(&b')') {
                        self.p += 1;
                        return Some(V::List(items));
                    }
                    items.push(self.value()?);
                }
            }
            b'"' => {
                self.p += 1;
                let mut s = Vec::new();
                loop {
                    let b = *self.d.get(self.p)?;
                    self.p += 1;
                    match b {
                        b'"' => return Some(V::Str(s)),
                        b'\\' => {
                            s.push(*self.d.get(self.p)?);
                            self.p += 1;
                        }
                        _ => s.push(b),
                    }
                }
            }
            b'{' | b'~' => {
                if self.d.get(self.p) == Some(&b'~') {
                    self.p += 1;
                }
                let close = self.d.get(self.p..)?.iter().position(|&b| b == b'}')? + self.p;
                let n: usize = std::str::from_utf8(self.d.get(self.p + 1..close)?)
                    .ok()?
                    .trim_end_matches('+')
                    .parse()
                    .ok()?;
                let start = close + 3;
                self.p = start + n;
                Some(V::Str(self.d.get(start..start + n)?.to_vec()))
            }
            _ => {
                let start = self.p;
                // An atom; `BODY[...]<n>` keys include brackets and spaces inside [].
                let mut depth = 0;
                while let Some(&b) = self.d.get(self.p) {
                    match b {
                        b'[' => depth += 1,
                        b']' => depth -= 1,
                        b' ' | b')' | b'(' | b'\r' | b'\n' if depth == 0 => break,
                        _ => {}
                    }
                    self.p += 1;
                }
                let a = self.d.get(start..self.p)?.to_vec();
                if a.eq_ignore_ascii_case(b"NIL") {
                    Some(V::Nil)
                } else {
                    Some(V::Atom(a))
                }
            }
        }
    }
}

/// Parses `* n FETCH (k v k v ...)` into (KEY, value) pairs.
fn fetch_items(resp: &[u8]) -> Vec<(String, V)> {
    let Some(i) = resp
        .windows(6)
        .position(|w| w.eq_ignore_ascii_case(b"FETCH "))
    else {
        return Vec::new();
    };
    let mut r = Reader { d: resp, p: i + 6 };
    let Some(V::List(items)) = r.value() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        let key = match k {
            V::Atom(a) => String::from_utf8_lossy(&a).to_ascii_uppercase(),
            other => other.show(),
        };
        out.push((key, v));
    }
    out
}

// ---------------------------------------------------------------------------------------
// Normalisation 2: media types case-insensitive, in BODY and BODYSTRUCTURE trees.

fn upper(v: &mut V) {
    if let V::Str(s) = v {
        s.make_ascii_uppercase();
    }
}

fn norm_body(v: &mut V) {
    let V::List(items) = v else { return };
    let multipart = matches!(items.first(), Some(V::List(_)));
    if multipart {
        let mut i = 0;
        while let Some(V::List(_)) = items.get(i) {
            if let Some(child) = items.get_mut(i) {
                norm_body(child);
            }
            i += 1;
        }
        if let Some(sub) = items.get_mut(i) {
            upper(sub);
        }
        return;
    }
    let is_msg = matches!((items.first(), items.get(1)), (Some(V::Str(t)), Some(V::Str(s))) if t.eq_ignore_ascii_case(b"message") && s.eq_ignore_ascii_case(b"rfc822"));
    if let Some(t) = items.get_mut(0) {
        upper(t);
    }
    if let Some(t) = items.get_mut(1) {
        upper(t);
    }
    if is_msg && let Some(inner) = items.get_mut(8) {
        norm_body(inner);
    }
}

// ---------------------------------------------------------------------------------------
// Our side: the same FETCH items, encoded by imap-codec and read back.

fn section_path(path: &[u32]) -> Option<Part> {
    let nums: Vec<NonZeroU32> = path.iter().filter_map(|&n| NonZeroU32::new(n)).collect();
    Vec1::try_from(nums).ok().map(Part)
}

fn encode_fetch(items: Vec<MessageDataItem<'static>>) -> Vec<u8> {
    let Ok(items) = Vec1::try_from(items) else {
        return Vec::new();
    };
    let Ok(seq) = NonZeroU32::try_from(1) else {
        return Vec::new();
    };
    let resp = Response::Data(Data::Fetch { seq, items });
    ResponseCodec::default().encode(&resp).dump()
}

/// Every part path of the message (1, 1.1, 2, ...), as IMAP numbers them.
fn part_paths(part: &mime::Part, prefix: &mut Vec<u32>, out: &mut Vec<Vec<u32>>, top: bool) {
    let children: &[mime::Part] = match &part.kind {
        mime::Kind::Multipart(c) => c,
        mime::Kind::Message(inner) if !top => {
            // The parts of an embedded message are numbered under this part.
            match &inner.kind {
                mime::Kind::Multipart(c) => c,
                _ => {
                    prefix.push(1);
                    out.push(prefix.clone());
                    prefix.pop();
                    return;
                }
            }
        }
        _ => {
            if top {
                out.push(vec![1]);
            }
            return;
        }
    };
    for (i, c) in children.iter().enumerate() {
        prefix.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
        out.push(prefix.clone());
        if out.len() < 200 {
            part_paths(c, prefix, out, false);
        }
        prefix.pop();
    }
}

fn path_str(p: &[u32]) -> String {
    p.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

// ---------------------------------------------------------------------------------------
// Dovecot.

struct Dovecot {
    script: PathBuf,
    port: u16,
    state: PathBuf,
    base: PathBuf,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .args(["stop", &self.port.to_string()])
            .env("DV_STATE", &self.state)
            .output();
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
    n: u32,
}

impl Client {
    /// Reads one response line with its literals.
    fn read_response(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            if self.r.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
                return out;
            }
            out.extend_from_slice(&line);
            let trimmed = line.strip_suffix(b"\r\n").unwrap_or(&line);
            if let Some(open) = trimmed.iter().rposition(|&b| b == b'{')
                && trimmed.last() == Some(&b'}')
                && let Ok(n) = std::str::from_utf8(&trimmed[open + 1..trimmed.len() - 1])
                    .unwrap_or("")
                    .parse::<usize>()
            {
                let mut lit = vec![0; n];
                if self.r.read_exact(&mut lit).is_err() {
                    return out;
                }
                out.extend_from_slice(&lit);
                continue;
            }
            return out;
        }
    }

    /// Sends a command; returns the untagged responses and the tagged one.
    fn cmd(&mut self, c: &str) -> (Vec<Vec<u8>>, Vec<u8>) {
        self.n += 1;
        let tag = format!("t{}", self.n);
        let _ = self.w.write_all(format!("{tag} {c}\r\n").as_bytes());
        let mut untagged = Vec::new();
        loop {
            let r = self.read_response();
            if r.is_empty() {
                return (untagged, b"EOF".to_vec());
            }
            if r.starts_with(tag.as_bytes()) {
                return (untagged, r);
            }
            untagged.push(r);
        }
    }
}

fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn eml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            eml_files(&p, out);
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml")) {
            out.push(p);
        }
    }
}

fn start_dovecot(files: &[PathBuf]) -> Result<(Dovecot, Client), String> {
    let shared = shared_dir();
    let script = shared.join("peers/dovecot_maildir.sh");
    if !script.exists() {
        return Err(format!("{} is missing", script.display()));
    }
    if Command::new("sh")
        .args(["-c", "command -v dovecot"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        return Err("dovecot is not installed (apt-get install dovecot-imapd)".into());
    }
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if uid != "0" {
        return Err("dovecot_maildir.sh needs root".into());
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())?;
    let base = std::env::temp_dir().join(format!("mailward-imap-dv-{}-{port}", std::process::id()));
    let root = base.join("root");
    let state = base.join("state");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(base.join("start.log")).map_err(|e| e.to_string())?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let status = Command::new("bash")
        .arg(&script)
        .args(["start", &port.to_string()])
        .arg(&root)
        .env("DV_STATE", &state)
        .stdout(log)
        .stderr(log2)
        .status()
        .map_err(|e| e.to_string())?;
    let guard = Dovecot {
        script,
        port,
        state,
        base: base.clone(),
    };
    if !status.success() {
        let text = std::fs::read_to_string(base.join("start.log")).unwrap_or_default();
        return Err(format!("dovecot did not start: {text}"));
    }
    // The Maildir of user1: cur/ files named by increasing time, so UIDs follow the order.
    let md = root.join("example.test/user1");
    for d in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(d)).map_err(|e| e.to_string())?;
    }
    for (i, f) in files.iter().enumerate() {
        let name = format!("{}.M{}P1.mailward:2,", 1_000_000_000 + i, i + 1);
        std::fs::copy(f, md.join("cur").join(name)).map_err(|e| e.to_string())?;
    }
    let _ = Command::new("chown")
        .args(["-R", "vmail:vmail"])
        .arg(&root)
        .status();
    let tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(60)));
    let w = tcp.try_clone().map_err(|e| e.to_string())?;
    let mut c = Client {
        r: BufReader::new(tcp),
        w,
        n: 0,
    };
    let _greeting = c.read_response();
    let (_, ok) = c.cmd("LOGIN user1@example.test bench-pass");
    if !ok.windows(3).any(|w| w == b" OK") {
        return Err(format!("login failed: {}", String::from_utf8_lossy(&ok)));
    }
    let (_, ok) = c.cmd("EXAMINE INBOX");
    if !ok.windows(3).any(|w| w == b" OK") {
        return Err(format!("examine failed: {}", String::from_utf8_lossy(&ok)));
    }
    Ok((guard, c))
}

/// Our FETCH items for the names Dovecot was asked for.
fn our_items(msg: &Message<'_>, paths: &[Vec<u32>]) -> Vec<(String, V)> {
    let mut items = vec![
        MessageDataItem::Rfc822Size(msg.size()),
        MessageDataItem::Envelope(msg.envelope()),
        MessageDataItem::Body(msg.body_structure(false)),
        MessageDataItem::BodyStructure(msg.body_structure(true)),
        msg.fetch_body(Some(&Section::Header(None)), None),
        msg.fetch_body(Some(&Section::Text(None)), None),
        msg.fetch_body(None, NonZeroU32::new(20).map(|n| (7, n))),
    ];
    if let (Ok(a), Ok(b)) = (AString::try_from("From"), AString::try_from("subject"))
        && let Ok(names) = Vec1::try_from(vec![a, b])
    {
        items.push(msg.fetch_body(Some(&Section::HeaderFields(None, names.clone())), None));
        items.push(msg.fetch_body(Some(&Section::HeaderFieldsNot(None, names)), None));
    }
    for p in paths {
        if let Some(part) = section_path(p) {
            items.push(msg.fetch_body(Some(&Section::Part(part.clone())), None));
            items.push(msg.fetch_body(Some(&Section::Mime(part)), None));
        }
    }
    let mut out = fetch_items(&encode_fetch(items));
    for (k, v) in out.iter_mut() {
        if k == "BODY" || k == "BODYSTRUCTURE" {
            norm_body(v);
        }
    }
    out
}

fn fetch_command(seq: usize, paths: &[Vec<u32>]) -> String {
    let mut c = format!(
        "FETCH {seq} (RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[]<7.20> BODY.PEEK[HEADER.FIELDS (From subject)] BODY.PEEK[HEADER.FIELDS.NOT (From subject)]"
    );
    for p in paths {
        let s = path_str(p);
        c.push_str(&format!(" BODY.PEEK[{s}] BODY.PEEK[{s}.MIME]"));
    }
    c.push(')');
    c
}

fn key_eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The content SEARCH keys compared, with our predicate for each.
type Pred = Box<dyn Fn(&Message<'_>) -> bool>;

fn search_keys() -> Vec<(&'static str, Pred)> {
    use search::Needle;
    let n = |s: &str| Needle::new(s.as_bytes());
    let date = |y, m, d| search::Date {
        year: y,
        month: m,
        day: d,
    };
    vec![
        ("SUBJECT test", {
            let x = n("test");
            Box::new(move |m: &Message<'_>| search::subject_contains(m, &x))
        }),
        ("SUBJECT \"hello  world\"", {
            let x = n("hello  world");
            Box::new(move |m: &Message<'_>| search::subject_contains(m, &x))
        }),
        ("FROM example", {
            let x = n("example");
            Box::new(move |m: &Message<'_>| search::address_contains(m, "From", &x))
        }),
        ("TO \"@\"", {
            let x = n("@");
            Box::new(move |m: &Message<'_>| search::address_contains(m, "To", &x))
        }),
        ("TO \"missing_domain\"", {
            let x = n("missing_domain");
            Box::new(move |m: &Message<'_>| search::address_contains(m, "To", &x))
        }),
        ("CC \"\"", {
            let x = n("");
            Box::new(move |m: &Message<'_>| search::address_contains(m, "Cc", &x))
        }),
        ("FROM \"jörg\"", {
            let x = n("jörg");
            Box::new(move |m: &Message<'_>| search::address_contains(m, "From", &x))
        }),
        ("SUBJECT \"ü\"", {
            let x = n("ü");
            Box::new(move |m: &Message<'_>| search::subject_contains(m, &x))
        }),
        ("BODY \"für\"", {
            let x = n("für");
            Box::new(move |m: &Message<'_>| search::body_contains(m, &x))
        }),
        ("HEADER Content-Type multipart", {
            let x = n("multipart");
            Box::new(move |m: &Message<'_>| search::header_contains(m, "Content-Type", &x))
        }),
        ("HEADER X-Mailer \"\"", {
            let x = n("");
            Box::new(move |m: &Message<'_>| search::header_contains(m, "X-Mailer", &x))
        }),
        ("BODY attachment", {
            let x = n("attachment");
            Box::new(move |m: &Message<'_>| search::body_contains(m, &x))
        }),
        ("BODY the", {
            let x = n("the");
            Box::new(move |m: &Message<'_>| search::body_contains(m, &x))
        }),
        ("TEXT hello", {
            let x = n("hello");
            Box::new(move |m: &Message<'_>| search::text_contains(m, &x))
        }),
        (
            "LARGER 4000",
            Box::new(|m: &Message<'_>| search::larger(m, 4000)),
        ),
        (
            "SMALLER 1000",
            Box::new(|m: &Message<'_>| search::smaller(m, 1000)),
        ),
        (
            "SENTBEFORE 1-Jan-2005",
            Box::new(move |m: &Message<'_>| search::sent_date_or_epoch(m) < date(2005, 1, 1)),
        ),
        (
            "SENTSINCE 1-Jan-2010",
            Box::new(move |m: &Message<'_>| search::sent_date_or_epoch(m) >= date(2010, 1, 1)),
        ),
        (
            "SENTON 6-Jun-2005",
            Box::new(move |m: &Message<'_>| search::sent_date_or_epoch(m) == date(2005, 6, 6)),
        ),
        (
            "SENTON 1-Jan-1970",
            Box::new(move |m: &Message<'_>| search::sent_date_or_epoch(m) == date(1970, 1, 1)),
        ),
    ]
}

#[test]
fn envelope_bodystructure_sections_and_search_match_dovecot() {
    let eml_dir = shared_dir().join("testdata/eml");
    if !eml_dir.is_dir() {
        println!("SKIPPED: {} is absent", eml_dir.display());
        return;
    }
    let mut files = Vec::new();
    eml_files(&eml_dir, &mut files);
    if files.is_empty() {
        println!("SKIPPED: no .eml files under {}", eml_dir.display());
        return;
    }
    let (_dovecot, mut client) = match start_dovecot(&files) {
        Ok(x) => x,
        Err(why) => {
            println!("SKIPPED: {why}");
            return;
        }
    };
    let mut compared = 0;
    let mut items_compared = 0;
    let mut diffs: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let raws: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_default())
        .collect();
    for (i, raw) in raws.iter().enumerate() {
        let seq = i + 1;
        let msg = Message::parse(raw);
        let mut paths = Vec::new();
        part_paths(msg.root(), &mut Vec::new(), &mut paths, true);
        let (untagged, tagged) = client.cmd(&fetch_command(seq, &paths));
        if !tagged.windows(3).any(|w| w == b" OK") {
            diffs.push(format!(
                "{}: FETCH failed: {}",
                files[i].display(),
                String::from_utf8_lossy(&tagged)
            ));
            continue;
        }
        let mut theirs: Vec<(String, V)> = untagged.iter().flat_map(|r| fetch_items(r)).collect();
        for (k, v) in theirs.iter_mut() {
            if k == "BODY" || k == "BODYSTRUCTURE" {
                norm_body(v);
            }
        }
        let ours = our_items(&msg, &paths);
        compared += 1;
        for (k, v) in &ours {
            items_compared += 1;
            match theirs.iter().find(|(tk, _)| key_eq(tk, k)) {
                None => diffs.push(format!(
                    "{} [{seq}] {k}: Dovecot sent no such item",
                    files[i].display()
                )),
                Some((_, tv)) if tv != v => diffs.push(format!(
                    "{} [{seq}] {k}:\n  dovecot: {}\n  ours:    {}",
                    files[i].display(),
                    tv.show(),
                    v.show()
                )),
                Some(_) => {}
            }
        }
        // BINARY.SIZE of each leaf part (RFC 3516): equal sizes after decoding.
        for p in &paths {
            let leaf = mailward_imap::message::section::resolve(msg.root(), p)
                .is_some_and(|part| matches!(part.kind, mime::Kind::Text | mime::Kind::Basic));
            if !leaf {
                continue;
            }
            let s = path_str(p);
            let (untagged, tagged) = client.cmd(&format!("FETCH {seq} (BINARY.SIZE[{s}])"));
            let nums: Vec<NonZeroU32> = p.iter().filter_map(|&n| NonZeroU32::new(n)).collect();
            let ours = msg.fetch_binary_size(&nums);
            let theirs_ok = tagged.windows(3).any(|w| w == b" OK");
            match (ours, theirs_ok) {
                (Ok(item), true) => {
                    let o = fetch_items(&encode_fetch(vec![item]));
                    let t: Vec<(String, V)> =
                        untagged.iter().flat_map(|r| fetch_items(r)).collect();
                    items_compared += 1;
                    if o.first().map(|x| &x.1) != t.first().map(|x| &x.1) {
                        diffs.push(format!(
                            "{} [{seq}] BINARY.SIZE[{s}]: dovecot {:?} ours {:?}",
                            files[i].display(),
                            t.first().map(|x| x.1.show()),
                            o.first().map(|x| x.1.show())
                        ));
                    }
                }
                (Err(_), false) => items_compared += 1,
                (Ok(_), false) if tagged.windows(7).any(|w| w == b"[PARSE]") => {
                    notes.push(format!("{} [{seq}] BINARY[{s}]: Dovecot refuses BINARY for this message (NO [PARSE], a broken base64 part in it); we decode the part", files[i].display()));
                }
                (o, _) => diffs.push(format!(
                    "{} [{seq}] BINARY.SIZE[{s}]: dovecot {} ours {:?}",
                    files[i].display(),
                    String::from_utf8_lossy(&tagged).trim(),
                    o.map(|_| "ok")
                )),
            }
        }
    }
    // SEARCH: the same messages for each content key.
    let msgs: Vec<Message<'_>> = raws.iter().map(|r| Message::parse(r)).collect();
    let mut searches = 0;
    for (key, pred) in search_keys() {
        let (untagged, tagged) = client.cmd(&format!("SEARCH CHARSET UTF-8 {key}"));
        if !tagged.windows(3).any(|w| w == b" OK") {
            diffs.push(format!(
                "SEARCH {key}: dovecot said {}",
                String::from_utf8_lossy(&tagged)
            ));
            continue;
        }
        let mut theirs: Vec<usize> = untagged
            .iter()
            .filter(|r| r.starts_with(b"* SEARCH"))
            .flat_map(|r| {
                String::from_utf8_lossy(r)
                    .split_whitespace()
                    .skip(2)
                    .filter_map(|n| n.parse().ok())
                    .collect::<Vec<usize>>()
            })
            .collect();
        theirs.sort_unstable();
        let sent_key = key.starts_with("SENT");
        // Normalisation 4: dates Dovecot cannot keep in an unsigned 32-bit time.
        let pre_1970 = |i: usize| {
            msgs.get(i).is_some_and(|m| {
                m.root()
                    .header
                    .first(m.data(), "Date")
                    .and_then(|f| search::date_timestamp(&f.unfolded(m.data())))
                    .is_some_and(|ts| !(0..=i64::from(u32::MAX)).contains(&ts))
            })
        };
        if sent_key {
            theirs.retain(|&n| !pre_1970(n - 1));
        }
        let ours: Vec<usize> = msgs
            .iter()
            .enumerate()
            .filter(|(i, m)| pred(m) && !(sent_key && pre_1970(*i)))
            .map(|(i, _)| i + 1)
            .collect();
        searches += 1;
        if theirs != ours {
            let only_t: Vec<String> = theirs
                .iter()
                .filter(|n| !ours.contains(n))
                .map(|n| format!("{n} {}", files[n - 1].display()))
                .collect();
            let only_o: Vec<String> = ours
                .iter()
                .filter(|n| !theirs.contains(n))
                .map(|n| format!("{n} {}", files[n - 1].display()))
                .collect();
            diffs.push(format!(
                "SEARCH {key}:\n  only dovecot: {only_t:?}\n  only ours: {only_o:?}"
            ));
        }
    }
    println!(
        "compared {compared} messages, {items_compared} FETCH items and {searches} SEARCH keys with Dovecot: {} differences",
        diffs.len()
    );
    for n in &notes {
        println!("NOTE {n}");
    }
    for d in &diffs {
        println!("DIFF {d}");
    }
    assert!(
        diffs.is_empty(),
        "{} differences from Dovecot (see output)",
        diffs.len()
    );
}
