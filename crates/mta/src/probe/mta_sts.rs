//! Whether a domain announces MTA-STS (RFC 8461 §3.1): the TXT record at `_mta-sts.DOMAIN`,
//! `v=STSv1; id=...;`. The policy itself is served over HTTPS at
//! `https://mta-sts.DOMAIN/.well-known/mta-sts.txt` (§3.2); the probe names that address
//! and reads only the record.

use serde::Serialize;

/// What the `_mta-sts` TXT records say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StsRecord {
    /// No record beginning with `v=STSv1`: the domain has no MTA-STS policy.
    Absent,
    /// One valid record; `id` changes whenever the policy does (§3.1).
    Published { id: String },
    /// Records that do not make one valid announcement: senders must act as if there were
    /// no policy (§3.1).
    Invalid { reason: String },
}

/// Reads the TXT strings found at `_mta-sts.DOMAIN`.
pub fn evaluate(txt: &[String]) -> StsRecord {
    // §3.1: records that do not begin with "v=STSv1;" are discarded.
    let sts: Vec<&String> = txt.iter().filter(|t| t.starts_with("v=STSv1")).collect();
    match sts.as_slice() {
        [] => StsRecord::Absent,
        [one] => match parse(one) {
            Ok(id) => StsRecord::Published { id },
            Err(reason) => StsRecord::Invalid { reason },
        },
        many => StsRecord::Invalid {
            reason: format!(
                "{} v=STSv1 records (RFC 8461 §3.1 allows exactly one)",
                many.len()
            ),
        },
    }
}

/// `sts-version 1*(sts-sep sts-field) [sts-sep]` with `sts-sep = *WSP ";" *WSP`; returns the
/// id (`1*32(ALPHA / DIGIT)`).
fn parse(record: &str) -> Result<String, String> {
    let mut fields = record.split(';').map(|f| f.trim_matches([' ', '\t']));
    if fields.next() != Some("v=STSv1") {
        return Err("the record must begin with \"v=STSv1;\"".into());
    }
    let mut id = None;
    for field in fields {
        if field.is_empty() {
            continue;
        }
        let Some((name, value)) = field.split_once('=') else {
            return Err(format!("field {field:?} has no '='"));
        };
        if name == "id" {
            if value.is_empty()
                || value.len() > 32
                || !value.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(format!("id {value:?} is not 1 to 32 letters and digits"));
            }
            if id.is_some() {
                return Err("more than one id".into());
            }
            id = Some(value.to_string());
        }
    }
    id.ok_or_else(|| "no id field".to_string())
}

/// Where the policy is served (RFC 8461 §3.2).
pub fn policy_url(domain: &str) -> String {
    format!(
        "https://mta-sts.{}/.well-known/mta-sts.txt",
        domain.trim_end_matches('.')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_valid_record_gives_its_id() {
        assert_eq!(
            evaluate(&txt(&["v=STSv1; id=20160831085700Z;"])),
            StsRecord::Published {
                id: "20160831085700Z".into()
            }
        );
        assert_eq!(
            evaluate(&txt(&["v=spf1 -all", "v=STSv1;id=abc;ext=1"])),
            StsRecord::Published { id: "abc".into() }
        );
    }

    #[test]
    fn no_record_is_absent() {
        assert_eq!(evaluate(&[]), StsRecord::Absent);
        assert_eq!(evaluate(&txt(&["v=spf1 -all"])), StsRecord::Absent);
    }

    #[test]
    fn broken_records_are_invalid() {
        for bad in [
            "v=STSv1",
            "v=STSv1; id=",
            "v=STSv1; id=has-dash",
            "v=STSv1; id=123456789012345678901234567890123",
            "v=STSv1; id=a; id=b",
            "v=STSv1x; id=a",
        ] {
            assert!(
                matches!(evaluate(&txt(&[bad])), StsRecord::Invalid { .. }),
                "{bad}"
            );
        }
        assert!(matches!(
            evaluate(&txt(&["v=STSv1; id=a", "v=STSv1; id=b"])),
            StsRecord::Invalid { .. }
        ));
    }

    #[test]
    fn the_policy_address() {
        assert_eq!(
            policy_url("example.com."),
            "https://mta-sts.example.com/.well-known/mta-sts.txt"
        );
    }
}
