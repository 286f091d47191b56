//! The `Received-SPF:` header field (RFC 7208 §9.1).

use super::auth_results::quoted;
use super::spf::SpfCheck;

/// The whole `Received-SPF:` field for `check`, ending in CRLF: the result, a comment a
/// person reads, then `client-ip`, `envelope-from`, `helo`, `receiver` and `identity`
/// (RFC 7208 §9.1). `receiver` is our host name.
pub fn received_spf(check: &SpfCheck, receiver: &str) -> String {
    let comment = match &check.verdict.reason {
        Some(reason) => reason.clone(),
        None => format!(
            "{} designates {} as permitted sender",
            check.domain, check.client_ip
        ),
    };
    // A comment may hold any printable text except unbalanced parentheses and `\`.
    let comment: String = comment
        .chars()
        .take(200)
        .map(|c| match c {
            '(' | ')' | '\\' => '?',
            ' '..='~' => c,
            _ => '?',
        })
        .collect();
    let envelope_from = match check.identity {
        super::spf::SpfIdentity::MailFrom => check.sender.as_str(),
        super::spf::SpfIdentity::Helo => "",
    };
    format!(
        "Received-SPF: {} ({receiver}: {comment})\r\n\tclient-ip={}; envelope-from={}; helo={}; receiver={};\r\n\tidentity={}\r\n",
        check.verdict.status,
        check.client_ip,
        quoted(envelope_from),
        quoted(&check.helo),
        quoted(receiver),
        check.identity.as_str(),
    )
}
