//! A real Postfix (Debian package) on loopback, with a content filter that re-injects through
//! a second smtpd, a sink that answers 4xx (deferrals), one that answers 5xx (bounces) and one
//! that accepts (remote delivery). Known traffic goes in; the flows and the summary read from
//! Postfix's own log must equal what was sent, each message counted once.
//!
//! Needs root and `postfix`. Without `postfix` the test fails, unless `MAILWARD_SKIP_PEERS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_logs::verify::{SentMessage, flows_match_sent};
use mailward_logs::{Analyzer, Status};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

fn skip_peers() -> bool {
    std::env::var("MAILWARD_SKIP_PEERS").is_ok_and(|v| v == "1")
}

// ---- a minimal SMTP server side, for the filter and the sinks ----------------------------

#[derive(Clone, Copy)]
enum Mode {
    /// Accept everything.
    Accept,
    /// Answer RCPT with this reply.
    RejectRcpt(&'static str),
    /// Pass the message on to this port and answer with its final reply (a content filter).
    Relay(u16),
}

fn reply(w: &mut TcpStream, line: &str) -> std::io::Result<()> {
    w.write_all(line.as_bytes())?;
    w.write_all(b"\r\n")
}

/// Reads one SMTP reply (multi-line aware); returns the last line.
fn read_reply(r: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other("connection closed"));
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(line.trim_end().to_owned());
        }
    }
}

fn serve(listener: TcpListener, mode: Mode) {
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = session(conn, mode);
            });
        }
    });
}

fn session(conn: TcpStream, mode: Mode) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    reply(&mut w, "220 sink.test ESMTP")?;
    let (mut from, mut rcpts) = (String::new(), Vec::<String>::new());
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            w.write_all(b"250-sink.test\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("HELO")
            || upper.starts_with("RSET")
            || upper.starts_with("NOOP")
        {
            reply(&mut w, "250 ok")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = cmd
                .get(10..)
                .unwrap_or("")
                .split_whitespace()
                .next()
                .unwrap_or("<>")
                .to_owned();
            rcpts.clear();
            reply(&mut w, "250 2.1.0 ok")?;
        } else if upper.starts_with("RCPT TO:") {
            match mode {
                Mode::RejectRcpt(text) => reply(&mut w, text)?,
                _ => {
                    rcpts.push(
                        cmd.get(8..)
                            .unwrap_or("")
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_owned(),
                    );
                    reply(&mut w, "250 2.1.5 ok")?;
                }
            }
        } else if upper == "DATA" {
            reply(&mut w, "354 go ahead")?;
            let mut body = Vec::new();
            loop {
                let mut l = String::new();
                if r.read_line(&mut l)? == 0 {
                    return Ok(());
                }
                if l == ".\r\n" || l == ".\n" {
                    break;
                }
                body.extend_from_slice(l.as_bytes());
            }
            match mode {
                Mode::Relay(port) => {
                    let answer = relay(port, &from, &rcpts, &body)
                        .unwrap_or_else(|e| format!("451 4.3.0 filter: {e}"));
                    reply(&mut w, &answer)?;
                }
                _ => reply(&mut w, "250 2.0.0 Ok: queued as SINK0001")?,
            }
        } else if upper.starts_with("QUIT") {
            reply(&mut w, "221 bye")?;
            return Ok(());
        } else {
            reply(&mut w, "502 5.5.2 what")?;
        }
    }
}

/// The filter's way back in: re-inject through the second smtpd and return its final reply.
fn relay(port: u16, from: &str, rcpts: &[String], body: &[u8]) -> std::io::Result<String> {
    let conn = TcpStream::connect(("127.0.0.1", port))?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    read_reply(&mut r)?;
    w.write_all(b"EHLO filter.test\r\n")?;
    read_reply(&mut r)?;
    w.write_all(format!("MAIL FROM:{from}\r\n").as_bytes())?;
    read_reply(&mut r)?;
    for rc in rcpts {
        w.write_all(format!("RCPT TO:{rc}\r\n").as_bytes())?;
        read_reply(&mut r)?;
    }
    w.write_all(b"DATA\r\n")?;
    read_reply(&mut r)?;
    w.write_all(body)?;
    w.write_all(b".\r\n")?;
    let fin = read_reply(&mut r)?;
    w.write_all(b"QUIT\r\n")?;
    let _ = read_reply(&mut r);
    Ok(fin)
}

