//! RFC 5267 §4 contexts (UPDATE, CANCELUPDATE, NOUPDATE) and RFC 5267 §4.4 / RFC 9394
//! PARTIAL as a client sees them, over the in-memory backend of `tests_mailbox`; "another
//! session" is the backend changed directly, seen at the next NOOP.

use super::tests_mailbox::{Mem, World, send, session};
use super::*;
use crate::backend::*;
use std::sync::Mutex;

/// An INBOX with messages of the given sizes (bodies mention their number; `fruit` in the
/// even ones), as UIDs 1..; the session has it selected.
fn world(sizes: &[usize]) -> (Mem, Session) {
    let mem = Mem(Arc::new(Mutex::new(World::default())));
    let mut m = mem.clone();
    let _ = m.create("INBOX", None);
    for (i, &size) in sizes.iter().enumerate() {
        append(&mut m, i + 1, size);
    }
    let mut s = session(&mem);
    send(&mut s, "s SELECT INBOX\r\n");
    (mem, s)
}

fn append(m: &mut Mem, n: usize, size: usize) {
    let word = if n.is_multiple_of(2) {
        "fruit"
    } else {
        "stone"
    };
    let mut raw = format!("Subject: m{n}\r\n\r\n{word} {n}\r\n");
    while raw.len() < size {
        raw.push('x');
    }
    let _ = m.append(
        "INBOX",
        AppendRequest {
            flags: vec![],
            internal_date: Some((1_700_000_000 + n as i64, 0)),
            message: raw.into_bytes(),
        },
    );
}

fn flag(m: &mut Mem, uids: &[u32], mode: StoreMode, f: Flag) {
    let _ = m.store(
        "INBOX",
        &StoreRequest {
            uids: uids.to_vec(),
            mode,
            flags: vec![f],
            unchanged_since: None,
        },
    );
}

fn lines(out: &str) -> Vec<&str> {
    out.lines().collect()
}

#[test]
fn search_update_follows_this_and_other_sessions() {
    let (mut m, mut s) = world(&[100, 100, 100, 100]);
    let out = send(&mut s, "a SEARCH RETURN (UPDATE) SEEN\r\n");
    assert_eq!(out, "* ESEARCH (TAG \"a\")\r\na OK SEARCH completed\r\n");
    // Our own STORE: FETCH, then ADDTO (RFC 5267 §4.3.2).
    let out = send(&mut s, "b STORE 1,2,4 +FLAGS (\\Seen)\r\n");
    assert_eq!(
        lines(&out)[3..],
        [
            "* ESEARCH (TAG \"a\") ADDTO (0 1:2,4)",
            "b OK STORE completed"
        ]
    );
    // Another session clears \Seen on 2: REMOVEFROM at our next NOOP.
    flag(&mut m, &[2], StoreMode::Remove, Flag::Seen);
    let out = send(&mut s, "c NOOP\r\n");
    assert!(
        out.ends_with("* ESEARCH (TAG \"a\") REMOVEFROM (0 2)\r\nc OK NOOP completed\r\n"),
        "{out}"
    );
    // A new message that matches: EXISTS first, then ADDTO with its number.
    append(&mut m, 5, 100);
    flag(&mut m, &[5], StoreMode::Add, Flag::Seen);
    let out = send(&mut s, "d NOOP\r\n");
    let l = lines(&out);
    let exists = l.iter().position(|x| *x == "* 5 EXISTS");
    let addto = l
        .iter()
        .position(|x| *x == "* ESEARCH (TAG \"a\") ADDTO (0 5)");
    assert!(exists.is_some() && exists < addto, "{out}");
    // Expunged by another session: REMOVEFROM before the EXPUNGE, with the old number.
    flag(&mut m, &[4], StoreMode::Add, Flag::Deleted);
    let _ = m.expunge("INBOX", None);
    let out = send(&mut s, "e NOOP\r\n");
    assert!(
        out.starts_with("* ESEARCH (TAG \"a\") REMOVEFROM (0 4)\r\n* 4 EXPUNGE\r\n"),
        "{out}"
    );
    // Unchanged messages are not reported again.
    let out = send(&mut s, "f NOOP\r\n");
    assert_eq!(out, "f OK NOOP completed\r\n");
}

