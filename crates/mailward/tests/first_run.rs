//! The first run as a new user meets it: `mailward serve` with no accounts prints how to add
//! one and send the first message; those commands, run as printed, work.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{BIN, config_text, debian_tool};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn regress_the_first_run_hint_commands_work_as_printed() {
    let Some(_swaks) = debian_tool("swaks", "swaks") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("mailward.toml");
    std::fs::write(&config, config_text(dir.path(), "")).expect("config");
    let hint_file = dir.path().join("stderr.txt");
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&hint_file).expect("stderr file"))
        .spawn()
        .expect("start mailward serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    let hint = loop {
        let text = std::fs::read_to_string(&hint_file).unwrap_or_default();
        if text.contains("swaks") && text.contains("Mail arrives") {
            break text;
        }
        assert!(Instant::now() < deadline, "no first-run hint: {text}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let command = |prefix: &str| {
        hint.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix) || l.contains(&format!("| {prefix}")))
            .unwrap_or_else(|| panic!("no `{prefix}` command in the hint:\n{hint}"))
            .to_owned()
    };
    let add = command("echo");
    // The account command names the binary that is running (a `cargo run` user has no
    // `mailward` on the PATH), and the swaks command gives a sender we accept.
    assert!(add.contains(BIN), "{add}");
    let swaks = command("swaks");
    assert!(swaks.contains("--from you@example.test"), "{swaks}");
    for cmd in [&add, &swaks] {
        let out = Command::new("sh")
            .args(["-c", cmd])
            .output()
            .expect("run the printed command");
        assert!(
            out.status.success(),
            "`{cmd}` failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let new = dir.path().join("data/mail/example.test/you/Maildir/new");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&new).map_or(0, |d| d.count()) == 0 {
        assert!(
            Instant::now() < deadline,
            "the first message did not arrive"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
}
