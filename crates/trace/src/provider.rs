//! Which e-mail service provider handled a message: from host names on the trusted hops
//! near the origin, provider-specific headers, and (after geolocation) the origin's ASN.

use crate::domains::{normalize_host, org_domain, organizational_domain};
use crate::report::{Hop, Provider};

/// A provider and the organisational domains and header names that identify it.
struct Known {
    name: &'static str,
    domains: &'static [&'static str],
    headers: &'static [&'static str],
    asns: &'static [u32],
}

const PROVIDERS: &[Known] = &[
    Known {
        name: "Gmail / Google Workspace",
        domains: &["google.com", "googlemail.com", "gmail.com"],
        headers: &[
            "x-gm-message-state",
            "x-google-smtp-source",
            "x-gm-features",
        ],
        asns: &[15169, 396982],
    },
    Known {
        name: "Microsoft 365 / Outlook.com",
        domains: &[
            "outlook.com",
            "office365.com",
            "hotmail.com",
            "live.com",
            "microsoft.com",
        ],
        headers: &[
            "x-ms-exchange-organization-authsource",
            "x-ms-exchange-crosstenant-id",
            "x-ms-publictraffictype",
        ],
        asns: &[8075],
    },
    Known {
        name: "Yahoo / AOL",
        domains: &["yahoo.com", "yahoodns.net", "aol.com", "yahoo.net"],
        headers: &[
            "x-ymail-osg",
            "x-yahoo-newman-id",
            "x-aol-global-disposition",
        ],
        asns: &[36646, 10310, 26101],
    },
    Known {
        name: "iCloud",
        domains: &["icloud.com", "me.com", "mac.com", "apple.com"],
        headers: &["x-icloud-spam-score"],
        asns: &[714, 6185],
    },
    Known {
        name: "Amazon SES",
        domains: &["amazonses.com"],
        headers: &["x-ses-outgoing", "x-ses-configuration-set"],
        asns: &[],
    },
    Known {
        name: "SendGrid",
        domains: &["sendgrid.net", "sendgrid.com"],
        headers: &["x-sg-eid", "x-sg-id"],
        asns: &[11377],
    },
    Known {
        name: "Mailgun",
        domains: &["mailgun.net", "mailgun.org", "mailgun.info"],
        headers: &["x-mailgun-sid", "x-mailgun-variables"],
        asns: &[],
    },
    Known {
        name: "Mailchimp / Mandrill",
        domains: &[
            "mcsv.net",
            "mandrillapp.com",
            "rsgsv.net",
            "mcdlv.net",
            "mailchimp.com",
        ],
        headers: &["x-mc-user", "x-mandrill-user", "x-mcda"],
        asns: &[],
    },
    Known {
        name: "Zoho Mail",
        domains: &["zoho.com", "zohomail.com", "zoho.eu", "zoho.in"],
        headers: &["x-zohomailclient", "x-zohomail-owner"],
        asns: &[2639],
    },
    Known {
        name: "Proton Mail",
        domains: &["protonmail.ch", "protonmail.com", "proton.me", "pm.me"],
        headers: &["x-pm-origin", "x-pm-content-encryption"],
        asns: &[62371],
    },
    Known {
        name: "Fastmail",
        domains: &["messagingengine.com", "fastmail.com", "fastmail.fm"],
        headers: &["x-me-proxy", "x-me-sender"],
        asns: &[],
    },
    Known {
        name: "GMX / Web.de / IONOS",
        domains: &[
            "gmx.net",
            "gmx.com",
            "gmx.de",
            "web.de",
            "kundenserver.de",
            "ionos.com",
        ],
        headers: &["x-ui-out-filterresults", "x-provags-id"],
        asns: &[8560],
    },
    Known {
        name: "Yandex",
        domains: &["yandex.net", "yandex.ru", "yandex.com"],
        headers: &["x-yandex-fwd", "x-yandex-spam"],
        asns: &[13238],
    },
    Known {
        name: "Mail.ru",
        domains: &["mail.ru"],
        headers: &["x-mailru-msgtype"],
        asns: &[47764],
    },
    Known {
        name: "Postmark",
        domains: &["mtasv.net", "postmarkapp.com"],
        headers: &["x-pm-message-id"],
        asns: &[],
    },
    Known {
        name: "SparkPost",
        domains: &["sparkpostmail.com", "sparkpost.com"],
        headers: &["x-msys-api"],
        asns: &[],
    },
    Known {
        name: "Brevo (Sendinblue)",
        domains: &["sendinblue.com", "brevo.com", "sender-sib.com"],
        headers: &["x-sib-id", "x-mailin-eid"],
        asns: &[],
    },
    Known {
        name: "Tencent QQ Mail",
        domains: &["qq.com"],
        headers: &["x-qq-mime"],
        asns: &[],
    },
    Known {
        name: "Mimecast",
        domains: &["mimecast.com"],
        headers: &["x-mc-unique"],
        asns: &[30031],
    },
    Known {
        name: "Proofpoint",
        domains: &["pphosted.com", "ppe-hosted.com"],
        headers: &["x-proofpoint-virus-version"],
        asns: &[],
    },
];