#[test]
fn uid_search_update_reads_content_of_changed_messages_only() {
    let (mut m, mut s) = world(&[100, 100, 100, 100]);
    let out = send(
        &mut s,
        "a UID SEARCH RETURN (UPDATE COUNT) BODY fruit SEEN\r\n",
    );
    assert_eq!(
        out,
        "* ESEARCH (TAG \"a\") UID COUNT 0\r\na OK SEARCH completed\r\n"
    );
    flag(&mut m, &[1, 2, 3, 4], StoreMode::Add, Flag::Seen);
    let out = send(&mut s, "b NOOP\r\n");
    // Only the even messages mention fruit.
    assert!(
        out.contains("* ESEARCH (TAG \"a\") UID ADDTO (0 2,4)\r\n"),
        "{out}"
    );
    flag(&mut m, &[2], StoreMode::Add, Flag::Flagged);
    let out = send(&mut s, "c NOOP\r\n");
    assert!(!out.contains("ESEARCH"), "{out}");
}

#[test]
fn sort_update_reports_positions_in_sort_order() {
    // Sizes: UID 1 = 300, 2 = 100, 3 = 200; by SIZE: 2 3 1.
    let (mut m, mut s) = world(&[300, 100, 200]);
    let out = send(
        &mut s,
        "a UID SORT RETURN (UPDATE ALL) (SIZE) UTF-8 UNSEEN\r\n",
    );
    assert_eq!(
        out,
        "* ESEARCH (TAG \"a\") UID ALL 2:3,1\r\na OK SORT completed\r\n"
    );
    // New messages of size 150 (UID 4) and 400 (UID 5): positions 2 and 5.
    append(&mut m, 4, 150);
    append(&mut m, 5, 400);
    let out = send(&mut s, "b NOOP\r\n");
    assert!(
        out.contains("* ESEARCH (TAG \"a\") UID ADDTO (2 4 5 5)\r\n"),
        "{out}"
    );
    // Now 2 4 3 1 5; seeing 4 and 3 removes positions 2..3 in one run.
    let out = send(&mut s, "c UID STORE 3:4 +FLAGS.SILENT (\\Seen)\r\n");
    assert!(
        out.contains("* ESEARCH (TAG \"a\") UID REMOVEFROM (2 4,3)\r\n"),
        "{out}"
    );
    // Sequence-number SORT contexts report sequence numbers, REVERSE order respected.
    let out = send(
        &mut s,
        "d SORT RETURN (UPDATE) (REVERSE SIZE) UTF-8 UNSEEN\r\n",
    );
    assert!(
        out.starts_with("* ESEARCH (TAG \"d\") ALL 5,1:2\r\n"),
        "{out}"
    );
    flag(&mut m, &[3], StoreMode::Remove, Flag::Seen);
    let out = send(&mut s, "e NOOP\r\n");
    assert!(
        out.contains("* ESEARCH (TAG \"a\") UID ADDTO (2 3)\r\n"),
        "{out}"
    );
    assert!(
        out.contains("* ESEARCH (TAG \"d\") ADDTO (3 3)\r\n"),
        "{out}"
    );
    flag(&mut m, &[1], StoreMode::Add, Flag::Deleted);
    let _ = m.expunge("INBOX", None);
    let out = send(&mut s, "f NOOP\r\n");
    assert!(
        out.starts_with(
            "* ESEARCH (TAG \"a\") UID REMOVEFROM (3 1)\r\n* ESEARCH (TAG \"d\") REMOVEFROM (2 1)\r\n* 1 EXPUNGE\r\n"
        ),
        "{out}"
    );
}

