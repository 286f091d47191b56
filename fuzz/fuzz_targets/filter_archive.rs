//! The attachment block list's archive readers over arbitrary bytes: they must never panic,
//! never hand on more than the budget, and end (the budget bounds entries and expansion).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_filter::attachments::archive::{self, Budget, Entry};
use mailward_filter::attachments::{self, ArchiveLimits, AttachmentSettings};
use mailward_filter::mime::{Part, Walk};
use mailward_filter::Context;
use std::borrow::Cow;

const LIMITS: ArchiveLimits = ArchiveLimits {
    max_depth: 3,
    max_entries: 1000,
    max_expanded: 4 << 20,
    max_ratio: 200,
};

fuzz_target!(|input: &[u8]| {
    let Some((which, data)) = input.split_first() else {
        return;
    };
    let mut visit = |e: Entry<'_>, _: &mut Budget| {
        assert!(e.data.len() as u64 <= LIMITS.max_expanded);
        Ok(())
    };
    let mut budget = Budget::new(LIMITS);
    let _ = match which % 6 {
        0 => archive::zip::list(data, &mut budget, &mut visit),
        1 => archive::sevenz::list(data, &mut budget, &mut visit),
        2 => archive::rar::list(data, &mut budget, &mut visit),
        3 => archive::tar::list(data, &mut budget, &mut visit),
        4 => archive::ole::list(data, &mut budget, &mut visit),
        _ => archive::gzip::decompress(data, &mut budget).map(|_| Default::default()),
    };

    // The whole check, with the data as an attachment.
    let rcpts = vec!["b@example.net".to_owned()];
    let ctx = Context {
        queue_id: "Q1",
        client_ip: std::net::IpAddr::from([192, 0, 2, 1]),
        helo: "client.example",
        mail_from: "a@example.org",
        rcpts: &rcpts,
        auth_user: None,
        auth: None,
    };
    let walk = Walk {
        parts: vec![Part {
            index: 0,
            section: "2".to_owned(),
            content_type: "application/octet-stream".to_owned(),
            filename: Some("file.bin".to_owned()),
            is_attachment: true,
            body: Cow::Borrowed(data),
            depth: 0,
            raw: None,
            raw_body: None,
            encoding: "base64".to_owned(),
        }],
        truncated: false,
    };
    let settings = AttachmentSettings {
        archives: LIMITS,
        ..AttachmentSettings::default()
    };
    let _ = attachments::check(&walk, &ctx, &settings);
});
