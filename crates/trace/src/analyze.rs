//! The entry point: raw message bytes in, [`Report`] out. Pure and I/O-free.

use crate::authres;
use crate::content;
use crate::domains::{address_domain, organizational_domain, same_organization};
use crate::dsn;
use crate::findings::{self, Context};
use crate::headers::{self, RawHeaders};
use crate::hops::build_hops;
use crate::provider;
use crate::report::{Alignment, Authentication, MessageInfo, Report};
use crate::trust::{self, ORIGINATING_IP_HEADERS, find_origin, mark_trust};
use crate::verify::Verifier;
use mail_parser::{Address, Message};
use mailward_message::datetime;

/// Knobs for one analysis run.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// "Now" as Unix seconds, for the `future-date` finding (the caller reads the clock).
    pub now: i64,
}

/// Analyses one message (or bare header text). Never panics; problems become `warnings`.
pub fn analyze(raw: &[u8], source: &str, opts: &AnalyzeOptions) -> Report {
    analyze_with(raw, source, opts, None)
}

/// [`analyze`], and with a verifier, DKIM/ARC/DMARC (and SPF where possible) re-verified
/// before the findings are drawn, so they rest on our own verdicts.
pub fn analyze_with(
    raw: &[u8],
    source: &str,
    opts: &AnalyzeOptions,
    verifier: Option<&Verifier>,
) -> Report {
    let mut report = Report {
        source: source.to_string(),
        ..Default::default()
    };
    let header_len = header_block_len(raw);
    let head = raw.get(..header_len).unwrap_or(raw);
    report.message.header_bytes = header_len;
    let head_text = std::str::from_utf8(head).ok();
    let mut scratch = Vec::new();
    let Some(parsed) = headers::parse(head, head_text, &mut scratch) else {
        report
            .warnings
            .push("no header block found: nothing to analyse".into());
        return report;
    };
    if head_text.is_none() {
        report
            .warnings
            .push("the header block is not valid UTF-8; invalid bytes shown as U+FFFD".into());
    }
    let raw_headers = parsed.raw;
    let message = parsed.decoded.as_ref();

    // Message identity.
    let from_name = message
        .and_then(Message::from)
        .and_then(Address::first)
        .and_then(|a| a.name())
        .map(str::to_string);
    let (info, date_unix) = message_info(&raw_headers, message, header_len);
    report.message = info;
    let date_raw = raw_headers.first("date");
    if let (Some(d), None) = (date_raw, date_unix) {
        report.warnings.push(format!(
            "the Date header could not be parsed: {}",
            shorten(d)
        ));
    }

    // Hops, trust, origin.
    let received: Vec<&str> = raw_headers.all("received").collect();
    let mut hops = build_hops(&received);
    for hop in &hops {
        if let Some(err) = &hop.parse_error {
            report.warnings.push(format!(
                "Received header of hop {} is partly unparsed: {err}",
                hop.index
            ));
        }
    }
    report.trust = mark_trust(&mut hops);
    let originating = ORIGINATING_IP_HEADERS.iter().find_map(|name| {
        raw_headers
            .first(name)
            .and_then(trust::parse_originating_ip)
            .map(|ip| (canonical_header_name(name), ip))
    });
    report.origin = find_origin(&hops, originating);
    report.provider = provider::detect(
        &hops,
        report.origin.as_ref().and_then(|o| o.hop),
        &raw_headers.x_header_names(),
    );

    // Authentication.
    report.authentication = authentication(&raw_headers, &hops, &report.message);

    report.hops = hops;
    if let Some(verifier) = verifier {
        verifier.verify(raw, &mut report);
    }

    // Findings.
    let recipient_domains = recipient_domains(&report.message, &report.hops);
    let ctx = Context {
        message: &report.message,
        from_name: from_name.as_deref(),
        date_unix,
        date_present: date_raw.is_some(),
        message_id_domain: report
            .message
            .message_id
            .as_deref()
            .and_then(address_domain),
        is_list_mail: ["list-id", "list-unsubscribe", "list-post"]
            .iter()
            .any(|h| raw_headers.has(h))
            || raw_headers
                .first("precedence")
                .is_some_and(|p| matches!(p.trim().to_ascii_lowercase().as_str(), "list" | "bulk")),
        recipient_domains,
        now: opts.now,
    };
    let header_findings =
        findings::collect(&ctx, &report.hops, &report.trust, &report.authentication);

    // Content: links, brands, attachments (the body is there unless only headers were read).
    let from_domain = report
        .message
        .from_address
        .as_deref()
        .and_then(address_domain);
    let mut own_orgs: Vec<String> = Vec::new();
    let mut own = |d: Option<String>| {
        if let Some(d) = d.filter(|d| !d.is_empty()) {
            let org = organizational_domain(&d);
            if !own_orgs.contains(&org) {
                own_orgs.push(org);
            }
        }
    };
    own(from_domain.clone());
    own(report
        .message
        .return_path
        .as_deref()
        .and_then(address_domain));
    if let Some(al) = &report.authentication.alignment {
        for d in &al.dkim_domains {
            own(Some(d.clone()));
        }
        if report.authentication.spf.as_deref() == Some("pass") {
            own(al.spf_domain.clone());
        }
    }
    let sender = content::Sender {
        from_domain: from_domain.as_deref(),
        display_name: from_name.as_deref(),
        local_part: report
            .message
            .from_address
            .as_deref()
            .and_then(|a| a.rsplit_once('@'))
            .map(|(l, _)| l),
        subject: report.message.subject.as_deref(),
        reply_to: report.message.reply_to.as_deref(),
        own_orgs,
        recipient_domains: &ctx.recipient_domains,
        is_list_mail: ctx.is_list_mail,
        is_discussion_list: raw_headers.has("list-id") || raw_headers.has("list-post"),
        from_brand: from_domain.as_deref().and_then(content::brands::owner_of),
        recipients: &report.message.to,
    };
    let (body, signals) = if header_len < raw.len() {
        let body = content::extract(raw, &content::Limits::default());
        let signals = content::checks(&body, &sender);
        (Some(body), signals)
    } else {
        (
            None,
            content::check_reply_to_freemail(&sender)
                .into_iter()
                .collect(),
        )
    };
    let (verdict, deciding) = content::verdict(&header_findings, &signals, &sender);
    let empty = content::Content::default();
    let body_ref = body.as_ref().unwrap_or(&empty);
    let mut all = header_findings;
    all.extend(
        signals
            .iter()
            .map(|s| content::finding(s, body_ref, &sender)),
    );
    all.sort_by_key(|f| std::cmp::Reverse(f.severity));
    report.findings = all;
    report.verdict = verdict;
    report.verdict_findings = deciding;
    report.content = body.map(|b| content::report(&b, &signals));

    // A delivery status notification: what it reports and the message it returns.
    if header_len < raw.len()
        && raw_headers
            .first("content-type")
            .is_some_and(dsn::is_report)
        && let Some((dsn, notes)) = dsn::read(raw)
    {
        report.dsn = Some(dsn);
        report.warnings.extend(notes);
    }
    report
}

