//! The clamd client against a real clamd (Debian's clamav-daemon), started by this test in
//! a temporary directory with signatures written here:
//! - `eicar.ndb`: the EICAR test string (built from two halves, so the repository never
//!   holds it whole) as a body signature, `Eicar-Test`;
//! - `testfiles.hdb`: the SHA-256 and size of `clam.exe` from Debian's clamav-testfiles,
//!   `ClamAV-Test-File`. Every sample of that package carries this same 544-byte program,
//!   packed (UPX, ASPack, ...), archived (zip, 7z, cab, ...), or encoded (mbox, binhex,
//!   RTF, PDF, ...); clamd unpacks it and the one hash line detects them all.
//!
//! The configuration sets `AlertExceedsMax yes` (clamd.conf(5)): a file nested or sized
//! beyond clamd's scan limits is reported (`Heuristics.Limits.Exceeded.*`) rather than
//! passed as clean; a gateway should run clamd so.
//!
//! One clamd is shared by the tests of this binary (a second one with a tiny
//! `StreamMaxLength` for the size rule); it dies with the test process (a shell holds it
//! and kills it when its standard input, our pipe, closes). Skipped when clamd is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_event::Scope;
use mailward_filter::antivirus::{AntivirusSettings, Clamd, ClamdAddress};
use mailward_filter::quarantine::Quarantine;
use mailward_filter::{Action, Context, Gateway, GatewaySettings};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const TESTFILES: &str = "/usr/share/clamav-testfiles";
const CLAMD: &str = "/usr/sbin/clamd";

/// The EICAR anti-malware test file (eicar.org), from two halves.
fn eicar() -> Vec<u8> {
    let first = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
    let second = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    format!("{first}{second}").into_bytes()
}

struct Daemon {
    _dir: tempfile::TempDir,
    /// The shell holding clamd: its standard input is our pipe; when it closes (the test
    /// process ends, or [`Daemon::stop`]) it stops clamd and removes the directory.
    _keeper: Child,
    tcp: String,
    socket: PathBuf,
}

