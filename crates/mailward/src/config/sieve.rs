//! `[sieve]`: users' Sieve scripts, as ManageSieve and `mailward sieve put` store them.

use super::de_size;
use serde::Deserialize;

/// `[sieve]` quotas (RFC 5804 §1.3: exceeding them is `NO (QUOTA/...)`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SieveSection {
    /// Scripts one account may keep (default 32).
    #[serde(default = "d_max_scripts")]
    pub max_scripts: usize,
    /// Bytes of one script (default 1M; at most the compiler's own limit).
    #[serde(default = "d_max_script_size", deserialize_with = "de_size")]
    pub max_script_size: u64,
    /// Bytes of all of an account's scripts together (default 8M).
    #[serde(default = "d_max_total_size", deserialize_with = "de_size")]
    pub max_total_size: u64,
}

impl Default for SieveSection {
    fn default() -> Self {
        SieveSection {
            max_scripts: d_max_scripts(),
            max_script_size: d_max_script_size(),
            max_total_size: d_max_total_size(),
        }
    }
}

impl SieveSection {
    /// The store's quota.
    pub fn quota(&self) -> mailward_store::SieveQuota {
        mailward_store::SieveQuota {
            max_scripts: self.max_scripts,
            max_script_size: self.max_script_size,
            max_total_size: self.max_total_size,
        }
    }
}

fn d_max_scripts() -> usize {
    mailward_store::SieveQuota::default().max_scripts
}
fn d_max_script_size() -> u64 {
    mailward_store::SieveQuota::default().max_script_size
}
fn d_max_total_size() -> u64 {
    mailward_store::SieveQuota::default().max_total_size
}

impl SieveSection {
    /// At least one script of at least one byte, and no script the compiler would refuse
    /// for its size.
    pub fn validate(&self, file: &std::path::Path) -> anyhow::Result<()> {
        let f = file.display();
        let compiler_max = mailward_sieve::Limits::default().max_script_size as u64;
        if self.max_scripts == 0 || self.max_script_size == 0 || self.max_total_size == 0 {
            anyhow::bail!(
                "{f}: [sieve] max_scripts, max_script_size and max_total_size must be at least 1"
            );
        }
        if self.max_script_size > compiler_max {
            anyhow::bail!(
                "{f}: key `sieve.max_script_size`: at most {compiler_max} bytes (the Sieve compiler's limit)"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    const BASE: &str = "[[domains]]\nname = \"example.test\"\n";

    #[test]
    fn quotas_are_read_with_sizes_and_defaults() {
        let c = super::super::parse(
            &format!("{BASE}[sieve]\nmax_scripts = 3\nmax_script_size = \"64K\"\n"),
            Path::new("m.toml"),
        )
        .unwrap();
        let q = c.sieve.quota();
        assert_eq!((q.max_scripts, q.max_script_size), (3, 64 * 1024));
        assert_eq!(q.max_total_size, 8 * 1024 * 1024);
        let e = super::super::parse(
            &format!("{BASE}[sieve]\nmax_script_size = \"2G\"\n"),
            Path::new("m.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("sieve.max_script_size"), "{e}");
        let e = super::super::parse(&format!("{BASE}[sieve]\nmax = 1\n"), Path::new("m.toml"))
            .unwrap_err();
        assert!(e.to_string().contains("m.toml:4"), "{e}");
    }

    #[test]
    fn the_embedded_default_serves_managesieve_on_2190() {
        let d = super::super::embedded_default();
        assert_eq!(d.listen.managesieve, ["127.0.0.1:2190".parse().unwrap()]);
    }
}