/// The identifying headers of a message (`message` holds the decoded ones), and its
/// `Date:` as Unix seconds when it parses.
pub(crate) fn message_info(
    raw_headers: &RawHeaders<'_>,
    message: Option<&Message<'_>>,
    header_len: usize,
) -> (MessageInfo, Option<i64>) {
    let from = message.and_then(Message::from).and_then(Address::first);
    let date_unix = raw_headers
        .first("date")
        .and_then(|d| datetime::parse_rfc5322_date(d).map(|(t, _)| t));
    let info = MessageInfo {
        subject: message.and_then(Message::subject).map(str::to_string),
        from: from.map(|a| match (a.name(), a.address()) {
            (Some(n), Some(ad)) => format!("{n} <{ad}>"),
            (None, Some(ad)) => ad.to_string(),
            (Some(n), None) => n.to_string(),
            (None, None) => String::new(),
        }),
        from_address: from.and_then(|a| a.address()).map(lower_domain),
        to: message
            .and_then(Message::to)
            .map(|t| {
                t.iter()
                    .filter_map(|a| a.address())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        date: date_unix.map(datetime::format_rfc3339_utc),
        message_id: message
            .and_then(Message::message_id)
            .map(|id| format!("<{id}>")),
        return_path: raw_headers.first("return-path").map(clean_path),
        reply_to: message
            .and_then(Message::reply_to)
            .and_then(Address::first)
            .and_then(|a| a.address())
            .map(str::to_string),
        sender: message
            .and_then(Message::sender)
            .and_then(Address::first)
            .and_then(|a| a.address())
            .map(str::to_string),
        header_bytes: header_len,
    };
    (info, date_unix)
}

/// Length of the header block: up to and including the first empty line, or everything.
/// RFC 5322 §2.1: the header is separated from the body by an empty line. (The same rule
/// as the mbox reader's, which has usually cut the message there already.)
fn header_block_len(raw: &[u8]) -> usize {
    crate::source::header_end(raw)
}

fn lower_domain(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => address.to_string(),
    }
}

fn clean_path(value: &str) -> String {
    value
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_string()
}

fn shorten(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(80).collect();
        out.push('…');
        out
    }
}

pub(crate) fn canonical_header_name(lower: &str) -> &'static str {
    match lower {
        "x-originating-ip" => "X-Originating-IP",
        "x-sender-ip" => "X-Sender-IP",
        "x-source-ip" => "X-Source-IP",
        "x-client-ip" => "X-Client-IP",
        "x-aol-ip" => "X-AOL-IP",
        "x-yahoo-post-ip" => "X-Yahoo-Post-IP",
        _ => "X-MS-Exchange-CrossTenant-OriginalClientIP",
    }
}

