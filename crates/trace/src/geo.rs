//! Offline geolocation of IP addresses from MaxMind-format (`.mmdb`) databases.
//!
//! Two databases may be given: a location database (`--geoip`: GeoLite2/GeoIP2 City or
//! Country, DB-IP, or ip-location-db's `country_code` records) and an ASN database
//! (`--asn`: GeoLite2-ASN, GeoIP2-ISP, ip-location-db ASN). Either may hold the other's
//! fields too; every field is taken from the first database that has it. Nothing is ever
//! fetched over the network.

use crate::report::{Geo, Report};
use mailward_message::IpClass;
use maxminddb::Reader;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// A database that cannot be opened or is not a MaxMind DB.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("{}: cannot open MaxMind database: {source}", path.display())]
    Open {
        path: PathBuf,
        source: maxminddb::MaxMindDbError,
    },
}

/// One or two open `.mmdb` databases.
#[derive(Debug)]
pub struct GeoDb {
    dbs: Vec<Reader<Vec<u8>>>,
}

/// A place or organisation name: a plain string (ip-location-db) or a GeoIP2 `names` map.
#[derive(Deserialize)]
#[serde(untagged)]
enum NameField {
    Plain(String),
    Named {
        #[serde(default)]
        names: BTreeMap<String, String>,
        #[serde(default)]
        iso_code: Option<String>,
    },
}

impl NameField {
    /// The English name, else any name.
    fn name(&self) -> Option<String> {
        match self {
            NameField::Plain(name) => Some(name.clone()),
            NameField::Named { names, .. } => {
                names.get("en").or_else(|| names.values().next()).cloned()
            }
        }
    }

    fn iso_code(&self) -> Option<String> {
        match self {
            NameField::Plain(code) if code.len() == 2 => Some(code.to_ascii_uppercase()),
            NameField::Named {
                iso_code: Some(code),
                ..
            } => Some(code.to_ascii_uppercase()),
            _ => None,
        }
    }
}

/// An AS number as a number (MaxMind) or as `AS15169` (some other publishers).
#[derive(Deserialize)]
#[serde(untagged)]
enum AsnField {
    Number(u32),
    Text(String),
}

impl AsnField {
    fn number(&self) -> Option<u32> {
        match self {
            AsnField::Number(n) => Some(*n),
            AsnField::Text(text) => {
                let digits = text
                    .strip_prefix("AS")
                    .or_else(|| text.strip_prefix("as"))
                    .unwrap_or(text);
                digits.parse().ok()
            }
        }
    }
}

/// The fields read from any supported record layout; everything else is skipped.
#[derive(Deserialize, Default)]
struct Record {
    country: Option<NameField>,
    registered_country: Option<NameField>,
    /// ip-location-db.
    country_code: Option<String>,
    city: Option<NameField>,
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<String>,
    /// ipinfo-style layout.
    asn: Option<AsnField>,
    as_name: Option<String>,
    /// GeoIP2-ISP.
    isp: Option<String>,
    organization: Option<String>,
}

impl Record {
    /// Fills the fields of `geo` that are still empty.
    fn fill(self, geo: &mut Geo) {
        let country = self.country.as_ref().or(self.registered_country.as_ref());
        if geo.country.is_none() {
            geo.country = country
                .and_then(NameField::iso_code)
                .or_else(|| self.country_code.map(|c| c.to_ascii_uppercase()));
        }
        if geo.country_name.is_none() {
            geo.country_name = country.and_then(|c| match c {
                NameField::Named { .. } => c.name(),
                NameField::Plain(_) => None,
            });
        }
        if geo.city.is_none() {
            geo.city = self.city.as_ref().and_then(NameField::name);
        }
        if geo.asn.is_none() {
            geo.asn = self
                .autonomous_system_number
                .or_else(|| self.asn.as_ref().and_then(AsnField::number));
        }
        if geo.as_org.is_none() {
            geo.as_org = self
                .autonomous_system_organization
                .or(self.as_name)
                .or(self.organization)
                .or(self.isp);
        }
    }
}

impl GeoDb {
    /// Opens the location database and/or the ASN database.
    pub fn open(geoip: Option<&Path>, asn: Option<&Path>) -> Result<GeoDb, GeoError> {
        let mut dbs = Vec::new();
        for path in [geoip, asn].into_iter().flatten() {
            let reader = Reader::open_readfile(path).map_err(|source| GeoError::Open {
                path: path.to_path_buf(),
                source,
            })?;
            dbs.push(reader);
        }
        Ok(GeoDb { dbs })
    }

    /// What the databases know about `ip`; None when none of them has a record.
    /// IPv4-mapped IPv6 addresses are looked up as IPv4.
    pub fn lookup(&self, ip: IpAddr) -> Option<Geo> {
        let ip = ip.to_canonical();
        let mut geo = Geo::default();
        for db in &self.dbs {
            // An IPv6 address in an IPv4-only database, or a damaged record, is "unknown".
            let record = db
                .lookup(ip)
                .ok()
                .and_then(|found| found.decode::<Record>().ok().flatten());
            if let Some(record) = record {
                record.fill(&mut geo);
            }
        }
        (geo != Geo::default()).then_some(geo)
    }

