//! Fuzzes the inbound checks (`mailward_auth::inbound::assess`) on arbitrary message bytes,
//! with every DNS answer from a fixed in-memory zone (SPF, DKIM keys, DMARC of the domains a
//! mutated message is likely to name): parsing the header section, the DKIM-Signature and
//! ARC fields and the From address must never panic, and the fields we add must stay well
//! formed (CRLF line ends, lines under RFC 5322's 998 octets), whatever the message holds.
//! Removing forged `Authentication-Results:` must never grow the message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_auth::inbound::{Client, InboundSettings, assess};
use mailward_auth::verify::{Lookups, StaticDns, remove_our_authentication_results};
use std::sync::OnceLock;

struct World {
    rt: tokio::runtime::Runtime,
    zone: StaticDns,
    authenticator: mail_auth::MessageAuthenticator,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let authenticator = rt
            .block_on(async { StaticDns::offline_authenticator() })
            .expect("offline authenticator");
        let mut zone = StaticDns::new();
        zone.add_txt("example.com", "v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all");
        zone.add_txt("_spf.example.com", "v=spf1 a mx ~all");
        zone.add_txt("_dmarc.example.com", "v=DMARC1; p=reject; rua=mailto:d@example.com");
        zone.add_txt(
            "sel._domainkey.example.com",
            "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        );
        zone.add_a("example.com", "192.0.2.1".parse().expect("ip"));
        World {
            rt,
            zone,
            authenticator,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let lookups = Lookups::fixed(&w.authenticator, &w.zone);
    let settings = InboundSettings::new("mx.example.org");
    let client = Client {
        ip: "192.0.2.7".parse().expect("ip"),
        helo: "mta.example.com",
        mail_from: "alice@example.com",
        trusted: None,
    };
    let a = w.rt.block_on(assess(&lookups, &client, data, &settings));
    let fields = a.header_fields(&settings);
    assert!(fields.ends_with("\r\n"));
    for line in fields.split("\r\n") {
        assert!(line.len() < 998, "a line of {} octets", line.len());
        assert!(!line.contains('\n') && !line.contains('\r'));
    }
    let stripped = remove_our_authentication_results(data, "mx.example.org");
    assert!(stripped.len() <= data.len());
});
