//! A real clamd (Debian's clamav-daemon) for the tests, started offline with our own
//! signatures: EICAR (built from two halves, so the repository never holds it whole) and
//! the SHA-256 of `clam.exe` from Debian's clamav-testfiles, the program every sample of that
//! package carries (packed, archived or encoded). `AlertExceedsMax yes` (clamd.conf(5)), as
//! a gateway should run it: a file nested past clamd's limits is reported, not passed.

use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TESTFILES: &str = "/usr/share/clamav-testfiles";
const CLAMD: &str = "/usr/sbin/clamd";

/// The EICAR anti-malware test file (eicar.org).
pub fn eicar() -> Vec<u8> {
    let first = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
    let second = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    format!("{first}{second}").into_bytes()
}

/// A running clamd; stopped when dropped.
pub struct Clamd {
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub tcp: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts clamd, or `None` (with a notice) when it is not installed and
/// `MAILWARD_SKIP_PEERS=1`; without that variable a missing clamd fails the test.
pub fn start_clamd() -> Option<Clamd> {
    if !Path::new(CLAMD).exists() {
        assert!(
            std::env::var("MAILWARD_SKIP_PEERS").as_deref() == Ok("1"),
            "clamd is not installed: apt-get install clamav-daemon clamav-testfiles"
        );
        eprintln!("SKIPPED: clamd not installed; MAILWARD_SKIP_PEERS=1");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    std::fs::create_dir(&db).unwrap();
    std::fs::write(
        db.join("eicar.ndb"),
        format!("Mailward-Test-Eicar:0:*:{}\n", hex(&eicar())),
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let socket = dir.path().join("clamd.sock");
    let conf = format!(
        "Foreground yes\nLocalSocket {}\nTCPSocket {port}\nTCPAddr 127.0.0.1\n\
         DatabaseDirectory {}\nTemporaryDirectory {}\nLogFile {}\nAlertExceedsMax yes\n",
        socket.display(),
        db.display(),
        dir.path().display(),
        dir.path().join("clamd.log").display(),
    );
    let conf_path = dir.path().join("clamd.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new(CLAMD)
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut clamd = Clamd {
        dir,
        child: Some(child),
        tcp: format!("127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if ping(&socket) {
            return Some(clamd);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(clamd.dir.path().join("clamd.log")).unwrap_or_default();
    clamd.stop();
    panic!("clamd did not answer PING within 60 s; its log:\n{log}");
}

fn ping(socket: &PathBuf) -> bool {
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reply = [0u8; 5];
    s.write_all(b"zPING\0").is_ok() && s.read_exact(&mut reply).is_ok() && &reply == b"PONG\0"
}

impl Clamd {
    /// Stops clamd and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        self.stop();
    }
}
