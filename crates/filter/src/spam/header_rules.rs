//! Rules on the message header: the fields RFC 5322 asks for, their plausibility, and the
//! habits of bulk senders who do not want to be found.

use super::table;
use super::words;
use crate::context::Context;
use crate::verdict::Finding;
use mail_parser::{Address, HeaderName, HeaderValue, Message};
use mailward_trace::domains::{address_domain, organizational_domain};

/// A Date this far ahead of our clock is not a clock skew (seconds).
const FUTURE_SLACK: i64 = 24 * 3600;
/// A Date this far behind our clock is not a slow queue (seconds): mail retried for the
/// longest usual queue lifetime (5 days) is still younger.
const PAST_SLACK: i64 = 30 * 24 * 3600;
/// Visible recipients from which a message is a mass mailing with the list shown.
const MANY_VISIBLE: usize = 20;
/// Envelope recipients from which a message with hidden recipients counts as bulk.
const MANY_HIDDEN: usize = 5;

/// Runs the header rules on the parsed header (`None`: the message has none mail-parser
/// could read).
pub fn check(header: Option<&Message<'_>>, ctx: &Context<'_>, now: i64, out: &mut Vec<Finding>) {
    check_helo(ctx, out);
    let Some(m) = header else {
        out.push(table::NO_HEADER.hit("the message has no header"));
        return;
    };
    check_from(m, out);
    check_date(m, now, out);
    if m.message_id().is_none() {
        // RFC 5322 §3.6.4: every message SHOULD have a Message-ID.
        out.push(table::MISSING_MESSAGE_ID.hit("no Message-ID"));
    }
    check_subject(m, out);
    check_reply_to(m, out);
    check_bulk(m, out);
    check_recipients(m, ctx, out);
}

/// RFC 5321 §4.1.1.1: the EHLO argument is the client's fully qualified domain name, or an
/// address literal when it has none.
fn check_helo(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let helo = ctx.helo.trim();
    if helo.is_empty() || helo.starts_with('[') {
        return;
    }
    if !helo.trim_end_matches('.').contains('.') {
        out.push(table::HELO_NOT_FQDN.hit(format!(
            "the client greeted as {}, not a domain name",
            clip(helo, 64)
        )));
    }
}

/// RFC 5322 §3.6.2: From is required. A display name that carries an address of another
/// domain shows the reader a sender that is not the one in the address.
fn check_from(m: &Message<'_>, out: &mut Vec<Finding>) {
    let Some(from) = m.from().and_then(Address::first) else {
        out.push(table::MISSING_FROM.hit("no From address"));
        return;
    };
    let (Some(name), Some(address)) = (from.name(), from.address()) else {
        return;
    };
    let Some(shown) = address_in(name) else {
        return;
    };
    let (Some(shown_domain), Some(real_domain)) = (address_domain(&shown), address_domain(address))
    else {
        return;
    };
    if organizational_domain(&shown_domain) != organizational_domain(&real_domain) {
        out.push(table::FROM_NAME_OTHER_ADDRESS.hit(format!(
            "the From name shows {} but the address is {}",
            clip(&shown, 100),
            clip(address, 100)
        )));
    }
}

/// The first `local@domain.tld` token of `text`.
fn address_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '(' | ')'))
        .find(|w| {
            w.split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.ends_with('.'))
        })
        .map(|w| w.trim_end_matches([',', ';', ':']).to_ascii_lowercase())
}

/// RFC 5322 §3.6.1: the origination date is required; one days ahead of our clock, or
/// months behind it, was not written when the message was sent.
fn check_date(m: &Message<'_>, now: i64, out: &mut Vec<Finding>) {
    let Some(raw) = m.header_raw(HeaderName::Date) else {
        out.push(table::MISSING_DATE.hit("no Date"));
        return;
    };
    let Some(date) = m.date().filter(|d| d.is_valid()) else {
        out.push(table::INVALID_DATE.hit(format!(
            "the Date {} is not an RFC 5322 date",
            clip(raw.trim(), 60)
        )));
        return;
    };
    let t = date.to_timestamp();
    if t > now.saturating_add(FUTURE_SLACK) {
        out.push(
            table::DATE_IN_FUTURE.hit(format!("the Date is {} hours ahead", (t - now) / 3600)),
        );
    } else if t < now.saturating_sub(PAST_SLACK) {
        out.push(table::DATE_IN_PAST.hit(format!(
            "the Date is {} days old",
            now.saturating_sub(t) / 86400
        )));
    }
}

