//! What DNS said about a domain's mail exchangers, for routing (RFC 5321 §5.1).

/// One MX record as DNS gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxRecord {
    pub preference: u16,
    /// The exchange's name (a trailing dot is allowed).
    pub exchange: String,
}

/// What DNS said about a domain's MX records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxAnswer {
    /// MX records (at least one).
    Records(Vec<MxRecord>),
    /// The name exists but has no MX records (NODATA).
    NoRecords,
    /// The name does not exist (NXDOMAIN).
    NoSuchDomain,
}
