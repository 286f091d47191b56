//! SORT, ESORT and THREAD as a client sees them, over the in-memory backend of
//! `tests_mailbox`.

use super::tests_mailbox::{Mem, World, send, session};
use super::*;
use crate::backend::*;
use proptest::prelude::*;
use std::sync::Mutex;

/// Message 1 replies to a message that is not there; 2 has a broken Date and a list tag;
/// 3 is the thread start; 4 answers 3 by In-Reply-To only, without Date; 5 answers 4 by
/// References and has neither From nor Subject.
const MSGS: [(&str, i64); 5] = [
    (
        "From: \"Zed\" <zed@x.test>\r\nTo: bob@x.test\r\nSubject: Re: Apples\r\nDate: Tue, 14 Nov 2023 10:00:00 +0000\r\nMessage-ID: <m1@x>\r\nReferences: <m0@x>\r\n\r\none\r\n",
        1_000,
    ),
    (
        "From: alice@x.test\r\nTo: \"Yves\" <yves@x.test>\r\nSubject: =?UTF-8?Q?=5Blist=5D_bananas?=\r\nDate: someday\r\nMessage-ID: <m2@x>\r\n\r\ntwo\r\n",
        500,
    ),
    (
        "From: \"Aaron\" <Bob@x.test>\r\nTo: amy@x.test\r\nSubject: apples\r\nDate: Mon, 13 Nov 2023 10:00:00 +0000\r\nMessage-ID: <m3@x>\r\n\r\nthree, a longer body than the others\r\n",
        3_000,
    ),
    (
        "From: carol@x.test\r\nCc: dave@x.test\r\nSubject: Fwd: Cherries (fwd)\r\nMessage-ID: <m4@x>\r\nIn-Reply-To: <m3@x>\r\n\r\nfour\r\n",
        2_000,
    ),
    (
        "Date: Wed, 15 Nov 2023 10:00:00 +0000\r\nMessage-ID: <m5@x>\r\nReferences: <m3@x>\r\n <m4@x>\r\n\r\nfive\r\n",
        4_000,
    ),
];

/// An account whose INBOX holds `msgs` as UIDs 2.. (UID 1 was expunged, so UIDs are
/// sequence numbers + 1), selected.
fn sorted_world(msgs: &[(&str, i64)]) -> Session {
    let mem = Mem(Arc::new(Mutex::new(World::default())));
    let mut m = mem.clone();
    let _ = m.create("INBOX", None);
    let mut add = |raw: &str, date: i64| {
        let _ = m.append(
            "INBOX",
            AppendRequest {
                flags: vec![],
                internal_date: Some((date, 0)),
                message: raw.as_bytes().to_vec(),
            },
        );
    };
    add("Subject: gone\r\n\r\n", 1);
    for (raw, date) in msgs {
        add(raw, *date);
    }
    let _ = m.store(
        "INBOX",
        &StoreRequest {
            uids: vec![1],
            mode: StoreMode::Add,
            flags: vec![Flag::Deleted],
            unchanged_since: None,
        },
    );
    let _ = m.expunge("INBOX", None);
    let mut s = session(&mem);
    send(&mut s, "s SELECT INBOX\r\n");
    s
}

fn first_line(out: &str) -> &str {
    out.lines().next().unwrap_or_default()
}

#[test]
fn sort_by_each_criterion() {
    let mut s = sorted_world(&MSGS);
    let cases = [
        // Empty subject first; "Re: Apples" and "apples" tie, so mailbox order; the list
        // tag and the encoded word do not count.
        ("SUBJECT", "5 1 3 2 4"),
        // A broken or missing Date falls back to INTERNALDATE.
        ("DATE", "2 4 3 1 5"),
        ("SUBJECT DATE", "5 3 1 2 4"),
        ("ARRIVAL", "2 1 4 3 5"),
        ("REVERSE ARRIVAL", "5 3 4 1 2"),
        // The addr-mailbox only, case-insensitively; none sorts first.
        ("FROM", "5 2 3 4 1"),
        ("REVERSE FROM", "1 4 3 2 5"),
        ("TO", "4 5 3 1 2"),
        ("CC", "1 2 3 5 4"),
        // RFC 5957: the display name, else the address.
        ("DISPLAYFROM", "5 3 2 4 1"),
        ("DISPLAYTO", "4 5 3 1 2"),
        ("SIZE", "5 4 2 1 3"),
    ];
    for (criteria, want) in cases {
        let out = send(&mut s, &format!("a SORT ({criteria}) UTF-8 ALL\r\n"));
        assert_eq!(
            out,
            format!("* SORT {want}\r\na OK SORT completed\r\n"),
            "{criteria}"
        );
    }
}

