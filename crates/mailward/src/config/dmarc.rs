//! `[dmarc]`: the DMARC aggregate reports mailward sends about the mail it received
//! (RFC 9990; RFC 9989 §4.7 `rua`).

use serde::Deserialize;

/// `[dmarc]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DmarcSection {
    /// Send each day's aggregate reports to the `rua` addresses of the domains we received
    /// mail from (default false: evaluations are still recorded, and `mailward dmarc
    /// report` shows what would be sent).
    #[serde(default)]
    pub send_reports: bool,
    /// `org_name` in the reports (RFC 9990 §3.1.1.3); default: `[server] hostname`.
    #[serde(default)]
    pub org_name: Option<String>,
    /// The reports' From and `email` (RFC 9990 §3.1.1.3, §5.5); default:
    /// `noreply-dmarc@<hostname>`.
    #[serde(default)]
    pub report_from: Option<String>,
}

impl DmarcSection {
    pub fn org_name(&self, hostname: &str) -> String {
        self.org_name
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| hostname.to_string())
    }

    pub fn report_from(&self, hostname: &str) -> String {
        self.report_from
            .clone()
            .filter(|s| s.contains('@'))
            .unwrap_or_else(|| format!("noreply-dmarc@{hostname}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_host_name() {
        let d: DmarcSection = toml::from_str("").unwrap();
        assert!(!d.send_reports);
        assert_eq!(d.org_name("mx.example.org"), "mx.example.org");
        assert_eq!(
            d.report_from("mx.example.org"),
            "noreply-dmarc@mx.example.org"
        );
        let d: DmarcSection = toml::from_str(
            "send_reports = true\norg_name = \"Example\"\nreport_from = \"r@example.org\"",
        )
        .unwrap();
        assert!(d.send_reports);
        assert_eq!(d.org_name("mx"), "Example");
        assert_eq!(d.report_from("mx"), "r@example.org");
        assert!(toml::from_str::<DmarcSection>("sned_reports = true").is_err());
    }
}
