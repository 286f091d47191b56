//! `mailward serve` IMAP with real clients from Debian: `mbsync` (isync) syncing both ways,
//! `fetchmail` retrieving over IMAP with STARTTLS, and `mutt` in batch mode over imaps
//! (under `script`, which gives it a terminal). Mail is delivered by SMTP (Python smtplib) and the
//! server side is checked over IMAP (Python imaplib, `tests/py/imap_clients.py`) and in the
//! Maildir. Every client run has a timeout, so a hang fails the test instead of blocking.
//! A missing tool fails the test unless `MAILWARD_SKIP_PEERS=1` (then it is skipped with a
//! notice).
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{Mailward, PASSWORD, debian_tool};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "bob@example.test";

/// A running server with IMAP listeners (STARTTLS and implicit TLS).
struct Imap {
    m: Mailward,
    imap: u16,
    imaps: u16,
}

impl Imap {
    fn start() -> Imap {
        let m = Mailward::start_with_listeners(
            "",
            "imap = \"127.0.0.1:0\"\nimaps = [\"127.0.0.1:0\"]\npop3 = []\npop3s = []",
        );
        let (imap, imaps) = (m.listener_port("imap"), m.listener_port("imaps"));
        m.add_account(USER, None);
        Imap { m, imap, imaps }
    }