fn clamd_installed() -> bool {
    if Path::new(CLAMD).exists() {
        return true;
    }
    eprintln!("skipping: clamd not installed (Debian package clamav-daemon)");
    false
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts a clamd with our signatures and waits (30 s at most) for its PONG.
fn start(stream_max: Option<&str>) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    std::fs::create_dir(&db).unwrap();
    std::fs::write(
        db.join("eicar.ndb"),
        format!("Eicar-Test:0:*:{}\n", hex(&eicar())),
    )
    .unwrap();
    if let Ok(sample) = std::fs::read(Path::new(TESTFILES).join("clam.exe")) {
        std::fs::write(
            db.join("testfiles.hdb"),
            format!(
                "{}:{}:ClamAV-Test-File\n",
                hex(&Sha256::digest(&sample)),
                sample.len()
            ),
        )
        .unwrap();
    }
    let port = free_port();
    let socket = dir.path().join("clamd.sock");
    let mut conf = format!(
        "Foreground yes\nLocalSocket {}\nTCPSocket {port}\nTCPAddr 127.0.0.1\n\
         DatabaseDirectory {}\nTemporaryDirectory {}\nLogFile {}\nAlertExceedsMax yes\n",
        socket.display(),
        db.display(),
        dir.path().display(),
        dir.path().join("clamd.log").display(),
    );
    if let Some(max) = stream_max {
        conf.push_str(&format!("StreamMaxLength {max}\n"));
    }
    let conf_path = dir.path().join("clamd.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let mut keeper = Command::new("sh")
        .arg("-c")
        // The directory goes with clamd: a static's TempDir is never dropped.
        .arg("\"$0\" -c \"$1\" & pid=$!; read _; kill $pid; wait $pid; rm -rf \"$2\"")
        .arg(CLAMD)
        .arg(&conf_path)
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if ping(&socket) {
            return Daemon {
                _dir: dir,
                _keeper: keeper,
                tcp: format!("127.0.0.1:{port}"),
                socket,
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Closing its input makes the shell stop the daemon.
    drop(keeper.stdin.take());
    let _ = keeper.wait();
    let log = std::fs::read_to_string(dir.path().join("clamd.log")).unwrap_or_default();
    panic!("clamd did not answer PING within 30 s; its log:\n{log}");
}

fn ping(socket: &Path) -> bool {
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reply = [0u8; 5];
    s.write_all(b"zPING\0").is_ok() && s.read_exact(&mut reply).is_ok() && &reply == b"PONG\0"
}

impl Daemon {
    /// Stops clamd and waits for it to be gone.
    fn stop(&mut self) {
        drop(self._keeper.stdin.take());
        let _ = self._keeper.wait();
    }
}

fn daemon() -> Option<&'static Daemon> {
    static DAEMON: OnceLock<Option<Daemon>> = OnceLock::new();
    DAEMON
        .get_or_init(|| clamd_installed().then(|| start(None)))
        .as_ref()
}

fn small_daemon() -> Option<&'static Daemon> {
    static DAEMON: OnceLock<Option<Daemon>> = OnceLock::new();
    DAEMON
        .get_or_init(|| clamd_installed().then(|| start(Some("1K"))))
        .as_ref()
}

fn settings(clamd: ClamdAddress) -> AntivirusSettings {
    AntivirusSettings {
        clamd,
        timeout: Duration::from_secs(30),
        ..AntivirusSettings::default()
    }
}

fn over_tcp(d: &Daemon) -> Clamd {
    Clamd::new(settings(ClamdAddress::Tcp(d.tcp.clone())))
}

fn over_socket(d: &Daemon) -> Clamd {
    Clamd::new(settings(ClamdAddress::Unix(d.socket.clone())))
}

fn plain_message(body: &[u8]) -> Vec<u8> {
    let mut m = b"From: a@example.org\r\nTo: b@example.com\r\nSubject: test\r\n\r\n".to_vec();
    m.extend_from_slice(body);
    m.extend_from_slice(b"\r\n");
    m
}

/// A message with `data` attached in base64 as `name`.
fn with_attachment(name: &str, content_type: &str, data: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let mut m = format!(
        "From: a@example.org\r\nTo: b@example.com\r\nSubject: the file\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nHere it is.\r\n\
         --b1\r\nContent-Type: {content_type}; name=\"{name}\"\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n"
    );
    for line in encoded.as_bytes().chunks(76) {
        m.push_str(std::str::from_utf8(line).unwrap());
        m.push_str("\r\n");
    }
    m.push_str("--b1--\r\n");
    m.into_bytes()
}

fn zipped(name: &str, data: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(data).unwrap();
    zip.finish().unwrap().into_inner()
}

fn assert_virus(found: &[mailward_filter::Finding], signature: &str) {
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].action, Action::Reject, "{found:?}");
    assert_eq!(found[0].code, "virus");
    assert!(
        found[0].detail.contains(signature) && found[0].detail.ends_with(" found"),
        "{found:?}"
    );
}

#[tokio::test]
async fn eicar_in_the_text_is_a_virus_over_tcp_and_unix_socket() {
    let Some(d) = daemon() else { return };
    let m = plain_message(&eicar());
    assert_virus(&over_tcp(d).check(&m).await, "Eicar-Test");
    assert_virus(&over_socket(d).check(&m).await, "Eicar-Test");
}

#[tokio::test]
async fn eicar_base64_attached_is_a_virus() {
    let Some(d) = daemon() else { return };
    let m = with_attachment("readme.txt", "text/plain", &eicar());
    assert_virus(&over_socket(d).check(&m).await, "Eicar-Test");
}

#[tokio::test]
async fn eicar_in_a_zip_in_a_base64_attachment_is_a_virus() {
    let Some(d) = daemon() else { return };
    let m = with_attachment(
        "docs.zip",
        "application/zip",
        &zipped("notes.txt", &eicar()),
    );
    assert_virus(&over_tcp(d).check(&m).await, "Eicar-Test");
}