#[test]
fn cancelupdate_and_leaving_the_mailbox_end_contexts() {
    let (mut m, mut s) = world(&[100, 100]);
    send(&mut s, "a SEARCH RETURN (UPDATE) FLAGGED\r\n");
    send(&mut s, "b SEARCH RETURN (UPDATE) SEEN\r\n");
    let out = send(&mut s, "c CANCELUPDATE \"a\"\r\n");
    assert_eq!(out, "c OK CANCELUPDATE completed\r\n");
    flag(&mut m, &[1], StoreMode::Add, Flag::Flagged);
    flag(&mut m, &[1], StoreMode::Add, Flag::Seen);
    let out = send(&mut s, "d NOOP\r\n");
    assert!(!out.contains("TAG \"a\""), "{out}");
    assert!(out.contains("* ESEARCH (TAG \"b\") ADDTO (0 1)"), "{out}");
    // The tag may be used again once its context is gone.
    let out = send(&mut s, "a SEARCH RETURN (UPDATE) FLAGGED\r\n");
    assert!(out.ends_with("a OK SEARCH completed\r\n"), "{out}");
    send(&mut s, "e UNSELECT\r\n");
    send(&mut s, "f SELECT INBOX\r\n");
    flag(&mut m, &[2], StoreMode::Add, Flag::Seen);
    flag(&mut m, &[2], StoreMode::Add, Flag::Flagged);
    let out = send(&mut s, "g NOOP\r\n");
    assert!(!out.contains("ESEARCH"), "{out}");
    let out = send(&mut s, "h UNSELECT\r\n");
    assert!(out.starts_with("h OK"), "{out}");
    let out = send(&mut s, "i CANCELUPDATE \"b\"\r\n");
    assert!(out.starts_with("i BAD"), "{out}");
}

#[test]
fn regress_update_with_the_tag_of_a_live_context_is_bad() {
    let (_, mut s) = world(&[100]);
    send(&mut s, "B01 UID SEARCH RETURN (UPDATE COUNT) DELETED\r\n");
    // RFC 5267 §4.3: "B01 SORT RETURN (UPDATE) FLAGGED" is rejected, and has no effect.
    let out = send(&mut s, "B01 SORT RETURN (UPDATE) (DATE) UTF-8 FLAGGED\r\n");
    assert_eq!(out, "B01 BAD Tag reuse\r\n");
    let out = send(&mut s, "B01 SEARCH RETURN (COUNT) ALL\r\n");
    assert!(out.ends_with("B01 OK SEARCH completed\r\n"), "{out}");
}

#[test]
fn contexts_past_the_limit_answer_noupdate() {
    let (_, mut s) = world(&[100]);
    for i in 0..context::MAX_UPDATE_CONTEXTS {
        let out = send(&mut s, &format!("t{i} SEARCH RETURN (UPDATE) ALL\r\n"));
        assert!(!out.contains("NOUPDATE"), "{out}");
    }
    // RFC 5267 §4.3.1: the other options are still answered.
    let out = send(
        &mut s,
        "x UID SORT RETURN (UPDATE COUNT) (SIZE) UTF-8 ALL\r\n",
    );
    assert_eq!(
        out,
        "* ESEARCH (TAG \"x\") UID COUNT 1\r\n* NO [NOUPDATE \"x\"] Too many contexts\r\nx OK SORT completed\r\n"
    );
    let out = send(&mut s, "y SEARCH RETURN (UPDATE) ALL\r\n");
    assert!(out.contains("* NO [NOUPDATE \"y\"]"), "{out}");
    send(&mut s, "z CANCELUPDATE \"t0\" \"t1\"\r\n");
    let out = send(&mut s, "y SEARCH RETURN (UPDATE) ALL\r\n");
    assert!(!out.contains("NOUPDATE"), "{out}");
}

#[test]
fn partial_windows_in_search_and_sort() {
    // Sizes make SIZE order 5 4 3 2 1 (the reverse of mailbox order).
    let (_, mut s) = world(&[500, 400, 300, 200, 100]);
    let cases = [
        ("SEARCH RETURN (PARTIAL 2:4) ALL", "PARTIAL (2:4 2:4)"),
        ("SEARCH RETURN (PARTIAL 4:2) ALL", "PARTIAL (2:4 2:4)"),
        ("SEARCH RETURN (PARTIAL 6:9) ALL", "PARTIAL (6:9 NIL)"),
        ("SEARCH RETURN (PARTIAL 2:3) 1:2,4:5", "PARTIAL (2:3 2,4)"),
        // RFC 9394 §3.1: counted from the last result.
        ("SEARCH RETURN (PARTIAL -1:-2) ALL", "PARTIAL (-1:-2 4:5)"),
        (
            "SEARCH RETURN (PARTIAL -100:-4) ALL",
            "PARTIAL (-4:-100 1:2)",
        ),
        (
            "UID SEARCH RETURN (PARTIAL -1:-1 COUNT) ALL",
            "UID COUNT 5 PARTIAL (-1:-1 5)",
        ),
        (
            "SORT RETURN (PARTIAL 1:2) (SIZE) UTF-8 ALL",
            "PARTIAL (1:2 5,4)",
        ),
        (
            "SORT RETURN (PARTIAL -1:-2) (SIZE) UTF-8 ALL",
            "PARTIAL (-1:-2 2,1)",
        ),
        (
            "SORT RETURN (MIN PARTIAL 2:2) (SIZE) UTF-8 ALL",
            "MIN 5 PARTIAL (2:2 4)",
        ),
    ];
    for (i, (cmd, want)) in cases.iter().enumerate() {
        let out = send(&mut s, &format!("p{i} {cmd}\r\n"));
        assert_eq!(
            lines(&out).first().copied(),
            Some(format!("* ESEARCH (TAG \"p{i}\") {want}").as_str()),
            "{cmd}"
        );
    }
}

