//! Sieve in delivery end to end (issue 18): a real `mailward serve`, mail sent with
//! Python's smtplib, each account's script written where the store keeps it
//! (`<data>/sieve/<domain>/<user>/NAME.sieve` and the `active` marker).
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::Mailward;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Makes `source` the active script of `user` at example.test.
fn install_script(m: &Mailward, user: &str, source: &str) {
    let dir = m.dir.path().join("data/sieve/example.test").join(user);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.sieve"), source).unwrap();
    std::fs::write(dir.join("active"), "main\n").unwrap();
}

/// Sends one message; the reply to DATA as (code, text).
fn send(m: &Mailward, from: &str, to: &str, subject: &str, headers: &str) -> (u64, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/sieve_send.py");
    let out = Command::new("python3")
        .arg(path)
        .args([&m.smtp.to_string(), from, to, subject, headers])
        .output()
        .expect("python3 is needed for these tests");
    assert!(
        out.status.success(),
        "sieve_send.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    (
        v["code"].as_u64().unwrap(),
        v["reply"].as_str().unwrap_or_default().to_string(),
    )
}

/// Files of a folder (`INBOX` or a Maildir++ name like `.Lists`), `new/` and `cur/`.
fn folder_files(m: &Mailward, user: &str, folder: &str) -> Vec<(PathBuf, String)> {
    let base = if folder == "INBOX" {
        m.maildir(user)
    } else {
        m.maildir(user).join(folder)
    };
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(rd) = std::fs::read_dir(base.join(sub)) {
            for e in rd.flatten() {
                let text = String::from_utf8_lossy(&std::fs::read(e.path()).unwrap_or_default())
                    .into_owned();
                out.push((e.path(), text));
            }
        }
    }
    out
}

