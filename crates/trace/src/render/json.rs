//! The `--json` line of a [`Report`], written directly into a byte buffer.
//!
//! The output is byte for byte what `serde_json::to_writer` makes of the report's
//! `Serialize` derive (field order, `null` for `None`, serde_json's string escaping), but
//! about twice as fast: keys are constants, numbers skip `core::fmt`, and strings are
//! scanned eight bytes at a time for the few bytes JSON must escape. JSON output is most of
//! the work left once a message is analysed, so this matters for `trace` throughput.
//! A test checks the equivalence against serde_json on every fixture and on random text.

use crate::report::{
    Alignment, AttachmentReport, AuthResult, Authentication, ContentReport, DkimSignature,
    DsnRecipient, DsnReport, Evidence, Finding, Geo, Hop, LinkReport, MessageInfo, Origin,
    Provider, Report, ReturnedMessage, Severity, TrustBoundary, Verdict,
};
use mailward_message::IpClass;
use std::net::IpAddr;

/// Appends `report` as one JSON object (no newline).
pub fn write_report(report: &Report, out: &mut Vec<u8>) {
    report.write_json(out);
}

/// A value that can write itself as JSON exactly as its `Serialize` impl would through
/// serde_json's compact formatter.
trait WriteJson {
    fn write_json(&self, out: &mut Vec<u8>);
}

/// Writes one JSON object, `{"a":..,"b":..}`, from `"name" => value` pairs. Each key
/// with its quotes, colon and separating comma is one constant, copied in one go. Names
/// are the report's field names: plain ASCII that needs no escaping.
macro_rules! object {
    ($out:expr, $first:literal => $value:expr $(, $name:literal => $rest:expr)* $(,)?) => {{
        let out: &mut Vec<u8> = $out;
        out.extend_from_slice(concat!("{\"", $first, "\":").as_bytes());
        WriteJson::write_json($value, out);
        $(
            out.extend_from_slice(concat!(",\"", $name, "\":").as_bytes());
            WriteJson::write_json($rest, out);
        )*
        out.push(b'}');
    }};
}

impl WriteJson for str {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_str(self, out);
    }
}

impl WriteJson for String {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_str(self, out);
    }
}

impl WriteJson for bool {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
    }
}

impl WriteJson for usize {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_u64(*self as u64, out);
    }
}

impl WriteJson for u32 {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_u64(u64::from(*self), out);
    }
}

impl WriteJson for i64 {
    fn write_json(&self, out: &mut Vec<u8>) {
        if *self < 0 {
            out.push(b'-');
        }
        write_u64(self.unsigned_abs(), out);
    }
}

impl WriteJson for IpAddr {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        match self {
            IpAddr::V4(v4) => {
                for (i, octet) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    write_u64(u64::from(octet), out);
                }
            }
            // The Display form (RFC 5952) is ASCII hex digits, `:` and `.`: nothing to escape.
            IpAddr::V6(v6) => {
                use std::io::Write as _;
                let _ = write!(out, "{v6}");
            }
        }
        out.push(b'"');
    }
}

impl WriteJson for IpClass {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_str(self.as_str(), out);
    }
}

impl WriteJson for Severity {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_str(self.as_str(), out);
    }
}

impl<T: WriteJson> WriteJson for Option<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Some(v) => v.write_json(out),
            None => out.extend_from_slice(b"null"),
        }
    }
}

impl<T: WriteJson> WriteJson for [T] {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            item.write_json(out);
        }
        out.push(b']');
    }
}

impl<T: WriteJson> WriteJson for Vec<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        self.as_slice().write_json(out);
    }
}

impl<A: WriteJson, B: WriteJson> WriteJson for (A, B) {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        self.0.write_json(out);
        out.push(b',');
        self.1.write_json(out);
        out.push(b']');
    }
}

impl WriteJson for Report {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "source" => &self.source,
            "message" => &self.message,
            "hops" => &self.hops,
            "trust" => &self.trust,
            "origin" => &self.origin,
            "provider" => &self.provider,
            "authentication" => &self.authentication,
            "findings" => &self.findings,
            "warnings" => &self.warnings,
            "verdict" => &self.verdict,
            "verdict_findings" => &self.verdict_findings,
            "content" => &self.content,
            "dsn" => &self.dsn,
        );
    }
}

impl WriteJson for DsnReport {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "kind" => &self.kind,
            "reporting_mta" => &self.reporting_mta,
            "dsn_gateway" => &self.dsn_gateway,
            "received_from_mta" => &self.received_from_mta,
            "arrival_date" => &self.arrival_date,
            "original_envelope_id" => &self.original_envelope_id,
            "queue_id" => &self.queue_id,
            "queue_id_field" => &self.queue_id_field,
            "recipients" => &self.recipients,
            "recipients_omitted" => &self.recipients_omitted,
            "truncated" => &self.truncated,
            "returned" => &self.returned,
        );
    }
}