    /// Runs `tests/py/imap_clients.py SCENARIO ... ARGS`; returns its stdout.
    fn py(&self, scenario: &str, args: &[&str]) -> String {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/imap_clients.py");
        let out = Command::new("python3")
            .arg(script)
            .arg(scenario)
            .arg(self.m.smtp.to_string())
            .arg(self.imap.to_string())
            .arg(self.imaps.to_string())
            .args(args)
            .output()
            .expect("python3 is needed for these tests");
        assert!(
            out.status.success(),
            "imap_clients.py {scenario} failed:\n{}\n{}\nlog: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// What the server holds, seen over IMAP: folder → [{subject, flags, body}].
    fn state(&self) -> serde_json::Value {
        let out = self.py("state", &[]);
        serde_json::from_str(out.lines().last().unwrap_or("{}")).expect("state JSON")
    }

    /// Writes the certificate the server presents to `path` (for the clients to trust).
    fn save_cert(&self, path: &Path) {
        let pem = self.py("cert", &[]);
        assert!(pem.contains("BEGIN CERTIFICATE"), "{pem}");
        std::fs::write(path, pem).expect("write certificate");
    }

    /// Delivers `n` messages with subjects `PREFIX 1..n` and waits until they are stored.
    fn deliver(&self, prefix: &str, n: usize) {
        let before = self.files("INBOX").len();
        self.py("deliver", &[prefix, &n.to_string()]);
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.files("INBOX").len() < before + n {
            assert!(
                Instant::now() < deadline,
                "mail was not delivered: {}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        std::fs::read_to_string(&self.m.log)
            .unwrap_or_default()
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The server's files of `folder` (`new/` and `cur/`).
    fn files(&self, folder: &str) -> Vec<PathBuf> {
        let base = self.m.maildir("bob");
        let dir = if folder == "INBOX" {
            base
        } else {
            base.join(format!(".{folder}"))
        };
        maildir_files(&dir)
    }
}

/// The files in `dir/new` and `dir/cur`, sorted.
fn maildir_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
            out.extend(rd.flatten().map(|e| e.path()));
        }
    }
    out.sort();
    out
}

fn read_text(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

/// LF line ends, as the clients store mail locally.
fn lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// The messages of a JSON state folder: (subject, flags, body).
fn messages(state: &serde_json::Value, folder: &str) -> Vec<(String, Vec<String>, String)> {
    state[folder]
        .as_array()
        .unwrap_or_else(|| panic!("no folder {folder} on the server: {state}"))
        .iter()
        .map(|m| {
            (
                m["subject"].as_str().unwrap_or("").to_string(),
                m["flags"]
                    .as_array()
                    .map(|f| {
                        f.iter()
                            .map(|x| x.as_str().unwrap_or("").to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
                m["body"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Runs `cmd` with stdout and stderr in files and stdin an open pipe nothing is written to;
/// kills it after `secs`. Returns (success, stdout + stderr); panics on a timeout.
fn run(cmd: &mut Command, secs: u64, what: &str, server: &Imap) -> (bool, String) {
    let outdir = tempfile::tempdir().expect("tempdir");
    let (o, e) = (outdir.path().join("out"), outdir.path().join("err"));
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&o).expect("stdout file"))
        .stderr(std::fs::File::create(&e).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|err| panic!("start {what}: {err}"));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = format!("{}\n{}", read_text(&o), read_text(&e));
    // Shown with --nocapture, or when the test fails.
    eprintln!("---- {what} ----\n{output}");
    let Some(status) = status else {
        panic!(
            "{what} did not finish within {secs} s:\n{output}\nserver log: {}",
            server.log_tail()
        );
    };
    (status.success(), output)
}

/// mbsync, run with a private HOME; panics with its output and the server log on failure.
fn mbsync(mbsync: &Path, home: &Path, rc: &Path, server: &Imap, round: &str) -> String {
    let (ok, out) = run(
        Command::new(mbsync)
            .arg("-V")
            .arg("-c")
            .arg(rc)
            .arg("-a")
            .env("HOME", home),
        30,
        &format!("mbsync ({round})"),
        server,
    );
    assert!(
        ok,
        "mbsync ({round}) failed:\n{out}\nserver log: {}",
        server.log_tail()
    );
    out
}

/// A local Maildir message's text without the `X-TUID:` header mbsync may add while it
/// propagates a message.
fn without_tuid(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|l| !l.starts_with("X-TUID: "))
        .collect()
}

#[test]
fn mbsync_syncs_a_mailbox_both_ways() {
    let Some(mbsync_bin) = debian_tool("mbsync", "isync") else {
        return;
    };
    let s = Imap::start();
    s.deliver("sync", 3);
    let home = tempfile::tempdir().expect("tempdir");
    let cert = home.path().join("server.pem");
    s.save_cert(&cert);
    let mail = home.path().join("mail");
    std::fs::create_dir(&mail).expect("mail dir");
    let rc = home.path().join(".mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount mw\nHost 127.0.0.1\nPort {port}\nUser {USER}\nPass {PASSWORD}\n\
             SSLType STARTTLS\nCertificateFile {cert}\nAuthMechs PLAIN\nTimeout 20\n\n\
             IMAPStore mw-remote\nAccount mw\n\n\
             MaildirStore mw-local\nPath {mail}/\nInbox {mail}/INBOX\nSubFolders Verbatim\n\n\
             Channel mw\nFar :mw-remote:\nNear :mw-local:\nPatterns *\nCreate Both\n\
             Expunge Both\nSyncState *\n",
            port = s.imap,
            cert = cert.display(),
            mail = mail.display(),
        ),
    )
    .expect("mbsyncrc");
    #[cfg(unix)]
    chmod(&rc, 0o600);

    // 1. Server → local: the three messages, byte for byte (with LF line ends), and every
    // folder.
    mbsync(&mbsync_bin, home.path(), &rc, &s, "first sync");
    let local_inbox = maildir_files(&mail.join("INBOX"));
    assert_eq!(local_inbox.len(), 3, "{local_inbox:?}");
    let local: Vec<String> = local_inbox
        .iter()
        .map(|p| without_tuid(&read_text(p)))
        .collect();
    for f in s.files("INBOX") {
        let original = lf(&read_text(&f));
        assert_eq!(
            local.iter().filter(|l| **l == original).count(),
            1,
            "not synced intact: {original:.300}\nlocal: {local:?}"
        );
    }
    for folder in ["Sent", "Drafts", "Trash", "Junk", "Archive"] {
        assert!(mail.join(folder).join("cur").is_dir(), "local {folder}");
    }

    // 2. Local → server: "sync 1" seen, "sync 2" deleted, a new folder with a message.
    let find = |subject: &str| -> PathBuf {
        maildir_files(&mail.join("INBOX"))
            .into_iter()
            .find(|p| read_text(p).contains(&format!("Subject: {subject}\n")))
            .unwrap_or_else(|| panic!("no local {subject}"))
    };
    let set_flag = |path: &Path, flag: char| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (base, flags) = name.split_once(":2,").unwrap_or((&name, ""));
        let mut flags: Vec<char> = flags.chars().chain([flag]).collect();
        flags.sort_unstable();
        flags.dedup();
        let target = path
            .parent()
            .and_then(Path::parent)
            .unwrap()
            .join("cur")
            .join(format!("{base}:2,{}", flags.iter().collect::<String>()));
        std::fs::rename(path, target).expect("rename");
    };
    set_flag(&find("sync 1"), 'S');
    set_flag(&find("sync 2"), 'T');
    let projects = mail.join("Projects");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(projects.join(sub)).expect("Projects");
    }
    let project_msg = "From: Bob <bob@example.test>\nTo: team@example.test\n\
                       Subject: local project plan\nMessage-ID: <plan@example.test>\n\
                       Date: Sun, 23 Nov 2025 09:00:00 +0000\n\n\
                       Written in the local Maildir.\n.dot line\n";
    std::fs::write(
        projects.join("new").join("1763888400.P1Q1.laptop"),
        project_msg,
    )
    .expect("local message");
    mbsync(&mbsync_bin, home.path(), &rc, &s, "second sync");

    let state = s.state();
    let inbox = messages(&state, "INBOX");
    let subjects: Vec<&str> = inbox.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(subjects, ["sync 1", "sync 3"], "{state}");
    assert!(inbox[0].1.iter().any(|f| f == "\\Seen"), "{:?}", inbox[0]);
    assert!(!inbox[1].1.iter().any(|f| f == "\\Seen"), "{:?}", inbox[1]);
    assert_eq!(
        s.files("INBOX").len(),
        2,
        "the deleted message's file is gone"
    );
    let proj = messages(&state, "Projects");
    assert_eq!(proj.len(), 1, "{state}");
    assert_eq!(lf(&without_tuid(&lf(&proj[0].2))), project_msg);
    assert_eq!(s.files("Projects").len(), 1);
    assert_eq!(
        maildir_files(&mail.join("INBOX")).len(),
        2,
        "expunged locally"
    );

    // 3. Server → local again: a message APPENDed on the server is fetched.
    s.py("append", &["INBOX", "appended on server"]);
    s.py("append", &["Projects", "server project note"]);
    mbsync(&mbsync_bin, home.path(), &rc, &s, "third sync");
    let local: Vec<String> = maildir_files(&mail.join("INBOX"))
        .iter()
        .map(|p| read_text(p))
        .collect();
    assert_eq!(local.len(), 3, "{local:?}");
    assert!(
        local
            .iter()
            .any(|t| t.contains("Subject: appended on server\n")),
        "{local:?}"
    );
    let local_proj: Vec<String> = maildir_files(&projects)
        .iter()
        .map(|p| read_text(p))
        .collect();
    assert_eq!(local_proj.len(), 2, "{local_proj:?}");
    assert!(
        local_proj
            .iter()
            .any(|t| t.contains("Subject: server project note\n"))
    );

    // 4. Nothing left to do: another run changes neither side.
    let before = s.state();
    let out = mbsync(&mbsync_bin, home.path(), &rc, &s, "idle sync");
    assert_eq!(s.state(), before, "{out}");
    assert_eq!(maildir_files(&mail.join("INBOX")).len(), 3);
}

/// Takes out the `Received:` header fetchmail adds (`... with IMAP (fetchmail-6.4.37)`),
/// with its continuation lines.
fn without_fetchmail_received(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split_inclusive('\n').peekable();
    let mut in_header = true;
    while let Some(line) = lines.next() {
        if in_header && line == "\n" {
            in_header = false;
        }
        if in_header && line.starts_with("Received: from 127.0.0.1 ") {
            while lines
                .peek()
                .is_some_and(|l| l.starts_with('\t') || l.starts_with(' '))
            {
                lines.next();
            }
            continue;
        }
        out.push_str(line);
    }
    out
}

#[test]
fn fetchmail_retrieves_over_imap_starttls_and_deletes() {
    let Some(fetchmail) = debian_tool("fetchmail", "fetchmail") else {
        return;
    };
    let s = Imap::start();
    s.deliver("fetch", 3);
    let stored: Vec<String> = s.files("INBOX").iter().map(|p| read_text(p)).collect();
    let home = tempfile::tempdir().expect("tempdir");
    let outdir = home.path().join("out");
    std::fs::create_dir(&outdir).expect("out dir");
    let mda = home.path().join("mda.sh");
    std::fs::write(
        &mda,
        format!(
            "#!/bin/sh\ncat > \"$(mktemp {}/msg.XXXXXX)\"\n",
            outdir.display()
        ),
    )
    .expect("mda script");
    let rc = home.path().join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "set no syslog\npoll 127.0.0.1 with proto IMAP port {port} timeout 20\n  \
             user \"{USER}\" there with password \"{PASSWORD}\" folder INBOX\n  \
             sslproto \"tls1.2+\" no sslcertck\n  fetchall\n  mda \"{mda}\"\n",
            port = s.imap,
            mda = mda.display()
        ),
    )
    .expect("fetchmailrc");
    #[cfg(unix)]
    {
        chmod(&rc, 0o600);
        chmod(&mda, 0o755);
    }
    let (ok, log) = run(
        Command::new(&fetchmail)
            .args(["--nodetach", "--nosyslog", "-v", "-v", "-f"])
            .arg(&rc)
            .env("HOME", home.path())
            .env("FETCHMAILHOME", home.path()),
        30,
        "fetchmail",
        &s,
    );
    assert!(ok, "fetchmail failed: {log}\nserver log: {}", s.log_tail());
    assert!(log.contains("STARTTLS"), "fetchmail used STARTTLS: {log}");

    // Each message reached the MDA intact (LF line ends, fetchmail's Received: on top).
    let written: Vec<String> = std::fs::read_dir(&outdir)
        .expect("out dir")
        .flatten()
        .map(|e| without_fetchmail_received(&read_text(&e.path())))
        .collect();
    assert_eq!(written.len(), 3, "{log}");
    for original in &stored {
        let original = lf(original);
        assert_eq!(
            written.iter().filter(|w| **w == original).count(),
            1,
            "message not retrieved intact: {original:.400}\nwritten: {written:?}"
        );
    }
    // Without --keep, fetchmail flagged them \Deleted and expunged: the INBOX is empty.
    assert!(s.files("INBOX").is_empty(), "{:?}", s.files("INBOX"));
    let state = s.state();
    assert!(messages(&state, "INBOX").is_empty(), "{state}");

    // A second run finds nothing and says so (exit status 1 = no mail).
    let (_, log2) = run(
        Command::new(&fetchmail)
            .args(["--nodetach", "--nosyslog", "-v", "-f"])
            .arg(&rc)
            .env("HOME", home.path())
            .env("FETCHMAILHOME", home.path()),
        30,
        "fetchmail (second run)",
        &s,
    );
    assert!(log2.contains("No mail"), "{log2}");
    assert_eq!(std::fs::read_dir(&outdir).expect("out").count(), 3);
}

#[test]
fn mutt_in_batch_mode_pipes_saves_and_expunges() {
    let Some(mutt) = debian_tool("mutt", "mutt") else {
        return;
    };
    let Some(script) = debian_tool("script", "bsdutils") else {
        return;
    };
    let s = Imap::start();
    s.deliver("mutt", 3);
    let home = tempfile::tempdir().expect("tempdir");
    let cert = home.path().join("server.pem");
    s.save_cert(&cert);
    let piped = home.path().join("piped.eml");
    let muttrc = home.path().join("muttrc");
    std::fs::write(
        &muttrc,
        format!(
            "set imap_user=\"{USER}\"\nset imap_pass=\"{PASSWORD}\"\n\
             set folder=\"imaps://127.0.0.1:{port}/\"\nset spoolfile=\"+INBOX\"\n\
             set ssl_force_tls=yes\nset ssl_verify_host=no\n\
             set certificate_file=\"{cert}\"\nset imap_authenticators=\"plain\"\n\
             set header_cache=\"\"\nset message_cachedir=\"\"\n\
             set confirmappend=no\nset confirmcreate=no\nset quit=yes\nset delete=yes\n\
             set move=no\nset wait_key=no\nset pipe_decode=no\nset sort=subject\n\
             set timeout=5\nset imap_keepalive=60\nset mail_check=60\n",
            port = s.imaps,
            cert = cert.display(),
        ),
    )
    .expect("muttrc");
    // First message (sort=subject: "mutt 1") piped out raw; "mutt 2" saved to Archive
    // (server-side UID COPY, then \Deleted); quit expunges.
    let keys = format!(
        "<pipe-message>cat > {piped}<enter>\
         <tag-pattern>~s 2<enter><tag-prefix><save-message>=Archive<enter><quit>",
        piped = piped.display()
    );
    let wrapper = home.path().join("run-mutt.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec {mutt} -n -F {rc} -f imaps://127.0.0.1:{port}/INBOX -e 'push \"{keys}\"'\n",
            mutt = mutt.display(),
            rc = muttrc.display(),
            port = s.imaps,
        ),
    )
    .expect("wrapper");
    #[cfg(unix)]
    chmod(&wrapper, 0o755);
    let (ok, out) = run(
        Command::new(script)
            .arg("-qec")
            .arg(&wrapper)
            .arg("/dev/null")
            .env("HOME", home.path())
            .env("TERM", "xterm")
            .env("COLUMNS", "120")
            .env("LINES", "40"),
        30,
        "mutt",
        &s,
    );
    assert!(ok, "mutt failed: {out}\nserver log: {}", s.log_tail());

    // What mutt piped is the first message as stored (LF line ends).
    let piped_text = read_text(&piped);
    let first = s
        .files("INBOX")
        .iter()
        .map(|p| lf(&read_text(p)))
        .find(|t| t.contains("Subject: mutt 1\n"))
        .expect("mutt 1 still on the server");
    assert_eq!(piped_text, first, "mutt output: {out}");

    // "mutt 2" moved to Archive, intact; the INBOX keeps 1 and 3.
    let state = s.state();
    let inbox: Vec<String> = messages(&state, "INBOX").into_iter().map(|m| m.0).collect();
    assert_eq!(inbox, ["mutt 1", "mutt 3"], "{state}\nmutt output: {out}");
    let archive = messages(&state, "Archive");
    assert_eq!(archive.len(), 1, "{state}");
    assert_eq!(archive[0].0, "mutt 2");
    assert!(archive[0].2.contains("Body of message 2.\r\n"), "{state}");
    assert_eq!(s.files("Archive").len(), 1);
    assert_eq!(s.files("INBOX").len(), 2);
}