fn recipient_domains(message: &MessageInfo, hops: &[crate::report::Hop]) -> Vec<String> {
    let mut domains: Vec<String> = message
        .to
        .iter()
        .filter_map(|a| address_domain(a))
        .collect();
    if let Some(d) = hops
        .last()
        .and_then(|h| h.for_addr.as_deref())
        .and_then(address_domain)
    {
        domains.push(d);
    }
    domains.sort();
    domains.dedup();
    domains
}

/// Collects the authentication headers and decides the summary verdicts from the newest
/// `Authentication-Results` made by a trusted receiving host (RFC 8601 §5: results from
/// outside the trust boundary are not to be believed).
fn authentication(
    headers: &RawHeaders,
    hops: &[crate::report::Hop],
    message: &MessageInfo,
) -> Authentication {
    let mut auth = Authentication::default();
    // Each Authentication-Results header's results, as a range of `auth.results`.
    let mut per_header: Vec<std::ops::Range<usize>> = Vec::new();
    for value in headers.all("authentication-results") {
        let start = auth.results.len();
        auth.results.extend(authres::parse_authentication_results(
            value,
            "Authentication-Results",
        ));
        per_header.push(start..auth.results.len());
    }
    for value in headers.all("arc-authentication-results") {
        auth.results.extend(authres::parse_authentication_results(
            value,
            "ARC-Authentication-Results",
        ));
    }
    // Exchange Online keeps an on-premises server's results under this name when the
    // message crosses into Microsoft 365: evidence of what an earlier hop saw, never the
    // verdict (see `forward`).
    for value in headers.all("authentication-results-original") {
        auth.results.extend(authres::parse_authentication_results(
            value,
            "Authentication-Results-Original",
        ));
    }
    auth.received_spf = headers
        .all("received-spf")
        .filter_map(authres::parse_received_spf)
        .collect();
    auth.dkim_signatures = headers
        .all("dkim-signature")
        .map(authres::parse_dkim_signature)
        .collect();

    let results = &auth.results;
    let made_by_trusted_host = |r: &crate::report::AuthResult| {
        hops.iter()
            .filter(|h| h.trusted)
            .filter_map(|h| h.by_host.as_deref())
            .any(|by| same_organization(by, &r.authserv_id))
    };
    let chosen: Option<&[crate::report::AuthResult]> = per_header
        .iter()
        .filter_map(|range| results.get(range.clone()))
        .find(|rs| rs.first().is_some_and(made_by_trusted_host))
        .or_else(|| {
            per_header
                .iter()
                .filter_map(|range| results.get(range.clone()))
                .find(|rs| !rs.is_empty())
        });

    let verdict = |method: &str| -> Option<String> {
        let rs: Vec<&crate::report::AuthResult> =
            chosen?.iter().filter(|r| r.method == method).collect();
        if rs.iter().any(|r| r.result == "pass") {
            return Some("pass".into());
        }
        rs.first().map(|r| r.result.clone())
    };
    auth.spf = verdict("spf").or_else(|| auth.received_spf.first().cloned());
    auth.dkim = verdict("dkim");
    auth.dmarc = verdict("dmarc");
    auth.arc = verdict("arc").or_else(|| {
        headers
            .all("arc-seal")
            .map(authres::parse_arc_seal)
            .max_by_key(|(i, _)| *i)
            .and_then(|(_, cv)| cv)
    });

    let Some(from_domain) = message.from_address.as_deref().and_then(address_domain) else {
        return auth;
    };
    let from_org = organizational_domain(&from_domain);
    let prop = |method: &str, key: &str| -> Option<String> {
        chosen?
            .iter()
            .filter(|r| r.method == method)
            .flat_map(|r| r.properties.iter())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let spf_domain = prop("spf", "smtp.mailfrom")
        .map(|v| address_domain(&v).unwrap_or_else(|| v.to_ascii_lowercase()))
        .or_else(|| {
            headers
                .first("received-spf")
                .and_then(authres::received_spf_envelope_from)
                .and_then(|v| address_domain(&v))
        })
        .or_else(|| message.return_path.as_deref().and_then(address_domain));
    let dkim_domains: Vec<String> = chosen
        .map(|rs| {
            rs.iter()
                .filter(|r| r.method == "dkim" && r.result == "pass")
                .filter_map(|r| {
                    r.properties.iter().find_map(|(k, v)| match k.as_str() {
                        "header.d" => Some(v.to_ascii_lowercase()),
                        "header.i" => address_domain(v)
                            .or_else(|| Some(v.trim_start_matches('@').to_ascii_lowercase())),
                        _ => None,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    // RFC 7489 §3.1.1-3.1.2: relaxed alignment compares organisational domains.
    auth.alignment = Some(Alignment {
        spf_aligned: auth.spf.as_deref() == Some("pass")
            && spf_domain.as_deref().map(organizational_domain).as_deref()
                == Some(from_org.as_str()),
        dkim_aligned: dkim_domains
            .iter()
            .any(|d| organizational_domain(d) == from_org),
        spf_domain,
        dkim_domains,
        organizational_domain: from_org,
        from_domain,
    });
    auth
}
