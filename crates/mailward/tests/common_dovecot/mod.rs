//! A private Dovecot (Debian's dovecot-imapd and dovecot-pop3d) on loopback for tests, in
//! the manner of `../shared/peers/dovecot_maildir.sh`: its own config and state under a
//! temporary directory, a passwd-file with `user1@example.test`, Maildirs under the same
//! directory, TLS with a self-signed certificate made by `openssl`. Listeners: IMAP (plain,
//! for STARTTLS), IMAPS, POP3 (plain, for STLS), POP3S. Needs root (Dovecot's privilege
//! separation) and the user `vmail`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub const USER: &str = "user1@example.test";
pub const PASS: &str = "dv-pass";

pub struct Dovecot {
    pub dir: tempfile::TempDir,
    pub imap: u16,
    pub imaps: u16,
    pub pop3: u16,
    pub pop3s: u16,
    uid: u32,
    gid: u32,
    config: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn id_of(flag: &str, user: &str) -> Option<u32> {
    let out = Command::new("id").args([flag, user]).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

impl Dovecot {
    /// Starts one, or `None` (with a printed notice) when Dovecot, openssl, root or the
    /// `vmail` user is missing.
    pub fn start() -> Option<Dovecot> {
        let have = |p: &str| Path::new(p).exists();
        if !have("/usr/sbin/dovecot") || !have("/usr/lib/dovecot/pop3") || !have("/usr/bin/openssl")
        {
            eprintln!("SKIP: dovecot-imapd, dovecot-pop3d or openssl is not installed");
            return None;
        }
        if current_uid() != Some(0) {
            eprintln!("SKIP: a private Dovecot needs root");
            return None;
        }
        if id_of("-u", "vmail").is_none() {
            let _ = Command::new("useradd")
                .args([
                    "--system",
                    "--user-group",
                    "--home-dir",
                    "/nonexistent",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    "vmail",
                ])
                .status();
        }
        let (Some(uid), Some(gid)) = (id_of("-u", "vmail"), id_of("-g", "vmail")) else {
            eprintln!("SKIP: no user vmail for Dovecot's mail");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("dv-fetch")
            .tempdir_in("/tmp")
            .ok()?;
        let root = dir.path();
        let _ = Command::new("chmod").arg("0755").arg(root).status();
        std::fs::create_dir_all(root.join("log")).ok()?;
        std::fs::create_dir_all(root.join("state")).ok()?;
        let ok = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
            ])
            .arg("-keyout")
            .arg(root.join("key.pem"))
            .arg("-out")
            .arg(root.join("cert.pem"))
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("SKIP: openssl could not make a certificate");
            return None;
        }
        let users = root.join("users");
        std::fs::write(
            &users,
            format!(
                "{USER}:{{PLAIN}}{PASS}:{uid}:{gid}::{}/mail/example.test/user1::\n",
                root.display()
            ),
        )
        .ok()?;
        let _ = Command::new("chown")
            .arg("root:dovecot")
            .arg(&users)
            .status();
        let _ = Command::new("chmod").arg("0640").arg(&users).status();
        let (imap, imaps, pop3, pop3s) = (free_port(), free_port(), free_port(), free_port());
        let r = root.display();
        let config = root.join("dovecot.conf");
        std::fs::write(
            &config,
            format!(
                r#"instance_name = dovecot-fetch-{imap}
base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/log/dovecot.log
info_log_path = {r}/log/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{r}/cert.pem
ssl_key = <{r}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
mail_location = maildir:{r}/mail/%d/%n
namespace inbox {{
  inbox = yes
  separator = /
}}
protocol imap {{
  imap_capability = +UIDPLUS
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {r}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s}
    ssl = yes
  }}
}}
"#
            ),
        )
        .ok()?;
        // The daemon keeps any pipe it inherits open: no output() here.
        let started = Command::new("dovecot")
            .arg("-c")
            .arg(&config)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        if !started.success() {
            panic!(
                "dovecot did not start: {}",
                std::fs::read_to_string(root.join("log/dovecot.log")).unwrap_or_default()
            );
        }
        let d = Dovecot {
            dir,
            imap,
            imaps,
            pop3,
            pop3s,
            uid,
            gid,
            config,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while [imap, imaps, pop3, pop3s]
            .iter()
            .any(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_err())
        {
            assert!(Instant::now() < deadline, "dovecot did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(d)
    }

    /// user1's Maildir.
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail/example.test/user1")
    }

    /// Puts a message into user1's INBOX (`new/`), owned by vmail.
    pub fn deliver(&self, name: &str, message: &[u8]) {
        let md = self.maildir();
        for sub in ["", "new", "cur", "tmp"] {
            let p = md.join(sub);
            std::fs::create_dir_all(&p).expect("maildir");
            std::os::unix::fs::chown(&p, Some(self.uid), Some(self.gid)).expect("chown");
        }
        let file = md
            .join("new")
            .join(format!("{name}.test,S={}", message.len()));
        std::fs::write(&file, message).expect("write message");
        std::os::unix::fs::chown(&file, Some(self.uid), Some(self.gid)).expect("chown");
    }

    /// Messages left in user1's INBOX.
    pub fn remaining(&self) -> usize {
        ["new", "cur"]
            .iter()
            .map(|s| {
                std::fs::read_dir(self.maildir().join(s))
                    .map(|rd| rd.flatten().count())
                    .unwrap_or(0)
            })
            .sum()
    }
}

fn current_uid() -> Option<u32> {
    let out = Command::new("id").arg("-u").output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("doveadm")
            .arg("-c")
            .arg(&self.config)
            .arg("stop")
            .output();
        let pid =
            std::fs::read_to_string(self.dir.path().join("run/master.pid")).unwrap_or_default();
        let pid = pid.trim();
        if !pid.is_empty() {
            for _ in 0..100 {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}
