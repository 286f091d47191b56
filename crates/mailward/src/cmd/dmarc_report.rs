//! `mailward dmarc report [--domain D] [--period P] [--xml|--json]`: the DMARC aggregate
//! reports (RFC 9990) the server would send for a period, from the evaluations recorded
//! under `<data>/dmarc/`: per policy domain the rows with their counts and the `rua`
//! destinations with the external check's verdict (RFC 9990 §4), or the XML itself.

use crate::config;
use crate::dmarc_reports::{Prepared, dmarc_dir, prepare, submitter};
use anyhow::Context;
use mailward_auth::aggregate::{Period, Row};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(
    config_path: Option<PathBuf>,
    domain: Option<&str>,
    period: &str,
    xml: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let loaded = config::load(config_path.as_deref())?;
    let period = Period::parse(period, mailward_store::ids::unix_now())?;
    let dir = dmarc_dir(&loaded.data_dir());
    let submitter = submitter(&loaded.config);
    let resolver = crate::outbound::resolver(&loaded.config)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (reports, skipped) = rt.block_on(prepare(&dir, period, domain, &resolver, &submitter))?;
    if skipped > 0 {
        eprintln!("mailward: {skipped} unreadable evaluation line(s) skipped");
    }
    if xml {
        for p in &reports {
            print!("{}", p.report.to_xml());
        }
    } else if json {
        let list: Vec<_> = reports.iter().map(json_report).collect();
        let out = serde_json::json!({ "period": period.to_string(), "reports": list });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_text(period, &reports);
    }
    Ok(ExitCode::SUCCESS)
}

fn json_report(p: &Prepared) -> serde_json::Value {
    serde_json::json!({
        "policy": p.aggregate.policy,
        "messages": p.aggregate.messages(),
        "file_name": p.file_name,
        "gzip_bytes": p.gzip.len(),
        "report_id": p.report.report_metadata.report_id,
        "rows": p.aggregate.rows.iter().map(|(row, count)| {
            serde_json::json!({ "count": count, "row": row })
        }).collect::<Vec<_>>(),
        "destinations": p.destinations.iter().map(|d| serde_json::json!({
            "address": d.address,
            "max_size": d.max_size,
            "verdict": d.verdict.as_str(),
            "checked_name": d.checked_name,
            "sent": d.verdict.allows() && d.accepts(p.gzip.len() as u64),
        })).collect::<Vec<_>>(),
    })
}

fn print_text(period: Period, reports: &[Prepared]) {
    if reports.is_empty() {
        println!("No DMARC evaluations recorded for {period}.");
        return;
    }
    for p in reports {
        let policy = &p.aggregate.policy;
        println!(
            "{}  {period}: {} message(s) in {} row(s); p={} sp={} np={} adkim={} aspf={} t={}",
            policy.domain,
            p.aggregate.messages(),
            p.aggregate.rows.len(),
            policy.p.as_str(),
            policy.sp.as_str(),
            policy.np.as_str(),
            if policy.strict_dkim { "s" } else { "r" },
            if policy.strict_spf { "s" } else { "r" },
            if policy.testing { "y" } else { "n" },
        );
        println!("  file: {} ({} bytes)", p.file_name, p.gzip.len());
        if p.destinations.is_empty() {
            println!("  rua: none (the report is not sent)");
        }
        for d in &p.destinations {
            let fits = d.accepts(p.gzip.len() as u64);
            let action = match (d.verdict.allows(), fits) {
                (true, true) => "send".to_string(),
                (true, false) => format!("not sent: larger than !{} bytes", d.max_size),
                (false, _) => match &d.checked_name {
                    Some(name) => format!("not sent: no v=DMARC1 TXT at {name}"),
                    None => "not sent".to_string(),
                },
            };
            println!("  rua: {} {} ({action})", d.address, d.verdict.as_str());
        }
        for (row, count) in &p.aggregate.rows {
            println!("  {count:>6}  {}", row_text(row));
        }
    }
}

fn row_text(row: &Row) -> String {
    let mut s = format!(
        "{} disposition={} dkim={} spf={} header_from={} envelope_from={} envelope_to={} spf_auth={}:{}",
        row.source_ip,
        row.disposition.as_str(),
        if row.dkim_aligned { "pass" } else { "fail" },
        if row.spf_aligned { "pass" } else { "fail" },
        row.header_from,
        row.envelope_from,
        row.envelope_to,
        row.spf.domain,
        row.spf.result,
    );
    for d in &row.dkim {
        s.push_str(&format!(
            " dkim_auth={}/{}:{}",
            d.domain, d.selector, d.result
        ));
    }
    if let Some((reason, comment)) = &row.overridden {
        s.push_str(&format!(" override={}", reason.as_str()));
        if !comment.is_empty() {
            s.push_str(&format!(" ({comment})"));
        }
    }
    s
}