fn by_domain(host: &str) -> Option<&'static Known> {
    let host = normalize_host(host);
    if host.is_empty()
        || host.as_bytes().last().is_some_and(u8::is_ascii_digit)
        || host.contains(':')
    {
        // An IP literal, not a name.
        return None;
    }
    let org = org_domain(&host);
    PROVIDERS.iter().find(|p| p.domains.contains(&org.as_ref()))
}

/// The provider that handled the origin. Host names are examined on the trusted hops from
/// the origin hop towards the recipient, skipping the recipient's own organisation (the
/// `by` side of the newest hop) unless nothing else names a provider; then
/// provider-specific headers.
pub fn detect(
    hops: &[Hop],
    origin_hop: Option<usize>,
    header_names: &[String],
) -> Option<Provider> {
    let receiver_org = hops
        .last()
        .and_then(|h| h.by_host.as_deref())
        .map(organizational_domain);
    let start = origin_hop.unwrap_or(1);
    let mut receiver_match = None;
    for hop in hops.iter().filter(|h| h.trusted && h.index >= start) {
        let hosts = [
            hop.from_rdns.as_deref(),
            hop.from_host.as_deref(),
            hop.by_host.as_deref(),
        ];
        for host in hosts.into_iter().flatten() {
            if let Some(p) = by_domain(host) {
                let provider = Provider {
                    name: p.name.to_string(),
                    evidence: format!("host {host} (hop {})", hop.index),
                };
                let is_receiver = receiver_org
                    .as_deref()
                    .is_some_and(|r| r == org_domain(host));
                if !is_receiver {
                    return Some(provider);
                }
                receiver_match.get_or_insert(provider);
            }
        }
    }
    for p in PROVIDERS {
        if let Some(h) = header_names
            .iter()
            .find(|h| p.headers.contains(&h.as_str()))
        {
            return Some(Provider {
                name: p.name.to_string(),
                evidence: format!("header {h}"),
            });
        }
    }
    receiver_match
}

/// The provider an autonomous system belongs to, from its number or organisation name.
pub fn from_asn(asn: u32, org: &str) -> Option<Provider> {
    let org_lower = org.to_ascii_lowercase();
    let by_number = PROVIDERS.iter().find(|p| p.asns.contains(&asn));
    let by_name = || {
        PROVIDERS.iter().find(|p| {
            p.domains
                .iter()
                .filter_map(|d| d.split('.').next())
                .any(|label| label.len() >= 4 && org_lower.contains(label))
        })
    };
    by_number.or_else(by_name).map(|p| Provider {
        name: p.name.to_string(),
        evidence: format!("AS{asn} {org}"),
    })
}
