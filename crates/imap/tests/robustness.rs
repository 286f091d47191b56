//! Bad input never panics: random octets (and MIME-shaped random text) through the wire
//! framer, the command decoder, the whole session and every message function; and the
//! framer gives the same frames however the input is split.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use imap_codec::ResponseCodec;
use imap_codec::encode::Encoder;
use imap_codec::imap_types::core::Vec1;
use imap_codec::imap_types::fetch::{MessageDataItem, Section};
use imap_codec::imap_types::response::{Data, Response};
use mailward_imap::backend::{AuthOutcome, Authenticator, Credentials};
use mailward_imap::imap_codec;
use mailward_imap::message::{Message, search, section};
use mailward_imap::wire::{Frame, Framer, decode_command};
use mailward_imap::{Action, Limits, Session, SessionConfig, mailbox_name};
use proptest::prelude::*;
use std::num::NonZeroU32;
use std::sync::Arc;

struct NoAuth;

impl Authenticator for NoAuth {
    fn authenticate(&self, _: &Credentials) -> AuthOutcome {
        AuthOutcome::Failed
    }
}

fn small_limits() -> Limits {
    Limits {
        max_line: 300,
        max_literal: 200,
        max_literal_unauthenticated: 100,
        max_append: 500,
        max_command: 1000,
        max_discard: 2000,
        max_bad_commands: 1000,
        max_auth_failures: 1000,
        ..Limits::default()
    }
}

fn run_session(chunks: &[Vec<u8>]) {
    let mut cfg = SessionConfig::new("test");
    cfg.plaintext_auth_on_loopback = true;
    cfg.tls_available = true;
    cfg.limits = small_limits();
    let mut s = Session::new(
        Arc::new(cfg),
        Arc::new(NoAuth),
        "p".into(),
        [127, 0, 0, 1].into(),
    );
    s.greeting();
    for c in chunks {
        s.feed(c);
        let mut guard = 0;
        while let Some(a) = s.advance() {
            guard += 1;
            assert!(guard < 10_000, "advance does not settle");
            match a {
                Action::StartTls => s.tls_established(),
                Action::Close => return,
                Action::Idle => s.poll_changes(),
                Action::AuthFailed { .. } => {}
                Action::Authenticate => {
                    let outcome = s.check_credentials();
                    if s.auth_answer(outcome) == Some(Action::Close) {
                        return;
                    }
                }
            }
        }
        let out = s.take_output();
        // Every response ends its line.
        assert!(out.is_empty() || out.ends_with(b"\r\n"));
    }
}

fn frames(limits: &Limits, chunks: &[&[u8]]) -> Vec<Frame> {
    let mut f = Framer::new(limits.clone());
    f.set_authenticated(true);
    let mut out = Vec::new();
    for c in chunks {
        f.push(c);
        while let Some(fr) = f.next_frame() {
            out.push(fr);
        }
    }
    out
}

fn exercise_message(raw: &[u8]) {
    let m = Message::parse(raw);
    let mut items = vec![
        MessageDataItem::Rfc822Size(m.size()),
        MessageDataItem::Envelope(m.envelope()),
        MessageDataItem::Body(m.body_structure(false)),
        MessageDataItem::BodyStructure(m.body_structure(true)),
        m.fetch_body(None, None),
        m.fetch_body(Some(&Section::Header(None)), None),
        m.fetch_body(
            Some(&Section::Text(None)),
            NonZeroU32::new(5).map(|n| (3, n)),
        ),
    ];
    for path in [vec![1u32], vec![1, 1], vec![2], vec![1, 2, 3], vec![3, 1]] {
        let nz: Vec<NonZeroU32> = path.iter().filter_map(|&n| NonZeroU32::new(n)).collect();
        if let Ok(p) = Vec1::try_from(nz.clone()) {
            let part = imap_codec::imap_types::fetch::Part(p);
            items.push(m.fetch_body(Some(&Section::Part(part.clone())), None));
            items.push(m.fetch_body(Some(&Section::Mime(part.clone())), None));
            items.push(m.fetch_body(Some(&Section::Header(Some(part.clone()))), None));
            items.push(m.fetch_body(Some(&Section::Text(Some(part))), None));
        }
        if let Ok((bytes, _)) = m.fetch_binary(&nz, NonZeroU32::new(4).map(|n| (1, n))) {
            assert!(bytes.len() <= 4, "a partial is at most its length");
        }
        if let Ok(i) = m.fetch_binary_size(&nz) {
            items.push(i);
        }
        let _ = section::resolve(m.root(), &path);
    }
    let needle = search::Needle::new(b"a");
    let _ = search::body_contains(&m, &needle);
    let _ = search::text_contains(&m, &needle);
    let _ = search::header_contains(&m, "Subject", &needle);
    let _ = search::address_contains(&m, "From", &needle);
    let _ = search::subject_contains(&m, &needle);
    let _ = search::sent_date_or_epoch(&m);
    if let (Ok(items), Some(seq)) = (Vec1::try_from(items), NonZeroU32::new(1)) {
        let resp = Response::Data(Data::Fetch { seq, items });
        let wire = ResponseCodec::default().encode(&resp).dump();
        assert!(wire.ends_with(b"\r\n"));
    }
}

