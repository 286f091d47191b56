//! The open-relay test (`--relay-test FROM TO`): MAIL FROM and RCPT TO for a recipient
//! elsewhere, then RSET, never DATA, so no mail is sent. A server that accepts the
//! recipient from an unauthenticated client outside its networks relays for anyone
//! (RFC 5321 §3.6.2 leaves relaying to local policy; RFC 2505 §2 asks servers not to relay
//! for strangers). A refusal is shown as the server worded it.

use super::lines::ReplyLines;
use super::report::{RelayReport, RelayVerdict};
use crate::outbound::conn::Connection;
use crate::outbound::error::ClientError;
use std::time::Duration;

/// An address fit to go between `<` and `>` on one command line: no controls, spaces or
/// angle brackets (the addresses come from the command line, but a CR LF in one would be a
/// second command). The null path (empty) is allowed for FROM.
pub fn valid_path(address: &str) -> bool {
    address.len() <= 256
        && !address
            .chars()
            .any(|c| c.is_control() || c == ' ' || c == '<' || c == '>')
}

/// Runs the test on a session that has said EHLO.
pub async fn run(conn: &mut Connection, from: &str, to: &str, timeout: Duration) -> RelayReport {
    let mut report = RelayReport {
        from: from.to_string(),
        to: to.to_string(),
        over_tls: conn.tls.is_some(),
        mail: None,
        rcpt: None,
        verdict: RelayVerdict::Incomplete,
        error: None,
    };
    if !valid_path(from) || !valid_path(to) || to.is_empty() {
        report.error = Some("the relay test's addresses must be plain addresses".into());
        return report;
    }
    match command(conn, &format!("MAIL FROM:<{from}>"), timeout, "MAIL").await {
        Ok(mail) => {
            let accepted = (200..300).contains(&mail.code);
            report.mail = Some(mail);
            if !accepted {
                report.verdict = RelayVerdict::SenderRefused;
                return report;
            }
        }
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    }
    match command(conn, &format!("RCPT TO:<{to}>"), timeout, "RCPT").await {
        Ok(rcpt) => {
            report.verdict = if (200..300).contains(&rcpt.code) {
                RelayVerdict::Accepted
            } else {
                RelayVerdict::Refused
            };
            report.rcpt = Some(rcpt);
        }
        Err(e) => report.error = Some(e.to_string()),
    }
    // RFC 5321 §4.1.1.5: RSET abandons the transaction; nothing was sent.
    if let Err(e) = command(conn, "RSET", timeout, "RSET").await {
        report.error.get_or_insert(e.to_string());
    }
    report
}

/// Sends one command line and reads its whole reply.
pub async fn command(
    conn: &mut Connection,
    line: &str,
    timeout: Duration,
    stage: &'static str,
) -> Result<ReplyLines, ClientError> {
    conn.write(format!("{line}\r\n").as_bytes(), timeout, stage)
        .await?;
    let raw = conn.read_raw(timeout, stage).await?;
    Ok(ReplyLines::parse(&raw)?)
}

#[cfg(test)]
mod tests {
    use super::valid_path;

    #[test]
    fn addresses_that_would_inject_commands_are_refused() {
        assert!(valid_path("a@b.test"));
        assert!(valid_path(""));
        assert!(!valid_path("a@b.test>\r\nDATA"));
        assert!(!valid_path("a b@c"));
        assert!(!valid_path(&"a".repeat(300)));
    }
}
