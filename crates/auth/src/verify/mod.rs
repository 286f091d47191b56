//! Inbound mail authentication (issue 16): SPF (RFC 7208), DKIM verification (RFC 6376,
//! RFC 8463, RFC 8301), DMARC (RFC 7489 / RFC 9989 as `mail-auth` 0.13 implements it) and
//! ARC chain validation (RFC 8617), each through `mail-auth`'s [`MessageAuthenticator`]
//! (the one behind [`crate::Resolver::authenticator`]), with results in our own small types
//! ([`Verdict`]) that the SMTP server and `trace` can use, and the header fields that carry
//! them: `Authentication-Results:` (RFC 8601) and `Received-SPF:` (RFC 7208 §9.1).
//!
//! The SMTP server runs these through [`crate::inbound`].
//!
//! [`MessageAuthenticator`]: mail_auth::MessageAuthenticator

mod arc;
mod arc_structure;
mod auth_results;
mod dkim;
mod dkim_past_expiry;
mod dmarc;
mod dmarc_audit;
mod lookups;
mod published;
mod received_spf;
mod spf;
mod spf_audit;
mod strip;
mod verdict;

pub use arc::{ArcCheck, verify_arc};
pub use auth_results::AuthenticationResults;
pub use dkim::{DkimCheck, MAX_SIGNATURES, verify_dkim};
pub(crate) use dkim::{mail_auth_outputs, outputs_for_dmarc};
pub use dkim_past_expiry::{PastExpiry, verify_dkim_past_expiry};
pub(crate) use dmarc::dmarc_output_of;
pub use dmarc::{DmarcCheck, check_dmarc};
pub use lookups::{Lookups, StaticDns};
pub use published::{PolicyRequest, PublishedPolicy, RuaUri};
pub use received_spf::received_spf;
pub use spf::{SpfCheck, SpfIdentity, check_spf_helo, check_spf_mail_from};
pub use strip::{has_our_authentication_results, remove_our_authentication_results};
pub use verdict::{Status, Verdict};