/// Sends one message; returns the reply code to each RCPT.
fn send(port: u16, from: &str, rcpts: &[&str], message_id: &str) -> std::io::Result<Vec<String>> {
    let conn = TcpStream::connect(("127.0.0.1", port))?;
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    read_reply(&mut r)?;
    w.write_all(b"EHLO client.test\r\n")?;
    read_reply(&mut r)?;
    w.write_all(format!("MAIL FROM:<{from}>\r\n").as_bytes())?;
    read_reply(&mut r)?;
    let mut codes = Vec::new();
    for rc in rcpts {
        w.write_all(format!("RCPT TO:<{rc}>\r\n").as_bytes())?;
        codes.push(read_reply(&mut r)?);
    }
    if codes.iter().any(|c| c.starts_with('2')) {
        w.write_all(b"DATA\r\n")?;
        read_reply(&mut r)?;
        let msg = format!(
            "From: <{from}>\r\nTo: <{}>\r\nSubject: logs test\r\nMessage-ID: <{message_id}>\r\n\r\nHello.\r\n.\r\n",
            rcpts.join(">, <")
        );
        w.write_all(msg.as_bytes())?;
        read_reply(&mut r)?;
    }
    w.write_all(b"QUIT\r\n")?;
    let _ = read_reply(&mut r);
    Ok(codes)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
    (l, port)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed: {text}");
    text
}

/// A private Postfix under /tmp; stopped on drop.
struct Postfix {
    conf: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(&self.conf)
            .arg("stop")
            .output();
        std::thread::sleep(Duration::from_millis(300));
    }
}

struct Ports {
    public: u16,
    reinject: u16,
    filter: u16,
    ok: u16,
    soft: u16,
    hard: u16,
}

