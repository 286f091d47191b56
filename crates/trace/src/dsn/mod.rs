//! Delivery status notifications (RFC 3464; RFC 6533 for the internationalised form) read
//! as what they are: who reported, what happened to each recipient and why (the RFC 3463
//! status in words), and where the returned message had gone (its own hop chain).
//!
//! A report is a `multipart/report` (RFC 6522, formerly RFC 3462) whose parts are a text
//! for people, the `message/delivery-status` fields ([`fields`]) and the original message
//! or its header. Everything in it was written by whoever sent the bounce, so the reading
//! is bounded: the MIME parse is mail-parser's (it never panics), the fields are read within
//! [`fields::Limits`], the returned header within [`MAX_RETURNED_HEADER`].

pub mod fields;
pub mod status;

use crate::analyze::{canonical_header_name, message_info};
use crate::headers;
use crate::hops::build_hops;
use crate::report::{DsnRecipient, DsnReport, ReturnedMessage};
use crate::trust::{self, ORIGINATING_IP_HEADERS, find_origin, mark_trust};
use fields::{Field, get};
use mail_parser::{Encoding, MessageParser, MimeHeaders, PartType};
use mailward_message::datetime;
use status::StatusCode;

/// Bytes of a message parsed when looking for the report's parts (the content pass's
/// bound).
const MAX_MESSAGE_BYTES: usize = 12 << 20;
/// MIME parts looked at.
const MAX_PARTS: usize = 100;
/// Bytes of the returned message's header block read.
pub const MAX_RETURNED_HEADER: usize = 256 << 10;
/// `Received:` headers of the returned message made hops.
const MAX_RETURNED_HOPS: usize = 100;

/// True when a `Content-Type` value is `multipart/report` (RFC 6522 §3): only then is the
/// message parsed as a report.
pub fn is_report(content_type: &str) -> bool {
    content_type
        .trim_start()
        .get(..16)
        .is_some_and(|t| t.eq_ignore_ascii_case("multipart/report"))
}

