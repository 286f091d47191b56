//! A private dnsmasq (Debian's dnsmasq-base) on 127.0.0.1, authoritative for `.test`
//! (NXDOMAIN for any name it does not hold), for the auth tests that need answers over the
//! wire. The mailward crate's tests have their own (`crates/mailward/tests/common_dns/`);
//! test crates cannot share modules across packages.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running dnsmasq, stopped when dropped.
pub struct Dns {
    child: Child,
    pub port: u16,
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dnsmasq() -> Option<PathBuf> {
    ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp bind");
    s.local_addr().expect("addr").port()
}

/// Starts dnsmasq with `records` (`--txt-record=...`, `--host-record=...`, ...); `None`,
/// with a printed notice, when dnsmasq is not installed.
pub fn start_dns<S: AsRef<OsStr>>(records: &[S]) -> Option<Dns> {
    let Some(dnsmasq) = dnsmasq() else {
        println!("SKIPPED: dnsmasq is not installed (Debian package dnsmasq-base)");
        return None;
    };
    // A port picked free may be taken again before dnsmasq binds it (tests run in
    // parallel): a dnsmasq that exits is started again on another port.
    for _ in 0..5 {
        let port = free_udp_port();
        let mut child = Command::new(&dnsmasq)
            .args([
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--conf-file=/dev/null",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                "--local=/test/",
                "--log-facility=-",
            ])
            .arg(format!("--port={port}"))
            .args(records)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::UdpSocket::bind(("127.0.0.1", port)).is_err() {
                return Some(Dns { child, port });
            }
            if child.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("dnsmasq did not start");
}