fn wait_folder(m: &Mailward, user: &str, folder: &str, needle: &str) -> (PathBuf, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(found) = folder_files(m, user, folder)
            .into_iter()
            .find(|(_, t)| t.contains(needle))
        {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no mail with {needle:?} in {folder} of {user}\nlog: {}",
            m.log_tail(20)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn count_events(m: &Mailward, event: &str) -> usize {
    m.log_lines().iter().filter(|l| l["event"] == event).count()
}

#[test]
fn sieve_sorts_discards_redirects_and_keeps_on_error() {
    let m = Mailward::start("");
    for user in ["alice", "bob", "carol", "dave"] {
        m.add_account(&format!("{user}@example.test"), None);
    }
    install_script(
        &m,
        "alice",
        r#"require ["fileinto", "imap4flags", "mailbox"];
if header :contains "subject" "list" { fileinto :create :flags "\\Seen" "Lists"; stop; }
if header :contains "subject" "spam" { discard; stop; }
if header :contains "subject" "forward" { redirect "carol@example.test"; }
"#,
    );
    install_script(&m, "bob", "if header :is \"subject\" { keep; }\n");
    // fileinto :create with a flag: in the folder, marked seen.
    assert_eq!(
        send(&m, "x@sender.test", "alice@example.test", "a list post", "").0,
        250
    );
    let (path, _) = wait_folder(&m, "alice", ".Lists", "a list post");
    assert!(path.to_string_lossy().ends_with(":2,S"), "{path:?}");
    // Discard: nothing stored, the run logged.
    assert_eq!(
        send(&m, "x@sender.test", "alice@example.test", "pure spam", "").0,
        250
    );
    // Redirect to another local account, which gets it; alice keeps nothing.
    assert_eq!(
        send(
            &m,
            "x@sender.test",
            "alice@example.test",
            "please forward",
            ""
        )
        .0,
        250
    );
    let text = m.wait_for_mail("carol", "please forward");
    assert!(text.contains("X-Loop: alice@example.test"));
    m.wait_for_event("redirect_sent", None);
    // Unscripted mail for her goes to INBOX (the implicit keep).
    assert_eq!(
        send(&m, "x@sender.test", "alice@example.test", "hello", "").0,
        250
    );
    m.wait_for_mail("alice", "hello");
    let inbox = folder_files(&m, "alice", "INBOX");
    assert!(
        inbox
            .iter()
            .all(|(_, t)| !t.contains("pure spam") && !t.contains("please forward"))
    );
    // A script that does not compile: the message is kept in INBOX and the error logged.
    assert_eq!(
        send(&m, "x@sender.test", "bob@example.test", "to bob", "").0,
        250
    );
    m.wait_for_mail("bob", "to bob");
    let error = m.wait_for_event("sieve_error", None);
    assert_eq!(error["account"], "bob@example.test");
    assert_eq!(error["phase"], "compile");
    let runs = m.log_lines();
    assert!(
        runs.iter()
            .any(|l| l["event"] == "sieve_run" && l["actions"] == "discard")
    );
}

#[test]
fn vacation_answers_once_and_never_lists_or_auto_replies() {
    let m = Mailward::start("");
    m.add_account("alice@example.test", None);
    m.add_account("bob@example.test", None);
    install_script(
        &m,
        "alice",
        "require \"vacation\";\nvacation :days 1 :subject \"Away\" \"I am away until Monday.\";\n",
    );
    let (code, _) = send(&m, "bob@example.test", "alice@example.test", "first", "");
    assert_eq!(code, 250);
    let reply = m.wait_for_mail("bob", "I am away until Monday.");
    assert!(reply.contains("Auto-Submitted: auto-replied"));
    assert!(reply.contains("Subject: Away"));
    assert!(reply.contains("Return-Path: <>"), "{reply}");
    m.wait_for_event("vacation_sent", None);
    // Within the period: no second reply.
    send(&m, "bob@example.test", "alice@example.test", "second", "");
    m.wait_for_mail("alice", "second");
    // A list message and an automatic one are never answered.
    send(
        &m,
        "bob@example.test",
        "alice@example.test",
        "list mail",
        "List-Id: <dev.example.test>",
    );
    send(
        &m,
        "bob@example.test",
        "alice@example.test",
        "robot",
        "Auto-Submitted: auto-generated",
    );
    m.wait_for_mail("alice", "robot");
    let deadline = Instant::now() + Duration::from_secs(10);
    while count_events(&m, "vacation_suppressed") < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let reasons: Vec<String> = m
        .log_lines()
        .iter()
        .filter(|l| l["event"] == "vacation_suppressed")
        .map(|l| l["reason"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(reasons, ["period", "mailing_list", "auto_submitted"]);
    let replies = folder_files(&m, "bob", "INBOX")
        .iter()
        .filter(|(_, t)| t.contains("I am away"))
        .count();
    assert_eq!(replies, 1);
}

#[test]
fn reject_is_550_for_one_recipient_and_a_report_for_two() {
    let m = Mailward::start("");
    for user in ["alice", "bob", "sender"] {
        m.add_account(&format!("{user}@example.test"), None);
    }
    install_script(
        &m,
        "alice",
        "require \"reject\";\nif header :contains \"subject\" \"offer\" { reject \"No offers, thank you.\"; }\n",
    );
    let (code, reply) = send(
        &m,
        "sender@example.test",
        "alice@example.test",
        "an offer",
        "",
    );
    assert_eq!(code, 550, "{reply}");
    assert!(
        reply.contains("5.7.1") && reply.contains("No offers"),
        "{reply}"
    );
    // Two recipients: accepted; bob gets it, the sender a report about alice.
    let (code, _) = send(
        &m,
        "sender@example.test",
        "alice@example.test,bob@example.test",
        "another offer",
        "",
    );
    assert_eq!(code, 250);
    m.wait_for_mail("bob", "another offer");
    let report = m.wait_for_mail("sender", "No offers, thank you.");
    assert!(report.contains("5.7.1"), "{report}");
    assert!(folder_files(&m, "alice", "INBOX").is_empty());
}

/// A triggered program (vnd.dovecot.execute) from `[sieve] program_dir` runs with its
/// arguments as a list (no shell) and its exit status steers the script.
#[test]
fn triggered_program_runs_with_its_arguments_and_its_status_decides() {
    use std::os::unix::fs::PermissionsExt;
    let programs = tempfile::tempdir().unwrap();
    let record = programs.path().join("calls.txt");
    let program = programs.path().join("vip");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\nprintf '%s|' \"$@\" >> {}\necho >> {}\ncase \"$1\" in boss@*) exit 0;; *) exit 1;; esac\n",
            record.display(),
            record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let m = Mailward::start(&format!(
        "[sieve]\nprogram_dir = \"{}\"\nuser_programs = true\n",
        programs.path().display()
    ));
    m.add_account("alice@example.test", None);
    install_script(
        &m,
        "alice",
        r#"require ["vnd.dovecot.execute", "fileinto", "mailbox", "envelope", "variables"];
if envelope :matches "from" "*" { set "sender" "${1}"; }
if execute "vip" ["${sender}", "two words; $(id)"] { fileinto :create "VIP"; }
"#,
    );
    send(
        &m,
        "boss@sender.test",
        "alice@example.test",
        "from the boss",
        "",
    );
    wait_folder(&m, "alice", ".VIP", "from the boss");
    send(
        &m,
        "other@sender.test",
        "alice@example.test",
        "from someone",
        "",
    );
    m.wait_for_mail("alice", "from someone");
    let calls = std::fs::read_to_string(&record).unwrap();
    assert!(
        calls.contains("boss@sender.test|two words; $(id)|"),
        "{calls}"
    );
    let run = m.wait_for_event("program_run", None);
    assert_eq!(run["name"], "vip");
    assert_eq!(run["kind"], "execute");
}
