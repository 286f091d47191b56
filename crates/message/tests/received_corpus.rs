//! Our `Received:` parser against the 181 vectors of mail-parser's `resources/received.json`
//! (copied into `../shared/testdata/received/`, Apache-2.0 OR MIT, see its README).
//!
//! The expected values are mail-parser's reading. Two of its conventions differ from ours by
//! rule, and the comparison maps them instead of listing cases:
//! - mail-parser's `from` is the word after `from` and `helo` the HELO found in a comment;
//!   our `from_host` is the HELO name, so we expect `helo` when present (`helo_cmd` alone:
//!   an empty HELO, so no `from_host`), else `from`. When a separate HELO exists, the `from`
//!   word is the client's reverse-DNS name, so we expect it in `from_rdns`.
//! - When the `from` word is an address and no comment gives one, it is also our `from_ip`.
//! - mail-parser keeps an IPv4-mapped address as written (`::ffff:127.0.0.1`); we read it
//!   as the IPv4 address it maps (RFC 4291 §2.5.5.2), so expected addresses are compared
//!   through [`IpAddr::to_canonical`].
//! - `with` is compared to [`Received::protocol_normalized`]; TLS versions are compared by
//!   number (`TLSv1_3` = `TLSv1.3` = `TLS1_3`), reverse-DNS names without a trailing dot.
//!
//! Where we read a case differently on purpose, [`DIFFERENCES`] lists the case index, the
//! field, and why. An entry that stops differing fails the test, so the list stays honest.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_message::Received;
use serde_json::Value;
use std::net::IpAddr;

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata");

/// (case index, field, why our reading differs from mail-parser's).
const DIFFERENCES: &[(usize, &str, &str)] = &[
    (13, "date", ASCTIME),
    (117, "date", ASCTIME),
    (118, "date", ASCTIME),
    (151, "date", ASCTIME),
    (89, "date", TWO_DIGIT_YEAR),
    (90, "date", TWO_DIGIT_YEAR),
    (128, "date", TWO_DIGIT_YEAR),
    (67, "date", US_ZONE),
    (163, "date", US_ZONE),
    (
        69,
        "date",
        "a date-time with no ';' before it is still read (SendGrid writes them)",
    ),
    (
        144,
        "date",
        "fractional seconds: we keep the whole seconds (55), mail-parser drops them",
    ),
    (28, "id", ECELERITY_ID),
    (29, "id", ECELERITY_ID),
    (30, "id", ECELERITY_ID),
    (31, "from_rdns", EXIM_LOCAL),
    (32, "from_rdns", EXIM_LOCAL),
    (33, "from_rdns", EXIM_LOCAL),
    (121, "from_rdns", EXIM_LOCAL),
    (
        118,
        "from_host",
        "smtpd's `claiming to be \"x\"` states the HELO name",
    ),
    (
        123,
        "by_host",
        "RFC 5321 §4.4 has one By-domain: the first `by` wins, `by uid 7791` is text",
    ),
    (
        125,
        "from_host",
        "the from word is kept as written (`Unknown/Local`), not cut at `/`",
    ),
    (
        165,
        "from_host",
        "`invoked from network` is qmail's phrase, not a host name",
    ),
    (
        171,
        "from_host",
        "`(Postfix, from userid 1002)` is a comment of the by clause, not a from clause",
    ),
    (
        155,
        "tls_cipher",
        "truncated header: `tower-with` is not a `with` keyword, so no cipher is read",
    ),
];

const ASCTIME: &str =
    "asctime layout (`Sun Nov 13 14:50:12 2005`): we read it, mail-parser misreads it";
const TWO_DIGIT_YEAR: &str =
    "RFC 5322 §4.3: a 2-digit year below 50 is 20xx (mail-parser says 19xx)";