fn start_postfix(p: &Ports) -> Postfix {
    let dir = tempfile::Builder::new()
        .prefix("mailward-logs-pf-")
        .tempdir_in("/tmp")
        .unwrap_or_else(|e| panic!("tempdir: {e}"));
    let root = dir.path().to_path_buf();
    let (conf, queue, data, logd, mail) = (
        root.join("conf"),
        root.join("queue"),
        root.join("data"),
        root.join("log"),
        root.join("mail"),
    );
    for d in [&conf, &queue, &data, &logd, &mail] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    }
    if !Command::new("id")
        .arg("vmail")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        run(Command::new("useradd").args([
            "--system",
            "--user-group",
            "--home-dir",
            "/nonexistent",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "vmail",
        ]));
    }
    let uid = run(Command::new("id").args(["-u", "vmail"]))
        .trim()
        .to_owned();
    let gid = run(Command::new("id").args(["-g", "vmail"]))
        .trim()
        .to_owned();
    run(Command::new("chmod")
        .arg("0755")
        .arg(&root)
        .arg(&conf)
        .arg(&queue)
        .arg(&logd));
    run(Command::new("chown").arg("postfix:postfix").arg(&data));
    run(Command::new("chown").arg(format!("{uid}:{gid}")).arg(&mail));

    // master.cf: Debian's, chroot off, the public smtpd with the content filter, plus the
    // re-injection smtpd (no filter, so nothing loops).
    let master = std::fs::read_to_string("/etc/postfix/master.cf").unwrap_or_default();
    let mut out = String::new();
    for line in master.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with('#') || line.starts_with(' ') || line.starts_with('\t') || f.len() < 8 {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut f: Vec<String> = f.iter().map(|s| s.to_string()).collect();
        if let Some(chroot) = f.get_mut(4)
            && (chroot == "y" || chroot == "-")
        {
            *chroot = "n".into();
        }
        if f.first().map(String::as_str) == Some("smtp")
            && f.get(1).map(String::as_str) == Some("inet")
        {
            out.push_str(&format!(
                "127.0.0.1:{} inet n - n - - smtpd\n  -o content_filter=smtp:[127.0.0.1]:{}\n",
                p.public, p.filter
            ));
            continue;
        }
        out.push_str(&f.join(" "));
        out.push('\n');
    }
    out.push_str(&format!(
        "127.0.0.1:{} inet n - n - - smtpd\n  -o content_filter=\n  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks\n",
        p.reinject
    ));
    std::fs::write(conf.join("master.cf"), out).unwrap_or_else(|e| panic!("master.cf: {e}"));
    let main = format!(
        "compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
myhostname = mx.logs.test
mydomain = logs.test
myorigin = $myhostname
mydestination = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
biff = no
append_dot_mydomain = no
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = example.test
virtual_mailbox_base = {mail}
virtual_mailbox_maps = hash:{conf}/vmailbox
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 100
transport_maps = hash:{conf}/transport
default_transport = error:no remote delivery in this test
relay_transport = error:no remote delivery in this test
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_dns_support_level = disabled
smtpd_tls_security_level = none
smtp_tls_security_level = none
queue_run_delay = 300s
minimal_backoff_time = 300s
maillog_file_prefixes = /var, /tmp
maillog_file = {log}/mail.log
",
        queue = queue.display(),
        data = data.display(),
        mail = mail.display(),
        conf = conf.display(),
        log = logd.display(),
    );
    std::fs::write(conf.join("main.cf"), main).unwrap_or_else(|e| panic!("main.cf: {e}"));
    let users: String = ["user1", "user2", "user3", "sender"]
        .iter()
        .map(|u| format!("{u}@example.test example.test/{u}/\n"))
        .collect();
    std::fs::write(conf.join("vmailbox"), users).unwrap_or_else(|e| panic!("vmailbox: {e}"));
    let transport = format!(
        "remote.test smtp:[127.0.0.1]:{}\ndefer.test smtp:[127.0.0.1]:{}\nbounce.test smtp:[127.0.0.1]:{}\n",
        p.ok, p.soft, p.hard
    );
    std::fs::write(conf.join("transport"), transport).unwrap_or_else(|e| panic!("transport: {e}"));
    for map in ["vmailbox", "transport"] {
        run(Command::new("postmap")
            .arg("-c")
            .arg(&conf)
            .arg(format!("hash:{}/{map}", conf.display())));
    }
    run(Command::new("postfix").arg("-c").arg(&conf).arg("check"));
    let start = Command::new("postfix")
        .arg("-c")
        .arg(&conf)
        .arg("start")
        .output();
    if !start.as_ref().is_ok_and(|o| o.status.success()) {
        // Postfix prints fatal errors only to a terminal or syslog: show them through script(1).
        let why = Command::new("script")
            .args([
                "-qec",
                &format!("postfix -c {} start", conf.display()),
                "/dev/null",
            ])
            .output();
        panic!("postfix start failed: {start:?} {why:?}");
    }
    let pf = Postfix {
        conf,
        log: logd.join("mail.log"),
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", p.public)).is_err() {
        assert!(
            Instant::now() < deadline,
            "postfix did not listen on {}",
            p.public
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    pf
}

fn count(log: &Path, needle: &str) -> usize {
    std::fs::read_to_string(log)
        .map(|t| t.lines().filter(|l| l.contains(needle)).count())
        .unwrap_or(0)
}

/// (recipient, expected final status, expected to leave for another host)
type Expect = (&'static str, Status, bool);

#[test]
fn real_postfix_with_content_filter_deferrals_and_bounces_gives_flows_equal_to_what_was_sent() {
    if !have("postfix") {
        if skip_peers() {
            eprintln!("notice: postfix not installed and MAILWARD_SKIP_PEERS=1: skipping");
            return;
        }
        panic!("postfix is not installed (apt-get install postfix), or set MAILWARD_SKIP_PEERS=1");
    }
    if !Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
    {
        if skip_peers() {
            eprintln!("notice: not root and MAILWARD_SKIP_PEERS=1: skipping");
            return;
        }
        panic!(
            "this test runs a private Postfix and must run as root (or set MAILWARD_SKIP_PEERS=1)"
        );
    }
    let (filter_l, filter) = listener();
    let (ok_l, ok) = listener();
    let (soft_l, soft) = listener();
    let (hard_l, hard) = listener();
    let ports = Ports {
        public: free_port(),
        reinject: free_port(),
        filter,
        ok,
        soft,
        hard,
    };
    serve(filter_l, Mode::Relay(ports.reinject));
    serve(ok_l, Mode::Accept);
    serve(
        soft_l,
        Mode::RejectRcpt("450 4.2.0 <x>: Recipient address rejected: Greylisted"),
    );
    serve(
        hard_l,
        Mode::RejectRcpt("550 5.1.1 <y>: Recipient address rejected: User unknown"),
    );
    let pf = start_postfix(&ports);

    let s = Status::Sent;
    let plan: Vec<(&str, Vec<Expect>)> = vec![
        ("m1", vec![("user1@example.test", s, false)]),
        ("m2", vec![("user2@example.test", s, false)]),
        ("m3", vec![("user3@example.test", s, false)]),
        ("m4", vec![("someone@remote.test", s, true)]),
        ("m5", vec![("later@defer.test", Status::Deferred, false)]),
        ("m6", vec![("gone@bounce.test", Status::Bounced, false)]),
        (
            "m7",
            vec![
                ("user1@example.test", s, false),
                ("other@remote.test", s, true),
            ],
        ),
    ];
    let mut sent = Vec::new();
    for (tag, rcpts) in &plan {
        let message_id = format!("{tag}.{}@client.test", std::process::id());
        let to: Vec<&str> = rcpts.iter().map(|r| r.0).collect();
        let codes = send(ports.public, "sender@example.test", &to, &message_id)
            .unwrap_or_else(|e| panic!("send {tag}: {e}"));
        assert!(
            codes.iter().all(|c| c.starts_with("250")),
            "{tag}: {codes:?}"
        );
        sent.push(SentMessage {
            message_id,
            from: "sender@example.test".into(),
            client_ip: Some("127.0.0.1".into()),
            sasl_user: None,
            queue_ids: Vec::new(),
            recipients: rcpts
                .iter()
                .map(|(t, st, remote)| (t.to_string(), *st, *remote))
                .collect(),
        });
    }
    // One refusal at RCPT: an unknown user of the virtual domain.
    let codes = send(
        ports.public,
        "sender@example.test",
        &["nobody@example.test"],
        "never@client.test",
    )
    .unwrap_or_default();
    assert!(codes.iter().all(|c| c.starts_with("550")), "{codes:?}");

    // Wait until Postfix is done: 7 originals and 6 re-injected copies removed, plus the
    // bounce notification; one copy stays deferred.
    let deadline = Instant::now() + Duration::from_secs(45);
    while count(&pf.log, ": removed") < 14 || count(&pf.log, "status=deferred") < 1 {
        assert!(
            Instant::now() < deadline,
            "postfix did not finish; log:\n{}",
            std::fs::read_to_string(&pf.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    let log_text = std::fs::read_to_string(&pf.log).unwrap_or_default();

    let input = mailward_logs::input::Input::open(&pf.log, None).unwrap_or_else(|e| panic!("{e}"));
    let mut an = Analyzer::new(true, true, true);
    let mut flows = Vec::new();
    mailward_logs::input::for_each_line(vec![input], |l, y| an.line(l, y, &mut |f| flows.push(f)))
        .unwrap_or_else(|e| panic!("{e}"));
    let (summary, unparsed) = an.finish(10, &mut |f| flows.push(f));

    let bad = flows_match_sent(&flows, &sent);
    assert!(
        bad.is_empty(),
        "flows differ from what was sent:\n{}\n\nlog:\n{log_text}",
        bad.join("\n")
    );
    for f in flows.iter().filter(|f| f.notification_of.is_none()) {
        assert_eq!(
            f.queue_ids.len(),
            2,
            "each message went through the filter once: {f:#?}"
        );
    }
    assert!(unparsed.is_empty(), "unparsed Postfix lines: {unparsed:#?}");
    let got = (
        summary.received,
        summary.delivered,
        summary.forwarded,
        summary.deferred,
        summary.bounced,
        summary.rejected,
        summary.notifications,
    );
    assert_eq!(
        got,
        (7, 6, 2, 1, 1, 1, 1),
        "received, delivered, forwarded, deferred, bounced, rejected, notifications\n{summary:#?}\n{log_text}"
    );
    assert_eq!(summary.handoffs, 7);
}
