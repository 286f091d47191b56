//! The content pass on hostile input: it never panics, and its work and output stay bounded
//! whatever the message holds (issue 14).
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_trace::content::{attachments, html, links};
use mailward_trace::{AnalyzeOptions, analyze};
use proptest::prelude::*;

const HEAD: &str =
    "From: A <a@example.com>\r\nTo: b@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n";

fn opts() -> AnalyzeOptions {
    AnalyzeOptions { now: 1_795_000_000 }
}

/// Pieces hostile messages are made of: MIME syntax, HTML syntax, URLs and archive magic.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("--b\r\n".to_string()),
        Just("--b--\r\n".to_string()),
        Just("Content-Type: multipart/mixed; boundary=b\r\n\r\n".to_string()),
        Just("Content-Type: text/html\r\n\r\n".to_string()),
        Just("Content-Type: message/rfc822\r\n\r\n".to_string()),
        Just("Content-Transfer-Encoding: base64\r\n".to_string()),
        Just("Content-Disposition: attachment; filename=\"a.html\"\r\n\r\n".to_string()),
        Just("<a href=\"".to_string()),
        Just("\">".to_string()),
        Just("</a>".to_string()),
        Just("<form action=".to_string()),
        Just("<script>".to_string()),
        Just("<!--".to_string()),
        Just("&#x".to_string()),
        Just("&amp;".to_string()),
        Just("https://".to_string()),
        Just("www.".to_string()),
        Just("xn--".to_string()),
        Just("@".to_string()),
        Just("%".to_string()),
        Just("PK\u{3}\u{4}".to_string()),
        Just("Rar!\u{1a}\u{7}".to_string()),
        Just("\r\n".to_string()),
        "[a-zA-Z0-9./:<>=\"' \u{430}\u{0}-\u{1f}]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn hostile_messages_never_panic(pieces in proptest::collection::vec(piece(), 0..60)) {
        let body: String = pieces.concat();
        let raw = format!("{HEAD}Content-Type: multipart/mixed; boundary=b\r\n\r\n{body}");
        let report = analyze(raw.as_bytes(), "p", &opts());
        if let Some(c) = &report.content {
            prop_assert!(c.links.len() <= 100);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut raw = HEAD.as_bytes().to_vec();
        raw.extend_from_slice(b"\r\n");
        raw.extend_from_slice(&bytes);
        let _ = analyze(&raw, "p", &opts());
    }

    #[test]
    fn html_scanner_and_url_parser_take_anything(s in "\\PC{0,200}") {
        let scan = html::scan(&s, &html::HtmlLimits::default());
        prop_assert!(scan.text.len() <= html::HtmlLimits::default().max_text);
        let _ = links::parse_url(&s);
        let _ = links::shown_domain(&s);
        let _ = links::text_urls(&s, 10);
        let _ = html::decode_entities(&s);
    }

    #[test]
    fn archive_checks_take_anything(
        magic in prop_oneof![Just(b"PK\x03\x04".to_vec()), Just(b"7z\xBC\xAF\x27\x1C".to_vec()), Just(b"Rar!\x1A\x07\x00".to_vec()), Just(b"Rar!\x1A\x07\x01\x00".to_vec())],
        rest in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut data = magic;
        data.extend_from_slice(&rest);
        let _ = attachments::encrypted_archive(&data);
    }
}

#[test]
fn deep_nesting_and_many_parts_stay_bounded() {
    // 5,000 nested multiparts, then 5,000 sibling parts.
    let mut raw = String::from(HEAD);
    for i in 0..5000 {
        raw.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"
        ));
    }
    raw.push_str("Content-Type: text/html\r\n\r\n<a href=\"http://1.2.3.4/\">x</a>\r\n");
    let report = analyze(raw.as_bytes(), "deep", &opts());
    let content = report.content.expect("content");
    assert!(content.parts <= 100);
    assert!(content.truncated);

    let mut raw = String::from(HEAD);
    raw.push_str("Content-Type: multipart/mixed; boundary=b\r\n\r\n");
    for _ in 0..5000 {
        raw.push_str("--b\r\nContent-Type: text/plain\r\n\r\nhttps://a.example/\r\n");
    }
    raw.push_str("--b--\r\n");
    let report = analyze(raw.as_bytes(), "wide", &opts());
    assert!(report.content.expect("content").parts <= 100);
}

#[test]
fn a_page_of_a_million_links_is_cut() {
    let mut raw = String::from(HEAD);
    raw.push_str("Content-Type: text/html\r\n\r\n");
    for i in 0..200_000 {
        raw.push_str(&format!(
            "<a href=\"https://h{i}.example/\">www.paypal.com</a>"
        ));
    }
    let start = std::time::Instant::now();
    let report = analyze(raw.as_bytes(), "many", &opts());
    let content = report.content.expect("content");
    assert!(content.truncated);
    assert!(content.links.len() <= 100);
    // One finding per code, not one per link.
    assert_eq!(
        report
            .findings
            .iter()
            .filter(|f| f.code == "link-text-mismatch")
            .count(),
        1
    );
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
}