const US_ZONE: &str = "RFC 5322 §4.3: PST/PDT are -0800/-0700 (mail-parser reads 0)";
const ECELERITY_ID: &str = "the whole ecelerity queue id (`EE/20-30863-33CE1054`), not cut at `/`";
const EXIM_LOCAL: &str =
    "Exim's `from user (helo=x)` with no address: the word is a local sender, not rDNS";

fn canon_tls(v: &str) -> String {
    let v = v.split('/').next().unwrap_or(v);
    let digits: String = v.chars().filter(|c| c.is_ascii_digit()).collect();
    match digits.as_str() {
        "1" | "10" => "10".into(),
        d => d.chars().take(2).collect(),
    }
}

fn ip_of(s: &str) -> Option<IpAddr> {
    let s = s.trim_start_matches('[').trim_end_matches(']');
    let s = s.strip_prefix("IPv6:").unwrap_or(s);
    s.parse().ok()
}

/// A `{"Name": ..}` / `{"IpAddr": ..}` host matches ours.
fn host_matches(ours: Option<&str>, exp: &Value) -> bool {
    match (ours, exp.get("Name"), exp.get("IpAddr")) {
        (Some(o), Some(Value::String(n)), _) => o == n,
        (Some(o), _, Some(Value::String(ip))) => ip_of(o) == ip.parse().ok(),
        _ => false,
    }
}