#[test]
fn regress_broken_partial_ranges_are_bad() {
    let (_, mut s) = world(&[100, 100]);
    for (i, opts) in [
        "PARTIAL 1",
        "PARTIAL 1:*",
        "PARTIAL *:1",
        "PARTIAL 0:1",
        "PARTIAL -1:2",
        "PARTIAL 1:2 ALL",
        "ALL PARTIAL 1:2",
        "PARTIAL 1:2 PARTIAL 3:4",
    ]
    .iter()
    .enumerate()
    {
        let out = send(&mut s, &format!("b{i} SEARCH RETURN ({opts}) ALL\r\n"));
        assert!(out.starts_with(&format!("b{i} BAD ")), "{opts}: {out}");
        let out = send(
            &mut s,
            &format!("c{i} SORT RETURN ({opts}) (SIZE) UTF-8 ALL\r\n"),
        );
        assert!(out.starts_with(&format!("c{i} BAD ")), "{opts}: {out}");
    }
}

#[test]
fn uid_fetch_partial_returns_a_window_of_the_set() {
    let (mut m, mut s) = world(&[100, 100, 100, 100, 100, 100]);
    let fetched = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.contains(" FETCH ("))
            .filter_map(|l| l.split(' ').nth(1).map(str::to_string))
            .collect()
    };
    // RFC 9394 §3.3: the last two messages of UIDs 2:5, the first three of 1:*.
    let out = send(&mut s, "a UID FETCH 2:5 (FLAGS) (PARTIAL -1:-2)\r\n");
    assert_eq!(fetched(&out), ["4", "5"], "{out}");
    let out = send(&mut s, "b UID FETCH 1:* (FLAGS) (PARTIAL 3:1)\r\n");
    assert_eq!(fetched(&out), ["1", "2", "3"], "{out}");
    let out = send(&mut s, "c UID FETCH 1:* (FLAGS) (PARTIAL 7:9)\r\n");
    assert_eq!(out, "c OK FETCH completed\r\n");
    // §3.4: the window first, then CHANGEDSINCE among its messages.
    let since = m.status("INBOX").map(|st| st.highest_modseq).unwrap_or(0);
    flag(&mut m, &[2, 5], StoreMode::Add, Flag::Flagged);
    send(&mut s, "d NOOP\r\n");
    let cmd = format!("e UID FETCH 1:* (FLAGS) (PARTIAL 1:3 CHANGEDSINCE {since})\r\n");
    let out = send(&mut s, &cmd);
    assert_eq!(fetched(&out), ["2"], "{out}");
    // Only UID FETCH takes it; a broken range is a syntax error.
    assert!(send(&mut s, "f FETCH 1:* (FLAGS) (PARTIAL 1:2)\r\n").starts_with("f BAD"));
    assert!(send(&mut s, "g UID FETCH 1:* (FLAGS) (PARTIAL 0:2)\r\n").starts_with("g BAD"));
}

#[test]
fn regress_own_store_is_reported_once_not_again_at_the_next_poll() {
    let (_, mut s) = world(&[100, 100]);
    send(&mut s, "a SEARCH RETURN (UPDATE) FLAGGED\r\n");
    let out = send(&mut s, "b STORE 1 +FLAGS (\\Flagged)\r\n");
    assert_eq!(out.matches("* ESEARCH").count(), 1, "{out}");
    // UID STORE also polls for changes after itself: its own change is not one.
    let out = send(&mut s, "c UID STORE 2 +FLAGS (\\Flagged)\r\n");
    assert_eq!(out.matches("* ESEARCH").count(), 1, "{out}");
    let out = send(&mut s, "d NOOP\r\n");
    assert_eq!(out, "d OK NOOP completed\r\n");
}