impl WriteJson for DsnRecipient {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "final_recipient" => &self.final_recipient,
            "original_recipient" => &self.original_recipient,
            "action" => &self.action,
            "status" => &self.status,
            "status_class" => &self.status_class,
            "status_meaning" => &self.status_meaning,
            "remote_mta" => &self.remote_mta,
            "diagnostic_code" => &self.diagnostic_code,
            "last_attempt_date" => &self.last_attempt_date,
            "will_retry_until" => &self.will_retry_until,
            "final_log_id" => &self.final_log_id,
        );
    }
}

impl WriteJson for ReturnedMessage {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "content" => &self.content,
            "message" => &self.message,
            "hops" => &self.hops,
            "trust" => &self.trust,
            "origin" => &self.origin,
        );
    }
}

impl WriteJson for MessageInfo {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "subject" => &self.subject,
            "from" => &self.from,
            "from_address" => &self.from_address,
            "to" => &self.to,
            "date" => &self.date,
            "message_id" => &self.message_id,
            "return_path" => &self.return_path,
            "reply_to" => &self.reply_to,
            "sender" => &self.sender,
            "header_bytes" => &self.header_bytes,
        );
    }
}

impl WriteJson for Hop {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "index" => &self.index,
            "from_host" => &self.from_host,
            "from_rdns" => &self.from_rdns,
            "from_ip" => &self.from_ip,
            "ip_class" => &self.ip_class,
            "by_host" => &self.by_host,
            "by_ip" => &self.by_ip,
            "via" => &self.via,
            "protocol" => &self.protocol,
            "id" => &self.id,
            "for" => &self.for_addr,
            "tls" => &self.tls,
            "authenticated" => &self.authenticated,
            "timestamp" => &self.timestamp,
            "timestamp_unix" => &self.timestamp_unix,
            "delay_seconds" => &self.delay_seconds,
            "trusted" => &self.trusted,
            "geo" => &self.geo,
            "raw" => &self.raw,
            "parse_error" => &self.parse_error,
        );
    }
}

impl WriteJson for TrustBoundary {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "trusted_hops" => &self.trusted_hops,
            "oldest_trusted_hop" => &self.oldest_trusted_hop,
            "reason" => &self.reason,
        );
    }
}

impl WriteJson for Origin {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "ip" => &self.ip,
            "ip_class" => &self.ip_class,
            "host" => &self.host,
            "hop" => &self.hop,
            "source" => &self.source,
            "reason" => &self.reason,
            "geo" => &self.geo,
        );
    }
}

impl WriteJson for Provider {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "name" => &self.name,
            "evidence" => &self.evidence,
        );
    }
}

impl WriteJson for Geo {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "country" => &self.country,
            "country_name" => &self.country_name,
            "city" => &self.city,
            "asn" => &self.asn,
            "as_org" => &self.as_org,
        );
    }
}

impl WriteJson for Authentication {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "results" => &self.results,
            "received_spf" => &self.received_spf,
            "dkim_signatures" => &self.dkim_signatures,
            "spf" => &self.spf,
            "dkim" => &self.dkim,
            "dmarc" => &self.dmarc,
            "arc" => &self.arc,
            "alignment" => &self.alignment,
            "verified" => &self.verified,
        );
    }
}

impl WriteJson for AuthResult {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "authserv_id" => &self.authserv_id,
            "method" => &self.method,
            "result" => &self.result,
            "properties" => &self.properties,
            "header" => &self.header,
            "ours" => &self.ours,
        );
    }
}

impl WriteJson for DkimSignature {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "domain" => &self.domain,
            "selector" => &self.selector,
            "algorithm" => &self.algorithm,
            "timestamp" => &self.timestamp,
            "headers" => &self.headers,
            "result" => &self.result,
        );
    }
}

impl WriteJson for Alignment {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "from_domain" => &self.from_domain,
            "organizational_domain" => &self.organizational_domain,
            "spf_domain" => &self.spf_domain,
            "spf_aligned" => &self.spf_aligned,
            "dkim_domains" => &self.dkim_domains,
            "dkim_aligned" => &self.dkim_aligned,
        );
    }
}

impl WriteJson for Finding {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "code" => self.code,
            "severity" => &self.severity,
            "message" => &self.message,
            "evidence" => &self.evidence,
        );
    }
}

impl WriteJson for &'static str {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_str(self, out);
    }
}

impl WriteJson for Verdict {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_str(self.as_str(), out);
    }
}

impl WriteJson for Evidence {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "kind" => self.kind,
            "text" => &self.text,
            "target" => &self.target,
            "domain" => &self.domain,
        );
    }
}