#[test]
fn uid_sort_and_search_criteria() {
    let mut s = sorted_world(&MSGS);
    assert_eq!(
        first_line(&send(&mut s, "a UID SORT (DATE) UTF-8 ALL\r\n")),
        "* SORT 3 5 4 2 6"
    );
    assert_eq!(
        first_line(&send(
            &mut s,
            "b SORT (SUBJECT) US-ASCII OR FROM bob FROM carol\r\n"
        )),
        "* SORT 3 4"
    );
    assert_eq!(
        first_line(&send(&mut s, "c SORT (DATE) UTF-8 BODY longer\r\n")),
        "* SORT 3"
    );
    assert_eq!(
        send(&mut s, "d SORT (DATE) UTF-8 SUBJECT nothing\r\n"),
        "* SORT\r\nd OK SORT completed\r\n"
    );
    let out = send(&mut s, "e SORT (DATE) KOI8-R ALL\r\n");
    assert_eq!(
        out,
        "e NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n"
    );
    assert!(send(&mut s, "f SORT (NAME) UTF-8 ALL\r\n").starts_with("f BAD"));
    let out = send(&mut s, "g UID SORT (ARRIVAL) UTF-8 MODSEQ 1\r\n");
    assert!(out.contains("* SORT 3 2 5 4 6 (MODSEQ "), "{out}");
}

#[test]
fn sort_needs_a_selected_mailbox() {
    let mem = Mem(Arc::new(Mutex::new(World::default())));
    let mut s = session(&mem);
    let out = send(&mut s, "a SORT (DATE) UTF-8 ALL\r\n");
    assert!(out.starts_with("a BAD SORT not allowed now"), "{out}");
    let out = send(&mut s, "b THREAD REFERENCES UTF-8 ALL\r\n");
    assert!(out.starts_with("b BAD THREAD not allowed now"), "{out}");
}

#[test]
fn esort_returns_min_max_count_and_all_in_sort_order() {
    let mut s = sorted_world(&MSGS);
    assert_eq!(
        send(&mut s, "a SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL\r\n"),
        "* ESEARCH (TAG \"a\") MIN 2 MAX 5 COUNT 5\r\na OK SORT completed\r\n"
    );
    assert_eq!(
        first_line(&send(
            &mut s,
            "b UID SORT RETURN (ALL) (DATE) UTF-8 ALL\r\n"
        )),
        "* ESEARCH (TAG \"b\") UID ALL 3,5,4,2,6"
    );
    assert_eq!(
        first_line(&send(&mut s, "c SORT RETURN () (ARRIVAL) UTF-8 2:4\r\n")),
        "* ESEARCH (TAG \"c\") ALL 2,4,3"
    );
    assert_eq!(
        first_line(&send(
            &mut s,
            "d SORT RETURN (COUNT MIN) (DATE) UTF-8 SUBJECT none\r\n"
        )),
        "* ESEARCH (TAG \"d\") COUNT 0"
    );
    // Without RETURN, SORT answers SORT even under IMAP4rev2's ESEARCH-only SEARCH.
    assert_eq!(
        first_line(&send(&mut s, "e SORT (SIZE) UTF-8 ALL\r\n")),
        "* SORT 5 4 2 1 3"
    );
}

#[test]
fn thread_references_and_orderedsubject() {
    let mut s = sorted_world(&MSGS);
    // 1's parent is missing (its dummy goes), so the subject joins it to 3, as a reply;
    // 4 answers 3 by In-Reply-To and 5 answers 4 by References; 4 has no Date, so its
    // INTERNALDATE puts it before 1.
    assert_eq!(
        send(&mut s, "a THREAD REFERENCES UTF-8 ALL\r\n"),
        "* THREAD (2)(3 (4 5)(1))\r\na OK THREAD completed\r\n"
    );
    assert_eq!(
        first_line(&send(&mut s, "b UID THREAD REFERENCES UTF-8 ALL\r\n")),
        "* THREAD (3)(4 (5 6)(2))"
    );
    assert_eq!(
        first_line(&send(&mut s, "c THREAD ORDEREDSUBJECT UTF-8 ALL\r\n")),
        "* THREAD (2)(4)(3 1)(5)"
    );
    assert_eq!(
        first_line(&send(&mut s, "d THREAD REFERENCES UTF-8 NOT 3\r\n")),
        "* THREAD (2)(4 5)(1)"
    );
    assert_eq!(
        send(&mut s, "e THREAD ORDEREDSUBJECT UTF-8 SUBJECT none\r\n"),
        "* THREAD\r\ne OK THREAD completed\r\n"
    );
    assert!(send(&mut s, "f THREAD NEWEST UTF-8 ALL\r\n").starts_with("f BAD"));
    assert!(send(&mut s, "g THREAD REFERENCES BIG5 ALL\r\n").contains("g NO [BADCHARSET"));
}

