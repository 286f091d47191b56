//! The spam score: header and body rules, DNS block lists, links and senders, the
//! mail-authentication verdicts. Each rule that matches is a [`Finding`] with a score
//! ([`table`]); the message's score is their sum, and [`SpamSettings::action`] turns it into
//! tag, Junk or reject.
//!
//! Cheap by design, since it runs on every message from outside: one header parse, trace's
//! bounded content pass, word sets; DNS only when lists are configured, all lookups at once
//! under one time bound.
//!
//! - [`header_rules`]: required fields, dates, forged display names, subjects, bulk habits;
//! - [`body_rules`]: HTML only, alternatives that disagree, base64 text, spam wording;
//! - [`content`]: trace's link and sender signals (look-alikes, lures, brands);
//! - [`auth_rules`]: SPF, DKIM, DMARC, ARC;
//! - [`dnsbl`]: RFC 5782 IP and domain lists;
//! - [`rspamd`]: the hand-off to a real rspamd, when configured (its score stands for ours).

pub mod auth_rules;
pub mod body_rules;
pub mod content;
pub mod dnsbl;
pub mod header_rules;
pub mod rspamd;
pub mod table;
pub mod words;

use crate::context::Context;
use crate::mime::Walk;
use crate::verdict::{Action, Finding};
use dnsbl::{Listing, Query, Subject};
use mail_parser::MessageParser;
use mailward_auth::Resolver;
use mailward_trace::content::{self as trace_content, Content};
use std::collections::BTreeMap;
use std::time::Duration;

/// `[filter.spam]`.
#[derive(Debug, Clone)]
pub struct SpamSettings {
    pub enabled: bool,
    /// Score from which the message is marked `X-Mailward-Spam: yes` (default 5: one strong
    /// sign of deceit, or several weak ones).
    pub tag: f64,
    /// Score from which it goes into Junk (default 8: two strong signs, or a block list
    /// listing and a little more).
    pub junk: f64,
    /// Score from which it is refused (default 15: listed and deceitful at once; a refusal
    /// reaches the sender, so it waits for overwhelming evidence).
    pub reject: f64,
    /// DNS block lists of client IPs (`zen.example`), RFC 5782 §2.
    pub dnsbl: Vec<String>,
    /// DNS block lists of domains in links and of the From domain (`uribl.example`),
    /// RFC 5782 §3.
    pub uribl: Vec<String>,
    /// What a listing in a `dnsbl` zone adds (default 6).
    pub dnsbl_score: f64,
    /// What a listing in a `uribl` zone adds (default 5).
    pub uribl_score: f64,
    /// A zone's own score, instead of `dnsbl_score`/`uribl_score` (default none).
    pub zone_scores: BTreeMap<String, f64>,
    /// Time all DNS list lookups of a message may take together (default 2 s); what has
    /// not answered by then adds nothing.
    pub timeout: Duration,
    /// Domains looked up in the `uribl` zones per message (default 20).
    pub max_uribl_domains: usize,
    /// Score with a real rspamd instead of the rules here (default none). When it cannot
    /// answer, the rules here score the message and `rspamd_unavailable` says why.
    pub rspamd: Option<rspamd::RspamdSettings>,
}

impl Default for SpamSettings {
    fn default() -> Self {
        SpamSettings {
            enabled: true,
            tag: 5.0,
            junk: 8.0,
            reject: 15.0,
            dnsbl: Vec::new(),
            uribl: Vec::new(),
            dnsbl_score: table::DNSBL.score,
            uribl_score: table::URIBL.score,
            zone_scores: BTreeMap::new(),
            timeout: Duration::from_secs(2),
            max_uribl_domains: 20,
            rspamd: None,
        }
    }
}

/// The rules that matched and their sum.
#[derive(Debug, Clone, Default)]
pub struct SpamReport {
    pub findings: Vec<Finding>,
    pub score: f64,
}

impl SpamSettings {
    /// What `score` leads to.
    pub fn action(&self, score: f64) -> Action {
        if score >= self.reject {
            Action::Reject
        } else if score >= self.junk {
            Action::Junk
        } else if score >= self.tag {
            Action::Tag
        } else {
            Action::Accept
        }
    }

    fn zone_score(&self, zone: &str, default: f64) -> f64 {
        self.zone_scores
            .iter()
            .find(|(z, _)| z.trim_end_matches('.').eq_ignore_ascii_case(zone))
            .map_or(default, |(_, s)| *s)
    }
}