#[tokio::test]
async fn a_clean_message_is_clean_and_ping_answers() {
    let Some(d) = daemon() else { return };
    let clamd = over_socket(d);
    clamd.ping().await.unwrap();
    let m = with_attachment(
        "docs.zip",
        "application/zip",
        &zipped("notes.txt", b"hello"),
    );
    assert_eq!(clamd.check(&m).await, vec![]);
    assert_eq!(clamd.check(&plain_message(b"just text")).await, vec![]);
}

/// Every sample of clamav-testfiles, attached to a message in base64, is refused.
#[tokio::test]
async fn every_clamav_testfiles_sample_attached_is_refused() {
    let Some(d) = daemon() else { return };
    let Ok(dir) = std::fs::read_dir(TESTFILES) else {
        eprintln!("skipping: {TESTFILES} missing (Debian package clamav-testfiles)");
        return;
    };
    let clamd = over_socket(d);
    let mut names: Vec<PathBuf> = dir.map(|e| e.unwrap().path()).collect();
    names.sort();
    assert!(names.len() >= 40, "only {} samples", names.len());
    let mut missed = Vec::new();
    for path in &names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(path).unwrap();
        let m = with_attachment(&name, "application/octet-stream", &data);
        let found = clamd.check(&m).await;
        // clam_cache_emax.tgz nests clam.exe in tar.gz archives down to clamd's default
        // MaxRecursion (17); attached to a message (two more levels) it is past it, and
        // `AlertExceedsMax yes` (what a gateway should set) refuses it for that.
        let signature = if name == "clam_cache_emax.tgz" {
            "Heuristics.Limits.Exceeded.MaxRecursion"
        } else {
            "ClamAV-Test-File"
        };
        let refused = found.iter().any(|f| {
            f.action == Action::Reject && f.code == "virus" && f.detail.contains(signature)
        });
        if !refused {
            missed.push(format!("{name}: {found:?}"));
        }
    }
    assert!(missed.is_empty(), "not refused:\n{}", missed.join("\n"));
}

fn context<'a>(rcpts: &'a [String]) -> Context<'a> {
    Context {
        queue_id: "T1",
        client_ip: IpAddr::from([192, 0, 2, 1]),
        helo: "mx.example.org",
        mail_from: "a@example.org",
        rcpts,
        auth_user: None,
        auth: None,
    }
}

/// Through the gateway: the verdict, its reason and the `X-Mailward-Antivirus` field.
#[tokio::test]
async fn the_gateway_refuses_a_virus_and_marks_a_clean_message() {
    let Some(d) = daemon() else { return };
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::new(
        GatewaySettings {
            antivirus: Some(settings(ClamdAddress::Unix(d.socket.clone()))),
            ..GatewaySettings::default()
        },
        None,
        Quarantine::open(dir.path()).unwrap(),
    );
    let rcpts = vec!["b@example.com".to_owned()];
    let ctx = context(&rcpts);
    let scope = Scope::message("T1");
    let m = with_attachment(
        "docs.zip",
        "application/zip",
        &zipped("notes.txt", &eicar()),
    );
    let i = gateway.inspect(&ctx, &m, &scope).await;
    assert_eq!(i.verdict.action, Action::Reject);
    assert_eq!(i.reason(), "Eicar-Test.UNOFFICIAL found");
    assert!(
        i.fields.contains("X-Mailward-Antivirus: reject (clamd)"),
        "{}",
        i.fields
    );

    let i = gateway
        .inspect(&ctx, &plain_message(b"hello"), &scope)
        .await;
    assert_eq!(i.verdict.action, Action::Accept);
    assert!(
        i.fields.contains("X-Mailward-Antivirus: clean (clamd)"),
        "{}",
        i.fields
    );
}