fn check_subject(m: &Message<'_>, out: &mut Vec<Finding>) {
    let Some(subject) = m.subject().map(str::trim).filter(|s| !s.is_empty()) else {
        out.push(table::MISSING_SUBJECT.hit("no Subject"));
        return;
    };
    let letters = subject.chars().filter(|c| c.is_alphabetic()).count();
    let upper = subject.chars().filter(|c| c.is_uppercase()).count();
    let lower = subject.chars().filter(|c| c.is_lowercase()).count();
    if letters >= 10 && lower == 0 && upper >= 10 {
        out.push(table::SUBJECT_ALL_CAPS.hit("the Subject is in capitals"));
    }
    let bangs = subject.chars().filter(|c| *c == '!').count();
    if bangs >= 3 {
        out.push(table::SUBJECT_EXCLAMATIONS.hit(format!("{bangs} '!' in the Subject")));
    }
    let found = words::spam_phrases(subject, 3);
    if !found.is_empty() {
        out.push(
            table::SUBJECT_SPAM_WORDS.hit(format!("the Subject says \"{}\"", found.join("\", \""))),
        );
    }
}

/// Replies going to an organisation other than the sender's: common in phishing that wants
/// the answer, also in mail sent on someone's behalf (worth little alone). Replies to a free
/// mail provider are the content checks' (`reply_to_freemail`).
fn check_reply_to(m: &Message<'_>, out: &mut Vec<Finding>) {
    let from = m.from().and_then(Address::first).and_then(|a| a.address());
    let reply = m
        .reply_to()
        .and_then(Address::first)
        .and_then(|a| a.address());
    let (Some(from_domain), Some(reply_domain)) = (
        from.and_then(address_domain),
        reply.and_then(address_domain),
    ) else {
        return;
    };
    let (from_org, reply_org) = (
        organizational_domain(&from_domain),
        organizational_domain(&reply_domain),
    );
    if from_org != reply_org && !mailward_trace::content::is_freemail(&reply_org) {
        out.push(table::REPLY_TO_OTHER_DOMAIN.hit(format!(
            "replies go to {reply_org}, the sender is {from_org}"
        )));
    }
}

/// Bulk mail marks itself (`Precedence: bulk`, RFC 2076 §3.9; `List-Id`, RFC 2919;
/// `Feedback-ID`), and a sender of bulk mail who lets nobody leave (RFC 2369 §3.2
/// `List-Unsubscribe`, RFC 8058 one-click) is not one people asked for.
fn check_bulk(m: &Message<'_>, out: &mut Vec<Finding>) {
    let precedence = m
        .header_raw("Precedence")
        .map(|p| p.trim().to_ascii_lowercase());
    let bulk = matches!(precedence.as_deref(), Some("bulk" | "list" | "junk"))
        || has(m, "List-Id")
        || has(m, "Feedback-ID")
        || has(m, "X-Campaign-Id")
        || has(m, "X-Mailgun-Campaign-Id");
    if bulk && !has(m, "List-Unsubscribe") {
        out.push(table::BULK_WITHOUT_UNSUBSCRIBE.hit("bulk mail without List-Unsubscribe"));
    }
}

fn has(m: &Message<'_>, name: &str) -> bool {
    m.header_raw(name).is_some()
}

/// Recipients hidden (`To: undisclosed-recipients:;`, or no To at all) or hundreds shown.
fn check_recipients(m: &Message<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let visible = count_addresses(m.to()) + count_addresses(m.cc());
    // RFC 5322 §3.6.3: To may be absent or an empty group when the recipients are hidden.
    let to_hidden = match m.header(HeaderName::To) {
        None | Some(HeaderValue::Empty) => true,
        Some(_) => count_addresses(m.to()) == 0,
    };
    if to_hidden && visible == 0 {
        out.push(table::TO_UNDISCLOSED.hit("the recipients are not shown"));
        if ctx.rcpts.len() >= MANY_HIDDEN {
            out.push(
                table::UNDISCLOSED_MANY_RECIPIENTS
                    .hit(format!("{} recipients, none shown", ctx.rcpts.len())),
            );
        }
    }
    if visible >= MANY_VISIBLE {
        out.push(table::MANY_VISIBLE_RECIPIENTS.hit(format!("{visible} recipients shown")));
    }
}