impl WriteJson for ContentReport {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "parts" => &self.parts,
            "truncated" => &self.truncated,
            "links" => &self.links,
            "attachments" => &self.attachments,
        );
    }
}

impl WriteJson for LinkReport {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "source" => self.source,
            "text" => &self.text,
            "target" => &self.target,
            "domain" => &self.domain,
            "why" => &self.why,
        );
    }
}

impl WriteJson for AttachmentReport {
    fn write_json(&self, out: &mut Vec<u8>) {
        object!(
            out,
            "name" => &self.name,
            "content_type" => &self.content_type,
            "size" => &self.size,
            "why" => &self.why,
        );
    }
}

/// Decimal digits of `n`.
fn write_u64(mut n: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        if let Some(slot) = buf.get_mut(at) {
            // `n % 10` is below 10, so the cast cannot truncate.
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    out.extend_from_slice(buf.get(at..).unwrap_or_default());
}

/// Bytes JSON requires escaped (RFC 8259 §7): `"`, `\` and the C0 controls. For each, the
/// letter of its short escape, `u` for `\u00XX`, or 0 for a byte written as it is; the
/// table is serde_json's, so both write the same text.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// A mask with the high bit set in each byte of `word` (little-endian: byte 0 is the
/// lowest) that JSON must escape: below 0x20, `"` or `\`. The SWAR tests of "Bit
/// Twiddling Hacks" can also flag a byte just above a flagged one (a borrow carries into
/// it), but never one below, so the lowest set bit is always exact, and that is the only
/// one used.
fn escape_mask(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let has_quote = quote.wrapping_sub(ONES) & !quote;
    let has_backslash = backslash.wrapping_sub(ONES) & !backslash;
    (below_space | has_quote | has_backslash) & HIGH
}

/// The 8 bytes of `bytes` from `at` as a little-endian word, padded with spaces (which
/// need no escaping) past the end.
fn word_at(bytes: &[u8], at: usize) -> u64 {
    let mut chunk = [b' '; 8];
    let rest = bytes.get(at..).unwrap_or_default();
    let n = rest.len().min(8);
    if let (Some(dst), Some(src)) = (chunk.get_mut(..n), rest.get(..n)) {
        dst.copy_from_slice(src);
    }
    u64::from_le_bytes(chunk)
}

/// `s` as a JSON string, quotes included, escaped exactly as serde_json does.
fn write_str(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Start of the run of bytes not yet copied.
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        let word = match bytes
            .get(i..i + 8)
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
        {
            Some(chunk) => u64::from_le_bytes(chunk),
            None => word_at(bytes, i),
        };
        let mask = escape_mask(word);
        if mask == 0 {
            i += 8;
            continue;
        }
        // The first byte to escape: the lowest flagged byte of the word.
        i += (mask.trailing_zeros() / 8) as usize;
        let Some(&b) = bytes.get(i) else { break };
        let escape = ESCAPE.get(usize::from(b)).copied().unwrap_or(0);
        if escape == 0 {
            i += 1;
            continue;
        }
        out.extend_from_slice(bytes.get(run..i).unwrap_or_default());
        if escape == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xF)]);
        } else {
            out.push(b'\\');
            out.push(escape);
        }
        i += 1;
        run = i;
    }
    out.extend_from_slice(bytes.get(run..).unwrap_or_default());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same_as_serde(s: &str) {
        let mut ours = Vec::new();
        write_str(s, &mut ours);
        let theirs = serde_json::to_vec(s).expect("serialise");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }

    #[test]
    fn strings_escape_like_serde_json() {
        for s in [
            "",
            "plain",
            "a\"b\\c",
            "tab\there\r\nnext line",
            "\u{0}\u{1}\u{8}\u{b}\u{c}\u{1f}\u{7f} ctl",
            "über \u{202E} bidi",
            "exactly8",
            "sixteen bytes!!!",
            "\"\"\"\"\"\"\"\"\"",
            "from mail.example.com ([203.0.113.7]:49778)\n\tby mx.corp.example",
        ] {
            same_as_serde(s);
        }
        // Every byte value that can stand alone in a str.
        for b in 0u8..0x80 {
            same_as_serde(&format!("ab{}cdefghij", b as char));
        }
    }

    #[test]
    fn the_escape_mask_flags_exactly_the_first_byte_to_escape() {
        for b in 0u8..=255 {
            for at in 0..8 {
                let mut chunk = [b'a'; 8];
                chunk[at] = b;
                let mask = escape_mask(u64::from_le_bytes(chunk));
                let escapes = ESCAPE[usize::from(b)] != 0;
                assert_eq!(mask != 0, escapes, "byte {b:#x} at {at}");
                if escapes {
                    assert_eq!(mask.trailing_zeros() / 8, at as u32);
                }
            }
        }
    }

    #[test]
    fn numbers_and_ips_match_serde_json() {
        for n in [0u64, 7, 10, 99, 100, 1_704_069_210, u64::MAX] {
            let mut ours = Vec::new();
            write_u64(n, &mut ours);
            assert_eq!(ours, serde_json::to_vec(&n).expect("n"));
        }
        for n in [i64::MIN, -3600, -1, 0, 1, i64::MAX] {
            let mut ours = Vec::new();
            n.write_json(&mut ours);
            assert_eq!(ours, serde_json::to_vec(&n).expect("n"));
        }
        for ip in [
            "0.0.0.0",
            "203.0.113.7",
            "255.255.255.255",
            "::1",
            "2603:10a6:208:15d::1",
            "::ffff:1.2.3.4",
        ] {
            let ip: IpAddr = ip.parse().expect("ip");
            let mut ours = Vec::new();
            ip.write_json(&mut ours);
            assert_eq!(ours, serde_json::to_vec(&ip).expect("ip"));
        }
    }

    #[test]
    fn a_full_report_matches_serde_json() {
        let report = Report {
            source: "box#1".into(),
            message: MessageInfo {
                subject: Some("Ärger \"quoted\"\n".into()),
                to: vec!["a@b.example".into(), "c@d.example".into()],
                header_bytes: 1207,
                ..Default::default()
            },
            hops: vec![
                Hop {
                    index: 1,
                    from_ip: Some("10.0.0.1".parse().expect("ip")),
                    ip_class: Some(IpClass::Private),
                    timestamp_unix: Some(-5),
                    geo: Some(Geo {
                        country: Some("DE".into()),
                        asn: Some(3320),
                        ..Default::default()
                    }),
                    raw: "from x\r\n\tby y".into(),
                    ..Default::default()
                },
                Hop::default(),
            ],
            origin: Some(Origin::default()),
            provider: Some(Provider {
                name: "Gmail".into(),
                evidence: "google.com".into(),
            }),
            authentication: Authentication {
                results: vec![AuthResult {
                    properties: vec![("header.d".into(), "example.com".into())],
                    ..Default::default()
                }],
                dkim_signatures: vec![DkimSignature {
                    headers: vec!["from".into()],
                    ..Default::default()
                }],
                alignment: Some(Alignment::default()),
                ..Default::default()
            },
            findings: vec![Finding {
                code: "lookalike-domain",
                severity: Severity::Critical,
                message: "m".into(),
                evidence: vec![Evidence {
                    kind: "link",
                    text: Some("www.paypal.com".into()),
                    target: Some("https://x.example/\"".into()),
                    domain: None,
                }],
            }],
            verdict: Verdict::PhishingLikely,
            verdict_findings: vec!["lookalike-domain"],
            content: Some(ContentReport {
                parts: 3,
                truncated: false,
                links: vec![LinkReport {
                    source: "href",
                    text: "t".into(),
                    target: "https://x.example/".into(),
                    domain: Some("x.example".into()),
                    why: vec!["ip-link"],
                }],
                attachments: vec![AttachmentReport {
                    name: None,
                    content_type: "text/html".into(),
                    size: 5,
                    why: Vec::new(),
                }],
            }),
            warnings: vec!["w\u{1}".into()],
            dsn: Some(DsnReport {
                kind: "delivery-status".into(),
                reporting_mta: Some("mx.a.example".into()),
                queue_id: Some("Q\"1".into()),
                recipients: vec![
                    DsnRecipient {
                        final_recipient: Some("b@b.example".into()),
                        action: Some("failed".into()),
                        status: Some("5.1.1".into()),
                        status_meaning: Some("bad destination mailbox address".into()),
                        ..Default::default()
                    },
                    DsnRecipient::default(),
                ],
                recipients_omitted: 3,
                returned: Some(ReturnedMessage {
                    content: "headers".into(),
                    hops: vec![Hop::default()],
                    origin: Some(Origin::default()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut ours = Vec::new();
        write_report(&report, &mut ours);
        let theirs = serde_json::to_vec(&report).expect("serialise");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }

    proptest! {
        #[test]
        fn any_string_escapes_like_serde_json(s in any::<String>()) {
            let mut ours = Vec::new();
            write_str(&s, &mut ours);
            prop_assert_eq!(ours, serde_json::to_vec(&s).expect("serialise"));
        }

        #[test]
        fn control_heavy_strings_escape_like_serde_json(s in "[\\x00-\\x3f\\\\\"é€]{0,40}") {
            let mut ours = Vec::new();
            write_str(&s, &mut ours);
            prop_assert_eq!(ours, serde_json::to_vec(&s).expect("serialise"));
        }
    }
}