/// Scores the message, now.
pub async fn score(
    raw: &[u8],
    walk: &Walk<'_>,
    ctx: &Context<'_>,
    settings: &SpamSettings,
    resolver: Option<&Resolver>,
) -> SpamReport {
    score_at(
        raw,
        walk,
        ctx,
        settings,
        resolver,
        chrono::Utc::now().timestamp(),
    )
    .await
}

/// Scores the message as if received at `now` (Unix seconds): the date rules compare the
/// message's `Date:` with it.
pub async fn score_at(
    raw: &[u8],
    walk: &Walk<'_>,
    ctx: &Context<'_>,
    settings: &SpamSettings,
    resolver: Option<&Resolver>,
    now: i64,
) -> SpamReport {
    let mut findings: Vec<Finding> = Vec::new();
    if let Some(r) = &settings.rspamd {
        match rspamd::check(raw, ctx, r).await {
            Ok(verdict) => {
                return SpamReport {
                    findings: verdict.findings,
                    score: verdict.score + 0.0,
                };
            }
            Err(e) => findings.push(table::RSPAMD_UNAVAILABLE.hit(e.to_string())),
        }
    }
    let header = MessageParser::new().parse_headers(raw);
    header_rules::check(header.as_ref(), ctx, now, &mut findings);

    let body = trace_content::extract(raw, &trace_content::Limits::default());
    let has_html = walk.parts.iter().any(|p| p.content_type == "text/html");
    let html_text = if has_html { body.text.as_str() } else { "" };
    body_rules::check(walk, html_text, &body.text, &mut findings);

    let sender = content::SenderInfo::new(header.as_ref(), ctx);
    content::check(&body, &sender.as_sender(ctx.rcpts), &mut findings);

    if let Some(auth) = &ctx.auth {
        auth_rules::check(auth, &mut findings);
    }
    if let Some(resolver) = resolver
        && (!settings.dnsbl.is_empty() || !settings.uribl.is_empty())
    {
        let queries = queries(ctx, &sender, &body, settings);
        let listings = dnsbl::lookup(resolver, queries, settings.timeout).await;
        dns_findings(&listings, settings, &mut findings);
    }

    // `Sum` of no f64 is -0.0, which the header would show as "score=-0.0".
    let score = findings.iter().map(|f| f.score).sum::<f64>() + 0.0;
    SpamReport { findings, score }
}

/// The DNS list queries of a message: the client's address in each `dnsbl` zone, the
/// From domain's and the links' registrable domains (at most `max_uribl_domains`) in each
/// `uribl` zone.
fn queries(
    ctx: &Context<'_>,
    sender: &content::SenderInfo,
    body: &Content,
    settings: &SpamSettings,
) -> Vec<Query> {
    let mut out = Vec::new();
    if dnsbl::listable(ctx.client_ip) {
        out.extend(settings.dnsbl.iter().map(|z| Query::ip(ctx.client_ip, z)));
    }
    if settings.uribl.is_empty() {
        return out;
    }
    let mut domains: Vec<String> = Vec::new();
    let from_org = sender
        .from_domain
        .as_deref()
        .map(mailward_trace::domains::organizational_domain);
    let links = body
        .links
        .iter()
        .filter(|l| l.effective().is_some_and(|u| u.ip.is_none()))
        .filter_map(|l| l.domain.clone());
    for d in from_org.into_iter().chain(links) {
        if domains.len() >= settings.max_uribl_domains {
            break;
        }
        if d.contains('.') && !domains.contains(&d) {
            domains.push(d);
        }
    }
    for zone in &settings.uribl {
        out.extend(domains.iter().filter_map(|d| Query::domain(d, zone)));
    }
    out
}

