//! Mail authentication and the DNS it needs (DESIGN.md, `crates/auth`): one resolver for
//! the whole server ([`dns::Resolver`], hickory with its cache, `[dns] resolver` in the
//! configuration), used by outbound routing (MX, A/AAAA) and by the SPF, DKIM, DMARC and
//! ARC checks; DKIM signing of outbound mail ([`dkim::Signer`]); verification of inbound
//! mail (SPF, DKIM, DMARC, ARC) and the `Authentication-Results:`/`Received-SPF:` fields
//! ([`verify`]), and what the SMTP server does with them ([`inbound`]: DMARC policy); auditing a domain's mail records in
//! DNS ([`dnscheck`], `mailward dns check`); reading the DMARC aggregate and SMTP TLS
//! reports others send ([`report`]); recording DMARC evaluations and writing the aggregate
//! reports we send ([`aggregate`]).

pub mod aggregate;
pub mod dkim;
pub mod dns;
pub mod dnscheck;
pub mod inbound;
pub mod report;
mod spf_syntax;
pub mod verify;

pub use dkim::{DkimError, Signer as DkimSigner};
pub use dns::{DnsError, MxAnswer, MxRecord, Resolver, TlsaRecord};