#[test]
fn capabilities_name_sort_thread_and_esort() {
    let mut s = sorted_world(&MSGS);
    let out = send(&mut s, "a CAPABILITY\r\n");
    for cap in [
        " SORT ",
        " SORT=DISPLAY ",
        " THREAD=ORDEREDSUBJECT ",
        " THREAD=REFERENCES ",
        " ESORT ",
    ] {
        assert!(out.contains(cap), "{cap}: {out}");
    }
}

fn numbers(line: &str, prefix: &str) -> Vec<u32> {
    line.strip_prefix(prefix)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// SORT finds exactly what SEARCH finds for the same criteria, in some order.
    #[test]
    fn sort_is_a_permutation_of_search(
        msgs in proptest::collection::vec(
            (0usize..4, 0usize..4, 0i64..5, any::<bool>()), 0..12),
        key in 0usize..5,
        criterion in 0usize..9,
        reverse in any::<bool>(),
    ) {
        let subjects = ["Re: one", "one", "[x] two", ""];
        let froms = ["a@x", "\"B\" <b@x>", "c@x", ""];
        let raws: Vec<(String, i64)> = msgs
            .iter()
            .map(|&(sub, from, date, with_date)| {
                let mut raw = String::new();
                if let Some(f) = froms.get(from).filter(|f| !f.is_empty()) {
                    raw.push_str(&format!("From: {f}\r\n"));
                }
                raw.push_str(&format!("Subject: {}\r\n", subjects.get(sub).unwrap_or(&"")));
                if with_date {
                    raw.push_str(&format!("Date: {} Nov 2023 10:00:00 +0000\r\n", date + 1));
                }
                raw.push_str("\r\nbody\r\n");
                (raw, date * 1000)
            })
            .collect();
        let refs: Vec<(&str, i64)> = raws.iter().map(|(r, d)| (r.as_str(), *d)).collect();
        let mut s = sorted_world(&refs);
        let search = ["ALL", "SUBJECT one", "FROM b", "NOT SUBJECT two", "OR FROM a SUBJECT two"]
            [key];
        let crit = ["ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO"]
            [criterion];
        let rev = if reverse { "REVERSE " } else { "" };
        let found = send(&mut s, &format!("a SEARCH {search}\r\n"));
        let sorted = send(&mut s, &format!("b SORT ({rev}{crit}) UTF-8 {search}\r\n"));
        let mut want = numbers(first_line(&found), "* SEARCH");
        let mut got = numbers(first_line(&sorted), "* SORT");
        prop_assert!(sorted.ends_with("b OK SORT completed\r\n"), "{}", sorted);
        want.sort_unstable();
        got.sort_unstable();
        prop_assert_eq!(got, want);
    }
}

/// imaptest's sort-addresses and sort-display-to groups: an address list that starts with a
/// group sorted by the group's first member (or, empty, first of all), and an address
/// without a domain was skipped. Dovecot sorts by the group's name and by the local part.
#[test]
fn regress_groups_and_addresses_without_domain_sorted_by_the_wrong_name() {
    let msgs: [(&str, i64); 5] = [
        (
            "To: foo bar <a@b.c>\r\nCc: user2@domain2.org\r\n\r\n1\r\n",
            1,
        ),
        (
            "To: z: aa@aa.org, bb@bb.org;\r\nCc: user2: blah@domain1.org;\r\n\r\n2\r\n",
            2,
        ),
        ("To: d\r\nCc: user1@domain1.org\r\n\r\n3\r\n", 3),
        ("To: empty:;\r\n\r\n4\r\n", 4),
        ("To: a: xx@xx.org;\r\n\r\n5\r\n", 5),
    ];
    let mut s = sorted_world(&msgs);
    let out = send(&mut s, "a SORT (DISPLAYTO) US-ASCII ALL\r\n");
    assert!(out.starts_with("* SORT 5 3 4 1 2\r\n"), "{out}");
    let out = send(&mut s, "b SORT (CC) US-ASCII ALL\r\n");
    assert!(out.starts_with("* SORT 4 5 3 1 2\r\n"), "{out}");
}