/// MIME-shaped random text: fragments that reach the boundary, header and nesting code.
fn mime_text() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"Content-Type: multipart/mixed; boundary=b\r\n".to_vec()),
        Just(b"Content-Type: multipart/digest; boundary=\"b2\"\r\n".to_vec()),
        Just(b"Content-Type: message/rfc822\r\n".to_vec()),
        Just(b"Content-Type: text/plain; charset=iso-8859-1\r\n".to_vec()),
        Just(b"Content-Transfer-Encoding: base64\r\n".to_vec()),
        Just(b"Content-Transfer-Encoding: quoted-printable\r\n".to_vec()),
        Just(
            b"Content-Disposition: attachment; filename*0*=utf-8''a%20b; filename*1=c\r\n".to_vec()
        ),
        Just(b"From: \"A\" <a@b>, g: c@d, (x) e@f;\r\n".to_vec()),
        Just(b"Subject: =?utf-8?q?h=C3=A9?= x\r\n".to_vec()),
        Just(b"Date: Tue, 5 Mar 2024 10:00:00 +0100\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"--b\r\n".to_vec()),
        Just(b"--b--\r\n".to_vec()),
        Just(b"--b2\r\n".to_vec()),
        Just(b"aGVsbG8=\r\n".to_vec()),
        Just(b"=41=\r\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..20),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn session_survives_random_octets(data in proptest::collection::vec(any::<u8>(), 0..3000), cut in 1usize..64) {
        let chunks: Vec<Vec<u8>> = data.chunks(cut).map(<[u8]>::to_vec).collect();
        run_session(&chunks);
    }

    #[test]
    fn session_survives_command_shaped_input(words in proptest::collection::vec(prop_oneof![
        Just("a LOGIN {5}\r\n"), Just("a LOGIN {5+}\r\nalice x\r\n"), Just("b AUTHENTICATE PLAIN\r\n"),
        Just("*\r\n"), Just("AGEAYg==\r\n"), Just("c IDLE\r\n"), Just("DONE\r\n"), Just("d ENABLE CONDSTORE\r\n"),
        Just("e STARTTLS\r\n"), Just("f ID (\"a\" \"b\")\r\n"), Just("g APPEND INBOX ~{3+}\r\n\0\0\0\r\n"),
        Just("h FETCH 1:* (BODY[1.MIME])\r\n"), Just("{99999999999+}\r\n"), Just("i NOOP\r\n"), Just("\r\n"),
        Just("j SELECT \"a\\\"b\"\r\n"), Just("k LOGOUT\r\n"), Just("x"), Just("{"), Just("}\r\n"),
    ], 0..60)) {
        let data: Vec<u8> = words.concat().into_bytes();
        let chunks: Vec<Vec<u8>> = data.chunks(7).map(<[u8]>::to_vec).collect();
        run_session(&chunks);
    }

    #[test]
    fn framer_is_independent_of_read_sizes(data in proptest::collection::vec(prop_oneof![
        Just(b"a NOOP\r\n".to_vec()), Just(b"b LOGIN {3+}\r\nabc x\r\n".to_vec()), Just(b"c X {2}\r\n".to_vec()),
        Just(b"yz\r\n".to_vec()), Just(vec![b'q'; 400]), Just(b"\n".to_vec()), Just(b"d {700+}\r\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..10),
    ], 0..30), cut in 1usize..50) {
        let data = data.concat();
        let limits = small_limits();
        let whole = frames(&limits, &[&data]);
        let parts: Vec<&[u8]> = data.chunks(cut).collect();
        prop_assert_eq!(frames(&limits, &parts), whole);
    }

    #[test]
    fn decoder_survives_random_commands(data in proptest::collection::vec(any::<u8>(), 0..500)) {
        let _ = decode_command(&data);
    }

    #[test]
    fn message_functions_survive_random_octets(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
        exercise_message(&data);
    }

    #[test]
    fn message_functions_survive_mime_shaped_text(data in mime_text()) {
        exercise_message(&data);
    }

    #[test]
    fn mailbox_names_round_trip(name in "\\PC{1,40}") {
        if let Ok(n) = mailbox_name::from_wire(name.as_bytes(), true) {
            let wire = mailbox_name::to_wire(&n, false);
            prop_assert!(wire.is_ascii());
            prop_assert_eq!(mailbox_name::from_wire(wire.as_bytes(), false).ok(), Some(n));
        }
    }

    #[test]
    fn mutf7_decoder_survives_random_octets(data in proptest::collection::vec(any::<u8>(), 0..100)) {
        let _ = mailbox_name::decode_mutf7(&data);
    }
}

#[test]
fn deep_nesting_is_bounded() {
    // 5000 nested message/rfc822 parts and multiparts: limited depth, no stack overflow.
    let mut m = Vec::new();
    for i in 0..5000 {
        if i % 2 == 0 {
            m.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
        } else {
            m.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
    }
    m.extend_from_slice(b"body\r\n");
    exercise_message(&m);
}
