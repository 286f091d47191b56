//! `mailward serve` CONTEXT=SEARCH / CONTEXT=SORT (RFC 5267 §4) and PARTIAL (RFC 9394) end
//! to end: mail delivered by SMTP, one IMAP session (Python imaplib) keeps UPDATE contexts
//! and idles while another flags, appends and expunges, against the real binary on
//! ephemeral loopback ports.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

mod common_serve;

use common_serve::{ImapScenarios, json_lines as lines};

#[test]
fn imaplib_update_contexts_follow_another_session() {
    let s = ImapScenarios::start("imap_context.py");
    s.py("deliver");
    s.wait_inbox(3);
    let out = s.py("contexts");

    let caps = lines(&out["caps"]);
    for c in ["CONTEXT=SEARCH", "CONTEXT=SORT", "PARTIAL", "ESORT"] {
        assert!(caps.iter().any(|x| x == c), "{c} in {caps:?}");
    }
    let uids: Vec<u64> = out["uids"]
        .as_array()
        .expect("uids")
        .iter()
        .map(|v| v.as_u64().unwrap_or(0))
        .collect();
    let (first, second, third) = (uids[0], uids[1], uids[2]);
    assert_eq!((second, third), (first + 1, first + 2), "fresh mailbox");
    let appended = third + 1;
    let tags = lines(&out["tags"]);
    let (f, s_) = (&tags[0], &tags[1]);

    // The searches themselves: COUNT, ALL in SUBJECT order, PARTIAL from either end.
    assert_eq!(
        lines(&out["flagged_count"]),
        [format!("* ESEARCH (TAG \"{f}\") UID COUNT 0")]
    );
    assert_eq!(
        lines(&out["unseen_sorted"]),
        [format!("* ESEARCH (TAG \"{s_}\") UID ALL {first}:{third}")]
    );
    let partial = lines(&out["partial"]);
    assert!(
        partial.len() == 1
            && partial[0].ends_with(&format!(" UID PARTIAL (-1:-2 {second}:{third})")),
        "{partial:?}"
    );
    let sort_partial = lines(&out["sort_partial"]);
    assert!(
        sort_partial.len() == 1 && sort_partial[0].ends_with(") PARTIAL (2:3 2:3)"),
        "{sort_partial:?}"
    );

    // Another session flags the second message: ADDTO after its FETCH, during IDLE.
    let flag = lines(&out["flag"]);
    assert_eq!(
        flag.last(),
        Some(&format!("* ESEARCH (TAG \"{f}\") UID ADDTO (0 {second})")),
        "{flag:?}"
    );
    assert!(flag.iter().any(|l| l.starts_with("* 2 FETCH")), "{flag:?}");
    // It appends a flagged message "appended": EXISTS, then ADDTO in both contexts; it
    // sorts first by SUBJECT, so position 1 of the sorted one.
    let append = lines(&out["append"]);
    let exists = append.iter().position(|l| l == "* 4 EXISTS");
    let f_add = append
        .iter()
        .position(|l| *l == format!("* ESEARCH (TAG \"{f}\") UID ADDTO (0 {appended})"));
    assert!(exists.is_some() && exists < f_add, "{append:?}");
    assert_eq!(
        append.last(),
        Some(&format!(
            "* ESEARCH (TAG \"{s_}\") UID ADDTO (1 {appended})"
        )),
        "{append:?}"
    );
    // \Seen on the first message takes it out of the UNSEEN context, at position 2.
    let seen = lines(&out["seen"]);
    assert_eq!(
        seen.last(),
        Some(&format!(
            "* ESEARCH (TAG \"{s_}\") UID REMOVEFROM (2 {first})"
        )),
        "{seen:?}"
    );
    // Expunging the second message: REMOVEFROM in both contexts before the EXPUNGE.
    let expunge = lines(&out["expunge"]);
    let f_rm = expunge
        .iter()
        .position(|l| *l == format!("* ESEARCH (TAG \"{f}\") UID REMOVEFROM (0 {second})"));
    let s_rm = expunge
        .iter()
        .position(|l| *l == format!("* ESEARCH (TAG \"{s_}\") UID REMOVEFROM (2 {second})"));
    assert!(
        f_rm.is_some()
            && s_rm.is_some()
            && expunge.last().map(String::as_str) == Some("* 2 EXPUNGE"),
        "{expunge:?}"
    );
    // After CANCELUPDATE, changes come as FETCH only.
    let after = lines(&out["after_cancel"]);
    assert!(after.iter().any(|l| l.contains("FETCH")), "{after:?}");
    assert!(after.iter().all(|l| !l.contains("ESEARCH")), "{after:?}");
}
