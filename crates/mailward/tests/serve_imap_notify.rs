//! `mailward serve` NOTIFY (RFC 5465) end to end: one Python imaplib session sets NOTIFY
//! and waits in IDLE, then between commands; another appends, flags, creates, renames,
//! subscribes and deletes, and SMTP delivers; the first sees STATUS, LIST and EXISTS/FETCH
//! as they happen, against the real binary on ephemeral loopback ports.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{Mailward, json_lines as lines};
use serde_json::Value;

const USER: &str = "bob@example.test";

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

#[test]
fn notify_reports_other_sessions_changes_in_idle_and_between_commands() {
    let m = Mailward::start_with_listeners(
        "",
        "imap = \"127.0.0.1:0\"\nimaps = []\npop3 = []\npop3s = []",
    );
    let imap = m.listener_port("imap");
    m.add_account(USER, None);
    let out = m.run_py("imap_notify.py", "notify", &[m.smtp, imap]);

    // RFC 5465 §3.1: unsupported events are NO [BADEVENT (the supported ones)].
    assert!(
        text(&out["badevent"]).starts_with(
            "NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)]"
        ),
        "{out}"
    );
    assert!(text(&out["bad_pairing"]).starts_with("BAD "), "{out}");
    assert!(text(&out["bad_syntax"]).starts_with("BAD "), "{out}");

    // NOTIFY SET STATUS: the other mailboxes' STATUS (HIGHESTMODSEQ for FlagChange), not
    // the selected INBOX's.
    let initial = lines(&out["initial"]);
    assert!(
        initial.iter().any(|l| l
            .starts_with("* STATUS \"Archive\" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY ")
            && l.contains(" UNSEEN 0 HIGHESTMODSEQ ")),
        "{initial:#?}"
    );
    assert!(initial.iter().all(|l| !l.contains("INBOX")), "{initial:#?}");

    // In IDLE.
    let append = text(&out["append"]);
    assert!(
        append.starts_with("* STATUS \"Archive\" (MESSAGES 1 UIDNEXT 2 "),
        "{append}"
    );
    assert_eq!(text(&out["create"]), "* LIST () \"/\" \"Projects\"");
    assert_eq!(
        text(&out["rename"]),
        "* LIST () \"/\" \"Work\" (\"OLDNAME\" (\"Projects\"))"
    );
    assert_eq!(
        text(&out["subscribe"]),
        "* LIST (\\Subscribed) \"/\" \"Work\""
    );
    let flag = text(&out["flag"]);
    assert!(
        flag.starts_with("* STATUS \"Archive\" (MESSAGES 1 "),
        "{flag}"
    );
    let modseq = |l: &str| -> u64 {
        l.split("HIGHESTMODSEQ ")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert!(modseq(flag) > modseq(append), "{append} / {flag}");
    assert_eq!(
        text(&out["delete"]),
        "* LIST (\\NonExistent) \"/\" \"Work\""
    );
    // The selected INBOX: EXISTS, then the FETCH of MessageNew's attributes.
    assert_eq!(text(&out["exists"]), "* 1 EXISTS");
    let fetch = text(&out["new_fetch"]);
    assert!(
        fetch.starts_with("* 1 FETCH (UID 1 FLAGS ("),
        "{fetch} in {:#?}",
        lines(&out["idle"])
    );

    // Between commands, with no command in progress.
    assert!(
        text(&out["between"]).starts_with("* STATUS \"Archive\" (MESSAGES 2 UIDNEXT 3 "),
        "{out}"
    );
    // After NOTIFY NONE, nothing about other mailboxes.
    let after = lines(&out["after_none"]);
    assert!(
        after.iter().all(|l| !l.starts_with("* STATUS")),
        "{after:#?}"
    );
}
