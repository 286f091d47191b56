//! The `Authentication-Results:` header field (RFC 8601 §2.2) for our checks.

use super::arc::ArcCheck;
use super::dkim::DkimCheck;
use super::dmarc::DmarcCheck;
use super::spf::{SpfCheck, SpfIdentity};
use super::verdict::Verdict;

/// Longest `reason=` text we write; the field stays well under RFC 5322's 998-octet lines.
const MAX_REASON: usize = 200;

/// One `Authentication-Results:` field being built: the authserv-id, then one `resinfo`
/// per result (RFC 8601 §2.2), each on its own folded line.
#[derive(Debug, Clone)]
pub struct AuthenticationResults {
    authserv_id: String,
    results: Vec<String>,
}

impl AuthenticationResults {
    /// `authserv_id` names us (RFC 8601 §2.5): usually the receiving host's name.
    pub fn new(authserv_id: &str) -> AuthenticationResults {
        AuthenticationResults {
            authserv_id: authserv_id.to_string(),
            results: Vec::new(),
        }
    }

    /// `spf=` with `smtp.mailfrom=` or `smtp.helo=` (RFC 8601 §2.7.2).
    pub fn spf(&mut self, check: &SpfCheck) -> &mut Self {
        let property = match check.identity {
            SpfIdentity::MailFrom => (
                "smtp.mailfrom",
                value_or_domain(&check.sender, &check.domain),
            ),
            SpfIdentity::Helo => ("smtp.helo", value_or_domain(&check.helo, &check.domain)),
        };
        self.push("spf", &check.verdict, &[property]);
        self
    }

    /// One `dkim=` per signature (RFC 8601 §2.7.1), `dkim=none` when there was none.
    pub fn dkim(&mut self, checks: &[DkimCheck]) -> &mut Self {
        if checks.is_empty() {
            self.results.push("dkim=none".into());
        }
        for check in checks {
            let mut properties = Vec::new();
            if !check.domain.is_empty() {
                properties.push(("header.d", value_or_domain(&check.domain, "")));
                properties.push(("header.s", value_or_domain(&check.selector, "")));
                properties.push(("header.a", check.algorithm.to_string()));
            }
            if let Some(i) = &check.identity {
                properties.push(("header.i", value_or_domain(i, "")));
            }
            properties.retain(|(_, v)| !v.is_empty());
            self.push("dkim", &check.verdict, &properties);
        }
        self
    }

    /// `dmarc=` with `header.from=` and `policy.dmarc=` (RFC 7489 §11.2).
    pub fn dmarc(&mut self, check: &DmarcCheck) -> &mut Self {
        let mut properties = Vec::new();
        let from = value_or_domain(&check.from_domain, "");
        if !from.is_empty() {
            properties.push(("header.from", from));
        }
        // RFC 7489 §11.2 `policy.dmarc`: the policy that applies after `sp`/`np`/`t`.
        if let Some(policy) = check.policy {
            properties.push(("policy.dmarc", policy.to_string()));
        }
        self.push("dmarc", &check.verdict, &properties);
        self
    }

    /// `arc=` (RFC 8617 §6.2.1).
    pub fn arc(&mut self, check: &ArcCheck) -> &mut Self {
        self.push("arc", &check.verdict, &[]);
        self
    }

    /// The whole field, name included, folded, ending in CRLF. With no results it says
    /// `none` (RFC 8601 §2.2: no authentication was done).
    pub fn to_field(&self) -> String {
        let mut out = format!("Authentication-Results: {}", self.authserv_id);
        if self.results.is_empty() {
            out.push_str("; none");
        }
        for result in &self.results {
            out.push_str(";\r\n\t");
            out.push_str(result);
        }
        out.push_str("\r\n");
        out
    }

    fn push(&mut self, method: &str, verdict: &Verdict, properties: &[(&str, String)]) {
        let mut resinfo = format!("{method}={}", verdict.status);
        if let Some(reason) = &verdict.reason {
            resinfo.push_str(" reason=");
            resinfo.push_str(&quoted(reason));
        }
        for (name, value) in properties {
            resinfo.push(' ');
            resinfo.push_str(name);
            resinfo.push('=');
            resinfo.push_str(value);
        }
        self.results.push(resinfo);
    }
}

/// A property value (RFC 8601 §2.2 `pvalue`: a `value` or an addr-spec) that needs no
/// quoting: kept when every octet is one of `atext`, `.` or `@`; otherwise `fallback`
/// (the domain), or nothing.
fn value_or_domain(value: &str, fallback: &str) -> String {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.@".contains(&b))
    };
    if plain(value) {
        value.to_string()
    } else if plain(fallback) {
        fallback.to_string()
    } else {
        String::new()
    }
}

/// RFC 5322 §3.2.4 quoted-string of printable ASCII (anything else becomes `?`), cut to
/// [`MAX_REASON`] characters.
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_REASON) + 2);
    out.push('"');
    for c in text.chars().take(MAX_REASON) {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Status, Verdict};

    #[test]
    fn reason_is_quoted_and_escaped() {
        assert_eq!(quoted("a \"b\" \\ é\r\n"), "\"a \\\"b\\\" \\\\ ???\"");
    }

    #[test]
    fn empty_field_says_none() {
        assert_eq!(
            AuthenticationResults::new("mx.example.org").to_field(),
            "Authentication-Results: mx.example.org; none\r\n"
        );
    }

    #[test]
    fn dkim_and_arc_results_are_folded_one_per_line() {
        let mut ar = AuthenticationResults::new("mx.example.org");
        ar.dkim(&[DkimCheck {
            verdict: Verdict::because(Status::Fail, "body hash did not verify"),
            domain: "example.com".into(),
            selector: "sel".into(),
            algorithm: "rsa-sha256",
            identity: Some("@example.com".into()),
        }])
        .arc(&ArcCheck {
            verdict: Verdict::new(Status::Pass),
            sealers: vec!["example.net".into()],
        });
        assert_eq!(
            ar.to_field(),
            "Authentication-Results: mx.example.org;\r\n\tdkim=fail reason=\"body hash did not verify\" header.d=example.com header.s=sel header.a=rsa-sha256 header.i=@example.com;\r\n\tarc=pass\r\n"
        );
    }
}
