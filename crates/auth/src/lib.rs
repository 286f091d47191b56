//! Mail authentication and the DNS it needs (DESIGN.md, `crates/auth`): one resolver for
//! the whole server ([`dns::Resolver`], hickory with its cache, `[dns] resolver` in the
//! configuration), used by outbound routing (MX, A/AAAA) and by the SPF, DKIM, DMARC and
//! ARC checks that come next.

pub mod dns;

pub use dns::{DnsError, MxAnswer, MxRecord, Resolver, TlsaRecord};