fn host_text(exp: &Value) -> Option<String> {
    exp.get("Name")
        .or_else(|| exp.get("IpAddr"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Unix seconds and offset of mail-parser's date object.
fn expected_date(d: &Value) -> Option<(i64, i32)> {
    let n = |k: &str| d.get(k).and_then(Value::as_i64);
    let (y, mo, da) = (n("year")?, n("month")?, n("day")?);
    let (h, mi, s) = (n("hour")?, n("minute")?, n("second")?);
    let off = i32::try_from(n("tz_hour")? * 60 + n("tz_minute")?).ok()?;
    let off = if d.get("tz_before_gmt").and_then(Value::as_bool)? {
        -off
    } else {
        off
    };
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * ((mo + 9) % 12) + 2) / 5 + da - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some((
        days * 86_400 + h * 3600 + mi * 60 + s - i64::from(off) * 60,
        off,
    ))
}

/// Field-by-field comparison; returns (field, ours, expected) for each mismatch.
fn compare(r: &Received, exp: &Value) -> Vec<(&'static str, String, String)> {
    let mut bad = Vec::new();
    let mut check = |field: &'static str, ok: bool, ours: String, want: String| {
        if !ok {
            bad.push((field, ours, want));
        }
    };
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();

    // from_host: the HELO name.
    if let Some(helo) = exp.get("helo") {
        check(
            "from_host",
            host_matches(r.from_host.as_deref(), helo),
            format!("{:?}", r.from_host),
            host_text(helo).unwrap_or_default(),
        );
    } else if exp.get("helo_cmd").is_some() {
        check(
            "from_host",
            r.from_host.is_none(),
            format!("{:?}", r.from_host),
            "None".into(),
        );
    } else if let Some(from) = exp.get("from") {
        check(
            "from_host",
            host_matches(r.from_host.as_deref(), from),
            format!("{:?}", r.from_host),
            host_text(from).unwrap_or_default(),
        );
    }
    // from_rdns.
    let want_rdns = exp.get("from_iprev").map(s).or_else(|| {
        exp.get("helo")
            .or(exp.get("helo_cmd"))
            .and(exp.get("from"))
            .and_then(|f| f.get("Name"))
            .map(s)
            .filter(|n| n != "unknown")
    });
    if let Some(w) = want_rdns {
        let w = w.trim_end_matches('.').to_owned();
        check(
            "from_rdns",
            r.from_rdns.as_deref() == Some(w.as_str()),
            format!("{:?}", r.from_rdns),
            w,
        );
    }
    // from_ip.
    let want_ip = exp
        .get("from_ip")
        .map(s)
        .or_else(|| exp.get("from").and_then(|f| f.get("IpAddr")).map(s));
    if let Some(w) = want_ip {
        check(
            "from_ip",
            r.from_ip == w.parse::<IpAddr>().ok().map(|ip| ip.to_canonical()),
            format!("{:?}", r.from_ip),
            w,
        );
    }
    if let Some(by) = exp.get("by") {
        check(
            "by_host",
            host_matches(r.by_host.as_deref(), by),
            format!("{:?}", r.by_host),
            host_text(by).unwrap_or_default(),
        );
    }
    if let Some(w) = exp.get("with").map(s) {
        check(
            "protocol",
            r.protocol_normalized() == Some(w.as_str()),
            format!("{:?}", r.protocol),
            w,
        );
    }
    if let Some(w) = exp.get("via").map(s) {
        check(
            "via",
            r.via.as_deref() == Some(w.as_str()),
            format!("{:?}", r.via),
            w,
        );
    }
    if let Some(w) = exp.get("id").map(s) {
        check(
            "id",
            r.id.as_deref() == Some(w.as_str()),
            format!("{:?}", r.id),
            w,
        );
    }
    if let Some(w) = exp.get("for_").map(s) {
        check(
            "for",
            r.for_addr.as_deref() == Some(w.as_str()),
            format!("{:?}", r.for_addr),
            w,
        );
    }
    let tls = r.tls.as_ref();
    if let Some(w) = exp.get("tls_version").map(s) {
        let ours = tls.and_then(|t| t.version.as_deref());
        check(
            "tls_version",
            ours.map(canon_tls) == Some(canon_tls(&w)),
            format!("{ours:?}"),
            w,
        );
    }
    if let Some(w) = exp.get("tls_cipher").map(s) {
        let ours = tls.and_then(|t| t.cipher.as_deref());
        check(
            "tls_cipher",
            ours == Some(w.as_str()),
            format!("{ours:?}"),
            w,
        );
    }
    match exp.get("date") {
        Some(Value::Null) | None => check(
            "date",
            r.timestamp.is_none(),
            format!("{:?}", r.timestamp),
            "None".into(),
        ),
        Some(d) => {
            let want = expected_date(d);
            let ours = r.timestamp.zip(r.tz_offset_minutes);
            check(
                "date",
                ours == want,
                format!("{ours:?}"),
                format!("{want:?}"),
            );
        }
    }
    bad
}

#[test]
fn received_vectors_match_or_differ_for_a_stated_reason() {
    let path = format!("{TESTDATA}/received/received.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: ../shared not found ({path})");
        return;
    };
    let cases: Vec<Value> = serde_json::from_str(&text).expect("received.json is JSON");
    assert_eq!(cases.len(), 181, "the vector file changed");

    let mut failures = Vec::new();
    let mut used = vec![false; DIFFERENCES.len()];
    let mut clean = 0;
    for (i, case) in cases.iter().enumerate() {
        let header = case["header"].as_str().expect("header string");
        let r = Received::parse(header);
        assert_eq!(r.raw, header, "raw is kept");
        let bad = compare(&r, &case["expected"]);
        if bad.is_empty() {
            clean += 1;
        }
        for (field, ours, want) in bad {
            match DIFFERENCES
                .iter()
                .position(|(n, f, _)| *n == i && *f == field)
            {
                Some(k) => used[k] = true,
                None => failures.push(format!(
                    "case {i} {field}: ours {ours}, expected {want}\n    {header:?}"
                )),
            }
        }
    }
    for (k, (i, field, why)) in DIFFERENCES.iter().enumerate() {
        if !used[k] {
            failures.push(format!(
                "stale DIFFERENCES entry: case {i} {field} ({why}) now matches"
            ));
        }
    }
    eprintln!(
        "{clean} of {} cases match in every compared field",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(clean >= 155, "only {clean} cases match fully");
}
