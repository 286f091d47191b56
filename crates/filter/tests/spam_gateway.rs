//! The spam score through the whole gateway: what a recipient's mail program sees in
//! `X-Mailward-Spam:` and which action the thresholds pick; mail our own users submit is
//! not scored.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_event::Scope;
use mailward_filter::context::Context;
use mailward_filter::quarantine::Quarantine;
use mailward_filter::{Action, Gateway, GatewaySettings};

const CLEAN: &str = "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: lunch\r\n\
Date: DATE\r\nMessage-ID: <l1@example.com>\r\n\r\nSee you at noon.\r\n";

const SPAM: &str = "From: \"claims@un-desk.example.org\" <info@mailer-47.example.net>\r\n\
To: undisclosed-recipients:;\r\nSubject: URGENT ATTENTION BENEFICIARY!!!\r\n\r\n\
Dear friend, you have been selected as the beneficiary of unclaimed funds worth 10.5 million \
dollars. To claim your prize send your bank transfer details by wire transfer. Act now, \
this is risk free.\r\n";

fn gateway(dir: &tempfile::TempDir) -> Gateway {
    Gateway::new(
        GatewaySettings::default(),
        None,
        Quarantine::open(dir.path().join("q")).unwrap(),
    )
}

fn ctx<'a>(rcpts: &'a [String], auth_user: Option<&'a str>) -> Context<'a> {
    Context {
        queue_id: "Q1",
        client_ip: "198.51.100.7".parse().unwrap(),
        helo: "mail.example.com",
        mail_from: "alice@example.com",
        rcpts,
        auth_user,
        auth: None,
    }
}

fn spam_field(fields: &str) -> Option<String> {
    let start = fields.find("X-Mailward-Spam:")?;
    let rest = &fields[start..];
    let end = rest.find("\r\n").unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

#[tokio::test]
async fn a_clean_note_is_marked_no_with_score_zero() {
    let dir = tempfile::tempdir().unwrap();
    let g = gateway(&dir);
    let rcpts = vec!["bob@example.org".to_owned()];
    let raw = CLEAN.replace("DATE", &chrono::Utc::now().to_rfc2822());
    let i = g
        .inspect(&ctx(&rcpts, None), raw.as_bytes(), &Scope::message("Q1"))
        .await;
    assert_eq!(i.verdict.action, Action::Accept);
    assert_eq!(
        spam_field(&i.fields).as_deref(),
        Some("X-Mailward-Spam: no, score=0.0"),
        "{}",
        i.fields
    );
    assert!(i.message.is_none(), "a clean message is queued as it came");
}

#[tokio::test]
async fn advance_fee_fraud_goes_to_junk_with_its_rules_listed() {
    let dir = tempfile::tempdir().unwrap();
    let g = gateway(&dir);
    let rcpts = vec!["bob@example.org".to_owned()];
    let i = g
        .inspect(&ctx(&rcpts, None), SPAM.as_bytes(), &Scope::message("Q1"))
        .await;
    assert_eq!(i.verdict.action, Action::Junk, "{:?}", i.findings);
    let field = spam_field(&i.fields).unwrap();
    assert!(
        field.starts_with("X-Mailward-Spam: yes, score="),
        "{}",
        i.fields
    );
    for rule in [
        "subject_all_caps",
        "from_name_other_address",
        "body_many_spam_words",
    ] {
        assert!(i.fields.contains(rule), "{rule} in {}", i.fields);
    }
}

#[tokio::test]
async fn mail_our_users_submit_is_not_scored() {
    let dir = tempfile::tempdir().unwrap();
    let g = gateway(&dir);
    let rcpts = vec!["bob@example.org".to_owned()];
    let i = g
        .inspect(
            &ctx(&rcpts, Some("alice")),
            SPAM.as_bytes(),
            &Scope::message("Q1"),
        )
        .await;
    assert_eq!(i.verdict.action, Action::Accept);
    assert!(spam_field(&i.fields).is_none(), "{}", i.fields);
}
