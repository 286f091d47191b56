//! An MTA-STS policy (RFC 8461 §3.2): `key: value` lines, `version: STSv1`, `mode`
//! (`enforce`, `testing`, `none`), one or more `mx` patterns, `max_age` in seconds.
//! Parsing is pure and bounded; matching follows §4.1 (a `*.` pattern stands for exactly
//! one label).

/// The longest policy file read (RFC 8461 §3.3 suggests 64 KiB).
pub const MAX_POLICY: usize = 64 * 1024;
/// `max_age` is capped at a year (RFC 8461 §3.2: "up to 31557600").
pub const MAX_AGE_CAP: u64 = 31_557_600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Deliver only to matching MX hosts over verified TLS.
    Enforce,
    /// Deliver as usual; failures would be reported (TLS-RPT).
    Testing,
    /// No policy.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    /// Lower case, without trailing dots.
    pub mx: Vec<String>,
    pub max_age: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy larger than {MAX_POLICY} octets")]
    TooLarge,
    #[error("policy lacks `version: STSv1`")]
    Version,
    #[error("policy has no valid `mode`")]
    Mode,
    #[error("policy has no valid `max_age`")]
    MaxAge,
    #[error("policy in enforce/testing mode names no `mx`")]
    NoMx,
}

/// Parses a policy file's text.
pub fn parse(text: &str) -> Result<Policy, PolicyError> {
    if text.len() > MAX_POLICY {
        return Err(PolicyError::TooLarge);
    }
    let mut version = false;
    let mut mode = None;
    let mut max_age = None;
    let mut mx = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "version" => version = value == "STSv1",
            "mode" if mode.is_none() => {
                mode = match value {
                    "enforce" => Some(Mode::Enforce),
                    "testing" => Some(Mode::Testing),
                    "none" => Some(Mode::None),
                    _ => None,
                }
            }
            // §3.2: max_age is at most 10 digits.
            "max_age" if max_age.is_none() && value.len() <= 10 => {
                max_age = value.parse::<u64>().ok().map(|v| v.min(MAX_AGE_CAP));
            }
            "mx" if !value.is_empty() && mx.len() < 64 => {
                mx.push(value.trim_end_matches('.').to_ascii_lowercase());
            }
            _ => {}
        }
    }
    if !version {
        return Err(PolicyError::Version);
    }
    let mode = mode.ok_or(PolicyError::Mode)?;
    let max_age = max_age.ok_or(PolicyError::MaxAge)?;
    if mode != Mode::None && mx.is_empty() {
        return Err(PolicyError::NoMx);
    }
    Ok(Policy { mode, mx, max_age })
}

impl Policy {
    /// Does MX host `host` match one of the policy's patterns (RFC 8461 §4.1)?
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.mx
            .iter()
            .any(|pattern| match pattern.strip_prefix("*.") {
                Some(suffix) => host
                    .split_once('.')
                    .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
                None => *pattern == host,
            })
    }
}

/// The `id` of a `_mta-sts` TXT record (RFC 8461 §3.1: `v=STSv1; id=...`), if it is one.
pub fn record_id(txt: &str) -> Option<String> {
    let mut fields = txt.split(';').map(str::trim);
    if fields.next()? != "v=STSv1" {
        return None;
    }
    fields
        .filter_map(|f| f.strip_prefix("id="))
        .map(str::trim)
        .find(|id| {
            !id.is_empty() && id.len() <= 32 && id.chars().all(|c| c.is_ascii_alphanumeric())
        })
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_example_policy_is_read() {
        let p = parse(
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n",
        )
        .unwrap();
        assert_eq!(p.mode, Mode::Enforce);
        assert_eq!(p.max_age, 604_800);
        assert!(p.matches("mail.example.com"));
        assert!(p.matches("MX1.example.net."));
        assert!(!p.matches("a.b.example.net"), "a wildcard is one label");
        assert!(!p.matches("example.net"));
        assert!(!p.matches("evil.example.org"));
    }

    #[test]
    fn a_policy_without_version_or_mx_is_refused() {
        assert_eq!(
            parse("mode: enforce\nmx: a\nmax_age: 1\n"),
            Err(PolicyError::Version)
        );
        assert_eq!(
            parse("version: STSv1\nmode: enforce\nmax_age: 1\n"),
            Err(PolicyError::NoMx)
        );
        assert_eq!(
            parse("version: STSv1\nmode: none\nmax_age: 86400\n").map(|p| p.mode),
            Ok(Mode::None)
        );
    }

    #[test]
    fn max_age_is_capped_at_a_year() {
        let p = parse("version: STSv1\nmode: testing\nmx: a.test\nmax_age: 9999999999\n").unwrap();
        assert_eq!(p.max_age, MAX_AGE_CAP);
    }

    #[test]
    fn the_txt_record_id_is_read() {
        assert_eq!(
            record_id("v=STSv1; id=20160831085700Z;"),
            Some("20160831085700Z".into())
        );
        assert_eq!(record_id("v=spf1 -all"), None);
        assert_eq!(record_id("v=STSv1;"), None);
    }
}