/// Through the gateway: clamd down is `451` (TempFail), and the field says so.
#[tokio::test]
async fn the_gateway_fails_closed_when_clamd_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::new(
        GatewaySettings {
            antivirus: Some(settings(down())),
            ..GatewaySettings::default()
        },
        None,
        Quarantine::open(dir.path()).unwrap(),
    );
    let rcpts = vec!["b@example.com".to_owned()];
    let i = gateway
        .inspect(
            &context(&rcpts),
            &plain_message(b"hello"),
            &Scope::message("T2"),
        )
        .await;
    assert_eq!(i.verdict.action, Action::TempFail);
    assert_eq!(i.reason(), "antivirus unavailable, try again later");
    assert!(
        i.fields.contains("X-Mailward-Antivirus: tempfail (clamd)"),
        "{}",
        i.fields
    );
}

/// An address nothing listens on: clamd is down.
fn down() -> ClamdAddress {
    ClamdAddress::Tcp(format!("127.0.0.1:{}", free_port()))
}

#[tokio::test]
async fn clamd_down_fails_closed_by_default() {
    for address in [down(), ClamdAddress::Unix("/nonexistent/clamd.sock".into())] {
        let found = Clamd::new(settings(address))
            .check(&plain_message(b"hi"))
            .await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].action, Action::TempFail);
        assert_eq!(found[0].code, "antivirus_unavailable");
        assert_eq!(found[0].detail, "antivirus unavailable, try again later");
    }
}

#[tokio::test]
async fn clamd_down_with_on_failure_accept_passes_unscanned() {
    let clamd = Clamd::new(AntivirusSettings {
        on_failure: Action::Accept,
        ..settings(down())
    });
    let found = clamd.check(&plain_message(b"hi")).await;
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].action, found[0].code.as_str()),
        (Action::Accept, "unscanned")
    );
}

/// clamd's own StreamMaxLength (1 KiB here) answers "size limit exceeded": `on_oversize`.
#[tokio::test]
async fn over_clamd_stream_max_length_follows_on_oversize() {
    let Some(d) = small_daemon() else { return };
    let big = with_attachment("big.txt", "text/plain", &vec![b'a'; 200_000]);
    let clamd = Clamd::new(settings(ClamdAddress::Unix(d.socket.clone())));
    let found = clamd.check(&big).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].action, found[0].code.as_str()),
        (Action::Accept, "unscanned")
    );
    let strict = Clamd::new(AntivirusSettings {
        on_oversize: Action::Reject,
        ..settings(ClamdAddress::Tcp(d.tcp.clone()))
    });
    let found = strict.check(&big).await;
    assert_eq!(
        (found[0].action, found[0].code.as_str()),
        (Action::Reject, "unscanned")
    );
    // Under the limit it is scanned as usual.
    assert_eq!(clamd.check(&plain_message(b"small")).await, vec![]);
}

/// A clamd that takes the connection and never answers: the timeout ends it, fail closed.
#[tokio::test]
async fn a_clamd_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let clamd = Clamd::new(AntivirusSettings {
        timeout: Duration::from_millis(500),
        ..settings(ClamdAddress::Tcp(address))
    });
    let started = Instant::now();
    let found = clamd.check(&plain_message(b"hi")).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        (found[0].action, found[0].code.as_str()),
        (Action::TempFail, "antivirus_unavailable")
    );
}

/// A clamd that was answering and is stopped: fail closed, over both transports.
#[tokio::test]
async fn a_clamd_that_stops_fails_closed() {
    if !clamd_installed() {
        return;
    }
    let mut d = start(None);
    let (socket, tcp) = (over_socket(&d), over_tcp(&d));
    assert_eq!(socket.check(&plain_message(b"hi")).await, vec![]);
    d.stop();
    for clamd in [socket, tcp] {
        let found = clamd.check(&plain_message(b"hi")).await;
        assert_eq!(
            (found[0].action, found[0].code.as_str()),
            (Action::TempFail, "antivirus_unavailable")
        );
        assert!(clamd.ping().await.is_err());
    }
}