fn count_addresses(a: Option<&Address<'_>>) -> usize {
    a.map(|a| a.iter().filter(|a| a.address().is_some()).count())
        .unwrap_or(0)
}

/// `s` cut to `n` characters for a detail line.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(n).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spam::tests::{codes_of, ctx_for};

    const NOW: i64 = 1_795_000_000; // 2026-11-18

    fn run(raw: &str) -> Vec<&'static str> {
        let m = mail_parser::MessageParser::new().parse_headers(raw.as_bytes());
        let rcpts = vec!["bob@example.org".to_owned()];
        let ctx = ctx_for(&rcpts);
        let mut out = Vec::new();
        check(m.as_ref(), &ctx, NOW, &mut out);
        codes_of(&out)
    }

    const GOOD: &str = "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\n\
Subject: lunch on friday\r\nDate: Wed, 18 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <1@example.com>\r\n\r\nhi\r\n";

    #[test]
    fn an_ordinary_header_matches_nothing() {
        assert_eq!(run(GOOD), Vec::<&str>::new());
    }

    #[test]
    fn missing_fields_are_named() {
        let codes = run("To: bob@example.org\r\nSubject: x y\r\n\r\nhi\r\n");
        for c in ["missing_from", "missing_date", "missing_message_id"] {
            assert!(codes.contains(&c), "{codes:?}");
        }
    }

    #[test]
    fn dates_far_ahead_or_behind_or_broken() {
        let ahead = GOOD.replace("18 Nov 2026", "25 Nov 2026");
        assert_eq!(run(&ahead), vec!["date_in_future"]);
        let old = GOOD.replace("18 Nov 2026", "18 Nov 2020");
        assert_eq!(run(&old), vec!["date_in_past"]);
        let broken = GOOD.replace("Wed, 18 Nov 2026 10:00:00 +0000", "yesterday");
        assert_eq!(run(&broken), vec!["invalid_date"]);
    }

    #[test]
    fn a_display_name_with_another_address() {
        let forged = GOOD.replace(
            "From: Alice <alice@example.com>",
            "From: \"service@paypal.com\" <x@mailer.example.net>",
        );
        assert_eq!(run(&forged), vec!["from_name_other_address"]);
        let same = GOOD.replace(
            "From: Alice <alice@example.com>",
            "From: \"alice@example.com\" <alice@mail.example.com>",
        );
        assert_eq!(run(&same), Vec::<&str>::new());
    }

    #[test]
    fn shouting_subjects_and_spam_words() {
        let caps = GOOD.replace("lunch on friday", "IMPORTANT NOTICE FOR ALL STAFF");
        assert_eq!(run(&caps), vec!["subject_all_caps"]);
        let bangs = GOOD.replace("lunch on friday", "Great news!!!");
        assert_eq!(run(&bangs), vec!["subject_exclamations"]);
        let words = GOOD.replace("lunch on friday", "You have won a free gift");
        assert_eq!(run(&words), vec!["subject_spam_words"]);
    }

    #[test]
    fn reply_to_another_organisation() {
        let other = GOOD.replace("To: bob", "Reply-To: pay@collect.example.net\r\nTo: bob");
        assert_eq!(run(&other), vec!["reply_to_other_domain"]);
        let same = GOOD.replace("To: bob", "Reply-To: sales@mail.example.com\r\nTo: bob");
        assert_eq!(run(&same), Vec::<&str>::new());
    }

    #[test]
    fn bulk_needs_a_way_out() {
        let bulk = GOOD.replace("To: bob", "Precedence: bulk\r\nTo: bob");
        assert_eq!(run(&bulk), vec!["bulk_without_unsubscribe"]);
        let fair = GOOD.replace(
            "To: bob",
            "Precedence: bulk\r\nList-Unsubscribe: <https://example.com/u>\r\nTo: bob",
        );
        assert_eq!(run(&fair), Vec::<&str>::new());
    }

    #[test]
    fn hidden_and_crowded_recipients() {
        let hidden = GOOD.replace("To: bob@example.org", "To: undisclosed-recipients:;");
        assert_eq!(run(&hidden), vec!["to_undisclosed"]);
        let many: Vec<String> = (0..25).map(|i| format!("u{i}@example.org")).collect();
        let crowded = GOOD.replace("To: bob@example.org", &format!("To: {}", many.join(", ")));
        assert_eq!(run(&crowded), vec!["many_visible_recipients"]);
    }
}