/// One finding per zone that lists something.
fn dns_findings(listings: &[Listing], settings: &SpamSettings, out: &mut Vec<Finding>) {
    let mut zones_seen: Vec<&str> = Vec::new();
    for l in listings {
        let zone = l.query.zone.as_str();
        if zones_seen.contains(&zone) {
            continue;
        }
        zones_seen.push(zone);
        let codes: Vec<String> = l.codes.iter().map(ToString::to_string).collect();
        let reason = l
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let detail = format!(
            "{} is listed in {zone} ({}){reason}",
            l.query.subject,
            codes.join(",")
        );
        out.push(match l.query.subject {
            Subject::Ip(_) => {
                table::DNSBL.hit_with(settings.zone_score(zone, settings.dnsbl_score), detail)
            }
            Subject::Domain(_) => {
                table::URIBL.hit_with(settings.zone_score(zone, settings.uribl_score), detail)
            }
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mime;

    /// The codes of `findings`, as the table spells them.
    pub(crate) fn codes_of(findings: &[Finding]) -> Vec<&'static str> {
        findings
            .iter()
            .map(|f| {
                table::ALL
                    .iter()
                    .find(|r| r.code == f.code)
                    .map_or("(not in the table)", |r| r.code)
            })
            .collect()
    }

    /// A message from outside, to `rcpts`.
    pub(crate) fn ctx_for(rcpts: &[String]) -> Context<'_> {
        Context {
            queue_id: "Q1",
            client_ip: "192.0.2.1".parse().unwrap(),
            helo: "mail.example.com",
            mail_from: "",
            rcpts,
            auth_user: None,
            auth: None,
        }
    }

    #[test]
    fn thresholds_order_the_actions() {
        let s = SpamSettings::default();
        assert_eq!(s.action(0.0), Action::Accept);
        assert_eq!(s.action(5.0), Action::Tag);
        assert_eq!(s.action(8.5), Action::Junk);
        assert_eq!(s.action(15.0), Action::Reject);
    }

    #[test]
    fn zone_weights_override_the_default() {
        let mut s = SpamSettings::default();
        s.zone_scores.insert("zen.example.".into(), 9.0);
        assert!((s.zone_score("zen.example", 6.0) - 9.0).abs() < f64::EPSILON);
        assert!((s.zone_score("other.example", 6.0) - 6.0).abs() < f64::EPSILON);
    }

    #[tokio::test]
    async fn the_score_is_the_sum_of_the_rules() {
        let raw =
            b"From: \"PRIZE DEPT\" <win@lucky.example.net>\r\nTo: undisclosed-recipients:;\r\n\
Subject: YOU HAVE WON A FREE GIFT!!!\r\n\r\nDear friend, you have won the lottery. Claim your \
prize: wire transfer the fee. Act now.\r\n";
        let m = mime::parse(raw).unwrap();
        let walk = mime::walk(&m, raw, &mime::MimeLimits::default());
        let rcpts = vec!["bob@example.org".to_owned()];
        let ctx = ctx_for(&rcpts);
        let report = score(raw, &walk, &ctx, &SpamSettings::default(), None).await;
        let sum: f64 = report.findings.iter().map(|f| f.score).sum();
        assert!((report.score - sum).abs() < 1e-9);
        assert!(report.score >= 8.0, "{report:?}");
        let codes = codes_of(&report.findings);
        for c in [
            "missing_date",
            "subject_all_caps",
            "subject_exclamations",
            "body_many_spam_words",
        ] {
            assert!(codes.contains(&c), "{codes:?}");
        }
    }

    #[tokio::test]
    async fn regress_a_clean_message_scored_minus_zero() {
        let raw = b"From: a@example.com\r\nTo: bob@example.org\r\nSubject: hello there\r\n\
Date: Wed, 18 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nhi\r\n";
        let m = mime::parse(raw).unwrap();
        let walk = mime::walk(&m, raw, &mime::MimeLimits::default());
        let rcpts = vec!["bob@example.org".to_owned()];
        let ctx = ctx_for(&rcpts);
        let r = score_at(
            raw,
            &walk,
            &ctx,
            &SpamSettings::default(),
            None,
            1_795_000_000,
        )
        .await;
        assert!(r.findings.is_empty(), "{r:?}");
        assert_eq!(format!("{:.1}", r.score), "0.0");
    }

    #[test]
    fn uribl_queries_are_bounded_and_skip_ip_links() {
        let mut html = String::from("<p>");
        for i in 0..40 {
            html.push_str(&format!("<a href=\"https://www.shop{i}.com/\">x</a> "));
        }
        html.push_str("<a href=\"http://203.0.113.5/\">ip</a></p>");
        let raw = format!("From: a@shop.example.com\r\nContent-Type: text/html\r\n\r\n{html}\r\n");
        let body = trace_content::extract(raw.as_bytes(), &trace_content::Limits::default());
        let header = MessageParser::new().parse_headers(raw.as_bytes());
        let rcpts = vec!["bob@example.org".to_owned()];
        let ctx = ctx_for(&rcpts);
        let sender = content::SenderInfo::new(header.as_ref(), &ctx);
        let settings = SpamSettings {
            dnsbl: vec!["ip.example".into()],
            uribl: vec!["uri.example".into()],
            ..SpamSettings::default()
        };
        let q = queries(&ctx, &sender, &body, &settings);
        assert_eq!(q.len(), 1 + 20);
        assert_eq!(q[0].name, "1.2.0.192.ip.example");
        assert_eq!(q[1].name, "example.com.uri.example");
        assert!(q.iter().all(|q| !q.name.contains("203.0.113")));
    }
}