    /// Fills `geo` on every hop whose `from_ip` is public and on the origin, and names the
    /// provider from the origin's AS when the headers did not identify one.
    pub fn enrich(&self, report: &mut Report) {
        for hop in &mut report.hops {
            if let Some(ip) = hop.from_ip.filter(|ip| IpClass::of(*ip).is_public()) {
                hop.geo = self.lookup(ip);
            }
        }
        // The hops of a message returned in a delivery report.
        if let Some(back) = report.dsn.as_mut().and_then(|d| d.returned.as_mut()) {
            for hop in &mut back.hops {
                if let Some(ip) = hop.from_ip.filter(|ip| IpClass::of(*ip).is_public()) {
                    hop.geo = self.lookup(ip);
                }
            }
        }
        let Some(origin) = report.origin.as_mut() else {
            return;
        };
        if let Some(ip) = origin.ip.filter(|ip| IpClass::of(*ip).is_public()) {
            origin.geo = self.lookup(ip);
        }
        if report.provider.is_none()
            && let Some(geo) = &origin.geo
            && let Some(asn) = geo.asn
        {
            report.provider = crate::provider::from_asn(asn, geo.as_org.as_deref().unwrap_or(""));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Hop, Origin};

    fn testdata() -> Option<PathBuf> {
        let dir = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/testdata/geoip"
        ));
        if dir.is_dir() {
            Some(dir.to_path_buf())
        } else {
            eprintln!("skipping: {} is absent", dir.display());
            None
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn city_database_gives_country_and_city() {
        let Some(dir) = testdata() else { return };
        let db = GeoDb::open(Some(&dir.join("GeoIP2-City-Test.mmdb")), None).expect("open");
        let geo = db.lookup(ip("81.2.69.142")).expect("known");
        assert_eq!(geo.country.as_deref(), Some("GB"));
        assert_eq!(geo.country_name.as_deref(), Some("United Kingdom"));
        assert_eq!(geo.city.as_deref(), Some("London"));
        let geo = db.lookup(ip("2001:218::1")).expect("known");
        assert_eq!(geo.country.as_deref(), Some("JP"));
        assert_eq!(geo.city, None);
        assert_eq!(db.lookup(ip("8.8.8.8")), None);
    }

    #[test]
    fn asn_and_isp_databases_give_the_organisation() {
        let Some(dir) = testdata() else { return };
        let db = GeoDb::open(None, Some(&dir.join("GeoLite2-ASN-Test.mmdb"))).expect("open");
        let geo = db.lookup(ip("1.128.0.1")).expect("known");
        assert_eq!(geo.asn, Some(1221));
        assert_eq!(geo.as_org.as_deref(), Some("Telstra Pty Ltd"));
        let isp = GeoDb::open(None, Some(&dir.join("GeoIP2-ISP-Test.mmdb"))).expect("open");
        let geo = isp.lookup(ip("149.101.100.1")).expect("known");
        assert_eq!(geo.asn, Some(6167));
        assert_eq!(geo.as_org.as_deref(), Some("CELLCO-PART"));
    }

    #[test]
    fn country_code_only_database_gives_the_country() {
        let Some(dir) = testdata() else { return };
        let db =
            GeoDb::open(Some(&dir.join("real/geo-whois-asn-country.mmdb")), None).expect("open");
        let geo = db.lookup(ip("8.8.8.8")).expect("known");
        assert_eq!(geo.country.as_deref(), Some("US"));
        assert_eq!(geo.country_name, None);
        let geo = db.lookup(ip("::ffff:8.8.8.8")).expect("mapped v4");
        assert_eq!(geo.country.as_deref(), Some("US"));
    }

    #[test]
    fn enrich_fills_public_hops_and_origin_only() {
        let Some(dir) = testdata() else { return };
        let db = GeoDb::open(
            Some(&dir.join("GeoIP2-City-Test.mmdb")),
            Some(&dir.join("GeoLite2-ASN-Test.mmdb")),
        )
        .expect("open");
        let mut report = Report {
            hops: vec![
                Hop {
                    index: 1,
                    from_ip: Some(ip("81.2.69.142")),
                    ..Default::default()
                },
                Hop {
                    index: 2,
                    from_ip: Some(ip("10.0.0.1")),
                    ..Default::default()
                },
            ],
            origin: Some(Origin {
                ip: Some(ip("1.128.0.1")),
                ..Default::default()
            }),
            ..Default::default()
        };
        db.enrich(&mut report);
        let city = report.hops[0].geo.as_ref().and_then(|g| g.city.as_deref());
        assert_eq!(city, Some("London"));
        assert_eq!(report.hops[1].geo, None);
        let origin = report.origin.as_ref().and_then(|o| o.geo.as_ref());
        assert_eq!(origin.and_then(|g| g.asn), Some(1221));
    }

    #[test]
    fn missing_database_is_an_error_naming_it() {
        let err =
            GeoDb::open(Some(Path::new("/nonexistent/City.mmdb")), None).expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/City.mmdb"));
    }
}
