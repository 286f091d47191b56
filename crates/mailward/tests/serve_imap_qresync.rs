//! `mailward serve` QRESYNC (RFC 7162 §3.2) end to end: mail delivered by SMTP, changed by
//! one IMAP session (Python imaplib) and resynchronized by another with
//! `SELECT INBOX (QRESYNC (...))`, and VANISHED seen live during IDLE, against the real
//! binary on ephemeral loopback ports.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{ImapScenarios, json_lines as lines};
use serde_json::Value;

fn num(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// The MODSEQ of a `* n FETCH (UID u FLAGS (...) MODSEQ (m))` line.
fn modseq_of(line: &str) -> u64 {
    line.rsplit("MODSEQ (")
        .next()
        .and_then(|r| r.split(')').next())
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

#[test]
fn select_qresync_resynchronizes_and_vanished_is_live() {
    let s = ImapScenarios::start("imap_qresync.py");
    s.py("deliver");
    s.wait_inbox(3);

    let out = s.py("resync");
    let uids: Vec<u64> = out["uids"]
        .as_array()
        .expect("uids")
        .iter()
        .map(num)
        .collect();
    let (first, second, third) = (uids[0], uids[1], uids[2]);
    let known_modseq = num(&out["modseq"]);

    // SELECT (QRESYNC (uidvalidity modseq)): the usual responses, HIGHESTMODSEQ, then
    // VANISHED (EARLIER) for the expunged message and FETCH for the flagged one.
    let select = lines(&out["select"]);
    assert!(select.iter().any(|l| l == "* 2 EXISTS"), "{select:#?}");
    let highest = select
        .iter()
        .find_map(|l| l.strip_prefix("* OK [HIGHESTMODSEQ "))
        .and_then(|r| r.split(']').next())
        .and_then(|n| n.parse::<u64>().ok())
        .expect("HIGHESTMODSEQ");
    assert!(highest > known_modseq, "{select:#?}");
    let vanished = format!("* VANISHED (EARLIER) {first}");
    let fetch_head = format!("* 1 FETCH (UID {second} FLAGS (\\Flagged) MODSEQ (");
    let v = select.iter().position(|l| *l == vanished);
    let f = select.iter().position(|l| l.starts_with(&fetch_head));
    assert!(
        matches!((v, f), (Some(v), Some(f)) if v < f),
        "VANISHED before FETCH: {select:#?}"
    );
    let fetch_line = f.and_then(|f| select.get(f)).cloned().unwrap_or_default();
    let m = modseq_of(&fetch_line);
    assert!(m > known_modseq && m <= highest, "{fetch_line}");
    assert_eq!(
        select.iter().filter(|l| l.contains("FETCH")).count(),
        1,
        "only the changed message: {select:#?}"
    );
    assert!(select.iter().all(|l| !l.contains("EXPUNGE")), "{select:#?}");

    // Known UIDs limited to the untouched third message: nothing to report; the previous
    // mailbox is closed with [CLOSED].
    let known = lines(&out["known_third"]);
    assert!(
        known
            .first()
            .is_some_and(|l| l.starts_with("* OK [CLOSED]")),
        "{known:#?}"
    );
    assert!(
        known
            .iter()
            .all(|l| !l.contains("VANISHED") && !l.contains("FETCH")),
        "{known:#?} (third is {third})"
    );
    // Another UIDVALIDITY: a plain SELECT.
    let plain = lines(&out["other_uidvalidity"]);
    assert!(
        plain.iter().any(|l| l.starts_with("* OK [HIGHESTMODSEQ ")),
        "{plain:#?}"
    );
    assert!(
        plain
            .iter()
            .all(|l| !l.contains("VANISHED") && !l.contains("FETCH")),
        "{plain:#?}"
    );
    // UID FETCH ... (CHANGEDSINCE m VANISHED): the same answer as the SELECT.
    let fetched = lines(&out["uid_fetch"]);
    assert_eq!(fetched.first(), Some(&vanished), "{fetched:#?}");
    assert!(
        fetched.get(1).is_some_and(|l| l.starts_with(&format!(
            "* 1 FETCH (UID {second} FLAGS (\\Flagged) MODSEQ ("
        ))),
        "{fetched:#?}"
    );

    // Live: another session's expunge reaches a QRESYNC session in IDLE as VANISHED, and
    // its own EXPUNGE answers VANISHED; a session without QRESYNC still gets EXPUNGE.
    let out = s.py("live");
    let uids: Vec<u64> = out["uids"]
        .as_array()
        .expect("uids")
        .iter()
        .map(num)
        .collect();
    assert_eq!(uids, [second, third]);
    assert_eq!(out["idle"], format!("* VANISHED {third}"), "{out}");
    assert_eq!(out["plain_expunge"], serde_json::json!(["2"]), "{out}");
    assert_eq!(
        lines(&out["own_expunge"]),
        [format!("* VANISHED {second}")],
        "{out}"
    );
    // RFC 7162 §3.2.7: the tagged OK of an EXPUNGE under QRESYNC has HIGHESTMODSEQ.
    assert!(
        out["own_expunge_ok"]
            .as_str()
            .is_some_and(|l| l.starts_with("OK [HIGHESTMODSEQ ")),
        "{out}"
    );
    assert!(lines(&out["exists"]).is_empty(), "{out}");
}
