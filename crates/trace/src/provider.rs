//! Which e-mail service provider handled a message.

use crate::report::Provider;

/// The provider an autonomous system belongs to, from its number or organisation name.
pub fn from_asn(_asn: u32, _org: &str) -> Option<Provider> {
    None
}