/// The report in `raw` (a whole message whose type is `multipart/report`), and notes on
/// what could not be read. None when it has no delivery-status part (a disposition
/// notification, RFC 8098, or another kind of report).
pub fn read(raw: &[u8]) -> Option<(DsnReport, Vec<String>)> {
    let raw = raw.get(..MAX_MESSAGE_BYTES).unwrap_or(raw);
    let message = MessageParser::default().parse(raw)?;
    // (part index, kind, body) of each delivery-status part, and (part index, content,
    // bytes) of each returned message or header.
    let mut statuses: Vec<(usize, &'static str, &[u8])> = Vec::new();
    let mut returned: Vec<(usize, &'static str, &[u8])> = Vec::new();
    for (i, part) in message.parts.iter().enumerate().take(MAX_PARTS) {
        let Some(ctype) = part.content_type() else {
            continue;
        };
        let main = ctype.ctype();
        let sub = ctype.subtype().unwrap_or("");
        let body: &[u8] = match &part.body {
            PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
            PartType::Binary(b) | PartType::InlineBinary(b) => b,
            // A message part parsed in place lies in `raw` as it was sent; an encoded one
            // (RFC 6532 §3.5 lets message/global be) was parsed from its decoded bytes.
            PartType::Message(nested) => match part.encoding {
                Encoding::None => raw
                    .get(part.offset_body as usize..part.offset_end as usize)
                    .unwrap_or_default(),
                _ => nested.raw_message(),
            },
            PartType::Multipart(_) => continue,
        };
        let is = |m: &str, s: &str| main.eq_ignore_ascii_case(m) && sub.eq_ignore_ascii_case(s);
        // RFC 3464 §2.1 and RFC 6533 §6.3.
        if is("message", "delivery-status") {
            statuses.push((i, "delivery-status", body));
        } else if is("message", "global-delivery-status") {
            statuses.push((i, "global-delivery-status", body));
        // RFC 3462 §2 (third part), RFC 6533 §6.4 and §6.5.
        } else if is("message", "rfc822") || is("message", "global") {
            returned.push((i, "message", body));
        } else if is("text", "rfc822-headers") || is("message", "global-headers") {
            returned.push((i, "headers", body));
        }
    }
    let limits = fields::Limits::default();
    let mut notes = Vec::new();
    // Some MTAs label a prose part `message/delivery-status` too: the first part with
    // fields is the report.
    let (status_at, kind, groups) = statuses
        .iter()
        .map(|&(i, kind, body)| (i, kind, fields::read(body, &limits)))
        .find(|(_, _, g)| !g.groups.is_empty())
        .or_else(|| {
            statuses
                .first()
                .map(|&(i, kind, _)| (i, kind, fields::Groups::default()))
        })?;
    let mut report = DsnReport {
        kind: kind.to_string(),
        recipients_omitted: groups.omitted,
        truncated: groups.truncated,
        ..Default::default()
    };
    if groups.groups.is_empty() {
        notes.push("the delivery-status part of the report holds no fields".to_string());
    }
    let mut groups = groups.groups.into_iter().peekable();
    // RFC 3464 §2.2: the per-message fields come first; a report that starts with a
    // recipient's fields has none.
    if let Some(first) = groups.next_if(|g| !is_recipient_group(g)) {
        per_message(&first, &mut report, &mut notes);
    }
    for group in groups {
        if is_recipient_group(&group) {
            report.recipients.push(recipient(&group, &mut notes));
        }
    }
    if report.recipients_omitted > 0 {
        notes.push(format!(
            "the report names more recipients than are read: {} left out",
            report.recipients_omitted
        ));
    }
    // The returned message that follows the fields (the report's own third part), else
    // any.
    let back = returned
        .iter()
        .find(|(i, _, _)| *i > status_at)
        .or(returned.first());
    if let Some(&(_, content, bytes)) = back {
        report.returned = Some(returned_message(content, bytes, &mut notes));
    }
    Some((report, notes))
}

/// RFC 3464 §2.3: a recipient's group has `Final-Recipient` and `Action` (and `Status`);
/// one with none of them is not about a recipient.
fn is_recipient_group(group: &[Field]) -> bool {
    group.iter().any(|f| {
        matches!(
            f.name.as_str(),
            "final-recipient" | "original-recipient" | "action" | "status"
        )
    })
}

/// RFC 3464 §2.2: the per-message fields.
fn per_message(group: &[Field], report: &mut DsnReport, notes: &mut Vec<String>) {
    report.reporting_mta = get(group, "reporting-mta").map(typed_value);
    report.dsn_gateway = get(group, "dsn-gateway").map(typed_value);
    report.received_from_mta = get(group, "received-from-mta").map(typed_value);
    report.original_envelope_id = get(group, "original-envelope-id").map(str::to_string);
    report.arrival_date = date(group, "arrival-date", "Arrival-Date", notes);
    // Queue IDs are extension fields (RFC 3464 §2.4): mailward's own, then Postfix's.
    for (name, field) in [
        ("x-mailward-queue-id", "X-Mailward-Queue-ID"),
        ("x-postfix-queue-id", "X-Postfix-Queue-ID"),
    ] {
        if let Some(id) = get(group, name) {
            report.queue_id = Some(id.to_string());
            report.queue_id_field = Some(field.to_string());
            break;
        }
    }
}

/// RFC 3464 §2.3: one recipient's fields.
fn recipient(group: &[Field], notes: &mut Vec<String>) -> DsnRecipient {
    let status = get(group, "status");
    let code = status.and_then(StatusCode::parse);
    DsnRecipient {
        final_recipient: get(group, "final-recipient").map(typed_value),
        original_recipient: get(group, "original-recipient").map(typed_value),
        // §2.3.3: action-value is one of five words, case-insensitive.
        action: get(group, "action").map(|a| {
            let word = a.split(['(', ' ']).next().unwrap_or(a);
            match word.to_ascii_lowercase().as_str() {
                w @ ("failed" | "delayed" | "delivered" | "relayed" | "expanded") => w.to_string(),
                _ => a.to_string(),
            }
        }),
        status: code.map(StatusCode::to_text).or(status.map(str::to_string)),
        status_class: code.map(|c| c.class_meaning().to_string()),
        status_meaning: code.and_then(StatusCode::meaning).map(str::to_string),
        remote_mta: get(group, "remote-mta").map(typed_value),
        diagnostic_code: get(group, "diagnostic-code").map(str::to_string),
        last_attempt_date: date(group, "last-attempt-date", "Last-Attempt-Date", notes),
        will_retry_until: date(group, "will-retry-until", "Will-Retry-Until", notes),
        final_log_id: get(group, "final-log-id").map(str::to_string),
    }
}

/// An `address-type ";" address` or `mta-name-type ";" mta-name` value (RFC 3464 §2.1.2,
/// §2.2.2, §2.3.2) as people read it: the common types (`rfc822`, `utf-8` of RFC 6533
/// §3, `dns`) left out, and an address's angle brackets; other types kept as written.
fn typed_value(value: &str) -> String {
    match value.split_once(';') {
        Some((kind, rest))
            if ["rfc822", "utf-8", "dns"]
                .iter()
                .any(|k| kind.trim().eq_ignore_ascii_case(k)) =>
        {
            let rest = rest.trim();
            rest.strip_prefix('<')
                .and_then(|r| r.strip_suffix('>'))
                .unwrap_or(rest)
                .to_string()
        }
        _ => value.to_string(),
    }
}

/// A date field (RFC 3464 §2.2.5 and friends: RFC 5322 date-time) as RFC 3339 UTC; a note
/// when it does not parse.
fn date(group: &[Field], name: &str, label: &str, notes: &mut Vec<String>) -> Option<String> {
    let value = get(group, name)?;
    match datetime::parse_rfc5322_date(value) {
        Some((t, _)) => Some(datetime::format_rfc3339_utc(t)),
        None => {
            let shown: String = value.chars().take(80).collect();
            notes.push(format!("the report's {label} could not be parsed: {shown}"));
            None
        }
    }
}

/// The returned message's identity and hop chain, from its header block.
fn returned_message(content: &str, bytes: &[u8], notes: &mut Vec<String>) -> ReturnedMessage {
    let mut back = ReturnedMessage {
        content: content.to_string(),
        ..Default::default()
    };
    let bytes = bytes.get(..MAX_RETURNED_HEADER).unwrap_or(bytes);
    let head = bytes
        .get(..crate::source::header_end(bytes))
        .unwrap_or(bytes);
    let text = std::str::from_utf8(head).ok();
    let mut scratch = Vec::new();
    let Some(parsed) = headers::parse(head, text, &mut scratch) else {
        notes.push("the returned message has no header".to_string());
        return back;
    };
    back.message = message_info(&parsed.raw, parsed.decoded.as_ref(), head.len()).0;
    let received: Vec<&str> = parsed.raw.all("received").collect();
    if received.len() > MAX_RETURNED_HOPS {
        notes.push(format!(
            "the returned message has {} Received headers: the newest {MAX_RETURNED_HOPS} are shown",
            received.len()
        ));
    }
    let newest = received.get(..MAX_RETURNED_HOPS).unwrap_or(&received);
    back.hops = build_hops(newest);
    back.trust = mark_trust(&mut back.hops);
    let originating = ORIGINATING_IP_HEADERS.iter().find_map(|name| {
        parsed
            .raw
            .first(name)
            .and_then(trust::parse_originating_ip)
            .map(|ip| (canonical_header_name(name), ip))
    });
    back.origin = find_origin(&back.hops, originating);
    back
}
