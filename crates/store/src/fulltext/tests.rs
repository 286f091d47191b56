use super::write::Document;
use super::*;

fn doc(uid: u32, text: &str) -> Document {
    Document {
        uid,
        text: Some(text.to_lowercase()),
    }
}

fn index() -> (tempfile::TempDir, FullText) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ft = FullText::open(&dir.path().join("fulltext.db")).expect("open");
    (dir, ft)
}

#[test]
fn candidates_hold_every_message_with_the_substring() {
    let (_d, ft) = index();
    let docs = [
        doc(1, "Subject: Hello world"),
        doc(2, "a needle in a haystack"),
        doc(3, "nothing here"),
        Document { uid: 4, text: None },
    ];
    ft.add(7, 100, &docs, 4).expect("add");
    let c = ft.candidates(7, 100, "ell").expect("q").expect("indexed");
    assert_eq!(c.through_uid, 4);
    // 4 could not be indexed: always a candidate.
    assert_eq!(c.uids, vec![1, 4]);
    let c = ft
        .candidates(7, 100, "needle in")
        .expect("q")
        .expect("indexed");
    assert_eq!(c.uids, vec![2, 4]);
    assert!(c.admits(2) && c.admits(5) && !c.admits(1) && !c.admits(3));
    // Too short for the index, another mailbox, another UIDVALIDITY: no narrowing.
    assert_eq!(ft.candidates(7, 100, "ne").expect("q"), None);
    assert_eq!(ft.candidates(8, 100, "needle").expect("q"), None);
    assert_eq!(ft.candidates(7, 101, "needle").expect("q"), None);
}

#[test]
fn white_space_differences_do_not_hide_a_message() {
    let (_d, ft) = index();
    ft.add(1, 1, &[doc(1, "Subject: a\r\n\tfolded   subject")], 1)
        .expect("add");
    let c = ft
        .candidates(1, 1, "a folded subject")
        .expect("q")
        .expect("indexed");
    assert_eq!(c.uids, vec![1]);
}

#[test]
fn removed_and_forgotten_messages_are_no_longer_candidates() {
    let (_d, ft) = index();
    ft.add(3, 9, &[doc(1, "alpha beta"), doc(2, "alpha gamma")], 2)
        .expect("add");
    ft.remove(3, &[1]).expect("remove");
    let c = ft.candidates(3, 9, "alpha").expect("q").expect("indexed");
    assert_eq!(c.uids, vec![2]);
    assert_eq!(ft.indexed_uids(3).expect("uids"), vec![2]);
    // A new UIDVALIDITY drops the old entries.
    ft.add(3, 10, &[doc(5, "delta")], 5).expect("add");
    assert_eq!(ft.indexed_uids(3).expect("uids"), vec![5]);
    ft.forget_mailbox(3).expect("forget");
    assert_eq!(ft.candidates(3, 10, "delta").expect("q"), None);
}

#[test]
fn regress_damaged_index_file_is_rebuilt_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fulltext.db");
    std::fs::write(&path, b"this is not a database, just garbage bytes .......").expect("write");
    let ft = FullText::open(&path).expect("rebuilt");
    ft.add(1, 1, &[doc(1, "works again")], 1).expect("add");
    assert_eq!(
        ft.candidates(1, 1, "again").expect("q").map(|c| c.uids),
        Some(vec![1])
    );
    drop(ft);
    // Reopened as it is: the entries are kept.
    let ft = FullText::open(&path).expect("reopen");
    assert_eq!(ft.indexed_uids(1).expect("uids"), vec![1]);
}

#[test]
fn needles_with_quotes_and_unicode_are_looked_up_literally() {
    let (_d, ft) = index();
    ft.add(
        2,
        1,
        &[doc(1, "he said \"stop\" now"), doc(2, "grüße aus köln")],
        2,
    )
    .expect("add");
    assert_eq!(
        ft.candidates(2, 1, "\"stop\"").expect("q").map(|c| c.uids),
        Some(vec![1])
    );
    assert_eq!(
        ft.candidates(2, 1, "öln").expect("q").map(|c| c.uids),
        Some(vec![2])
    );
    assert_eq!(
        ft.candidates(2, 1, "AND OR NOT")
            .expect("q")
            .map(|c| c.uids),
        Some(vec![])
    );
}
